// While the stage's aggregates and ranking are being recomputed, follow the run's progress
// and reload the page when it ends (the figures on the page come from the finished run).
(function () {
  "use strict";
  var card = document.getElementById("run-card");
  if (!card || !card.dataset.poll) { return; }
  var label = card.querySelector("[data-run-status]");
  var bar = card.querySelector("[data-run-bar]");
  function show(progress) {
    if (!bar) { return; }
    bar.className = bar.className.replace(/\bpct-\d+\b/, "") + " pct-" + Math.floor(progress / 5) * 5;
  }
  function poll() {
    fetch(card.dataset.poll, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.status === "queued" || body.status === "running") {
          if (label) { label.textContent = body.status + " (" + body.progress + "%)"; }
          show(body.progress || 0);
          window.setTimeout(poll, 1500);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
