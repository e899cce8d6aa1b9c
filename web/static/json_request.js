/* The designer pages' JSON calls: same-origin, the page's CSRF token (<meta name="csrf-token">), and an
 * answer as {status, body} even when the server sent something that is not JSON. */
(function () {
  "use strict";

  function request(url, options) {
    options = options || {};
    var meta = document.querySelector('meta[name="csrf-token"]');
    var headers = Object.assign({ "X-CSRFToken": meta ? meta.content : "", "Accept": "application/json" },
      options.headers || {});
    return fetch(url, Object.assign({ credentials: "same-origin" }, options, { headers: headers }))
      .then(function (response) {
        return response.json().catch(function () { return { message: "服务器返回了无法识别的内容（" + response.status + "）" }; })
          .then(function (body) { return { status: response.status, body: body }; });
      });
  }

  function postJson(url, body) {
    return request(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  }

  window.fengqiaoJson = { request: request, postJson: postJson };
})();
