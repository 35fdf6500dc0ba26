// modelbook drift view: sortable, filterable column table; choosing a column asks the kernel
// for its distribution chart (SVG), so no charting library is loaded in the browser.
const COLS = [
  ["column", "column", false], ["kind", "kind", false], ["test", "test", false],
  ["statistic", "statistic", true], ["threshold", "threshold", true],
  ["p_value", "p-value", true], ["status", "status", false],
];

function fmt(v) {
  if (v === null || v === undefined) return "";
  if (typeof v !== "number") return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toPrecision(3);
  return String(Number(v.toPrecision(4)));
}

function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

function render({ model, el: root }) {
  let sortKey = null;
  let sortAsc = true;
  let filter = "";
  const box = el("div", { class: "mbw mbw-drift" });
  const title = el("h3");
  const summary = el("p", { class: "mbw-summary" });
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
  const chart = el("div", { class: "mbw-chart" });
  const reason = el("p", { class: "muted mbw-reason" });
  chartBox.append(chartTitle, chart, reason);
  body.append(tableBox, chartBox);
  box.append(title, summary, bar, body);
  root.append(box);

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

  function drawHead() {
    title.textContent = model.get("title");
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
  model.on("change:title", drawHead);
  drawHead();
  drawRows();
  drawChart();
}

export default { render };
