// Gap-free delivery: every event exactly once, whatever happens to the
// connection or the server. Each test asserts the exact seq sequence.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { startServer, createOrder, staffToken, makeSocket, connect, waitFor, emitAck, subscribe, cleanup } from './harness.mjs';

await import('../public/static/ordercast-client.js');
const { OrderFeed } = globalThis.OrderCast;

after(cleanup);

const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

// A TCP proxy the test can cut (every open connection reset) and pause
// (new connections refused), like a flaky network in front of the server.
async function tcpProxy(targetPort) {
  const conns = new Set();
  let paused = false;
  const srv = net.createServer((c) => {
    if (paused) { c.destroy(); return; }
    const up = net.connect(targetPort, '127.0.0.1');
    conns.add(c); conns.add(up);
    c.pipe(up); up.pipe(c);
    const drop = () => { c.destroy(); up.destroy(); conns.delete(c); conns.delete(up); };
    c.on('error', drop); up.on('error', drop); c.on('close', drop); up.on('close', drop);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const proxy = {
    url: `http://127.0.0.1:${srv.address().port}`,
    cut() {
      for (const c of conns) {
        // A reset (RST) is what a flaky network does; but once a socket has
        // begun its graceful shutdown (pipe() ends it when the other side
        // ends), Node 20 can leave a reset socket's handle open at process
        // teardown and spin there forever: destroy that one plainly.
        if (c.readyState === 'open' && !c.writableEnded) c.resetAndDestroy();
        else c.destroy();
      }
      conns.clear();
    },
    pause() { paused = true; },
    resume() { paused = false; },
    close() { proxy.cut(); srv.close(); },
  };
  after(() => proxy.close());
  return proxy;
}

// Cut the proxy until the client notices (an idle polling client may have
// no request in flight at the moment of a cut).
async function drop(sock, proxy) {
  for (let tries = 0; tries < 20; tries++) {
    const gone = waitFor(sock, 'disconnect', () => true, 500).then(() => true, () => false);
    proxy.cut();
    if (await gone) return;
  }
  // Say what the client was doing: connected through a connection the
  // proxy does not hold, or reconnecting (each attempt cut), or given up.
  throw new Error(`the client never noticed the cut (connected ${sock.connected}, active ${sock.active}, ` +
    `engine ${sock.io.engine?.readyState}, transport ${sock.io.engine?.transport?.name}, reconnecting ${sock.io._reconnecting})`);
}

// A customer following one order with the documented OrderFeed helper.
function follow(url, order, token, transports) {
  const sock = makeSocket({ url }, { transports, reconnectionDelay: 50, reconnectionDelayMax: 200 });
  const seqs = [];
  const feed = new OrderFeed(sock);
  feed.watch(order.id, { token, onEvent: (e) => seqs.push(e.seq) });
  const client = { sock, seqs, reconnects: 0 };
  sock.io.on('reconnect', () => client.reconnects++);
  return client;
}

for (const transports of [['websocket'], ['polling']]) {
  test(`200 events at full speed while the ${transports[0]} transport is cut 4 times: each exactly once`, { timeout: 120_000 }, async () => {
    const server = await startServer({ args: ['--socket-rate', '5000', '--socket-burst', '5000'] });
    const proxy = await tcpProxy(server.port);
    const { order, trackingToken } = await createOrder(server);
    const customer = follow(proxy.url, order, trackingToken, transports);
    await waitFor(() => customer.seqs.length === 1, 10_000, 'first event');
    const staff = await connect(server, { auth: { token: await staffToken(server, 'support', 'Sam') }, transports: ['websocket'] });
    for (let i = 1; i <= 200; i++) {
      const ack = await emitAck(staff, 'order:message', { orderId: order.id, text: `update ${i}` });
      assert.equal(ack.ok, true, JSON.stringify(ack));
      if (i % 40 === 0) await drop(customer.sock, proxy);
    }
    await waitFor(() => customer.seqs.length >= 201, 30_000, 'all 201 events');
    assert.deepEqual(customer.seqs, range(1, 201));
    assert.ok(customer.reconnects >= 4, `the transport was really cut: ${customer.reconnects} reconnects`);
  });
}

test('SIGKILL mid-stream, restart on the same port and data dir: the client ends with every event exactly once', { timeout: 120_000 }, async () => {
  const server = await startServer({ args: ['--socket-rate', '5000', '--socket-burst', '5000'] });
  const { order, trackingToken } = await createOrder(server);
  const customer = follow(server.url, order, trackingToken, ['polling', 'websocket']);
  await waitFor(() => customer.seqs.length === 1, 10_000, 'first event');
  const token = await staffToken(server, 'support', 'Sam');
  const staff = makeSocket(server, { auth: { token }, transports: ['websocket'] });
  await waitFor(staff, 'connect', () => true, 15_000);
  // The poster keeps sending at full speed; messages whose ack is lost in
  // the crash may or may not be stored. The store decides what exists.
  let sent = 0;
  const post = async (n) => {
    for (let i = 0; i < n; i++) {
      try { await emitAck(staff, 'order:message', { orderId: order.id, text: `m${++sent}` }, 2000); } catch { /* lost in the crash */ }
    }
  };
  await post(60);
  const killed = server.kill();
  await post(5); // in flight during the crash
  await killed;
  await server.restart();
  await waitFor(staff, 'connect', () => true, 10_000).catch(() => {});
  await post(60);
  const res = await fetch(`${server.url}/api/orders/${order.id}`, { headers: { authorization: `Bearer ${server.apiKey}` } });
  const stored = (await res.json()).events.map((e) => e.seq);
  assert.deepEqual(stored, range(1, stored.length), 'the store has no gap');
  assert.ok(stored.length >= 121, `stored ${stored.length}`);
  await waitFor(() => customer.seqs.length >= stored.length, 30_000, `customer has ${stored.length} events`);
  assert.deepEqual(customer.seqs, stored);
});

// A bare EventSource-style client: the SSE wire protocol by hand.
function sseClient(url) {
  const got = [];
  let lastId = null;
  let req;
  let stopped = false;
  let connects = 0;
  const open = () => {
    if (stopped) return;
    const headers = lastId !== null ? { 'Last-Event-ID': lastId } : {};
    req = http.get(url, { headers }, (res) => {
      if (res.statusCode !== 200) { res.resume(); res.on('end', retry); return; }
      connects++;
      assert.match(res.headers['content-type'], /^text\/event-stream/);
      let buf = '';
      let ev = {};
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).replace(/\r$/, '');
          buf = buf.slice(i + 1);
          if (line === '') {
            if (ev.data !== undefined) {
              if (ev.id !== undefined) lastId = ev.id;
              got.push({ id: ev.id, event: ev.event, data: JSON.parse(ev.data) });
            }
            ev = {};
          } else if (!line.startsWith(':')) {
            const k = line.slice(0, line.indexOf(':') < 0 ? line.length : line.indexOf(':'));
            const v = line.slice(k.length + 1).replace(/^ /, '');
            if (k === 'data') ev.data = ev.data === undefined ? v : `${ev.data}\n${v}`;
            else ev[k] = v;
          }
        }
      });
      res.on('end', retry);
      res.on('error', retry);
    });
    req.on('error', retry);
  };
  let retrying = false;
  function retry() {
    if (retrying || stopped) return;
    retrying = true;
    setTimeout(() => { retrying = false; open(); }, 100); // the client's reconnection delay
  }
  open();
  return { got, stop() { stopped = true; req?.destroy(); }, connects: () => connects };
}

