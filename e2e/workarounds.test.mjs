// Tests of defects of the zishang520 socket.io library (sockets/doc.go):
// those v3.0.6 fixed are kept as regression guards of the fix, the others
// prove ordercast's workaround.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { startServer, cleanup, waitFor } from './harness.mjs';

after(cleanup);

async function goroutines(server) {
  const res = await fetch(`${server.url}/metrics`);
  const text = await res.text();
  const m = text.match(/^go_goroutines (\d+)/m);
  assert.ok(m, 'go_goroutines missing from /metrics');
  return Number(m[1]);
}

// One connect/disconnect cycle, the client closing. `upgrade` waits for the
// polling -> websocket upgrade before closing.
function cycle(url, transports, upgrade) {
  return new Promise((resolve, reject) => {
    const s = io(url, { forceNew: true, reconnection: false, transports });
    const t = setTimeout(() => { s.close(); reject(new Error(`cycle ${transports} timed out`)); }, 10_000);
    const done = () => { clearTimeout(t); s.close(); resolve(); };
    s.on('connect_error', (e) => { clearTimeout(t); s.close(); reject(e); });
    s.on('connect', () => {
      if (!upgrade || s.io.engine.transport.name === 'websocket') return done();
      s.io.engine.once('upgrade', done);
    });
  });
}

