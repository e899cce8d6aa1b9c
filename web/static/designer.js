/* 流程设计: the draft page's bpmn-js Modeler, toolbar, problem markers and user task properties.
 * Plain script, no bundler: bpmn-js comes as its UMD bundle (global BpmnJS) from /designer/vendor/.
 * The server (web/designer.py) owns the draft; this page only sends whole files with the revision
 * they were made on, so a save on top of someone else's is refused and the diagram here is kept. */
(function () {
  "use strict";

  var root = document.getElementById("designer");
  if (!root) return;

  // What Fengqiao reads from a task: <spiffworkflow:properties><spiffworkflow:property name value/>.
  // The other spiffworkflow elements used in processes/ are declared too so that they survive a save.
  var SPIFFWORKFLOW = {
    name: "SpiffWorkflow",
    prefix: "spiffworkflow",
    uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
    xml: { tagAlias: "lowerCase" },
    associations: [],
    types: [
      { name: "Properties", superClass: ["Element"],
        properties: [{ name: "properties", type: "Property", isMany: true }] },
      { name: "Property", superClass: ["Element"],
        properties: [{ name: "name", type: "String", isAttr: true }, { name: "value", type: "String", isAttr: true }] },
      { name: "CalledDecisionId", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
      { name: "PreScript", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
      { name: "PostScript", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] }
    ]
  };
  var DEADLINE = /^\s*([0-9]+)\s*(工作日|日|小时|分钟)\s*$/;
  var TYPE_NAMES = { userTask: "人工环节", serviceTask: "服务环节", scriptTask: "脚本环节",
    businessRuleTask: "决策环节", sequenceFlow: "连线", exclusiveGateway: "排他网关", parallelGateway: "并行网关",
    startEvent: "开始事件", endEvent: "结束事件", boundaryEvent: "边界事件", intermediateCatchEvent: "中间事件",
    callActivity: "调用活动", subProcess: "子流程" };

  var csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  var editable = root.dataset.editable === "true";
  var state = { files: {}, revision: 0, file: null, problems: [], dirty: false, selected: null };
  var statusBox = document.getElementById("designer-status");

  if (typeof window.BpmnJS !== "function") {
    say("流程设计器的前端组件未加载：请安装 Node.js 后运行 scripts/setup.sh。", "error");
    return;
  }
  var modeler = new window.BpmnJS({ container: "#canvas", moddleExtensions: { spiffworkflow: SPIFFWORKFLOW } });
  var canvas = modeler.get("canvas");
  var overlays = modeler.get("overlays");
  var elementRegistry = modeler.get("elementRegistry");
  var modeling = modeler.get("modeling");
  var moddle = modeler.get("moddle");
  var selection = modeler.get("selection");
  var markedIds = [];

  function say(text, kind) {
    statusBox.textContent = text;
    statusBox.className = "designer-status" + (kind ? " flash flash-" + kind : "");
  }

  function request(url, options) {
    options = options || {};
    var headers = Object.assign({ "X-CSRFToken": csrfToken, "Accept": "application/json" }, options.headers || {});
    return fetch(url, Object.assign({ credentials: "same-origin" }, options, { headers: headers }))
      .then(function (response) {
        return response.json().catch(function () { return { message: "服务器返回了无法识别的内容（" + response.status + "）" }; })
          .then(function (body) { return { status: response.status, body: body }; });
      });
  }

  function postJson(url, body) {
    return request(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  }

  // -- loading and files ------------------------------------------------------------------------

  function bpmnFiles() {
    return Object.keys(state.files).filter(function (name) { return /\.bpmn$/.test(name); }).sort();
  }

  function fillFileSelect() {
    var select = document.getElementById("file-select");
    select.innerHTML = "";
    bpmnFiles().forEach(function (name) {
      var option = document.createElement("option");
      option.value = option.textContent = name;
      select.appendChild(option);
    });
    select.value = state.file;
  }

  function applyState(body) {
    state.files = body.files;
    state.revision = body.revision;
    document.getElementById("revision").textContent = "第 " + body.revision + " 版";
  }

  function openFile(name) {
    state.file = name;
    return modeler.importXML(state.files[name]).then(function (result) {
      canvas.zoom("fit-viewport");
      if (result.warnings && result.warnings.length) {
        say("打开 " + name + " 时有 " + result.warnings.length + " 处内容无法识别：" + result.warnings[0].message, "error");
      }
      state.dirty = false;
      showProblems(state.problems);
      showProperties(null);
    }).catch(function (error) {
      say("无法打开 " + name + "：" + error.message, "error");
    });
  }

  function load() {
    return request(root.dataset.filesUrl).then(function (answer) {
      if (answer.status !== 200) { say(answer.body.message || "无法读取草稿", "error"); return; }
      applyState(answer.body);
      state.problems = answer.body.problems;
      var names = bpmnFiles();
      var preferred = root.dataset.category + ".bpmn";
      fillFileSelect();
      var first = names.indexOf(preferred) >= 0 ? preferred : names[0];
      document.getElementById("file-select").value = first;
      return openFile(first);
    });
  }

  // The files as they are now: the open diagram's XML replaces its stored text.
  function currentFiles() {
    return modeler.saveXML({ format: true }).then(function (result) {
      var files = Object.assign({}, state.files);
      files[state.file] = result.xml;
      return files;
    });
  }

  // -- saving -------------------------------------------------------------------------------------

  function save() {
    if (!editable) { say("此草稿已提交或已发布，不能再保存", "error"); return Promise.resolve(false); }
    say("正在保存…");
    return currentFiles().then(function (files) {
      return postJson(root.dataset.saveUrl, { files: files, expected_revision: state.revision }).then(function (answer) {
        if (answer.status === 200) {
          applyState(answer.body);
          state.problems = answer.body.problems;
          state.dirty = false;
          showProblems(state.problems);
          var errors = state.problems.filter(function (p) { return p.severity === "error"; }).length;
          say("已保存为第 " + answer.body.revision + " 版" + (errors ? "，有 " + errors + " 个问题需要处理" : "，未发现问题"),
            errors ? "error" : "success");
          return true;
        }
        // A conflict or a refusal: the diagram stays as the user left it.
        say(answer.body.message || "未能保存（" + answer.status + "）", "error");
        return false;
      });
    });
  }

  // -- problems on the diagram -----------------------------------------------------------------------

  function clearMarkers() {
    markedIds.forEach(function (id) {
      if (elementRegistry.get(id)) {
        canvas.removeMarker(id, "fq-problem");
        canvas.removeMarker(id, "fq-warning");
      }
    });
    markedIds = [];
    overlays.remove({ type: "fq-problem" });
  }

  function showProblems(problems) {
    clearMarkers();
    var list = document.getElementById("problems");
    list.innerHTML = "";
    var byElement = {};
    problems.forEach(function (problem) {
      var item = document.createElement("li");
      item.textContent = problem.text;
      item.className = "problem-" + problem.severity;
      if (problem.element_id) {
        item.dataset.elementId = problem.element_id;
        item.tabIndex = 0;
        item.addEventListener("click", function () { selectElement(problem.file, problem.element_id); });
        if (problem.file === state.file && elementRegistry.get(problem.element_id)) {
          (byElement[problem.element_id] = byElement[problem.element_id] || []).push(problem);
        }
      }
      list.appendChild(item);
    });
    document.getElementById("problem-count").textContent = problems.length ? String(problems.length) : "无";
    Object.keys(byElement).forEach(function (id) {
      var found = byElement[id];
      var isError = found.some(function (p) { return p.severity === "error"; });
      canvas.addMarker(id, isError ? "fq-problem" : "fq-warning");
      markedIds.push(id);
      var box = document.createElement("div");
      box.className = "fq-overlay" + (isError ? "" : " fq-overlay-warning");
      found.forEach(function (p) {
        var line = document.createElement("div");
        line.textContent = p.message;
        box.appendChild(line);
      });
      overlays.add(id, "fq-problem", { position: { bottom: -6, left: 0 }, html: box });
    });
  }

  function selectElement(file, id) {
    var go = file && file !== state.file && state.files[file]
      ? switchFile(file) : Promise.resolve();
    go.then(function () {
      var element = elementRegistry.get(id);
      if (!element) { say("图中没有元素 " + id + "（可能缺少图形）", "error"); return; }
      selection.select(element);
      if (typeof canvas.scrollToElement === "function") canvas.scrollToElement(element);
    });
  }

  function switchFile(name) {
    return currentFiles().then(function (files) {
      state.files = files;  // keep the edits of the file left; they are sent with the next save
      document.getElementById("file-select").value = name;
      return openFile(name);
    });
  }

  // -- the user task properties panel --------------------------------------------------------------

  function propertiesOf(bo) {
    var ext = bo.extensionElements;
    var container = ext && (ext.get("values") || []).find(function (v) { return v.$type === "spiffworkflow:Properties"; });
    var found = {};
    if (container) container.get("properties").forEach(function (p) { found[p.name] = p.value; });
    return found;
  }

  // Write Fengqiao properties through modeling, so the change is on the undo stack and saved.
  function setProperties(element, changes) {
    var bo = element.businessObject;
    var ext = bo.extensionElements;
    if (!ext) {
      ext = moddle.create("bpmn:ExtensionElements", { values: [] });
      ext.$parent = bo;
      modeling.updateProperties(element, { extensionElements: ext });
    }
    var container = (ext.get("values") || []).find(function (v) { return v.$type === "spiffworkflow:Properties"; });
    if (!container) {
      container = moddle.create("spiffworkflow:Properties", { properties: [] });
      container.$parent = ext;
      modeling.updateModdleProperties(element, ext, { values: ext.get("values").concat([container]) });
    }
    var list = container.get("properties").slice();
    Object.keys(changes).forEach(function (name) {
      var value = changes[name];
      var index = list.findIndex(function (p) { return p.name === name; });
      if (value === "" || value === null) {
        if (index >= 0) list.splice(index, 1);
      } else if (index >= 0) {
        if (list[index].value !== value) {
          var replaced = moddle.create("spiffworkflow:Property", { name: name, value: value });
          replaced.$parent = container;
          list[index] = replaced;
        }
      } else {
        var added = moddle.create("spiffworkflow:Property", { name: name, value: value });
        added.$parent = container;
        list.push(added);
      }
    });
    modeling.updateModdleProperties(element, container, { properties: list });
  }

  var panel = document.getElementById("task-properties");
  var fields = {
    form: document.getElementById("prop-form"),
    role: document.getElementById("prop-role"),
    amount: document.getElementById("deadline-amount"),
    unit: document.getElementById("deadline-unit"),
    warnShare: document.getElementById("prop-warn-share")
  };

  function chooseOption(select, value) {
    if (value && !Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
      var option = document.createElement("option");
      option.value = value;
      option.textContent = value + "（不存在）";
      option.dataset.unknown = "true";
      select.appendChild(option);
    }
    select.value = value || "";
  }

  function showProperties(element) {
    state.selected = element;
    var isTask = element && element.type === "bpmn:UserTask";
    panel.hidden = !isTask;
    document.getElementById("properties-empty").hidden = !!isTask;
    if (!isTask) return;
    var props = propertiesOf(element.businessObject);
    document.getElementById("properties-title").textContent =
      (element.businessObject.name || element.id) + "（" + element.id + "）";
    chooseOption(fields.form, props.form);
    chooseOption(fields.role, props.role);
    var deadline = DEADLINE.exec(props.deadline || "");
    fields.amount.value = deadline ? deadline[1] : "";
    fields.unit.value = deadline ? deadline[2] : "工作日";
    fields.warnShare.value = props.warn_share || "";
    Array.prototype.forEach.call(panel.elements, function (field) { field.disabled = !editable; });
  }

  function applyField(name) {
    var element = state.selected;
    if (!element || !editable) return;
    var changes = {};
    if (name === "form") changes.form = fields.form.value;
    if (name === "role") changes.role = fields.role.value;
    if (name === "deadline") {
      var amount = fields.amount.value.trim();
      changes.deadline = amount === "" ? "" : String(parseInt(amount, 10)) + " " + fields.unit.value;
    }
    if (name === "warn_share") changes.warn_share = fields.warnShare.value.trim();
    setProperties(element, changes);
  }

  fields.form.addEventListener("change", function () { applyField("form"); });
  fields.role.addEventListener("change", function () { applyField("role"); });
  fields.amount.addEventListener("change", function () { applyField("deadline"); });
  fields.unit.addEventListener("change", function () { applyField("deadline"); });
  fields.warnShare.addEventListener("change", function () { applyField("warn_share"); });
  panel.addEventListener("submit", function (event) { event.preventDefault(); });

  modeler.on("selection.changed", function (event) {
    showProperties(event.newSelection.length === 1 ? event.newSelection[0] : null);
  });
  modeler.on("commandStack.changed", function () { state.dirty = true; });
  modeler.on("element.changed", function (event) {
    if (state.selected && event.element === state.selected && !panel.contains(document.activeElement)) {
      showProperties(event.element);
    }
  });

  // -- compare, download, upload, publish ---------------------------------------------------------

  function compareWithVersion() {
    var box = document.getElementById("compare-result");
    var intro = state.dirty ? "（对比的是最近一次保存的内容，画布上的修改请先保存）" : "";
    request(root.dataset.compareUrl).then(function (answer) {
      document.getElementById("compare").hidden = false;
      box.innerHTML = "";
      if (answer.body.message) { box.textContent = answer.body.message; return; }
      if (answer.body.empty) { box.textContent = "与现行版本相同" + intro; return; }
      var note = document.createElement("p");
      note.className = "hint";
      note.textContent = intro;
      box.appendChild(note);
      [["added", "新增"], ["removed", "删除"], ["changed", "修改"]].forEach(function (group) {
        var rows = answer.body[group[0]];
        if (!rows.length) return;
        var title = document.createElement("h3");
        title.textContent = group[1] + "（" + rows.length + "）";
        box.appendChild(title);
        var list = document.createElement("ul");
        rows.forEach(function (row) {
          var item = document.createElement("li");
          var text = (TYPE_NAMES[row.type] || row.type) + " " + (row.name || "") + "（" + row.element_id + "）";
          Object.keys(row.changes || {}).forEach(function (key) {
            var pair = row.changes[key];
            text += "；" + key + "：" + (pair[0] === null ? "无" : pair[0]) + " → " + (pair[1] === null ? "无" : pair[1]);
          });
          item.textContent = text;
          item.addEventListener("click", function () { selectElement(row.file, row.element_id); });
          list.appendChild(item);
        });
        box.appendChild(list);
      });
      if (answer.body.files_changed.length) {
        var files = document.createElement("p");
        files.textContent = "内容有变化的文件：" + answer.body.files_changed.join("、");
        box.appendChild(files);
      }
    });
  }

  function download() {
    modeler.saveXML({ format: true }).then(function (result) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([result.xml], { type: "application/xml" }));
      link.download = state.file;
      document.body.appendChild(link);
      link.click();
      setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 0);
    });
  }

  function uploadFile(file) {
    if (state.dirty && !window.confirm("画布上有未保存的修改，上传后将被上传的文件替换。继续？")) return;
    var data = new FormData();
    data.append("file", file);
    data.append("expected_revision", String(state.revision));
    request(root.dataset.uploadUrl, { method: "POST", body: data }).then(function (answer) {
      if (answer.status !== 200) { say(answer.body.message || "未能上传", "error"); return; }
      applyState(answer.body);
      state.problems = answer.body.problems;
      fillFileSelect();
      var name = /\.bpmn$/.test(file.name) ? file.name : state.file;
      document.getElementById("file-select").value = name;
      openFile(name).then(function () { say("已上传 " + file.name + "，保存为第 " + answer.body.revision + " 版", "success"); });
    });
  }

  function publish() {
    var reason = document.getElementById("publish-reason").value.trim();
    if (!reason) { say("请填写发布说明", "error"); return; }
    var first = state.dirty ? save() : Promise.resolve(true);
    first.then(function (saved) {
      if (!saved) return;
      postJson(root.dataset.publishUrl, { reason: reason }).then(function (answer) {
        if (answer.status === 200) {
          editable = false;
          root.dataset.editable = "false";
          say(answer.body.message, "success");
        } else {
          if (answer.body.problems) { state.problems = answer.body.problems; showProblems(state.problems); }
          say(answer.body.message || "未能发布", "error");
        }
      });
    });
  }

  document.getElementById("save-button").addEventListener("click", save);
  document.getElementById("compare-button").addEventListener("click", compareWithVersion);
  document.getElementById("download-button").addEventListener("click", download);
  document.getElementById("publish-button").addEventListener("click", publish);
  document.getElementById("file-select").addEventListener("change", function (event) { switchFile(event.target.value); });
  document.getElementById("upload-input").addEventListener("change", function (event) {
    if (event.target.files.length) uploadFile(event.target.files[0]);
    event.target.value = "";
  });
  window.addEventListener("beforeunload", function (event) {
    if (state.dirty && editable) { event.preventDefault(); event.returnValue = ""; }
  });

  // For tests and the browser console: the modeler and the page's own actions.
  window.fengqiaoDesigner = { modeler: modeler, save: save, state: state, ready: load() };
})();