test('SSE: Last-Event-ID resumes exactly after a SIGKILL and restart', { timeout: 60_000 }, async () => {
  const server = await startServer();
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push(await createOrder(server));
  const { order, trackingToken } = ids[0];
  const client = sseClient(`${server.url}/api/orders/${order.id}/stream?token=${trackingToken}`);
  after(() => client.stop());
  const path = ['confirmed', 'packed', 'shipped', 'out_for_delivery', 'delivered'];
  const postStatus = (st) => fetch(`${server.url}/api/orders/${order.id}/status`, {
    method: 'POST', headers: { authorization: `Bearer ${server.apiKey}` }, body: JSON.stringify({ status: st }),
  });
  await waitFor(() => client.got.length === 1, 5000, 'timeline');
  await postStatus(path[0]);
  await postStatus(path[1]);
  await waitFor(() => client.got.length === 3, 5000, 'live events');
  await server.kill();
  await server.restart();
  await postStatus(path[2]);
  await postStatus(path[3]);
  await waitFor(() => client.got.length >= 5 && client.connects() >= 2, 15_000, 'resumed stream');
  await postStatus(path[4]);
  await waitFor(() => client.got.length >= 6, 5000, 'live after resume');
  assert.deepEqual(client.got.map((e) => Number(e.id)), range(1, 6));
  assert.deepEqual(client.got.map((e) => e.data.seq), range(1, 6));
  assert.deepEqual(client.got.map((e) => e.data.status), ['placed', ...path]);
  assert.ok(client.got.every((e) => e.event === 'order:status'));
});

