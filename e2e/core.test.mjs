// Socket.IO behaviour of the real ordercast binary, seen through the stock
// socket.io-client 4.8 (Node). Run: node --test --test-concurrency=1 e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, staffToken, api, createOrder, postStatus, makeSocket, connect,
  waitFor, collect, emitAck, subscribe, cleanup,
} from './harness.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(cleanup);

const isRFC3339 = (s) => typeof s === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s));

/** Subscribe with the tracking token, get an order:status posted over HTTP, send a chat message; all with acks. */
async function roundTrip(server, sock, customer) {
  const { order, trackingToken } = await createOrder(server, { customer });
  const ack = await emitAck(sock, 'order:subscribe', { orderId: order.id, token: trackingToken });
  assert.equal(ack.ok, true, JSON.stringify(ack));
  assert.equal(ack.order.id, order.id);
  assert.equal(ack.order.status, 'placed');
  assert.equal(ack.order.lastSeq, 1);
  assert.equal(ack.events.length, 1);
  assert.equal(ack.events[0].seq, 1);
  assert.equal(ack.events[0].status, 'placed');

  const got = waitFor(sock, 'order:status', (e) => e.orderId === order.id && e.seq === 2);
  const res = await postStatus(server, order.id, 'confirmed', 'we have it');
  assert.equal(res.status, 200, res.text);
  const ev = await got;
  assert.equal(ev.status, 'confirmed');
  assert.equal(ev.note, 'we have it');
  assert.equal(ev.by, 'service');
  assert.ok(isRFC3339(ev.at), `at=${ev.at}`);
  assert.equal(ev.at, res.body.event.at);

  const msg = await emitAck(sock, 'order:message', { orderId: order.id, text: 'Where is my pizza?' });
  assert.equal(msg.ok, true, JSON.stringify(msg));
  assert.equal(msg.event.seq, 3);
  assert.equal(msg.event.from, 'customer');
  assert.equal(msg.event.author, customer);
  assert.equal(msg.event.text, 'Where is my pizza?');
  assert.ok(isRFC3339(msg.event.at));
  return order;
}

test('transport: default client starts on polling, upgrades to websocket, then works', async () => {
  const sock = makeSocket(srv);
  const firstTransport = sock.io.engine.transport.name;
  const upgraded = waitFor(sock.io.engine, 'upgrade', undefined, 5000);
  await waitFor(sock, 'connect');
  assert.equal(firstTransport, 'polling');
  await upgraded;
  assert.equal(sock.io.engine.transport.name, 'websocket');
  await roundTrip(srv, sock, 'Dora Default');
  assert.equal(sock.io.engine.transport.name, 'websocket');
  sock.close();
});

test('transport: polling only', async () => {
  const sock = await connect(srv, { transports: ['polling'] });
  assert.equal(sock.io.engine.transport.name, 'polling');
  await roundTrip(srv, sock, 'Polly Polling');
  assert.equal(sock.io.engine.transport.name, 'polling');
  sock.close();
});

test('transport: websocket only', async () => {
  const sock = await connect(srv, { transports: ['websocket'] });
  assert.equal(sock.io.engine.transport.name, 'websocket');
  await roundTrip(srv, sock, 'Wes Websocket');
  assert.equal(sock.io.engine.transport.name, 'websocket');
  sock.close();
});

test('server --transports polling: default client stays on polling; websocket-only client is refused', async () => {
  const s = await startServer({ args: ['--transports', 'polling'] });
  const sock = makeSocket(s);
  const handshake = waitFor(sock.io.engine, 'handshake');
  await waitFor(sock, 'connect');
  assert.equal(sock.io.engine.transport.name, 'polling');
  assert.deepEqual((await handshake).upgrades, [], 'server must not offer an upgrade');
  await roundTrip(s, sock, 'Pia Polling');
  assert.equal(sock.io.engine.transport.name, 'polling');
  sock.close();
  await assert.rejects(connect(s, { transports: ['websocket'], reconnection: false }));
  await s.stop();
});

