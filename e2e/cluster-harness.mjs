// Helpers for the multi-process suites (cluster, interop, nginx): a private
// PostgreSQL schema, Redis (shared with a fresh channel prefix, or a private
// redis-server the test may kill), several ordercast processes sharing them,
// and an order follower that resyncs by seq, optionally failing over to
// another process.
//
// Missing tools (psql, redis-server, nginx, a reachable PostgreSQL or Redis)
// make a suite skip with a message saying what is missing; with CI=true
// they make it fail instead (see need()).

import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { startServer, freePort, makeSocket, tempDir, waitFor } from './harness.mjs';
import { checkHTTP, checkSSE } from './contract.mjs';

await import('../public/static/ordercast-client.js');
const { OrderFeed } = globalThis.OrderCast;

export const PG_BASE = process.env.ORDERCAST_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable';
export const SHARED_REDIS = process.env.ORDERCAST_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** A short random name part: lower-case letters and digits. */
export const rand = () => randomBytes(5).toString('hex');

/**
 * Resolve every prerequisite check (each returns null when fine, else why
 * not); resolves to a skip reason, or null. On CI a missing prerequisite
 * throws, so the suite fails instead of silently skipping.
 */
export async function need(...checks) {
  const why = (await Promise.all(checks.map((c) => c()))).filter(Boolean);
  if (why.length === 0) return null;
  const reason = why.join('; ');
  if (process.env.CI === 'true') throw new Error(`multi-process test prerequisites missing on CI: ${reason}`);
  return reason;
}

/** Check: an executable is on PATH (or at one of the given paths). */
export const tool = (name, ...paths) => () => {
  for (const p of [name, ...paths]) {
    try { execFileSync('sh', ['-c', `command -v ${p}`], { stdio: 'ignore' }); return null; } catch { /* next */ }
  }
  return `${name} not installed`;
};

/** Check: PostgreSQL answers (with psql). */
export const postgres = () => () => {
  try {
    execFileSync('psql', [PG_BASE, '-qtAc', 'select 1'], { stdio: 'pipe', timeout: 5000 });
    return null;
  } catch (err) {
    return `PostgreSQL not reachable at ${PG_BASE} (set ORDERCAST_TEST_DATABASE_URL): ${String(err.stderr || err.message).trim()}`;
  }
};

/** Check: a Redis answers PING at url. */
export const redisAt = (url) => async () => ((await pingRedis(url)) ? null : `Redis not reachable at ${url} (set ORDERCAST_TEST_REDIS_URL)`);

/** One PING over a raw TCP connection; resolves true on +PONG. */
export function pingRedis(url, ms = 1000) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const c = net.connect(Number(u.port || 6379), u.hostname);
    const t = setTimeout(() => { c.destroy(); resolve(false); }, ms);
    let got = '';
    c.on('connect', () => c.write('PING\r\n'));
    c.on('data', (d) => { got += d; if (got.includes('\r\n')) { clearTimeout(t); c.end(); resolve(got.startsWith('+PONG')); } });
    c.on('error', () => { clearTimeout(t); resolve(false); });
  });
}

/**
 * A fresh PostgreSQL schema in the test database, dropped after the suite;
 * resolves to the ordercast --database-url that uses it.
 */
export function pgSchema() {
  const schema = `oc_e2e_${rand()}`;
  execFileSync('psql', [PG_BASE, '-qc', `CREATE SCHEMA ${schema}`], { stdio: 'pipe' });
  after(() => { execFileSync('psql', [PG_BASE, '-qc', `DROP SCHEMA IF EXISTS ${schema} CASCADE`], { stdio: 'pipe' }); });
  const u = new URL(PG_BASE);
  u.searchParams.set('search_path', schema);
  return u.toString();
}

/**
 * A private redis-server on a free port (no persistence), killed after the
 * suite. stop() kills it (like a crash: nothing saved), start() starts it
 * again on the same port.
 */
