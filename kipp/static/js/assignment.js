// While an assignment is being computed, follow its progress and reload when it ends.
(function () {
  "use strict";
  var card = document.getElementById("run-card");
  if (!card || !card.dataset.poll) { return; }
  function poll() {
    fetch(card.dataset.poll, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.status === "queued" || body.status === "running") {
          var out = card.querySelector("[data-testid=run-status] strong");
          if (out) { out.textContent = body.status + " (" + body.progress + "%)"; }
          window.setTimeout(poll, 1500);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