// n cycles, 25 at a time. A cycle that fails to connect is retried and
// counted: the leak is about connections that did open and close.
async function cycles(url, n, transports, upgrade, concurrency = 25, tolerance = n / 100) {
  let next = 0;
  const failures = [];
  const worker = async () => {
    while (next < n) {
      try { await cycle(url, transports, upgrade); next++; } catch (e) { failures.push(e.message); }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  assert.ok(failures.length <= tolerance, `${failures.length} failed connects: ${failures.slice(0, 5)}`);
  return failures.length;
}

// Defect 1 (fixed in v3.0.6): a connection closed by the client used to
// leak its transport's write-queue goroutine for good.
test('2,000 client-closed connections per transport mode leave no goroutine behind', { timeout: 400_000 }, async () => {
  const server = await startServer({ args: ['--recovery-window', '0', '--http-rate-per-ip', '0'] });
  // Warm up pools and timers; the measured rounds below allow 1% of
  // connects to fail (and retry them), so the warm-up allows one too.
  await cycles(server.url, 20, ['polling', 'websocket'], true, 25, 1);
  const baseline = await waitFor(async () => {
    const a = await goroutines(server);
    const b = await goroutines(server);
    return a === b ? a : 0;
  }, 10_000, 'stable goroutine count');
  const modes = [
    ['websocket only', ['websocket'], false],
    ['polling only', ['polling'], false],
    ['polling upgraded to websocket', ['polling', 'websocket'], true],
  ];
  for (const [name, transports, upgrade] of modes) {
    const failed = await cycles(server.url, 2000, transports, upgrade);
    if (failed) console.log(`# ${name}: ${failed} connects retried`);
    // Closed sessions wind down asynchronously, so wait for the count to
    // settle back. On v3.0.2 without a workaround, websocket sessions
    // stayed ~2,000 above the baseline for good.
    const settled = await waitFor(async () => {
      const n = await goroutines(server);
      return n <= baseline + 10 ? n : 0;
    }, 60_000, `${name}: goroutines back to baseline ${baseline}`, 200).catch(async (e) => {
      e.message += ` (now ${await goroutines(server)})`;
      throw e;
    });
    assert.ok(settled <= baseline + 10, `${name}: ${settled} goroutines, baseline ${baseline}`);
  }
});

// Defect 2 (fixed in v3.0.6; the connect timeout stays): a WebSocket connect whose CONNECT reply never comes is
// closed by the server's connect timeout, so the client retries in seconds.
test('a connection that joins no namespace is closed by the connect timeout', async () => {
  const server = await startServer({ args: ['--connect-timeout', '1s'] });
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const opened = await waitFor(ws, 'message', () => true, 5000);
  assert.match(String(opened), /^0\{/, 'Engine.IO open packet');
  const start = Date.now();
  // We never send the Socket.IO CONNECT ("40"): the server must give up.
  await waitFor(ws, 'close', () => true, 5000);
  const waited = Date.now() - start;
  assert.ok(waited >= 900 && waited < 4000, `closed after ${waited} ms, want about 1 s`);
});

test('5,000 WebSocket connects all succeed; lost CONNECT replies are retried within seconds', { timeout: 240_000 }, async () => {
  const server = await startServer({ args: ['--connect-timeout', '2s', '--recovery-window', '0', '--http-rate-per-ip', '0'] });
  const n = 5000;
  let slow = 0;
  let worst = 0;
  let next = 0;
  const one = () => new Promise((resolve, reject) => {
    const start = Date.now();
    const s = io(server.url, { forceNew: true, transports: ['websocket'], reconnectionDelay: 100, reconnectionDelayMax: 200 });
    const t = setTimeout(() => { s.close(); reject(new Error('connect took over 10 s')); }, 10_000);
    s.on('connect', () => {
      const took = Date.now() - start;
      if (took > 1000) slow++;
      worst = Math.max(worst, took);
      clearTimeout(t);
      s.close();
      resolve();
    });
  });
  const worker = async () => { while (next++ < n) await one(); };
  await Promise.all(Array.from({ length: 25 }, worker));
  console.log(`# ${n} websocket connects: ${slow} needed a retry (${(slow / n * 1000).toFixed(2)} per 1,000), worst ${worst} ms`);
  assert.ok(worst < 10_000);
});

// Defect 3 (fixed in v3.0.6): a pending long-poll GET must end when the
// server closes the session, instead of hanging until the client's own timeout.
async function pollingHandshake(url) {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
  const body = await res.text();
  assert.equal(res.status, 200, body);
  return JSON.parse(body.slice(1)).sid;
}

test('a pending long-poll GET is answered when the server closes the session', async () => {
  const server = await startServer({ args: ['--connect-timeout', '1s'] });
  const sid = await pollingHandshake(server.url);
  // No CONNECT is sent, so the server closes this session after 1 s.
  const start = Date.now();
  const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { signal: AbortSignal.timeout(8000) });
  const body = await res.text();
  const waited = Date.now() - start;
  assert.equal(res.status, 200);
  assert.equal(body, '1', 'the GET carries the CLOSE packet');
  assert.ok(waited < 4000, `answered after ${waited} ms`);
});

test('pending long-poll GETs end at shutdown, so SIGTERM is quick', async () => {
  const server = await startServer();
  const sid = await pollingHandshake(server.url);
  const post = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '40' });
  assert.equal(post.status, 200);
  const first = await (await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`)).text();
  assert.match(first, /^40\{"sid"/, 'CONNECT reply');
  const pending = fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { signal: AbortSignal.timeout(8000) })
    .then(async (r) => ({ status: r.status, body: await r.text(), at: Date.now() }),
      (err) => ({ err, at: Date.now() }));
  // Make sure the GET is parked at the server before stopping it.
  await waitFor(() => server.logs().includes('socket connected'), 5000);
  const start = Date.now();
  const exited = await server.stop();
  const r = await pending;
  assert.equal(exited.forcedAfterTimeout, undefined, 'exited without SIGKILL');
  assert.ok(r.at - start < 3000, `pending GET answered after ${r.at - start} ms`);
  // Parked before the stop: the CLOSE packet. Arrived just after: the
  // session is gone (400). Still on its way (written on a kept-alive
  // connection that the server, which stops accepting first, closed as
  // idle before reading it: 1 run in 50): a network error, never a
  // timeout. Either way the request did not hang.
  if (r.err) {
    assert.notEqual(r.err.name, 'TimeoutError', 'the pending GET hung');
  } else {
    assert.ok(r.body === '1' || r.status === 400, `got ${r.status} ${r.body}`);
  }
});

// Protocol conformance (sockets/pollupgrade.go) must cost stock clients
// nothing: each refused handshake (default transports: polling, then the
// WebSocket probe and upgrade) gets its connect_error. The withdrawn
// upgradewait.go held polling GETs during upgrades: 6 refused handshakes in
// 3,200 then hung (0 to 3 in each 400; defect 19 in sockets/doc.go), so
// this test caught it about one run in two; 0 in 4,000 without it.
test('400 refused handshakes with the default transports each get their connect_error', { timeout: 120_000 }, async () => {
  const server = await startServer({ args: ['--http-rate-per-ip', '0'] });
  const refused = (i) => new Promise((resolve) => {
    const s = io(server.url, { forceNew: true, reconnection: false, auth: { token: 'garbage.not-a-token' } });
    const t = setTimeout(() => { s.close(); resolve(`connect ${i}: no connect_error within 5 s`); }, 5000);
    s.on('connect', () => { clearTimeout(t); s.close(); resolve(`connect ${i}: connected`); });
    s.on('connect_error', (e) => {
      clearTimeout(t);
      s.close();
      resolve(/xhr poll error|websocket error|timeout/i.test(e.message) ? `connect ${i}: ${e.message}` : null);
    });
  });
  const failures = [];
  for (let i = 0; i < 400; i++) {
    const f = await refused(i);
    if (f) failures.push(f);
  }
  assert.deepEqual(failures, [], `${failures.length} of 400 refused handshakes went wrong`);
});
