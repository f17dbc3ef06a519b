/*
 * The support desk signals of /support (contract 0.2): the waiting list,
 * and for the open order who has taken it (Take / Release), whether the
 * customer is on the order page now, and who is typing. support.js creates
 * one per signed-in socket and tells it which order is open.
 */
(function (root) {
  "use strict";
  var Desk = root.OrderCastDesk;
  var Waiting = root.OrderCastWaiting;

  function $(id) {
    return document.getElementById(id);
  }

  /**
   * opts: {socket, token, me, openOrder(id), orderOf(id), onAssignee(orderId, assignee)}
   */
  function SupportDesk(opts) {
    var self = this;
    this.opts = opts;
    this.socket = opts.socket;
    this.sel = null; // {id, assignee, presence}
    this.typing = new Desk.TypingIndicator($("d-typing"));
    this.waiting = new Waiting.WaitingList({
      token: opts.token,
      me: opts.me,
      openOrder: opts.openOrder,
      orderOf: opts.orderOf,
      selectedId: function () {
        return self.sel && self.sel.id;
      },
    });
    this.handlers = {
      "order:message": function (e) {
        self.message(e);
      },
      "order:assigned": function (e) {
        if (e && typeof e.orderId === "string") self.assigned(e);
      },
      "order:presence": function (e) {
        if (e && self.sel && e.orderId === self.sel.id) self.presence(e);
      },
      "order:typing": function (e) {
        self.typed(e);
      },
      disconnect: function () {
        self.typing.reset();
        $("d-presence").dataset.stale = "true";
      },
    };
    Object.keys(this.handlers).forEach(function (ev) {
      self.socket.on(ev, self.handlers[ev]);
    });
    this.onTake = function () {
      self.assign(undefined);
    };
    this.onRelease = function () {
      self.assign(null);
    };
    $("take").addEventListener("click", this.onTake);
    $("release").addEventListener("click", this.onRelease);
  }

  SupportDesk.prototype.destroy = function () {
    var self = this;
    Object.keys(this.handlers).forEach(function (ev) {
      self.socket.off(ev, self.handlers[ev]);
    });
    $("take").removeEventListener("click", this.onTake);
    $("release").removeEventListener("click", this.onRelease);
    this.waiting.destroy();
    this.deselect();
  };

  /** On every (re)connect: the waiting list is read again. */
  SupportDesk.prototype.reload = function () {
    this.waiting.reload();
  };

  SupportDesk.prototype.select = function (id, order) {
    this.sel = { id: id, assignee: (order && order.assignee) || null, presence: null };
    this.typing.reset();
    this.waiting.select(id);
    $("assign-error").hidden = true;
    this.presence(null);
    this.renderAssign();
  };

  SupportDesk.prototype.deselect = function () {
    this.sel = null;
    this.typing.reset();
    this.waiting.select(null);
  };

  /** The subscribe ack of the open order (first one and after reconnects). */
  SupportDesk.prototype.snapshot = function (order, info) {
    if (!this.sel || !order || order.id !== this.sel.id) return;
    this.sel.assignee = order.assignee || null;
    this.renderAssign();
    if (info && info.presence) this.presence(info.presence);
  };

  SupportDesk.prototype.message = function (e) {
    this.waiting.message(e);
    if (e && this.sel && e.orderId === this.sel.id) this.typing.stop(e.from + ":" + (e.author || ""));
  };

  SupportDesk.prototype.typed = function (e) {
    if (!e || !this.sel || e.orderId !== this.sel.id) return;
    if (e.from === "support" && e.author === this.opts.me) return; // our own other tab
    var name = e.from === "customer" ? e.author || "The customer" : (e.author || "Someone") + " (support)";
    this.typing.show(e.from + ":" + (e.author || ""), name);
  };

  SupportDesk.prototype.presence = function (p) {
    var el = $("d-presence");
    delete el.dataset.stale;
    if (!p) {
      el.dataset.online = "unknown";
      el.textContent = "";
      return;
    }
    var viewing = p.customers > 0;
    el.dataset.online = viewing ? "true" : "false";
    var text = viewing ? "Customer is viewing now" : "Customer is not on the order page";
    var others = Math.max(0, (p.staff || 0) - 1); // the board itself is subscribed
    if (others > 0) text += " · " + others + (others === 1 ? " other agent has it open" : " other agents have it open");
    el.textContent = text;
  };

  /** order:assigned, or the ack of our own order:assign. */
  SupportDesk.prototype.assigned = function (e) {
    var assignee = e.assignee || null;
    this.waiting.assigned({ orderId: e.orderId, assignee: assignee });
    this.opts.onAssignee(e.orderId, assignee);
    if (this.sel && this.sel.id === e.orderId) {
      this.sel.assignee = assignee;
      this.renderAssign();
    }
  };

  SupportDesk.prototype.renderAssign = function () {
    if (!this.sel) return;
    var a = this.sel.assignee;
    var me = this.opts.me;
    var text = $("d-assignee");
    text.dataset.assignee = a || "";
    if (!a) text.textContent = "Nobody has taken this order";
    else if (a === me) text.textContent = "You have taken this order";
    else text.textContent = "Taken by " + a;
    $("take").hidden = a === me && !!me;
    $("take").textContent = a ? "Take over" : "Take";
    $("release").hidden = !a;
  };

  /** undefined: take it oneself; null: release (contract's order:assign). */
  SupportDesk.prototype.assign = function (assignee) {
    var self = this;
    var sel = this.sel;
    if (!sel || !this.socket.connected) return;
    var payload = { orderId: sel.id };
    if (assignee !== undefined) payload.assignee = assignee;
    var buttons = [$("take"), $("release")];
    buttons.forEach(function (b) {
      b.disabled = true;
    });
    $("assign-error").hidden = true;
    this.socket.timeout(10000).emit("order:assign", payload, function (err, res) {
      buttons.forEach(function (b) {
        b.disabled = false;
      });
      if (self.sel !== sel) return;
      var e = err ? { code: "timeout", message: "no answer from the server" } : res && !res.ok ? res.error || {} : null;
      if (e || !res || !res.order) {
        e = e || { code: "error", message: "no order in the answer" };
        $("assign-error").textContent = "Could not change the assignment: " + (e.message || "error") + " (" + (e.code || "error") + ")";
        $("assign-error").hidden = false;
        return;
      }
      self.assigned({ orderId: sel.id, assignee: res.order.assignee || null });
    });
  };

  root.OrderCastSupportDesk = {
    create: function (opts) {
      return new SupportDesk(opts);
    },
    assigneeBadge: Waiting.assigneeBadge,
  };
})(window);
