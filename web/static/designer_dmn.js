/* 流程设计: decision tables (.dmn) in the dmn-js Modeler, shown in place of the BPMN canvas.
 * dmn-js is a 1 MB UMD bundle (global DmnJS): it is loaded the first time a .dmn file is opened.
 * Problems of the open table are outlined on their cells by a generated style sheet, which survives
 * the table re-rendering itself after every edit.
 * Plain script: defines window.FengqiaoDmnEditor(options), used by designer.js. */
(function () {
  "use strict";

  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = url;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("无法加载决策表编辑器（" + url + "）")); };
      document.head.appendChild(script);
    });
  }

  function cssString(text) {
    return '"' + String(text).replace(/["\\]/g, "\\$&").replace(/\n/g, " ") + '"';
  }

  // options: container (element), scriptUrl, onEdit() — called on every edit of the open table.
  window.FengqiaoDmnEditor = function (options) {
    var modeler = null;
    var loading = null;
    var watched = [];
    var markers = document.createElement("style");
    document.head.appendChild(markers);

    function ready() {
      if (modeler) return Promise.resolve(modeler);
      if (!loading) {
        loading = (typeof window.DmnJS === "function" ? Promise.resolve() : loadScript(options.scriptUrl))
          .then(function () {
            if (typeof window.DmnJS !== "function") throw new Error("决策表编辑器未加载：请运行 scripts/setup.sh");
            // No input debounce: a cell typed into and saved at once must not lose its last 300 ms.
            modeler = new window.DmnJS({ container: options.container, common: { debounceInput: false } });
            modeler.on("views.changed", watchActiveViewer);
            return modeler;
          })
          .catch(function (error) { loading = null; throw error; });
      }
      return loading;
    }

    // Each view type (table, DRD, literal expression) has its own viewer and command stack.
    function watchActiveViewer() {
      var viewer = modeler.getActiveViewer();
      if (!viewer || watched.indexOf(viewer) >= 0) return;
      watched.push(viewer);
      viewer.on("commandStack.changed", function (event) {
        if (event.trigger !== "clear") options.onEdit();
      });
    }

    // Open the XML; a file with one decision table opens on the table, not on an empty diagram.
    function open(xml) {
      return ready().then(function (m) {
        return m.importXML(xml).then(function (result) {
          var table = m.getViews().find(function (view) { return view.type === "decisionTable"; });
          var active = m.getActiveView();
          var opened = table && (!active || active.type !== "decisionTable") ? m.open(table) : Promise.resolve();
          return opened.then(function () { watchActiveViewer(); return result.warnings || []; });
        });
      });
    }

    function saveXML() {
      return modeler.saveXML({ format: true }).then(function (result) { return result.xml; });
    }

    // Bring the cell (a rule entry, an input, an output) into sight and put the cursor in it; the
    // table's own cell selection follows the focus.
    function select(elementId) {
      var selector = '[data-element-id="' + CSS.escape(elementId) + '"]';
      var cell = options.container.querySelector(selector);
      if (!cell) return false;
      cell.scrollIntoView({ block: "center" });
      // After the table has drawn itself: a cell focused while it first renders loses the focus.
      window.requestAnimationFrame(function () {
        var target = options.container.querySelector(selector + ' [contenteditable="true"]');
        if (target) target.focus();
      });
      return true;
    }

    // problems: those of the open file; each one with an element id outlines that cell.
    function showProblems(problems) {
      var rules = [];
      problems.forEach(function (problem) {
        if (!problem.element_id) return;
        var selector = '[data-element-id="' + CSS.escape(problem.element_id) + '"]';
        var colour = problem.severity === "error" ? "#c62828" : "#e06c00";
        rules.push(".fq-dmn " + selector + " { outline: 2px solid " + colour + "; outline-offset: -2px; "
          + "background: " + (problem.severity === "error" ? "#fdecea" : "#fff4e5") + "; }");
        rules.push(".fq-dmn " + selector + "::after { content: " + cssString(problem.message) + "; display: block; "
          + "color: " + colour + "; font-size: 11px; white-space: normal; }");
      });
      markers.textContent = rules.join("\n");
    }

    return { open: open, saveXML: saveXML, select: select, showProblems: showProblems, ready: ready,
      modeler: function () { return modeler; } };
  };
})();
