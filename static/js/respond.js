// Questionnaire niceties. Every step works without this file: pages are saved by the
// buttons, which post the form as usual.
(function () {
  "use strict";

  // On wide screens the page list is a sidebar, so it starts open.
  if (window.matchMedia("(min-width: 960px)").matches) {
    document.querySelectorAll("details[data-open-wide]").forEach(function (details) {
      details.open = true;
    });
  }

  var form = document.querySelector("form[data-autosave-url]");
  if (!form) return;

  // A second click while the page is being sent does nothing (the server would cope anyway).
  var submitting = false;
  form.addEventListener("submit", function (event) {
    if (submitting) {
      event.preventDefault();
      return;
    }
    submitting = true;
  });
  window.addEventListener("pageshow", function () { submitting = false; });

  if (!window.fetch || !window.FormData) return;

  // Autosave: each choice is saved as soon as it is made, comments after a pause in typing.
  var status = document.getElementById("save-status");
  var url = form.getAttribute("data-autosave-url");
  var inFlight = false;
  var again = false;
  var timer = null;

  function show(text, state) {
    if (!status) return;
    status.textContent = text;
    status.className = "save-status" + (state ? " is-" + state : "");
  }

  function save() {
    if (submitting) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    var data = new FormData(form);
    data.append("page", form.getAttribute("data-page"));
    fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        if (response.status === 204) {
          show("Saved", "saved");
        } else {
          show("Not saved yet: your answers will be saved when you move to another page.", "error");
        }
      })
      .catch(function () {
        show("You seem to be offline: your answers will be saved when you move to another page.", "error");
      })
      .then(function () {
        inFlight = false;
        if (again) {
          again = false;
          save();
        }
      });
  }

  // The "n of N answered" count follows the choices on this page.
  var count = document.querySelector("[data-answered-elsewhere]");
  function updateCount() {
    if (!count) return;
    var names = {};
    form.querySelectorAll("input[type=radio]:checked").forEach(function (radio) {
      names[radio.name] = true;
    });
    var answered = parseInt(count.getAttribute("data-answered-elsewhere"), 10) + Object.keys(names).length;
    var target = count.querySelector("[data-answered]");
    if (target) target.textContent = String(answered);
  }

  form.addEventListener("change", function (event) {
    if (event.target.type === "radio") {
      updateCount();
      window.clearTimeout(timer);
      save();
    }
  });
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA") {
      window.clearTimeout(timer);
      timer = window.setTimeout(save, 1200);
    }
  });
})();