test('server --transports websocket: websocket client works; polling-only client is refused', async () => {
  const s = await startServer({ args: ['--transports', 'websocket'] });
  const sock = await connect(s, { transports: ['websocket'] });
  await roundTrip(s, sock, 'Will Websocket');
  sock.close();
  await assert.rejects(connect(s, { transports: ['polling'], reconnection: false }));
  await s.stop();
});

test("isolation: a customer of order A never receives order B's events, and cannot subscribe to B with A's token", async () => {
  const A = await createOrder(srv, { customer: 'Alice A' });
  const B = await createOrder(srv, { customer: 'Bob B' });
  const sock = await connect(srv);
  const all = [];
  sock.onAny((event, payload) => all.push({ event, payload }));
  await subscribe(sock, A.order.id, A.trackingToken);

  assert.equal((await postStatus(srv, B.order.id, 'confirmed')).status, 200);
  assert.equal((await postStatus(srv, A.order.id, 'confirmed')).status, 200);
  await waitFor(() => all.some((x) => x.payload?.orderId === A.order.id && x.payload.seq === 2));
  assert.deepEqual(all.filter((x) => x.payload?.orderId !== A.order.id), [], 'only events of order A may arrive');

  const bad = await emitAck(sock, 'order:subscribe', { orderId: B.order.id, token: A.trackingToken });
  assert.equal(bad.ok, false, JSON.stringify(bad));
  assert.equal(bad.error?.code, 'forbidden');
  assert.equal(typeof bad.error.message, 'string');
  assert.equal(bad.order, undefined, 'a refused subscribe must not reveal the order');
  assert.equal(bad.events, undefined, 'a refused subscribe must not reveal events');

  for (const payload of [{ orderId: B.order.id }, { orderId: B.order.id, token: 'garbage-token' }]) {
    const r = await emitAck(sock, 'order:subscribe', payload);
    assert.equal(r.ok, false, `${JSON.stringify(payload)} -> ${JSON.stringify(r)}`);
    assert.ok(['forbidden', 'unauthorized'].includes(r.error?.code), JSON.stringify(r));
  }
  const msg = await emitAck(sock, 'order:message', { orderId: B.order.id, text: 'let me in' });
  assert.equal(msg.ok, false, JSON.stringify(msg));
  assert.ok(['forbidden', 'unauthorized'].includes(msg.error?.code), JSON.stringify(msg));

  // The refused subscribes must not have joined B's room.
  assert.equal((await postStatus(srv, B.order.id, 'packed')).status, 200);
  assert.equal((await postStatus(srv, A.order.id, 'packed')).status, 200);
  await waitFor(() => all.some((x) => x.payload?.orderId === A.order.id && x.payload.seq === 3));
  assert.deepEqual(all.filter((x) => x.payload?.orderId !== A.order.id), [], 'still only events of order A');
  const gotB = await api(srv, 'GET', `/api/orders/${B.order.id}`);
  assert.equal(gotB.body.order.lastSeq, 3, 'the refused message must not be stored');
  sock.close();
});

