// The price chart: candles with volume from the public candles API, on TradingView's
// lightweight-charts (static/vendor). Reloads when the market changes (live-market on <body>).
(function () {
  "use strict";
  var element = document.getElementById("chart");
  var LC = window.LightweightCharts;
  if (!element || !LC) { return; }
  var empty = document.getElementById("chart-empty");
  var interval = element.dataset.interval || "1d";
  // Dates in the page's language (zh-hans: 2026年12月); prices keep the dot and two decimals.
  var lang = document.documentElement.lang || "en";
  var chart = LC.createChart(element, {
    autoSize: true,
    localization: { locale: lang.toLowerCase().indexOf("zh") === 0 ? "zh-CN" : lang },
    layout: { background: { color: "#ffffff" }, textColor: "#1d2733" },
    grid: { vertLines: { color: "#eef1f4" }, horzLines: { color: "#eef1f4" } },
    rightPriceScale: { borderColor: "#d9dee5" },
    timeScale: { borderColor: "#d9dee5" }
  });
  // Chinese convention: red rises, green falls.
  var candles = chart.addSeries(LC.CandlestickSeries, {
    upColor: "#c0392b", downColor: "#0b6e4f", borderVisible: false, wickUpColor: "#c0392b", wickDownColor: "#0b6e4f"
  });
  candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.28 } });
  // Volume sits on its own overlay scale without a value label: a label of its own would be drawn
  // on the price axis, over the prices' labels.
  var volume = chart.addSeries(LC.HistogramSeries, {
    priceScaleId: "volume", priceFormat: { type: "volume" }, color: "#98a2b3", lastValueVisible: false, priceLineVisible: false
  });
  chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.78, bottom: 0 } });

  // Intraday times arrive as ISO strings with the market's offset; the chart draws UTC, so the
  // offset is added back to show market time.
  function toTime(text) {
    if (interval === "1d") { return text; }
    var match = /([+-])(\d\d):(\d\d)$/.exec(text);
    var offset = match ? (match[1] === "-" ? -1 : 1) * (parseInt(match[2], 10) * 60 + parseInt(match[3], 10)) * 60 : 0;
    return Math.floor(Date.parse(text) / 1000) + offset;
  }

  function load() {
    var url = element.dataset.candlesUrl + "?interval=" + encodeURIComponent(interval);
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (rows) {
        var bars = rows.map(function (row) {
          var close = parseFloat(row.close);
          return {
            time: toTime(row.time),
            open: row.open === null ? close : parseFloat(row.open),
            high: row.high === null ? close : parseFloat(row.high),
            low: row.low === null ? close : parseFloat(row.low),
            close: close,
            volume: row.volume
          };
        });
        candles.setData(bars.map(function (b) { return { time: b.time, open: b.open, high: b.high, low: b.low, close: b.close }; }));
        volume.setData(bars.map(function (b) {
          return { time: b.time, value: b.volume, color: b.close >= b.open ? "rgba(192,57,43,0.45)" : "rgba(11,110,79,0.45)" };
        }));
        chart.timeScale().fitContent();
        if (empty) { empty.hidden = bars.length > 0; }
        element.dataset.bars = String(bars.length);
      })
      .catch(function () { /* the next change or reconnect tries again */ });
  }

  document.querySelectorAll("[data-interval]").forEach(function (button) {
    if (button === element) { return; }
    button.addEventListener("click", function () {
      interval = button.dataset.interval;
      element.dataset.interval = interval;
      document.querySelectorAll("button[data-interval]").forEach(function (other) {
        other.setAttribute("aria-pressed", String(other === button));
      });
      chart.applyOptions({ timeScale: { timeVisible: interval !== "1d", secondsVisible: false } });
      load();
    });
  });
  document.body.addEventListener("live-market", load);
  load();
})();
