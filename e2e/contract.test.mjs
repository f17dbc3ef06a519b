// The contract validators of harness.mjs catch what they should: a fake
// server (the npm socket.io server and node:http) sends payloads that break
// docs/asyncapi.yaml and docs/openapi.yaml, through the very helpers the
// other suites use.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { Server } from 'socket.io';
import { api, connect, emitAck, waitFor, cleanup } from './harness.mjs';
import { takeContractErrors, checkEvent, checkAck } from './contract.mjs';

after(cleanup);

const order = {
  id: 'A-1', customer: 'Ada', items: [{ name: 'Tea', qty: 1 }], total: 100, currency: 'EUR',
  status: 'placed', lastSeq: 1, createdAt: '2026-01-02T03:04:05Z', updatedAt: '2026-01-02T03:04:05Z',
  assignee: null, awaitingReply: false, awaitingSince: null,
};
const statusEvent = { type: 'order:status', orderId: 'A-1', seq: 1, status: 'placed', note: '', at: '2026-01-02T03:04:05Z', by: 'service' };

test('socket events and acks that break asyncapi.yaml are caught', async () => {
  const httpServer = http.createServer();
  const ioServer = new Server(httpServer);
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  ioServer.on('connection', (s) => {
    s.on('order:subscribe', (_p, ack) => ack({ ok: true })); // no order, no events
    s.on('order:unsubscribe', (_p, ack) => ack({ ok: true }));
    s.on('order:message', (_p, ack) => ack({ ok: false, error: { code: 'oops', message: 'x' } }));
    s.on('go', () => {
      s.emit('order:status', { ...statusEvent, secret: 'leak' }); // undocumented field
      s.emit('order:created', { order: { ...order, lastSeq: '1' } }); // wrong type
      s.emit('order:surprise', {}); // undocumented event, sent last
    });
  });
  try {
    const sock = await connect({ url: `http://127.0.0.1:${httpServer.address().port}` }, { reconnection: false });
    await emitAck(sock, 'order:subscribe', { orderId: 'A-1' });
    await emitAck(sock, 'order:unsubscribe', { orderId: 'A-1' }); // documented ack: no error
    await new Promise((resolve, reject) => {
      sock.emit('order:message', { orderId: 'A-1', text: 'hi' }, (ack) => (ack?.ok === false ? resolve() : reject(new Error('ack'))));
    });
    const done = waitFor(sock, 'order:surprise'); // the last one sent
    sock.emit('go');
    await done;
    sock.close();
  } finally {
    ioServer.close();
    httpServer.closeAllConnections();
  }
  const errs = takeContractErrors();
  const has = (re) => assert.ok(errs.some((e) => re.test(e)), `expected an error matching ${re} in:\n${errs.join('\n')}`);
  has(/^ack of order:subscribe: /);
  has(/^ack of order:message: .*code/);
  has(/^event order:status: .*additional/);
  has(/^event order:created: .*lastSeq/);
  has(/^event order:surprise: not documented/);
  assert.ok(!errs.some((e) => e.startsWith('ack of order:unsubscribe')), errs.join('\n'));
  assert.equal(errs.length, 5, errs.join('\n'));
});

test('HTTP responses that break openapi.yaml are caught', async () => {
  const answers = {
    '/healthz': [200, { status: 'ok', uptime: 3 }], // undocumented field
    '/readyz': [418, { status: 'ready', checks: {} }], // undocumented status
    '/api/orders/A-1': [404, { error: { code: 'forbidden', message: 'x' } }], // code of another status
    '/api/orders': [200, { orders: [order], next: '' }], // as documented
    '/nowhere': [200, {}], // a path the document does not know
  };
  const srv = http.createServer((req, res) => {
    const [status, body] = answers[new URL(req.url, 'http://x').pathname] ?? [500, {}];
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  try {
    const fake = { url: `http://127.0.0.1:${srv.address().port}`, apiKey: 'k' };
    for (const p of Object.keys(answers)) await api(fake, 'GET', p);
  } finally {
    srv.close();
  }
  const errs = takeContractErrors();
  const has = (re) => assert.ok(errs.some((e) => re.test(e)), `expected an error matching ${re} in:\n${errs.join('\n')}`);
  has(/^GET \/healthz -> 200: .*additional/);
  has(/^GET \/readyz -> 418: status 418 is not documented/);
  has(/^GET \/api\/orders\/A-1 -> 404: .*allowed values/);
  has(/^GET \/nowhere -> 200: /);
  assert.equal(errs.length, 4, errs.join('\n'));
});

test('valid payloads pass', () => {
  checkEvent('order:status', statusEvent);
  checkEvent('order:created', { order: { ...order, assignee: null, awaitingReply: false, awaitingSince: null } });
  checkEvent('stats', { connections: { websocket: 1, polling: 0 }, rooms: 2, eventsPerSecond: 0.5, broadcastLatencyMs: { p50: 0, p99: 1.5 }, nodes: 1 });
  checkAck('order:subscribe', { ok: true, order, events: [statusEvent], presence: { customers: 1, staff: 0 }, supportOnline: 2 });
  checkAck('order:subscribe', { ok: false, error: { code: 'forbidden', message: 'this token is not for this order' } });
  checkAck('no:such:event', { ok: false, error: { code: 'bad_request', message: 'unknown event' } });
  assert.deepEqual(takeContractErrors(), []);
});

test('an unknown event is acked bad_request and nothing else', () => {
  checkAck('no:such:event', { ok: false, error: { code: 'forbidden', message: 'x' } });
  checkAck('no:such:event', { ok: true });
  const errs = takeContractErrors();
  assert.equal(errs.length, 2, errs.join('\n'));
  assert.ok(errs.every((e) => e.startsWith('ack of no:such:event: ')), errs.join('\n'));
});