test('SSE: headers for proxies, full timeline without Last-Event-ID, only what follows with it', async () => {
  const server = await startServer();
  const { order, trackingToken } = await createOrder(server);
  await fetch(`${server.url}/api/orders/${order.id}/status`, { method: 'POST', headers: { authorization: `Bearer ${server.apiKey}` }, body: '{"status":"confirmed"}' });
  const read = (headers, query = '') => new Promise((resolve, reject) => {
    const req = http.get(`${server.url}/api/orders/${order.id}/stream?token=${trackingToken}${query}`, { headers }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
        if (body.includes('"seq":2')) { req.destroy(); resolve({ res, body }); }
      });
    });
    req.on('error', reject);
    setTimeout(() => { req.destroy(); resolve({ body: 'TIMEOUT' }); }, 3000);
  });
  const all = await read({});
  assert.equal(all.res.headers['content-type'], 'text/event-stream');
  assert.equal(all.res.headers['cache-control'], 'no-cache');
  assert.equal(all.res.headers['x-accel-buffering'], 'no');
  assert.match(all.body, /^retry: \d+/m);
  assert.match(all.body, /id: 1\nevent: order:status\ndata: \{.*"seq":1/);
  const after1 = await read({ 'Last-Event-ID': '1' });
  assert.doesNotMatch(after1.body, /id: 1\n/);
  assert.match(after1.body, /id: 2\nevent: order:status/);
  const q = await read({}, '&lastEventId=1');
  assert.doesNotMatch(q.body, /id: 1\n/);
});

test('connection state recovery: after a short drop the socket is recovered and missed room events arrive without a resubscribe', { timeout: 30_000 }, async () => {
  const server = await startServer({ args: ['--recovery-window', '30s'] });
  const proxy = await tcpProxy(server.port);
  const { order, trackingToken } = await createOrder(server);
  const sock = makeSocket({ url: proxy.url }, { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 100 });
  await waitFor(sock, 'connect', () => true, 15_000);
  await subscribe(sock, order.id, trackingToken);
  const seqs = [];
  sock.on('order:status', (e) => seqs.push(e.seq));
  const sent = [];
  const origEmit = sock.emit.bind(sock);
  sock.emit = (ev, ...a) => { sent.push(ev); return origEmit(ev, ...a); };
  // A ping round-trip first, so the server has sent at least one packet
  // with an offset the client can present.
  await fetch(`${server.url}/api/orders/${order.id}/status`, { method: 'POST', headers: { authorization: `Bearer ${server.apiKey}` }, body: '{"status":"confirmed"}' });
  await waitFor(() => seqs.includes(2), 5000, 'seq 2 live');
  proxy.pause();
  const disconnected = waitFor(sock, 'disconnect');
  proxy.cut();
  await disconnected;
  for (const st of ['packed', 'shipped']) {
    const r = await fetch(`${server.url}/api/orders/${order.id}/status`, { method: 'POST', headers: { authorization: `Bearer ${server.apiKey}` }, body: JSON.stringify({ status: st }) });
    assert.equal(r.status, 200);
  }
  proxy.resume();
  await waitFor(sock, 'connect', () => true, 10_000);
  assert.equal(sock.recovered, true, 'socket.recovered');
  await waitFor(() => seqs.length >= 3, 5000, 'missed events replayed');
  assert.deepEqual(seqs, [2, 3, 4]);
  assert.deepEqual(sent, [], 'no order:subscribe was needed');
});

test('SIGTERM ends SSE streams cleanly with a retry hint', { timeout: 30_000 }, async () => {
  const server = await startServer();
  const { order, trackingToken } = await createOrder(server);
  const ended = new Promise((resolve, reject) => {
    http.get(`${server.url}/api/orders/${order.id}/stream?token=${trackingToken}`, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
      res.on('error', reject);
    }).on('error', reject);
  });
  await waitFor(() => server.logs().includes('/stream'), 5000).catch(() => {});
  await waitFor(async () => (await fetch(`${server.url}/healthz`)).ok, 5000);
  const exited = server.stop();
  const body = await ended;
  assert.equal((await exited).forcedAfterTimeout, undefined);
  assert.match(body, /id: 1\n/);
  assert.match(body, /: server shutting down\nretry: \d+\n\n$/);
});
