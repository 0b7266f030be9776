// Member pickers of the appointment and introduction forms: search by name, UID, ID number or
// mobile (the server decides what the user may find and masks other teams' members).
(function () {
  function enhance(root) {
    root.querySelectorAll("select[data-member-search]").forEach(function (el) {
      if (!window.TomSelect || el.tomselect) { return; }
      // Tom Select points the <label> at its own input; the hidden <select> keeps a name.
      if (!el.getAttribute("aria-label") && el.labels && el.labels.length) {
        el.setAttribute("aria-label", el.labels[0].textContent.trim());
      }
      var url = el.getAttribute("data-member-search");
      var memberField = el.getAttribute("data-member-field");
      new TomSelect(el, {
        valueField: "value",
        labelField: "text",
        searchField: [],
        maxOptions: 20,
        loadThrottle: 300,
        // The server already filtered; show its answers as they are.
        score: function () { return function () { return 1; }; },
        shouldLoad: function (query) { return query.trim().length > 0; },
        load: function (query, callback) {
          var params = new URLSearchParams({ q: query });
          if (el.hasAttribute("data-own-only")) { params.set("own", "1"); }
          if (memberField) {
            var member = document.getElementById(memberField);
            if (member && member.value) { params.set("member", member.value); }
          }
          fetch(url + "?" + params.toString(), { credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.json() : { results: [] }; })
            .then(function (data) { callback(data.results); })
            .catch(function () { callback(); });
        },
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (e) { enhance(e.target); });
})();
