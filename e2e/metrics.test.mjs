// Observability of the real binary: /metrics moves by exactly what a
// scripted session did (parsed as Prometheus text), the metrics listener and
// pprof flags, the stats event's local figures, and logs that are JSON, say
// what happened, and never hold a credential.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  startServer, staffToken, freePort, tempDir, binPath, api, createOrder, postStatus,
  connect, subscribe, waitFor, cleanup,
} from './harness.mjs';
import { runSession, expectations } from './metrics-session.mjs';

after(cleanup);

/**
 * Parse the Prometheus text exposition format into Map("name{a=\"x\",b=\"y\"}" -> number),
 * labels sorted by name. Throws on any line that is not a comment, blank, or a sample.
 */
export function parseProm(text) {
  const out = new Map();
  const types = new Map();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (!m) throw new Error(`bad comment line: ${line}`);
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3])) throw new Error(`bad type: ${line}`);
        types.set(m[2], m[3]);
      }
      continue;
    }
    let i = 0;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) throw new Error(`bad sample line: ${line}`);
    i = name.length;
    const labels = [];
    if (line[i] === '{') {
      i += 1;
      while (line[i] !== '}') {
        const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i))?.[0];
        if (!ln || line[i + ln.length] !== '=' || line[i + ln.length + 1] !== '"') throw new Error(`bad label in: ${line}`);
        i += ln.length + 2;
        let v = '';
        for (;;) {
          const c = line[i];
          if (c === undefined) throw new Error(`unterminated label value: ${line}`);
          if (c === '"') { i += 1; break; }
          if (c === '\\') {
            const e = line[i + 1];
            v += e === 'n' ? '\n' : e;
            i += 2;
          } else {
            v += c;
            i += 1;
          }
        }
        labels.push([ln, v]);
        if (line[i] === ',') i += 1;
      }
      i += 1;
    }
    const rest = line.slice(i).trim().split(/\s+/);
    if (rest.length < 1 || rest.length > 2) throw new Error(`bad sample value: ${line}`);
    const value = rest[0] === '+Inf' ? Infinity : rest[0] === '-Inf' ? -Infinity : Number(rest[0]);
    if (Number.isNaN(value) && rest[0] !== 'NaN') throw new Error(`bad number: ${line}`);
    labels.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const key = labels.length ? `${name}{${labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}` : name;
    out.set(key, value);
  }
  if (!types.size) throw new Error('no # TYPE lines: not Prometheus text');
  return out;
}

async function scrape(url) {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return parseProm(await res.text());
}

function diff(before, after, deltas = {}, gauges = {}) {
  const out = [];
  for (const [k, want] of Object.entries(deltas)) {
    const got = (after.get(k) ?? 0) - (before?.get(k) ?? 0);
    if (got !== want) out.push(`${k} moved by ${got}, want ${want}`);
  }
  for (const [k, want] of Object.entries(gauges)) {
    if (after.get(k) !== want) out.push(`${k} = ${after.get(k)}, want ${want}`);
  }
  return out;
}

/**
 * Scrape until the figures match; fail with the differences after 5 s.
 * (A request is counted right after its answer, so the last may lag; an
 * over-count never matches.) GET /metrics itself is not asserted.
 */
async function expectScrape(url, before, deltas, gauges) {
  let last;
  let snap;
  try {
    await waitFor(async () => {
      snap = await scrape(url);
      last = diff(before, snap, deltas, gauges);
      return last.length === 0;
    }, 5000, 'metrics match', 25);
  } catch {
    assert.fail(`metrics differ:\n  ${last.join('\n  ')}`);
  }
  return snap;
}

function jsonLines(logs) {
  return logs.split('\n').filter((l) => l.trim() !== '').map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      assert.fail(`log line is not JSON: ${l}`);
    }
  });
}

