// modelbook timeline view: the static header, a metric picker, the performance chart and the
// drift strip (SVG drawn by the kernel), and the chunk table.
function render({ model, el: root }) {
  const box = el("div", { class: "mbw mbw-timeline" });
  const head = el("div");
  const bar = el("div", { class: "mbw-bar" });
  const select = el("select", { "aria-label": "metric" });
  bar.append(el("span", {}, "chart:"), select);
  const chart = el("div", { class: "mbw-chart" });
  const strip = el("div", { class: "mbw-chart" });
  const table = el("div");
  box.append(head, bar, chart, strip, table);
  root.append(box);

  function drawHead() {
    head.innerHTML = model.get("header_html");  // static HTML rendered by the kernel
    select.replaceChildren(...model.get("metrics").map((m) => el("option", { value: m }, m)));
    select.value = model.get("metric");
    table.innerHTML = model.get("table_html");
  }
  function drawCharts() {
    chart.innerHTML = model.get("chart_svg");
    strip.innerHTML = model.get("heatmap_svg");
  }
  select.addEventListener("change", () => { model.set("metric", select.value); model.save_changes(); });
  model.on("change:metric", () => { select.value = model.get("metric"); });
  model.on("change:chart_svg", drawCharts);
  model.on("change:heatmap_svg", drawCharts);
  drawHead();
  drawCharts();
  return followTheme(model);
}

export default { render };
