// The preview's table of contents: always open on wide screens (where CSS cannot force it),
// a collapsed disclosure on phones that closes again once a dimension is chosen, and on
// wide screens it follows the reader by marking the dimension in view.
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 1001px)");
  document.querySelectorAll("details.ins-toc-details").forEach(function (toc) {
    if (wide.matches) toc.open = true;
    toc.addEventListener("click", function (event) {
      if (!wide.matches && event.target.closest("a")) toc.open = false;
    });

    if (!("IntersectionObserver" in window)) return;
    var links = {};
    toc.querySelectorAll("a[href^='#']").forEach(function (link) {
      links[link.getAttribute("href").slice(1)] = link;
    });
    var visible = {};
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) { visible[entry.target.id] = entry.isIntersecting; });
      var current = null;
      Object.keys(links).some(function (id) {
        if (visible[id]) { current = id; return true; }
        return false;
      });
      if (!current) return;
      Object.keys(links).forEach(function (id) {
        links[id].classList.toggle("is-current", id === current);
      });
    }, { rootMargin: "-10% 0px -60% 0px" });
    Object.keys(links).forEach(function (id) {
      var section = document.getElementById(id);
      if (section) observer.observe(section);
    });
  });
})();
