/* 模拟运行 on the draft page: sends the diagram's current files (from designer.js), the start time and
 * the answers the designer changed to /designer/drafts/<id>/simulate and shows one table per path.
 * Everything shown is set as text, never as HTML: task names and answers come from the draft. */
(function () {
  "use strict";

  var card = document.getElementById("simulation");
  if (!card) return;
  var startInput = document.getElementById("simulation-start");
  var placeInput = document.getElementById("simulation-place");
  var answersBox = document.getElementById("simulation-answers");
  var statusBox = document.getElementById("simulation-status");
  var resultBox = document.getElementById("simulation-result");
  var runButton = document.getElementById("simulation-run");
  var defaults = {};

  function say(text, kind) {
    statusBox.textContent = text;
    statusBox.className = "designer-status" + (kind ? " flash flash-" + kind : "");
  }

  var request = window.fengqiaoJson.request;

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  // -- the answers the designer changed -----------------------------------------------------------

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  // Only fields that differ from the prefilled defaults are sent: an untouched default must not
  // override what the process itself proposes (the routing's 承办层级, say).
  function changedAnswers() {
    var text = answersBox.value.trim();
    if (!text) return {};
    var given = JSON.parse(text);
    if (!given || typeof given !== "object" || Array.isArray(given)) throw new Error("应为 {环节编号: {字段: 值}}");
    var changed = {};
    Object.keys(given).forEach(function (key) {
      var answer = given[key];
      if (!defaults[key] || !answer || typeof answer !== "object") { changed[key] = answer; return; }
      Object.keys(answer).forEach(function (field) {
        if (!same(answer[field], defaults[key][field])) {
          changed[key] = changed[key] || {};
          changed[key][field] = answer[field];
        }
      });
    });
    return changed;
  }

  function currentFiles() {
    var designer = window.fengqiaoDesigner;
    if (designer && typeof designer.currentFiles === "function") return designer.currentFiles();
    return Promise.resolve(null);  // the editor did not load: simulate the saved draft
  }

  // -- running ------------------------------------------------------------------------------------

  function run() {
    var answers;
    try {
      answers = changedAnswers();
    } catch (error) {
      say("答案不是有效的 JSON：" + error.message, "error");
      return Promise.resolve();
    }
    runButton.disabled = true;
    say("正在模拟运行…");
    return currentFiles().then(function (files) {
      var body = { start: startInput.value, place: placeInput.value.trim(), answers: answers };
      if (files) body.files = files;
      return request(card.dataset.simulateUrl, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
      });
    }).then(function (answer) {
      if (answer.status !== 200) {
        say(answer.body.message || "模拟运行失败（" + answer.status + "）", "error");
        return;
      }
      show(answer.body);
    }).catch(function (error) {
      say("模拟运行失败：" + error.message, "error");
    }).then(function () { runButton.disabled = false; });
  }

  // -- showing the report -------------------------------------------------------------------------

  function show(report) {
    resultBox.innerHTML = "";
    if (!report.ran) {
      say("草稿有错误，未运行。请先修正以下问题：", "error");
      var problems = element("ol", null, "designer-problems");
      report.problems.forEach(function (text) { problems.appendChild(element("li", text, "problem-error")); });
      resultBox.appendChild(problems);
      return;
    }
    var place = report.place_name === report.place ? report.place : report.place_name + "（" + report.place + "）";
    var summary = "在 " + place + " 登记，自 " + report.start + " 起：运行 " +
      report.runs + " 个模拟案件，得到 " + report.paths.length + " 条不同路径";
    if (report.duplicates) summary += "（另有 " + report.duplicates + " 次与已有路径相同）";
    say(summary + "。", report.capped || report.unreached.length ? "info" : "success");
    if (report.capped) {
      resultBox.appendChild(element("p", "已达到 " + report.max_runs + " 次运行的上限，仍有分支未尝试；" +
        "可在答案中指定字段后再次模拟。", "flash flash-info"));
    }
    report.paths.forEach(function (path) { resultBox.appendChild(pathSection(path)); });
    resultBox.appendChild(unreachedSection(report.unreached));
    if (report.warnings.length) {
      var warnings = element("ul", null, "designer-problems");
      report.warnings.forEach(function (text) { warnings.appendChild(element("li", text, "problem-warning")); });
      resultBox.appendChild(element("h3", "提示"));
      resultBox.appendChild(warnings);
    }
  }

  function pathSection(path) {
    var section = element("div", null, "simulation-path");
    var title = element("h3", "路径 " + path.number + "：");
    title.appendChild(element("span", path.status_name, "simulation-status-" + path.status));
    section.appendChild(title);
    section.appendChild(element("p", path.choices.length ? "改变的答案：" + path.choices.join("；") : "全部使用默认答案",
      "simulation-choices"));
    if (path.error) {
      section.appendChild(element("p", "在 " + (path.error.element_id || "流程") + " 出错：" + path.error.message,
        "simulation-error"));
    }
    var wrap = element("div", null, "table-wrap");
    var table = element("table", null, "table");
    var head = element("tr");
    ["环节", "办理角色", "分派到", "可办理人员", "开始", "预警时间", "办理期限", "期限", "结果", "提交的答案"]
      .forEach(function (text) { head.appendChild(element("th", text)); });
    table.appendChild(element("thead")).appendChild(head);
    var body = table.appendChild(element("tbody"));
    path.steps.forEach(function (step) {
      var row = element("tr");
      var queue = step.center_name + (step.department ? " · " + step.department : "");
      var limit = (step.limit || "—") + (step.provisional ? "（暂按周一至周五计）" : "");
      [step.name + "（" + step.element_id + "）", step.role_name, queue,
       step.candidates.length ? step.candidates.join("、") : "（无人持有该角色）", step.created_at,
       step.warn_at || "—", step.due_at || "—", limit, step.outcome_name]
        .forEach(function (text) { row.appendChild(element("td", text)); });
      row.appendChild(element("td", step.answer ? JSON.stringify(step.answer) : "", "simulation-answer"));
      body.appendChild(row);
    });
    wrap.appendChild(table);
    section.appendChild(wrap);
    var events = element("ul", null, "simulation-events");
    path.events.forEach(function (event) { events.appendChild(element("li", event.at + "　" + event.summary)); });
    if (path.events.length) section.appendChild(events);
    return section;
  }

  function unreachedSection(unreached) {
    var box = element("div", null, "simulation-unreached");
    if (!unreached.length) {
      box.appendChild(element("p", "草稿中的每个环节和连线都至少走到一次。", "hint"));
      return box;
    }
    box.appendChild(element("h3", "没有走到的环节和连线（" + unreached.length + "）"));
    box.appendChild(element("p", "有些分支要看文本或数字字段（如多个部门名称、金额），自动尝试不到：" +
      "可在「指定表单答案」中填写这些字段后再次模拟。", "hint"));
    var list = element("ul");
    unreached.forEach(function (item) {
      list.appendChild(element("li", item.file + " " + item.element_id + (item.name ? "「" + item.name + "」" : "") +
        "（" + item.type + "）"));
    });
    box.appendChild(list);
    return box;
  }

  // -- start ---------------------------------------------------------------------------------------

  runButton.addEventListener("click", run);
  request(card.dataset.defaultsUrl).then(function (answer) {
    if (answer.status !== 200) return;
    defaults = answer.body.answers || {};
    if (!startInput.value) startInput.value = answer.body.start;
    if (!answersBox.value) answersBox.value = JSON.stringify(defaults, null, 2);
  });

  window.fengqiaoSimulation = { run: run };
})();
