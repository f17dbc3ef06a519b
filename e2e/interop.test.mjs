// Interop with a shop's existing Node services over the shared Redis (with
// a fresh channel prefix, passed to Node as `key`): the official
// @socket.io/redis-emitter, and a Node socket.io 4.8 server with the official
// @socket.io/redis-adapter, exchange room broadcasts with ordercast both ways.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Emitter } from '@socket.io/redis-emitter';
import { createClient } from 'redis';
import { io as ioClient } from 'socket.io-client';
import {
  createOrder, postStatus, connect, staffToken, waitFor, subscribe, httpLog, cleanup,
} from './harness.mjs';
import { need, tool, postgres, redisAt, pgSchema, startCluster, SHARED_REDIS, rand } from './cluster-harness.mjs';

after(cleanup);

const skip = (await need(tool('psql'), postgres(), redisAt(SHARED_REDIS))) ?? false;
const prefix = `oc-interop-${rand()}`;
let G; // the ordercast process
let emitter;
let nodeIo;
let nodeUrl;
if (!skip) {
  ({ servers: [G] } = await startCluster(1, { databaseUrl: pgSchema(), redisUrl: SHARED_REDIS, prefix, args: ['--redis-node-peers'] }));

  const emitterClient = createClient({ url: SHARED_REDIS });
  await emitterClient.connect();
  emitter = new Emitter(emitterClient, { key: prefix });

  // A Node socket.io server as a shop would run it; its sockets join the
  // rooms named in the handshake query (the test's stand-in for its logic).
  const pub = createClient({ url: SHARED_REDIS });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  nodeIo = new Server(httpServer);
  nodeIo.adapter(createAdapter(pub, sub, { key: prefix }));
  nodeIo.on('connection', (s) => { for (const r of String(s.handshake.query.rooms || '').split(',').filter(Boolean)) s.join(r); });
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  nodeUrl = `http://127.0.0.1:${httpServer.address().port}`;
  // The Node adapter subscribes in the background; its request channel
  // shows two subscribers (ordercast and Node) once it has.
  await waitFor(async () => {
    const r = await pub.sendCommand(['PUBSUB', 'NUMSUB', `${prefix}-request#/#`]);
    return Number(r[1]) >= 2;
  }, 5000, 'the Node adapter subscribed');

  after(async () => {
    nodeIo.close();
    await Promise.all([emitterClient.quit(), pub.quit(), sub.quit()].map((p) => p.catch(() => {})));
  });
}

test('@socket.io/redis-emitter: a Node service emits to room order-123, a stock client on ordercast gets it', { skip }, async () => {
  const { trackingToken } = await createOrder(G, { id: '123', customer: 'Emma Emitter' });
  const customer = await connect(G);
  await subscribe(customer, '123', trackingToken);
  const staff = await connect(G, { auth: { token: await staffToken(G, 'support', 'Sid') } });

  const payload = {
    type: 'order:status', orderId: '123', seq: 2, status: 'shipped', note: 'left the warehouse ✓',
    at: new Date().toISOString(), by: 'warehouse-service',
  };
  const got = waitFor(customer, 'order:status', (e) => e.by === 'warehouse-service');
  emitter.to('order-123').emit('order:status', payload);
  assert.deepEqual(await got, payload);

  // Several rooms in one emit (published without a room in the channel name).
  const msg = { type: 'order:message', orderId: '123', seq: 3, from: 'support', author: 'Bot', text: 'Hi 👋', at: new Date().toISOString() };
  const toCustomer = waitFor(customer, 'order:message', (e) => e.author === 'Bot');
  const toStaff = waitFor(staff, 'order:message', (e) => e.author === 'Bot');
  emitter.to(['order-123', 'support']).emit('order:message', msg);
  assert.deepEqual(await toCustomer, msg);
  assert.deepEqual(await toStaff, msg);
  customer.close();
  staff.close();
});

test('@socket.io/redis-adapter: a Node socket.io server and ordercast exchange room broadcasts both ways', { skip }, async () => {
  const { order, trackingToken } = await createOrder(G, { customer: 'Noah Node' });
  const room = `order-${order.id}`;

  // ordercast -> Node: a status and a new order posted to ordercast reach
  // sockets of the Node server, with the contract's payload and types.
  const onNode = ioClient(nodeUrl, { forceNew: true, query: { rooms: `${room},support` }, transports: ['websocket'] });
  after(() => onNode.close());
  await waitFor(onNode, 'connect');
  const status = waitFor(onNode, 'order:status', (e) => e.orderId === order.id);
  const res = await postStatus(G, order.id, 'confirmed', 'from ordercast');
  assert.equal(res.status, 200, res.text);
  const ev = await status;
  assert.deepEqual(ev, res.body.event);
  assert.equal(ev.seq, 2);
  assert.equal(typeof ev.seq, 'number');

  const created = waitFor(onNode, 'order:created', (p) => p.order?.customer === 'Oscar Other');
  const body = await createOrder(G, { customer: 'Oscar Other', items: [{ name: 'Tea', qty: 2 }], total: 990 });
  assert.deepEqual((await created).order, body.order);

  // Node -> ordercast: the Node server emits to the order's room; a stock
  // client subscribed on ordercast gets it.
  const customer = await connect(G);
  await subscribe(customer, order.id, trackingToken);
  const fromNode = { type: 'order:message', orderId: order.id, seq: 99, from: 'support', author: 'Node', text: 'hello from Node', at: new Date().toISOString() };
  const got = waitFor(customer, 'order:message', (e) => e.author === 'Node');
  nodeIo.to(room).emit('order:message', fromNode);
  assert.deepEqual(await got, fromNode);

  // And to several rooms at once.
  const staff = await connect(G, { auth: { token: await staffToken(G, 'support', 'Sue') } });
  const toStaff = waitFor(staff, 'order:message', (e) => e.author === 'Node 2');
  const toCustomer = waitFor(customer, 'order:message', (e) => e.author === 'Node 2');
  nodeIo.to([room, 'support']).emit('order:message', { ...fromNode, author: 'Node 2' });
  assert.equal((await toStaff).author, 'Node 2');
  assert.equal((await toCustomer).author, 'Node 2');
  customer.close();
  staff.close();
});

test('no request of this suite got a 5xx', { skip }, () => {
  assert.deepEqual(httpLog.filter((r) => r.status >= 500), []);
});
