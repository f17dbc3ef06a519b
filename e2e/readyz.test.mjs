// /readyz follows the store and Redis: it turns 503 naming the failed
// dependency while the real PostgreSQL database refuses connections or the
// real Redis server is down, /healthz stays 200 meanwhile, the failures are
// counted in /metrics, and readiness comes back by itself after.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, api, waitFor, cleanup } from './harness.mjs';
import { need, tool, postgres, privateRedis, rand, PG_BASE } from './cluster-harness.mjs';

after(cleanup);

const pgSkip = (await need(tool('psql'), postgres())) ?? false;
const redisSkip = (await need(tool('redis-server'))) ?? false;

const psql = (sql) => execFileSync('psql', [PG_BASE, '-v', 'ON_ERROR_STOP=1', '-qtAc', sql], { stdio: 'pipe', timeout: 10_000 }).toString();

async function readyz(server) {
  const res = await api(server, 'GET', '/readyz', { auth: false, timeoutMs: 5000 });
  return { status: res.status, body: res.body };
}

/** Wait until /readyz answers `status` and pred(body) holds; resolves to the body. */
async function readyzBecomes(server, status, pred, what, ms = 15_000) {
  let last;
  try {
    await waitFor(async () => {
      last = await readyz(server);
      return last.status === status && pred(last.body);
    }, ms, what, 50);
  } catch {
    assert.fail(`${what}: last /readyz ${last?.status} ${JSON.stringify(last?.body)}`);
  }
  return last.body;
}

function counter(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

test('readyz: 503 naming the store while PostgreSQL refuses connections, 200 again after', { skip: pgSkip, timeout: 60_000 }, async () => {
  const db = `oc_readyz_${rand()}`;
  psql(`CREATE DATABASE ${db}`);
  after(() => {
    try { psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`); } catch { /* best effort */ }
  });
  const url = new URL(PG_BASE);
  url.pathname = `/${db}`;
  const server = await startServer({ args: ['--database-url', url.toString()] });
  let r = await readyz(server);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { status: 'ready', checks: { store: 'ok' } });
  const pingErrors = async () => counter((await api(server, 'GET', '/metrics', { auth: false })).text, 'ordercast_store_errors_total{op="ping"}');
  const before = await pingErrors();

  // The database goes away for this server: no new connection, and the
  // ones it has are ended.
  psql(`ALTER DATABASE ${db} ALLOW_CONNECTIONS false`);
  psql(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${db}' AND pid <> pg_backend_pid()`);
  const down = await readyzBecomes(server, 503, (b) => b.status === 'unready' && typeof b.checks?.store === 'string' && b.checks.store !== 'ok',
    'readyz unready naming the store');
  assert.match(down.checks.store, /\S/, 'the store check says why');
  assert.ok(!down.checks.store.includes('postgres://'), 'no database URL in the answer');
  assert.equal((await api(server, 'GET', '/healthz', { auth: false })).status, 200, 'the process is still alive');
  assert.ok(await pingErrors() > before, 'failed store pings are counted');

  psql(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true`);
  await readyzBecomes(server, 200, (b) => b.status === 'ready' && b.checks?.store === 'ok', 'readyz ready again');
  // And the store really serves again.
  const created = await api(server, 'POST', '/api/orders', { body: { customer: 'Back Again', items: [{ name: 'Tea', qty: 1 }], total: 1 } });
  assert.equal(created.status, 201, created.text);
  await server.stop();
});

test('readyz: 503 (degraded) naming Redis while it is down, 200 again after it restarts', { skip: redisSkip, timeout: 60_000 }, async () => {
  const redis = await privateRedis();
  const server = await startServer({ args: ['--redis-url', redis.url, '--redis-prefix', `oc-readyz-${rand()}`] });
  let r = await readyz(server);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { status: 'ready', checks: { store: 'ok', redis: 'ok' } });
  const pingErrors = async () => counter((await api(server, 'GET', '/metrics', { auth: false })).text, 'ordercast_redis_errors_total{op="ping"}');
  const before = await pingErrors();

  await redis.stop();
  const down = await readyzBecomes(server, 503, (b) => typeof b.checks?.redis === 'string' && b.checks.redis !== 'ok',
    'readyz naming Redis');
  assert.equal(down.status, 'degraded', 'the process still serves its own sockets');
  assert.equal(down.checks.store, 'ok');
  assert.equal((await api(server, 'GET', '/healthz', { auth: false })).status, 200);
  assert.ok(await pingErrors() > before, 'failed Redis checks are counted');

  await redis.start();
  r = await readyzBecomes(server, 200, (b) => b.checks?.redis === 'ok', 'readyz ready again after Redis restarts', 30_000);
  assert.equal(r.status, 'ready');
  await server.stop();
});
