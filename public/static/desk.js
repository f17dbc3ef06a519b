/*
 * desk.js — the live signals of the support desk (contract 0.2), shared by
 * /track and /support: who is typing, sending one's own typing, waiting
 * times, and the unseen-messages count in the tab title.
 */
(function (root) {
  "use strict";

  var TYPING_HIDE_MS = 3000; // the sender repeats at most once a second
  // The server relays at most one a second per socket and order and drops
  // the rest: a little more than that keeps jitter from getting ours dropped.
  var TYPING_SEND_MS = 1100;

  /** supportOnline may come as a count or as a boolean. */
  function isOnline(v) {
    return v === true || (typeof v === "number" && v > 0);
  }

  /**
   * "X is typing…" in one element. show(key, name) (re)starts a 3 s timer
   * for that person; stop(key) hides them at once (their message arrived).
   */
  function TypingIndicator(el) {
    this.el = el;
    this.people = new Map(); // key -> {name, timer}
    this.render();
  }

  TypingIndicator.prototype.show = function (key, name) {
    var self = this;
    var p = this.people.get(key);
    if (p) clearTimeout(p.timer);
    else p = { name: name };
    p.name = name;
    p.timer = setTimeout(function () {
      self.stop(key);
    }, TYPING_HIDE_MS);
    this.people.set(key, p);
    this.render();
  };

  TypingIndicator.prototype.stop = function (key) {
    var p = this.people.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    this.people.delete(key);
    this.render();
  };

  TypingIndicator.prototype.reset = function () {
    this.people.forEach(function (p) {
      clearTimeout(p.timer);
    });
    this.people.clear();
    this.render();
  };

  TypingIndicator.prototype.render = function () {
    var names = [];
    this.people.forEach(function (p) {
      names.push(p.name);
    });
    var text = "";
    if (names.length === 1) text = names[0] + " is typing…";
    else if (names.length === 2) text = names[0] + " and " + names[1] + " are typing…";
    else if (names.length > 2) text = names.length + " people are typing…";
    if (this.el.textContent !== text) this.el.textContent = text;
    this.el.hidden = !text;
  };

  /**
   * Emits order:typing {orderId} while the user types into `input`, at most
   * once per second per order. orderId() says which order (null: none).
   * reset() after a send: the message ended the indicator on the other
   * side, so the next keystroke may say so again at once.
   */
  function sendTyping(input, socketOf, orderId) {
    var last = { id: null, at: 0 };
    input.addEventListener("input", function () {
      var socket = socketOf();
      var id = orderId();
      if (!socket || !socket.connected || !id || !input.value.trim()) return;
      var now = Date.now();
      if (id === last.id && now - last.at < TYPING_SEND_MS) return;
      last.id = id;
      last.at = now;
      socket.emit("order:typing", { orderId: id });
    });
    return {
      reset: function () {
        last.at = 0;
      },
    };
  }

  function pad2(n) {
    return (n < 10 ? "0" : "") + n;
  }

  /** A waiting time that visibly ticks: "45s", "4m 09s", "1h 05m", "2d 3h". */
  function formatWaiting(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + "s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + "m " + pad2(s % 60) + "s";
    var hrs = Math.floor(m / 60);
    if (hrs < 24) return hrs + "h " + pad2(m % 60) + "m";
    return Math.floor(hrs / 24) + "d " + (hrs % 24) + "h";
  }

  /**
   * The tab title with "(n) " in front while messages arrive in a hidden
   * tab; cleared as soon as the tab is visible again.
   */
  function UnseenTitle(doc) {
    var self = this;
    this.doc = doc || document;
    this.base = this.doc.title;
    this.count = 0;
    this.doc.addEventListener("visibilitychange", function () {
      if (self.doc.visibilityState === "visible") self.reset();
    });
  }

  UnseenTitle.prototype.setBase = function (text) {
    this.base = text;
    this.render();
  };

  /** Counts a message if the tab is hidden now; returns whether it did. */
  UnseenTitle.prototype.arrived = function () {
    if (this.doc.visibilityState !== "hidden") return false;
    this.count++;
    this.render();
    return true;
  };

  UnseenTitle.prototype.reset = function () {
    this.count = 0;
    this.render();
  };

  UnseenTitle.prototype.render = function () {
    this.doc.title = (this.count > 0 ? "(" + this.count + ") " : "") + this.base;
  };

  /** "3 messages in the chat" for the timeline's summary line. */
  function messagesSummary(n) {
    return n === 1 ? "1 message in the chat" : n + " messages in the chat";
  }

  root.OrderCastDesk = {
    isOnline: isOnline,
    TypingIndicator: TypingIndicator,
    sendTyping: sendTyping,
    formatWaiting: formatWaiting,
    UnseenTitle: UnseenTitle,
    messagesSummary: messagesSummary,
    TYPING_HIDE_MS: TYPING_HIDE_MS,
  };
})(window);
