// The preview's table of contents: always open on wide screens (where CSS cannot force it),
// a collapsed disclosure on phones that closes again once a dimension is chosen.
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 1001px)");
  document.querySelectorAll("details.ins-toc-details").forEach(function (toc) {
    if (wide.matches) toc.open = true;
    toc.addEventListener("click", function (event) {
      if (!wide.matches && event.target.closest("a")) toc.open = false;
    });
  });
})();
