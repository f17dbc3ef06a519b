/*
 * ui.js — small DOM and formatting helpers shared by the ordercast pages.
 *
 * Every piece of user-supplied text goes through textContent (see `h`);
 * nothing here ever assigns innerHTML.
 */
(function (root) {
  "use strict";

  var STATUS_LABELS = {
    placed: "Order placed",
    confirmed: "Confirmed",
    packed: "Packed",
    shipped: "Shipped",
    out_for_delivery: "Out for delivery",
    delivered: "Delivered",
    cancelled: "Cancelled",
  };

  var SHORT_LABELS = {
    placed: "Placed",
    confirmed: "Confirmed",
    packed: "Packed",
    shipped: "Shipped",
    out_for_delivery: "Out for delivery",
    delivered: "Delivered",
    cancelled: "Cancelled",
  };

  /**
   * h("li", {class: "x", dataset: {seq: 3}}, "text", childNode, …)
   * Strings become text nodes; attributes are set with setAttribute.
   */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === "class") el.className = v;
        else if (k === "dataset") {
          Object.keys(v).forEach(function (d) {
            el.dataset[d] = String(v[d]);
          });
        } else if (k === "text") el.textContent = String(v);
        else if (k === "hidden") el.hidden = !!v;
        else if (k === "disabled") el.disabled = !!v;
        else el.setAttribute(k, v === true ? "" : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) {
      child.forEach(function (c) {
        append(el, c);
      });
    } else if (typeof child === "object" && child.nodeType) {
      el.appendChild(child);
    } else {
      el.appendChild(document.createTextNode(String(child)));
    }
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  function statusLabel(s) {
    return STATUS_LABELS[s] || String(s || "");
  }

  function shortLabel(s) {
    return SHORT_LABELS[s] || String(s || "");
  }

  var moneyFormats = {};
  function formatMoney(minor, currency) {
    currency = currency || "EUR";
    var f = moneyFormats[currency];
    if (!f) {
      try {
        f = new Intl.NumberFormat(undefined, { style: "currency", currency: currency });
      } catch (e) {
        f = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      }
      moneyFormats[currency] = f;
    }
    var digits = f.resolvedOptions().maximumFractionDigits;
    return f.format(Number(minor || 0) / Math.pow(10, digits));
  }

  var timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  var dateTimeFmt = new Intl.DateTimeFormat(undefined, {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });

  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  }

  /** "14:05" today, "3 Mar, 14:05" otherwise. */
  function formatTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    return sameDay(d, new Date()) ? timeFmt.format(d) : dateTimeFmt.format(d);
  }

  var fullFmt = new Intl.DateTimeFormat(undefined, {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });

  /** "Sat, 22 Nov 2026, 14:05": for tooltips and banners. */
  function formatFull(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    return fullFmt.format(d);
  }

  /** Always with the date: "22 Nov, 14:05". */
  function formatDateTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    return dateTimeFmt.format(d);
  }

  /** A <time> element with a readable label and the full date as a tooltip. */
  function timeEl(iso, cls) {
    return h("time", { class: cls || "time", datetime: iso, title: formatFull(iso) }, formatTime(iso));
  }

  function byLabel(by) {
    if (!by || by === "service") return "the shop";
    return by;
  }

  /**
   * One timeline entry for a status event. Chat messages have one place,
   * the chat panel; a timeline only counts them (see desk.js).
   */
  function timelineItem(e) {
    var li = h("li", {
      class: "tl-item tl-status tl-" + e.status,
      dataset: { seq: e.seq, type: e.type },
    });
    var body = h("div", { class: "tl-body" });
    body.appendChild(h("div", { class: "tl-title" }, statusLabel(e.status)));
    if (e.note) body.appendChild(h("div", { class: "tl-note" }, e.note));
    body.appendChild(h("div", { class: "tl-meta" }, timeEl(e.at), " · by " + byLabel(e.by)));
    li.appendChild(h("span", { class: "tl-dot", "aria-hidden": "true" }));
    li.appendChild(body);
    return li;
  }

  /** Inserts an element into a list keeping data-seq ascending. */
  function insertBySeq(list, el) {
    var seq = Number(el.dataset.seq);
    var node = list.lastElementChild;
    while (node && node.dataset.seq && Number(node.dataset.seq) > seq) node = node.previousElementSibling;
    if (!node) list.insertBefore(el, list.firstElementChild);
    else list.insertBefore(el, node.nextElementSibling);
  }

  /**
   * Chat: keeps messages in seq order, binds the echo of a message we sent
   * to its pending bubble and shows the ack state.
   *   own: function (event) -> boolean, which messages are "mine"
   */
  function Chat(opts) {
    this.list = opts.list;
    this.form = opts.form;
    this.input = opts.input;
    this.errorEl = opts.errorEl;
    this.own = opts.own;
    this.send = opts.send; // function (text, done(err, event))
    this.ingest = opts.ingest; // hands an acked event to the feed
    this.emptyEl = opts.emptyEl;
    this.pending = [];
    this.nextLocal = 1;
    var self = this;
    this.input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        self.submit();
      }
    });
    this.input.addEventListener("input", function () {
      self.autosize();
    });
    this.form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      self.submit();
    });
  }

  Chat.prototype.autosize = function () {
    var el = this.input;
    el.style.height = "auto";
    el.style.height = Math.min(el.scrollHeight, 160) + "px";
  };

  Chat.prototype.reset = function () {
    clear(this.list);
    this.pending = [];
    this.setError("");
    this.updateEmpty();
  };

  Chat.prototype.updateEmpty = function () {
    if (this.emptyEl) this.emptyEl.hidden = this.list.children.length > 0;
  };

  Chat.prototype.setError = function (msg) {
    if (!this.errorEl) return;
    this.errorEl.textContent = msg || "";
    this.errorEl.hidden = !msg;
  };

  Chat.prototype.submit = function () {
    var text = this.input.value.replace(/^\s+|\s+$/g, "");
    if (!text) return;
    this.input.value = "";
    this.autosize();
    this.setError("");
    this.sendText(text);
  };

  Chat.prototype.sendText = function (text) {
    var self = this;
    var bubble = this.bubble({ text: text, from: null, at: new Date().toISOString() }, true);
    bubble.classList.add("is-pending");
    var p = { id: this.nextLocal++, text: text, el: bubble, seq: null };
    bubble.dataset.local = String(p.id);
    this.pending.push(p);
    this.list.appendChild(bubble);
    this.updateEmpty();
    this.scroll();
    this.send(text, function (err, event) {
      if (err) {
        bubble.classList.remove("is-pending");
        bubble.classList.add("is-failed");
        self.setState(bubble, "Not sent: " + (err.message || err.code || "error"));
        var retry = h("button", { type: "button", class: "link-button" }, "Retry");
        retry.addEventListener("click", function () {
          bubble.remove();
          self.pending = self.pending.filter(function (x) {
            return x !== p;
          });
          self.sendText(text);
        });
        bubble.querySelector(".msg-meta").appendChild(retry);
        self.pending = self.pending.filter(function (x) {
          return x !== p;
        });
        return;
      }
      // The push may have arrived first; otherwise the ack delivers it.
      if (p.seq === null) {
        p.ackEvent = event;
        self.ingest(event);
      }
      if (p.seq === null) self.bind(p, event); // feed had already seen it
      p.el.classList.remove("is-pending");
      p.el.classList.add("is-delivered");
      self.setState(p.el, "Delivered");
      self.pending = self.pending.filter(function (x) {
        return x !== p;
      });
    });
  };

  Chat.prototype.setState = function (bubble, text) {
    var s = bubble.querySelector(".msg-state");
    if (s) s.textContent = text;
  };

  Chat.prototype.bind = function (p, e) {
    p.seq = e.seq;
    var existing = this.list.querySelector('.msg[data-seq="' + e.seq + '"]');
    if (existing && existing !== p.el) {
      // Already shown (the server may have normalised the text): keep that one.
      p.el.remove();
      p.el = existing;
      existing.classList.add("msg-own");
      if (!existing.querySelector(".msg-state")) {
        existing.querySelector(".msg-meta").appendChild(h("span", { class: "msg-state" }, "Delivered"));
      }
      return;
    }
    p.el.dataset.seq = String(e.seq);
    var t = p.el.querySelector("time");
    if (t && e.at) {
      t.setAttribute("datetime", e.at);
      t.textContent = formatTime(e.at);
    }
    var author = p.el.querySelector(".msg-author");
    if (author && e.author) author.textContent = this.ownLabel(e);
    // Keep seq order if other messages overtook this one.
    p.el.remove();
    insertBySeq(this.list, p.el);
  };

  Chat.prototype.ownLabel = function () {
    return "You";
  };

  Chat.prototype.otherLabel = function (e) {
    return e.author || (e.from === "support" ? "Support" : "Customer");
  };

  Chat.prototype.bubble = function (e, mine) {
    var li = h("li", { class: "msg " + (mine ? "msg-own" : "msg-other") });
    if (e.seq) li.dataset.seq = String(e.seq);
    li.appendChild(
      h("div", { class: "msg-head" }, h("span", { class: "msg-author" }, mine ? this.ownLabel(e) : this.otherLabel(e)))
    );
    li.appendChild(h("div", { class: "msg-text" }, e.text));
    li.appendChild(
      h("div", { class: "msg-meta" }, timeEl(e.at), mine ? h("span", { class: "msg-state" }, e.seq ? "Delivered" : "Sending…") : null)
    );
    return li;
  };

  /** Called with every message event the feed delivers. */
  Chat.prototype.add = function (e) {
    if (this.list.querySelector('.msg[data-seq="' + e.seq + '"]')) return;
    var mine = this.own(e);
    if (mine) {
      for (var i = 0; i < this.pending.length; i++) {
        var p = this.pending[i];
        if (p.seq === null && p.text === e.text) {
          this.bind(p, e);
          return;
        }
      }
    }
    var el = this.bubble(e, mine);
    if (mine) el.classList.add("is-delivered");
    insertBySeq(this.list, el);
    this.updateEmpty();
    this.scroll();
  };

  Chat.prototype.scroll = function () {
    var list = this.list;
    list.scrollTop = list.scrollHeight;
  };

  /** Shows a socket's connection state in an element. */
  function bindConnection(socket, el, onChange) {
    return root.OrderCast.watchConnection(socket, function (s) {
      el.textContent = s.label;
      el.dataset.state = s.state;
      el.title = s.error ? s.error : s.label;
      if (onChange) onChange(s);
    });
  }

  /**
   * Staff sign-in shared by /support and /admin. A token in the URL fragment
   * (#token=…) is taken, kept in sessionStorage and removed from the URL.
   */
  var TOKEN_KEY = "ordercast.staffToken";
  function takeStaffToken() {
    var hash = root.location.hash || "";
    var m = /[#&]token=([^&]+)/.exec(hash);
    if (m) {
      var tok = decodeURIComponent(m[1]);
      try {
        sessionStorage.setItem(TOKEN_KEY, tok);
      } catch (e) {
        /* storage unavailable: keep it in memory only */
      }
      history.replaceState(null, "", root.location.pathname + root.location.search);
      return tok;
    }
    try {
      return sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (e) {
      return "";
    }
  }
  function saveStaffToken(tok) {
    try {
      sessionStorage.setItem(TOKEN_KEY, tok);
    } catch (e) {
      /* ignore */
    }
  }
  function clearStaffToken() {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* ignore */
    }
  }

  /** Reads the name and role from a staff token when it is readable (JWT-like); null otherwise. */
  function tokenClaims(tok) {
    try {
      var parts = String(tok).split(".");
      if (parts.length < 2) return null;
      var b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
      while (b64.length % 4) b64 += "=";
      var json = decodeURIComponent(
        atob(b64)
          .split("")
          .map(function (c) {
            return "%" + ("00" + c.charCodeAt(0).toString(16)).slice(-2);
          })
          .join("")
      );
      var c = JSON.parse(json);
      return c && typeof c === "object" ? c : null;
    } catch (e) {
      return null;
    }
  }

  /** fetch() with a Bearer token, returning parsed JSON or throwing {status, code, message}. */
  function api(method, path, token, body) {
    var headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    }).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try {
          data = text ? JSON.parse(text) : null;
        } catch (e) {
          data = null;
        }
        if (!res.ok) {
          var err = (data && data.error) || {};
          throw {
            status: res.status,
            code: err.code || "http_" + res.status,
            message: err.message || res.statusText || "request failed",
          };
        }
        return data;
      });
    });
  }

  root.OrderCastUI = {
    h: h,
    clear: clear,
    statusLabel: statusLabel,
    shortLabel: shortLabel,
    formatMoney: formatMoney,
    formatTime: formatTime,
    formatFull: formatFull,
    formatDateTime: formatDateTime,
    timeEl: timeEl,
    timelineItem: timelineItem,
    insertBySeq: insertBySeq,
    Chat: Chat,
    bindConnection: bindConnection,
    takeStaffToken: takeStaffToken,
    saveStaffToken: saveStaffToken,
    clearStaffToken: clearStaffToken,
    tokenClaims: tokenClaims,
    api: api,
  };

  // A binary built by plain `go build`, before `make build` copied the
  // socket.io-client bundle in, has no live updates: say so on the page.
  if (typeof root.io !== "function") {
    var note = document.createElement("p");
    note.className = "bundle-missing";
    note.setAttribute("role", "alert");
    note.textContent =
      "Live updates are off: this build of ordercast has no socket.io-client bundle. " +
      "Build it with `make build`, which copies the bundle in from npm.";
    document.body.prepend(note);
  }
})(window);
