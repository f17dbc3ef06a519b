// The scripted session whose effect on /metrics is asserted exactly, by
// e2e/metrics.test.mjs (against the binary) and by the Go test in metrics/
// (against the in-process router, run as `node e2e/metrics-session.mjs`).
//
// runSession({url, apiKey, staffToken, badToken}) does, in order:
//   HTTP  POST /api/orders                        -> 201 (one order: created + status placed)
//   three sockets: A websocket customer, B polling-only customer (bTransport; with the
//         tracking token in its URL query, which must never be logged), S websocket support staff
//   one handshake refused (badToken)              -> connect_error, code unauthorized
//   A, B  order:subscribe with the tracking token  -> 2 acks ok
//   SSE   GET /api/orders/:id/stream?token=…      (kept open until end())
//   HTTP  POST /api/orders/:id/status ×3          (confirmed, packed, shipped) -> each reaches A, B, S
//   A     order:message                           -> ack ok, reaches A, B, S
//   A     order:update-status                     -> ack forbidden (a customer): the bad ack
//   A     'no:such-event' without ack             -> counted as event "other"
//   A     order:unsubscribe of another order      -> ack ok (and a barrier for the line above)
//   HTTP  GET /track/:id?token=… 200, GET /api/orders/:id?token=… 200, GET /no/such/route 404
// end() disconnects A, B and S from the client side and closes the SSE stream.
//
// expectations() gives the figures the session moves.

import { io } from 'socket.io-client';
import { createInterface } from 'node:readline';

const ORDER_STATUS = 'order:status';
const ORDER_MESSAGE = 'order:message';

/**
 * The figures one session moves, for B on `bTransport` ('polling' or
 * 'websocket'):
 *   counters: deltas of counters (histograms by their _count series);
 *   live:     gauges while the session's sockets and stream are open;
 *   after:    gauges after end();
 *   end:      counter deltas that end() itself makes.
 */
export function expectations({ bTransport = 'polling' } = {}) {
  const ws = bTransport === 'websocket' ? 3 : 2;
  const polling = 3 - ws;
  const counters = {
    'ordercast_socket_connects_total{namespace="/",transport="websocket"}': ws,
    'ordercast_socket_connects_total{namespace="/",transport="polling"}': polling,
    'ordercast_socket_handshakes_rejected_total{code="unauthorized"}': 1,
    'ordercast_socket_events_received_total{event="order:subscribe"}': 2,
    'ordercast_socket_events_received_total{event="order:message"}': 1,
    'ordercast_socket_events_received_total{event="order:update-status"}': 1,
    'ordercast_socket_events_received_total{event="order:unsubscribe"}': 1,
    'ordercast_socket_events_received_total{event="other"}': 1,
    'ordercast_socket_acks_total{event="order:subscribe",result="ok"}': 2,
    'ordercast_socket_acks_total{event="order:message",result="ok"}': 1,
    'ordercast_socket_acks_total{event="order:update-status",result="forbidden"}': 1,
    'ordercast_socket_acks_total{event="order:unsubscribe",result="ok"}': 1,
    // 3 statuses and 1 message, each delivered to A, B and S; the order was
    // created before S connected, so order:created reached nobody.
    'ordercast_socket_events_sent_total{event="order:status"}': 9,
    'ordercast_socket_events_sent_total{event="order:message"}': 3,
    'ordercast_broadcasts_total{event="order:created"}': 1,
    'ordercast_broadcasts_total{event="order:status"}': 4,
    'ordercast_broadcasts_total{event="order:message"}': 1,
    'ordercast_broadcast_latency_seconds_count{event="order:status"}': 4,
    'ordercast_broadcast_latency_seconds_count{event="order:message"}': 1,
    'ordercast_http_requests_total{method="POST",route="/api/orders",status="201"}': 1,
    'ordercast_http_requests_total{method="POST",route="/api/orders/:id/status",status="200"}': 3,
    'ordercast_http_requests_total{method="GET",route="/track/:id",status="200"}': 1,
    'ordercast_http_requests_total{method="GET",route="/api/orders/:id",status="200"}': 1,
    'ordercast_http_requests_total{method="GET",route="unmatched",status="404"}': 1,
  };
  const live = {
    'ordercast_sockets_connected{namespace="/",transport="websocket"}': ws,
    'ordercast_sockets_connected{namespace="/",transport="polling"}': polling,
    'ordercast_rooms{kind="order"}': 1,
    'ordercast_rooms{kind="support"}': 1,
    'ordercast_rooms{kind="admin"}': 0,
    'ordercast_sse_streams': 1,
  };
  const after = {
    'ordercast_sockets_connected{namespace="/",transport="websocket"}': 0,
    'ordercast_sockets_connected{namespace="/",transport="polling"}': 0,
    'ordercast_rooms{kind="order"}': 0,
    'ordercast_rooms{kind="support"}': 0,
    'ordercast_sse_streams': 0,
  };
  const end = {
    'ordercast_socket_disconnects_total{namespace="/",reason="client namespace disconnect"}': 3,
    'ordercast_http_requests_total{method="GET",route="/api/orders/:id/stream",status="200"}': 1,
  };
  return { counters, live, after, end };
}

