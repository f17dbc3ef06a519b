// Reference server for the ordercast benchmark: socket.io 4.8 (npm) with the
// same behaviour as ordercast on the paths the benchmark exercises.
//
//   node bench/reference/server.mjs --addr 127.0.0.1:PORT --api-key KEY --secret SECRET
//        [--transports polling,websocket] [--recovery-window 0] [--socket-rate 1000 --socket-burst 1000]
//        [--max-message-bytes 1000000] [--data-dir IGNORED]
//
// Same as ordercast:
//   - GET /readyz, GET /healthz.
//   - POST /api/orders (Bearer API key) {id?, customer, items:[{name,qty}], total, currency?}
//     -> 201 {order, trackingToken, trackingUrl}; emits order:created to "support"
//     and the first order:status (placed) to "order-<id>" and "support".
//   - POST /api/orders/:id/status (Bearer API key or staff token) {status, note?}
//     -> 200 {event}; emits ["order:status", {type, orderId, seq, status, note, at, by}]
//     once to the union of rooms "order-<id>" and "support".
//   - Socket.IO on /socket.io: an optional handshake auth.token (HS256 staff
//     token signed with --secret, role support|admin) joins "support"; events
//     order:subscribe {orderId, token, since?} (tracking token checked against its
//     SHA-256 in constant time; at most 100 orders per socket) -> ack
//     {ok:true, order, events}, and order:unsubscribe; a per-socket token bucket.
//   - No per-message deflate, no HTTP compression, ping 25 s / 20 s, 1 MB max
//     message; connection state recovery only when --recovery-window > 0.
// Different: the store is in memory (ordercast writes every event to SQLite).
import { createServer } from "node:http";
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "package.json"));
const { Server } = require("socket.io");

function parseArgs(argv) {
  const o = {
    addr: "127.0.0.1:8080", apiKey: "", secret: "", transports: "polling,websocket",
    recoveryWindow: "2m", socketRate: 50, socketBurst: 100, maxMessageBytes: 1_000_000,
  };
  for (let i = 0; i < argv.length; i++) {
    let [k, v] = argv[i].split("=", 2);
    const next = () => (v !== undefined ? v : argv[++i]);
    switch (k.replace(/^--?/, "")) {
      case "addr": o.addr = next(); break;
      case "api-key": o.apiKey = next(); break;
      case "secret": o.secret = next(); break;
      case "transports": o.transports = next(); break;
      case "recovery-window": o.recoveryWindow = next(); break;
      case "socket-rate": o.socketRate = Number(next()); break;
      case "socket-burst": o.socketBurst = Number(next()); break;
      case "max-message-bytes": o.maxMessageBytes = Number(next()); break;
      case "data-dir": next(); break; // in-memory store
      default: throw new Error(`unknown flag ${argv[i]}`);
    }
  }
  if (!o.apiKey || !o.secret) throw new Error("--api-key and --secret are required");
  return o;
}

// Go duration subset: 0, 500ms, 2m, 1h30m, 10s.
function parseDuration(s) {
  if (s === "0" || s === "") return 0;
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let m;
  while ((m = re.exec(s))) ms += Number(m[1]) * { ms: 1, s: 1e3, m: 60e3, h: 3600e3 }[m[2]];
  return ms;
}

const cfg = parseArgs(process.argv.slice(2));
const [host, port] = [cfg.addr.slice(0, cfg.addr.lastIndexOf(":")) || "0.0.0.0", Number(cfg.addr.slice(cfg.addr.lastIndexOf(":") + 1))];

// ---- domain ---------------------------------------------------------------
const lifecycle = ["placed", "confirmed", "packed", "shipped", "out_for_delivery", "delivered"];
const statuses = new Set([...lifecycle, "cancelled"]);
function canMove(from, to) {
  if (from === "delivered" || from === "cancelled") return false;
  const i = lifecycle.indexOf(from);
  return to === "cancelled" || (i >= 0 && lifecycle[i + 1] === to);
}
const idRe = /^[A-Za-z0-9_-]{1,64}$/;

