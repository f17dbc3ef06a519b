// Safe retries and token reissue (contract 0.2) against the real binary:
// a retry across a SIGKILL and restart, a retry on another process while
// the first try is in flight, and a reissue on one process cutting off a
// socket and an SSE stream on another. Bad input gets contract codes,
// never a 5xx, and nothing is stored twice.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  startServer, api, httpLog, connect, waitFor, collect, emitAck, subscribe, cleanup,
} from './harness.mjs';
import { checkHTTP } from './contract.mjs';
import {
  need, tool, postgres, redisAt, SHARED_REDIS, pgSchema, startCluster, rand, readSSE,
} from './cluster-harness.mjs';

after(cleanup);

// Resolved before any test is declared, so that the runner sees them all.
const clusterSkip = await need(tool('psql'), postgres(), redisAt(SHARED_REDIS));

const orderBody = (id, customer = 'Ida Idempotent') => ({ id, customer, items: [{ name: 'Tea', qty: 2 }], total: 1250 });
const withKey = (key, o = {}) => ({ ...o, headers: { ...(o.headers ?? {}), 'Idempotency-Key': key } });

async function eventCount(server, id) {
  const r = await api(server, 'GET', `/api/orders/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.body.events.length;
}

/** p, or a rejection naming what when it does not settle within ms. */
function within(p, ms, what) {
  let t;
  const deadline = new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms); });
  return Promise.race([p, deadline]).finally(() => clearTimeout(t));
}

/**
 * The cut-off socket left the order's room: a change posted on writer
 * reaches a new subscriber (with the new token) on `on` as seq, and by
 * then the same broadcast did not reach the cut-off socket's statuses.
 */
async function assertLeftRoom({ on, writer, id, token, status, seq, cutOff }) {
  const fresh = await connect(on);
  const got = collect(fresh, 'order:status');
  await subscribe(fresh, id, token);
  assert.equal((await api(writer, 'POST', `/api/orders/${id}/status`, { body: { status } })).status, 200);
  await waitFor(() => got.some((e) => e.seq === seq), 10_000, 'the new token follows the order');
  assert.deepEqual(cutOff.filter((e) => e.seq === seq), [], 'the cut-off socket still got events');
}

function assertError(res, status, code, what) {
  assert.equal(res.status, status, `${what}: HTTP ${res.status} ${res.text}`);
  assert.equal(res.body?.error?.code, code, `${what}: ${res.text}`);
}

test('a retry across a SIGKILL and restart replays the first answer and stores nothing twice', async () => {
  const srv = await startServer();
  const id = `IDEM-${rand()}`;
  const key = `create-${rand()}`;
  const first = await api(srv, 'POST', '/api/orders', withKey(key, { body: orderBody(id) }));
  assert.equal(first.status, 201, first.text);
  assert.equal(first.headers.get('idempotent-replayed'), null);
  const moved = await api(srv, 'POST', `/api/orders/${id}/status`, withKey(`move-${rand()}`, { body: { status: 'confirmed' } }));
  assert.equal(moved.status, 200, moved.text);

  await srv.kill(); // the responses were "lost"
  // No tracking token at rest in plain text, kept responses included.
  for (const f of ['ordercast.db', 'ordercast.db-wal']) {
    const p = path.join(srv.dataDir, f);
    if (existsSync(p)) assert.ok(!readFileSync(p).includes(first.body.trackingToken), `${f} holds the tracking token in plain text`);
  }
  await srv.restart();

  const again = await api(srv, 'POST', '/api/orders', withKey(key, { body: orderBody(id) }));
  assert.equal(again.status, 201, again.text);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal(again.body.trackingToken, first.body.trackingToken);
  assert.deepEqual(again.body, first.body);
  assert.equal(await eventCount(srv, id), 2, 'placed and confirmed, nothing more');
  // The replayed token works.
  assert.equal((await api(srv, 'GET', `/api/orders/${id}?token=${first.body.trackingToken}`, { auth: false })).status, 200);
});

test('bad input gets contract codes, never a 5xx; a burst of retries stores one order', async () => {
  const srv = await startServer();
  const id = `BAD-${rand()}`;
  for (const [key, what] of [['', 'empty'], ['has space', 'space'], ['k'.repeat(256), '256 characters'], ['caf\u00e9', 'not ASCII']]) {
    let res;
    try {
      res = await api(srv, 'POST', '/api/orders', withKey(key, { body: orderBody(id) }));
    } catch (err) {
      if (what === 'not ASCII') continue; // fetch refuses to send it: never reaches a server
      throw err;
    }
    assertError(res, 400, 'bad_request', `key ${what}`);
  }
  const key = `burst-${rand()}`;
  const burst = await Promise.all(Array.from({ length: 12 }, () => api(srv, 'POST', '/api/orders', withKey(key, { body: orderBody(id) }))));
  const created = burst.filter((r) => r.status === 201);
  assert.ok(created.length >= 1, burst.map((r) => r.status).join(','));
  for (const r of burst) {
    if (r.status !== 201) assertError(r, 409, 'idempotency_in_progress', 'burst retry');
  }
  assert.equal(new Set(created.map((r) => r.body.trackingToken)).size, 1, 'one token for every answer');
  assert.equal(await eventCount(srv, id), 1);

  assertError(await api(srv, 'POST', '/api/orders', withKey(key, { body: { ...orderBody(id), total: 1 } })), 422, 'idempotency_mismatch', 'reused key, other body');
  assertError(await api(srv, 'POST', `/api/orders/${id}/status`, withKey(key, { body: { status: 'confirmed' } })), 422, 'idempotency_mismatch', 'reused key, other path');
  assertError(await api(srv, 'POST', '/api/orders/NOPE/tracking-token', withKey(`re-${rand()}`)), 404, 'not_found', 'reissue for an unknown order');
  assertError(await api(srv, 'POST', '/api/orders', withKey(`dup-${rand()}`, { body: orderBody(id) })), 409, 'duplicate', 'new key, existing id');
  assert.equal(await eventCount(srv, id), 1, 'nothing stored twice');
  assert.deepEqual(httpLog.filter((r) => r.status >= 500), []);
});

test('a socket recovered after its token was replaced is cut off as it reconnects', async () => {
  const srv = await startServer(); // connection state recovery is on by default
  const id = `REC-${rand()}`;
  const created = await api(srv, 'POST', '/api/orders', { body: orderBody(id) });
  assert.equal(created.status, 201, created.text);
  const sock = await connect(srv, { transports: ['websocket'], reconnection: false });
  const statuses = collect(sock, 'order:status');
  const revoked = collect(sock, 'order:access-revoked');
  await subscribe(sock, id, created.body.trackingToken);
  // One broadcast gives the client an offset to recover from.
  assert.equal((await api(srv, 'POST', `/api/orders/${id}/status`, { body: { status: 'confirmed' } })).status, 200);
  await waitFor(() => statuses.some((e) => e.seq === 2), 10_000, 'seq 2 before the drop');

  const gone = waitFor(sock, 'disconnect', () => true, 10_000);
  sock.io.engine.close();
  await gone;
  const re = await api(srv, 'POST', `/api/orders/${id}/tracking-token`);
  assert.equal(re.status, 200, re.text);
  const back = waitFor(sock, 'connect', () => true, 10_000);
  sock.connect();
  await back;
  assert.equal(sock.recovered, true, 'the connection state was recovered');
  await waitFor(() => revoked.length > 0, 10_000, 'order:access-revoked after recovery');
  assert.deepEqual(revoked, [{ orderId: id }]);

  await assertLeftRoom({ on: srv, writer: srv, id, token: re.body.trackingToken, status: 'packed', seq: 3, cutOff: statuses });
});

test('two processes: a retry on B while A runs is in progress, then replayed; a reissue on A cuts off B', { skip: clusterSkip ?? false }, async () => {
  const hold = `Hold ${rand()}`;
  const { servers: [a, b] } = await startCluster(2, {
    databaseUrl: pgSchema(), redisUrl: SHARED_REDIS, env: [{ ORDERCAST_TEST_HOLD_CREATED: hold }, {}],
  });

  // In flight on A (held after its commit, before its broadcast).
  const id = `HOLD-${rand()}`;
  const key = `held-${rand()}`;
  const pending = api(a, 'POST', '/api/orders', withKey(key, { body: orderBody(id, hold), timeoutMs: 60_000 }));
  await waitFor(() => a.logs().includes('fault: holding'), 15_000, 'A holds the request');
  assertError(await api(b, 'POST', '/api/orders', withKey(key, { body: orderBody(id, hold) })), 409, 'idempotency_in_progress', 'retry on B');
  a.proc.kill('SIGUSR1');
  const first = await pending;
  assert.equal(first.status, 201, first.text);
  const replay = await api(b, 'POST', '/api/orders', withKey(key, { body: orderBody(id, hold) }));
  assert.equal(replay.status, 201, replay.text);
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(replay.body, first.body);
  assert.equal(await eventCount(b, id), 1);

  // A customer follows the order on B: a socket and an SSE stream.
  const old = first.body.trackingToken;
  const sock = await connect(b);
  const revoked = collect(sock, 'order:access-revoked');
  const statuses = collect(sock, 'order:status');
  await subscribe(sock, id, old);
  const stream = await readSSE(`${b.url}/api/orders/${id}/stream?token=${old}`);
  await waitFor(() => stream.events.length > 0, 10_000, 'the first SSE event on B');

  const re = await api(a, 'POST', `/api/orders/${id}/tracking-token`, withKey(`re-${rand()}`));
  assert.equal(re.status, 200, re.text);
  assert.notEqual(re.body.trackingToken, old);
  await waitFor(() => revoked.length > 0, 10_000, 'order:access-revoked on B');
  assert.deepEqual(revoked, [{ orderId: id }]);
  await within(stream.ended, 10_000, 'the SSE stream with the old token ends on B');

  await assertLeftRoom({ on: b, writer: a, id, token: re.body.trackingToken, status: 'confirmed', seq: 2, cutOff: statuses });

  // The old token opens nothing, on either process.
  for (const srv of [a, b]) {
    assertError(await api(srv, 'GET', `/api/orders/${id}?token=${old}`, { auth: false }), 403, 'forbidden', 'read with the old token');
    const ssePath = `/api/orders/${id}/stream?token=${old}`;
    const sse = await fetch(srv.url + ssePath);
    const text = await sse.text();
    checkHTTP({ method: 'GET', path: ssePath, status: sse.status, headers: sse.headers, text });
    assert.equal(sse.status, 403, text);
  }
  const ack = await emitAck(sock, 'order:subscribe', { orderId: id, token: old });
  assert.equal(ack.ok, false);
  assert.equal(ack.error.code, 'forbidden');
  assert.deepEqual(httpLog.filter((r) => r.status >= 500), []);
});