/** Resolve when cond() holds, polling every 10 ms; reject naming `what` after ms. */
async function until(cond, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`session: ${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10)); // poll interval of a deadline wait
  }
}

function connectSocket(url, opts) {
  const sock = io(url, { forceNew: true, reconnection: false, timeout: 5000, ...opts });
  return new Promise((resolve, reject) => {
    sock.once('connect', () => resolve(sock));
    sock.once('connect_error', (err) => { sock.close(); reject(err); });
  });
}

async function ack(sock, event, payload) {
  return sock.timeout(5000).emitWithAck(event, payload);
}

async function http(url, method, path, { auth, body, headers = {} } = {}) {
  if (auth) headers.authorization = `Bearer ${auth}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text), headers: res.headers };
}

function expectStatus(res, want, what) {
  if (res.status !== want) throw new Error(`session: ${what}: HTTP ${res.status} (want ${want}) ${res.text.slice(0, 300)}`);
}

function expectAck(a, ok, code, what) {
  if (!a || a.ok !== ok || (code && a.error?.code !== code)) {
    throw new Error(`session: ${what}: ack ${JSON.stringify(a)} (want ok=${ok}${code ? ` code ${code}` : ''})`);
  }
}

/**
 * Run the session against url; resolves to {orderId, trackingToken, end}.
 * Secrets it presents are the caller's (apiKey, staffToken, badToken) and the
 * tracking token it gets back.
 */