test('staff socket (support token) receives order:created and every order:status and order:message of all orders', async () => {
  const tok = await staffToken(srv, 'support', 'Sam Support');
  const staff = await connect(srv, { auth: { token: tok } });
  const created = collect(staff, 'order:created');
  const statuses = collect(staff, 'order:status');
  const messages = collect(staff, 'order:message');

  const A = await createOrder(srv, { customer: 'Ann Staffview' });
  const B = await createOrder(srv, { customer: 'Ben Staffview' });
  await waitFor(() => [A, B].every((o) => created.some((c) => c.order?.id === o.order.id)));
  const cA = created.find((c) => c.order.id === A.order.id);
  assert.equal(cA.order.customer, 'Ann Staffview');
  assert.equal(cA.order.status, 'placed');
  assert.equal(cA.order.lastSeq, 1);
  assert.ok(!JSON.stringify(created).includes(A.trackingToken), 'order:created must not carry the tracking token');

  for (const [o, st] of [[A, 'confirmed'], [B, 'confirmed'], [A, 'packed'], [B, 'cancelled']]) {
    assert.equal((await postStatus(srv, o.order.id, st)).status, 200);
  }
  await waitFor(() => statuses.filter((e) => e.orderId === A.order.id || e.orderId === B.order.id).length >= 4);
  await waitFor(() => statuses.filter((e) => e.orderId === A.order.id || e.orderId === B.order.id).length >= 6);
  // seq 1 (placed) is an order:status too: support gets every one
  assert.deepEqual(statuses.filter((e) => e.orderId === A.order.id).map((e) => [e.seq, e.status]), [[1, 'placed'], [2, 'confirmed'], [3, 'packed']]);
  assert.deepEqual(statuses.filter((e) => e.orderId === B.order.id).map((e) => [e.seq, e.status]), [[1, 'placed'], [2, 'confirmed'], [3, 'cancelled']]);

  // customer of A writes; staff sees it without subscribing
  const cust = await connect(srv);
  await subscribe(cust, A.order.id, A.trackingToken);
  const custStatuses = collect(cust, 'order:status');
  const custMsgs = collect(cust, 'order:message');
  const m1 = await emitAck(cust, 'order:message', { orderId: A.order.id, text: 'hello support' });
  assert.equal(m1.ok, true, JSON.stringify(m1));
  const sm = await waitFor(() => messages.find((m) => m.orderId === A.order.id && m.seq === m1.event.seq));
  assert.equal(sm.from, 'customer');
  assert.equal(sm.author, 'Ann Staffview');
  assert.equal(sm.text, 'hello support');

  // staff answers and moves the order along over the socket
  const m2 = await emitAck(staff, 'order:message', { orderId: A.order.id, text: 'on its way soon' });
  assert.equal(m2.ok, true, JSON.stringify(m2));
  assert.equal(m2.event.from, 'support');
  assert.equal(m2.event.author, 'Sam Support');
  await waitFor(() => custMsgs.find((m) => m.seq === m2.event.seq && m.from === 'support' && m.author === 'Sam Support'));
  const up = await emitAck(staff, 'order:update-status', { orderId: A.order.id, status: 'shipped', note: 'DHL' });
  assert.equal(up.ok, true, JSON.stringify(up));
  assert.equal(up.event.status, 'shipped');
  assert.equal(up.event.by, 'Sam Support');
  assert.equal(up.event.note, 'DHL');
  await waitFor(() => custStatuses.find((e) => e.seq === up.event.seq && e.status === 'shipped' && e.by === 'Sam Support'));
  await waitFor(() => statuses.find((e) => e.orderId === A.order.id && e.seq === up.event.seq));

  const bad = await emitAck(staff, 'order:update-status', { orderId: A.order.id, status: 'placed' });
  assert.equal(bad.ok, false);
  assert.equal(bad.error?.code, 'invalid_transition');

  // a customer may not change a status
  const cu = await emitAck(cust, 'order:update-status', { orderId: A.order.id, status: 'out_for_delivery' });
  assert.equal(cu.ok, false, JSON.stringify(cu));
  assert.equal(cu.error?.code, 'forbidden');

  // staff viewing an order (subscribed to its room AND in support) gets each event once
  await subscribe(staff, A.order.id);
  const C = await createOrder(srv, { customer: 'Cy Marker' });
  assert.equal((await postStatus(srv, A.order.id, 'out_for_delivery')).status, 200);
  assert.equal((await postStatus(srv, C.order.id, 'confirmed')).status, 200);
  await waitFor(() => statuses.find((e) => e.orderId === C.order.id && e.seq === 2));
  const ofd = statuses.filter((e) => e.orderId === A.order.id && e.status === 'out_for_delivery');
  assert.equal(ofd.length, 1, 'a staff socket in order-<id> and support must receive the event once');

  staff.close();
  cust.close();
});

