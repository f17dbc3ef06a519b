// One order's live events reach every subscriber in ascending seq with no
// gap, also when two writers (on one process, or on two) write to the order
// in the same tick, and when a process dies between its commit and its
// broadcast. The followers are plain stock socket.io-client sockets that do
// nothing but record what arrives (no gap filling, no resubscribe).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, createOrder, postStatus, connect, staffToken, emitAck, subscribe, cleanup, waitFor,
} from './harness.mjs';
import { need, tool, postgres, pgSchema, redisAt, SHARED_REDIS, startCluster, waitUntil } from './cluster-harness.mjs';

after(cleanup);

const FAST = ['--socket-rate', '100000', '--socket-burst', '100000', '--http-rate-per-ip', '0'];
const MODES = [['websocket'], ['polling'], undefined]; // undefined: the default (polling, then upgrade)

/**
 * A plain follower of one order: it subscribes once and records the seq of
 * every live order:status and order:message of that order.
 */
async function plainFollower(server, orderId, token, transports) {
  const sock = await connect(server, transports ? { transports } : {});
  const live = [];
  const record = (e) => { if (e.orderId === orderId) live.push(e.seq); };
  sock.on('order:status', record);
  sock.on('order:message', record);
  const ack = await subscribe(sock, orderId, token);
  const from = ack.order.lastSeq;
  return { sock, orderId, from, live, mode: transports?.join('+') ?? 'default' };
}

/** A staff socket in support recording every live event, per order. */
async function staffFollower(server, name) {
  const sock = await connect(server, { auth: { token: await staffToken(server, 'support', name) } });
  const live = new Map();
  const record = (e) => {
    if (!live.has(e.orderId)) live.set(e.orderId, []);
    live.get(e.orderId).push(e.seq);
  };
  sock.on('order:status', record);
  sock.on('order:message', record);
  return { sock, live };
}

/**
 * Every live seq after `from`, in arrival order, must be from+1, from+2, …
 * up to `last`: ascending, none skipped. Seqs up to `from` (which the
 * subscribe ack carried) may come again and are dropped, as the contract's
 * rule for a plain client says.
 */
function assertInOrder(seqs, from, last, who) {
  const after = seqs.filter((s) => s > from);
  const want = Array.from({ length: last - from }, (_, i) => from + 1 + i);
  const firstBad = after.findIndex((s, i) => s !== want[i]);
  assert.ok(firstBad === -1 && after.length === want.length,
    `${who}: live seqs out of order or missing at #${firstBad} (got ${after.slice(Math.max(0, firstBad - 3), firstBad + 3)}, ` +
    `want ${want.slice(Math.max(0, firstBad - 3), firstBad + 3)}; ${after.length} of ${want.length})`);
}

/**
 * Two writers per order send order:message in the same tick, `rounds`
 * times, with a status change now and then; resolves to each order's last
 * seq.
 */
async function twoWriters(orders, writersFor, rounds, statusServer) {
  const lasts = new Map();
  await Promise.all(orders.map(async ({ order }) => {
    const [a, b] = writersFor(order.id);
    const statuses = ['confirmed', 'packed', 'shipped'];
    let last = order.lastSeq;
    for (let r = 0; r < rounds; r++) {
      const acks = [
        emitAck(a, 'order:message', { orderId: order.id, text: `a ${r}` }),
        emitAck(b, 'order:message', { orderId: order.id, text: `b ${r}` }),
      ];
      if (r % 100 === 50 && statuses.length) acks.push(postStatus(statusServer, order.id, statuses.shift()).then((res) => res.body));
      for (const ack of await Promise.all(acks)) {
        assert.equal(ack.ok ?? true, true, JSON.stringify(ack));
        last = Math.max(last, ack.event.seq);
      }
    }
    lasts.set(order.id, last);
  }));
  return lasts;
}