export async function runSession({ url, apiKey, staffToken, badToken = 'bad-token-not-a-jwt', bTransport = 'polling' }) {
  const created = await http(url, 'POST', '/api/orders', {
    auth: apiKey, body: { customer: 'Metra Metrics', items: [{ name: 'Tea', qty: 1 }], total: 300 },
  });
  expectStatus(created, 201, 'create order');
  const { order, trackingToken } = created.json();
  const id = order.id;

  const sockets = [];
  const received = new Map(); // socket -> {status: [], message: []}
  const track = (s) => {
    sockets.push(s);
    const got = { status: [], message: [] };
    received.set(s, got);
    s.on(ORDER_STATUS, (e) => { if (e.orderId === id) got.status.push(e); });
    s.on(ORDER_MESSAGE, (e) => { if (e.orderId === id) got.message.push(e); });
    return s;
  };
  const A = track(await connectSocket(url, { transports: ['websocket'] }));
  const B = track(await connectSocket(url, { transports: [bTransport], query: { token: trackingToken } }));
  const S = track(await connectSocket(url, { transports: ['websocket'], auth: { token: staffToken } }));

  let refused;
  try {
    const bad = await connectSocket(url, { transports: ['websocket'], auth: { token: badToken } });
    bad.close();
  } catch (err) {
    refused = err;
  }
  if (!refused || refused.data?.code !== 'unauthorized') {
    throw new Error(`session: bad handshake not refused as unauthorized: ${refused?.message} ${JSON.stringify(refused?.data)}`);
  }

  expectAck(await ack(A, 'order:subscribe', { orderId: id, token: trackingToken }), true, null, 'A subscribe');
  expectAck(await ack(B, 'order:subscribe', { orderId: id, token: trackingToken }), true, null, 'B subscribe');

  const sse = new AbortController();
  const stream = await fetch(`${url}/api/orders/${id}/stream?token=${encodeURIComponent(trackingToken)}`, { signal: sse.signal });
  if (stream.status !== 200) throw new Error(`session: SSE stream: HTTP ${stream.status}`);
  const drain = stream.body.getReader();
  const draining = (async () => { try { for (;;) { const { done } = await drain.read(); if (done) return; } } catch { /* aborted */ } })();

  for (const status of ['confirmed', 'packed', 'shipped']) {
    expectStatus(await http(url, 'POST', `/api/orders/${id}/status`, { auth: apiKey, body: { status } }), 200, `status ${status}`);
  }
  await until(() => sockets.every((s) => received.get(s).status.length === 3), 'three order:status on each socket');

  expectAck(await ack(A, 'order:message', { orderId: id, text: 'Is it hot?' }), true, null, 'A message');
  await until(() => sockets.every((s) => received.get(s).message.length === 1), 'the order:message on each socket');

  expectAck(await ack(A, 'order:update-status', { orderId: id, status: 'delivered' }), false, 'forbidden', 'customer status change');
  A.emit('no:such-event', { x: 1 });
  expectAck(await ack(A, 'order:unsubscribe', { orderId: 'some-other-order' }), true, null, 'unsubscribe barrier');

  expectStatus(await http(url, 'GET', `/track/${id}?token=${encodeURIComponent(trackingToken)}`), 200, 'tracking page');
  expectStatus(await http(url, 'GET', `/api/orders/${id}?token=${encodeURIComponent(trackingToken)}`), 200, 'order by token');
  expectStatus(await http(url, 'GET', '/no/such/route'), 404, 'unknown route');

  // Nothing more may arrive: every count above is exact.
  for (const s of sockets) {
    const got = received.get(s);
    if (got.status.length !== 3 || got.message.length !== 1) {
      throw new Error(`session: extra events: ${got.status.length} statuses, ${got.message.length} messages`);
    }
  }

  const end = async () => {
    for (const s of sockets) s.disconnect();
    sse.abort();
    await draining;
  };
  return { orderId: id, trackingToken, end };
}

// CLI for the Go test: env OC_URL, OC_API_KEY, OC_STAFF_TOKEN,
// OC_B_TRANSPORT. Prints one JSON line {"ready": true, "expected": {...}}
// once the session is live, ends it when a line arrives on stdin, then
// prints {"done": true}.
if (process.env.OC_SESSION_CLI === '1') {
  const fail = (err) => { console.log(JSON.stringify({ error: String(err?.stack ?? err) })); process.exit(1); };
  try {
    const bTransport = process.env.OC_B_TRANSPORT || 'polling';
    const s = await runSession({
      url: process.env.OC_URL, apiKey: process.env.OC_API_KEY, staffToken: process.env.OC_STAFF_TOKEN, bTransport,
    });
    console.log(JSON.stringify({ ready: true, orderId: s.orderId, expected: expectations({ bTransport }) }));
    const rl = createInterface({ input: process.stdin });
    await new Promise((resolve) => { rl.once('line', resolve); rl.once('close', resolve); });
    rl.close();
    await s.end();
    console.log(JSON.stringify({ done: true }));
    process.exit(0);
  } catch (err) {
    fail(err);
  }
}