test('bad staff tokens are refused at the handshake with a connect_error saying why; no auth connects as customer', async () => {
  // garbage
  await assert.rejects(connect(srv, { auth: { token: 'garbage.not-a-token' }, reconnection: false }), (err) => {
    assert.ok(err.message && !/xhr poll error|websocket error|timeout/i.test(err.message), `message: ${err.message}`);
    assert.match(err.message, /token|invalid|malformed|signature|unauthori[sz]ed/i);
    return true;
  });
  // signed with another secret
  const foreign = await staffToken({ dataDir: srv.dataDir, secret: 'some-other-secret-entirely-0123456789' }, 'support', 'Mallory');
  await assert.rejects(connect(srv, { auth: { token: foreign }, reconnection: false }), (err) => {
    assert.match(err.message, /token|invalid|signature|unauthori[sz]ed/i);
    return true;
  });

  // expired: a negative ttl if the CLI allows it, else 1s and wait for the refusal
  let expired;
  let waitsForExpiry = false;
  try {
    expired = await staffToken(srv, 'support', 'Old Timer', '-1h');
  } catch {
    expired = await staffToken(srv, 'support', 'Old Timer', '1s');
    waitsForExpiry = true;
  }
  const refusal = await waitFor(async () => {
    try {
      const s = await connect(srv, { auth: { token: expired }, reconnection: false });
      s.close();
      if (!waitsForExpiry) throw new Error('a token with a negative ttl was accepted');
      return null; // not expired yet: try again
    } catch (err) {
      if (err.message === 'a token with a negative ttl was accepted') throw err;
      return err;
    }
  }, 6000, 'expired staff token refused');
  assert.match(refusal.message, /expired/i, `message: ${refusal.message}`);
  const http = await api(srv, 'GET', '/api/orders', { auth: expired });
  assert.equal(http.status, 401);
  assert.equal(http.body?.error?.code, 'unauthorized');

  // no credentials at all: a customer socket
  const cust = await connect(srv, { auth: {} });
  assert.ok(cust.connected);
  cust.close();
});

test('admin socket receives stats every second', async () => {
  const tok = await staffToken(srv, 'admin', 'Ada Admin', '1h');
  const admin = await connect(srv, { auth: { token: tok } });
  const stats = await waitFor(admin, 'stats', undefined, 3500);
  assert.equal(typeof stats.connections?.websocket, 'number');
  assert.equal(typeof stats.connections?.polling, 'number');
  assert.ok(stats.connections.websocket + stats.connections.polling >= 1);
  assert.ok('rooms' in stats);
  assert.equal(typeof stats.eventsPerSecond, 'number');
  assert.equal(typeof stats.broadcastLatencyMs?.p50, 'number');
  assert.equal(typeof stats.broadcastLatencyMs?.p99, 'number');
  assert.ok('nodes' in stats);
  admin.close();
});