async function runScenario(servers, writersPerServer) {
  const [P1, P2] = [servers[0], servers[servers.length - 1]];
  const orders = [];
  for (let i = 0; i < 3; i++) orders.push(await createOrder(P1, { customer: `Olive Order ${i}` }));
  const followers = [];
  for (const { order, trackingToken } of orders) {
    for (const srv of servers) {
      for (const mode of MODES) {
        for (let k = 0; k < 2; k++) followers.push(await plainFollower(srv, order.id, trackingToken, mode));
      }
    }
  }
  const staff = await Promise.all(servers.map((srv, i) => staffFollower(srv, `Watcher ${i}`)));
  const staffFrom = new Map(orders.map(({ order }) => [order.id, order.lastSeq]));
  const writers = new Map();
  for (const { order } of orders) {
    const a = await connect(writersPerServer[0], { auth: { token: await staffToken(P1, 'support', 'Writer A') } });
    const b = await connect(writersPerServer[1], { auth: { token: await staffToken(P1, 'support', 'Writer B') } });
    writers.set(order.id, [a, b]);
  }
  const lasts = await twoWriters(orders, (id) => writers.get(id), 300, P2);

  // Everything has arrived once every follower has the order's last seq.
  await waitUntil(() => followers.every((f) => f.live.includes(lasts.get(f.orderId))), 30_000, 'every follower has the last seq');
  await waitUntil(() => staff.every((s) => orders.every(({ order }) => (s.live.get(order.id) ?? []).includes(lasts.get(order.id)))),
    30_000, 'every staff follower has the last seq');
  for (const f of followers) {
    assertInOrder(f.live, f.from, lasts.get(f.orderId), `follower of ${f.orderId} (${f.mode}) on ${f.sock.io.uri}`);
  }
  for (const [i, s] of staff.entries()) {
    for (const { order } of orders) {
      assertInOrder(s.live.get(order.id), staffFrom.get(order.id), lasts.get(order.id), `support room on process ${i + 1}, order ${order.id}`);
    }
  }
  let pushes = followers.reduce((n, f) => n + f.live.length, 0);
  pushes += staff.reduce((n, s) => n + [...s.live.values()].reduce((m, l) => m + l.length, 0), 0);
  return pushes;
}

test('two writers on one process, 300 simultaneous pairs per order: every plain follower gets strictly ascending seqs, no gap', { timeout: 180_000 }, async () => {
  const srv = await startServer({ args: FAST });
  const pushes = await runScenario([srv], [srv, srv]);
  assert.ok(pushes > 3 * 600 * 6, `${pushes} pushes checked`);
});

const skipCluster = (await need(tool('psql'), postgres(), redisAt(SHARED_REDIS))) ?? false;

test('two writers on two processes (PostgreSQL + Redis): every plain follower on both, in every transport mode, gets strictly ascending seqs', { skip: skipCluster, timeout: 240_000 }, async () => {
  const { servers } = await startCluster(2, { databaseUrl: pgSchema(), redisUrl: SHARED_REDIS, args: FAST });
  const pushes = await runScenario(servers, servers);
  assert.ok(pushes > 3 * 600 * 12, `${pushes} pushes checked`);
});

test('a process killed between its commit and its broadcast: live subscribers elsewhere still get that event, in order', { skip: skipCluster, timeout: 60_000 }, async () => {
  const crash = 'crash between commit and broadcast';
  const { servers: [P1, P2] } = await startCluster(2, {
    databaseUrl: pgSchema(), redisUrl: SHARED_REDIS, args: FAST,
    env: [{ ORDERCAST_TEST_CRASH_BEFORE_PUBLISH: crash }, {}],
  });
  const { order, trackingToken } = await createOrder(P2, { customer: 'Kim Killed' });
  const followers = [];
  for (const mode of MODES) followers.push(await plainFollower(P2, order.id, trackingToken, mode));
  const staff = await staffFollower(P2, 'Watcher');

  const onP1 = await connect(P1, { auth: { token: await staffToken(P1, 'support', 'Doomed') } });
  const died = P1.exitPromise;
  onP1.emit('order:message', { orderId: order.id, text: crash }); // stored as seq 2, never published
  assert.equal((await died).code, 137, 'the fault point ended process 1');

  const onP2 = await connect(P2, { auth: { token: await staffToken(P2, 'support', 'Survivor') } });
  const ack = await emitAck(onP2, 'order:message', { orderId: order.id, text: 'after the crash' });
  assert.equal(ack.event.seq, 3, 'seq 2 was committed by process 1');
  await waitUntil(() => followers.every((f) => f.live.includes(3)), 10_000, 'followers have seq 3');
  for (const f of followers) assert.deepEqual(f.live, [2, 3], `follower (${f.mode})`);
  await waitFor(() => (staff.live.get(order.id) ?? []).includes(3), 10_000, 'staff has seq 3');
  assert.deepEqual(staff.live.get(order.id), [2, 3], 'support room');
});
