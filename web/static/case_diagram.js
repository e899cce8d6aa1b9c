// A case's 流程图: completed tasks outlined green (path-done), the tasks it is at now orange (path-current).
(function () {
  'use strict';
  var diagram = window.fengqiaoDiagram;
  var container = document.getElementById('case-path-canvas');
  var status = document.getElementById('case-path-status');
  if (!diagram || !container) return;
  var xml = diagram.readJson('case-path-diagram');
  var markers = diagram.readJson('case-path-markers');
  if (!xml || !markers) return;
  diagram.show(container, xml).then(function (viewer) {
    var canvas = viewer.get('canvas');
    ['done', 'current'].forEach(function (kind) {
      markers[kind].forEach(function (id) {
        if (diagram.has(viewer, id)) canvas.addMarker(id, 'path-' + kind);
      });
    });
    container.dataset.drawn = 'true';
  }).catch(function (error) {
    container.hidden = true;
    status.textContent = error.message + '。已办与当前环节见下方列表。';
  });
})();
