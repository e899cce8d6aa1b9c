// 流程热力图: each user task of the diagram gets a badge (等待 · 中位 · P90) and its heat colour as a marker.
// The numbers come from the page (#heatmap-overlays), the same ones the table below shows.
(function () {
  'use strict';
  var diagram = window.fengqiaoDiagram;
  var container = document.getElementById('heatmap-canvas');
  var status = document.getElementById('heatmap-status');
  if (!diagram || !container) return;
  var xml = diagram.readJson('heatmap-diagram');
  var data = diagram.readJson('heatmap-overlays');
  if (!xml || !data) return;

  diagram.show(container, xml).then(function (viewer) {
    var overlays = viewer.get('overlays');
    var canvas = viewer.get('canvas');
    data.nodes.forEach(function (node) {
      if (!diagram.has(viewer, node.id)) return;
      canvas.addMarker(node.id, 'heat-level-' + node.level);
      var badge = document.createElement(node.waiting ? 'a' : 'span');
      badge.className = 'heat-badge heat-level-' + node.level;
      // Two lines keep the badge about as wide as the task: 等待 N / 中位 x 小时 · P90 y 小时.
      var parts = node.badge.split(' · ');
      var first = document.createElement('strong');
      first.textContent = parts[0];
      badge.appendChild(first);
      badge.appendChild(document.createElement('br'));
      badge.appendChild(document.createTextNode(parts.slice(1).join(' · ')));
      badge.setAttribute('aria-label', node.name + '：' + node.badge);
      badge.title = node.name + '：' + node.badge + '（周期内办结 ' + node.completed + ' 件）';
      badge.dataset.element = node.id;
      if (node.waiting) badge.href = node.timers_href;
      // The badge shrinks with the diagram but stays legible when the whole flow is fitted in view.
      overlays.add(node.id, 'heat', {position: {top: 84, left: -20}, scale: {min: 0.8}, html: badge});
    });
    container.dataset.drawn = 'true';
    window.fengqiaoHeatmap = {viewer: viewer};
  }).catch(function (error) {
    container.hidden = true;
    status.textContent = error.message + '。请查看下表中的数据。';
  });
})();