// Go's time.RFC3339Nano: the benchmark's payloads have the same length on both servers.
const hr0 = process.hrtime.bigint();
const wall0 = BigInt(Date.now()) * 1_000_000n;
function nowNano() {
  const ns = wall0 + (process.hrtime.bigint() - hr0);
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // ...T..:..:..mmmZ
  let frac = (ns % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  return iso.slice(0, 19) + (frac ? "." + frac : "") + "Z";
}

const sha256 = (s) => createHash("sha256").update(s).digest();
const apiKeyDigest = sha256(cfg.apiKey);
const secret = Buffer.from(cfg.secret);

// orders: id -> {order, tokenHash, events[]}
const store = new Map();
let pos = 0;

class HttpError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}
const badRequest = (m) => new HttpError(400, "bad_request", m);
const forbidden = (m) => new HttpError(403, "forbidden", m);
const unauthorized = (m) => new HttpError(401, "unauthorized", m);
const notFound = () => new HttpError(404, "not_found", "no such order");

function verifyStaff(token) {
  if (typeof token !== "string" || token === "") throw unauthorized("missing token");
  const parts = token.split(".");
  if (parts.length !== 3) throw unauthorized("invalid token");
  const header = JSON.parse(Buffer.from(parts[0], "base64url"));
  if (header.alg !== "HS256") throw unauthorized("invalid token");
  const sig = createHmac("sha256", secret).update(parts[0] + "." + parts[1]).digest();
  const got = Buffer.from(parts[2], "base64url");
  if (got.length !== sig.length || !timingSafeEqual(got, sig)) throw unauthorized("invalid token");
  const claims = JSON.parse(Buffer.from(parts[1], "base64url"));
  if (typeof claims.exp !== "number" || claims.exp * 1000 + 30_000 < Date.now()) throw unauthorized("token expired");
  if ((claims.role !== "support" && claims.role !== "admin") || !claims.sub) throw unauthorized("invalid token");
  return { name: claims.sub, role: claims.role };
}

function statusPayload(e) {
  return { type: e.type, orderId: e.orderId, seq: e.seq, status: e.status, note: e.note, at: e.at, by: e.by };
}

// ---- Socket.IO ------------------------------------------------------------
const httpServer = createServer(handle);
const recoveryMs = parseDuration(cfg.recoveryWindow);
const io = new Server(httpServer, {
  path: "/socket.io",
  serveClient: false,
  transports: cfg.transports.split(",").map((t) => t.trim()).filter(Boolean),
  allowUpgrades: cfg.transports.includes("polling") && cfg.transports.includes("websocket"),
  maxHttpBufferSize: cfg.maxMessageBytes,
  perMessageDeflate: false,
  httpCompression: false,
  pingInterval: 25_000,
  pingTimeout: 20_000,
  connectTimeout: 5_000,
  ...(recoveryMs > 0 ? { connectionStateRecovery: { maxDisconnectionDuration: recoveryMs, skipMiddlewares: true } } : {}),
});

function publish(e) {
  io.to([`order-${e.orderId}`, "support"]).emit(e.type, statusPayload(e));
}

class Limiter {
  constructor(rate, burst) { this.rate = rate; this.burst = burst; this.tokens = burst; this.last = Date.now(); }
  allow() {
    const t = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens >= 1) { this.tokens--; return true; }
    return false;
  }
}

function ackError(err) {
  if (err instanceof HttpError) return { ok: false, error: { code: err.code, message: err.message } };
  console.error("socket event failed", err);
  return { ok: false, error: { code: "internal", message: "internal error" } };
}

