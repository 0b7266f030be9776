// The sales report's trend chart; the figures come from a json_script block.
(function () {
  var el = document.getElementById("chart-sales");
  var source = document.getElementById("data-sales");
  if (!el || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(el);
  var label = function (key) { return el.getAttribute("data-label-" + key) || key; };
  chart.setOption({
    grid: { left: 60, right: 16, top: 32, bottom: 40 },
    // Rendered in the canvas: the HTML tooltip writes inline style attributes, which the CSP forbids.
    tooltip: { trigger: "axis", renderMode: "richText" },
    legend: { top: 0 },
    animation: false,
    xAxis: { type: "category", data: data.map(function (d) { return d.day; }) },
    yAxis: { type: "value" },
    series: [
      { name: label("received"), type: "bar", data: data.map(function (d) { return Number(d.received); }), itemStyle: { color: "#2fb344" } },
      { name: label("refunded"), type: "bar", data: data.map(function (d) { return Number(d.refunded); }), itemStyle: { color: "#d63939" } },
      { name: label("net"), type: "line", data: data.map(function (d) { return Number(d.net); }), itemStyle: { color: "#d6336c" } }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
