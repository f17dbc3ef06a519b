// The support desk (contract 0.2) at the socket level: typing, presence,
// support online, assignment and the waiting list, each on one process and
// on two processes sharing PostgreSQL and Redis (every test then puts its
// sockets on both), and a killed process whose sockets drop out of the
// other process's counts within the documented bound (docs/choices.md).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, createOrder, connect, staffToken, waitFor, emitAck, subscribe, collect, api, cleanup,
} from './harness.mjs';
import { need, tool, postgres, redisAt, pgSchema, startCluster, SHARED_REDIS } from './cluster-harness.mjs';

after(cleanup);

// A dead process drops out of the counts within presence.TTL +
// presence.ExpireInterval (7 s); the test allows a margin for a loaded machine.
const PRESENCE_BOUND_MS = 7000;

const clusterSkip = (await need(tool('psql'), postgres(), redisAt(SHARED_REDIS))) ?? false;

const layouts = [
  { name: 'one process', setup: async () => { const s = await startServer(); return [s, s]; } },
  {
    name: 'two processes on PostgreSQL and Redis',
    skip: clusterSkip,
    setup: async (databaseUrl) => (await startCluster(2, { databaseUrl, redisUrl: SHARED_REDIS })).servers,
  },
];

const staff = async (srv, name) => connect(srv, { auth: { token: await staffToken(srv, 'support', name) } });
const closeAll = (...socks) => { for (const s of socks) s.close(); };

