// 台账导入: follow a running import until it finishes, then show its result page.
(function () {
  "use strict";
  var box = document.getElementById("ledger-import");
  if (!box) { return; }
  var url = box.getAttribute("data-progress-url");
  var bar = document.getElementById("ledger-bar");
  var POLL_MS = 1000;

  function show(status) {
    document.getElementById("ledger-state").textContent = status.state_name;
    document.getElementById("ledger-done").textContent = status.done;
    document.getElementById("ledger-total").textContent = status.total;
    bar.max = status.total || 1;
    bar.value = status.done;
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { return; }
        show(status);
        if (status.finished) { window.location.reload(); } else { window.setTimeout(poll, POLL_MS); }
      })
      .catch(function () { window.setTimeout(poll, POLL_MS * 5); });
  }

  window.setTimeout(poll, POLL_MS);
}());