test('SIGKILL and restart on the same port and data dir: the client reconnects by itself and gets what it missed exactly once via since', async (t) => {
  const s = await startServer();
  const { order, trackingToken } = await createOrder(s, { customer: 'Rita Restart' });
  const seen = []; // every seq that reached the client, from acks and live events, in arrival order
  const subs = []; // one entry per (re)subscribe: {since, err, ack}
  let lastSeq = 0;
  const note = (ev) => { if (ev.orderId === order.id) { seen.push(ev.seq); lastSeq = Math.max(lastSeq, ev.seq); } };
  // A fixed 1 s reconnection delay leaves time to restart the server and post
  // while the client is still away.
  const sock = makeSocket(s, { reconnectionDelay: 1000, reconnectionDelayMax: 1000, randomizationFactor: 0 });
  sock.on('connect', () => {
    const payload = { orderId: order.id, token: trackingToken };
    if (lastSeq > 0) payload.since = lastSeq;
    sock.timeout(5000).emit('order:subscribe', payload, (err, ack) => {
      subs.push({ since: payload.since, err, ack });
      if (ack?.ok) ack.events.forEach(note);
    });
  });
  sock.on('order:status', note);
  let reconnects = 0;
  sock.io.on('reconnect', () => { reconnects += 1; });

  await waitFor(() => subs.length === 1);
  assert.equal(subs[0].ack?.ok, true, JSON.stringify(subs[0]));
  assert.equal((await postStatus(s, order.id, 'confirmed')).status, 200);
  await waitFor(() => lastSeq === 2);
  assert.deepEqual(seen, [1, 2]);

  const gone = waitFor(sock, 'disconnect', undefined, 5000);
  await s.kill();
  await gone;
  await s.restart();
  let expect = 3;
  for (const st of ['packed', 'shipped', 'out_for_delivery']) {
    const r = await postStatus(s, order.id, st);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.event.seq, expect++);
  }
  const postedWhileAway = subs.length === 1;
  t.diagnostic(postedWhileAway ? 'all three posted before the client was back: they must come in the since ack'
    : 'the client came back while posting: missed events come from the ack and/or live');
  await waitFor(() => subs.length === 2 && lastSeq === 5, 10_000, 'resubscribed and caught up to seq 5');
  assert.ok(reconnects >= 1, 'the client reconnected by itself');
  assert.equal(subs[1].ack?.ok, true, JSON.stringify(subs[1]));
  assert.equal(subs[1].since, 2);
  if (postedWhileAway) assert.deepEqual(subs[1].ack.events.map((e) => e.seq), [3, 4, 5]);
  assert.deepEqual(seen, [1, 2, 3, 4, 5], 'each event exactly once, none lost');

  // live delivery works again after the resync
  assert.equal((await postStatus(s, order.id, 'delivered')).status, 200);
  await waitFor(() => lastSeq === 6);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  const got = await api(s, 'GET', `/api/orders/${order.id}`);
  assert.equal(got.body.order.status, 'delivered');
  assert.deepEqual(got.body.events.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
  sock.close();
  await s.stop();
});

test('200 order:message emitted back-to-back by one customer socket: all stored and broadcast in the order sent', async () => {
  // The contract's default limit (50/s, burst 100) would refuse half of
  // them; this server allows bursts of 1000 so ordering is what is tested.
  const s = await startServer({ args: ['--socket-burst', '1000'] });
  const { order, trackingToken } = await createOrder(s, { customer: 'Chatty Cathy' });
  const sender = await connect(s);
  const watcher = await connect(s);
  await subscribe(sender, order.id, trackingToken);
  await subscribe(watcher, order.id, trackingToken);
  const seenByWatcher = collect(watcher, 'order:message');
  const disconnects = collect(sender, 'disconnect');

  const N = 200;
  const acks = new Array(N);
  for (let i = 0; i < N; i++) {
    sender.timeout(15_000).emit('order:message', { orderId: order.id, text: `message #${i}` }, (err, ack) => {
      acks[i] = err ? { timeout: err.message } : ack;
    });
  }
  await waitFor(() => acks.filter(Boolean).length === N, 20_000, 'all 200 acks');
  const want = Array.from({ length: N }, (_, i) => i + 2);
  const texts = Array.from({ length: N }, (_, i) => `message #${i}`);
  assert.deepEqual(acks.map((a) => a.ok), new Array(N).fill(true), 'every ack ok');
  assert.deepEqual(acks.map((a) => a.event.seq), want, 'acks carry seq 2..201 in send order');
  const got = await api(s, 'GET', `/api/orders/${order.id}`);
  assert.equal(got.status, 200);
  const msgs = got.body.events.filter((e) => e.type === 'order:message');
  assert.deepEqual(msgs.map((e) => e.seq), want, 'stored as seq 2..201');
  assert.deepEqual(msgs.map((e) => e.text), texts, 'texts stored in the order sent');
  assert.equal(got.body.order.lastSeq, N + 1);
  await waitFor(() => seenByWatcher.length >= N, 10_000, 'watcher received every stored message');
  assert.deepEqual(seenByWatcher.map((e) => e.seq), want, 'broadcast in the order sent');
  assert.deepEqual(seenByWatcher.map((e) => e.text), texts);
  assert.deepEqual(disconnects, []);
  sender.close();
  watcher.close();
  await s.stop();
});

