// Live updates (core/live.py): a Server-Sent Events stream announces what changed ("market" or
// "org"); the page then re-reads its fragments (htmx elements listening for live-market / live-org
// on <body>). Bursts are coalesced, and a page re-reads at most once per data-refresh-ms
// (LIVE_REFRESH_MS), however busy the market: with many pages open, each announcement would otherwise
// bring one request per page. Every (re)connection refreshes everything, so nothing missed while
// disconnected stays stale. The stream URL is signed and works for a while; when the stream
// server refuses it (expired: the browser closes the stream), the page asks for a new one.
(function () {
  "use strict";
  var root = document.querySelector("[data-stream-url]");
  var status = document.getElementById("live-status");
  if (!root || !root.dataset.streamUrl || !window.EventSource) { return; }
  var retry = parseInt(root.dataset.retryMs, 10) || 2000;
  var every = parseInt(root.dataset.refreshMs, 10) || 0;
  var url = root.dataset.streamUrl;
  var pending = {};
  var timer = null;
  var flushed = 0;

  function show(state, text) {
    root.dataset.live = state;
    if (status) { status.dataset.state = state; status.textContent = text; }
  }

  function flush() {
    timer = null;
    flushed = Date.now();
    Object.keys(pending).forEach(function (kind) {
      document.body.dispatchEvent(new CustomEvent("live-" + kind));
    });
    pending = {};
  }

  function schedule(kind) {
    pending[kind] = true;
    if (!timer) { timer = setTimeout(flush, Math.max(120, flushed + every - Date.now())); }
  }

  function connect() {
    var source = new EventSource(url);
    source.addEventListener("hello", function () {
      root.dataset.connections = String((parseInt(root.dataset.connections, 10) || 0) + 1);
      show("connected", status ? status.dataset.textLive || "Live" : "Live");
      schedule("market");
      schedule("org");
    });
    source.addEventListener("market", function () { schedule("market"); });
    source.addEventListener("org", function () { schedule("org"); });
    source.onerror = function () {
      show("reconnecting", status ? status.dataset.textReconnecting || "Reconnecting…" : "Reconnecting…");
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (the URL expired, or an error status): a new URL, then try again.
        setTimeout(renew, retry);
      }
    };
  }

  function renew() {
    if (!root.dataset.streamRefresh || !window.fetch) { connect(); return; }
    fetch(root.dataset.streamRefresh, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && body.url === "") { return; }  // live updates were switched off
        if (body && body.url) { url = body.url; }
        connect();
      })
      .catch(function () { setTimeout(renew, retry); });
  }

  connect();
})();
