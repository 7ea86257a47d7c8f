// The order ticket: checks of tick, band and quantity before sending (the same rules and words as
// the server's refusals, which come back next to the same fields; translated by Django's JavaScript
// catalogue, /jsi18n/, loaded before this file), and copying a book level's price into the ticket.
(function () {
  "use strict";

  function facts() {
    var el = document.getElementById("facts");
    if (!el) { return null; }
    return {
      tick: parseInt(el.dataset.tick, 10), lower: parseInt(el.dataset.lower, 10), upper: parseInt(el.dataset.upper, 10),
      minQuantity: parseInt(el.dataset.minQuantity, 10), maxQuantity: parseInt(el.dataset.maxQuantity, 10)
    };
  }

  // Full-width digits and '.', ',' (what a Chinese input method types) read as ASCII, as the
  // server's core.numbers does; any other script's digits stay, and are refused like the server.
  function ascii(text) {
    return text.replace(/[\uFF10-\uFF19\uFF0E\uFF0C\u3000]/g, function (c) {
      var code = c.charCodeAt(0);
      return code === 0x3000 ? " " : code === 0xFF0E ? "." : code === 0xFF0C ? "," : String.fromCharCode(code - 0xFF10 + 48);
    }).trim();
  }

  function grouped(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

  // Mirrors trading.services.parse_price and _validate_order.
  function priceError(text, f) {
    text = ascii(text);
    if (!/^[0-9]+(\.[0-9]+)?$/.test(text)) {
      return text ? interpolate(gettext("%(text)s is not a price."), {text: "'" + text + "'"}, true) : gettext("Enter a price.");
    }
    var parts = text.split(".");
    if (parts[1] && parts[1].length > 2) { return gettext("Prices have at most two decimals (tick 0.01)."); }
    var fen = parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
    if (fen <= 0) { return gettext("The price must be positive."); }
    if (fen % f.tick) { return interpolate(gettext("The price must be a multiple of %(tick)s."), {tick: money(f.tick)}, true); }
    if (fen < f.lower || fen > f.upper) {
      return interpolate(gettext("Today's limits are %(lower)s to %(upper)s."), {lower: money(f.lower), upper: money(f.upper)}, true);
    }
    return "";
  }

  function quantityError(text, f) {
    text = ascii(text).replace(/,/g, "");
    var range = interpolate(gettext("The quantity must be %(min)s to %(max)s t."),
                            {min: grouped(f.minQuantity), max: grouped(f.maxQuantity)}, true);
    if (!/^[0-9]+$/.test(text)) { return text ? gettext("The quantity must be a whole number of tonnes.") : range; }
    var quantity = parseInt(text, 10);
    return quantity < f.minQuantity || quantity > f.maxQuantity ? range : "";
  }

  function showError(name, message) {
    var input = document.getElementById("ticket-" + name);
    var slot = document.getElementById("error-" + name);
    if (slot) { slot.textContent = message; }
    if (input) {
      if (message) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
    }
  }

  function check(name) {
    var f = facts();
    var input = document.getElementById("ticket-" + name);
    if (!f || !input) { return true; }
    var message = name === "price" ? priceError(input.value, f) : quantityError(input.value, f);
    showError(name, message);
    return !message;
  }

  function priceFen(text) {
    var match = /^([0-9]+)(?:\.([0-9]{1,2}))?$/.exec(ascii(text));
    return match ? parseInt(match[1], 10) * 100 + parseInt(((match[2] || "") + "00").slice(0, 2), 10) : null;
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }

  function money(fen) { return grouped(Math.floor(fen / 100)) + "." + String(fen % 100).padStart(2, "0"); }

  // What the order reserves (trading.fees: the fee is rounded down to the fen).
  function estimate() {
    var form = document.getElementById("ticket-form");
    var out = document.getElementById("ticket-estimate");
    if (!form || !out) { return; }
    var price = priceFen(document.getElementById("ticket-price").value);
    var quantityText = ascii(document.getElementById("ticket-quantity").value).replace(/,/g, "");
    var quantity = /^[0-9]+$/.test(quantityText) ? parseInt(quantityText, 10) : null;
    var side = form.querySelector("input[name=side]:checked");
    if (!price || !quantity || !side) { out.textContent = ""; return; }
    var value = price * quantity;
    var fee = Math.floor(value * parseInt(form.dataset.feePpm, 10) / 1000000);
    out.textContent = side.value === "buy"
      ? fill(form.dataset.textBuy, { total: money(value + fee), value: money(value), fee: money(fee) })
      : fill(form.dataset.textSell, { quantity: grouped(quantity), net: money(value - fee), fee: money(fee) });
  }

  document.addEventListener("input", function (event) {
    if (!(event.target.closest && event.target.closest("#ticket-form"))) { return; }
    estimate();
    // A field marked wrong is checked again as it is typed in, so its error goes as soon as the
    // value is right, not when the field loses focus (under the pointer pressing the button).
    var name = event.target.id === "ticket-price" ? "price" : event.target.id === "ticket-quantity" ? "quantity" : null;
    if (name && event.target.getAttribute("aria-invalid") === "true") { check(name); }
  });
  document.addEventListener("htmx:afterSwap", estimate);

  document.addEventListener("change", function (event) {
    if (event.target.id === "ticket-price") { check("price"); }
    if (event.target.id === "ticket-quantity") { check("quantity"); }
  });

  // htmx asks before it sends the ticket: refuse here what the server would refuse.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (!form || form.id !== "ticket-form") { return; }
    var priceOk = check("price");
    var quantityOk = check("quantity");
    var ticketError = document.getElementById("error-ticket");
    if (ticketError) { ticketError.textContent = ""; }
    if (!priceOk || !quantityOk) {
      event.preventDefault();
      var first = document.querySelector("#ticket-form [aria-invalid=true]");
      if (first) { first.focus(); }
    }
  });

  // The ticket was sent but no answer came back (the network, or the server failed): say so, next
  // to the button. Sending again is safe: the ticket's client_order_id makes a repeat the same order.
  function notSent(event) {
    var form = event.detail && event.detail.elt;
    if (!form || form.id !== "ticket-form") { return; }
    var slot = document.getElementById("error-ticket");
    if (slot) { slot.textContent = gettext("The order may not have been sent: no answer from the exchange. Check My open orders, or place it again (it will not be doubled)."); }
  }
  document.addEventListener("htmx:sendError", notSent);
  document.addEventListener("htmx:responseError", notSent);

  // Fill notices: when the stream says the organization's orders changed, ask for its fills since the
  // last one this page has seen, and show each as a notice (in a log region: read out by screen readers).
  var toasts = document.getElementById("toasts");
  var reading = false;
  var readAgain = false;

  function showFill(toast) {
    toasts.appendChild(toast);
    var dismiss = function () { if (toast.parentNode) { toast.parentNode.removeChild(toast); } };
    toast.addEventListener("click", dismiss);
    setTimeout(dismiss, 10000);
  }

  function readFills() {
    if (reading) { readAgain = true; return; }
    reading = true;
    fetch(toasts.dataset.fillsUrl + "?after=" + encodeURIComponent(toasts.dataset.lastFill || ""),
          { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        var box = document.createElement("div");
        box.innerHTML = html;
        var list = box.querySelector("[data-last-fill]");
        if (!list) { return; }
        toasts.dataset.lastFill = list.dataset.lastFill;
        Array.prototype.slice.call(list.querySelectorAll(".toast")).forEach(showFill);
      })
      .catch(function () { /* the next announcement asks again */ })
      .then(function () {
        reading = false;
        if (readAgain) { readAgain = false; readFills(); }
      });
  }
  if (toasts) { document.body.addEventListener("live-org", readFills); }

  // A book level (a button: mouse or keyboard) copies its price into the ticket.
  document.addEventListener("click", function (event) {
    var level = event.target.closest && event.target.closest("button.level");
    if (!level) { return; }
    var input = document.getElementById("ticket-price");
    if (!input) { return; }
    input.value = level.dataset.price;
    check("price");
    estimate();
    input.focus();
  });
})();