test('rate limit: a burst well over 100 events on one socket gets rate_limited acks, the socket stays connected and recovers', async () => {
  const { order, trackingToken } = await createOrder(srv, { customer: 'Rapid Rick' });
  const sock = await connect(srv);
  const disconnects = collect(sock, 'disconnect');
  const N = 200;
  const acks = new Array(N);
  for (let i = 0; i < N; i++) {
    sock.timeout(15_000).emit('order:subscribe', { orderId: order.id, token: trackingToken }, (err, ack) => {
      acks[i] = err ? { timeout: err.message } : ack;
    });
  }
  await waitFor(() => acks.filter(Boolean).length === N, 20_000, 'all acks');
  const ok = acks.filter((a) => a.ok === true).length;
  const limited = acks.filter((a) => a.ok === false && a.error?.code === 'rate_limited').length;
  assert.equal(ok + limited, N, JSON.stringify(acks.find((a) => a.ok !== true && a.error?.code !== 'rate_limited')));
  assert.ok(limited > 0, 'contract: 50 events/s with bursts of 100, beyond that acks say rate_limited');
  assert.ok(ok >= 90, `only ${ok} accepted; a burst of 100 must be allowed`);
  // tokens refill: a later subscribe succeeds again on the same socket
  await waitFor(async () => (await emitAck(sock, 'order:subscribe', { orderId: order.id, token: trackingToken })).ok === true,
    5000, 'rate limit recovers', 200);
  assert.deepEqual(disconnects, []);
  sock.close();
});

test('malformed payloads get a bad_request ack (or are ignored without an ack); socket and server stay usable', async () => {
  const { order, trackingToken } = await createOrder(srv, { customer: 'Mal Formed' });
  const sock = await connect(srv);
  const disconnects = collect(sock, 'disconnect');
  await subscribe(sock, order.id, trackingToken);
  const orderId = order.id;

  const cases = [
    ['order:subscribe', {}],
    ['order:subscribe', { token: trackingToken }],
    ['order:subscribe', { orderId: 42, token: trackingToken }],
    ['order:subscribe', { orderId: { $ne: null }, token: trackingToken }],
    ['order:subscribe', { orderId, token: 42 }],
    ['order:subscribe', { orderId, token: trackingToken, since: 'yesterday' }],
    ['order:subscribe', 42],
    ['order:subscribe', 'order-1'],
    ['order:subscribe', null],
    ['order:subscribe', [orderId, trackingToken]],
    ['order:subscribe', true],
    ['order:subscribe', undefined], // only the ack callback
    ['order:unsubscribe', {}],
    ['order:unsubscribe', 7],
    ['order:unsubscribe', undefined],
    ['order:message', { orderId }],
    ['order:message', { text: 'no order id' }],
    ['order:message', { orderId, text: 42 }],
    ['order:message', { orderId, text: ['a'] }],
    ['order:message', { orderId, text: '' }],
    ['order:message', { orderId, text: '   ' }],
    ['order:message', { orderId, text: 'x'.repeat(2001) }, ['bad_request', 'too_large']],
    ['order:message', 42],
    ['order:message', 'hello'],
    ['order:message', null],
    ['order:message', undefined],
    ['order:message', Buffer.from('binary payload')],
    ['order:update-status', 42, ['bad_request', 'forbidden']],
  ];
  const failures = [];
  for (const [event, payload, codes = ['bad_request']] of cases) {
    let ack;
    try {
      ack = await emitAck(sock, event, payload, 3000);
    } catch (err) {
      failures.push(`${event} ${JSON.stringify(payload)}: ${err.message}`);
      continue;
    }
    if (!ack || ack.ok !== false || !codes.includes(ack.error?.code) || typeof ack.error?.message !== 'string' || !ack.error.message) {
      failures.push(`${event} ${JSON.stringify(payload)?.slice(0, 80)}: ack ${JSON.stringify(ack)?.slice(0, 200)}, want ok:false code ${codes.join('|')} with a message`);
    }
  }
  // Without an ack callback: no reply, nothing breaks.
  sock.emit('order:subscribe', 42);
  sock.emit('order:subscribe');
  sock.emit('order:message', null);
  sock.emit('order:message', { orderId, text: 42 });
  sock.emit('order:update-status', { orderId, status: 'bogus' });
  sock.emit('no:such:event', { orderId });
  sock.emit('no:such:event');


  // Still usable: same socket subscribes, messages, receives.
  const ack = await subscribe(sock, order.id, trackingToken);
  assert.equal(ack.order.lastSeq, 1, 'no malformed message may have been stored');
  const got = waitFor(sock, 'order:status', (e) => e.orderId === order.id && e.seq === 2);
  assert.equal((await postStatus(srv, order.id, 'confirmed')).status, 200);
  await got;
  const m = await emitAck(sock, 'order:message', { orderId, text: 'still here' });
  assert.equal(m.ok, true, JSON.stringify(m));
  assert.deepEqual(disconnects, [], 'the socket must not be disconnected');
  assert.equal((await api(srv, 'GET', '/readyz', { auth: false })).status, 200);
  sock.close();
  assert.deepEqual(failures, [], `malformed payloads not answered with the contract's error ack:\n${failures.join('\n')}`);
});

