// Dashboard charts; the figures come from json_script blocks rendered by the server.
(function () {
  function bar(id, dataId) {
    var el = document.getElementById(id);
    var source = document.getElementById(dataId);
    if (!el || !source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(el);
    chart.setOption({
      grid: { left: 40, right: 16, top: 16, bottom: 40 },
      // Rendered in the canvas: the HTML tooltip writes inline style attributes, which the CSP forbids.
      tooltip: { renderMode: "richText" },
      animation: false,
      xAxis: { type: "category", data: data.map(function (d) { return d.name; }), axisLabel: { interval: 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: data.map(function (d) { return d.value; }), itemStyle: { color: "#d6336c" } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  bar("chart-pipeline", "data-pipeline");
})();
