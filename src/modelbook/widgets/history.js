// modelbook history view: a metric picker, the chart (SVG from the kernel), the alert runs.
function render({ model, el: root }) {
  const box = el("div", { class: "mbw mbw-history" });
  const title = el("h3");
  const bar = el("div", { class: "mbw-bar" });
  const select = el("select", { "aria-label": "metric" });
  bar.append(el("span", {}, "metric:"), select);
  const chart = el("div", { class: "mbw-chart" });
  const alerts = el("div");
  box.append(title, bar, chart, alerts);
  root.append(box);

  function drawHead() {
    title.textContent = model.get("title");
    select.replaceChildren(...model.get("metrics").map((m) => el("option", { value: m }, m)));
    select.value = model.get("metric");
  }
  function drawChart() {
    chart.innerHTML = model.get("chart_svg");  // SVG rendered by vl-convert in the kernel
  }
  function drawAlerts() {
    const rows = model.get("alerts");
    alerts.replaceChildren();
    if (!rows.length) return;
    const table = el("table");
    const head = el("tr");
    const periods = rows.some((r) => r.period);
    const names = ["started", ...(periods ? ["period"] : []), "version", "status", "drift share", "alerts"];
    for (const c of names) head.append(el("th", {}, c));
    table.append(head);
    for (const r of rows) {
      const tr = el("tr");
      tr.append(el("td", {}, r.started));
      if (periods) tr.append(el("td", {}, r.period || ""));
      tr.append(el("td", {}, String(r.version)),
        el("td", { class: r.status === "alert" ? "alert" : "muted" }, r.status),
        el("td", {}, r.drift_share === null ? "" : `${Math.round(r.drift_share * 100)}%`),
        el("td", {}, String(r.alerts)));
      table.append(tr);
    }
    alerts.append(el("h4", {}, "runs with alerts"), table);
  }
  select.addEventListener("change", () => { model.set("metric", select.value); model.save_changes(); });
  model.on("change:metric", () => { select.value = model.get("metric"); });
  model.on("change:chart_svg", drawChart);
  model.on("change:alerts", drawAlerts);
  drawHead();
  drawChart();
  drawAlerts();
  return followTheme(model);
}

export default { render };