test('a valid event without an ack callback is handled the same way, with no reply', async () => {
  const { order, trackingToken } = await createOrder(srv, { customer: 'Fire Forget' });
  const a = await connect(srv);
  const b = await connect(srv);
  await subscribe(a, order.id, trackingToken);
  await subscribe(b, order.id, trackingToken);
  a.emit('order:message', { orderId: order.id, text: 'no ack needed' });
  const ev = await waitFor(b, 'order:message', (e) => e.orderId === order.id);
  assert.equal(ev.text, 'no ack needed');
  assert.equal(ev.seq, 2);
  a.close();
  b.close();
});

test('message text counts Unicode code points: 2000 emoji are accepted', async () => {
  const { order, trackingToken } = await createOrder(srv, { customer: 'Emma Emoji' });
  const sock = await connect(srv);
  await subscribe(sock, order.id, trackingToken);
  const text = '\u{1F355}'.repeat(2000); // 2000 code points, 4000 UTF-16 units, 8000 bytes
  const ack = await emitAck(sock, 'order:message', { orderId: order.id, text });
  assert.equal(ack.ok, true, JSON.stringify(ack)?.slice(0, 300));
  assert.equal(ack.event.text, text);
  sock.close();
});

test('unsubscribe stops delivery; unsubscribing from an order one is not subscribed to is ok', async () => {
  const A = await createOrder(srv, { customer: 'Una Unsub' });
  const C = await createOrder(srv, { customer: 'Carl Control' });
  const sock = await connect(srv);
  const events = collect(sock, 'order:status');
  await subscribe(sock, A.order.id, A.trackingToken);
  await subscribe(sock, C.order.id, C.trackingToken);
  assert.equal((await postStatus(srv, A.order.id, 'confirmed')).status, 200);
  await waitFor(() => events.find((e) => e.orderId === A.order.id && e.seq === 2));

  const un = await emitAck(sock, 'order:unsubscribe', { orderId: A.order.id });
  assert.equal(un.ok, true, JSON.stringify(un));
  assert.equal((await postStatus(srv, A.order.id, 'packed')).status, 200);
  assert.equal((await postStatus(srv, C.order.id, 'confirmed')).status, 200);
  await waitFor(() => events.find((e) => e.orderId === C.order.id && e.seq === 2));
  assert.equal(events.filter((e) => e.orderId === A.order.id && e.seq === 3).length, 0, 'no delivery after unsubscribe');

  // Not subscribed (again, never, or no such order): ok.
  for (const orderId of [A.order.id, 'never-subscribed-order', 'no-such-order-xyz']) {
    const r = await emitAck(sock, 'order:unsubscribe', { orderId });
    assert.equal(r.ok, true, `${orderId}: ${JSON.stringify(r)}`);
  }
  // re-subscribe with since brings back what was missed
  const again = await subscribe(sock, A.order.id, A.trackingToken, 2);
  assert.deepEqual(again.events.map((e) => e.seq), [3]);
  sock.close();
});

