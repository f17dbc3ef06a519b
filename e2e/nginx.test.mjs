// Two ordercast processes behind nginx (from Debian: apt-get install -y
// nginx), with the configuration of docs/operations.md: sticky by client address for
// long-polling, WebSocket upgrade headers, no buffering for SSE. nginx runs
// as a child process on loopback ports with a generated config in a temp
// dir. Clients come from different loopback addresses (127.0.0.x), so they
// spread over both processes; its access log shows every Engine.IO session
// stayed on one process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import {
  createOrder, postStatus, makeSocket, waitFor, subscribe, freePort, tempDir, httpLog, cleanup,
} from './harness.mjs';
import {
  need, tool, postgres, redisAt, pgSchema, startCluster, readSSE, SHARED_REDIS, waitUntil, oneTo,
} from './cluster-harness.mjs';

after(cleanup);

const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'].find(existsSync) || 'nginx';
const skip = (await need(tool('nginx', ...['/usr/sbin/nginx', '/usr/local/sbin/nginx']), tool('psql'), postgres(),
  redisAt(SHARED_REDIS))) ?? false;

/**
 * The nginx configuration of docs/operations.md (http-level part), for these upstreams.
 * Keep the two in step.
 */
function ordercastNginx(upstreams, listen) {
  return `
    # WebSocket: pass the client's Upgrade on, and keep other requests plain.
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }

    upstream ordercast {
        # Sticky: one client address always reaches the same process. Engine.IO
        # long-polling sends each session's requests separately, and only the
        # process that holds the session can answer them.
        hash $remote_addr consistent;
${upstreams.map((u) => `        server ${u};`).join('\n')}
    }

    server {
        listen ${listen};

        location / {
            proxy_pass http://ordercast;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # Long-polls, WebSockets and SSE streams stay open.
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            # SSE: send each event at once (ordercast also sends X-Accel-Buffering: no).
            proxy_buffering off;
        }
    }
`;
}

let servers;
let lb; // {url, apiKey}
let accessLog;
if (!skip) {
  // As docs/operations.md says: believe nginx's X-Forwarded-For, so per-address
  // limits see each client rather than nginx.
  ({ servers } = await startCluster(2, { databaseUrl: pgSchema(), redisUrl: SHARED_REDIS, args: ['--trusted-proxies', '127.0.0.1'] }));
  const dir = tempDir('ordercast-nginx-');
  const port = await freePort();
  accessLog = path.join(dir, 'access.log');
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, `
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    log_format sticky '$remote_addr sid=$arg_sid upstream=$upstream_addr status=$status';
    access_log ${accessLog} sticky;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
${ordercastNginx(servers.map((s) => `127.0.0.1:${s.port}`), `127.0.0.1:${port}`)}
}
`);
  const proc = spawn(NGINX, ['-p', dir, '-e', `${dir}/error.log`, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = once(proc, 'exit');
  after(async () => { if (proc.exitCode === null) { proc.kill('SIGTERM'); await exited; } });
  lb = { url: `http://127.0.0.1:${port}`, apiKey: servers[0].apiKey };
  await waitUntil(async () => (await fetch(`${lb.url}/readyz`)).status === 200, 10_000, 'ordercast ready through nginx',
    () => `nginx: ${stderr} ${proc.exitCode ?? ''} ${existsSync(`${dir}/error.log`) ? readFileSync(`${dir}/error.log`, 'utf8') : ''}`);
}

/** Engine.IO sessions in the access log: sid -> Set of upstreams; and every status seen. */
function sessions() {
  const bySid = new Map();
  const statuses = [];
  for (const line of readFileSync(accessLog, 'utf8').split('\n')) {
    const m = /sid=(\S*) upstream=(\S*) status=(\d+)/.exec(line);
    if (!m) continue;
    statuses.push(Number(m[3]));
    if (!m[1]) continue;
    if (!bySid.has(m[1])) bySid.set(m[1], new Set());
    bySid.get(m[1]).add(m[2]);
  }
  return { bySid, statuses };
}

/** A polling-only socket from a given loopback address, through nginx. */
function pollingFrom(address) {
  const agent = new http.Agent({ localAddress: address, keepAlive: true });
  after(() => agent.destroy());
  return makeSocket(lb, { transports: ['polling'], agent });
}

test('polling-only clients behind nginx stay on one process and get events posted to either', { skip }, async () => {
  const { order, trackingToken } = await createOrder(lb);
  // Add clients from new addresses until both processes have some.
  const clients = [];
  const upstreamOf = (sock) => [...(sessions().bySid.get(sock.io.engine.id) ?? [])][0];
  for (let i = 2; i < 60; i++) {
    const sock = pollingFrom(`127.0.0.${i}`);
    await waitFor(sock, 'connect');
    await subscribe(sock, order.id, trackingToken);
    clients.push(sock);
    const used = new Set(clients.map(upstreamOf));
    if (clients.length >= 4 && used.size === 2) break;
  }
  const used = new Set(clients.map(upstreamOf));
  assert.equal(used.size, 2, `clients spread over both processes: ${[...used]}`);

  const seqs = clients.map(() => [1]);
  clients.forEach((c, i) => c.on('order:status', (e) => { if (e.orderId === order.id) seqs[i].push(e.seq); }));
  for (const st of ['confirmed', 'packed', 'shipped']) {
    const res = await postStatus(lb, order.id, st);
    assert.equal(res.status, 200, res.text);
  }
  await waitUntil(() => seqs.every((s) => s.length === 4), 5000, 'every client gets seq 2..4',
    () => JSON.stringify(seqs));
  for (const s of seqs) assert.deepEqual(s, oneTo(4));
  for (const c of clients) assert.equal(c.io.engine.transport.name, 'polling');

  // Every request of a session went to one process, and none was refused
  // (a request reaching the wrong process gets 400 "Session ID unknown").
  const { bySid, statuses } = sessions();
  for (const c of clients) {
    const ups = bySid.get(c.io.engine.id);
    assert.ok(ups, `session ${c.io.engine.id} in the access log`);
    assert.equal(ups.size, 1, `session ${c.io.engine.id} went to ${[...ups]}`);
  }
  assert.deepEqual(statuses.filter((s) => s >= 400), []);
  for (const c of clients) c.close();
});

test('through nginx a default client upgrades to WebSocket, and SSE streams unbuffered', { skip }, async () => {
  const { order, trackingToken } = await createOrder(lb);
  const sock = makeSocket(lb, { agent: new http.Agent({ localAddress: '127.0.0.77' }) });
  const upgraded = waitFor(sock.io.engine, 'upgrade', undefined, 5000);
  await waitFor(sock, 'connect');
  await subscribe(sock, order.id, trackingToken);
  await upgraded;
  assert.equal(sock.io.engine.transport.name, 'websocket');

  const stream = await readSSE(`${lb.url}/api/orders/${order.id}/stream?token=${trackingToken}`);
  const got = waitFor(sock, 'order:status', (e) => e.seq === 2);
  const res = await postStatus(lb, order.id, 'confirmed');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(await got, res.body.event);
  await waitFor(() => stream.events.length === 2, 5000, 'seq 2 on the SSE stream through nginx');
  assert.deepEqual(stream.events[1].data, res.body.event);
  stream.close();
  sock.close();
});

test('no request of this suite got a 5xx', { skip }, () => {
  assert.deepEqual(httpLog.filter((r) => r.status >= 500), []);
});
