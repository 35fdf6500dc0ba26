// modelbook champion/challenger view: the static sections, with the distribution chart (SVG
// drawn by the kernel for the page's theme) between the agreement table and the quality table.
function render({ model, el: root }) {
  const box = el("div", { class: "mbw mbw-comparison" });
  const head = el("div");
  const agreement = el("div");
  const chart = el("div", { class: "mbw-chart" });
  const rest = el("div");
  box.append(head, agreement, chart, rest);
  root.append(box);
  head.innerHTML = model.get("header_html");  // static HTML rendered by the kernel
  agreement.innerHTML = model.get("agreement_html");
  rest.innerHTML = model.get("sections_html");
  const draw = () => { chart.innerHTML = model.get("chart_svg"); };
  model.on("change:chart_svg", draw);
  draw();
  return followTheme(model);
}

export default { render };