test('an emit sent synchronously in the connect handler is never dropped (50 connects, all transports)', async () => {
  const { order, trackingToken } = await createOrder(srv, { customer: 'Quick Draw' });
  const modes = [undefined, ['polling'], ['websocket']];
  for (let i = 0; i < 50; i++) {
    const transports = modes[i % modes.length];
    const sock = makeSocket(srv, { autoConnect: false, reconnection: false, ...(transports ? { transports } : {}) });
    const acked = new Promise((resolve, reject) => {
      sock.on('connect', () => {
        sock.timeout(5000).emit('order:subscribe', { orderId: order.id, token: trackingToken }, (err, ack) => (err ? reject(err) : resolve(ack)));
      });
      sock.on('connect_error', reject);
    });
    sock.connect();
    let ack;
    try {
      ack = await acked;
    } catch (err) {
      assert.fail(`connect #${i} (${transports ?? 'default'}): ${err.message}`);
    }
    assert.equal(ack.ok, true, `connect #${i}: ${JSON.stringify(ack)}`);
    assert.equal(ack.order.id, order.id);
    sock.close();
  }
});

test('subscribe then message, both emitted synchronously on connect: handled in order (20 connects)', async () => {
  const { order, trackingToken } = await createOrder(srv, { customer: 'Order Keeper' });
  for (let i = 0; i < 20; i++) {
    const transports = i % 2 ? ['websocket'] : undefined;
    const sock = makeSocket(srv, { autoConnect: false, reconnection: false, ...(transports ? { transports } : {}) });
    const acks = new Promise((resolve, reject) => {
      sock.on('connect', () => {
        const sub = sock.timeout(5000).emitWithAck('order:subscribe', { orderId: order.id, token: trackingToken });
        const msg = sock.timeout(5000).emitWithAck('order:message', { orderId: order.id, text: `hello ${i}` });
        Promise.all([sub, msg]).then(resolve, reject);
      });
      sock.on('connect_error', reject);
    });
    sock.connect();
    const [sub, msg] = await acks;
    assert.equal(sub.ok, true, `#${i} subscribe: ${JSON.stringify(sub)}`);
    assert.equal(msg.ok, true, `#${i} message: ${JSON.stringify(msg)}`);
    assert.equal(msg.event.text, `hello ${i}`);
    sock.close();
  }
  const got = await api(srv, 'GET', `/api/orders/${order.id}`);
  assert.deepEqual(got.body.events.map((e) => e.seq), Array.from({ length: 21 }, (_, k) => k + 1));
});

test('SIGTERM with connected clients (websocket and polling): the server exits promptly and cleanly', async () => {
  const s = await startServer();
  const ws = await connect(s, { transports: ['websocket'], reconnection: false });
  const poll = await connect(s, { transports: ['polling'], reconnection: false });
  const wsGone = waitFor(ws, 'disconnect', undefined, 5000);
  const pollGone = waitFor(poll, 'disconnect', undefined, 5000);
  const t0 = Date.now();
  s.proc.kill('SIGTERM');
  const exited = await waitFor(() => s.exited, 5000, 'server exit within 5 s of SIGTERM (with a websocket client connected)').catch((err) => err);
  if (exited instanceof Error) {
    await s.kill();
    assert.fail(`${exited.message}; still running after ${Date.now() - t0} ms, SIGKILLed`);
  }
  assert.equal(exited.code, 0, JSON.stringify(exited));
  await wsGone;
  await pollGone;
  assert.ok(/listening/.test(s.logs()), 'the ready line says listening');
});
