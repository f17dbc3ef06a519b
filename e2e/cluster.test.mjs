// Several ordercast processes sharing one PostgreSQL schema and one Redis
// (a private redis-server, so the last test can stop it): broadcasts, SSE,
// stats and seq allocation span the processes, a killed process loses no
// event for clients that fail over, and a Redis outage degrades, then heals.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  createOrder, postStatus, connect, staffToken, waitFor, emitAck, subscribe, api, httpLog, cleanup,
} from './harness.mjs';
import {
  need, tool, postgres, pgSchema, privateRedis, startCluster, follow, readSSE, oneTo, waitUntil,
} from './cluster-harness.mjs';

after(cleanup);

const skip = (await need(tool('psql'), tool('redis-server'), postgres())) ?? false;
let redis;
let P1;
let P2;
let P3;
if (!skip) {
  redis = await privateRedis();
  ({ servers: [P1, P2, P3] } = await startCluster(3, { databaseUrl: pgSchema(), redisUrl: redis.url }));
}

const readyz = async (srv) => {
  const res = await fetch(`${srv.url}/readyz`, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: await res.json() };
};

const STATUS_KEYS = ['at', 'by', 'note', 'orderId', 'seq', 'status', 'type'];

test('a status posted to process 2 reaches a subscriber on process 1 with the contract payload', { skip }, async () => {
  const { order, trackingToken } = await createOrder(P1, { customer: 'Cleo Cluster' });
  const sock = await connect(P1);
  await subscribe(sock, order.id, trackingToken);
  const got = waitFor(sock, 'order:status', (e) => e.seq === 2);
  const res = await postStatus(P2, order.id, 'confirmed', 'posted to process 2');
  assert.equal(res.status, 200, res.text);
  const ev = await got;
  assert.deepEqual(Object.keys(ev).sort(), STATUS_KEYS);
  assert.deepEqual(ev, res.body.event);
  assert.equal(ev.status, 'confirmed');
  assert.equal(ev.note, 'posted to process 2');
  assert.equal(ev.by, 'service');
  sock.close();
});

test('a staff socket on process 3 sees order:created from process 1, then its status from process 2', { skip }, async () => {
  const staff = await connect(P3, { auth: { token: await staffToken(P3, 'support', 'Sam Support') } });
  const id = `cross-${Date.now()}`;
  const created = waitFor(staff, 'order:created', (p) => p.order?.id === id);
  const body = await createOrder(P1, { id, customer: 'Nina Node', items: [{ name: 'Tea', qty: 3 }], total: 1250 });
  const p = await created;
  assert.deepEqual(p.order, body.order);
  assert.equal(p.order.total, 1250);
  assert.deepEqual(p.order.items, [{ name: 'Tea', qty: 3 }]);

  const status = waitFor(staff, 'order:status', (e) => e.orderId === id && e.seq === 2);
  const res = await postStatus(P2, id, 'confirmed');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(await status, res.body.event);
  staff.close();
});

test('an SSE stream on process 2 gets events posted to process 1', { skip }, async () => {
  const { order, trackingToken } = await createOrder(P3);
  const stream = await readSSE(`${P2.url}/api/orders/${order.id}/stream?token=${trackingToken}`);
  await waitFor(() => stream.events.length === 1, 5000, 'the SSE timeline (seq 1)');
  const res = await postStatus(P1, order.id, 'confirmed', 'via process 1');
  assert.equal(res.status, 200, res.text);
  await waitFor(() => stream.events.length === 2, 5000, 'seq 2 on the SSE stream of process 2');
  assert.deepEqual(stream.events.map((e) => Number(e.id)), [1, 2]);
  assert.equal(stream.events[1].event, 'order:status');
  assert.deepEqual(stream.events[1].data, res.body.event);
  stream.close();
});

test('stats on an admin socket of process 3 sum every process, once per second', { skip }, async () => {
  const customers = [await connect(P1), await connect(P1), await connect(P2)];
  const admin = await connect(P3, { auth: { token: await staffToken(P3, 'admin', 'Ada Admin') } });
  const total = (s) => s.connections.websocket + s.connections.polling;
  // P3 alone has one socket (the admin): 4 or more means the others count.
  const first = await waitFor(admin, 'stats', (s) => s.nodes === 3 && total(s) >= 4, 6000);
  assert.equal(typeof first.eventsPerSecond, 'number');
  // Each process emits the merged figures to its own admin sockets only:
  // one stats a second, not one per process (two gaps both over 600 ms
  // can't happen with three emitters sharing a second).
  const at = [Date.now()];
  for (let i = 0; i < 2; i++) {
    await waitFor(admin, 'stats', () => true, 3000);
    at.push(Date.now());
  }
  const gaps = [at[1] - at[0], at[2] - at[1]];
  assert.ok(gaps.every((g) => g > 600), `stats gaps ${gaps} ms: duplicates from other processes`);
  for (const s of [admin, ...customers]) s.close();
});

