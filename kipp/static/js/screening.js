// Keyboard-friendly screening (templates/screening/*). No inline handlers: the CSP forbids them.
//   Elements with data-shortcut="x" are clicked when x is pressed outside a text field
//   (p / n previous and next, q queue, c take the next, a every unanswered item OK).
//   1–9 go to a checklist item; then o marks it OK and f marks it failed (and moves to its note;
//   Escape leaves the note).
//   Ctrl+Enter (Cmd+Enter) saves and takes the next proposal.
(function () {
  "use strict";

  var form = document.querySelector("[data-screening-form]");
  var current = null; // the checklist item last jumped to

  function typing(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable ||
      (tag === "INPUT" && !/^(radio|checkbox|button|submit)$/i.test(target.type));
  }

  function items() {
    return form ? Array.prototype.slice.call(form.querySelectorAll("[data-item-index]")) : [];
  }

  function choose(item, value) {
    var radio = item.querySelector("input[type=radio][value=" + value + "]");
    if (radio) {
      radio.checked = true;
      radio.dispatchEvent(new Event("change", { bubbles: true }));
    }
    if (value === "fail") {
      var note = item.querySelector("textarea");
      if (note) { note.focus(); }
    }
  }

  function preview() {
    if (!form) { return; }
    var out = form.querySelector("[data-decision-preview]");
    var answered = 0, failed = 0, list = items();
    list.forEach(function (item) {
      var checked = item.querySelector("input[type=radio]:checked");
      var note = item.querySelector("textarea");
      var fails = checked && checked.value === "fail";
      if (checked) { answered += 1; }
      if (fails) { failed += 1; }
      if (note) {
        note.required = !!fails;
        note.classList.toggle("is-invalid", !!fails && !note.value.trim());
      }
      item.classList.toggle("border-danger", !!fails);
      item.classList.toggle("border-success", !!checked && !fails);
    });
    if (!out) { return; }
    if (answered < list.length) {
      out.textContent = form.getAttribute("data-label-incomplete");
      out.className = "small fw-semibold mb-2 text-muted";
    } else if (failed) {
      out.textContent = form.getAttribute("data-label-failed");
      out.className = "small fw-semibold mb-2 text-danger";
    } else {
      out.textContent = form.getAttribute("data-label-passed");
      out.className = "small fw-semibold mb-2 text-success";
    }
  }

  function submitNext() {
    if (!form) { return false; }
    var button = form.querySelector("[data-primary-submit]");
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(button || undefined);
    } else if (button) {
      button.click();
    } else {
      form.submit();
    }
    return true;
  }

  if (form) {
    form.addEventListener("change", preview);
    form.addEventListener("input", preview);
    var allOk = document.querySelector("[data-all-ok]");
    if (allOk) {
      allOk.addEventListener("click", function () {
        items().forEach(function (item) {
          if (!item.querySelector("input[type=radio]:checked")) { choose(item, "pass"); }
        });
        preview();
      });
    }
    preview();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      if (submitNext()) { event.preventDefault(); }
      return;
    }
    if (event.key === "Escape" && typing(event.target) && event.target.closest &&
        event.target.closest("[data-item-index]")) {
      var back = event.target.closest("[data-item-index]").querySelector("input[type=radio]:checked");
      if (back) { back.focus(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var key = event.key;
    if (/^[1-9]$/.test(key) && form) {
      var item = form.querySelector('[data-item-index="' + key + '"]');
      if (item) {
        current = item;
        item.scrollIntoView({ block: "center" });
        var first = item.querySelector("input[type=radio]:checked") || item.querySelector("input[type=radio]");
        if (first) { first.focus(); }
        event.preventDefault();
      }
      return;
    }
    if ((key === "o" || key === "f") && form) {
      var focused = document.activeElement && document.activeElement.closest &&
        document.activeElement.closest("[data-item-index]");
      var target = focused || current;
      if (target) {
        choose(target, key === "o" ? "pass" : "fail");
        event.preventDefault();
      }
      return;
    }
    var shortcut = document.querySelector('[data-shortcut="' + key + '"]');
    if (shortcut) {
      event.preventDefault();
      shortcut.click();
    }
  });
})();
