// 驾驶舱 trend chart: 受理量 and 办结 as bars, 化解成功 as a line, per month. Clicking a point opens the
// case list of that month (the URLs come from the server, so a point and its list count alike).
// Without ECharts (web/designer/node_modules not installed) the table below the chart still shows it all.
(function () {
  'use strict';
  // Picking a month, week, quarter or year drops a custom range left in the date inputs (it would win).
  var periodSelect = document.getElementById('period');
  if (periodSelect) {
    periodSelect.addEventListener('change', function () {
      document.getElementById('from').value = '';
      document.getElementById('to').value = '';
    });
  }
  var container = document.getElementById('trend-chart');
  var source = document.getElementById('trend-data');
  if (!container || !source) return;
  if (!window.echarts) {
    container.hidden = true;
    return;
  }
  var data = JSON.parse(source.textContent);
  var chart = window.echarts.init(container, null, {renderer: 'canvas'});
  chart.setOption({
    tooltip: {trigger: 'axis'},
    legend: {data: data.series.map(function (s) { return s.name; })},
    grid: {left: 48, right: 24, top: 40, bottom: 32},
    xAxis: {type: 'category', data: data.months},
    yAxis: {type: 'value', minInterval: 1, name: '件'},
    series: data.series.map(function (s) {
      return {name: s.name, type: s.key === 'resolved' ? 'line' : 'bar', data: s.data,
              cursor: 'pointer', emphasis: {focus: 'series'}};
    })
  });
  chart.on('finished', function () { container.dataset.drawn = 'true'; });  // animation over: bars are in place
  chart.on('click', function (params) {
    var series = data.series[params.seriesIndex];
    if (series && series.urls[params.dataIndex]) window.location.href = series.urls[params.dataIndex];
  });
  window.addEventListener('resize', function () { chart.resize(); });
  window.fengqiaoCockpit = {chart: chart};
})();
