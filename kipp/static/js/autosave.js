// Posting a form's fields in the background (the proposal form, the score sheet): with the
// page's CSRF token, marked as a fetch so that an ended session answers 401 instead of the
// login page. Resolves to {ok, status, body}; rejects when the server cannot be reached or
// does not answer JSON (the callers then keep the text in the browser).
window.kippPostFields = function (url, data) {
  "use strict";
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  return fetch(url, {
    method: "POST",
    body: data,
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrf, "X-Requested-With": "fetch", "Accept": "application/json" }
  }).then(function (response) {
    return response.json().then(function (body) {
      return { ok: response.ok, status: response.status, body: body };
    });
  });
};
