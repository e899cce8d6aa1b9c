/* 流程设计: the draft page — the bpmn-js Modeler, its files, toolbar and problem markers.
 * Plain script, no bundler: bpmn-js comes as its UMD bundle (global BpmnJS) from /designer/vendor/.
 * The properties panel is designer_properties.js, decision tables (dmn-js) designer_dmn.js.
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
  var TYPE_NAMES = { userTask: "人工环节", serviceTask: "服务环节", scriptTask: "脚本环节",
    businessRuleTask: "决策环节", sequenceFlow: "连线", exclusiveGateway: "排他网关", parallelGateway: "并行网关",
    startEvent: "开始事件", endEvent: "结束事件", boundaryEvent: "边界事件", intermediateCatchEvent: "中间事件",
    callActivity: "调用活动", subProcess: "子流程" };

  var editable = root.dataset.editable === "true";
  // edited: the files changed here since the last save; only those are serialized again, so a
  // file merely looked at keeps its text byte for byte.
  var state = { files: {}, revision: 0, file: null, problems: [], dirty: false, edited: {} };
  var statusBox = document.getElementById("designer-status");

  if (typeof window.BpmnJS !== "function") {
    say("流程设计器的前端组件未加载：请安装 Node.js 后运行 scripts/setup.sh。", "error");
    return;
  }
  var modeler = new window.BpmnJS({ container: "#canvas", moddleExtensions: { spiffworkflow: SPIFFWORKFLOW } });
  var canvas = modeler.get("canvas");
  var overlays = modeler.get("overlays");
  var elementRegistry = modeler.get("elementRegistry");
  var selection = modeler.get("selection");
  var markedIds = [];
  var panel = window.FengqiaoPropertiesPanel(modeler, { isEditable: function () { return editable; }, say: say });
  var dmnEditor = window.FengqiaoDmnEditor({
    container: document.getElementById("dmn-canvas"), scriptUrl: root.dataset.dmnScript, onEdit: markEdited
  });

  function say(text, kind) {
    statusBox.textContent = text;
    statusBox.className = "designer-status" + (kind ? " flash flash-" + kind : "");
  }

  var request = window.fengqiaoJson.request;
  var postJson = window.fengqiaoJson.postJson;

  // -- loading and files ------------------------------------------------------------------------

  function isDmn(name) { return /\.dmn$/.test(name || ""); }
  // A draft's forms (forms/<name>.json) open in the form editor (designer_forms.js), not on a canvas.
  function isForm(name) { return /^forms\//.test(name || ""); }

  // Diagrams first, then decision tables.
  function draftFiles() {
    return Object.keys(state.files).filter(function (name) { return !isForm(name); }).sort(function (a, b) {
      return (isDmn(a) - isDmn(b)) || (a < b ? -1 : a > b ? 1 : 0);
    });
  }

  function markEdited() {
    state.dirty = true;
    state.edited[state.file] = true;
  }

  function fillFileSelect() {
    var select = document.getElementById("file-select");
    select.innerHTML = "";
    draftFiles().forEach(function (name) {
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

  // A .dmn file opens in the dmn-js Modeler in place of the BPMN canvas, which keeps its diagram.
  function openFile(name) {
    var dmn = isDmn(name);
    state.file = name;
    document.getElementById("canvas").hidden = dmn;
    document.getElementById("dmn-canvas").hidden = !dmn;
    document.getElementById("download-button").textContent = dmn ? "下载 .dmn" : "下载 .bpmn";
    panel.setMode(dmn ? "dmn" : "bpmn");
    var opened = dmn ? dmnEditor.open(state.files[name])
      : modeler.importXML(state.files[name]).then(function (result) {
        canvas.zoom("fit-viewport");
        return result.warnings || [];
      });
    return opened.then(function (warnings) {
      if (warnings.length) {
        say("打开 " + name + " 时有 " + warnings.length + " 处内容无法识别：" + warnings[0].message, "error");
      }
      showProblems(state.problems);
    }).catch(function (error) {
      // The editor still holds the file shown before: hide it, or an edit there would be saved under this name.
      document.getElementById("canvas").hidden = true;
      document.getElementById("dmn-canvas").hidden = true;
      say("无法打开 " + name + "：" + error.message + "。可下载或重新上传该文件，或在「问题」中查看原因。", "error");
    });
  }

  function openXml() {
    return isDmn(state.file) ? dmnEditor.saveXML() : modeler.saveXML({ format: true }).then(function (r) { return r.xml; });
  }

  function load() {
    return request(root.dataset.filesUrl).then(function (answer) {
      if (answer.status !== 200) { say(answer.body.message || "无法读取草稿", "error"); return; }
      applyState(answer.body);
      state.problems = answer.body.problems;
      var names = draftFiles();
      var preferred = root.dataset.category + ".bpmn";
      fillFileSelect();
      var first = names.indexOf(preferred) >= 0 ? preferred : names[0];
      document.getElementById("file-select").value = first;
      return openFile(first);
    });
  }

  // The files as they are now: the open file's XML replaces its stored text if it was edited.
  function currentFiles() {
    var files = Object.assign({}, state.files);
    if (!state.edited[state.file]) return Promise.resolve(files);
    return openXml().then(function (xml) {
      files[state.file] = xml;
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
          state.edited = {};
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
    dmnEditor.showProblems(isDmn(state.file) ? problems.filter(function (p) { return p.file === state.file; }) : []);
    var list = document.getElementById("problems");
    list.innerHTML = "";
    var byElement = {};
    problems.forEach(function (problem) {
      var item = document.createElement("li");
      item.textContent = problem.text;
      item.className = "problem-" + problem.severity;
      if (isForm(problem.file)) {
        item.tabIndex = 0;
        item.addEventListener("click", function () {
          window.location.href = root.dataset.formsUrl + "/" + problem.file.slice(6, -5);
        });
        list.appendChild(item);
        return;
      }
      if (problem.element_id) {
        item.dataset.elementId = problem.element_id;
        item.tabIndex = 0;
        item.addEventListener("click", function () { selectElement(problem.file, problem.element_id); });
        if (problem.file === state.file && !isDmn(state.file) && elementRegistry.get(problem.element_id)) {
          (byElement[problem.element_id] = byElement[problem.element_id] || []).push(problem);
        }
      }
      if (!problem.element_id && problem.file && state.files[problem.file]) {
        item.tabIndex = 0;  // a file-wide problem (e.g. an XML syntax error) still opens its file
        item.addEventListener("click", function () { selectElement(problem.file, null); });
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
      if (!id) return;
      if (isDmn(state.file)) {
        if (!dmnEditor.select(id)) say(state.file + " 中没有可选中的元素 " + id, "error");
        return;
      }
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

  // Panel changes and canvas edits alike: the diagram open now differs from its stored text.
  modeler.on("commandStack.changed", function (event) {
    if (event.trigger !== "clear") markEdited();
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
    (state.edited[state.file] ? openXml() : Promise.resolve(state.files[state.file])).then(function (xml) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
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
      state.dirty = false;
      state.edited = {};
      fillFileSelect();
      var name = state.files[file.name] !== undefined ? file.name : state.file;
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
  window.fengqiaoDesigner = { modeler: modeler, dmn: dmnEditor, save: save, state: state, currentFiles: currentFiles,
    ready: load() };
})();
