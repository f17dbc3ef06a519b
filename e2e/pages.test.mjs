// Chromium tests of the browser pages (/track/:id, /support, /admin) against
// the real binary. Run: node --test e2e/pages.test.mjs (after `make build`).
//
// Each simulated person gets a browser context of their own. Nothing sleeps
// to synchronise: every wait is for a selector, a text or an event, with a
// deadline.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { spawn } from 'node:child_process';
import path from 'node:path';
import {
  startServer, staffToken, createOrder, postStatus, api, waitFor, cleanup, repoRoot,
} from './harness.mjs';
import {
  launchBrowser, assertClean, waitText, waitSel, shotPath, pageSet, trackingHref, PHONE, DESKTOP, LIVE_MS, PUSH_MS,
} from './pages-browser.mjs';

const RECONNECT_MS = 30_000; // reconnect backoff is up to ~7.5 s per attempt

let browser;
let server;
const { open, closeAll, closeEverything, openTracking, openSupport } = pageSet(() => browser);

before(async () => {
  [browser, server] = await Promise.all([launchBrowser(), startServer()]);
});

after(async () => {
  await closeEverything();
  await browser?.close().catch(() => {});
  await cleanup();
});

async function countSel(page, sel) {
  return page.locator(sel).count();
}

async function actionStatuses(page) {
  return page.$$eval('#actions button', (bs) => bs.map((b) => b.dataset.status));
}

// ---------------------------------------------------------------------------

describe('OrderFeed (public/static/ordercast-client.js) with a fake socket', () => {
  class FakeSocket extends EventEmitter {
    constructor() {
      super();
      this.connected = false;
      this.sent = [];
      this.io = new EventEmitter();
    }
    timeout() {
      return { emit: (ev, payload, cb) => this.sent.push({ ev, payload, cb }) };
    }
    emit(ev, ...args) {
      if (['connect', 'disconnect', 'order:status', 'order:message'].includes(ev)) return super.emit(ev, ...args);
      this.sent.push({ ev, payload: args[0], cb: args[1] });
      return true;
    }
    up() { this.connected = true; super.emit('connect'); }
    down() { this.connected = false; super.emit('disconnect', 'transport close'); }
    lastSubscribe() { return [...this.sent].reverse().find((s) => s.ev === 'order:subscribe'); }
  }
  const st = (seq, status) => ({ type: 'order:status', orderId: 'A1', seq, status, note: '', at: '2024-01-01T00:00:00Z', by: 'service' });

  test('subscribes with since on every connect, drops duplicates, holds pushes during a subscribe, fills gaps', async () => {
    await import(new URL('../public/static/ordercast-client.js', import.meta.url));
    const { OrderFeed, nextStatuses } = globalThis.OrderCast;
    const sock = new FakeSocket();
    const feed = new OrderFeed(sock);
    const got = [];
    const snaps = [];
    feed.watch('A1', { token: 't', onEvent: (e) => got.push(e.seq), onSnapshot: (o, i) => snaps.push(i) });
    assert.equal(sock.sent.length, 0, 'nothing is sent before the socket connects');

    sock.up();
    let sub = sock.lastSubscribe();
    assert.deepEqual(sub.payload, { orderId: 'A1', token: 't' }, 'first subscribe has no since');
    sock.emit('order:status', { ...st(2, 'confirmed'), type: undefined }); // pushed while the subscribe is in flight
    assert.deepEqual(got, [], 'a push during a subscribe waits for the ack');
    sub.cb(null, { ok: true, order: { id: 'A1' }, events: [st(1, 'placed'), st(2, 'confirmed')] });
    assert.deepEqual(got, [1, 2], 'ack and push merged, each seq once');
    assert.equal(snaps[0].initial, true);

    sock.emit('order:status', st(2, 'confirmed'));
    sock.emit('order:status', st(3, 'packed'));
    assert.deepEqual(got, [1, 2, 3], 'a repeated seq is dropped, the next one delivered');

    sock.emit('order:status', st(5, 'out_for_delivery'));
    assert.deepEqual(got, [1, 2, 3], 'an event after a gap is held back');
    sub = sock.lastSubscribe();
    assert.equal(sub.payload.since, 3, 'a gap triggers a resync with since');
    sub.cb(null, { ok: true, order: { id: 'A1' }, events: [st(4, 'shipped'), st(5, 'out_for_delivery')] });
    assert.deepEqual(got, [1, 2, 3, 4, 5]);

    sock.down();
    sock.up();
    sub = sock.lastSubscribe();
    assert.deepEqual(sub.payload, { orderId: 'A1', token: 't', since: 5 }, 'reconnect resubscribes with the last seq');
    sub.cb(null, { ok: true, order: { id: 'A1' }, events: [st(5, 'out_for_delivery'), st(6, 'delivered')] });
    assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
    assert.equal(snaps.at(-1).missed, 1, 'the snapshot reports what was missed');

    assert.equal(feed.ingest(st(6, 'delivered')), false, 'ingest drops a seen seq');
    feed.unwatch('A1');
    assert.equal(sock.sent.at(-1).ev, 'order:unsubscribe');
    assert.deepEqual(nextStatuses('placed'), ['confirmed', 'cancelled']);
    assert.deepEqual(nextStatuses('delivered'), []);
  });
});

