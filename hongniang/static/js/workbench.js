// Workbench behaviour: confirmation dialogs, date pickers and searchable selects.
(function () {
  function enhance(root) {
    // Tom Select (here and in app scripts that run after this one) points a select's <label> at
    // its own input; name every labelled select now so the hidden original keeps a name.
    root.querySelectorAll("select").forEach(function (el) {
      if (!el.getAttribute("aria-label") && el.labels && el.labels.length) {
        el.setAttribute("aria-label", el.labels[0].textContent.trim());
      }
    });
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
  // "Previous page" buttons (error pages).
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-history-back]")) { e.preventDefault(); window.history.back(); }
  });
  // A select with data-autosubmit submits its form on change (no inline handlers: CSP).
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-autosubmit]")) { e.target.form.submit(); }
  });
  // Any form or submit button with data-confirm asks before it submits. A button acting on the
  // member checkboxes of its form (inside it or pointing at it with form=) refuses with
  // data-none-selected when none is ticked; with data-confirm-selected it asks first, naming
  // how many are ({count} in the question).
  document.addEventListener("submit", function (e) {
    var form = e.target, button = e.submitter;
    var msg = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    var selected = button && button.getAttribute("data-confirm-selected");
    var none = button && button.getAttribute("data-none-selected");
    if (selected || none) {
      var count = Array.prototype.filter.call(form.elements, function (el) {
        return el.type === "checkbox" && el.name === "members" && el.checked;
      }).length;
      if (!count) {
        e.preventDefault();
        window.alert(none || selected);
        return;
      }
      if (selected) { msg = selected.replace("{count}", count); }
    }
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  }, true);
})();
// Select-all checkbox in list headers.
document.addEventListener("change", function (e) {
  if (!e.target.matches("[data-select-all]")) { return; }
  var table = e.target.closest("table");
  table.querySelectorAll("tbody input[type=checkbox]").forEach(function (box) { box.checked = e.target.checked; });
});
// Security password (安全密码): asked in the modal's password field, never in a browser prompt.
// A form with data-security-password="<why>" gets the value as its `security_password` field;
// any other element with it (an htmx button with hx-trigger="security-confirmed") sends the
// value as the `security_password` parameter of its request.
(function () {
  var pending = null;
  function modalElement() { return document.getElementById("security-password-modal"); }
  function modal() { return (window.bootstrap || window.tabler).Modal.getOrCreateInstance(modalElement()); }
  function ask(target, reason) {
    var el = modalElement();
    if (!el) { return false; }
    pending = target;
    el.querySelector("[data-security-password-reason]").textContent = reason || "";
    el.querySelector("input[type=password]").value = "";
    modal().show();
    return true;
  }
  function send(target, value) {
    if (target.form) {
      var field = target.form.querySelector("input[name=security_password]");
      if (!field) {
        field = document.createElement("input");
        field.type = "hidden";
        field.name = "security_password";
        target.form.appendChild(field);
      }
      field.value = value;
      target.form.setAttribute("data-security-ready", "1");
      target.form.requestSubmit(target.submitter || undefined);
      field.value = "";  // the request has its copy; the page keeps none
    } else {
      target.elt._securityPassword = value;
      htmx.trigger(target.elt, "security-confirmed");
    }
  }
  document.addEventListener("shown.bs.modal", function (e) {
    if (e.target === modalElement()) { e.target.querySelector("input[type=password]").focus(); }
  });
  document.addEventListener("hidden.bs.modal", function (e) {
    if (e.target === modalElement()) { e.target.querySelector("input[type=password]").value = ""; }
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.hasAttribute("data-security-password-form")) {
      e.preventDefault();
      var input = form.querySelector("input[type=password]");
      if (!input.value) { input.focus(); return; }
      var target = pending, value = input.value;
      pending = null;
      modal().hide();
      if (target) { send(target, value); }
      return;
    }
    if (!form.hasAttribute("data-security-password")) { return; }
    if (form.hasAttribute("data-security-ready")) { form.removeAttribute("data-security-ready"); return; }
    if (ask({ form: form, submitter: e.submitter }, form.getAttribute("data-security-password"))) {
      e.preventDefault();
    }
  }, true);
  document.addEventListener("click", function (e) {
    var elt = e.target.closest("[data-security-password]");
    if (!elt || elt.tagName === "FORM" || elt.form) { return; }
    e.preventDefault();
    ask({ elt: elt }, elt.getAttribute("data-security-password"));
  });
  document.addEventListener("htmx:configRequest", function (e) {
    var elt = e.detail.elt;
    if (elt && elt._securityPassword !== undefined) {
      e.detail.parameters.security_password = elt._securityPassword;
      delete elt._securityPassword;
    }
  });
})();

// "Too many requests" answers carry a message for the user (e.g. the live checks on the member
// form): show it where the answer would have gone instead of dropping it as an error.
document.addEventListener("htmx:beforeSwap", function (e) {
  if (e.detail.xhr.status === 429) {
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  }
});
