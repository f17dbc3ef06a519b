/* The support board: /support */
(function () {
  "use strict";
  var UI = window.OrderCastUI;
  var OC = window.OrderCast;
  var Desk = window.OrderCastDesk;
  var SupportDesk = window.OrderCastSupportDesk;
  var h = UI.h;

  function $(id) {
    return document.getElementById(id);
  }

  var FILTERS = [""].concat(OC.LIFECYCLE, ["cancelled"]);
  var PAGE = 30;

  var token = "";
  var socket = null;
  var feed = null;
  var detachConn = null;
  var everConnected = false;
  var desk = null; // waiting list, assignment, presence, typing
  var me = ""; // the signed-in staff name

  var list = {
    rows: new Map(), // id -> {order, el, lastSeq}
    filter: "",
    next: null,
    loading: 0,
  };
  var selected = null; // {id, order, status, statusSeq, chat}

  // ---------- sign-in ----------

  function showSignIn(message) {
    document.body.classList.add("is-signed-out");
    document.body.classList.remove("is-signed-in");
    $("signin").hidden = false;
    $("board").hidden = true;
    $("conn").hidden = true;
    $("who").hidden = true;
    $("sign-out").hidden = true;
    var err = $("signin-error");
    err.textContent = message || "";
    err.hidden = !message;
    $("token-input").value = "";
    $("token-input").focus();
  }

  function showBoard() {
    document.body.classList.remove("is-signed-out");
    document.body.classList.add("is-signed-in");
    $("signin").hidden = true;
    $("board").hidden = false;
    $("conn").hidden = false;
    $("sign-out").hidden = false;
    var claims = UI.tokenClaims(token);
    var name = claims && (claims.name || claims.sub);
    me = name ? String(name) : "";
    if (name) {
      $("who").textContent = String(name) + (claims.role ? " · " + claims.role : "");
      $("who").hidden = false;
    }
  }

  function signOut(message) {
    UI.clearStaffToken();
    token = "";
    teardown();
    showSignIn(message);
  }

  function teardown() {
    if (desk) desk.destroy();
    desk = null;
    if (feed) feed.destroy();
    feed = null;
    if (detachConn) detachConn();
    detachConn = null;
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
    }
    socket = null;
    everConnected = false;
    list.rows.clear();
    UI.clear($("orders"));
    closeDetail();
  }

  function signIn(tok) {
    token = tok;
    teardown();
    showBoard();
    connect();
  }

  $("signin-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var tok = $("token-input").value.trim();
    if (!tok) return;
    UI.saveStaffToken(tok);
    signIn(tok);
  });
  $("sign-out").addEventListener("click", function () {
    signOut("");
  });

  // ---------- socket ----------

  function connect() {
    socket = window.io({ auth: { token: token }, autoConnect: false });
    feed = new OC.OrderFeed(socket);
    detachConn = UI.bindConnection(socket, $("conn"), function (s) {
      document.body.dataset.conn = s.state;
      if (s.state === "refused") {
        signOut("Sign-in refused: " + (s.error || "invalid token") + ". Please sign in again.");
      }
    });
    desk = SupportDesk.create({
      socket: socket,
      token: token,
      me: me,
      openOrder: openOrder,
      orderOf: function (id) {
        var r = list.rows.get(id);
        return r && r.order;
      },
      onAssignee: setRowAssignee,
    });
    socket.on("connect", function () {
      // First connect: load the lists. Reconnect: reload them, we may have missed changes.
      loadOrders(false);
      desk.reload();
      everConnected = true;
    });
    socket.on("order:created", function (payload) {
      var order = payload && payload.order;
      if (order) addCreated(order);
    });
    socket.on("order:status", function (e) {
      onListStatus(e);
    });
    socket.on("order:message", function (e) {
      onListMessage(e);
    });
    socket.connect();
  }

  // ---------- list ----------

  function renderFilters() {
    var box = $("filters");
    UI.clear(box);
    FILTERS.forEach(function (s) {
      var b = h(
        "button",
        {
          type: "button",
          class: "chip" + (list.filter === s ? " is-active" : ""),
          "aria-pressed": list.filter === s ? "true" : "false",
          dataset: { status: s || "all" },
        },
        s ? UI.shortLabel(s) : "All"
      );
      b.addEventListener("click", function () {
        if (list.filter === s) return;
        list.filter = s;
        renderFilters();
        loadOrders(false);
      });
      box.appendChild(b);
    });
  }

  function matchesFilter(status) {
    return !list.filter || list.filter === status;
  }

  function loadOrders(more) {
    var q = "?limit=" + PAGE;
    if (list.filter) q += "&status=" + encodeURIComponent(list.filter);
    if (more && list.next) q += "&before=" + encodeURIComponent(list.next);
    var ticket = ++list.loading;
    var wasNew = new Set();
    list.rows.forEach(function (r, id) {
      if (r.el.classList.contains("is-new")) wasNew.add(id);
    });
    $("more").disabled = true;
    UI.api("GET", "/api/orders" + q, token)
      .then(function (res) {
        if (ticket !== list.loading) return; // a newer load won
        $("list-error").hidden = true;
        if (!more) {
          // Keep rows that arrived live while loading (newer than the page).
          var keep = [];
          list.rows.forEach(function (r) {
            if (r.live && matchesFilter(r.order.status)) keep.push(r.order);
          });
          list.rows.clear();
          UI.clear($("orders"));
          keep.forEach(function (o) {
            upsertRow(o, { top: false, isNew: true });
          });
        }
        (res.orders || []).forEach(function (o) {
          upsertRow(o, { top: false, isNew: wasNew.has(o.id) });
        });
        list.next = res.next || null;
        $("more").hidden = !list.next;
        $("more").disabled = false;
        updateCount();
      })
      .catch(function (err) {
        if (ticket !== list.loading) return;
        $("more").disabled = false;
        if (err.status === 401) {
          signOut("Your sign-in is no longer valid (" + err.message + "). Please sign in again.");
          return;
        }
        if (err.status === 403) {
          signOut("This token may not open the support board (" + err.message + ").");
          return;
        }
        $("list-error").textContent = "Could not load orders: " + err.message;
        $("list-error").hidden = false;
      });
  }

  $("more").addEventListener("click", function () {
    loadOrders(true);
  });

  function updateCount() {
    var n = list.rows.size;
    $("orders-count").textContent = n === 0 ? "" : n + (list.next ? "+" : "") + " shown";
    $("orders-empty").hidden = n > 0;
  }

  function rowContent(r) {
    var o = r.order;
    var el = r.el;
    UI.clear(el);
    var btn = h(
      "button",
      { type: "button", class: "order-row", "aria-current": selected && selected.id === o.id ? "true" : "false" },
      h(
        "span",
        { class: "row-top" },
        h("span", { class: "row-id" }, o.id),
        h("span", { class: "pill-new" }, "New"),
        h("span", { class: "unread-dot", title: "Unread message" }),
        SupportDesk.assigneeBadge(o.assignee, me),
        h("span", { class: "badge badge-" + o.status, dataset: { status: o.status } }, UI.shortLabel(o.status))
      ),
      h(
        "span",
        { class: "row-bottom" },
        h("span", { class: "row-customer" }, o.customer),
        h("span", { class: "row-total" }, UI.formatMoney(o.total, o.currency)),
        UI.timeEl(o.createdAt, "row-time")
      )
    );
    btn.addEventListener("click", function () {
      openOrder(o.id);
    });
    el.appendChild(btn);
  }

  function upsertRow(order, opts) {
    var r = list.rows.get(order.id);
    if (r) {
      if ((order.lastSeq || 0) >= (r.lastSeq || 0)) {
        r.order = order;
        r.lastSeq = order.lastSeq || 0;
        rowContent(r);
      }
      return r;
    }
    r = { order: order, lastSeq: order.lastSeq || 0, el: h("li", { class: "order-item", dataset: { id: order.id } }) };
    if (opts.isNew) r.el.classList.add("is-new");
    if (opts.live) r.live = true;
    rowContent(r);
    list.rows.set(order.id, r);
    var ul = $("orders");
    if (opts.top) {
      ul.insertBefore(r.el, ul.firstElementChild);
    } else if (opts.sorted) {
      // Insert by createdAt, newest first.
      var t = Date.parse(order.createdAt);
      var node = ul.firstElementChild;
      while (node) {
        var other = list.rows.get(node.dataset.id);
        if (other && Date.parse(other.order.createdAt) < t) break;
        node = node.nextElementSibling;
      }
      ul.insertBefore(r.el, node);
    } else {
      ul.appendChild(r.el);
    }
    return r;
  }

  function setRowAssignee(orderId, assignee) {
    var r = list.rows.get(orderId);
    if (!r || (r.order.assignee || null) === assignee) return;
    r.order = Object.assign({}, r.order, { assignee: assignee });
    rowContent(r);
  }

  function addCreated(order) {
    if (!matchesFilter(order.status) || list.rows.has(order.id)) return;
    var r = upsertRow(order, { top: true, isNew: true, live: true });
    r.el.classList.add("flash");
    setTimeout(function () {
      r.el.classList.remove("flash");
    }, 2500);
    updateCount();
  }

  function onListStatus(e) {
    if (!e || typeof e.seq !== "number") return;
    var r = list.rows.get(e.orderId);
    if (r) {
      if (e.seq <= r.lastSeq) return;
      r.lastSeq = e.seq;
      r.order = Object.assign({}, r.order, { status: e.status, lastSeq: e.seq, updatedAt: e.at });
      if (!matchesFilter(e.status) && !(selected && selected.id === e.orderId)) {
        r.el.remove();
        list.rows.delete(e.orderId);
        updateCount();
        return;
      }
      rowContent(r);
    } else if (list.filter && list.filter === e.status) {
      // An order moved into the filtered status: fetch and place it.
      UI.api("GET", "/api/orders/" + encodeURIComponent(e.orderId), token)
        .then(function (res) {
          if (res && res.order && matchesFilter(res.order.status) && !list.rows.has(res.order.id)) {
            upsertRow(res.order, { sorted: true });
            updateCount();
          }
        })
        .catch(function () {
          /* the next reload will show it */
        });
    }
  }

  function onListMessage(e) {
    if (!e || typeof e.seq !== "number") return;
    var r = list.rows.get(e.orderId);
    if (!r) return;
    if (e.seq > r.lastSeq) {
      r.lastSeq = e.seq;
      r.order = Object.assign({}, r.order, { lastSeq: e.seq });
    }
    if (e.from === "customer" && !(selected && selected.id === e.orderId)) {
      r.el.classList.add("has-unread");
    }
  }

  // ---------- detail ----------

  var detailChat = new UI.Chat({
    list: $("d-messages"),
    form: $("d-chat-form"),
    input: $("d-chat-input"),
    errorEl: $("d-chat-error"),
    emptyEl: $("d-messages-empty"),
    own: function (e) {
      return e.from === "support";
    },
    send: function (text, done) {
      if (!selected || !socket) return done({ code: "error", message: "no order selected" });
      typingSender.reset();
      socket.timeout(10000).emit("order:message", { orderId: selected.id, text: text }, function (err, res) {
        if (err) return done({ code: "timeout", message: "no answer from the server, please retry" });
        if (!res || !res.ok) return done((res && res.error) || { code: "error", message: "not delivered" });
        done(null, res.event);
      });
    },
    ingest: function (e) {
      if (feed) feed.ingest(e, "order:message", "ack");
    },
  });
  var typingSender = Desk.sendTyping(
    $("d-chat-input"),
    function () {
      return socket;
    },
    function () {
      return selected && selected.id;
    }
  );
  detailChat.ownLabel = function (e) {
    return e && e.author ? e.author : "You";
  };
  detailChat.otherLabel = function (e) {
    return (e.author || "Customer") + " · customer";
  };

  function closeDetail() {
    if (selected && feed) feed.unwatch(selected.id);
    selected = null;
    if (desk) desk.deselect();
    document.body.classList.remove("show-detail");
    $("detail-body").hidden = true;
    $("detail-empty").hidden = false;
    list.rows.forEach(function (r) {
      var b = r.el.querySelector(".order-row");
      if (b) b.setAttribute("aria-current", "false");
    });
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  }

  function openOrder(id) {
    if (!feed) return;
    if (selected && selected.id === id) {
      document.body.classList.add("show-detail");
      return;
    }
    if (selected) feed.unwatch(selected.id);
    selected = { id: id, order: null, status: null, statusSeq: 0, messages: 0 };
    var r = list.rows.get(id);
    if (desk) desk.select(id, r && r.order);
    list.rows.forEach(function (row, rid) {
      var b = row.el.querySelector(".order-row");
      if (b) b.setAttribute("aria-current", rid === id ? "true" : "false");
    });
    if (r) r.el.classList.remove("is-new", "has-unread");

    $("detail-empty").hidden = true;
    $("detail-body").hidden = false;
    document.body.classList.add("show-detail");
    $("d-title").textContent = id;
    $("d-sub").textContent = r ? r.order.customer : "";
    setDetailStatus(r ? r.order.status : null);
    UI.clear($("d-timeline"));
    $("d-timeline-chat").hidden = true;
    UI.clear($("d-items"));
    $("d-total").textContent = "";
    $("note-input").value = "";
    showActionError("");
    showActionOk("");
    detailChat.reset();
    history.replaceState(null, "", location.pathname + location.search + "#order=" + encodeURIComponent(id));
    window.scrollTo(0, 0);

    var sel = selected;
    feed.watch(id, {
      onEvent: function (e, info) {
        if (selected !== sel) return;
        if (e.type === "order:status") {
          var item = UI.timelineItem(e);
          if (info.source === "resync") item.classList.add("is-missed");
          UI.insertBySeq($("d-timeline"), item);
          if (e.seq > sel.statusSeq) {
            sel.statusSeq = e.seq;
            setDetailStatus(e.status);
          }
        } else {
          detailChat.add(e);
          sel.messages++;
          $("d-timeline-chat-link").textContent = Desk.messagesSummary(sel.messages);
          $("d-timeline-chat").hidden = false;
        }
      },
      onSnapshot: function (order, info) {
        if (selected !== sel) return;
        sel.order = order;
        if (desk) desk.snapshot(order, info);
        $("d-title").textContent = order.id;
        $("d-sub").textContent = order.customer + " · placed " + UI.formatDateTime(order.createdAt);
        $("d-total").textContent = UI.formatMoney(order.total, order.currency);
        var ul = $("d-items");
        UI.clear(ul);
        (order.items || []).forEach(function (it) {
          ul.appendChild(
            h("li", { class: "item" }, h("span", { class: "item-qty" }, it.qty + " ×"), h("span", { class: "item-name" }, it.name))
          );
        });
        setDetailStatus(order.status);
        if (list.rows.has(order.id)) upsertRow(order, {});
      },
      onError: function (err) {
        if (selected !== sel) return;
        showActionError("Could not open the order: " + err.message + " (" + err.code + ")");
      },
    });
  }

  $("back").addEventListener("click", function () {
    closeDetail();
  });

  function setDetailStatus(status) {
    if (!selected) return;
    selected.status = status;
    var badge = $("d-status");
    badge.textContent = status ? UI.statusLabel(status) : "…";
    badge.className = "badge" + (status ? " badge-" + status : "");
    badge.dataset.status = status || "";
    renderActions();
  }

  function renderActions() {
    var box = $("actions");
    UI.clear(box);
    var status = selected && selected.status;
    var next = status ? OC.nextStatuses(status) : [];
    $("note-input").hidden = next.length === 0;
    if (!status) return;
    if (next.length === 0) {
      box.appendChild(h("span", { class: "muted" }, "No further steps — this order is " + UI.statusLabel(status).toLowerCase() + "."));
      return;
    }
    next.forEach(function (s) {
      var b = h(
        "button",
        { type: "button", class: "btn " + (s === "cancelled" ? "btn-danger" : "btn-primary"), dataset: { status: s } },
        s === "cancelled" ? "Cancel order" : UI.shortLabel(s)
      );
      b.addEventListener("click", function () {
        changeStatus(s);
      });
      box.appendChild(b);
    });
  }

  function changeStatus(status) {
    if (!selected || !socket) return;
    var sel = selected;
    if (status === "cancelled" && !window.confirm("Cancel order " + sel.id + "? The customer will see it at once.")) return;
    var buttons = $("actions").querySelectorAll("button");
    buttons.forEach(function (b) {
      b.disabled = true;
    });
    showActionError("");
    showActionOk("");
    var note = $("note-input").value.trim();
    var payload = { orderId: sel.id, status: status };
    if (note) payload.note = note;
    socket.timeout(10000).emit("order:update-status", payload, function (err, res) {
      if (selected !== sel) return;
      buttons.forEach(function (b) {
        b.disabled = false;
      });
      if (err) {
        showActionError("No answer from the server — the status may not have changed. Please check and retry.");
        return;
      }
      if (!res || !res.ok) {
        var e = (res && res.error) || {};
        showActionError("Could not change the status: " + (e.message || "error") + " (" + (e.code || "error") + ")");
        return;
      }
      $("note-input").value = "";
      showActionOk("Status changed to " + UI.statusLabel(status) + ".");
      if (res.event && feed) feed.ingest(res.event, "order:status", "ack");
    });
  }

  var okTimer = null;
  function showActionOk(msg) {
    var el = $("action-ok");
    el.textContent = msg;
    el.hidden = !msg;
    clearTimeout(okTimer);
    if (msg) {
      okTimer = setTimeout(function () {
        el.hidden = true;
      }, 4000);
    }
  }
  function showActionError(msg) {
    var el = $("action-error");
    el.textContent = msg;
    el.hidden = !msg;
  }

  // ---------- start ----------

  renderFilters();
  var initial = UI.takeStaffToken();
  if (initial) {
    signIn(initial);
    var m = /#order=([^&]+)/.exec(location.hash);
    if (m) openOrder(decodeURIComponent(m[1]));
  } else {
    showSignIn("");
  }

  window.ordercastSupport = {
    get socket() {
      return socket;
    },
    get feed() {
      return feed;
    },
    openOrder: openOrder,
  };
})();