export async function privateRedis() {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const r = { url, port, proc: null };
  r.start = async () => {
    r.proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--dir', tempDir('ordercast-redis-')], { stdio: 'ignore' });
    r.exited = once(r.proc, 'exit');
    await waitFor(() => pingRedis(url, 200), 5000, `redis-server on port ${port} answers PING`);
  };
  r.stop = async () => {
    if (!r.proc || r.proc.exitCode !== null || r.proc.signalCode !== null) return;
    r.proc.kill('SIGKILL');
    await r.exited;
  };
  after(() => r.stop());
  await r.start();
  return r;
}

/**
 * Start n ordercast processes sharing one database and one Redis (with its
 * own channel prefix), one key and one secret. Resolves to the servers.
 */
export async function startCluster(n, { databaseUrl, redisUrl, prefix = `oc-e2e-${rand()}`, args = [], env = [] }) {
  const apiKey = `key-${rand()}${rand()}`;
  const secret = `secret-${rand()}${rand()}${rand()}`;
  const common = ['--database-url', databaseUrl, '--redis-url', redisUrl, '--redis-prefix', prefix, ...args];
  // One at a time: the first applies the migrations.
  const servers = [];
  for (let i = 0; i < n; i++) servers.push(await startServer({ apiKey, secret, args: common, env: env[i] }));
  return { servers, prefix, apiKey, secret };
}

/**
 * A customer following one order with the documented OrderFeed helper: every
 * event once, in seq order, resubscribing with `since` after each reconnect.
 * With failover, a lost connection is not retried on the same process: the
 * follower connects to the next server of the list and subscribes there with
 * `since` (what a load balancer does for a client whose process died).
 */
export function follow(servers, orderId, token, { failover = false, transports, start = 0 } = {}) {
  const f = { seqs: [], events: [], at: start, failovers: 0, sock: null, feed: null };
  const open = () => {
    const since = f.seqs.length ? f.seqs[f.seqs.length - 1] : undefined;
    const sock = makeSocket(servers[f.at], { transports, reconnection: !failover });
    const feed = new OrderFeed(sock);
    feed.watch(orderId, { token, since, onEvent: (e) => { f.seqs.push(e.seq); f.events.push(e); } });
    if (failover) {
      sock.on('disconnect', (reason) => {
        if (reason === 'io client disconnect') return; // closed by the test
        sock.close();
        f.at = (f.at + 1) % servers.length;
        f.failovers++;
        open();
      });
    }
    f.sock = sock;
    f.feed = feed;
  };
  open();
  f.close = () => { f.sock.close(); };
  return f;
}

/** 1..n */
export const oneTo = (n) => Array.from({ length: n }, (_, i) => i + 1);

/**
 * Read an SSE stream in the background: events land in `events` as
 * {id, event, data}, each checked against the contract; `ended` resolves
 * when the server ends the stream. Closed by close() or after the suite.
 */
export async function readSSE(url, headers = {}) {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers, signal: ctrl.signal });
  if (res.status !== 200) throw new Error(`SSE ${url}: HTTP ${res.status} ${await res.text()}`);
  const u = new URL(url);
  checkHTTP({ method: 'GET', path: u.pathname + u.search, status: res.status, headers: res.headers, text: '', stream: true });
  const s = { events: [], close: () => ctrl.abort() };
  s.ended = (async () => {
    const dec = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body) {
      buf += dec.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = {};
        for (const line of block.split('\n')) {
          const m = /^(id|event|data): ?(.*)$/.exec(line);
          if (m) ev[m[1]] = m[1] === 'data' ? JSON.parse(m[2]) : m[2];
        }
        if (ev.event) {
          checkSSE(ev.event, ev.data);
          s.events.push(ev);
        }
      }
    }
  })().catch(() => { /* aborted */ });
  after(() => ctrl.abort());
  return s;
}

/** waitFor(fn, ms, what) whose failure message also shows state(), evaluated at the deadline. */
export async function waitUntil(fn, ms, what, state) {
  try {
    return await waitFor(fn, ms, what);
  } catch (err) {
    err.message += state ? ` — now: ${state()}` : '';
    throw err;
  }
}
