// The score sheet: the weighted total as the judge types (the same formula as
// kipp/scoring/rules.py: sum(score x weight) / sum(weights)), the rubric band of each
// score marked, drafts saved to the server as they type, and a copy kept in this
// browser so that nothing is lost when the session ends or the network fails.
(function () {
  "use strict";
  var form = document.getElementById("score-form");
  if (!form) { return; }
  var status = document.getElementById("save-status");
  var errorBox = document.getElementById("save-error");
  var versionInput = document.getElementById("version");
  var totalOut = document.getElementById("sheet-total");
  var storageKey = form.dataset.storageKey;
  var locked = form.dataset.locked === "1";
  var aspects = Array.prototype.slice.call(form.querySelectorAll("fieldset.aspect"));
  var dirty = false;
  var saving = false;
  var timer = null;

  function number(text) {
    var cleaned = (text || "").trim().replace(",", ".");
    if (cleaned === "") { return null; }
    var value = Number(cleaned);
    return isFinite(value) ? value : null;
  }

  function recompute() {
    var totalWeight = 0;
    var sum = 0;
    var complete = true;
    aspects.forEach(function (fieldset) { totalWeight += Number(fieldset.dataset.weight); });
    aspects.forEach(function (fieldset) {
      var key = fieldset.dataset.key;
      var weight = Number(fieldset.dataset.weight);
      var value = number(document.getElementById("score-" + key).value);
      var part = document.getElementById("part-" + key);
      if (value === null) {
        complete = false;
        part.textContent = "–";
      } else {
        sum += value * weight;
        part.textContent = (value * weight / totalWeight).toFixed(2);
      }
      Array.prototype.forEach.call(fieldset.querySelectorAll(".rubric-band"), function (band) {
        var inside = value !== null && value >= Number(band.dataset.low) && value <= Number(band.dataset.high);
        band.classList.toggle("current", inside);
      });
    });
    if (totalWeight > 0 && complete) {
      totalOut.textContent = (sum / totalWeight).toFixed(2);
    } else if (totalWeight > 0) {
      totalOut.textContent = (sum / totalWeight).toFixed(2) + " (" + form.dataset.msgIncomplete + ")";
    }
  }

  function fields() {
    var data = new FormData();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "submit" || el.name === "csrf_token" || el.name === "action") { return; }
      data.append(el.name, el.value);
    });
    return data;
  }

  function keepLocally() {
    var copy = {};
    fields().forEach(function (value, key) { copy[key] = value; });
    try { window.localStorage.setItem(storageKey, JSON.stringify(copy)); } catch (e) { /* storage full or off */ }
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.classList.remove("d-none");
  }

  function save() {
    if (saving || !dirty || locked) { return; }
    saving = true;
    dirty = false;
    status.textContent = form.dataset.msgSaving;
    window.kippPostFields(form.dataset.autosaveUrl, fields()).then(function (result) {
      if (result.status === 401) { result.body = { message: form.dataset.msgSession }; }
      saving = false;
      form.querySelectorAll(".is-invalid").forEach(function (el) { el.classList.remove("is-invalid"); });
      if (result.ok && result.body.ok) {
        versionInput.value = result.body.version;
        status.textContent = form.dataset.msgSaved.replace("{time}", result.body.saved_at);
        errorBox.classList.add("d-none");
        if (!dirty) { window.localStorage.removeItem(storageKey); }
      } else {
        dirty = true;  // not on the server; the local copy stays
        showError(result.body.message);
        Object.keys(result.body.problems || {}).forEach(function (key) {
          var input = document.getElementById("score-" + key);
          if (input) { input.classList.add("is-invalid"); }
        });
      }
    }).catch(function () {
      saving = false;
      dirty = true;
      showError(form.dataset.msgOffline);
    });
  }

  function changed() {
    recompute();
    if (locked) { return; }
    dirty = true;
    keepLocally();
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 2000);
  }

  form.addEventListener("input", changed);
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.value === "submit" && !window.confirm(form.dataset.msgConfirm)) {
      event.preventDefault();
      return;
    }
    window.clearTimeout(timer);
    dirty = false;  // the form itself carries everything now
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      keepLocally();
      event.preventDefault();
      event.returnValue = form.dataset.msgUnsaved;
    }
  });
  recompute();

  // Scores kept in this browser that the server does not have: offer them back.
  var kept = null;
  try { kept = JSON.parse(window.localStorage.getItem(storageKey) || "null"); } catch (e) { kept = null; }
  if (kept && !locked) {
    var current = fields();
    var differs = Object.keys(kept).some(function (key) {
      return key !== "version" && (current.get(key) || "") !== kept[key];
    });
    var banner = document.getElementById("restore-banner");
    if (differs) {
      banner.classList.remove("d-none");
      document.getElementById("restore-button").addEventListener("click", function () {
        Object.keys(kept).forEach(function (key) {
          if (key === "version") { return; }
          var el = form.querySelector("[name='" + key + "']");
          if (el) { el.value = kept[key]; }
        });
        banner.classList.add("d-none");
        changed();
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
