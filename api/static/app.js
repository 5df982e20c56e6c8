// Theragraph query page: YASGUI on /sparql, curated queries from /queries as examples.
(function () {
  "use strict";
  var tokenInput = document.getElementById("token");
  var params = new URLSearchParams(window.location.search);
  if (params.get("token")) {
    sessionStorage.setItem("theragraph-token", params.get("token"));
    history.replaceState(null, "", window.location.pathname);
  }
  tokenInput.value = sessionStorage.getItem("theragraph-token") || "";
  tokenInput.addEventListener("change", function () {
    sessionStorage.setItem("theragraph-token", tokenInput.value.trim());
    loadExamples();
  });
  function authHeaders() {
    var token = tokenInput.value.trim();
    return token ? { Authorization: "Bearer " + token } : {};
  }
  // No network beyond this server: no prefix.cc / LOV autocompletion.
  if (Yasgui.Yasqe && Yasgui.Yasqe.defaults) { Yasgui.Yasqe.defaults.autocompleters = []; }
  var endpoint = window.location.origin + "/sparql";
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST", headers: authHeaders },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } }
  });
  function showExample(q) {
    var tab = yasgui.getTab();
    tab.setQuery(q.sparql);
    tab.setName(q.title);
  }
  function loadExamples() {
    var list = document.getElementById("examples");
    var status = document.getElementById("examples-status");
    fetch("/queries", { headers: authHeaders() }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (body) {
      list.innerHTML = "";
      status.textContent = body.count + " queries";
      body.data.forEach(function (q) {
        var li = document.createElement("li");
        var b = document.createElement("button");
        b.type = "button";
        b.className = "example";
        b.dataset.name = q.name;
        b.textContent = q.title;
        b.title = q.description;
        b.addEventListener("click", function () { showExample(q); });
        li.appendChild(b);
        list.appendChild(li);
      });
    }).catch(function (e) {
      status.textContent = "cannot list queries (" + e.message + "): enter a token";
    });
  }
  window.theragraph = { yasgui: yasgui, loadExamples: loadExamples };
  loadExamples();
})();
