// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Browsers without ::details-content: keep the menu open on wide screens.
  var wide = window.matchMedia("(min-width: 861px)");
  document.querySelectorAll("details.nav-menu").forEach(function (menu) {
    if (wide.matches) menu.open = true;
  });
  // Selects marked data-autosubmit submit their form on change; the button stays for no-JS use.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    var button = select.form && select.form.querySelector("[data-autosubmit-button]");
    if (button) button.hidden = true;
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // Buttons marked data-confirm ask before destructive actions.
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (event) {
      if (!window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  // Copy-to-clipboard buttons for personal links.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (!target || !navigator.clipboard) return;
      navigator.clipboard.writeText(target.value || target.textContent).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });
})();