test('concurrent writers on three processes get unique, gap-free seqs', { skip }, async () => {
  const { order } = await createOrder(P1);
  const token = await staffToken(P1, 'support', 'Writer');
  const writers = await Promise.all([P1, P2, P3].map((p) => connect(p, { auth: { token } })));
  const perWriter = 15;
  const acks = await Promise.all(writers.flatMap((w, wi) => Array.from({ length: perWriter },
    (_, i) => emitAck(w, 'order:message', { orderId: order.id, text: `w${wi} #${i}` }, 10_000))));
  assert.ok(acks.every((a) => a.ok === true), JSON.stringify(acks.find((a) => !a.ok)));
  const seqs = acks.map((a) => a.event.seq).sort((a, b) => a - b);
  assert.deepEqual(seqs, oneTo(3 * perWriter + 1).slice(1));
  const res = await api(P2, 'GET', `/api/orders/${order.id}`);
  assert.deepEqual(res.body.events.map((e) => e.seq), oneTo(3 * perWriter + 1));
  assert.equal(res.body.order.lastSeq, 3 * perWriter + 1);
  for (const w of writers) w.close();
});

test('killing process 2 loses no event for clients that fail over to another process', { skip }, async () => {
  const { order, trackingToken } = await createOrder(P1);
  const list = [P1, P2, P3];
  // On process 2, one default client (WebSocket after upgrade) and one
  // polling-only; each moves on to process 3 when process 2 goes away.
  const followers = [
    follow(list, order.id, trackingToken, { failover: true, start: 1 }),
    follow(list, order.id, trackingToken, { failover: true, start: 1, transports: ['polling'] }),
  ];
  const writer = await connect(P1, { auth: { token: await staffToken(P1, 'support', 'Kai') } });
  const say = async (n) => {
    for (let i = 0; i < n; i++) {
      const ack = await emitAck(writer, 'order:message', { orderId: order.id, text: `update ${i}` });
      assert.equal(ack.ok, true, JSON.stringify(ack));
    }
  };
  await say(5);
  await waitUntil(() => followers.every((f) => f.seqs.length === 6), 5000, 'followers on process 2 have seq 1..6',
    () => JSON.stringify(followers.map((f) => f.seqs)));
  await P2.kill();
  await say(10); // some of these are published while the followers move
  await waitUntil(() => followers.every((f) => f.seqs.length >= 16), 10_000, 'followers reach seq 16',
    () => JSON.stringify(followers.map((f) => f.seqs)));
  for (const f of followers) {
    assert.deepEqual(f.seqs, oneTo(16), 'every event once, in order');
    assert.ok(f.failovers >= 1);
    assert.equal(f.at, 2, 'now served by process 3');
    f.close();
  }
  writer.close();
});

test('Redis outage: each process serves its own sockets, /readyz says degraded, then all resync by seq', { skip }, async () => {
  const { order, trackingToken } = await createOrder(P1);
  const onP1 = follow([P1], order.id, trackingToken);
  const onP3 = follow([P3], order.id, trackingToken);
  const sseP3 = await readSSE(`${P3.url}/api/orders/${order.id}/stream?token=${trackingToken}`);
  await waitFor(() => onP1.seqs.length === 1 && onP3.seqs.length === 1 && sseP3.events.length === 1, 5000, 'seq 1 everywhere');

  await redis.stop();
  for (const p of [P1, P3]) {
    const r = await waitFor(async () => { const x = await readyz(p); return x.status === 503 && x; }, 5000, `${p.url}/readyz degraded`);
    assert.equal(r.body.status, 'degraded');
    assert.notEqual(r.body.checks.redis, 'ok');
    assert.match(r.body.checks.redis, /unreachable/);
    assert.equal(r.body.checks.store, 'ok');
  }
  // Process 1 keeps serving its own sockets.
  const res = await postStatus(P1, order.id, 'confirmed', 'while Redis is down');
  assert.equal(res.status, 200, res.text);
  const packed = await postStatus(P1, order.id, 'packed');
  assert.equal(packed.status, 200, packed.text);
  await waitFor(() => onP1.seqs.length === 3, 5000, 'the subscriber on process 1 gets seq 2, 3 during the outage');

  await redis.start();
  for (const p of [P1, P3]) {
    await waitFor(async () => (await readyz(p)).status === 200, 10_000, `${p.url}/readyz ready again`);
  }
  // Process 3 never heard seq 2, 3: its subscribers resync from the store.
  await waitUntil(() => onP3.seqs.length === 3 && sseP3.events.length === 3, 10_000, 'process 3 resyncs',
    () => `socket ${JSON.stringify(onP3.seqs)}, SSE ${sseP3.events.map((e) => e.id)}`);
  assert.deepEqual(onP3.seqs, [1, 2, 3]);
  assert.deepEqual(sseP3.events.map((e) => Number(e.id)), [1, 2, 3]);
  assert.equal(onP3.events[1].note, 'while Redis is down');

  // And broadcasts cross processes again.
  const again = await postStatus(P3, order.id, 'shipped');
  assert.equal(again.status, 200, again.text);
  await waitUntil(() => onP1.seqs.length === 4 && onP3.seqs.length === 4, 5000, 'seq 4 on both processes',
    () => JSON.stringify({ p1: onP1.seqs, p3: onP3.seqs, p1connected: onP1.sock.connected, p3connected: onP3.sock.connected }));
  assert.deepEqual(onP1.seqs, oneTo(4));
  onP1.close();
  onP3.close();
  sseP3.close();
});

test('no request of this suite got a 5xx', { skip }, () => {
  assert.deepEqual(httpLog.filter((r) => r.status >= 500), []);
});