test('scripted session: every counter moves by exactly its amount, on the metrics listener', { timeout: 60_000 }, async () => {
  const mport = await freePort();
  const murl = `http://127.0.0.1:${mport}`;
  const server = await startServer({ args: ['--metrics-addr', `127.0.0.1:${mport}`, '--pprof'] });
  const staff = await staffToken(server, 'support', 'Sam Support');
  const badToken = `bad-${'x'.repeat(20)}-token`;
  const want = expectations({ bTransport: 'polling' });

  const before = await scrape(murl);
  const session = await runSession({ url: server.url, apiKey: server.apiKey, staffToken: staff, badToken, bTransport: 'polling' });
  const live = await expectScrape(murl, before, want.counters, want.live);
  assert.ok(live.get('go_goroutines') > 0, 'Go runtime metrics are exported');
  assert.ok(live.get('process_resident_memory_bytes') > 0, 'process metrics are exported');
  for (const [k, v] of live) {
    if (k.startsWith('ordercast_store_errors_total')) assert.equal(v, 0, k);
  }
  await session.end();
  await expectScrape(murl, live, want.end, want.after);

  // The main listener does not serve /metrics or pprof when a metrics listener is set.
  assert.equal((await api(server, 'GET', '/metrics', { auth: false })).status, 404);
  assert.equal((await api(server, 'GET', '/debug/pprof/', { auth: false })).status, 404);
  // pprof on the metrics listener, but never the command line (it holds --api-key and --secret).
  assert.equal((await fetch(`${murl}/debug/pprof/`)).status, 200);
  const heap = await fetch(`${murl}/debug/pprof/heap?debug=1`);
  assert.equal(heap.status, 200);
  assert.match(await heap.text(), /heap profile/);
  const cmdline = await fetch(`${murl}/debug/pprof/cmdline`);
  assert.equal(cmdline.status, 404);
  assert.ok(!(await cmdline.text()).includes(server.apiKey));

  // A request id given by the caller is echoed and logged.
  const rid = 'req-metrics-0001';
  const echoed = await api(server, 'GET', '/healthz', { auth: false, headers: { 'X-Request-Id': rid } });
  assert.equal(echoed.headers.get('x-request-id'), rid);
  const generated = await api(server, 'GET', '/healthz', { auth: false });
  assert.match(generated.headers.get('x-request-id') ?? '', /^[A-Za-z0-9_-]{8,}$/);

  await server.stop();
  const logs = server.logs();
  // No credential reaches a log line: not the API key, the signing secret,
  // the staff token, the refused token, nor the tracking token that was in
  // the /track, /api/orders/:id and /stream query strings and in a socket URL.
  for (const [what, secret] of Object.entries({
    apiKey: server.apiKey, secret: server.secret, staff, badToken, trackingToken: session.trackingToken,
  })) {
    assert.ok(!logs.includes(secret), `the ${what} appears in the logs`);
  }
  const lines = jsonLines(logs);
  const msgs = (m) => lines.filter((l) => l.msg === m);
  assert.equal(msgs('socket connected').length, 3, 'one line per connection');
  const byTransport = msgs('socket connected').map((l) => l.transport).sort();
  assert.deepEqual(byTransport, ['polling', 'websocket', 'websocket']);
  const disconnects = msgs('socket disconnected');
  assert.equal(disconnects.length, 3);
  for (const l of disconnects) assert.equal(l.reason, 'client namespace disconnect');
  const refused = msgs('handshake refused');
  assert.equal(refused.length, 1);
  assert.equal(refused[0].reason, 'invalid credential');
  const requests = msgs('http request');
  const track = requests.filter((l) => l.path === `/track/${session.orderId}`);
  assert.equal(track.length, 1, 'the tracking page request is logged, without its query');
  assert.equal(track[0].status, 200);
  assert.ok(requests.some((l) => l.path === `/api/orders/${session.orderId}/stream` && l.status === 200));
  assert.ok(requests.some((l) => l.id === rid && l.path === '/healthz'), 'the caller\'s request id is logged');
  for (const l of requests) {
    assert.equal(typeof l.id, 'string');
    assert.ok(!('query' in l) && !String(l.path).includes('?'), `a query string was logged: ${JSON.stringify(l)}`);
  }
  assert.ok(msgs('metrics listening').some((l) => l.addr === `127.0.0.1:${mport}` && l.pprof === true));
});

