// A published version's BPMN drawn read-only (bpmn-js NavigatedViewer: pan and zoom, no editing), for the
// 流程热力图 and a case's 流程图. Pages pass the container and the XML; they add overlays and markers after.
(function () {
  'use strict';
  function readJson(id) {
    var source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : null;
  }

  // Resolves to the viewer once the diagram is drawn and fitted; rejects with a message for the page.
  function show(container, xml) {
    if (!window.BpmnJS) return Promise.reject(new Error('流程图组件未加载'));
    var viewer = new window.BpmnJS({container: container});
    return viewer.importXML(xml).then(function () {
      viewer.get('canvas').zoom('fit-viewport', 'auto');
      return viewer;
    }).catch(function (error) {
      throw new Error('流程图无法显示：' + (error && error.message ? error.message : error));
    });
  }

  // Element ids the diagram draws (a node measured elsewhere, e.g. in a called process, is skipped).
  function has(viewer, id) {
    return Boolean(viewer.get('elementRegistry').get(id));
  }

  window.fengqiaoDiagram = {show: show, readJson: readJson, has: has};
})();
