// Every page: a card whose content is wider than the screen (a wide table on a phone) scrolls
// sideways inside itself; such a card is made focusable (and named by its heading) so that keyboard
// users can scroll it too. A card that fits is left alone.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll(".card").forEach(function (card) {
      var scrolls = card.scrollWidth > card.clientWidth + 1;
      if (scrolls && !card.hasAttribute("tabindex")) {
        card.setAttribute("tabindex", "0");
        card.dataset.scrollable = "true";
        if (!card.hasAttribute("aria-labelledby") && !card.hasAttribute("aria-label")) {
          var heading = card.querySelector("h1, h2, h3, caption");
          card.setAttribute("role", "region");
          card.setAttribute("aria-label", heading ? heading.textContent.trim() : document.title);
        }
      } else if (!scrolls && card.dataset.scrollable === "true") {
        card.removeAttribute("tabindex");
        delete card.dataset.scrollable;
      }
    });
  }
  var timer = null;
  function later() { clearTimeout(timer); timer = setTimeout(mark, 100); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", mark); } else { mark(); }
  window.addEventListener("resize", later);
  document.addEventListener("htmx:afterSettle", later);
})();
