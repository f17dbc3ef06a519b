/*
 * The "Waiting for reply" view of /support: the orders whose last chat
 * message is the customer's, longest waiting first, with a ticking waiting
 * time. Loaded from GET /api/orders?awaiting=reply on every (re)connect and
 * kept live from order:message and order:assigned.
 */
(function (root) {
  "use strict";
  var UI = root.OrderCastUI;
  var Desk = root.OrderCastDesk;
  var h = UI.h;

  function $(id) {
    return document.getElementById(id);
  }

  /** "You" for oneself, else the name; null when nobody has taken it. */
  function assigneeBadge(assignee, me) {
    if (!assignee) return null;
    var mine = assignee === me;
    return h(
      "span",
      { class: "assignee" + (mine ? " is-mine" : ""), title: "Taken by " + (mine ? "you" : assignee), dataset: { assignee: assignee } },
      h("span", { class: "visually-hidden" }, "Taken by "),
      mine ? "You" : assignee
    );
  }

  /**
   * opts: {token, me, openOrder(id), selectedId(), orderOf(id) -> order|undefined}
   */
  function WaitingList(opts) {
    this.opts = opts;
    this.rows = new Map(); // id -> {id, customer, assignee, since, lastSeq, el}
    this.ticket = 0;
    this.more = false;
    this.buffer = null; // live events held while a reload runs
    var self = this;
    this.timer = setInterval(function () {
      self.tick();
    }, 1000);
    this.render();
  }

  WaitingList.prototype.destroy = function () {
    clearInterval(this.timer);
    this.ticket++;
    this.rows.clear();
    UI.clear($("waiting-list"));
    this.render();
  };

  /** Reads the list again (first connect and every reconnect). */
  WaitingList.prototype.reload = function () {
    var self = this;
    var ticket = ++this.ticket;
    this.buffer = this.buffer || [];
    UI.api("GET", "/api/orders?awaiting=reply&limit=100", this.opts.token)
      .then(function (res) {
        if (ticket !== self.ticket) return;
        $("waiting-error").hidden = true;
        var seen = new Map();
        self.rows.forEach(function (r) {
          r.el.remove();
        });
        self.rows.clear();
        (res.orders || []).forEach(function (o) {
          if (o.awaitingReply !== true) return; // a server without contract 0.2 ignores ?awaiting
          seen.set(o.id, o.lastSeq || 0);
          self.put(o.id, o.customer, o.assignee || null, Date.parse(o.awaitingSince || o.updatedAt), o.lastSeq || 0);
        });
        self.more = !!res.next; // over 100 waiting: the count says "100+"
        self.flush(seen);
      })
      .catch(function (err) {
        if (ticket !== self.ticket) return;
        $("waiting-error").textContent = "Could not load the orders waiting for a reply: " + err.message;
        $("waiting-error").hidden = false;
        self.flush(new Map());
      });
  };

  /** Applies the events that arrived during a reload, newer than the list. */
  WaitingList.prototype.flush = function (listed) {
    var held = this.buffer || [];
    this.buffer = null;
    var self = this;
    held.forEach(function (e) {
      if (listed.has(e.orderId) && e.seq <= listed.get(e.orderId)) return;
      self.message(e);
    });
    this.render();
  };

  /** Every order:message the board receives (support gets them all). */
  WaitingList.prototype.message = function (e) {
    if (!e || typeof e.seq !== "number") return;
    if (this.buffer) {
      this.buffer.push(e);
      return;
    }
    var r = this.rows.get(e.orderId);
    if (r && e.seq <= r.lastSeq) return;
    if (e.from === "customer") {
      if (r) r.lastSeq = e.seq;
      else this.added(e);
    } else if (r) {
      r.el.remove();
      this.rows.delete(e.orderId);
    }
    this.render();
  };

  WaitingList.prototype.added = function (e) {
    var known = this.opts.orderOf(e.orderId);
    var self = this;
    this.put(e.orderId, known ? known.customer : e.author, known ? known.assignee || null : null, Date.parse(e.at), e.seq);
    if (!known) {
      // An order outside the loaded page of the list: ask who has it.
      UI.api("GET", "/api/orders/" + encodeURIComponent(e.orderId), this.opts.token)
        .then(function (res) {
          if (res && res.order) self.assigned({ orderId: e.orderId, assignee: res.order.assignee || null });
        })
        .catch(function () {
          /* the next reload will say */
        });
    }
  };

  WaitingList.prototype.put = function (id, customer, assignee, since, lastSeq) {
    if (isNaN(since)) since = Date.now();
    var r = { id: id, customer: customer || "", assignee: assignee, since: since, lastSeq: lastSeq };
    r.el = h("li", { class: "order-item waiting-item", dataset: { id: id } });
    this.rows.set(id, r);
    this.draw(r);
  };

  WaitingList.prototype.draw = function (r) {
    var self = this;
    UI.clear(r.el);
    var selected = this.opts.selectedId() === r.id;
    var btn = h(
      "button",
      { type: "button", class: "order-row", "aria-current": selected ? "true" : "false" },
      h(
        "span",
        { class: "row-top" },
        h("span", { class: "row-id" }, r.id),
        assigneeBadge(r.assignee, this.opts.me),
        h(
          "span",
          { class: "wait-time", title: "Waiting since " + UI.formatFull(new Date(r.since).toISOString()) },
          h("span", { class: "visually-hidden" }, "waiting "),
          h("span", { class: "wait-clock" })
        )
      ),
      h(
        "span",
        { class: "row-bottom" },
        h("span", { class: "row-customer" }, r.customer),
        h("span", { class: "wait-since" }, "since " + UI.formatTime(new Date(r.since).toISOString()))
      )
    );
    btn.addEventListener("click", function () {
      self.opts.openOrder(r.id);
    });
    r.el.appendChild(btn);
    this.tickRow(r, Date.now());
  };

  /** order:assigned, or the ack of our own order:assign. */
  WaitingList.prototype.assigned = function (e) {
    var r = this.rows.get(e.orderId);
    if (!r || r.assignee === e.assignee) return;
    r.assignee = e.assignee || null;
    this.draw(r);
  };

  /** Marks the open order in the list. */
  WaitingList.prototype.select = function (id) {
    this.rows.forEach(function (r) {
      var b = r.el.querySelector(".order-row");
      if (b) b.setAttribute("aria-current", r.id === id ? "true" : "false");
    });
  };

  WaitingList.prototype.sorted = function () {
    return Array.from(this.rows.values()).sort(function (a, b) {
      return a.since - b.since || (a.id < b.id ? -1 : 1);
    });
  };

  WaitingList.prototype.render = function () {
    var ul = $("waiting-list");
    var all = this.sorted();
    all.forEach(function (r) {
      ul.appendChild(r.el); // moves it: the DOM order follows the waiting time
    });
    $("waiting-count").textContent = all.length + (this.more ? "+" : "");
    $("waiting").dataset.count = String(all.length);
    $("waiting-empty").hidden = all.length > 0;
    this.tick();
  };

  WaitingList.prototype.tickRow = function (r, now) {
    r.el.querySelector(".wait-clock").textContent = Desk.formatWaiting(now - r.since);
  };

  WaitingList.prototype.tick = function () {
    var now = Date.now();
    var self = this;
    var oldest = null;
    this.rows.forEach(function (r) {
      self.tickRow(r, now);
      if (oldest === null || r.since < oldest) oldest = r.since;
    });
    $("waiting-oldest").textContent = oldest === null ? "" : "oldest " + Desk.formatWaiting(now - oldest);
  };

  root.OrderCastWaiting = { WaitingList: WaitingList, assigneeBadge: assigneeBadge };
})(window);
