/* The customer's tracking page: /track/:id?token=… */
(function () {
  "use strict";
  var UI = window.OrderCastUI;
  var OC = window.OrderCast;
  var Desk = window.OrderCastDesk;
  var h = UI.h;

  function $(id) {
    return document.getElementById(id);
  }

  var parts = location.pathname.split("/").filter(Boolean);
  var orderId = parts.length >= 2 ? decodeURIComponent(parts[parts.length - 1]) : "";
  var token = new URLSearchParams(location.search).get("token") || "";

  var state = { order: null, status: null, statusAt: null, reached: -1, messages: 0 };
  var unseen = new Desk.UnseenTitle(document);

  function fatal(title, text) {
    $("fatal-title").textContent = title;
    $("fatal-text").textContent = text;
    $("fatal").hidden = false;
    $("summary").hidden = true;
    document.querySelector(".two-col").hidden = true;
    document.body.classList.add("is-error");
  }

  if (!orderId || !token) {
    fatal("This tracking link is incomplete", "Please open the full link from your order confirmation e-mail.");
    $("conn").hidden = true;
    return;
  }

  $("order-title").textContent = orderId;
  unseen.setBase("Order " + orderId + " · ordercast");

  if (typeof window.io !== "function") {
    fatal("Live updates are unavailable", "The page could not load its live-update library. Please reload.");
    return;
  }

  var socket = window.io({ autoConnect: false });
  var feed = new OC.OrderFeed(socket);
  UI.bindConnection(socket, $("conn"), function (s) {
    document.body.dataset.conn = s.state;
  });

  var chat = new UI.Chat({
    list: $("messages"),
    form: $("chat-form"),
    input: $("chat-input"),
    errorEl: $("chat-error"),
    emptyEl: $("messages-empty"),
    own: function (e) {
      return e.from === "customer";
    },
    send: function (text, done) {
      typingSender.reset();
      socket.timeout(10000).emit("order:message", { orderId: orderId, text: text }, function (err, res) {
        if (err) return done({ code: "timeout", message: "no answer from the server, please retry" });
        if (!res || !res.ok) return done((res && res.error) || { code: "error", message: "not delivered" });
        done(null, res.event);
      });
    },
    ingest: function (e) {
      feed.ingest(e, "order:message", "ack");
    },
  });
  chat.otherLabel = function (e) {
    return (e.author || "Support") + " · support";
  };

  // ---------- live signals: support online, typing, unseen messages ----------

  var typing = new Desk.TypingIndicator($("typing"));
  var typingSender = Desk.sendTyping(
    $("chat-input"),
    function () {
      return socket;
    },
    function () {
      return orderId;
    }
  );
  socket.on("order:typing", function (e) {
    if (!e || e.orderId !== orderId || e.from !== "support") return;
    typing.show("support:" + (e.author || ""), e.author ? e.author + " from support" : "Support");
  });
  socket.on("support:online", function (p) {
    if (p && typeof p.count === "number") setSupportOnline(p.count);
  });
  socket.on("disconnect", function () {
    // Until the resubscribe says otherwise, the last answer may be stale.
    typing.reset();
    $("support-online").dataset.stale = "true";
  });

  function setSupportOnline(v) {
    var on = Desk.isOnline(v);
    var el = $("support-online");
    el.dataset.online = on ? "true" : "false";
    delete el.dataset.stale;
    el.textContent = on ? "Support online" : "Support offline";
    el.title = on ? "Someone from support is online and can answer now." : "Nobody from support is online right now.";
    $("support-offline-note").hidden = on;
    $("messages-empty").textContent = on
      ? "Questions about your order? Write to us, we usually answer within minutes."
      : "Questions about your order? Write to us, we'll answer as soon as someone from support is back.";
  }

  function countMessage(e, info) {
    state.messages++;
    var p = $("timeline-chat");
    $("timeline-chat-link").textContent = Desk.messagesSummary(state.messages);
    p.hidden = false;
    if (e.from === "support") {
      typing.stop("support:" + (e.author || ""));
      if (info.source !== "initial") unseen.arrived();
    }
  }

  function renderSummary(order) {
    state.order = order;
    $("order-title").textContent = order.id;
    $("order-sub").textContent = "For " + order.customer + " · placed " + UI.formatDateTime(order.createdAt);
    $("order-total").textContent = UI.formatMoney(order.total, order.currency);
    var items = $("items");
    UI.clear(items);
    (order.items || []).forEach(function (it) {
      items.appendChild(
        h("li", { class: "item" }, h("span", { class: "item-qty" }, it.qty + " ×"), h("span", { class: "item-name" }, it.name))
      );
    });
    $("summary").setAttribute("aria-busy", "false");
  }

  function setStatus(status, at) {
    if (!status) return;
    state.status = status;
    if (at) state.statusAt = at;
    var i = OC.LIFECYCLE.indexOf(status);
    if (i > state.reached) state.reached = i;

    var badge = $("status-badge");
    badge.textContent = UI.statusLabel(status);
    badge.dataset.status = status;
    badge.className = "badge badge-" + status;
    unseen.setBase("Order " + orderId + " · " + UI.statusLabel(status));

    var final = status === "delivered" || status === "cancelled";
    document.body.classList.toggle("is-final", final);
    document.body.classList.toggle("is-cancelled", status === "cancelled");
    document.body.classList.toggle("is-delivered", status === "delivered");
    var banner = $("final-banner");
    if (status === "delivered") {
      banner.textContent = "Delivered" + (state.statusAt ? " on " + UI.formatFull(state.statusAt) : "") + ". Enjoy!";
    } else if (status === "cancelled") {
      banner.textContent =
        "This order was cancelled" + (state.statusAt ? " on " + UI.formatFull(state.statusAt) : "") + ". Questions? Write to us below.";
    }
    banner.hidden = !final;
    banner.className = "final-banner final-" + status;
    renderStepper();
  }

  function renderStepper() {
    var ol = $("stepper");
    UI.clear(ol);
    var current = OC.LIFECYCLE.indexOf(state.status);
    var cancelled = state.status === "cancelled";
    ol.classList.toggle("is-cancelled", cancelled);
    OC.LIFECYCLE.forEach(function (s, i) {
      var cls = "step";
      var reachedIdx = cancelled ? state.reached : current;
      if (i < reachedIdx || (i === reachedIdx && (s === "delivered" || cancelled))) cls += " is-done";
      if (!cancelled && i === current) cls += " is-current";
      var li = h(
        "li",
        { class: cls, dataset: { status: s } },
        h("span", { class: "step-dot", "aria-hidden": "true" }),
        h("span", { class: "step-label" }, UI.shortLabel(s))
      );
      if (!cancelled && i === current) li.setAttribute("aria-current", "step");
      ol.appendChild(li);
    });
  }

  var missedTimer = null;
  function showMissed(n) {
    var el = $("notice");
    el.textContent =
      n === 1 ? "Back online — 1 update arrived while you were away." : "Back online — " + n + " updates arrived while you were away.";
    el.hidden = false;
    clearTimeout(missedTimer);
    missedTimer = setTimeout(function () {
      el.hidden = true;
    }, 8000);
  }

  feed.watch(orderId, {
    token: token,
    onEvent: function (e, info) {
      if (e.type === "order:status") {
        var item = UI.timelineItem(e);
        if (info.source === "resync") item.classList.add("is-missed");
        UI.insertBySeq($("timeline"), item);
        if (e.seq >= (state.statusSeq || 0)) {
          state.statusSeq = e.seq;
          setStatus(e.status, e.at);
        }
      } else {
        chat.add(e);
        countMessage(e, info);
      }
    },
    onSnapshot: function (order, info) {
      $("fatal").hidden = true;
      if (info.supportOnline !== undefined) setSupportOnline(info.supportOnline);
      renderSummary(order);
      if (!state.status || order.status !== state.status) setStatus(order.status);
      if (info.missed > 0) showMissed(info.missed);
    },
    onError: function (err) {
      if (err.code === "not_found") {
        fatal("Order not found", "We could not find order " + orderId + ". Please check the link in your e-mail.");
      } else if (err.code === "forbidden" || err.code === "unauthorized") {
        fatal("This tracking link is not valid", "Please open the link from your order confirmation e-mail.");
      } else {
        fatal("We can't show this order right now", err.message || "Please try again in a moment.");
      }
    },
  });

  chat.updateEmpty();
  renderStepper();
  socket.connect();

  // For the page's own tests and for debugging from the console.
  window.ordercastTrack = { socket: socket, feed: feed };
})();
