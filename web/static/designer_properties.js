/* 流程设计: the properties panel beside the BPMN canvas — what Fengqiao reads from an element
 * (engine/task_meta.py, engine/lint.py, engine/documents.py), written as <spiffworkflow:property>
 * entries and timer expressions. Every value is picked from a choice or typed as a number; timer
 * expressions are written from the timer kind, so a designer never types one. All writes go through
 * bpmn-js modeling, so they are on the undo stack and in the XML the page saves.
 * Plain script: defines window.FengqiaoPropertiesPanel(modeler, options), used by designer.js. */
(function () {
  "use strict";

  var DURATION = /^\s*([0-9]+)\s*(工作日|日|小时|分钟)\s*$/;
  var HELPER_CALL = /^\s*(warning_of|deadline_of|escalation_of)\(\s*["']([^"']*)["']\s*\)\s*$/;
  var FIXED_WAIT = /^\s*deadline\(\s*([0-9]+)\s*,\s*["'](工作日|日|小时|分钟)["']\s*\)\s*$/;

  // A timer kind decides the helper its timeDate calls and whether the task ends when it fires, as
  // processes/ use them: a warning or an overdue notice leaves the task with its handler, escalation
  // and expiry take the case away from it. `name` is the label a new timer gets on the diagram.
  var TIMER_KINDS = {
    warning: { helper: "warning_of", interrupting: false, name: "临期预警", counts: "预警时间（办理期限 × 预警比例）" },
    overdue: { helper: "deadline_of", interrupting: false, name: "超期", counts: "办理期限" },
    escalate: { helper: "escalation_of", interrupting: true, name: "逾期升级", counts: "升级期限" },
    expire: { helper: "deadline_of", interrupting: true, name: "期满", counts: "办理期限" }
  };
  var HELPER_TEXT = { warning_of: "预警时间", deadline_of: "办理期限", escalation_of: "升级期限" };

  // Elements whose `documents` the engine issues once they have happened (engine/documents.py).
  var DOCUMENT_HOSTS = ["bpmn:UserTask", "bpmn:ServiceTask", "bpmn:SendTask", "bpmn:ScriptTask", "bpmn:ManualTask",
    "bpmn:BusinessRuleTask", "bpmn:Task", "bpmn:CallActivity", "bpmn:IntermediateThrowEvent",
    "bpmn:IntermediateCatchEvent", "bpmn:BoundaryEvent", "bpmn:EndEvent"];
  var DOCUMENTS_WHEN = {
    task: "本环节办结时出具", taskTimer: "计时器到期时出具", timer: "计时器到期时出具",
    end: "流程到达此结束事件时出具", other: "流程经过此处时出具"
  };
  // Which parts of the panel each kind of element shows.
  var SECTIONS = {
    task: ["task", "timers", "documents"],
    taskTimer: ["timer", "documents"],
    timer: ["wait", "documents"],
    end: ["status", "documents"],
    other: ["documents"]
  };

  function byId(id) { return document.getElementById(id); }

  function timerDefinition(bo) {
    return (bo.eventDefinitions || []).find(function (d) { return d.$type === "bpmn:TimerEventDefinition"; }) || null;
  }

  function timerExpression(bo) {
    var definition = timerDefinition(bo);
    var expression = definition && (definition.timeDate || definition.timeDuration || definition.timeCycle);
    return expression ? (expression.body || "").trim() : "";
  }

  function kindOf(element) {
    if (!element || element.type === "label") return null;
    var bo = element.businessObject;
    if (element.type === "bpmn:UserTask") return "task";
    if ((element.type === "bpmn:BoundaryEvent" || element.type === "bpmn:IntermediateCatchEvent") && timerDefinition(bo)) {
      return element.host && element.host.type === "bpmn:UserTask" ? "taskTimer" : "timer";
    }
    if (element.type === "bpmn:EndEvent") return "end";
    return DOCUMENT_HOSTS.indexOf(element.type) >= 0 ? "other" : null;
  }

  function propertiesOf(bo) {
    var ext = bo.extensionElements;
    var container = ext && (ext.get("values") || []).find(function (v) { return v.$type === "spiffworkflow:Properties"; });
    var found = {};
    if (container) container.get("properties").forEach(function (p) { found[p.name] = p.value; });
    return found;
  }

  function documentList(value) {
    return (value || "").replace(/[，、]/g, ",").split(",")
      .map(function (part) { return part.trim(); }).filter(Boolean);
  }

  window.FengqiaoPropertiesPanel = function (modeler, options) {
    var moddle = modeler.get("moddle");
    var modeling = modeler.get("modeling");
    var bpmnFactory = modeler.get("bpmnFactory");
    var elementFactory = modeler.get("elementFactory");
    var elementRegistry = modeler.get("elementRegistry");
    var selection = modeler.get("selection");
    var form = byId("element-properties");
    var selected = null;
    var mode = "bpmn";

    var fields = {
      form: byId("prop-form"),
      role: byId("prop-role"),
      amount: byId("deadline-amount"),
      unit: byId("deadline-unit"),
      warnShare: byId("prop-warn-share"),
      escalateAmount: byId("escalate-amount"),
      escalateUnit: byId("escalate-unit"),
      extensionAmount: byId("extension-amount"),
      extensionUnit: byId("extension-unit"),
      maxExtensions: byId("prop-max-extensions"),
      pauseReasons: byId("prop-pause-reasons"),
      timerKind: byId("timer-kind"),
      timerInterrupting: byId("timer-interrupting"),
      waitAmount: byId("wait-amount"),
      waitUnit: byId("wait-unit"),
      caseStatus: byId("prop-case-status"),
      newTimerKind: byId("new-timer-kind")
    };
    var documentBoxes = Array.prototype.slice.call(form.querySelectorAll('input[name="documents"]'));

    // -- writing properties --------------------------------------------------------------------------

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
          return;
        }
        if (index >= 0 && list[index].value === value) return;
        var property = moddle.create("spiffworkflow:Property", { name: name, value: value });
        property.$parent = container;
        if (index >= 0) list[index] = property; else list.push(property);
      });
      modeling.updateModdleProperties(element, container, { properties: list });
    }

    function formalExpression(body, parent) {
      var expression = bpmnFactory.create("bpmn:FormalExpression", { body: body });
      if (parent) expression.$parent = parent;
      return expression;
    }

    // The only way the page writes a timer: a timeDate calling a calendar helper (engine/deadlines.py).
    function setTimerExpression(element, body) {
      var definition = timerDefinition(element.businessObject);
      modeling.updateModdleProperties(element, definition, {
        timeDate: formalExpression(body, definition), timeDuration: undefined, timeCycle: undefined
      });
    }

    function helperCall(kind, taskId) {
      return TIMER_KINDS[kind].helper + "(" + JSON.stringify(taskId) + ")";
    }

    function durationValue(amountField, unitField) {
      var amount = amountField.value.trim();
      if (amount === "") return "";
      if (!/^[0-9]+$/.test(amount)) {
        options.say("请填写整数（" + amountField.getAttribute("aria-label") + "）", "error");
        return null;
      }
      return String(parseInt(amount, 10)) + " " + unitField.value;
    }

    // -- showing an element ------------------------------------------------------------------------

    function chooseOption(select, value) {
      Array.prototype.slice.call(select.querySelectorAll("option[data-unknown]")).forEach(function (o) { o.remove(); });
      if (value && !Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
        var option = document.createElement("option");
        option.value = value;
        option.textContent = value + "（不存在）";
        option.dataset.unknown = "true";
        select.appendChild(option);
      }
      select.value = value || "";
    }

    function showDuration(value, amountField, unitField, defaultUnit) {
      var parsed = DURATION.exec(value || "");
      amountField.value = parsed ? parsed[1] : "";
      unitField.value = parsed ? parsed[2] : defaultUnit;
    }

    function showTask(element, props) {
      chooseOption(fields.form, props.form);
      chooseOption(fields.role, props.role);
      showDuration(props.deadline, fields.amount, fields.unit, "工作日");
      fields.warnShare.value = props.warn_share || "";
      showDuration(props.escalate_after, fields.escalateAmount, fields.escalateUnit, "日");
      showDuration(props.extension, fields.extensionAmount, fields.extensionUnit, "日");
      fields.maxExtensions.value = props.max_extensions || "";
      fields.pauseReasons.value = props.pause_reasons || "";
      var list = byId("timer-list");
      list.innerHTML = "";
      (element.attachers || []).filter(function (a) { return timerDefinition(a.businessObject); }).forEach(function (timer) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        var kind = propertiesOf(timer.businessObject).timer_kind;
        button.type = "button";
        button.className = "designer-timer-link";
        button.textContent = (timer.businessObject.name || timer.id) + "（" + (kindLabel(kind) || "未设置计时类型") + "）";
        button.addEventListener("click", function () { selection.select(timer); });
        item.appendChild(button);
        list.appendChild(item);
      });
      byId("timer-list-empty").hidden = list.children.length > 0;
    }

    function kindLabel(kind) {
      var option = kind && fields.timerKind.querySelector('option[value="' + kind + '"]');
      return option ? option.textContent : kind;
    }

    function showTaskTimer(element, props) {
      var expression = timerExpression(element.businessObject);
      var kind = props.timer_kind || "";
      chooseOption(fields.timerKind, kind);
      fields.timerKind.querySelector('option[value=""]').hidden = !!kind;
      fields.timerInterrupting.checked = element.businessObject.cancelActivity !== false;
      var note = byId("timer-expression");
      var call = HELPER_CALL.exec(expression);
      var host = element.host;
      var hostName = host.businessObject.name || host.id;
      if (call) {
        var target = elementRegistry.get(call[2]);
        var targetName = target ? (target.businessObject.name || target.id) : call[2];
        note.textContent = "到期时间：按「" + targetName + "」的" + HELPER_TEXT[call[1]] + "计算（" + expression + "）";
      } else if (expression) {
        note.textContent = "当前表达式：" + expression + "。选择计时类型后将改为按「" + hostName + "」的期限计算。";
      } else {
        note.textContent = "请选择计时类型，到期时间将按「" + hostName + "」的期限计算。";
      }
      var warnings = [];
      if (call && call[2] !== host.id) {
        warnings.push("计时器引用的是「" + call[2] + "」的期限，与所附环节「" + hostName + "」不一致；重新选择计时类型即可改正。");
      }
      if (kind === "escalate" && !propertiesOf(host.businessObject).escalate_after) {
        warnings.push("「" + hostName + "」尚未设置升级期限，请先选中该环节填写「升级期限」。");
      }
      var warning = byId("timer-warning");
      warning.textContent = warnings.join(" ");
      warning.hidden = !warnings.length;
    }

    function showWait(element) {
      var expression = timerExpression(element.businessObject);
      var fixed = FIXED_WAIT.exec(expression);
      fields.waitAmount.value = fixed ? fixed[1] : "";
      fields.waitUnit.value = fixed ? fixed[2] : "日";
      byId("wait-expression").textContent = expression && !fixed
        ? "当前表达式：" + expression + "。填写时长后将改为按工作日历计算的时长。" : "";
    }

    function showDocuments(kind, props) {
      var chosen = documentList(props.documents);
      documentBoxes.forEach(function (box) { box.checked = chosen.indexOf(box.value) >= 0; });
      var unknown = chosen.filter(function (code) {
        return !documentBoxes.some(function (box) { return box.value === code; });
      });
      var note = byId("documents-unknown");
      note.textContent = unknown.length ? "未知的文书类型：" + unknown.join("、") + "（保存时会报告）" : "";
      note.hidden = !unknown.length;
      byId("documents-when").textContent = DOCUMENTS_WHEN[kind];
    }

    function show(element) {
      selected = element;
      var kind = mode === "bpmn" ? kindOf(element) : null;
      form.hidden = !kind;
      byId("properties-empty").hidden = !!kind || mode !== "bpmn";
      byId("properties-dmn").hidden = mode !== "dmn";
      if (!kind) return;
      var bo = element.businessObject;
      var props = propertiesOf(bo);
      byId("properties-title").textContent = (bo.name || element.id) + "（" + element.id + "）";
      Array.prototype.forEach.call(form.querySelectorAll("[data-section]"), function (section) {
        section.hidden = SECTIONS[kind].indexOf(section.dataset.section) < 0;
      });
      if (kind === "task") showTask(element, props);
      if (kind === "taskTimer") showTaskTimer(element, props);
      if (kind === "timer") showWait(element);
      if (kind === "end") fields.caseStatus.value = props.case_status || "concluded";
      showDocuments(kind, props);
      var editable = options.isEditable();
      Array.prototype.forEach.call(form.elements, function (field) { field.disabled = !editable; });
    }

    // -- applying a change -----------------------------------------------------------------------

    // After a change the panel is drawn again from the model, so derived texts (the timer's
    // expression, the timer list) follow and a value the model normalised shows as stored.
    function apply(change) {
      if (!selected || !options.isEditable()) return;
      change(selected);
      show(selected);
    }

    function onChange(field, change) {
      field.addEventListener("change", function () { apply(change); });
    }

    function durationField(name, amountField, unitField) {
      function write(element) {
        var value = durationValue(amountField, unitField);
        if (value !== null) { var changes = {}; changes[name] = value; setProperties(element, changes); }
      }
      onChange(amountField, write);
      onChange(unitField, write);
    }

    onChange(fields.form, function (element) { setProperties(element, { form: fields.form.value }); });
    onChange(fields.role, function (element) { setProperties(element, { role: fields.role.value }); });
    durationField("deadline", fields.amount, fields.unit);
    durationField("escalate_after", fields.escalateAmount, fields.escalateUnit);
    durationField("extension", fields.extensionAmount, fields.extensionUnit);
    onChange(fields.warnShare, function (element) { setProperties(element, { warn_share: fields.warnShare.value.trim() }); });
    onChange(fields.maxExtensions, function (element) {
      var value = fields.maxExtensions.value.trim();
      if (value !== "" && !/^[0-9]+$/.test(value)) { options.say("最多延期次数应为整数", "error"); return; }
      setProperties(element, { max_extensions: value === "" ? "" : String(parseInt(value, 10)) });
    });
    onChange(fields.pauseReasons, function (element) {
      setProperties(element, { pause_reasons: documentList(fields.pauseReasons.value).join(",") });
    });

    onChange(fields.timerKind, function (element) {
      var kind = fields.timerKind.value;
      if (!TIMER_KINDS[kind]) return;
      setProperties(element, { timer_kind: kind });
      setTimerExpression(element, helperCall(kind, element.host.id));
      if (element.type === "bpmn:BoundaryEvent") {
        modeling.updateProperties(element, { cancelActivity: TIMER_KINDS[kind].interrupting });
      }
    });
    onChange(fields.timerInterrupting, function (element) {
      modeling.updateProperties(element, { cancelActivity: fields.timerInterrupting.checked });
    });

    function writeWait(element) {
      var amount = fields.waitAmount.value.trim();
      if (!/^[0-9]+$/.test(amount)) { options.say("请填写等待时长（整数）", "error"); return; }
      setTimerExpression(element, "deadline(" + parseInt(amount, 10) + ", " + JSON.stringify(fields.waitUnit.value) + ")");
    }
    onChange(fields.waitAmount, writeWait);
    onChange(fields.waitUnit, writeWait);

    onChange(fields.caseStatus, function (element) { setProperties(element, { case_status: fields.caseStatus.value }); });

    // Keep the order already written (the engine issues documents in it) and add new ones at the end.
    documentBoxes.forEach(function (box) {
      onChange(box, function (element) {
        var list = documentList(propertiesOf(element.businessObject).documents)
          .filter(function (code) { return code !== box.value; });
        if (box.checked) list.push(box.value);
        setProperties(element, { documents: list.join(",") });
      });
    });

    // -- adding a timer to a user task -----------------------------------------------------------

    function freeId(base) {
      var id = base, n = 2;
      while (elementRegistry.get(id)) { id = base + "_" + n; n += 1; }
      return id;
    }

    // A free spot on the task's bottom edge, left to right, so new timers do not hide each other.
    function boundaryPosition(task) {
      var taken = (task.attachers || []).map(function (a) { return a.x + a.width / 2; });
      for (var x = task.x + 18; x <= task.x + task.width - 18; x += 40) {
        if (!taken.some(function (t) { return Math.abs(t - x) < 30; })) return { x: x, y: task.y + task.height };
      }
      return { x: task.x + task.width / 2, y: task.y };
    }

    function addTimer(task, kind) {
      var spec = TIMER_KINDS[kind];
      var bo = bpmnFactory.create("bpmn:BoundaryEvent", { id: freeId(task.id + "_" + kind), name: spec.name });
      var property = moddle.create("spiffworkflow:Property", { name: "timer_kind", value: kind });
      var container = moddle.create("spiffworkflow:Properties", { properties: [property] });
      var ext = moddle.create("bpmn:ExtensionElements", { values: [container] });
      property.$parent = container;
      container.$parent = ext;
      ext.$parent = bo;
      bo.extensionElements = ext;
      // One command: the timer appears already configured, and one undo removes it.
      var shape = elementFactory.createShape({
        type: "bpmn:BoundaryEvent", businessObject: bo, cancelActivity: spec.interrupting,
        eventDefinitionType: "bpmn:TimerEventDefinition",
        eventDefinitionAttrs: { timeDate: formalExpression(helperCall(kind, task.id)) }
      });
      var created = modeling.createShape(shape, boundaryPosition(task), task, { attach: true });
      selection.select(created);
      return created;
    }

    byId("add-timer").addEventListener("click", function () {
      var kind = fields.newTimerKind.value;
      apply(function (element) {
        if (element.type !== "bpmn:UserTask" || !TIMER_KINDS[kind]) return;
        addTimer(element, kind);
        options.say("已在「" + (element.businessObject.name || element.id) + "」上添加计时器：" + kindLabel(kind));
      });
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); });

    // -- following the canvas --------------------------------------------------------------------

    modeler.on("selection.changed", function (event) {
      show(event.newSelection.length === 1 ? event.newSelection[0] : null);
    });
    // An undo, or a change made on the canvas, shows in the panel unless the user is typing in it.
    modeler.on("elements.changed", function (event) {
      if (!selected || form.contains(document.activeElement)) return;
      var related = event.elements.some(function (e) { return e === selected || e === selected.host; });
      if (related) show(elementRegistry.get(selected.id) || null);
    });

    return {
      show: show,
      // "bpmn" while a diagram is open, "dmn" while a decision table is: the panel then only explains.
      setMode: function (next) { mode = next; show(null); },
      propertiesOf: propertiesOf
    };
  };
})();