// ---------------------------------------------------------------------------

describe('pages', () => {
  test('an HTTP status change reaches an open tracking page; a new order reaches the open support board', async () => {
    const created = await createOrder(server, { customer: 'Tessa Track', items: [{ name: 'Desk lamp', qty: 1 }], total: 4900 });
    const id = created.order.id;
    const cust = await openTracking(server, created);
    const { page } = cust;
    await waitText(page, '#conn', 'live (WebSocket)', LIVE_MS);
    await waitText(page, '#status-badge', 'Order placed');
    assert.equal(await page.textContent('#order-title'), id);
    assert.match(await page.textContent('#order-sub'), /Tessa Track/);
    assert.equal(await page.getAttribute('#stepper li.is-current', 'data-status'), 'placed');

    const t0 = Date.now();
    const res = await postStatus(server, id, 'confirmed', 'We are on it');
    assert.equal(res.status, 200, res.text);
    await waitSel(page, '#timeline li[data-seq="2"]', PUSH_MS);
    await waitText(page, '#status-badge', 'Confirmed', PUSH_MS);
    console.log(`# status reached the tracking page in ${Date.now() - t0} ms`);
    assert.equal(await page.getAttribute('#stepper li.is-current', 'data-status'), 'confirmed');
    assert.equal(await countSel(page, '#stepper li.is-done'), 1, 'placed is done');
    assert.match(await page.textContent('#timeline li[data-seq="2"]'), /Confirmed.*We are on it.*by the shop/s);
    assert.ok(await page.getAttribute('#timeline li[data-seq="2"] time', 'datetime'), 'timeline entries carry their time');

    // The support board: sign-in link, token kept in sessionStorage, fragment stripped.
    const tok = await staffToken(server, 'support', 'Sam Support');
    const sup = await openSupport(server, tok);
    assert.ok(!sup.page.url().includes('token='), `sign-in token stripped from the URL: ${sup.page.url()}`);
    assert.equal(await sup.page.evaluate(() => sessionStorage.getItem('ordercast.staffToken')), tok);
    await waitSel(sup.page, `#orders li[data-id="${id}"]`, PUSH_MS);

    const fresh = await createOrder(server, { customer: 'Nora New', total: 1234 });
    const t1 = Date.now();
    await waitSel(sup.page, `#orders li[data-id="${fresh.order.id}"].is-new`, PUSH_MS);
    console.log(`# order:created reached the support board in ${Date.now() - t1} ms`);
    assert.equal(await sup.page.getAttribute('#orders li:first-child', 'data-id'), fresh.order.id, 'new order at the top');
    assert.match(await sup.page.textContent(`#orders li[data-id="${fresh.order.id}"]`), /Nora New/);

    // The status filter asks the server for that status only.
    await sup.page.click('#filters button[data-status="confirmed"]');
    await waitFor(async () => (await countSel(sup.page, `#orders li[data-id="${fresh.order.id}"]`)) === 0, PUSH_MS, 'placed order filtered out');
    await waitSel(sup.page, `#orders li[data-id="${id}"]`, PUSH_MS);
    await sup.page.click('#filters button[data-status="all"]');
    await waitSel(sup.page, `#orders li[data-id="${fresh.order.id}"]`, PUSH_MS);

    assertClean(cust);
    assertClean(sup);
    await closeAll(cust, sup);
  });

  test('a support agent changes a status on /support and the customer sees it; ack errors are shown', async () => {
    const created = await createOrder(server, { customer: 'Carl Customer' });
    const id = created.order.id;
    const cust = await openTracking(server, created);
    const tok = await staffToken(server, 'support', 'Ada Agent');
    const sup = await openSupport(server, tok);
    const sp = sup.page;
    await waitSel(sp, `#orders li[data-id="${id}"]`, PUSH_MS);
    await sp.click(`#orders li[data-id="${id}"] .order-row`);
    await waitSel(sp, '#d-timeline li[data-seq="1"]', PUSH_MS);
    await waitText(sp, '#d-status', 'Order placed');
    assert.deepEqual(await actionStatuses(sp), ['confirmed', 'cancelled'], 'exactly the next allowed statuses');

    await sp.fill('#note-input', 'Packed with care');
    await sp.click('#actions button[data-status="confirmed"]');
    await waitText(cust.page, '#status-badge', 'Confirmed', PUSH_MS);
    await waitSel(cust.page, '#timeline li[data-seq="2"]', PUSH_MS);
    assert.match(await cust.page.textContent('#timeline li[data-seq="2"]'), /Packed with care.*by Ada Agent/s);
    await waitText(sp, '#d-status', 'Confirmed', PUSH_MS);
    await waitFor(async () => JSON.stringify(await actionStatuses(sp)) === '["packed","cancelled"]', PUSH_MS, 'buttons follow the status');
    assert.equal(await countSel(sp, '#d-timeline li[data-seq="2"]'), 1, 'the ack and the push give one entry');
    await waitText(sp, `#orders li[data-id="${id}"] .badge`, 'Confirmed', PUSH_MS);

    // An ack error: the board misses a change (its listeners are removed to
    // make the buttons stale), the agent clicks, the server refuses.
    await sp.evaluate(() => window.ordercastSupport.socket.off('order:status'));
    assert.equal((await postStatus(server, id, 'packed')).status, 200);
    await sp.click('#actions button[data-status="packed"]');
    await waitText(sp, '#action-error', /invalid_transition/, PUSH_MS);
    assert.ok(await sp.isVisible('#action-error'));

    assertClean(cust);
    assertClean(sup);
    await closeAll(cust, sup);
  });

  test('chat: a customer message reaches /support and the reply comes back; text is shown literally', async () => {
    const created = await createOrder(server, { customer: 'Chloe Chat' });
    const id = created.order.id;
    const cust = await openTracking(server, created);
    const cp = cust.page;
    const tok = await staffToken(server, 'support', 'Rita Reply');
    const sup = await openSupport(server, tok);
    const sp = sup.page;
    await waitSel(sp, `#orders li[data-id="${id}"]`, PUSH_MS);
    await sp.click(`#orders li[data-id="${id}"] .order-row`);
    await waitSel(sp, '#d-timeline li[data-seq="1"]', PUSH_MS);

    // Enter sends; the own bubble is confirmed by the ack.
    await cp.fill('#chat-input', 'Hello, can you deliver after 6pm?');
    await cp.press('#chat-input', 'Enter');
    await waitSel(cp, '#messages .msg-own.is-delivered[data-seq="2"]', PUSH_MS);
    assert.equal(await cp.textContent('#messages .msg-own[data-seq="2"] .msg-state'), 'Delivered');
    assert.equal(await cp.inputValue('#chat-input'), '', 'input cleared after sending');
    await waitSel(sp, '#d-messages .msg-other[data-seq="2"]', PUSH_MS);
    assert.equal(await sp.textContent('#d-messages .msg-other[data-seq="2"] .msg-text'), 'Hello, can you deliver after 6pm?');
    assert.match(await sp.textContent('#d-messages .msg-other[data-seq="2"] .msg-author'), /Chloe Chat/);

    await sp.fill('#d-chat-input', 'Sure, we will deliver in the evening.');
    await sp.press('#d-chat-input', 'Enter');
    await waitSel(sp, '#d-messages .msg-own.is-delivered[data-seq="3"]', PUSH_MS);
    await waitSel(cp, '#messages .msg-other[data-seq="3"]', PUSH_MS);
    assert.equal(await cp.textContent('#messages .msg-other[data-seq="3"] .msg-text'), 'Sure, we will deliver in the evening.');
    assert.match(await cp.textContent('#messages .msg-other[data-seq="3"] .msg-author'), /Rita Reply/);
    assert.equal(await countSel(cp, '#messages .msg'), 2, 'each message once on the customer page');
    assert.equal(await countSel(sp, '#d-messages .msg'), 2, 'each message once on the board');

    // Markup in a message is text, everywhere it is shown.
    const evil = '<script>alert(1)</script><b>x</b>';
    await cp.fill('#chat-input', evil);
    await cp.press('#chat-input', 'Enter');
    await waitSel(cp, '#messages .msg-own.is-delivered[data-seq="4"]', PUSH_MS);
    await waitSel(sp, '#d-messages .msg[data-seq="4"]', PUSH_MS);
    assert.equal(await cp.textContent('#messages .msg[data-seq="4"] .msg-text'), evil);
    assert.equal(await sp.textContent('#d-messages .msg[data-seq="4"] .msg-text'), evil);
    assert.equal(await countSel(cp, '#timeline li[data-seq="4"]'), 0, 'chat messages are shown in the chat only');
    await waitText(cp, '#timeline-chat', '3 messages in the chat', PUSH_MS);
    for (const page of [cp, sp]) {
      assert.equal(await countSel(page, 'main b'), 0, 'no <b> element was created');
      assert.equal(await countSel(page, 'main script'), 0, 'no <script> element was created');
    }
    assert.deepEqual(cust.rec.dialogs, []);
    assert.deepEqual(sup.rec.dialogs, []);

    assertClean(cust);
    assertClean(sup);
    await closeAll(cust, sup);
  });

  test('server killed and restarted: reconnecting…, then live, and what happened meanwhile appears once', async () => {
    const srv = await startServer();
    const created = await createOrder(srv, { customer: 'Rene Restart' });
    const id = created.order.id;
    const cust = await openTracking(srv, created, { live: 'live (WebSocket)' });
    const { page, context } = cust;
    assert.equal((await postStatus(srv, id, 'confirmed')).status, 200);
    await waitSel(page, '#timeline li[data-seq="2"]', PUSH_MS);

    await srv.kill();
    await waitText(page, '#conn', /^reconnecting… \(attempt \d+\)$/, RECONNECT_MS);
    assert.equal(await page.getAttribute('#conn', 'data-state'), 'reconnecting');

    // Keep the page away from the new process until the changes are stored,
    // so that it can only learn about them through its resync.
    await context.setOffline(true);
    await waitText(page, '#conn', 'offline', PUSH_MS);
    await srv.restart();
    assert.equal((await postStatus(srv, id, 'packed', 'While you were away')).status, 200);
    assert.equal((await postStatus(srv, id, 'shipped')).status, 200);
    assert.equal(await countSel(page, '#timeline li[data-seq="3"]'), 0, 'the page cannot have seen it yet');
    await context.setOffline(false);

    await waitText(page, '#conn', /^live \(/, RECONNECT_MS);
    await waitSel(page, '#timeline li[data-seq="4"]', PUSH_MS);
    await waitText(page, '#status-badge', 'Shipped', PUSH_MS);
    await waitText(page, '#notice', /2 updates arrived while you were away/, PUSH_MS);
    for (const seq of [1, 2, 3, 4]) {
      assert.equal(await countSel(page, `#timeline li[data-seq="${seq}"]`), 1, `seq ${seq} shown exactly once`);
    }
    assert.equal(await countSel(page, '#timeline li.tl-packed'), 1);
    assert.equal(await countSel(page, '#timeline li.tl-shipped'), 1);
    assert.match(await page.textContent('#timeline li[data-seq="3"]'), /While you were away/);

    // And it is live again.
    assert.equal((await postStatus(srv, id, 'out_for_delivery')).status, 200);
    await waitSel(page, '#timeline li[data-seq="5"]', PUSH_MS);
    assert.equal(await countSel(page, '#timeline li'), 5);
    assert.equal(await page.getAttribute('#stepper li.is-current', 'data-status'), 'out_for_delivery');

    // Failed requests while the server was down are expected console noise.
    assertClean(cust, { allowConsoleErrors: true });
    await closeAll(cust);
    await srv.stop();
  });

  test('with --transports polling the page works and says "live (polling)"', async () => {
    const srv = await startServer({ args: ['--transports', 'polling'] });
    const created = await createOrder(srv, { customer: 'Polly Polling' });
    const cust = await openTracking(srv, created, { live: 'live (polling)' });
    const { page } = cust;
    assert.equal((await postStatus(srv, created.order.id, 'confirmed')).status, 200);
    await waitText(page, '#status-badge', 'Confirmed', PUSH_MS);
    await page.fill('#chat-input', 'Polling works?');
    await page.press('#chat-input', 'Enter');
    await waitSel(page, '#messages .msg-own.is-delivered[data-seq="3"]', PUSH_MS);
    assert.equal(await page.textContent('#conn'), 'live (polling)');
    assert.equal(await page.evaluate(() => window.ordercastTrack.socket.io.engine.transport.name), 'polling');
    assertClean(cust);
    await closeAll(cust);
    await srv.stop();
  });

  test('a final order looks final; a bad tracking token and a bad staff token are explained', async () => {
    const created = await createOrder(server, { customer: 'Fiona Final' });
    const id = created.order.id;
    for (const s of ['confirmed', 'packed', 'shipped', 'out_for_delivery', 'delivered']) {
      assert.equal((await postStatus(server, id, s)).status, 200);
    }
    const cust = await openTracking(server, created);
    await waitText(cust.page, '#status-badge', 'Delivered', PUSH_MS);
    assert.ok(await cust.page.evaluate(() => document.body.classList.contains('is-final')));
    assert.ok(await cust.page.isVisible('#final-banner'));
    assert.equal(await countSel(cust.page, '#stepper li.is-done'), 6);

    const cancelled = await createOrder(server, { customer: 'Cass Cancel' });
    assert.equal((await postStatus(server, cancelled.order.id, 'cancelled', 'Out of stock')).status, 200);
    const c2 = await openTracking(server, cancelled);
    await waitText(c2.page, '#final-banner', /cancelled/, PUSH_MS);
    assert.ok(await c2.page.evaluate(() => document.body.classList.contains('is-cancelled')));
    assert.equal(await countSel(c2.page, '#stepper li.is-current'), 0);

    const bad = await open(`${server.url}/track/${encodeURIComponent(id)}?token=not-the-token`);
    await waitSel(bad.page, '#fatal', PUSH_MS, 'visible');
    assert.match(await bad.page.textContent('#fatal'), /not valid|not found/i);

    const sup = await open(`${server.url}/support#token=garbage`);
    await waitSel(sup.page, '#signin-error', PUSH_MS, 'visible');
    assert.match(await sup.page.textContent('#signin-error'), /refused: .*invalid/i, 'the connect_error message is shown');
    assert.equal(await sup.page.evaluate(() => sessionStorage.getItem('ordercast.staffToken')), null, 'a refused token is forgotten');

    assertClean(cust);
    assertClean(c2);
    await closeAll(cust, c2, bad, sup);
  });

  test('/admin shows live figures from stats and a chart updating in place', async () => {
    const tok = await staffToken(server, 'admin', 'Alex Admin');
    const adm = await open(`${server.url}/admin#token=${encodeURIComponent(tok)}`);
    const { page } = adm;
    await waitText(page, '#conn', /^live \(/, LIVE_MS);
    await waitFor(async () => Number(await page.getAttribute('#stats', 'data-updates')) >= 3, 10_000, 'three stats updates');
    const ws = Number(await page.textContent('#s-ws'));
    const polling = Number(await page.textContent('#s-polling'));
    assert.ok(ws + polling >= 1, `the admin page itself is counted (${ws} + ${polling})`);
    assert.match(await page.textContent('#s-nodes'), /^\d+$/);
    assert.match(await page.textContent('#s-p99'), /^\d+(\.\d)?$/);
    const canvases = await page.$$eval('canvas.chart', (cs) => cs.map((c) => c.width > 0 && c.height > 0));
    assert.deepEqual(canvases, [true, true, true]);
    const before1 = await page.$eval('#chart-conn', (c) => c.toDataURL());
    await waitFor(async () => (await page.$eval('#chart-conn', (c) => c.toDataURL())) !== before1, 5000, 'the chart is redrawn');
    assert.equal(await countSel(page, 'canvas.chart'), 3, 'charts are updated in place, not added');

    // A support token gets no stats: the page says why instead of staying blank.
    const supTok = await staffToken(server, 'support', 'Sid Support');
    const sup = await open(`${server.url}/admin#token=${encodeURIComponent(supTok)}`);
    await waitText(sup.page, '#conn', /^live \(/, LIVE_MS);
    await waitText(sup.page, '#dash-warning', /admin tokens only/, 10_000);
    assert.equal(await sup.page.textContent('#s-ws'), '–');
    assertClean(adm);
    assertClean(sup);
    await closeAll(adm, sup);
  });

  test('the documented Node client helper follows an order', async () => {
    const created = await createOrder(server, { customer: 'Nico Node' });
    const child = spawn(process.execPath, [path.join(repoRoot, 'public/clients/follow-order.mjs'), trackingHref(server, created)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = [];
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop();
      for (const l of parts) if (l) lines.push(JSON.parse(l));
    });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    try {
      await waitFor(() => lines.some((e) => e.seq === 1), 10_000, 'seq 1 printed').catch((e) => { throw new Error(`${e.message}; stderr: ${err}`); });
      assert.equal((await postStatus(server, created.order.id, 'confirmed')).status, 200);
      await waitFor(() => lines.some((e) => e.seq === 2 && e.status === 'confirmed'), PUSH_MS, 'seq 2 printed');
      assert.deepEqual(lines.map((e) => e.seq), [1, 2]);
      assert.match(err, /live \(/);
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('screenshots of every page at 390x844 and 1280x800', async () => {
    // A realistic board: a few orders in different states, one with a conversation.
    const names = [
      ['Maria Jensen', [{ name: 'Linen shirt', qty: 2 }, { name: 'Canvas tote bag', qty: 1 }], 8950, 'shipped'],
      ['Oliver Brandt', [{ name: 'Espresso beans 1 kg', qty: 1 }], 2490, 'confirmed'],
      ['Sofia Rossi', [{ name: 'Running shoes', qty: 1 }], 12900, 'delivered'],
      ['Kenji Watanabe', [{ name: 'Notebook A5', qty: 3 }], 1770, 'cancelled'],
    ];
    for (const [customer, items, total, status] of names) {
      const o = await createOrder(server, { customer, items, total });
      const path1 = ['confirmed', 'packed', 'shipped', 'out_for_delivery', 'delivered'];
      if (status === 'cancelled') await postStatus(server, o.order.id, 'cancelled', 'Out of stock');
      else for (const s of path1.slice(0, path1.indexOf(status) + 1)) await postStatus(server, o.order.id, s);
    }
    const main = await createOrder(server, {
      customer: 'Hannah Lindqvist',
      items: [{ name: 'Wool blanket, grey', qty: 1 }, { name: 'Ceramic mug', qty: 4 }, { name: 'Gift wrapping', qty: 1 }],
      total: 11640,
    });
    const id = main.order.id;
    await postStatus(server, id, 'confirmed', 'Payment received');
    await postStatus(server, id, 'packed');
    const supTok = await staffToken(server, 'support', 'Jonas');
    const cust = await openTracking(server, main, { viewport: DESKTOP });
    await cust.page.fill('#chat-input', 'Hi! Could you leave the parcel with my neighbour if I am not home?');
    await cust.page.press('#chat-input', 'Enter');
    await waitSel(cust.page, '#messages .msg-own.is-delivered', PUSH_MS);

    const sup = await openSupport(server, supTok, { viewport: DESKTOP });
    await waitSel(sup.page, `#orders li[data-id="${id}"]`, PUSH_MS);
    await sup.page.click(`#orders li[data-id="${id}"] .order-row`);
    await waitSel(sup.page, '#d-messages .msg', PUSH_MS);
    await sup.page.fill('#d-chat-input', 'Of course — I have added a note for the driver.');
    await sup.page.press('#d-chat-input', 'Enter');
    await waitSel(cust.page, '#messages .msg-other', PUSH_MS);
    await sup.page.click('#actions button[data-status="shipped"]');
    await waitText(cust.page, '#status-badge', 'Shipped', PUSH_MS);
    const late = await createOrder(server, { customer: 'Peter Novak', items: [{ name: 'Desk plant', qty: 1 }], total: 2900 });
    await waitSel(sup.page, `#orders li[data-id="${late.order.id}"].is-new`, PUSH_MS);

    const admTok = await staffToken(server, 'admin', 'Alex');
    const adm = await open(`${server.url}/admin#token=${encodeURIComponent(admTok)}`, { viewport: DESKTOP });
    await waitFor(async () => Number(await adm.page.getAttribute('#stats', 'data-updates')) >= 4, 15_000, 'a few stats updates');

    const shots = [];
    for (const [label, vp] of [['1280x800', DESKTOP], ['390x844', PHONE]]) {
      for (const [name, p] of [['track', cust], ['support', sup], ['admin', adm]]) {
        await p.page.setViewportSize(vp);
        if (name === 'support' && vp === PHONE) {
          // Phones show one pane at a time: the list, then the open order.
          await sup.page.click('#back');
          await waitSel(sup.page, '#orders', PUSH_MS, 'visible');
          const f = shotPath(`support-list-${label}.png`);
          await sup.page.screenshot({ path: f });
          shots.push(f);
          await sup.page.click(`#orders li[data-id="${id}"] .order-row`);
          await waitSel(sup.page, '#detail-body', PUSH_MS, 'visible');
        }
        if (name === 'admin') {
          const n = Number(await adm.page.getAttribute('#stats', 'data-updates'));
          await waitFor(async () => Number(await adm.page.getAttribute('#stats', 'data-updates')) > n, 5000, 'a redraw at the new size');
        }
        const f = shotPath(`${name}-${label}.png`);
        await p.page.screenshot({ path: f, fullPage: name === 'track' });
        shots.push(f);
      }
    }
    // Nothing overflows sideways on a phone.
    for (const p of [cust, sup, adm]) {
      const over = await p.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(over <= 0, `${p.page.url()} scrolls sideways by ${over}px at 390 wide`);
    }
    console.log(`# screenshots: ${shots.map((s) => path.relative(repoRoot, s)).join(', ')}`);
    assertClean(cust);
    assertClean(sup);
    assertClean(adm);
    await closeAll(cust, sup, adm);
  });
});
