/* The admin overview: /admin — live figures from the `stats` event. */
(function () {
  "use strict";
  var UI = window.OrderCastUI;
  var h = UI.h;
  var HISTORY = 60; // points, one per second

  function $(id) {
    return document.getElementById(id);
  }

  var token = "";
  var socket = null;
  var detachConn = null;
  var waitTimer = null;
  var lastStats = 0;

  // ---------- charts ----------

  function cssVar(name, fallback) {
    var v = getComputedStyle(document.documentElement).getPropertyValue(name);
    return (v && v.trim()) || fallback;
  }

  /** A small line chart on a canvas, redrawn in place. */
  function LineChart(canvas, legendEl, series) {
    this.canvas = canvas;
    this.series = series.map(function (s) {
      return { label: s.label, color: s.color, values: [] };
    });
    var self = this;
    UI.clear(legendEl);
    this.series.forEach(function (s) {
      var sw = h("span", { class: "swatch", "aria-hidden": "true" });
      sw.style.background = cssVar(s.color, "#888");
      legendEl.appendChild(h("span", { class: "legend-item" }, sw, s.label));
    });
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        self.draw();
      }).observe(canvas);
    }
  }

  LineChart.prototype.push = function (values) {
    this.series.forEach(function (s, i) {
      s.values.push(Number(values[i]) || 0);
      if (s.values.length > HISTORY) s.values.shift();
    });
    this.draw();
  };

  function niceMax(v) {
    if (v <= 1) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var n = v / p;
    var m = n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10;
    return m * p;
  }

  function fmtAxis(v) {
    if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + "k";
    if (v < 10 && v % 1 !== 0) return v.toFixed(1);
    return String(Math.round(v));
  }

  LineChart.prototype.draw = function () {
    var c = this.canvas;
    var dpr = window.devicePixelRatio || 1;
    var w = c.clientWidth;
    var ht = c.clientHeight;
    if (!w || !ht) return;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(ht * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(ht * dpr);
    }
    var ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, ht);

    var max = 0;
    this.series.forEach(function (s) {
      s.values.forEach(function (v) {
        if (v > max) max = v;
      });
    });
    max = niceMax(max * 1.1);

    var padL = 36;
    var padR = 8;
    var padT = 8;
    var padB = 18;
    var pw = w - padL - padR;
    var ph = ht - padT - padB;
    var grid = cssVar("--border", "#e5e7eb");
    var muted = cssVar("--muted", "#6b7280");
    ctx.font = "11px system-ui, -apple-system, Segoe UI, Roboto, sans-serif";
    ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    ctx.lineWidth = 1;
    for (var g = 0; g <= 2; g++) {
      var gy = padT + ph - (ph * g) / 2;
      ctx.strokeStyle = grid;
      ctx.beginPath();
      ctx.moveTo(padL, Math.round(gy) + 0.5);
      ctx.lineTo(w - padR, Math.round(gy) + 0.5);
      ctx.stroke();
      ctx.fillStyle = muted;
      ctx.fillText(fmtAxis((max * g) / 2), padL - 6, gy);
    }
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    ctx.fillText("−1 min", padL, ht - 3);
    ctx.textAlign = "right";
    ctx.fillText("now", w - padR, ht - 3);

    var step = pw / (HISTORY - 1);
    this.series.forEach(function (s, si) {
      var n = s.values.length;
      if (!n) return;
      var color = cssVar(s.color, "#2563eb");
      var x0 = padL + (HISTORY - n) * step;
      function y(v) {
        return padT + ph - (v / max) * ph;
      }
      if (si === 0) {
        ctx.beginPath();
        ctx.moveTo(x0, padT + ph);
        s.values.forEach(function (v, i) {
          ctx.lineTo(x0 + i * step, y(v));
        });
        ctx.lineTo(x0 + (n - 1) * step, padT + ph);
        ctx.closePath();
        ctx.globalAlpha = 0.12;
        ctx.fillStyle = color;
        ctx.fill();
        ctx.globalAlpha = 1;
      }
      ctx.beginPath();
      s.values.forEach(function (v, i) {
        var px = x0 + i * step;
        if (i === 0) ctx.moveTo(px, y(v));
        else ctx.lineTo(px, y(v));
      });
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.lineJoin = "round";
      ctx.stroke();
      ctx.lineWidth = 1;
    });
  };

  var charts = null;
  function makeCharts() {
    charts = {
      conn: new LineChart($("chart-conn"), $("c1-legend"), [
        { label: "WebSocket", color: "--chart-1" },
        { label: "Polling", color: "--chart-2" },
      ]),
      eps: new LineChart($("chart-eps"), $("c2-legend"), [{ label: "events/s", color: "--chart-1" }]),
      lat: new LineChart($("chart-lat"), $("c3-legend"), [
        { label: "p50", color: "--chart-1" },
        { label: "p99", color: "--chart-3" },
      ]),
    };
  }

  // ---------- figures ----------

  function num(v, digits) {
    var n = Number(v);
    if (!isFinite(n)) return "–";
    if (digits) return n.toFixed(digits);
    return Math.round(n).toLocaleString();
  }

  function onStats(s) {
    if (!s || typeof s !== "object") return;
    lastStats = Date.now();
    $("dash-warning").hidden = true;
    var c = s.connections || {};
    var lat = s.broadcastLatencyMs || {};
    $("s-total").textContent = num((Number(c.websocket) || 0) + (Number(c.polling) || 0));
    $("s-ws").textContent = num(c.websocket);
    $("s-polling").textContent = num(c.polling);
    $("s-rooms").textContent = num(s.rooms);
    $("s-eps").textContent = num(s.eventsPerSecond, Number(s.eventsPerSecond) % 1 ? 1 : 0);
    $("s-p50").textContent = num(lat.p50, 1);
    $("s-p99").textContent = num(lat.p99, 1);
    $("s-nodes").textContent = num(s.nodes);
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    $("stats").dataset.updates = String(Number($("stats").dataset.updates || 0) + 1);
    charts.conn.push([c.websocket, c.polling]);
    charts.eps.push([s.eventsPerSecond]);
    charts.lat.push([lat.p50, lat.p99]);
  }

  // ---------- sign-in ----------

  function showSignIn(message) {
    document.body.classList.add("is-signed-out");
    $("signin").hidden = false;
    $("dash").hidden = true;
    $("conn").hidden = true;
    $("who").hidden = true;
    $("sign-out").hidden = true;
    $("signin-error").textContent = message || "";
    $("signin-error").hidden = !message;
    $("token-input").value = "";
    $("token-input").focus();
  }

  function teardown() {
    clearInterval(waitTimer);
    if (detachConn) detachConn();
    detachConn = null;
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
    }
    socket = null;
  }

  function signOut(message) {
    UI.clearStaffToken();
    token = "";
    teardown();
    showSignIn(message);
  }

  function signIn(tok) {
    token = tok;
    teardown();
    document.body.classList.remove("is-signed-out");
    $("signin").hidden = true;
    $("dash").hidden = false;
    $("conn").hidden = false;
    $("sign-out").hidden = false;
    var claims = UI.tokenClaims(tok);
    var name = claims && (claims.name || claims.sub);
    if (name) {
      $("who").textContent = String(name) + (claims.role ? " · " + claims.role : "");
      $("who").hidden = false;
    }
    if (!charts) makeCharts();
    socket = window.io({ auth: { token: tok }, autoConnect: false });
    detachConn = UI.bindConnection(socket, $("conn"), function (s) {
      document.body.dataset.conn = s.state;
      if (s.state === "refused") signOut("Sign-in refused: " + (s.error || "invalid token") + ". Please sign in again.");
    });
    socket.on("stats", onStats);
    socket.on("connect", function () {
      lastStats = Date.now();
    });
    // Stats come every second to admin sockets only: say so if none arrive.
    waitTimer = setInterval(function () {
      if (socket && socket.connected && Date.now() - lastStats > 4000) {
        var w = $("dash-warning");
        w.textContent =
          claims && claims.role && claims.role !== "admin"
            ? "This is a " + claims.role + " token: live figures are sent to admin tokens only."
            : "No figures received for a few seconds. Live figures are sent to admin tokens only.";
        w.hidden = false;
      }
    }, 1000);
    socket.connect();
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

  var initial = UI.takeStaffToken();
  if (initial) signIn(initial);
  else showSignIn("");

  window.ordercastAdmin = {
    get socket() {
      return socket;
    },
  };
})();