for (const layout of layouts) {
  describe(`desk on ${layout.name}`, { skip: layout.skip }, () => {
    let A; // the first process (customers mostly)
    let B; // the second one (staff mostly); the same as A on one process
    // The schema lives as long as the suite (pgSchema drops it after).
    const databaseUrl = layout.skip === false ? pgSchema() : undefined;
    test('start', async () => { [A, B] = await layout.setup(databaseUrl); });

    test('order:typing reaches the order room and support, never its sender; throttled to one a second', async () => {
      const { order, trackingToken } = await createOrder(A, { customer: 'Tia Typist' });
      const other = await createOrder(A);
      const cust = await connect(A);
      const agent = await staff(B, 'Sam Support');
      const watcher = await staff(A, 'Wendy Watcher'); // in support, not subscribed
      const stranger = await connect(B); // a customer of another order
      await subscribe(cust, order.id, trackingToken);
      await subscribe(agent, order.id);
      await subscribe(stranger, other.order.id, other.trackingToken);
      const custGot = collect(cust, 'order:typing');
      const strangerGot = collect(stranger, 'order:typing');
      const agentGot = collect(agent, 'order:typing');

      const atAgent = waitFor(agent, 'order:typing', (t) => t.from === 'customer');
      const atWatcher = waitFor(watcher, 'order:typing', (t) => t.orderId === order.id && t.from === 'customer');
      assert.deepEqual(await emitAck(cust, 'order:typing', { orderId: order.id }), { ok: true });
      assert.deepEqual(await atAgent, { orderId: order.id, from: 'customer', author: 'Tia Typist' });
      await atWatcher;
      // Its own signal would have reached the sender before its ack (same process).
      assert.deepEqual(custGot, []);

      // A burst within the second: every ack ok, nothing relayed.
      for (let i = 0; i < 5; i++) assert.deepEqual(await emitAck(cust, 'order:typing', { orderId: order.id }), { ok: true });
      // Staff typing is the marker: it follows the burst and reaches the customer.
      const atCust = waitFor(cust, 'order:typing', (t) => t.from === 'support');
      const marker = waitFor(agent, 'order:typing', (t) => t.from === 'support' && t.author === 'Wendy Watcher');
      assert.deepEqual(await emitAck(watcher, 'order:typing', { orderId: order.id }), { ok: true });
      assert.deepEqual(await atCust, { orderId: order.id, from: 'support', author: 'Wendy Watcher' });
      await marker;
      assert.equal(agentGot.filter((t) => t.from === 'customer').length, 1, `agent got ${JSON.stringify(agentGot)}`);
      assert.deepEqual(strangerGot, [], 'another order\'s customer got a typing signal');
      closeAll(cust, agent, watcher, stranger);
    });

    test('bad typing and assigning: contract codes, and other sockets unaffected', async () => {
      const { order, trackingToken } = await createOrder(A);
      const other = await createOrder(A);
      const cust = await connect(A);
      const agent = await staff(B, 'Sam Support');
      await subscribe(cust, order.id, trackingToken);
      const code = (ack) => ack?.error?.code;
      assert.equal(code(await emitAck(cust, 'order:typing', { orderId: other.order.id })), 'forbidden');
      assert.equal(code(await emitAck(cust, 'order:typing', { orderId: 'no-such-order' })), 'forbidden');
      assert.equal(code(await emitAck(agent, 'order:typing', { orderId: 'no-such-order' })), 'not_found');
      assert.equal(code(await emitAck(agent, 'order:typing', { orderId: 'bad id!' })), 'bad_request');
      assert.equal(code(await emitAck(agent, 'order:typing', { orderId: order.id, extra: 1 })), 'bad_request');
      assert.equal(code(await emitAck(cust, 'order:assign', { orderId: order.id })), 'forbidden');
      assert.equal(code(await emitAck(agent, 'order:assign', { orderId: 'no-such-order' })), 'not_found');
      assert.equal(code(await emitAck(agent, 'order:assign', { orderId: order.id, assignee: 5 })), 'bad_request');
      assert.equal(code(await emitAck(agent, 'order:assign', { orderId: order.id, assignee: '  ' })), 'bad_request');

      // A typing flood: it counts against the rate limit like any event.
      const acks = await Promise.all(Array.from({ length: 150 }, () => emitAck(cust, 'order:typing', { orderId: order.id })));
      const codes = new Set(acks.map((a) => (a.ok ? 'ok' : a.error.code)));
      assert.ok(codes.has('rate_limited'), `a flood of 150 got ${[...codes]}`);
      assert.deepEqual([...codes].filter((c) => c !== 'ok' && c !== 'rate_limited'), []);
      // Nobody else is disturbed.
      const typed = waitFor(cust, 'order:typing', (t) => t.from === 'support');
      await subscribe(agent, order.id);
      assert.deepEqual(await emitAck(agent, 'order:typing', { orderId: order.id }), { ok: true });
      await typed;
      assert.ok(cust.connected && agent.connected);
      closeAll(cust, agent);
    });

    test('order:presence counts subscribers by role over every process; the subscribe ack counts the new one', async () => {
      const { order, trackingToken } = await createOrder(A);
      const agent = await staff(B, 'Sam Support');
      const seen = waitFor(agent, 'order:presence', (p) => p.orderId === order.id && p.customers === 1 && p.staff === 0);
      const cust = await connect(A);
      const ack = await subscribe(cust, order.id, trackingToken);
      assert.deepEqual(ack.presence, { customers: 1, staff: 0 });
      assert.equal(typeof ack.supportOnline, 'number');
      assert.deepEqual(await seen, { orderId: order.id, customers: 1, staff: 0 });

      const custSees = waitFor(cust, 'order:presence', (p) => p.staff === 1);
      const sack = await subscribe(agent, order.id);
      assert.deepEqual(sack.presence, { customers: 1, staff: 1 });
      assert.deepEqual(await custSees, { orderId: order.id, customers: 1, staff: 1 });

      // A second subscribe of the same socket counts once.
      assert.deepEqual((await subscribe(cust, order.id, trackingToken)).presence, { customers: 1, staff: 1 });

      let gone = waitFor(agent, 'order:presence', (p) => p.orderId === order.id && p.customers === 0);
      assert.deepEqual(await emitAck(cust, 'order:unsubscribe', { orderId: order.id }), { ok: true });
      assert.deepEqual(await gone, { orderId: order.id, customers: 0, staff: 1 });

      const back = waitFor(agent, 'order:presence', (p) => p.orderId === order.id && p.customers === 1);
      await subscribe(cust, order.id, trackingToken);
      await back;
      gone = waitFor(agent, 'order:presence', (p) => p.orderId === order.id && p.customers === 0);
      cust.close(); // a disconnect drops its subscriptions
      await gone;
      const tab2 = await connect(A);
      assert.deepEqual((await subscribe(tab2, order.id, trackingToken)).presence, { customers: 1, staff: 1 });
      closeAll(agent, tab2);
    });

    test('support:online goes to every socket outside support when the staff count changes', async () => {
      const { order, trackingToken } = await createOrder(A);
      const cust = await connect(A);
      const supportGot = [];
      // Earlier tests closed their staff sockets; every process hears of it.
      const before = 0;
      await waitFor(async () => (await subscribe(cust, order.id, trackingToken)).supportOnline === before, 5000,
        'no staff socket left from earlier tests');
      const up = waitFor(cust, 'support:online', (p) => p.count === before + 1);
      const agent = await staff(B, 'Olga Online');
      agent.on('support:online', (p) => supportGot.push(p));
      assert.deepEqual(await up, { count: before + 1 });
      // The count is the same on every process, and in the next subscribe ack.
      const tab2 = await connect(B);
      await waitFor(async () => (await subscribe(tab2, order.id, trackingToken)).supportOnline === before + 1, 5000,
        'the second process counts the new staff socket');
      const down = waitFor(cust, 'support:online', (p) => p.count === before);
      agent.close();
      assert.deepEqual(await down, { count: before });
      assert.deepEqual(supportGot, [], 'a staff socket got support:online');
      closeAll(cust, tab2);
    });

    test('order:assign takes, gives and releases; order:assigned goes to support only', async () => {
      const { order, trackingToken } = await createOrder(A);
      const sam = await staff(A, 'Sam Support');
      const kim = await staff(B, 'Kim Colleague');
      const cust = await connect(B);
      await subscribe(cust, order.id, trackingToken);
      const custGot = collect(cust, 'order:assigned');

      let heard = waitFor(kim, 'order:assigned', (a) => a.orderId === order.id);
      let ack = await emitAck(sam, 'order:assign', { orderId: order.id });
      assert.equal(ack.ok, true);
      assert.equal(ack.order.assignee, 'Sam Support');
      let a = await heard;
      assert.equal(a.assignee, 'Sam Support');
      assert.equal(a.by, 'Sam Support');
      assert.ok(!Number.isNaN(Date.parse(a.at)));

      heard = waitFor(sam, 'order:assigned', (x) => x.orderId === order.id && x.assignee === 'Kim Colleague');
      ack = await emitAck(sam, 'order:assign', { orderId: order.id, assignee: 'Kim Colleague' });
      assert.equal(ack.order.assignee, 'Kim Colleague');
      assert.equal((await heard).by, 'Sam Support');
      const got = await api(B, 'GET', `/api/orders/${order.id}`);
      assert.equal(got.body.order.assignee, 'Kim Colleague');

      heard = waitFor(sam, 'order:assigned', (x) => x.orderId === order.id && x.assignee === null);
      ack = await emitAck(kim, 'order:assign', { orderId: order.id, assignee: null });
      assert.equal(ack.order.assignee, null);
      a = await heard;
      assert.deepEqual([a.assignee, a.by], [null, 'Kim Colleague']);
      // The customer's next ack follows anything sent to it before.
      await subscribe(cust, order.id, trackingToken);
      assert.deepEqual(custGot, []);
      closeAll(sam, kim, cust);
    });

    test('awaitingReply and GET /api/orders?awaiting=reply: longest waiting first, paged, survives the store', async () => {
      const first = await createOrder(A);
      const second = await createOrder(A);
      const quiet = await createOrder(A);
      const c1 = await connect(A);
      const c2 = await connect(B);
      await subscribe(c1, first.order.id, first.trackingToken);
      await subscribe(c2, second.order.id, second.trackingToken);
      // The second order asks first: it waits longest.
      assert.equal((await emitAck(c2, 'order:message', { orderId: second.order.id, text: 'hello?' })).ok, true);
      const asked = await emitAck(c1, 'order:message', { orderId: first.order.id, text: 'anyone?' });
      assert.equal((await emitAck(c1, 'order:message', { orderId: first.order.id, text: 'still here' })).ok, true);

      const got = await api(B, 'GET', `/api/orders/${first.order.id}`);
      assert.equal(got.body.order.awaitingReply, true);
      assert.equal(got.body.order.awaitingSince, asked.event.at);

      const ours = new Set([first.order.id, second.order.id, quiet.order.id]);
      const waiting = async (limit) => {
        const ids = [];
        let before = '';
        for (let i = 0; i < 100; i++) {
          const res = await api(B, 'GET', `/api/orders?awaiting=reply&limit=${limit}${before ? `&before=${before}` : ''}`);
          assert.equal(res.status, 200, res.text);
          for (const o of res.body.orders) {
            assert.equal(o.awaitingReply, true);
            if (ours.has(o.id)) ids.push(o.id);
          }
          if (!res.body.next) return ids;
          before = encodeURIComponent(res.body.next);
        }
        throw new Error('the waiting list did not end');
      };
      assert.deepEqual(await waiting(20), [second.order.id, first.order.id]);
      assert.deepEqual(await waiting(1), [second.order.id, first.order.id]);

      const agent = await staff(A, 'Sam Support');
      assert.equal((await emitAck(agent, 'order:message', { orderId: second.order.id, text: 'here!' })).ok, true);
      assert.deepEqual(await waiting(20), [first.order.id]);
      const sub = await subscribe(agent, second.order.id);
      assert.equal(sub.order.awaitingReply, false);
      assert.equal(sub.order.awaitingSince, null);

      for (const q of ['awaiting=yes', 'awaiting=reply&limit=0', 'awaiting=reply&before=nonsense']) {
        const res = await api(B, 'GET', `/api/orders?${q}`);
        assert.equal(res.status, 400, `${q}: ${res.text}`);
        assert.equal(res.body.error.code, 'bad_request');
      }
      closeAll(c1, c2, agent);
    });
  });
}

