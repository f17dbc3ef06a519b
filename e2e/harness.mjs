// Shared helpers for the ordercast end-to-end tests (node:test, Node 20).
//
// Every test file runs the REAL built binary (`make build` -> ./ordercast) on
// a free 127.0.0.1 port with its own temporary data directory, and talks to it
// with plain fetch and the stock `socket.io-client` from node_modules.
//
//   import { after } from 'node:test';
//   import { startServer, createOrder, connect, emitAck, waitFor, cleanup } from './harness.mjs';
//   after(cleanup);                       // closes every socket, kills every server
//   const server = await startServer();  // waits for GET /readyz == 200
//   const { order, trackingToken } = await createOrder(server);
//   const sock = await connect(server);  // resolves on 'connect'
//   const ack = await emitAck(sock, 'order:subscribe', { orderId: order.id, token: trackingToken });
//   const ev = await waitFor(sock, 'order:status', (e) => e.orderId === order.id);
//
// Rules the helpers follow (and tests should too):
//  - no sleeps for synchronisation: wait for an event or a condition with a
//    deadline (waitFor), failing with a clear message when the deadline passes;
//  - every server process and socket created here is tracked; `cleanup()`
//    (register it with node:test `after`) closes them, and a process 'exit' /
//    SIGINT / SIGTERM hook SIGKILLs any server still alive, so no server ever
//    outlives a test run;
//  - servers are hermetic: DATABASE_URL, REDIS_URL and ORDERCAST_* from the
//    caller's environment are NOT inherited (pass them in `env` explicitly).

import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { afterEach } from 'node:test';
import { checkHTTP, checkEvent, checkAck, takeContractErrors } from './contract.mjs';

// Every response of api(), every event a socket of makeSocket() receives
// and every ack it gets is checked against docs/openapi.yaml and
// docs/asyncapi.yaml (contract.mjs); what does not match fails the test
// that was running. Registered here, at the top level, it runs after every
// test of each file that imports the harness.
afterEach(() => {
  const errs = takeContractErrors();
  if (errs.length) throw new Error(`traffic does not match docs/openapi.yaml or docs/asyncapi.yaml:\n  ${errs.join('\n  ')}`);
});

/** Absolute path of the repository root (the parent of e2e/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Path of the ordercast binary: $ORDERCAST_BIN (relative paths are taken from the repo root) or <repo>/ordercast. */
export const binPath = path.resolve(repoRoot, process.env.ORDERCAST_BIN || 'ordercast');

const liveServers = new Set(); // servers whose process is running
const liveSockets = new Set(); // socket.io-client sockets made by makeSocket/connect
const tempDirs = new Set(); // data dirs created by startServer (removed by cleanup)

function killAllNow() {
  for (const s of liveServers) {
    try { s.proc.kill('SIGKILL'); } catch { /* already gone */ }
  }
}
process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    killAllNow();
    process.exit(128 + (os.constants.signals[sig] || 1));
  });
}

/** Environment for child processes: the caller's, minus settings that would make a server non-hermetic. */
export function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('ORDERCAST_') || k === 'DATABASE_URL' || k === 'REDIS_URL') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function assertBinary() {
  if (!existsSync(binPath)) {
    throw new Error(`ordercast binary not found at ${binPath}: run \`make build\` in ${repoRoot} (or set ORDERCAST_BIN)`);
  }
}

/** A TCP port that was free a moment ago (listen on port 0, read it, close). */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** A fresh temporary directory (removed by cleanup()). */
export function tempDir(prefix = 'ordercast-e2e-') {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/**
 * Poll GET <url>/readyz until it answers 200, or throw after deadlineMs.
 * `isDead` (optional) is checked on each round so a crashed server fails fast.
 */
export async function waitReady(url, deadlineMs = 10_000, isDead = () => null) {
  const deadline = Date.now() + deadlineMs;
  let last = 'no answer';
  for (;;) {
    const dead = isDead();
    if (dead) throw new Error(`server exited before it was ready: ${dead}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.cause?.code || err.message;
    }
    if (Date.now() > deadline) throw new Error(`${url}/readyz not ready within ${deadlineMs} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 25)); // poll interval of a deadline wait
  }
}

