// A box that scrolls sideways (a wide table on a narrow screen) must be reachable by keyboard
// (WCAG 2.1.1): while it scrolls it is a focusable, named region; when it fits it is plain again.
(function () {
  "use strict";
  var SELECTOR = ".table-responsive, .inline-group, #changelist .results";

  function label(box) {
    var caption = box.querySelector("caption, h2");
    return caption ? caption.textContent.trim().replace(/\s+/g, " ") : document.title;
  }

  function update() {
    document.querySelectorAll(SELECTOR).forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("data-scroll-region")) {
        box.setAttribute("data-scroll-region", "");
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", label(box));
      } else if (!scrolls && box.hasAttribute("data-scroll-region")) {
        box.removeAttribute("data-scroll-region");
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
      }
    });
  }

  update();
  window.addEventListener("resize", update);
  document.addEventListener("htmx:afterSettle", update);
})();
