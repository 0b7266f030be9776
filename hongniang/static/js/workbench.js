// Workbench behaviour: confirmation dialogs, date pickers and searchable selects.
(function () {
  function enhance(root) {
    root.querySelectorAll("input[data-datepicker]").forEach(function (el) {
      if (window.flatpickr && !el._flatpickr) {
        flatpickr(el, { locale: document.documentElement.lang.startsWith("zh") ? "zh" : "default", allowInput: true });
      }
    });
    root.querySelectorAll("select[data-searchable]").forEach(function (el) {
      if (window.TomSelect && !el.tomselect) { new TomSelect(el, { maxOptions: 500 }); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (e) { enhance(e.target); });
  // A region select sends the code chosen in the select above it as ?parent=<code>.
  document.addEventListener("htmx:configRequest", function (e) {
    var parentId = e.detail.elt.getAttribute && e.detail.elt.getAttribute("data-region-parent");
    if (parentId) { e.detail.parameters.parent = document.getElementById(parentId).value; }
  });
  // A select with data-autosubmit submits its form on change (no inline handlers: CSP).
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-autosubmit]")) { e.target.form.submit(); }
  });
  // Any form or button with data-confirm asks before it submits.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  }, true);
})();
// Select-all checkbox in list headers.
document.addEventListener("change", function (e) {
  if (!e.target.matches("[data-select-all]")) { return; }
  var table = e.target.closest("table");
  table.querySelectorAll("tbody input[type=checkbox]").forEach(function (box) { box.checked = e.target.checked; });
});