/**
 * Start `ordercast serve` on 127.0.0.1.
 *
 * @param {object}   [o]
 * @param {string[]} [o.args]     extra serve flags, e.g. ['--transports', 'polling'] or ['--max-message-bytes', '2000']
 * @param {string}   [o.dataDir]  data directory (default: a new temp dir)
 * @param {number}   [o.port]     port (default: a free one)
 * @param {object}   [o.env]      extra environment for the process
 * @param {string}   [o.apiKey]   API key (default: random); passed with --api-key
 * @param {string}   [o.secret]   signing secret (default: random); passed with --secret
 * @param {number}   [o.readyMs]  how long to wait for /readyz (default 15000)
 * @returns {Promise<Server>} { url, port, apiKey, secret, dataDir, proc, stop(), kill(), restart(), logs() }
 *   stop():    SIGTERM and wait for exit (SIGKILL after 10 s); resolves to {code, signal}
 *   kill():    SIGKILL and wait for exit
 *   restart(): stop if running, start again on the same port, data dir, key and secret, wait for /readyz
 *   logs():    everything the process(es) wrote to stdout and stderr so far
 */
export async function startServer(o = {}) {
  assertBinary();
  const dataDir = o.dataDir ?? tempDir();
  const port = o.port ?? (await freePort());
  const apiKey = o.apiKey ?? `key-${randomBytes(12).toString('hex')}`;
  const secret = o.secret ?? `secret-${randomBytes(24).toString('hex')}`;
  const url = `http://127.0.0.1:${port}`;
  const argv = ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir,
    '--api-key', apiKey, '--secret', secret, '--shutdown-delay', '0', ...(o.args ?? [])];
  let output = '';
  const server = {
    url, port, apiKey, secret, dataDir, argv, proc: null, exited: null,
    logs: () => output,
  };

  const launch = async () => {
    const proc = spawn(binPath, argv, { env: childEnv(o.env), stdio: ['ignore', 'pipe', 'pipe'] });
    server.proc = proc;
    server.exited = null;
    liveServers.add(server);
    const onData = (d) => {
      output += d.toString();
      if (output.length > 4_000_000) output = output.slice(-2_000_000);
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    const exitP = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        liveServers.delete(server);
        server.exited = { code, signal };
        resolve(server.exited);
      });
      proc.once('error', (err) => {
        liveServers.delete(server);
        server.exited = { code: null, signal: null, error: err };
        resolve(server.exited);
      });
    });
    server.exitPromise = exitP;
    try {
      await waitReady(url, o.readyMs ?? 15_000, () => (server.exited ? JSON.stringify(server.exited) : null));
    } catch (err) {
      proc.kill('SIGKILL');
      await exitP;
      err.message += `\n--- ordercast ${argv.join(' ')} output ---\n${output.slice(-4000)}`;
      throw err;
    }
  };

  const signalAndWait = async (sig, graceMs) => {
    if (!server.proc || server.exited) return server.exited;
    server.proc.kill(sig);
    let t;
    const timer = new Promise((r) => { t = setTimeout(r, graceMs, 'timeout'); });
    const r = await Promise.race([server.exitPromise, timer]);
    clearTimeout(t);
    if (r === 'timeout') {
      server.proc.kill('SIGKILL');
      await server.exitPromise;
      server.exited.forcedAfterTimeout = true;
    }
    return server.exited;
  };

  server.stop = () => signalAndWait('SIGTERM', 10_000);
  server.kill = () => signalAndWait('SIGKILL', 10_000);
  server.restart = async () => {
    await server.stop();
    await launch();
    return server;
  };

  await launch();
  return server;
}

/**
 * Run `ordercast token` with the server's data dir and secret; resolves to the
 * token printed on stdout. `ttl` is a Go duration ('1h', '1s', '-1h'); omitted
 * when not given. Rejects (with stderr in the message) when the command fails.
 */