describe('a killed process', { skip: clusterSkip }, () => {
  const databaseUrl = clusterSkip ? undefined : pgSchema();
  test('drops out of the other process\'s presence and support counts within the bound', async () => {
    const { servers: [P1, P2] } = await startCluster(2, { databaseUrl, redisUrl: SHARED_REDIS });
    const { order, trackingToken } = await createOrder(P1);
    const agent = await staff(P1, 'Sam Support');
    await subscribe(agent, order.id);
    const cust = await connect(P1);
    const before = (await subscribe(cust, order.id, trackingToken)).supportOnline;

    // A customer and a staff socket on P2, counted on P1.
    const there = waitFor(agent, 'order:presence', (p) => p.orderId === order.id && p.customers === 2 && p.staff === 2);
    const online = waitFor(cust, 'support:online', (p) => p.count === before + 1);
    const remote = await connect(P2);
    await subscribe(remote, order.id, trackingToken);
    const remoteAgent = await staff(P2, 'Rita Remote');
    await subscribe(remoteAgent, order.id);
    await there;
    await online;

    const gone = waitFor(agent, 'order:presence', (p) => p.orderId === order.id && p.customers === 1 && p.staff === 1,
      PRESENCE_BOUND_MS + 3000);
    const offline = waitFor(cust, 'support:online', (p) => p.count === before, PRESENCE_BOUND_MS + 3000);
    const killedAt = Date.now();
    await P2.kill();
    await gone;
    await offline;
    const took = Date.now() - killedAt;
    console.log(`# presence of a SIGKILLed process dropped after ${took} ms (bound ${PRESENCE_BOUND_MS} ms)`);
    assert.ok(took <= PRESENCE_BOUND_MS + 1000, `dropped after ${took} ms`);
    // The survivor counts on: a new subscriber is counted with what remains.
    const tab = await connect(P1);
    assert.deepEqual((await subscribe(tab, order.id, trackingToken)).presence, { customers: 2, staff: 1 });
    closeAll(agent, cust, tab);
  });
});