test('metrics on the main listener by default; pprof only with --pprof', async () => {
  const server = await startServer();
  const res = await api(server, 'GET', '/metrics', { auth: false });
  assert.equal(res.status, 200);
  const m = parseProm(res.text);
  assert.equal(m.get('ordercast_http_requests_total{method="GET",route="/readyz",status="200"}') >= 1, true);
  assert.equal((await api(server, 'GET', '/debug/pprof/', { auth: false })).status, 404);

  const mport = await freePort();
  const withListener = await startServer({ args: ['--metrics-addr', `127.0.0.1:${mport}`] });
  assert.equal((await fetch(`http://127.0.0.1:${mport}/metrics`)).status, 200);
  assert.equal((await fetch(`http://127.0.0.1:${mport}/debug/pprof/`)).status, 404);
  await withListener.stop();
});

test('--pprof without --metrics-addr is refused at start', async () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ORDERCAST_')));
  const r = await new Promise((resolve) => {
    execFile(binPath, ['serve', '--pprof', '--addr', '127.0.0.1:0', '--data-dir', tempDir()], { env, timeout: 10_000 },
      (err, stdout, stderr) => resolve({ code: err?.code ?? 0, stderr }));
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--pprof: needs --metrics-addr/);
});

test('stats: the local figures are right (sockets by transport, rooms, events per second, latency)', { timeout: 30_000 }, async () => {
  const server = await startServer();
  const admin = await connect(server, { transports: ['websocket'], auth: { token: await staffToken(server, 'admin', 'Ada Admin') } });
  const stats = [];
  admin.on('stats', (s) => stats.push(s));
  const { order, trackingToken } = await createOrder(server);
  const customer = await connect(server, { transports: ['polling'] });
  await subscribe(customer, order.id, trackingToken);

  // Every broadcast after a stats event falls in the windows of the next ones.
  await waitFor(() => stats.length >= 1, 3000, 'a first stats event');
  const from = stats.length;
  for (const s of ['confirmed', 'packed']) assert.equal((await postStatus(server, order.id, s)).status, 200);
  const sum = () => stats.slice(from).reduce((n, s) => n + s.eventsPerSecond, 0);
  await waitFor(() => sum() >= 2, 5000, 'the two broadcasts counted in stats');
  const counted = stats.length;
  await waitFor(() => stats.length > counted, 3000, 'one more stats event');
  assert.equal(sum(), 2, `eventsPerSecond over the windows: ${JSON.stringify(stats.slice(from))}`);

  const last = stats.at(-1);
  assert.deepEqual(last.connections, { websocket: 1, polling: 1 });
  assert.equal(last.rooms, 3, 'order, support and admin');
  assert.equal(last.nodes, 1);
  const busy = stats.slice(from).find((s) => s.eventsPerSecond > 0);
  assert.ok(busy.broadcastLatencyMs.p50 > 0, JSON.stringify(busy));
  assert.ok(busy.broadcastLatencyMs.p99 >= busy.broadcastLatencyMs.p50, JSON.stringify(busy));
  customer.close();
  admin.close();
});

test('--log-level warn keeps info lines out; text format on request', async () => {
  const quiet = await startServer({ args: ['--log-level', 'warn'] });
  await api(quiet, 'GET', '/healthz', { auth: false });
  await quiet.stop();
  assert.ok(!quiet.logs().includes('"level":"INFO"'), quiet.logs());
  assert.ok(!quiet.logs().includes('http request'));

  const text = await startServer({ args: ['--log-format', 'text'] });
  await api(text, 'GET', '/healthz', { auth: false });
  await text.stop();
  assert.match(text.logs(), /level=INFO msg="http request"/);
});
