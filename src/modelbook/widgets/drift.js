// modelbook drift and monitor views.
//
// Drift: a sortable, filterable column table (p-value and verdict per row); choosing a column
// asks the kernel for its distribution chart (SVG; its subtitle repeats the column's verdict),
// so no charting library loads in the browser.
// Monitor: the static report's sections in its order (HTML made by the kernel, the same as the
// saved report), with the drift section replaced by the live drift view.
// Both report the JupyterLab theme to the kernel ("theme" trait), which redraws the charts.
const COLS = [
  ["column", "column", false], ["kind", "kind", false], ["test", "test", false],
  ["statistic", "statistic", true], ["threshold", "threshold", true],
  ["p_value", "p-value", true], ["status", "status", false], ["verdict", "verdict", false],
];

function fmt(v) {
  if (v === null || v === undefined) return "";
  if (typeof v !== "number") return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toPrecision(3);
  return String(Number(v.toPrecision(4)));
}

function driftView(model, { heading }) {
  let sortKey = null;
  let sortAsc = true;
  let filter = "";
  const box = el("div", { class: "mbw-drift-view" });
  const title = el(heading);
  const summary = el("p", { class: "mbw-summary" });
  const overview = el("div", { class: "mbw-chart mbw-overview" });
  const bar = el("div", { class: "mbw-bar" });
  const search = el("input", { type: "search", placeholder: "filter columns", "aria-label": "filter columns" });
  const toggleLabel = el("label");
  const toggle = el("input", { type: "checkbox", class: "mbw-drifted-only" });
  toggleLabel.append(toggle, document.createTextNode(" drifted only"));
  const count = el("span", { class: "muted mbw-count" });
  bar.append(search, toggleLabel, count);
  const body = el("div", { class: "mbw-body" });
  const tableBox = el("div", { class: "mbw-table" });
  const table = el("table");
  const thead = el("thead");
  const tbody = el("tbody");
  table.append(thead, tbody);
  tableBox.append(table);
  const chartBox = el("div", { class: "mbw-chart-box" });
  const chartTitle = el("div", { class: "muted mbw-chart-title" });
  const chart = el("div", { class: "mbw-chart mbw-distribution" });
  const reason = el("p", { class: "muted mbw-reason" });
  chartBox.append(chartTitle, chart, reason);
  body.append(tableBox, chartBox);
  box.append(title, summary, overview, bar, body);

  const headRow = el("tr");
  for (const [key, label, numeric] of COLS) {
    const th = el("th", { "data-key": key }, label);
    th.addEventListener("click", () => {
      if (sortKey === key) sortAsc = !sortAsc; else { sortKey = key; sortAsc = !numeric; }
      drawRows();
    });
    headRow.append(th);
  }
  thead.append(headRow);

  function visibleRows() {
    let rows = model.get("rows").slice();
    if (model.get("drifted_only")) rows = rows.filter((r) => r.status === "drifted");
    if (filter) rows = rows.filter((r) => r.column.toLowerCase().includes(filter));
    if (sortKey) {
      rows.sort((a, b) => {
        const x = a[sortKey], y = b[sortKey];
        if (x === y) return 0;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        const c = x < y ? -1 : 1;
        return sortAsc ? c : -c;
      });
    }
    return rows;
  }

  function drawRows() {
    const rows = visibleRows();
    const selected = model.get("selected");
    tbody.replaceChildren();
    for (const r of rows) {
      const tr = el("tr", { "data-column": r.column });
      if (r.column === selected) tr.classList.add("mbw-selected");
      for (const [key, , numeric] of COLS) {
        const td = el("td", numeric ? { class: "num" } : {}, fmt(r[key]));
        if (key === "status") td.className = r.status === "drifted" ? "drifted" : r.status === "ok" ? "ok" : "muted";
        if (key === "verdict") td.className = "mbw-verdict-cell";
        tr.append(td);
      }
      tr.addEventListener("click", () => {
        model.set("selected", r.column);
        model.save_changes();
      });
      tbody.append(tr);
    }
    for (const th of thead.querySelectorAll("th")) {
      const key = th.getAttribute("data-key");
      const label = COLS.find((c) => c[0] === key)[1];
      th.textContent = key === sortKey ? `${label} ${sortAsc ? "▲" : "▼"}` : label;
    }
    count.textContent = `${rows.length} of ${model.get("rows").length} columns`;
  }

  function drawChart() {
    const name = model.get("selected");
    const row = model.get("rows").find((r) => r.column === name);
    chartTitle.textContent = name ? `distribution of ${name}: reference vs current` : "";
    chart.innerHTML = model.get("chart_svg");  // SVG rendered by vl-convert in the kernel
    reason.textContent = row ? row.reason : "";
    for (const tr of tbody.querySelectorAll("tr")) {
      tr.classList.toggle("mbw-selected", tr.getAttribute("data-column") === name);
    }
  }

  function drawOverview() {
    overview.innerHTML = model.get("overview_svg") || "";  // absent on the plain drift widget
  }

  function drawHead() {
    title.textContent = heading === "h3" ? model.get("title") : "Data drift";
    summary.textContent = model.get("summary");
    toggle.checked = model.get("drifted_only");
  }

  search.addEventListener("input", () => { filter = search.value.toLowerCase(); drawRows(); });
  toggle.addEventListener("change", () => {
    model.set("drifted_only", toggle.checked);
    model.save_changes();
    drawRows();
  });
  model.on("change:rows", drawRows);
  model.on("change:drifted_only", () => { drawHead(); drawRows(); });
  model.on("change:selected", drawChart);
  model.on("change:chart_svg", drawChart);
  model.on("change:overview_svg", drawOverview);
  model.on("change:title", drawHead);
  model.on("change:summary", drawHead);
  drawHead();
  drawRows();
  drawChart();
  drawOverview();
  return box;
}

function monitorView(model) {
  const box = el("div", { class: "mbw mbw-monitor" });
  function draw() {
    box.replaceChildren();
    box.setAttribute("data-status", model.get("status"));
    for (const s of model.get("sections")) {
      const part = el("div", { class: "mbw-section", "data-mb-section": s.key });
      if (s.key === "drift") {
        part.classList.add("mbw-drift");
        part.append(driftView(model, { heading: "h4" }));
      } else {
        part.innerHTML = s.html;  // the static report's section, made by the kernel
      }
      box.append(part);
    }
  }
  draw();  // the sections are fixed when the widget is made
  return box;
}

function render({ model, el: root }) {
  const sections = model.get("sections");
  if (Array.isArray(sections)) {
    root.append(monitorView(model));
  } else {
    const box = el("div", { class: "mbw mbw-drift" });
    box.append(driftView(model, { heading: "h3" }));
    root.append(box);
  }
  return followTheme(model);
}

export default { render };
