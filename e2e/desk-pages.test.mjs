// Chromium tests of the support desk on the pages (issue #15, contract 0.2):
// typing and presence between a customer (/track) and an agent (/support),
// support online/offline, the "Waiting for reply" view, Take / Release seen
// by a second agent, the unseen-messages count in a hidden tab's title, a
// timeline without chat messages, and screenshots at phone and desktop size.
// Run: make build && node --test --test-force-exit e2e/desk-pages.test.mjs
//
// Every wait is for a selector, a text or an event, with a deadline.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  startServer, staffToken, createOrder, postStatus, connect, subscribe, emitAck, waitFor, cleanup, repoRoot,
} from './harness.mjs';
import {
  launchBrowser, assertClean, waitText, waitSel, shotPath, pageSet, PHONE, DESKTOP, LIVE_MS, PUSH_MS,
} from './pages-browser.mjs';

const TYPING_GONE_MS = 3_000 + PUSH_MS; // the indicator hides ~3 s after the last relay
const RECONNECT_MS = 30_000;

let browser;
const { closeAll, closeEverything, openTracking, openSupport } = pageSet(() => browser);

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await closeEverything();
  await browser?.close().catch(() => {});
  await cleanup();
});

/** Opens an order on the board from the list of all orders. */
async function openOrder(sp, id) {
  await waitSel(sp, `#orders li[data-id="${id}"]`, PUSH_MS);
  await sp.click(`#orders li[data-id="${id}"] .order-row`);
  await waitSel(sp, '#d-timeline li[data-seq="1"]', PUSH_MS);
}

const ids = (sp, sel) => sp.$$eval(sel, (els) => els.map((e) => e.dataset.id));
const count = (page, sel) => page.locator(sel).count();

/** A customer's socket, subscribed to its order, that can write to support. */
async function customerSocket(srv, created) {
  const sock = await connect(srv);
  await subscribe(sock, created.order.id, created.trackingToken);
  return {
    sock,
    say: async (text) => {
      const ack = await emitAck(sock, 'order:message', { orderId: created.order.id, text });
      assert.equal(ack.ok, true, JSON.stringify(ack));
      return ack.event;
    },
  };
}

async function staffSocket(srv, name) {
  const token = await staffToken(srv, 'support', name);
  return connect(srv, { auth: { token } });
}

/** Counts the order:typing emits of a page's socket, with their times. */
async function spyTyping(page, socketPath) {
  await page.evaluate((p) => {
    const s = p.split('.').reduce((o, k) => o[k], window);
    const orig = s.emit;
    window.__typingAt = [];
    s.emit = function (ev, ...args) {
      if (ev === 'order:typing') window.__typingAt.push(performance.now());
      return orig.call(this, ev, ...args);
    };
  }, socketPath);
}

/**
 * Types `text` into `sel` a key at a time (again from the start when it runs
 * out) until `other` shows `indicator`: each side sends at most 1/s.
 */
async function typeUntilSeen(page, sel, text, other, indicator) {
  await page.fill(sel, '');
  let i = 0;
  return waitFor(async () => {
    if (i === text.length) { await page.fill(sel, ''); i = 0; }
    await page.type(sel, text[i++]);
    return other.isVisible(indicator);
  }, PUSH_MS, `${indicator} shown`, 150);
}

