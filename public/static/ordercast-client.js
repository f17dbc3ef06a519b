/*!
 * ordercast-client.js — keep order timelines in sync over Socket.IO.
 *
 * A tiny, dependency-free helper used by the /track and /support pages, and
 * usable from any browser page or Node program that has a socket.io-client
 * 4.x socket connected to an ordercast server.
 *
 *   const socket = io();                      // or io({auth: {token}}) for staff
 *   const feed = new OrderCast.OrderFeed(socket);
 *   feed.watch("A-1001", {
 *     token: "…",                            // the tracking token (customers only)
 *     onEvent(event, info) { … },            // every event exactly once, in seq order
 *     onSnapshot(order, info) { … },         // after each (re)subscribe ack;
 *                                            // info.presence, info.supportOnline
 *     onError(error) { … },                  // {code, message} from the ack
 *   });
 *
 * What it guarantees
 *  - It remembers the last `seq` it delivered for each watched order.
 *  - On every 'connect' (the first one and each reconnect) it sends
 *    `order:subscribe {orderId, token, since: lastSeq}`, so the server answers
 *    with exactly what was missed, also after a server restart.
 *  - Pushed `order:status` / `order:message` events and the events of a
 *    subscribe ack are merged and delivered once each, in ascending `seq`:
 *    anything with `seq <= lastSeq` is dropped. Pushes that arrive while a
 *    subscribe is in flight are held back until its ack, so nothing is lost
 *    when the server joins the room before reading the store.
 *  - A pushed event that skips a seq (lastSeq + 2 or more) triggers a resync
 *    with `since` instead of being shown out of order.
 *
 * Events obtained some other way (the ack of `order:message` or
 * `order:update-status`) can be handed in with `feed.ingest(event)`; they go
 * through the same de-duplication.
 *
 * Loading: a classic <script> defines `window.OrderCast`; in CommonJS it is
 * `module.exports`; imported as an ES module it defines `globalThis.OrderCast`.
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module && module.exports) {
    module.exports = api;
  } else {
    root.OrderCast = api;
  }
})(typeof self !== "undefined" ? self : globalThis, function () {
  "use strict";

  var EVENT_TYPES = ["order:status", "order:message"];
  var ACK_TIMEOUT_MS = 10000;
  var MAX_GAP_RESYNCS = 3;

  function noop() {}

  /** Fills in `type` when a pushed payload does not carry it. */
  function normalise(event, type) {
    if (!event || typeof event !== "object") return null;
    if (typeof event.seq !== "number" || typeof event.orderId !== "string") return null;
    if (!event.type) {
      event.type = type || ("status" in event ? "order:status" : "order:message");
    }
    return event;
  }

  function bySeq(a, b) {
    return a.seq - b.seq;
  }

  /**
   * OrderFeed keeps the timelines of one or more orders in sync.
   * @param socket a socket.io-client Socket (connected or not yet connected)
   * @param options {ackTimeoutMs?: number}
   */
  function OrderFeed(socket, options) {
    if (!(this instanceof OrderFeed)) return new OrderFeed(socket, options);
    this.socket = socket;
    this.ackTimeoutMs = (options && options.ackTimeoutMs) || ACK_TIMEOUT_MS;
    this.orders = new Map();
    var self = this;
    this._onConnect = function () {
      self.orders.forEach(function (st) {
        st.gen++;
        st.inFlight = false;
        self._subscribe(st);
      });
    };
    this._onDisconnect = function () {
      // Acks of a connection that is gone never come back: forget them.
      self.orders.forEach(function (st) {
        st.gen++;
        st.inFlight = false;
      });
    };
    this._listeners = EVENT_TYPES.map(function (type) {
      var fn = function (payload) {
        self.ingest(payload, type, "push");
      };
      socket.on(type, fn);
      return [type, fn];
    });
    socket.on("connect", this._onConnect);
    socket.on("disconnect", this._onDisconnect);
  }

  /**
   * Starts following an order. Calling it again for the same order replaces
   * the callbacks and keeps the position.
   * @param orderId the order id
   * @param opts {token?, since?, onEvent?, onSnapshot?, onError?}
   */
  OrderFeed.prototype.watch = function (orderId, opts) {
    opts = opts || {};
    var st = this.orders.get(orderId);
    if (!st) {
      st = {
        orderId: orderId,
        token: opts.token,
        lastSeq: typeof opts.since === "number" ? opts.since : 0,
        buffer: [],
        inFlight: false,
        synced: false,
        gen: 0,
        gapResyncs: 0,
        subscribes: 0,
      };
      this.orders.set(orderId, st);
    }
    st.onEvent = opts.onEvent || noop;
    st.onSnapshot = opts.onSnapshot || noop;
    st.onError = opts.onError || noop;
    if (opts.token !== undefined) st.token = opts.token;
    if (this.socket.connected) this._subscribe(st);
    return this;
  };

  /** Stops following an order and leaves its room. */
  OrderFeed.prototype.unwatch = function (orderId) {
    var st = this.orders.get(orderId);
    if (!st) return this;
    this.orders.delete(orderId);
    st.gen++;
    if (this.socket.connected) {
      this.socket.emit("order:unsubscribe", { orderId: orderId }, noop);
    }
    return this;
  };

  /** The seq of the newest event delivered for orderId (0 when none). */
  OrderFeed.prototype.lastSeq = function (orderId) {
    var st = this.orders.get(orderId);
    return st ? st.lastSeq : 0;
  };

  /** Whether the first subscribe ack for orderId has been received. */
  OrderFeed.prototype.isSynced = function (orderId) {
    var st = this.orders.get(orderId);
    return !!(st && st.synced);
  };

  /**
   * Hands in an event that arrived some other way (for example in the ack of
   * order:message). Unknown orders and seen seqs are ignored.
   * @returns true when the event was new and has been (or will be) delivered
   */
  OrderFeed.prototype.ingest = function (event, type, source) {
    event = normalise(event, type);
    if (!event) return false;
    var st = this.orders.get(event.orderId);
    if (!st || event.seq <= st.lastSeq) return false;
    for (var i = 0; i < st.buffer.length; i++) {
      if (st.buffer[i].seq === event.seq) return false;
    }
    event.__source = source || "ingest";
    st.buffer.push(event);
    if (st.synced && !st.inFlight) this._drain(st, false);
    return true;
  };

  /** Removes every listener this feed added to the socket. */
  OrderFeed.prototype.destroy = function () {
    var socket = this.socket;
    this._listeners.forEach(function (l) {
      socket.off(l[0], l[1]);
    });
    socket.off("connect", this._onConnect);
    socket.off("disconnect", this._onDisconnect);
    this.orders.clear();
  };

  OrderFeed.prototype._subscribe = function (st) {
    var self = this;
    if (!this.socket.connected || st.inFlight) return;
    st.inFlight = true;
    st.subscribes++;
    var gen = st.gen;
    var payload = { orderId: st.orderId };
    if (st.token) payload.token = st.token;
    if (st.lastSeq > 0) payload.since = st.lastSeq;
    this.socket.timeout(this.ackTimeoutMs).emit("order:subscribe", payload, function (err, res) {
      if (self.orders.get(st.orderId) !== st || st.gen !== gen) return; // stale
      st.inFlight = false;
      if (err) {
        // No answer in time: try again while the connection lasts.
        if (self.socket.connected) self._subscribe(st);
        return;
      }
      if (!res || res.ok !== true) {
        var error = (res && res.error) || { code: "error", message: "subscribe failed" };
        st.onError(error);
        return;
      }
      var initial = !st.synced;
      var before = st.lastSeq;
      (res.events || []).forEach(function (e) {
        e = normalise(e);
        if (e && e.seq > st.lastSeq) {
          e.__source = initial ? "initial" : "resync";
          st.buffer.push(e);
        }
      });
      st.synced = true;
      var delivered = self._drain(st, true);
      st.onSnapshot(res.order, {
        initial: initial,
        since: before,
        missed: initial ? 0 : delivered,
        delivered: delivered,
        // Live signals of the ack (contract 0.2): who is on the order now,
        // and how many staff sockets are connected. Absent from older servers.
        presence: res.presence || null,
        supportOnline: res.supportOnline,
      });
    });
  };

  /**
   * Delivers buffered events in seq order. A gap is filled by a resync;
   * after an authoritative ack (fromAck) the buffer is read as it is.
   */
  OrderFeed.prototype._drain = function (st, fromAck) {
    st.buffer.sort(bySeq);
    var delivered = 0;
    while (st.buffer.length) {
      var e = st.buffer[0];
      if (e.seq <= st.lastSeq) {
        st.buffer.shift();
        continue;
      }
      if (e.seq !== st.lastSeq + 1 && !(fromAck && e.__source !== "push" && e.__source !== "ingest")) {
        // A hole before e: ask the server for what is missing.
        if (st.gapResyncs < MAX_GAP_RESYNCS) {
          st.gapResyncs++;
          this._subscribe(st);
          return delivered;
        }
      }
      st.buffer.shift();
      st.lastSeq = e.seq;
      var source = e.__source;
      delete e.__source;
      delivered++;
      try {
        st.onEvent(e, { source: source });
      } catch (ex) {
        if (typeof console !== "undefined") console.error(ex);
      }
      if (this.orders.get(st.orderId) !== st) return delivered; // unwatched from a callback
    }
    st.gapResyncs = 0;
    return delivered;
  };

  /**
   * Describes a socket's connection for a status indicator and calls
   * onChange({state, transport, attempt, label, error}) whenever it changes.
   *   state: "connecting" | "live" | "reconnecting" | "offline" | "refused"
   *   label: "live (WebSocket)", "live (polling)", "reconnecting… (attempt N)", "offline", …
   * @returns a function that detaches the listeners
   */
  function watchConnection(socket, onChange) {
    var manager = socket.io;
    var current = { state: "connecting", transport: null, attempt: 0, error: null };
    var engineSeen = null;
    function label(s) {
      switch (s.state) {
        case "live":
          return s.transport === "websocket" || s.transport === "webtransport"
            ? "live (WebSocket)"
            : "live (polling)";
        case "reconnecting":
          return s.attempt > 0 ? "reconnecting… (attempt " + s.attempt + ")" : "reconnecting…";
        case "offline":
          return "offline";
        case "refused":
          return "not connected: " + (s.error || "refused");
        default:
          return "connecting…";
      }
    }
    function set(patch) {
      for (var k in patch) current[k] = patch[k];
      var snapshot = {
        state: current.state,
        transport: current.transport,
        attempt: current.attempt,
        error: current.error,
      };
      snapshot.label = label(snapshot);
      onChange(snapshot);
    }
    function onUpgrade(transport) {
      if (socket.connected) set({ state: "live", transport: transport && transport.name });
    }
    function onConnect() {
      var engine = manager.engine;
      if (engine && engine !== engineSeen) {
        engineSeen = engine;
        engine.on("upgrade", onUpgrade);
      }
      set({
        state: "live",
        transport: engine && engine.transport ? engine.transport.name : null,
        attempt: 0,
        error: null,
      });
    }
    function onDisconnect(reason) {
      if (reason === "io client disconnect") {
        set({ state: "offline" });
      } else if (reason === "io server disconnect") {
        // The server closed this socket on purpose; the client does not
        // retry by itself, so try once more shortly.
        set({ state: "offline" });
        setTimeout(function () {
          if (!socket.connected && !socket.active) socket.connect();
        }, 2000);
      } else {
        set({ state: isOffline() ? "offline" : "reconnecting", attempt: 0 });
      }
    }
    function onAttempt(n) {
      set({ state: isOffline() ? "offline" : "reconnecting", attempt: n });
    }
    function onConnectError(err) {
      if (!socket.active) {
        // Refused by the server (for example a bad staff token): no retry.
        set({ state: "refused", error: (err && err.message) || "refused" });
      } else if (current.state === "connecting" && current.attempt === 0) {
        set({ state: "reconnecting" });
      }
    }
    function onFailed() {
      set({ state: "offline" });
    }
    function isOffline() {
      return typeof navigator !== "undefined" && navigator.onLine === false;
    }
    function onBrowserOffline() {
      if (!socket.connected) set({ state: "offline" });
    }
    function onBrowserOnline() {
      if (!socket.connected) set({ state: "reconnecting" });
    }
    socket.on("connect", onConnect);
    socket.on("disconnect", onDisconnect);
    socket.on("connect_error", onConnectError);
    manager.on("reconnect_attempt", onAttempt);
    manager.on("reconnect_failed", onFailed);
    var hasWindow = typeof window !== "undefined" && window.addEventListener;
    if (hasWindow) {
      window.addEventListener("offline", onBrowserOffline);
      window.addEventListener("online", onBrowserOnline);
    }
    if (socket.connected) onConnect();
    else set({});
    return function detach() {
      socket.off("connect", onConnect);
      socket.off("disconnect", onDisconnect);
      socket.off("connect_error", onConnectError);
      manager.off("reconnect_attempt", onAttempt);
      manager.off("reconnect_failed", onFailed);
      if (engineSeen) engineSeen.off("upgrade", onUpgrade);
      if (hasWindow) {
        window.removeEventListener("offline", onBrowserOffline);
        window.removeEventListener("online", onBrowserOnline);
      }
    };
  }

  /** The lifecycle, as the server enforces it. */
  var LIFECYCLE = ["placed", "confirmed", "packed", "shipped", "out_for_delivery", "delivered"];

  /** Statuses that may follow `status`, in the order a UI offers them. */
  function nextStatuses(status) {
    if (status === "delivered" || status === "cancelled") return [];
    var i = LIFECYCLE.indexOf(status);
    if (i < 0) return [];
    return [LIFECYCLE[i + 1], "cancelled"];
  }

  return {
    OrderFeed: OrderFeed,
    watchConnection: watchConnection,
    LIFECYCLE: LIFECYCLE,
    nextStatuses: nextStatuses,
    version: "1",
  };
});
