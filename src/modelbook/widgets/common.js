// Shared by the modelbook widget views (prepended to each view's module by assets.py):
// a DOM helper and the JupyterLab theme, reported to the kernel, which redraws charts.
function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

/** "dark" when JupyterLab (or Notebook 7) shows a dark theme, else "light". */
function pageTheme() {
  const light = document.body.dataset.jpThemeLight;
  if (light === "false") return "dark";
  if (light === "true") return "light";
  const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  return dark ? "dark" : "light";
}

/** Keep the model's "theme" in step with the page (the kernel redraws the chart for it);
 * returns a function that stops watching. */
function followTheme(model) {
  const sync = () => {
    const theme = pageTheme();
    if (model.get("theme") !== theme) {
      model.set("theme", theme);
      model.save_changes();
    }
  };
  sync();
  const observer = new MutationObserver(sync);
  observer.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light"] });
  return () => observer.disconnect();
}
