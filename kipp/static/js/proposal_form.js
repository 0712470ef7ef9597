// The proposal form: live word counts, autosave to the server, and a copy in
// this browser so that nothing typed is lost when the session ends or the
// network fails. Counting matches kipp/proposals/rules.py: runs of non-space.
(function () {
  "use strict";
  var form = document.getElementById("proposal-form");
  if (!form) { return; }
  var status = document.getElementById("save-status");
  var errorBox = document.getElementById("save-error");
  var versionInput = document.getElementById("version");
  var storageKey = form.dataset.storageKey;
  var dirty = false;
  var saving = false;
  var timer = null;

  function countWords(text) {
    var words = text.trim().split(/\s+/);
    return words[0] === "" ? 0 : words.length;
  }

  function updateCount(area) {
    var out = document.getElementById("count-" + area.id.replace("answer-", ""));
    if (!out) { return; }
    var words = countWords(area.value);
    var limit = parseInt(area.dataset.wordLimit, 10);
    if (limit) {
      out.textContent = form.dataset.msgWords.replace("{words}", words).replace("{limit}", limit);
      out.classList.toggle("text-danger", words > limit);
      out.classList.toggle("fw-semibold", words > limit);
      area.classList.toggle("is-invalid", words > limit);
    } else {
      out.textContent = form.dataset.msgWordsNolimit.replace("{words}", words);
    }
  }

  function textFields() {
    // Everything typed or chosen, without files (they go with the Save button).
    var data = new FormData();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.type === "submit" || el.name === "csrf_token") { return; }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
      data.append(el.name, el.value);
    });
    return data;
  }

  function keepLocally() {
    var copy = {};
    textFields().forEach(function (value, key) {
      if (key === "sdg") { (copy.sdg = copy.sdg || []).push(value); } else { copy[key] = value; }
    });
    try { window.localStorage.setItem(storageKey, JSON.stringify(copy)); } catch (e) { /* storage full or off */ }
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.classList.remove("d-none");
  }

  function save() {
    if (saving || !dirty) { return; }
    saving = true;
    dirty = false;
    status.textContent = form.dataset.msgSaving;
    window.kippPostFields(form.dataset.autosaveUrl, textFields()).then(function (result) {
      saving = false;
      if (result.ok && result.body.ok) {
        versionInput.value = result.body.version;
        status.textContent = form.dataset.msgSaved.replace("{time}", result.body.saved_at);
        errorBox.classList.add("d-none");
        if (!dirty) { window.localStorage.removeItem(storageKey); }
      } else {
        dirty = true;  // still not on the server; the local copy stays
        showError(result.body.message);
      }
    }).catch(function () {
      saving = false;
      dirty = true;
      showError(form.dataset.msgOffline);
    });
  }

  function changed(event) {
    if (event.target.type === "file") { return; }
    dirty = true;
    if (event.target.tagName === "TEXTAREA") { updateCount(event.target); }
    keepLocally();
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 2500);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function () {
    dirty = false;  // the form itself carries everything now
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      keepLocally();
      event.preventDefault();
      event.returnValue = form.dataset.msgUnsaved;
    }
  });
  Array.prototype.forEach.call(form.querySelectorAll("textarea[data-word-limit]"), updateCount);

  // Text kept in this browser that the server does not have (a session that
  // ended, a lost connection): offer to put it back.
  var kept = null;
  try { kept = JSON.parse(window.localStorage.getItem(storageKey) || "null"); } catch (e) { kept = null; }
  if (kept) {
    var differs = false;
    var current = textFields();
    Object.keys(kept).forEach(function (key) {
      if (key === "version" || key === "sdg-present" || key === "sdg") { return; }
      if ((current.get(key) || "") !== kept[key]) { differs = true; }
    });
    var banner = document.getElementById("restore-banner");
    if (differs) {
      banner.classList.remove("d-none");
      document.getElementById("restore-button").addEventListener("click", function () {
        Object.keys(kept).forEach(function (key) {
          if (key === "version" || key === "csrf_token") { return; }
          var fields = form.querySelectorAll("[name='" + key + "']");
          Array.prototype.forEach.call(fields, function (el) {
            if (el.type === "radio") { el.checked = el.value === kept[key]; }
            else if (el.type === "checkbox") { el.checked = (kept.sdg || []).indexOf(el.value) >= 0; }
            else if (el.type !== "file") { el.value = kept[key]; }
          });
        });
        Array.prototype.forEach.call(form.querySelectorAll("input[name=sdg]"), function (el) {
          el.checked = (kept.sdg || []).indexOf(el.value) >= 0;
        });
        Array.prototype.forEach.call(form.querySelectorAll("textarea[data-word-limit]"), updateCount);
        banner.classList.add("d-none");
        dirty = true;
        save();
      });
      document.getElementById("discard-button").addEventListener("click", function () {
        window.localStorage.removeItem(storageKey);
        banner.classList.add("d-none");
      });
    } else {
      window.localStorage.removeItem(storageKey);
    }
  }
})();