io.use((socket, next) => {
  const tok = socket.handshake.auth && socket.handshake.auth.token;
  const sess = { staff: null, subs: new Set(), limiter: new Limiter(cfg.socketRate, cfg.socketBurst) };
  if (tok !== undefined && tok !== null) {
    try {
      sess.staff = verifyStaff(tok);
    } catch (err) {
      const e = new Error(err.message);
      e.data = { code: "unauthorized" };
      return next(e);
    }
  }
  socket.data.sess = sess;
  if (sess.staff) socket.join(sess.staff.role === "admin" ? ["support", "admin"] : ["support"]);
  next();
});

io.on("connection", (socket) => {
  const sess = socket.data.sess;
  const on = (event, fn) => socket.on(event, (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    let res;
    if (!sess.limiter.allow()) {
      res = { ok: false, error: { code: "rate_limited", message: "too many requests, slow down" } };
    } else {
      try {
        const p = args[0];
        if (p === null || typeof p !== "object" || Array.isArray(p)) throw badRequest("payload must be an object");
        res = fn(p);
        res.ok = true;
      } catch (err) {
        res = ackError(err);
      }
    }
    if (ack) ack(res);
  });
  on("order:subscribe", (p) => {
    if (typeof p.orderId !== "string" || !idRe.test(p.orderId)) throw badRequest("orderId: must be 1-64 of A-Z a-z 0-9 _ -");
    const since = p.since ?? 0;
    if (typeof since !== "number" || since < 0) throw badRequest("since: must not be negative");
    const rec = store.get(p.orderId);
    if (!sess.staff) {
      if (typeof p.token !== "string" || p.token === "") throw unauthorized("tracking token required");
      if (!rec) throw notFound();
      const h = sha256(p.token);
      if (!timingSafeEqual(h, rec.tokenHash)) throw forbidden("this token is not for this order");
    } else if (!rec) throw notFound();
    if (!sess.subs.has(p.orderId) && sess.subs.size >= 100) throw badRequest("a socket may follow at most 100 orders");
    sess.subs.add(p.orderId);
    socket.join(`order-${p.orderId}`);
    return { order: rec.order, events: rec.events.filter((e) => e.seq > since).map(statusPayload) };
  });
  on("order:unsubscribe", (p) => {
    if (typeof p.orderId !== "string" || !idRe.test(p.orderId)) throw badRequest("orderId: must be 1-64 of A-Z a-z 0-9 _ -");
    sess.subs.delete(p.orderId);
    socket.leave(`order-${p.orderId}`);
    return {};
  });
});

// ---- HTTP -----------------------------------------------------------------
function send(res, status, body) {
  const b = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(b) });
  res.end(b);
}

function caller(req) {
  const v = req.headers.authorization;
  if (!v) return { anonymous: true };
  const sp = v.indexOf(" ");
  if (sp < 0 || v.slice(0, sp).toLowerCase() !== "bearer") throw unauthorized("invalid credentials");
  const tok = v.slice(sp + 1).trim();
  const d = sha256(tok);
  if (tok !== "" && timingSafeEqual(d, apiKeyDigest)) return { service: true, name: "service" };
  const staff = verifyStaff(tok);
  return { staff, name: staff.name };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on("data", (c) => {
      n += c.length;
      if (n > cfg.maxMessageBytes) { reject(new HttpError(413, "too_large", "body exceeds the size limit")); req.destroy(); return; }
      chunks.push(c);
    });
    req.on("end", () => {
      try { resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))); } catch { reject(badRequest("malformed JSON")); }
    });
    req.on("error", reject);
  });
}

