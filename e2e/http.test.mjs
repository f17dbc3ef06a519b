// HTTP API of the real ordercast binary: every error code of the contract
// with its JSON shape, paging, token access, SSE, and never a 5xx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, staffToken, api, httpLog, createOrder, postStatus, connect,
  waitFor, collect, emitAck, subscribe, cleanup,
} from './harness.mjs';
import { checkHTTP, checkSSE } from './contract.mjs';

let srv; // default limits
let small; // --max-message-bytes 2000
before(async () => {
  [srv, small] = await Promise.all([startServer(), startServer({ args: ['--max-message-bytes', '2000'] })]);
});
after(cleanup);

const isRFC3339 = (s) => typeof s === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s));
const validBody = () => ({ customer: 'Hattie Http', items: [{ name: 'Bread', qty: 1 }, { name: 'Milk', qty: 2 }], total: 499, currency: 'EUR' });

/** Assert an error response: status, code, and the {"error":{"code","message"}} shape. */
function assertError(res, status, code, what = '') {
  const ctx = `${what} -> HTTP ${res.status} ${res.text.slice(0, 300)}`;
  assert.equal(res.status, status, ctx);
  assert.ok(res.body && typeof res.body === 'object', `JSON body expected: ${ctx}`);
  assert.ok(res.body.error && typeof res.body.error === 'object', `error object expected: ${ctx}`);
  if (Array.isArray(code)) assert.ok(code.includes(res.body.error.code), ctx);
  else assert.equal(res.body.error.code, code, ctx);
  assert.equal(typeof res.body.error.message, 'string', ctx);
  assert.ok(res.body.error.message.length > 0, `non-empty message: ${ctx}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/, ctx);
}

function assertOrderShape(o) {
  for (const k of ['id', 'customer', 'items', 'total', 'currency', 'status', 'lastSeq', 'createdAt', 'updatedAt']) {
    assert.ok(k in o, `order.${k} missing in ${JSON.stringify(o)}`);
  }
  assert.ok(isRFC3339(o.createdAt), `createdAt ${o.createdAt}`);
  assert.ok(isRFC3339(o.updatedAt), `updatedAt ${o.updatedAt}`);
  assert.equal(typeof o.lastSeq, 'number');
}

test('health and readiness', async () => {
  assert.equal((await api(srv, 'GET', '/healthz', { auth: false })).status, 200);
  assert.equal((await api(srv, 'GET', '/readyz', { auth: false })).status, 200);
});

test('POST /api/orders: 201 {order, trackingToken, trackingUrl}; GET with ?token=, API key and staff token', async () => {
  const res = await api(srv, 'POST', '/api/orders', { body: { customer: 'Hattie Http', items: [{ name: 'Bread', qty: 1 }], total: 250 } });
  assert.equal(res.status, 201, res.text);
  const { order, trackingToken, trackingUrl } = res.body;
  assertOrderShape(order);
  assert.match(order.id, /^[A-Za-z0-9_-]{1,64}$/);
  assert.equal(order.customer, 'Hattie Http');
  assert.deepEqual(order.items, [{ name: 'Bread', qty: 1 }]);
  assert.equal(order.total, 250);
  assert.equal(order.currency, 'EUR', 'currency defaults to EUR');
  assert.equal(order.status, 'placed');
  assert.equal(order.lastSeq, 1);
  assert.equal(typeof trackingToken, 'string');
  assert.ok(trackingToken.length >= 16, 'tracking token long enough to be unguessable');
  assert.ok(trackingUrl.includes(`/track/${order.id}`), trackingUrl);
  assert.ok(trackingUrl.includes(encodeURIComponent(trackingToken)) || trackingUrl.includes(trackingToken), trackingUrl);

  const byToken = await api(srv, 'GET', `/api/orders/${order.id}?token=${encodeURIComponent(trackingToken)}`, { auth: false });
  assert.equal(byToken.status, 200, byToken.text);
  assertOrderShape(byToken.body.order);
  assert.equal(byToken.body.order.id, order.id);
  assert.equal(byToken.body.events.length, 1);
  const ev = byToken.body.events[0];
  assert.equal(ev.type, 'order:status');
  assert.equal(ev.orderId, order.id);
  assert.equal(ev.seq, 1);
  assert.equal(ev.status, 'placed');
  assert.equal(ev.note, '');
  assert.equal(ev.by, 'service');
  assert.ok(isRFC3339(ev.at));
  assert.ok(!byToken.text.includes(trackingToken), 'the tracking token is returned once, never again');

  const byKey = await api(srv, 'GET', `/api/orders/${order.id}`);
  assert.equal(byKey.status, 200);
  assert.deepEqual(byKey.body, byToken.body);
  const staff = await staffToken(srv, 'support', 'Stan Staff', '1h');
  const byStaff = await api(srv, 'GET', `/api/orders/${order.id}`, { auth: staff });
  assert.equal(byStaff.status, 200);
  assert.deepEqual(byStaff.body, byToken.body);

  // chosen id, explicit currency
  const chosen = await createOrder(srv, { id: 'Order_chosen-1', currency: 'USD' });
  assert.equal(chosen.order.id, 'Order_chosen-1');
  assert.equal(chosen.order.currency, 'USD');
});

test('POST /api/orders/:id/status: 200 {event}; by is "service" or the staff name; lifecycle walk', async () => {
  const { order, trackingToken } = await createOrder(srv);
  let seq = 1;
  for (const st of ['confirmed', 'packed', 'shipped', 'out_for_delivery', 'delivered']) {
    const r = await postStatus(srv, order.id, st, st === 'shipped' ? 'tracking 123' : undefined);
    assert.equal(r.status, 200, `${st}: ${r.text}`);
    seq += 1;
    assert.equal(r.body.event.type, 'order:status');
    assert.equal(r.body.event.orderId, order.id);
    assert.equal(r.body.event.seq, seq);
    assert.equal(r.body.event.status, st);
    assert.equal(r.body.event.note, st === 'shipped' ? 'tracking 123' : '');
    assert.equal(r.body.event.by, 'service');
    assert.ok(isRFC3339(r.body.event.at));
  }
  const got = await api(srv, 'GET', `/api/orders/${order.id}?token=${encodeURIComponent(trackingToken)}`, { auth: false });
  assert.equal(got.body.order.status, 'delivered');
  assert.equal(got.body.order.lastSeq, 6);
  assert.deepEqual(got.body.events.map((e) => e.status), ['placed', 'confirmed', 'packed', 'shipped', 'out_for_delivery', 'delivered']);

  const other = await createOrder(srv);
  const staff = await staffToken(srv, 'support', 'Stella Support');
  const r = await postStatus(srv, other.order.id, 'cancelled', 'customer asked', { auth: staff });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.event.by, 'Stella Support');
});

test('400 bad_request: malformed JSON and missing or wrong fields on POST /api/orders', async () => {
  const raw = ['{bad json', '', 'null', '[]', '42', '"order"', '{"customer":"a","items":[{"name":"x","qty":1}],"total":1', '{"customer":"a",}'];
  for (const body of raw) {
    assertError(await api(srv, 'POST', '/api/orders', { body }), 400, 'bad_request', `raw ${JSON.stringify(body)}`);
  }
  const b = validBody;
  const bad = {
    'empty object': {},
    'customer missing': { ...b(), customer: undefined },
    'customer empty': { ...b(), customer: '' },
    'customer blank': { ...b(), customer: '   ' },
    'customer number': { ...b(), customer: 42 },
    'customer 201 chars': { ...b(), customer: 'c'.repeat(201) },
    'customer 201 code points': { ...b(), customer: '\u{1F600}'.repeat(201) },
    'items missing': { ...b(), items: undefined },
    'items empty': { ...b(), items: [] },
    'items not array': { ...b(), items: 'bread' },
    'items 101': { ...b(), items: Array.from({ length: 101 }, (_, i) => ({ name: `i${i}`, qty: 1 })) },
    'item null': { ...b(), items: [null] },
    'item name missing': { ...b(), items: [{ qty: 1 }] },
    'item name empty': { ...b(), items: [{ name: '', qty: 1 }] },
    'qty 0': { ...b(), items: [{ name: 'x', qty: 0 }] },
    'qty negative': { ...b(), items: [{ name: 'x', qty: -1 }] },
    'qty fraction': { ...b(), items: [{ name: 'x', qty: 1.5 }] },
    'qty string': { ...b(), items: [{ name: 'x', qty: '2' }] },
    'qty missing': { ...b(), items: [{ name: 'x' }] },
    'total missing': { ...b(), total: undefined },
    'total string': { ...b(), total: '4.99' },
    'total fraction': { ...b(), total: 4.99 },
    'total negative': { ...b(), total: -1 },
    'total huge': { ...b(), total: 1e300 },
    'currency lowercase': { ...b(), currency: 'eur' },
    'currency 4 letters': { ...b(), currency: 'EURO' },
    'currency number': { ...b(), currency: 978 },
    'id with space': { ...b(), id: 'bad id' },
    'id 65 chars': { ...b(), id: 'x'.repeat(65) },
    'id non-ascii': { ...b(), id: 'bestellung-ä' },
    'id slash': { ...b(), id: 'a/b' },
    'id number': { ...b(), id: 12345 },
  };
  const failures = [];
  for (const [name, body] of Object.entries(bad)) {
    const res = await api(srv, 'POST', '/api/orders', { body });
    try { assertError(res, 400, 'bad_request', name); } catch (err) { failures.push(err.message.split('\n')[0]); }
  }
  assert.deepEqual(failures, []);
  // limits are inclusive and count code points
  const okBig = await api(srv, 'POST', '/api/orders', { body: { ...b(), customer: '\u{1F600}'.repeat(200), id: 'y'.repeat(64), items: Array.from({ length: 100 }, (_, i) => ({ name: `i${i}`, qty: 1 })) } });
  assert.equal(okBig.status, 201, okBig.text.slice(0, 300));
  assert.equal(okBig.body.order.customer, '\u{1F600}'.repeat(200));
});

test('400 bad_request on POST /api/orders/:id/status: malformed JSON, missing status, unknown status name', async () => {
  const { order } = await createOrder(srv);
  const p = `/api/orders/${order.id}/status`;
  for (const body of ['{nope', '', '[]', '"confirmed"']) {
    assertError(await api(srv, 'POST', p, { body }), 400, 'bad_request', `raw ${JSON.stringify(body)}`);
  }
  for (const body of [{}, { status: 'teleported' }, { status: 'Confirmed' }, { status: 42 }, { status: null }, { status: 'confirmed', note: 42 }]) {
    assertError(await api(srv, 'POST', p, { body }), 400, 'bad_request', JSON.stringify(body));
  }
  const after = await api(srv, 'GET', `/api/orders/${order.id}`);
  assert.equal(after.body.order.lastSeq, 1, 'nothing stored');
});

test('401 unauthorized: no credential, or an invalid or expired one', async () => {
  const { order } = await createOrder(srv);
  const expired = await staffToken(srv, 'support', 'Expired Ed', '-1h').catch(() => null);
  const foreign = await staffToken({ dataDir: srv.dataDir, secret: 'a-completely-different-secret-0123456789' }, 'admin', 'Mallory');
  const creds = [
    ['no header', { auth: false }],
    ['wrong key', { auth: 'not-the-key' }],
    ['empty bearer', { auth: false, headers: { authorization: 'Bearer ' } }],
    ['basic scheme', { auth: false, headers: { authorization: `Basic ${Buffer.from(`x:${srv.apiKey}`).toString('base64')}` } }],
    ['key without scheme', { auth: false, headers: { authorization: srv.apiKey } }],
    ['token signed with another secret', { auth: foreign }],
  ];
  if (expired) creds.push(['expired staff token', { auth: expired }]);
  const calls = [
    ['POST', '/api/orders', validBody()],
    ['POST', `/api/orders/${order.id}/status`, { status: 'confirmed' }],
    ['GET', '/api/orders'],
    ['GET', `/api/orders/${order.id}`],
  ];
  for (const [cname, o] of creds) {
    for (const [method, path, body] of calls) {
      assertError(await api(srv, method, path, { ...o, body }), 401, 'unauthorized', `${cname}: ${method} ${path}`);
    }
  }
  // a wrong or empty tracking token
  // A garbage tracking token: the server stores only hashes, so "invalid" (401)
  // and "not this order's" (403) are both acceptable here.
  const g = await api(srv, 'GET', `/api/orders/${order.id}?token=garbage`, { auth: false });
  assertError(g, g.status === 403 ? 403 : 401, g.status === 403 ? 'forbidden' : 'unauthorized', 'garbage token');
  assertError(await api(srv, 'GET', `/api/orders/${order.id}?token=`, { auth: false }), 401, 'unauthorized', 'empty token');
  const after = await api(srv, 'GET', `/api/orders/${order.id}`);
  assert.equal(after.body.order.status, 'placed', 'no unauthorized change went through');
});

test("403 forbidden: another order's tracking token; a support token creating orders", async () => {
  const A = await createOrder(srv, { customer: 'Ann Forbidden' });
  const B = await createOrder(srv, { customer: 'Bea Forbidden' });
  const r = await api(srv, 'GET', `/api/orders/${B.order.id}?token=${encodeURIComponent(A.trackingToken)}`, { auth: false });
  assertError(r, 403, 'forbidden', "B with A's token");
  assert.ok(!r.text.includes('Bea Forbidden'), 'no data of B leaks');
  const sse = await api(srv, 'GET', `/api/orders/${B.order.id}/stream?token=${encodeURIComponent(A.trackingToken)}`, { auth: false });
  assertError(sse, 403, 'forbidden', "stream of B with A's token");
  // a tracking token is not a bearer credential for status changes
  const st = await postStatus(srv, A.order.id, 'confirmed', undefined, { auth: A.trackingToken });
  assert.ok([401, 403].includes(st.status), `customer changing a status: HTTP ${st.status}`);
  const support = await staffToken(srv, 'support', 'Sue Support');
  assertError(await api(srv, 'POST', '/api/orders', { auth: support, body: validBody() }), 403, 'forbidden', 'support creating an order');
});

test('404 not_found: no such order', async () => {
  assertError(await api(srv, 'GET', '/api/orders/no-such-order'), 404, 'not_found', 'GET');
  assertError(await postStatus(srv, 'no-such-order', 'confirmed'), 404, 'not_found', 'POST status');
  const staff = await staffToken(srv, 'support', 'Nora Notfound');
  assertError(await api(srv, 'GET', '/api/orders/no-such-order', { auth: staff }), 404, 'not_found', 'GET as staff');
  assertError(await api(srv, 'GET', '/api/orders/no-such-order/stream', { auth: staff }), 404, 'not_found', 'stream as staff');
});

test('409 invalid_transition and duplicate', async () => {
  const { order } = await createOrder(srv);
  for (const st of ['delivered', 'placed', 'packed', 'out_for_delivery']) {
    assertError(await postStatus(srv, order.id, st), 409, 'invalid_transition', `placed -> ${st}`);
  }
  assert.equal((await postStatus(srv, order.id, 'confirmed')).status, 200);
  assertError(await postStatus(srv, order.id, 'confirmed'), 409, 'invalid_transition', 'confirmed -> confirmed');
  assert.equal((await postStatus(srv, order.id, 'cancelled')).status, 200);
  for (const st of ['confirmed', 'cancelled', 'delivered', 'placed']) {
    assertError(await postStatus(srv, order.id, st), 409, 'invalid_transition', `cancelled -> ${st}`);
  }
  const done = await createOrder(srv);
  for (const st of ['confirmed', 'packed', 'shipped', 'out_for_delivery', 'delivered']) assert.equal((await postStatus(srv, done.order.id, st)).status, 200);
  assertError(await postStatus(srv, done.order.id, 'cancelled'), 409, 'invalid_transition', 'delivered -> cancelled');
  const got = await api(srv, 'GET', `/api/orders/${order.id}`);
  assert.equal(got.body.order.lastSeq, 3, 'refused transitions are not stored');

  const id = `dup-${Date.now()}`;
  const first = await api(srv, 'POST', '/api/orders', { body: { ...validBody(), id, customer: 'First Owner' } });
  assert.equal(first.status, 201);
  assertError(await api(srv, 'POST', '/api/orders', { body: { ...validBody(), id, customer: 'Second Owner' } }), 409, 'duplicate', 'same id twice');
  const kept = await api(srv, 'GET', `/api/orders/${id}`);
  assert.equal(kept.body.order.customer, 'First Owner');
  assert.equal(kept.body.events.length, 1);
});

test('413 too_large: a body over --max-message-bytes (2000); bodies under it work', async () => {
  const items = (n) => Array.from({ length: n }, (_, i) => ({ name: `item-${String(i).padStart(3, '0')}-${'x'.repeat(30)}`, qty: 1 }));
  const under = { customer: 'Tiny Limit', items: items(20), total: 1 };
  assert.ok(JSON.stringify(under).length < 1900);
  const ok = await api(small, 'POST', '/api/orders', { body: under });
  assert.equal(ok.status, 201, ok.text);
  const over = { customer: 'Tiny Limit', items: items(80), total: 1 };
  assert.ok(JSON.stringify(over).length > 3000);
  assertError(await api(small, 'POST', '/api/orders', { body: over }), 413, 'too_large', 'order body 3 KB');
  // status body with a big note
  assertError(await api(small, 'POST', `/api/orders/${ok.body.order.id}/status`, { body: { status: 'confirmed', note: 'n'.repeat(5000) } }), 413, 'too_large', 'status body 5 KB');
  // a large body is fine on the default (1 MB) server
  const big = await api(srv, 'POST', '/api/orders', { body: over });
  assert.equal(big.status, 201, big.text.slice(0, 200));
  // and 2 MB is refused there
  const huge = { customer: 'H'.repeat(2_000_000), items: [{ name: 'x', qty: 1 }], total: 1 };
  assertError(await api(srv, 'POST', '/api/orders', { body: huge }), 413, 'too_large', '2 MB body on the default server');
});

test('socket.io message over --max-message-bytes: refused for that socket alone', async () => {
  const { order, trackingToken } = await createOrder(small, { customer: 'Big Talker' });
  const big = await connect(small, { transports: ['websocket'], reconnection: false });
  const other = await connect(small, { reconnection: false });
  await subscribe(big, order.id, trackingToken);
  await subscribe(other, order.id, trackingToken);
  const otherDisconnects = collect(other, 'disconnect');
  const text = '\u{1F4E6}'.repeat(1500); // 1500 code points (valid length), 6000 bytes (over the 2000-byte limit)
  const outcome = await Promise.race([
    waitFor(big, 'disconnect', undefined, 5000).then((reason) => ({ disconnected: reason })),
    big.timeout(5000).emitWithAck('order:message', { orderId: order.id, text }).then((ack) => ({ ack }), (err) => ({ noAck: err.message })),
  ]);
  assert.ok(outcome.disconnected || (outcome.ack?.ok === false && outcome.ack.error?.code === 'too_large'),
    `oversized socket message must disconnect the socket or be acked too_large, got ${JSON.stringify(outcome)}`);
  const m = await emitAck(other, 'order:message', { orderId: order.id, text: 'small one' });
  assert.equal(m.ok, true, JSON.stringify(m));
  assert.deepEqual(otherDisconnects, []);
  const got = await api(small, 'GET', `/api/orders/${order.id}`);
  assert.deepEqual(got.body.events.filter((e) => e.type === 'order:message').map((e) => e.text), ['small one']);
  big.close();
  other.close();
});

test('GET /api/orders: newest first, limit, next cursor, status filter, bad parameters', async () => {
  const s = await startServer();
  const ids = [];
  for (let i = 1; i <= 7; i++) {
    ids.push((await createOrder(s, { id: `list-${i}`, customer: `Lister ${i}` })).order.id);
  }
  for (const id of ['list-2', 'list-5']) assert.equal((await postStatus(s, id, 'confirmed')).status, 200);

  const all = await api(s, 'GET', '/api/orders');
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(all.body.orders.map((o) => o.id), [...ids].reverse(), 'newest first, default limit 20');
  all.body.orders.forEach(assertOrderShape);
  assert.ok(!all.body.next, `no next page: ${JSON.stringify(all.body.next)}`);
  assert.ok(!all.text.includes('trackingToken'), 'lists never carry tracking tokens');

  const p1 = await api(s, 'GET', '/api/orders?limit=3');
  assert.equal(p1.status, 200);
  assert.deepEqual(p1.body.orders.map((o) => o.id), ['list-7', 'list-6', 'list-5']);
  assert.ok(p1.body.next, 'next cursor on a full page');
  await createOrder(s, { id: 'list-8' }); // created while paging: must not shift later pages
  const p2 = await api(s, 'GET', `/api/orders?limit=3&before=${encodeURIComponent(p1.body.next)}`);
  assert.equal(p2.status, 200, p2.text);
  assert.deepEqual(p2.body.orders.map((o) => o.id), ['list-4', 'list-3', 'list-2']);
  const p3 = await api(s, 'GET', `/api/orders?limit=3&before=${encodeURIComponent(p2.body.next)}`);
  assert.equal(p3.status, 200, p3.text);
  assert.deepEqual(p3.body.orders.map((o) => o.id), ['list-1']);
  assert.ok(!p3.body.next, 'no next after the last page');

  const confirmed = await api(s, 'GET', '/api/orders?status=confirmed');
  assert.deepEqual(confirmed.body.orders.map((o) => o.id), ['list-5', 'list-2']);
  const c1 = await api(s, 'GET', '/api/orders?status=confirmed&limit=1');
  assert.deepEqual(c1.body.orders.map((o) => o.id), ['list-5']);
  const c2 = await api(s, 'GET', `/api/orders?status=confirmed&limit=1&before=${encodeURIComponent(c1.body.next)}`);
  assert.deepEqual(c2.body.orders.map((o) => o.id), ['list-2']);

  const hundred = await api(s, 'GET', '/api/orders?limit=100');
  assert.equal(hundred.status, 200);
  assert.equal(hundred.body.orders.length, 8);
  const staff = await staffToken(s, 'support', 'Lisa Lister');
  assert.equal((await api(s, 'GET', '/api/orders?limit=1', { auth: staff })).status, 200);

  for (const q of ['limit=0', 'limit=101', 'limit=-1', 'limit=abc', 'limit=1.5', 'status=teleported', 'before=not-a-cursor', `before=${'A'.repeat(300)}`]) {
    assertError(await api(s, 'GET', `/api/orders?${q}`), 400, 'bad_request', q);
  }
  await s.stop();
});

/**
 * Incremental Server-Sent Events reader over a fetch response.
 * `await sse.next(n, ms)` resolves to the next n events ({id, event, data, json}),
 * or rejects when they do not arrive within ms. Comment lines are skipped.
 */
function sseReader(res) {
  // Streams bypass api(): check the response and each frame here.
  const u = new URL(res.url);
  checkHTTP({ method: 'GET', path: u.pathname + u.search, status: res.status, headers: res.headers, stream: true });
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  const queue = [];
  let buf = '';
  let pending = null; // an outstanding reader.read(), kept across deadline expiries
  const parse = () => {
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const ev = { data: '' };
      for (const line of block.split('\n')) {
        if (!line || line.startsWith(':')) continue;
        const m = line.match(/^([^:]*):? ?(.*)$/);
        if (m[1] === 'data') ev.data += (ev.data ? '\n' : '') + m[2];
        else ev[m[1]] = m[2];
      }
      if (ev.data) {
        queue.push({ ...ev, json: JSON.parse(ev.data) });
        checkSSE(ev.event, queue[queue.length - 1].json);
      }
    }
  };
  return {
    async next(n, ms = 5000) {
      const deadline = Date.now() + ms;
      while (queue.length < n) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`SSE: ${n} events not received within ${ms} ms; have ${JSON.stringify(queue)}`);
        pending ??= reader.read();
        let t;
        const r = await Promise.race([pending, new Promise((res2) => { t = setTimeout(res2, left, null); })]);
        clearTimeout(t);
        if (r === null) continue;
        pending = null;
        if (r.done) throw new Error(`SSE stream ended; have ${JSON.stringify(queue)}`);
        buf += dec.decode(r.value, { stream: true }).replace(/\r\n?/g, '\n');
        parse();
      }
      return queue.splice(0, n);
    },
  };
}

test('SSE stream: whole timeline first, then live; Last-Event-ID resumes after it', async () => {
  const { order, trackingToken } = await createOrder(srv, { customer: 'Sid Stream' });
  assert.equal((await postStatus(srv, order.id, 'confirmed')).status, 200);
  const ac = new AbortController();
  const url = `${srv.url}/api/orders/${order.id}/stream?token=${encodeURIComponent(trackingToken)}`;
  try {
    const res = await fetch(url, { signal: ac.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const sse = sseReader(res);
    let events = await sse.next(2);
    assert.deepEqual(events.map((e) => [e.id, e.event, e.json.seq, e.json.status]), [['1', 'order:status', 1, 'placed'], ['2', 'order:status', 2, 'confirmed']]);
    assert.equal((await postStatus(srv, order.id, 'packed')).status, 200);
    events = events.concat(await sse.next(1));
    assert.deepEqual(events.map((e) => e.id), ['1', '2', '3']);
    assert.equal(events[2].json.status, 'packed');
    assert.equal(events[2].json.orderId, order.id);
  } finally {
    ac.abort();
  }
  const ac2 = new AbortController();
  try {
    const res = await fetch(url, { signal: ac2.signal, headers: { 'last-event-id': '2' } });
    assert.equal(res.status, 200);
    const events = await sseReader(res).next(1);
    assert.deepEqual(events.map((e) => e.id), ['3']);
  } finally {
    ac2.abort();
  }
  const ac3 = new AbortController();
  try {
    const res = await fetch(`${url}&lastEventId=3`, { signal: ac3.signal });
    assert.equal(res.status, 200);
    const live = sseReader(res).next(1);
    assert.equal((await postStatus(srv, order.id, 'shipped')).status, 200);
    const events = await live;
    assert.deepEqual(events.map((e) => e.id), ['4'], 'lastEventId query: only what follows');
  } finally {
    ac3.abort();
  }
  assertError(await api(srv, 'GET', `/api/orders/${order.id}/stream`, { auth: false }), 401, 'unauthorized', 'stream without token');
});

test('--allowed-origins: other origins are refused (HTTP and socket.io handshake, 403); listed ones get CORS; no Origin is fine', async () => {
  const evil = 'http://evil.example';
  // default: same origin only
  assertError(await api(srv, 'GET', '/api/orders', { headers: { origin: evil } }), 403, 'forbidden', 'cross-origin API call');
  assert.equal((await api(srv, 'GET', '/api/orders', { headers: { origin: srv.url } })).status, 200, 'same origin');
  await assert.rejects(connect(srv, { transports: ['polling'], extraHeaders: { origin: evil }, reconnection: false }));
  await assert.rejects(connect(srv, { transports: ['websocket'], extraHeaders: { origin: evil }, reconnection: false }));
  const hs = await api(srv, 'GET', '/socket.io/?EIO=4&transport=polling', { auth: false, headers: { origin: evil } });
  assert.equal(hs.status, 403, 'socket.io handshake from another origin');
  const same = await connect(srv, { transports: ['websocket'], extraHeaders: { origin: srv.url }, reconnection: false });
  same.close();

  const shop = 'http://shop.example';
  const s = await startServer({ args: ['--allowed-origins', `${shop},http://other.example`] });
  const ok = await api(s, 'GET', '/api/orders', { headers: { origin: shop } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), shop);
  const pre = await api(s, 'OPTIONS', '/api/orders', { auth: false, headers: { origin: shop, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
  assert.ok(pre.status >= 200 && pre.status < 300, `preflight: HTTP ${pre.status}`);
  assert.equal(pre.headers.get('access-control-allow-origin'), shop);
  assert.match(pre.headers.get('access-control-allow-headers') ?? '', /authorization/i);
  assertError(await api(s, 'GET', '/api/orders', { headers: { origin: evil } }), 403, 'forbidden', 'unlisted origin');
  const sock = await connect(s, { extraHeaders: { origin: shop }, reconnection: false });
  sock.close();
  await assert.rejects(connect(s, { transports: ['polling'], extraHeaders: { origin: evil }, reconnection: false }));
  await s.stop();
});

test('odd requests never get a 5xx', async () => {
  const { order } = await createOrder(srv);
  const odd = [
    ['PUT', '/api/orders', {}],
    ['DELETE', `/api/orders/${order.id}`],
    ['PATCH', `/api/orders/${order.id}`, {}],
    ['GET', '/api/orders/%ZZ'],
    ['GET', `/api/orders/${'a'.repeat(5000)}`],
    ['POST', `/api/orders/${'a'.repeat(5000)}/status`, { status: 'confirmed' }],
    ['GET', '/api/orders/bad%20id'],
    ['POST', '/api/orders', Buffer.from([0x7b, 0x22, 0x63, 0xff, 0xfe, 0x22, 0x7d])],
    ['POST', '/api/orders', '['.repeat(100_000)],
    ['POST', '/api/orders', '{"customer":"a","items":[{"name":"x","qty":1}],"total":9223372036854775808}'],
    ['POST', '/api/orders', '{"customer":"a","items":[{"name":"x","qty":99999999999999999999}],"total":1}'],
    ['POST', '/api/orders', '{"customer":"a\\u0000b","items":[{"name":"x","qty":1}],"total":1}'],
    ['POST', '/api/orders', '{"customer":"\\ud800","items":[{"name":"x","qty":1}],"total":1}'],
    ['POST', '/api/orders', '{"customer":"a","customer":"b","items":[{"name":"x","qty":1}],"total":1}'],
    ['POST', `/api/orders/${order.id}/status`, { status: 'confirmed', note: 'n'.repeat(10_000) }],
    ['POST', `/api/orders/${order.id}/status`, { status: ['confirmed'] }],
    ['GET', `/api/orders?limit=${'9'.repeat(40)}`],
    ['GET', '/api/orders?before=' + 'A'.repeat(5000)],
    ['GET', '/no/such/path'],
    ['GET', '/socket.io/?EIO=4&transport=polling&sid=nope'],
    ['GET', '/socket.io/?EIO=3&transport=polling'],
    ['POST', '/socket.io/?EIO=4&transport=polling&sid=nope', 'garbage'],
  ];
  const seen = [];
  for (const [method, path, body] of odd) {
    const r = await api(srv, method, path, { body, headers: typeof body === 'string' || Buffer.isBuffer(body) ? { 'content-type': 'application/json' } : {} });
    seen.push(`${method} ${path.slice(0, 60)} -> ${r.status}`);
    assert.ok(r.status < 500, `${method} ${path.slice(0, 80)}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  }
  const stream = await api(srv, 'GET', `/api/orders/${order.id}/stream?token=x&lastEventId=abc`, { auth: false });
  assert.ok(stream.status < 500);
});

test('no response in this file was a 5xx', () => {
  const fives = httpLog.filter((r) => r.status >= 500);
  assert.deepEqual(fives, []);
  assert.ok(httpLog.length > 100);
});
