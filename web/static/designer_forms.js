/* 表单设计: a form's JSON Schema edited field by field, its raw JSON, and a live preview drawn by the
 * server with the task pages' renderer (web/form_render.py). Plain script, no bundler.
 * The schema object is the one truth: the field editor changes only the keys it knows and keeps
 * every other key (pattern, x-widget, if/then, …); the raw JSON is rewritten from it, and a valid
 * edit of the raw JSON replaces it. Saving sends the raw text with the revision the page was loaded
 * on, so a save on top of a colleague's is refused and the text stays here. */
(function () {
  "use strict";

  var root = document.getElementById("form-editor");
  if (!root) return;

  var KINDS = [["text", "文本"], ["textarea", "多行文本"], ["integer", "整数"], ["number", "数字"],
    ["boolean", "是否"], ["date", "日期"], ["choice", "单选"]];
  // Keys that belong to one kind of field only: changing the kind drops them.
  var STRING_KEYS = ["maxLength", "minLength", "pattern", "format", "x-widget"];
  var NUMBER_KEYS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"];
  var CHOICE_KEYS = ["oneOf", "anyOf", "enum", "const"];
  var NESTED_KEYS = ["items", "properties", "required", "additionalProperties", "minItems", "maxItems"];
  var FIELD_KEY = /^[A-Za-z][A-Za-z0-9_]*$/;
  var PREVIEW_DELAY = 300;

  var editable = root.dataset.editable === "true";
  var raw = document.getElementById("form-raw");
  var list = document.getElementById("form-fields");
  var titleInput = document.getElementById("form-title");
  var statusBox = document.getElementById("form-status");
  var previewBox = document.getElementById("form-preview");
  var previewError = document.getElementById("form-preview-error");
  var state = { schema: null, revision: parseInt(root.dataset.revision, 10), dirty: false, timer: null, asked: 0 };

  function say(text, kind) {
    statusBox.textContent = text;
    statusBox.className = "form-status" + (kind ? " flash flash-" + kind : "");
  }

  var postJson = window.fengqiaoJson.postJson;

  // -- the schema -----------------------------------------------------------------------------------

  function isObject(value) { return value !== null && typeof value === "object" && !Array.isArray(value); }

  function fields() {
    if (!isObject(state.schema.properties)) state.schema.properties = {};
    return state.schema.properties;
  }

  function requiredList() {
    if (!Array.isArray(state.schema.required)) state.schema.required = [];
    return state.schema.required;
  }

  function isRequired(key) {
    return Array.isArray(state.schema.required) && state.schema.required.indexOf(key) >= 0;
  }

  function typesOf(prop) {
    var type = prop.type === undefined ? "string" : prop.type;
    return Array.isArray(type) ? type : [type];
  }

  function choicesOf(prop) {
    var list = prop.oneOf || prop.anyOf;
    if (Array.isArray(list) && list.length && list.every(function (c) { return isObject(c) && "const" in c; })) {
      return list.map(function (c) { return { value: c["const"], label: c.title === undefined ? String(c["const"]) : c.title }; });
    }
    if (Array.isArray(prop["enum"])) return prop["enum"].map(function (v) { return { value: v, label: String(v) }; });
    return null;
  }

  // The kind the renderer would draw, or "other" for what only the JSON view edits (lists, objects).
  function kindOf(prop) {
    var types = typesOf(prop);
    if (choicesOf(prop)) return "choice";
    if (types.indexOf("boolean") >= 0) return "boolean";
    if (types.indexOf("integer") >= 0) return "integer";
    if (types.indexOf("number") >= 0) return "number";
    if (types.indexOf("string") >= 0) {
      if (prop.format === "date") return "date";
      return prop["x-widget"] === "textarea" ? "textarea" : "text";
    }
    return "other";
  }

  function drop(prop, keys) { keys.forEach(function (key) { delete prop[key]; }); }

  function setKind(prop, kind) {
    var numeric = typesOf(prop).filter(function (t) { return t === "integer" || t === "number"; })[0];
    drop(prop, NESTED_KEYS);
    if (kind === "text" || kind === "textarea") {
      prop.type = "string";
      drop(prop, NUMBER_KEYS.concat(CHOICE_KEYS, ["format"]));
      if (kind === "textarea") prop["x-widget"] = "textarea"; else delete prop["x-widget"];
    } else if (kind === "integer" || kind === "number") {
      prop.type = kind;
      drop(prop, STRING_KEYS.concat(CHOICE_KEYS));
    } else if (kind === "boolean") {
      prop.type = "boolean";
      drop(prop, STRING_KEYS.concat(NUMBER_KEYS, CHOICE_KEYS));
    } else if (kind === "date") {
      prop.type = "string";
      drop(prop, STRING_KEYS.concat(NUMBER_KEYS, CHOICE_KEYS));
      prop.format = "date";
    } else if (kind === "choice") {
      var options = choicesOf(prop);
      prop.type = numeric && options ? numeric : "string";
      drop(prop, STRING_KEYS.concat(NUMBER_KEYS, CHOICE_KEYS));
      prop.oneOf = options ? options.map(function (o) { return { "const": o.value, title: o.label }; })
        : [{ "const": "option_1", title: "选项一" }, { "const": "option_2", title: "选项二" }];
    }
  }

  function setOrDrop(object, key, value) {
    if (value === "" || value === null || value === undefined) delete object[key]; else object[key] = value;
  }

  function setRequired(key, on, prop) {
    var required = requiredList();
    var index = required.indexOf(key);
    if (on && index < 0) required.push(key);
    if (!on && index >= 0) required.splice(index, 1);
    // The forms in forms/ also ask a required text for at least one character (an API may send "").
    var text = kindOf(prop) === "text" || kindOf(prop) === "textarea";
    if (on && text && prop.minLength === undefined) prop.minLength = 1;
    if (!on && text && prop.minLength === 1) delete prop.minLength;
  }

  // Rename or reorder: rebuild the properties object, since its key order is the form's field order.
  function rebuild(order, renamed) {
    var old = fields();
    var next = {};
    order.forEach(function (key) { next[renamed && renamed[key] ? renamed[key] : key] = old[key]; });
    state.schema.properties = next;
    if (renamed) {
      state.schema.required = requiredList().map(function (key) { return renamed[key] || key; });
    }
  }

  // -- the field editor ---------------------------------------------------------------------------------

  function element(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key in node && key !== "list") node[key] = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function labelled(text, input, className) {
    return element("label", { className: className || "" }, [document.createTextNode(text), input]);
  }

  function numberInput(value, onChange, integer) {
    var input = element("input", { type: "number", step: integer ? "1" : "any",
      value: value === undefined ? "" : String(value) });
    input.addEventListener("input", function () {
      var text = input.value.trim();
      var number = integer ? parseInt(text, 10) : Number(text);
      onChange(text === "" || !isFinite(number) ? "" : number);
    });
    return input;
  }

  function textInput(value, onChange, attrs) {
    var input = element("input", Object.assign({ type: "text", value: value === undefined ? "" : String(value) }, attrs || {}));
    input.addEventListener("input", function () { onChange(input.value); });
    return input;
  }

  function renderFields() {
    list.innerHTML = "";
    titleInput.value = typeof state.schema.title === "string" ? state.schema.title : "";
    var keys = Object.keys(fields());
    keys.forEach(function (key, index) { list.appendChild(fieldRow(key, index, keys)); });
    if (!keys.length) list.appendChild(element("li", { className: "form-fields-empty hint", text: "还没有字段。" }));
    setEditable();
  }

  function fieldRow(key, index, keys) {
    var prop = fields()[key];
    if (!isObject(prop)) {
      return element("li", { className: "form-field" }, [element("p", { className: "form-warning",
        text: key + "：此字段不是 JSON 对象，请在 JSON 中改正" })]);
    }
    var kind = kindOf(prop);
    var item = element("li", { className: "form-field" });
    item.dataset.key = key;

    var keyInput = textInput(key, function () {}, { className: "form-field-key", "aria-label": "字段名", spellcheck: false });
    var keyError = element("p", { className: "field-error", hidden: true });
    keyInput.addEventListener("change", function () {
      var next = keyInput.value.trim();
      if (next === key) { keyError.hidden = true; return; }
      var problem = !FIELD_KEY.test(next) ? "字段名以字母开头，只含字母、数字和下划线"
        : (next in fields() ? "已有字段 " + next : "");
      if (problem) { keyError.textContent = problem; keyError.hidden = false; keyInput.setAttribute("aria-invalid", "true"); return; }
      var renamed = {};
      renamed[key] = next;
      rebuild(Object.keys(fields()), renamed);
      changed(true);
    });

    var title = textInput(prop.title, function (value) { setOrDrop(prop, "title", value.trim() ? value : ""); changed(); },
      { className: "form-field-title", placeholder: key });
    var kindSelect = element("select", { className: "form-field-kind" });
    KINDS.forEach(function (pair) { kindSelect.appendChild(element("option", { value: pair[0], text: pair[1] })); });
    if (kind === "other") kindSelect.appendChild(element("option", { value: "other", text: "其他（在 JSON 中编辑）", disabled: true }));
    kindSelect.value = kind;
    kindSelect.addEventListener("change", function () {
      var wasRequired = isRequired(key);
      setKind(prop, kindSelect.value);
      if (wasRequired) setRequired(key, true, prop);
      changed(true);
    });
    var required = element("input", { type: "checkbox", className: "form-field-required", checked: isRequired(key) });
    required.addEventListener("change", function () { setRequired(key, required.checked, prop); changed(); });

    var up = element("button", { type: "button", className: "button small", text: "↑", title: "上移", disabled: index === 0 });
    var down = element("button", { type: "button", className: "button small", text: "↓", title: "下移", disabled: index === keys.length - 1 });
    var remove = element("button", { type: "button", className: "button small form-field-remove", text: "删除" });
    up.addEventListener("click", function () { move(keys, index, -1); });
    down.addEventListener("click", function () { move(keys, index, 1); });
    remove.addEventListener("click", function () {
      if (!window.confirm("删除字段「" + (prop.title || key) + "」？")) return;
      delete fields()[key];
      setRequired(key, false, prop);
      changed(true);
    });

    item.appendChild(element("div", { className: "form-field-head" }, [
      labelled("字段名", keyInput), labelled("标题", title), labelled("类型", kindSelect),
      labelled("必填", required, "form-field-check"),
      element("span", { className: "form-field-actions" }, [up, down, remove])
    ]));
    item.appendChild(keyError);
    item.appendChild(details(key, prop, kind));
    return item;
  }

  function details(key, prop, kind) {
    var box = element("div", { className: "form-field-details" });
    if (kind === "text" || kind === "textarea") {
      box.appendChild(labelled("最多字数", numberInput(prop.maxLength, function (v) {
        setOrDrop(prop, "maxLength", v === "" ? "" : Math.max(0, v)); changed();
      }, true)));
    }
    if (kind === "integer" || kind === "number") {
      box.appendChild(labelled("最小值", numberInput(prop.minimum, function (v) { setOrDrop(prop, "minimum", v); changed(); }, kind === "integer")));
      box.appendChild(labelled("最大值", numberInput(prop.maximum, function (v) { setOrDrop(prop, "maximum", v); changed(); }, kind === "integer")));
    }
    if (kind === "choice") box.appendChild(optionsEditor(prop));
    if (kind === "other") box.appendChild(element("p", { className: "hint", text: "此字段的设置请在下方 JSON 中编辑（办理页面暂不显示列表和嵌套对象）。" }));
    box.appendChild(labelled("说明", textInput(prop.description, function (value) {
      setOrDrop(prop, "description", value.trim() ? value : ""); changed();
    }, { className: "form-field-description", placeholder: "填写提示，显示在输入框下方" }), "form-field-wide"));
    return box;
  }

  function optionsEditor(prop) {
    var numeric = typesOf(prop).some(function (t) { return t === "integer" || t === "number"; });
    var options = choicesOf(prop) || [];
    var box = element("fieldset", { className: "form-options" }, [element("legend", { text: "选项（值 / 显示文字）" })]);
    function write() {
      drop(prop, CHOICE_KEYS);
      prop.oneOf = options.map(function (o) {
        var value = numeric && o.value !== "" && isFinite(Number(o.value)) ? Number(o.value) : o.value;
        return { "const": value, title: o.label };
      });
      changed();
    }
    options.forEach(function (option, index) {
      var value = textInput(option.value, function (v) { option.value = v; write(); }, { "aria-label": "选项值", className: "form-option-value" });
      var text = textInput(option.label, function (v) { option.label = v; write(); }, { "aria-label": "显示文字", className: "form-option-label" });
      var remove = element("button", { type: "button", className: "button small", text: "删除" });
      remove.addEventListener("click", function () { options.splice(index, 1); write(); renderFields(); });
      box.appendChild(element("div", { className: "form-option" }, [value, text, remove]));
    });
    var add = element("button", { type: "button", className: "button small", text: "添加选项" });
    add.addEventListener("click", function () {
      options.push({ value: "option_" + (options.length + 1), label: "选项" + (options.length + 1) });
      write();
      renderFields();
    });
    box.appendChild(add);
    return box;
  }

  function move(keys, index, step) {
    var order = keys.slice();
    var moved = order.splice(index, 1)[0];
    order.splice(index + step, 0, moved);
    rebuild(order);
    changed(true);
  }

  function addField() {
    var n = Object.keys(fields()).length + 1;
    while (("field_" + n) in fields()) n += 1;
    var key = "field_" + n;
    fields()[key] = { type: "string", title: "新字段" };
    changed(true);
    var row = list.querySelector('li[data-key="' + key + '"] .form-field-title');
    if (row) { row.focus(); row.select(); }
  }

  function setEditable() {
    Array.prototype.forEach.call(root.querySelectorAll("#form-fields input, #form-fields select, #form-fields button, #form-add-field, #form-title, #form-raw"),
      function (control) { if (!editable) control.disabled = true; });
    if (!editable) raw.readOnly = true;
  }

  // -- keeping the views in step ----------------------------------------------------------------------

  // A field edit: the raw JSON follows; structural edits draw the field list again.
  function changed(structural) {
    raw.value = JSON.stringify(state.schema, null, 2) + "\n";
    state.dirty = true;
    if (structural) renderFields();
    schedulePreview();
  }

  function readRaw() {
    var parsed;
    try { parsed = JSON.parse(raw.value); } catch (error) { parsed = undefined; }
    var usable = isObject(parsed);
    document.getElementById("form-structure-note").hidden = usable;
    list.classList.toggle("form-fields-paused", !usable);
    Array.prototype.forEach.call(root.querySelectorAll("#form-fields input, #form-fields select, #form-fields button, #form-add-field, #form-title"),
      function (control) { control.disabled = !usable || !editable; });
    if (usable) { state.schema = parsed; }
    return usable;
  }

  function schedulePreview() {
    clearTimeout(state.timer);
    state.timer = setTimeout(refreshPreview, PREVIEW_DELAY);
  }

  // Answers may come back out of order while someone types: only the last question's answer is drawn.
  function refreshPreview() {
    var asked = ++state.asked;
    return postJson(root.dataset.previewUrl, { text: raw.value }).then(function (answer) {
      if (asked !== state.asked) return;
      if (answer.status === 200) {
        previewBox.innerHTML = answer.body.html;
        previewBox.hidden = false;
        previewError.hidden = true;
      } else {
        previewError.textContent = answer.body.message || "无法预览（" + answer.status + "）";
        previewError.hidden = false;
        previewBox.hidden = true;
      }
    }).catch(function () {
      if (asked === state.asked) { previewError.textContent = "无法连接服务器，预览未更新"; previewError.hidden = false; }
    });
  }

  // -- saving -----------------------------------------------------------------------------------------------

  function showProblems(problems) {
    var box = document.getElementById("form-problems");
    box.innerHTML = "";
    problems.forEach(function (p) { box.appendChild(element("li", { className: "problem-" + p.severity, text: p.text })); });
    document.getElementById("form-problem-count").textContent = problems.length ? String(problems.length) : "无";
  }

  function save() {
    if (!editable) return;
    say("正在保存…");
    postJson(root.dataset.saveUrl, { text: raw.value, expected_revision: state.revision }).then(function (answer) {
      if (answer.status === 200) {
        state.revision = answer.body.revision;
        state.dirty = false;
        document.getElementById("form-revision").textContent = "第 " + answer.body.revision + " 版";
        Array.prototype.forEach.call(document.querySelectorAll('input[name="expected_revision"]'),
          function (input) { input.value = String(answer.body.revision); });
        showProblems(answer.body.problems);
        var bad = answer.body.problems.some(function (p) { return p.severity === "error"; });
        say(answer.body.message, bad ? "error" : "success");
        return;
      }
      // A conflict or a refusal: what was typed stays in the editor.
      say(answer.body.message || "未能保存（" + answer.status + "）", "error");
    }).catch(function () { say("无法连接服务器，未保存；您的修改仍在编辑器中", "error"); });
  }

  titleInput.addEventListener("input", function () {
    setOrDrop(state.schema, "title", titleInput.value.trim() ? titleInput.value : "");
    changed();
  });
  raw.addEventListener("input", function () {
    state.dirty = true;
    if (readRaw()) renderFields();
    schedulePreview();
  });
  document.getElementById("form-add-field").addEventListener("click", addField);
  document.getElementById("form-save").addEventListener("click", save);
  previewBox.addEventListener("submit", function (event) { event.preventDefault(); });
  window.addEventListener("beforeunload", function (event) {
    if (state.dirty && editable) { event.preventDefault(); event.returnValue = ""; }
  });

  if (readRaw()) renderFields(); else { document.getElementById("form-raw-section").open = true; setEditable(); }

  // For tests and the browser console.
  window.fengqiaoFormEditor = { state: state, save: save, refreshPreview: refreshPreview };
})();
