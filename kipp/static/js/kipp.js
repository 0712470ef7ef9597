// Confirmation for destructive actions: forms carry data-confirm (CSP forbids inline handlers).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
// Submit buttons are disabled after the first click so a double click sends once.
document.addEventListener("submit", function (event) {
  if (event.defaultPrevented) { return; }
  var buttons = event.target.querySelectorAll("button[type=submit], button:not([type])");
  window.setTimeout(function () { buttons.forEach(function (b) { b.disabled = true; }); }, 0);
});
// A select marked data-navigate-select goes to the address chosen in it.
document.addEventListener("change", function (event) {
  var select = event.target;
  if (select.matches && select.matches("select[data-navigate-select]") && select.value) {
    window.location.assign(select.value);
  }
});