function createOrder(body) {
  if (body === null || typeof body !== "object") throw badRequest("body must be a JSON object");
  let id = body.id ?? "";
  if (id !== "" && (typeof id !== "string" || !idRe.test(id))) throw badRequest("id: must be 1-64 of A-Z a-z 0-9 _ -");
  const customer = typeof body.customer === "string" ? body.customer.trim() : "";
  if (!customer) throw badRequest("customer: is required");
  if (!Array.isArray(body.items) || body.items.length === 0 || body.items.length > 100) throw badRequest("items: 1 to 100 items");
  const items = body.items.map((it) => {
    if (!it || typeof it.name !== "string" || !it.name.trim() || !Number.isInteger(it.qty) || it.qty < 1) throw badRequest("items: invalid item");
    return { name: it.name.trim(), qty: it.qty };
  });
  if (!Number.isInteger(body.total) || body.total < 0) throw badRequest("total: must be a non-negative integer");
  if (id === "") id = "o_" + randomBytes(9).toString("base64url");
  if (store.has(id)) throw new HttpError(409, "duplicate", "an order with this id exists");
  const at = nowNano();
  const order = { id, customer, items, total: body.total, currency: body.currency || "EUR", status: "placed", lastSeq: 1, createdAt: at, updatedAt: at };
  const token = randomBytes(24).toString("base64url");
  const first = { type: "order:status", orderId: id, seq: 1, status: "placed", note: "", at, by: "service" };
  store.set(id, { order, tokenHash: sha256(token), events: [first], pos: ++pos });
  io.to("support").emit("order:created", { order });
  publish(first);
  return { order, token };
}

function changeStatus(c, id, body) {
  if (!c.service && !c.staff) throw unauthorized("API key or staff token required");
  if (body === null || typeof body !== "object") throw badRequest("body must be a JSON object");
  if (typeof body.status !== "string") throw badRequest("status: is required");
  if (!statuses.has(body.status)) throw badRequest(`status: unknown status "${body.status}"`);
  const note = typeof body.note === "string" ? body.note.trim() : "";
  if (note.length > 500) throw badRequest("note: too long");
  const rec = store.get(id);
  if (!rec) throw notFound();
  if (!canMove(rec.order.status, body.status)) {
    throw new HttpError(409, "invalid_transition", `invalid status transition: ${rec.order.status} -> ${body.status}`);
  }
  const at = nowNano();
  const e = { type: "order:status", orderId: id, seq: rec.order.lastSeq + 1, status: body.status, note, at, by: c.name };
  rec.events.push(e);
  rec.order.lastSeq = e.seq;
  rec.order.status = e.status;
  rec.order.updatedAt = at;
  publish(e);
  return e;
}

async function handle(req, res) {
  if (req.url.startsWith("/socket.io/")) return; // engine.io answers
  try {
    const url = new URL(req.url, "http://x");
    const p = url.pathname;
    if (req.method === "GET" && p === "/readyz") return send(res, 200, { status: "ready", checks: { store: "ok" } });
    if (req.method === "GET" && p === "/healthz") return send(res, 200, { status: "ok" });
    if (req.method === "POST" && p === "/api/orders") {
      const c = caller(req);
      if (!c.service) throw c.staff ? forbidden("only the shop backend's API key may create orders") : unauthorized("API key required");
      const body = await readBody(req);
      const { order, token } = createOrder(body);
      const base = `http://${req.headers.host}`;
      return send(res, 201, { order, trackingToken: token, trackingUrl: `${base}/track/${order.id}?token=${token}` });
    }
    const m = /^\/api\/orders\/([^/]+)\/status$/.exec(p);
    if (req.method === "POST" && m) {
      const c = caller(req);
      const body = await readBody(req);
      const e = changeStatus(c, decodeURIComponent(m[1]), body);
      return send(res, 200, { event: statusPayload(e) });
    }
    throw new HttpError(404, "not_found", "no such route");
  } catch (err) {
    if (err instanceof HttpError) return send(res, err.status, { error: { code: err.code, message: err.message } });
    console.error("request failed", err);
    return send(res, 500, { error: { code: "internal", message: "internal error" } });
  }
}

// Same accept backlog as a Go listener (net.core.somaxconn).
let backlog = 511;
try { backlog = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8").trim()) || backlog; } catch {}
httpServer.listen({ host, port, backlog }, () => {
  console.error(`reference listening on ${host}:${httpServer.address().port}`);
});
const stop = () => { io.close(); httpServer.close(); setTimeout(() => process.exit(0), 1000).unref(); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