/** Makes the page believe its tab is hidden (or visible again), as a tab switch does. */
function setVisibility(page, state) {
  return page.evaluate((s) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => s === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
}

describe('support desk pages', () => {
  test('customer and agent see each other typing and the customer on the page; support online flips when the agent leaves', async () => {
    const srv = await startServer(); // its own: no other staff socket may count
    const created = await createOrder(srv, { customer: 'Chloe Customer' });
    const id = created.order.id;
    const cust = await openTracking(srv, created);
    const cp = cust.page;
    await waitText(cp, '#support-online', 'Support offline', PUSH_MS);
    await waitSel(cp, '#support-offline-note', PUSH_MS, 'visible');
    assert.match(await cp.textContent('#support-offline-note'), /answer by message as soon as someone is back/);

    const sup = await openSupport(srv, await staffToken(srv, 'support', 'Tom Agent'));
    const sp = sup.page;
    await waitText(cp, '#support-online', 'Support online', PUSH_MS); // support:online, live
    assert.equal(await cp.isVisible('#support-offline-note'), false);
    await openOrder(sp, id);
    await waitText(sp, '#d-presence', 'Customer is viewing now', PUSH_MS);
    assert.equal(await sp.getAttribute('#d-presence', 'data-online'), 'true');

    // The customer types: the agent sees it, and it goes ~3 s after the last keystroke.
    await spyTyping(cp, 'ordercastTrack.socket');
    await cp.type('#chat-input', 'Can you hurry?', { delay: 120 });
    const typedAt = Date.now();
    await waitText(sp, '#d-typing', 'Chloe Customer is typing…', PUSH_MS);
    const gaps = await cp.evaluate(() => window.__typingAt.slice(1).map((t, i) => t - window.__typingAt[i]));
    assert.ok(gaps.length >= 1, 'typing for ~1.7 s sends at least twice');
    assert.ok(gaps.every((g) => g >= 990), `at most one order:typing a second, gaps ${gaps.map(Math.round)}`);
    await waitSel(sp, '#d-typing', TYPING_GONE_MS, 'hidden');
    const gone = Date.now() - typedAt;
    assert.ok(gone >= 1000, `the indicator stays while the customer may still type (${gone} ms)`);

    // A sent message ends the indicator at once.
    await cp.type('#chat-input', 'x');
    await waitSel(sp, '#d-typing', PUSH_MS, 'visible');
    await cp.fill('#chat-input', 'Can you hurry?');
    await cp.press('#chat-input', 'Enter');
    await waitSel(sp, '#d-messages .msg-other[data-seq="2"]', PUSH_MS);
    assert.equal(await sp.isVisible('#d-typing'), false, 'the message replaced the typing indicator');

    // The agent types: the customer sees who.
    await sp.type('#d-chat-input', 'On it', { delay: 50 });
    await waitText(cp, '#typing', 'Tom Agent from support is typing…', PUSH_MS);
    await waitSel(cp, '#typing', TYPING_GONE_MS, 'hidden');

    // The customer leaves: the agent sees it.
    await closeAll(cust);
    await waitText(sp, '#d-presence', 'Customer is not on the order page', PUSH_MS);
    assert.equal(await sp.getAttribute('#d-presence', 'data-online'), 'false');

    // A customer comes back; the agent's page closes: support goes offline.
    const back = await openTracking(srv, created);
    await waitText(back.page, '#support-online', 'Support online', PUSH_MS); // from the subscribe ack
    await waitText(sp, '#d-presence', 'Customer is viewing now', PUSH_MS);
    assertClean(sup);
    await closeAll(sup);
    await waitText(back.page, '#support-online', 'Support offline', PUSH_MS);
    await waitSel(back.page, '#support-offline-note', PUSH_MS, 'visible');
    await back.page.setViewportSize(PHONE);
    await back.page.screenshot({ path: shotPath('desk-track-offline-390x844.png'), fullPage: true });
    assertClean(back);
    await closeAll(back);
    await srv.stop();
  });

  test('waiting for reply: longest first, ticking, cleared by the answer, right again after a reconnect', async () => {
    const srv = await startServer();
    const orders = [];
    for (const customer of ['Ada Early', 'Ben Later', 'Cy Live', 'Dee Offline']) orders.push(await createOrder(srv, { customer }));
    const [oa, ob, oc, od] = orders;
    const ca = await customerSocket(srv, oa);
    const cb = await customerSocket(srv, ob);
    await ca.say('Where is my parcel?');
    await cb.say('Can I change the address?');
    await ca.say('Hello?'); // a second message does not reset how long Ada waits

    const sup = await openSupport(srv, await staffToken(srv, 'support', 'Wendy Wait'));
    const sp = sup.page;
    await waitText(sp, '#waiting-count', '2', PUSH_MS);
    assert.deepEqual(await ids(sp, '#waiting-list li'), [oa.order.id, ob.order.id], 'longest waiting first');
    assert.match(await sp.textContent('#waiting-oldest'), /^oldest \d+s$/);
    const clock = `#waiting-list li[data-id="${oa.order.id}"] .wait-clock`;
    const t0 = await sp.textContent(clock);
    await waitFor(async () => (await sp.textContent(clock)) !== t0, 3000, 'the waiting time ticks');

    // Live: a third customer writes; they wait the least.
    const cc = await customerSocket(srv, oc);
    await cc.say('Is it gift wrapped?');
    await waitText(sp, '#waiting-count', '3', PUSH_MS);
    assert.deepEqual(await ids(sp, '#waiting-list li'), [oa.order.id, ob.order.id, oc.order.id]);

    // The agent answers Ada from the waiting list: Ada is no longer waiting.
    await sp.click(`#waiting-list li[data-id="${oa.order.id}"] .order-row`);
    await waitSel(sp, '#d-messages .msg-other', PUSH_MS);
    await sp.fill('#d-chat-input', 'It left the warehouse this morning.');
    await sp.press('#d-chat-input', 'Enter');
    await waitText(sp, '#waiting-count', '2', PUSH_MS);
    assert.deepEqual(await ids(sp, '#waiting-list li'), [ob.order.id, oc.order.id]);

    // The board loses its connection; meanwhile a colleague answers Ben and
    // Dee writes. After the reconnect the list says so.
    await sup.context.setOffline(true);
    await sp.evaluate(() => window.ordercastSupport.socket.io.engine.close());
    await waitText(sp, '#conn', /offline|reconnecting/, PUSH_MS);
    await waitSel(sp, '#d-presence[data-stale]', PUSH_MS); // what it says may be stale now
    const colleague = await staffSocket(srv, 'Colin Colleague');
    const ack = await emitAck(colleague, 'order:message', { orderId: ob.order.id, text: 'Yes, send it to us.' });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    const cd = await customerSocket(srv, od);
    await cd.say('Hi, nobody there?');
    assert.deepEqual(await ids(sp, '#waiting-list li'), [ob.order.id, oc.order.id], 'the page cannot know yet');
    assert.doesNotMatch(await sp.textContent('#conn'), /^live/, 'still disconnected: only a resync can tell');
    await sup.context.setOffline(false);
    await waitText(sp, '#conn', /^live \(/, RECONNECT_MS);
    await waitFor(async () => JSON.stringify(await ids(sp, '#waiting-list li')) === JSON.stringify([oc.order.id, od.order.id]),
      PUSH_MS, 'the waiting list is read again after the reconnect');
    assert.equal(await sp.textContent('#waiting-count'), '2');
    // The open order's presence comes again with its resubscribe.
    await waitSel(sp, '#d-presence:not([data-stale])', PUSH_MS);
    assert.equal(await sp.textContent('#d-presence'), 'Customer is viewing now', 'Ada\'s socket is still subscribed');

    // Nobody waits: the view says so.
    await sp.click(`#waiting-list li[data-id="${oc.order.id}"] .order-row`);
    await waitSel(sp, '#d-messages .msg-other', PUSH_MS);
    await sp.fill('#d-chat-input', 'Yes, it is.');
    await sp.press('#d-chat-input', 'Enter');
    const ack2 = await emitAck(colleague, 'order:message', { orderId: od.order.id, text: 'We are here.' });
    assert.equal(ack2.ok, true);
    await waitText(sp, '#waiting-count', '0', PUSH_MS);
    assert.ok(await sp.isVisible('#waiting-empty'));
    assert.equal(await sp.textContent('#waiting-oldest'), '');
    assertClean(sup, { allowConsoleErrors: true }); // requests failed while offline
    await closeAll(sup);
    await srv.stop();
  });

  test('Take and Release update the badges on a second agent\'s board', async () => {
    const srv = await startServer();
    const created = await createOrder(srv, { customer: 'Tara Take' });
    const id = created.order.id;
    await (await customerSocket(srv, created)).say('Hello, anyone?');
    const ann = await openSupport(srv, await staffToken(srv, 'support', 'Ann Agent'));
    const ben = await openSupport(srv, await staffToken(srv, 'support', 'Ben Agent'));
    const ap = ann.page;
    const bp = ben.page;
    await waitSel(bp, `#waiting-list li[data-id="${id}"]`, PUSH_MS);
    assert.equal(await count(bp, `#orders li[data-id="${id}"] .assignee`), 0, 'nobody has it yet');

    await openOrder(ap, id);
    await waitText(ap, '#d-assignee', 'Nobody has taken this order', PUSH_MS);
    await ap.click('#take');
    await waitText(ap, '#d-assignee', 'You have taken this order', PUSH_MS);
    assert.equal(await ap.isVisible('#take'), false);
    assert.ok(await ap.isVisible('#release'));
    await waitText(ap, `#orders li[data-id="${id}"] .assignee`, /You/, PUSH_MS);
    await waitText(bp, `#orders li[data-id="${id}"] .assignee`, /Ann Agent/, PUSH_MS);
    await waitText(bp, `#waiting-list li[data-id="${id}"] .assignee`, /Ann Agent/, PUSH_MS);

    await openOrder(bp, id);
    await waitText(bp, '#d-assignee', 'Taken by Ann Agent', PUSH_MS);
    assert.equal(await bp.textContent('#take'), 'Take over');

    await ap.click('#release');
    await waitText(bp, '#d-assignee', 'Nobody has taken this order', PUSH_MS);
    await waitFor(async () => (await count(bp, `#orders li[data-id="${id}"] .assignee`)) === 0, PUSH_MS, 'badge gone from the list');
    assert.equal(await count(bp, `#waiting-list li[data-id="${id}"] .assignee`), 0);
    assert.equal(await bp.textContent('#take'), 'Take');

    // Ben takes it; Ann's board, reloaded, still knows (from the list).
    await bp.click('#take');
    await waitText(ap, `#orders li[data-id="${id}"] .assignee`, /Ben Agent/, PUSH_MS);
    await ap.reload();
    await waitText(ap, '#conn', /^live \(/, LIVE_MS);
    await waitText(ap, `#orders li[data-id="${id}"] .assignee`, /Ben Agent/, PUSH_MS);
    await waitText(ap, `#waiting-list li[data-id="${id}"] .assignee`, /Ben Agent/, PUSH_MS);
    assertClean(ann);
    assertClean(ben);
    await closeAll(ann, ben);
    await srv.stop();
  });

  test('a hidden tab counts unseen messages in its title; the timeline holds statuses and counts the chat', async () => {
    const srv = await startServer();
    const created = await createOrder(srv, { customer: 'Vera Visible' });
    const id = created.order.id;
    assert.equal((await postStatus(srv, id, 'confirmed')).status, 200);
    const cust = await openTracking(srv, created);
    const cp = cust.page;
    await waitText(cp, '#status-badge', 'Confirmed', PUSH_MS);
    const base = await cp.title();
    assert.equal(base, `Order ${id} · Confirmed`);

    const agent = await staffSocket(srv, 'Hugo Hidden');
    const say = async (text) => assert.equal((await emitAck(agent, 'order:message', { orderId: id, text })).ok, true);
    await say('Visible tab: not counted.');
    await waitSel(cp, '#messages .msg-other[data-seq="3"]', PUSH_MS);
    assert.equal(await cp.title(), base);

    await setVisibility(cp, 'hidden');
    await say('First while away');
    await waitFor(async () => (await cp.title()) === `(1) ${base}`, PUSH_MS, 'title (1)');
    await say('Second while away');
    await waitFor(async () => (await cp.title()) === `(2) ${base}`, PUSH_MS, 'title (2)');
    // The customer's own message (from another device) is not "unseen".
    const own = await customerSocket(srv, created);
    await own.say('Thanks!');
    await waitSel(cp, '#messages .msg[data-seq="6"]', PUSH_MS);
    assert.equal(await cp.title(), `(2) ${base}`);
    // A status change keeps the count in front of the new title.
    assert.equal((await postStatus(srv, id, 'packed')).status, 200);
    await waitFor(async () => (await cp.title()) === `(2) Order ${id} · Packed`, PUSH_MS, 'count kept on a new status');

    await setVisibility(cp, 'visible');
    await waitFor(async () => (await cp.title()) === `Order ${id} · Packed`, PUSH_MS, 'title cleared when visible');

    // One place for each thing: 4 messages in the chat, none in the timeline.
    assert.equal(await count(cp, '#messages .msg'), 4);
    assert.deepEqual(await cp.$$eval('#timeline li', (ls) => ls.map((l) => l.dataset.type)),
      ['order:status', 'order:status', 'order:status']);
    assert.equal(await cp.textContent('#timeline-chat'), '4 messages in the chat');
    assert.equal(await cp.getAttribute('#timeline-chat a', 'href'), '#chat-title');

    const sup = await openSupport(srv, await staffToken(srv, 'support', 'Tina Timeline'));
    await openOrder(sup.page, id);
    await waitSel(sup.page, '#d-messages .msg[data-seq="6"]', PUSH_MS);
    assert.equal(await count(sup.page, '#d-timeline li'), 3);
    assert.equal(await count(sup.page, '#d-timeline li[data-type="order:message"]'), 0);
    assert.equal(await sup.page.textContent('#d-timeline-chat'), '4 messages in the chat');
    assertClean(cust);
    assertClean(sup);
    await closeAll(cust, sup);
    await srv.stop();
  });

  test('screenshots of the desk at 390x844 and 1280x800', async () => {
    const srv = await startServer();
    const mk = (customer, items, total) => createOrder(srv, { customer, items, total });
    const main = await mk('Hannah Lindqvist', [{ name: 'Wool blanket, grey', qty: 1 }, { name: 'Ceramic mug', qty: 4 }], 11640);
    const id = main.order.id;
    await postStatus(srv, id, 'confirmed', 'Payment received');
    await postStatus(srv, id, 'packed');
    const others = [];
    for (const [name, item, total] of [['Oliver Brandt', 'Espresso beans 1 kg', 2490], ['Maria Jensen', 'Linen shirt', 8950],
      ['Sofia Rossi', 'Running shoes', 12900]]) {
      others.push(await mk(name, [{ name: item, qty: 1 }], total));
    }
    await postStatus(srv, others[1].order.id, 'confirmed');
    const s0 = await customerSocket(srv, others[0]);
    await s0.say('Hi, is the decaf in stock as well?');
    const cust = await openTracking(srv, main, { viewport: DESKTOP });
    const cp = cust.page;
    await cp.fill('#chat-input', 'Hi! Could you leave the parcel with my neighbour if I am not home?');
    await cp.press('#chat-input', 'Enter');
    await waitSel(cp, '#messages .msg-own.is-delivered', PUSH_MS);
    const s1 = await customerSocket(srv, others[1]);
    await s1.say('Can I still change the size to M?');

    const colleague = await staffSocket(srv, 'Priya');
    assert.equal((await emitAck(colleague, 'order:assign', { orderId: others[1].order.id })).ok, true);
    const sup = await openSupport(srv, await staffToken(srv, 'support', 'Jonas'), { viewport: DESKTOP });
    const sp = sup.page;
    await waitText(sp, '#waiting-count', '3', PUSH_MS);
    await sp.click(`#waiting-list li[data-id="${id}"] .order-row`);
    await waitText(sp, '#d-presence', 'Customer is viewing now', PUSH_MS);
    await sp.click('#take');
    await waitText(sp, '#d-assignee', 'You have taken this order', PUSH_MS);
    await sp.fill('#d-chat-input', 'Of course, I have added a note for the driver.');
    await sp.press('#d-chat-input', 'Enter');
    await waitText(sp, '#waiting-count', '2', PUSH_MS);
    await waitSel(cp, '#messages .msg-other', PUSH_MS);

    const shots = [];
    for (const [label, vp] of [['1280x800', DESKTOP], ['390x844', PHONE]]) {
      await cp.setViewportSize(vp);
      await sp.setViewportSize(vp);
      // Both indicators on for the pictures.
      await typeUntilSeen(cp, '#chat-input', 'Thank you so much!', sp, '#d-typing');
      await typeUntilSeen(sp, '#d-chat-input', 'You are welcome, have a nice day', cp, '#typing');
      if (vp === PHONE) {
        await sp.click('#back');
        await waitSel(sp, '#waiting-list', PUSH_MS, 'visible');
        const f = shotPath(`desk-support-list-${label}.png`);
        await sp.screenshot({ path: f });
        shots.push(f);
        await sp.click(`#waiting-list li[data-id="${others[0].order.id}"] .order-row`);
        await waitSel(sp, '#detail-body', PUSH_MS, 'visible');
        await waitText(sp, '#d-assignee', 'Nobody has taken this order', PUSH_MS);
      }
      for (const [name, p] of [['track', cp], ['support', sp]]) {
        await p.evaluate(() => window.scrollTo(0, 0)); // typing scrolled to the input; the sticky bar belongs on top
        const f = shotPath(`desk-${name}-${label}.png`);
        await p.screenshot({ path: f, fullPage: true });
        shots.push(f);
      }
    }
    for (const p of [cp, sp]) {
      const over = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(over <= 0, `${p.url()} scrolls sideways by ${over}px at 390 wide`);
    }
    console.log(`# screenshots: ${shots.map((s) => path.relative(repoRoot, s)).join(', ')}`);
    assertClean(cust);
    assertClean(sup);
    await closeAll(cust, sup);
    await srv.stop();
  });
});