export function staffToken(server, role, name, ttl) {
  assertBinary();
  const argv = ['token', '--role', role, '--name', name, '--data-dir', server.dataDir, '--secret', server.secret];
  if (ttl !== undefined) argv.push(`--ttl=${ttl}`);
  return new Promise((resolve, reject) => {
    execFile(binPath, argv, { env: childEnv(), timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\nstderr: ${stderr}`;
        err.stderr = stderr;
        reject(err);
        return;
      }
      const tok = stdout.trim();
      if (!tok || /\s/.test(tok)) {
        reject(new Error(`token command printed ${JSON.stringify(stdout)} (expected the token alone)`));
        return;
      }
      resolve(tok);
    });
  });
}

/**
 * Every HTTP response seen by api(), as {method, path, status}; tests use it
 * to assert that no request ever got a 5xx.
 */
export const httpLog = [];

/**
 * One HTTP request to the server.
 * @param {object} server  from startServer (or any {url, apiKey})
 * @param {string} method
 * @param {string} urlPath e.g. '/api/orders?limit=2'
 * @param {object} [o]
 * @param {*}      [o.body]    object/array/number → JSON; string → sent as is (for malformed JSON); Buffer → as is
 * @param {string|false} [o.auth] Bearer credential; default server.apiKey; false → no Authorization header
 * @param {object} [o.headers] extra headers
 * @returns {Promise<{status:number, body:any, text:string, headers:Headers}>} body is parsed JSON, or null when not JSON
 */
export async function api(server, method, urlPath, o = {}) {
  const headers = { ...(o.headers ?? {}) };
  const auth = o.auth === undefined ? server.apiKey : o.auth;
  if (auth !== false && auth !== null) headers.authorization = `Bearer ${auth}`;
  let body;
  if (o.body !== undefined) {
    if (typeof o.body === 'string' || Buffer.isBuffer(o.body)) body = o.body;
    else body = JSON.stringify(o.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const res = await fetch(server.url + urlPath, { method, headers, body, signal: AbortSignal.timeout(o.timeoutMs ?? 10_000) });
  const text = await res.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  httpLog.push({ method, path: urlPath, status: res.status });
  // fetch follows redirects: the response checked is the final one.
  const final = res.redirected ? new URL(res.url) : null;
  checkHTTP({ method: final ? 'GET' : method, path: final ? final.pathname + final.search : urlPath, status: res.status, headers: res.headers, text });
  return { status: res.status, body: parsed, text, headers: res.headers };
}

let orderCounter = 0;
/**
 * Create an order with the API key; resolves to the 201 body
 * {order, trackingToken, trackingUrl}. `overrides` replace fields of the
 * default body {customer:'Alice Example', items:[{name:'Pizza', qty:2}], total:1850, currency:'EUR'}
 * (pass id to choose one). Throws unless the answer is 201.
 */
export async function createOrder(server, overrides = {}) {
  orderCounter += 1;
  const body = {
    customer: 'Alice Example',
    items: [{ name: 'Pizza', qty: 2 }],
    total: 1850,
    currency: 'EUR',
    ...overrides,
  };
  const res = await api(server, 'POST', '/api/orders', { body });
  if (res.status !== 201) throw new Error(`createOrder: HTTP ${res.status} ${res.text}`);
  return res.body;
}

/** POST /api/orders/:id/status with the API key (or o.auth); resolves to {status, body}. */
export function postStatus(server, orderId, status, note, o = {}) {
  const body = { status };
  if (note !== undefined) body.note = note;
  return api(server, 'POST', `/api/orders/${encodeURIComponent(orderId)}/status`, { body, ...o });
}

/**
 * Create a socket.io-client socket for the server WITHOUT waiting for it to
 * connect (attach your 'connect' handlers, then await waitFor(sock,'connect')).
 * Defaults: forceNew, quick reconnection (100–500 ms). Any io() option may be
 * overridden, e.g. {transports:['websocket']}, {auth:{token}}, {autoConnect:false}.
 * The socket is tracked and closed by cleanup().
 */
export function makeSocket(server, opts = {}) {
  const sock = io(server.url, {
    forceNew: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    timeout: 20000, // above the server's --connect-timeout, which retries a lost CONNECT first
    ...opts,
  });
  liveSockets.add(sock);
  validateTraffic(sock);
  const origDisconnect = sock.disconnect.bind(sock); // close() calls disconnect()
  sock.disconnect = () => { liveSockets.delete(sock); return origDisconnect(); };
  return sock;
}

/**
 * Check a socket's received events and its acks against docs/asyncapi.yaml
 * (contract.mjs). Acks are checked by wrapping the ack callback of emit;
 * emitWithAck and timeout() go through emit too.
 */
export function validateTraffic(sock) {
  sock.onAny((event, payload) => checkEvent(event, payload));
  const emit = sock.emit.bind(sock);
  sock.emit = (event, ...args) => {
    const fn = args[args.length - 1];
    if (typeof fn === 'function') {
      // socket.io-client calls an ack error-first when a timeout applies or
      // the callback is emitWithAck's (withError); a timed-out ack has no data.
      const errFirst = fn.withError || sock.flags?.timeout !== undefined || sock._opts?.ackTimeout !== undefined;
      const wrapped = function (...a) {
        if (!errFirst) checkAck(event, a[0]);
        else if (!a[0]) checkAck(event, a[1]);
        return fn.apply(this, a);
      };
      wrapped.withError = fn.withError;
      args[args.length - 1] = wrapped;
    }
    return emit(event, ...args);
  };
  return sock;
}

/**
 * Connected socket.io-client socket: resolves on 'connect', rejects with the
 * connect_error (its .message says why; .data is the server's data) or after
 * opts.connectTimeoutMs (default 5000). A rejected socket is closed.
 */
export function connect(server, opts = {}) {
  const { connectTimeoutMs = 15_000, ...ioOpts } = opts;
  const sock = makeSocket(server, ioOpts);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { done(); sock.close(); reject(new Error(`socket did not connect within ${connectTimeoutMs} ms`)); }, connectTimeoutMs);
    const onConnect = () => { done(); resolve(sock); };
    const onError = (err) => { done(); sock.close(); reject(err); };
    function done() { clearTimeout(t); sock.off('connect', onConnect); sock.off('connect_error', onError); }
    sock.on('connect', onConnect);
    sock.on('connect_error', onError);
  });
}

/**
 * Wait with a deadline; two forms:
 *   waitFor(fn, ms=5000, what?, intervalMs=10)           poll fn (sync or async) every intervalMs until it
 *                                                        returns something truthy; resolves to that value
 *                                                        (a throw from fn counts as "not yet")
 *   waitFor(emitter, event, predicate?, ms=5000)         first `event` whose args satisfy predicate(...args);
 *                                                        resolves to the first argument
 * Rejects with a message naming what was awaited when the deadline passes.
 */
export function waitFor(a, b, c, d) {
  if (typeof a === 'function') {
    const fn = a;
    const ms = b ?? 5000;
    const what = c ?? fn.toString().slice(0, 200);
    const interval = d ?? 10;
    const deadline = Date.now() + ms;
    return (async () => {
      let lastErr;
      for (;;) {
        try {
          const v = await fn();
          if (v) return v;
        } catch (err) { lastErr = err; }
        if (Date.now() > deadline) {
          throw new Error(`waitFor: condition not met within ${ms} ms: ${what}${lastErr ? ` (last error: ${lastErr.message})` : ''}`);
        }
        await new Promise((r) => setTimeout(r, interval)); // poll interval of a deadline wait
      }
    })();
  }
  const emitter = a;
  const event = b;
  const predicate = c ?? (() => true);
  const ms = d ?? 5000;
  return new Promise((resolve, reject) => {
    const handler = (...args) => {
      let ok;
      try { ok = predicate(...args); } catch (err) { cleanupWait(); reject(err); return; }
      if (ok) { cleanupWait(); resolve(args[0]); }
    };
    const t = setTimeout(() => { cleanupWait(); reject(new Error(`waitFor: no matching '${event}' within ${ms} ms`)); }, ms);
    function cleanupWait() { clearTimeout(t); emitter.off(event, handler); }
    emitter.on(event, handler);
  });
}

/** Record every `event` payload (first argument) of an emitter in an array. */
export function collect(emitter, event) {
  const arr = [];
  emitter.on(event, (p) => arr.push(p));
  return arr;
}

/**
 * Emit with an ack callback and resolve to the ack's first argument; rejects
 * if no ack arrives within ms (default 5000). `payload` undefined sends the
 * event with the ack callback only.
 */
export async function emitAck(socket, event, payload, ms = 5000) {
  try {
    if (payload === undefined) return await socket.timeout(ms).emitWithAck(event);
    return await socket.timeout(ms).emitWithAck(event, payload);
  } catch (err) {
    throw new Error(`no ack for '${event}' within ${ms} ms (${err.message})`);
  }
}

/** Subscribe and assert ok; resolves to the ack. */
export async function subscribe(socket, orderId, token, since) {
  const payload = { orderId };
  if (token !== undefined) payload.token = token;
  if (since !== undefined) payload.since = since;
  const ack = await emitAck(socket, 'order:subscribe', payload);
  if (!ack || ack.ok !== true) throw new Error(`order:subscribe ${orderId} failed: ${JSON.stringify(ack)}`);
  return ack;
}

/**
 * Close every tracked socket, stop every tracked server (SIGTERM, then SIGKILL
 * after the grace period) and remove the temp dirs. Register with `after(cleanup)`.
 */
export async function cleanup() {
  for (const s of [...liveSockets]) {
    try { s.close(); } catch { /* ignore */ }
  }
  liveSockets.clear();
  await Promise.all([...liveServers].map((s) => s.stop().catch(() => s.kill())));
  for (const d of tempDirs) {
    try { rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
  }
  tempDirs.clear();
}
