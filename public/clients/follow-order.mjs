#!/usr/bin/env node
// follow-order.mjs — follow one order from the command line (or copy it into
// your own Node service). It prints every event of the order as one JSON
// line, exactly once and in seq order, and keeps following across reconnects
// and server restarts using the same OrderFeed as the ordercast pages.
//
//   node public/clients/follow-order.mjs 'http://localhost:8080/track/A-1001?token=…'
//   node public/clients/follow-order.mjs http://localhost:8080 A-1001 --staff "$STAFF_TOKEN"
//
// Needs socket.io-client 4.x (npm i socket.io-client). Connection changes go
// to stderr, events to stdout, so `| jq` works.

import { io } from 'socket.io-client';

await import(new URL('../static/ordercast-client.js', import.meta.url));
const { OrderFeed, watchConnection } = globalThis.OrderCast;

function usage(msg) {
  if (msg) process.stderr.write(`${msg}\n`);
  process.stderr.write(
    'usage: follow-order.mjs <tracking URL>\n' +
      '       follow-order.mjs <server URL> <order id> --staff <token>\n',
  );
  process.exit(2);
}

const args = process.argv.slice(2);
let server;
let orderId;
let token;
let staff;
if (args.length === 1) {
  const u = new URL(args[0]);
  const m = /^\/track\/([^/]+)$/.exec(u.pathname);
  if (!m || !u.searchParams.get('token')) usage('not a tracking URL');
  server = u.origin;
  orderId = decodeURIComponent(m[1]);
  token = u.searchParams.get('token');
} else if (args.length === 4 && args[2] === '--staff') {
  server = new URL(args[0]).origin;
  orderId = args[1];
  staff = args[3];
} else {
  usage();
}

const socket = io(server, staff ? { auth: { token: staff } } : {});
watchConnection(socket, (s) => process.stderr.write(`[${s.label}]\n`));
const feed = new OrderFeed(socket);
feed.watch(orderId, {
  token,
  onEvent(event) {
    process.stdout.write(`${JSON.stringify(event)}\n`);
  },
  onSnapshot(order, info) {
    if (info.missed) process.stderr.write(`[caught up on ${info.missed} missed event(s)]\n`);
  },
  onError(err) {
    process.stderr.write(`error: ${err.code}: ${err.message}\n`);
    process.exit(1);
  },
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    socket.close();
    process.exit(0);
  });
}
