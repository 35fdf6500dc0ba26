// modelbook diff view: sections as <details> (collapsible), version columns side by side,
// rows marked added / removed / changed.
const MARKS = { added: "mbw-add", removed: "mbw-del", changed: "mbw-chg" };

function section(s) {
  const details = el("details", { class: "mbw-section" });
  if (s.open) details.open = true;
  details.append(el("summary", {}, s.title));
  if (s.type === "code") {
    const pre = el("pre");
    for (const line of s.text.split("\n")) {
      const cls = line.startsWith("+") && !line.startsWith("+++") ? "mbw-add"
        : line.startsWith("-") && !line.startsWith("---") ? "mbw-del" : "";
      pre.append(el("span", cls ? { class: cls } : {}, line + "\n"));
    }
    details.append(pre);
    return details;
  }
  if (!s.rows.length) {
    details.append(el("p", { class: "muted" }, "no changes"));
    return details;
  }
  const table = el("table");
  const head = el("tr");
  for (const c of s.columns) head.append(el("th", {}, c));
  table.append(el("thead"), el("tbody"));
  table.tHead.append(head);
  for (const row of s.rows) {
    const tr = el("tr", row.mark ? { class: MARKS[row.mark] || "" } : {});
    for (const cell of row.cells) tr.append(el("td", {}, cell));
    table.tBodies[0].append(tr);
  }
  details.append(table);
  return details;
}

function render({ model, el: root }) {
  const box = el("div", { class: "mbw mbw-diff" });
  root.append(box);
  function draw() {
    box.replaceChildren(
      el("h3", {}, model.get("title")),
      el("p", { class: "muted" }, model.get("subtitle")),
      ...model.get("sections").map(section),
    );
  }
  model.on("change:sections", draw);
  model.on("change:title", draw);
  draw();
}

export default { render };
