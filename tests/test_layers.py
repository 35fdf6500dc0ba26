"""The layers of the package, as a contract over its import graph (``../shared/DESIGN.md``).

The graph is read from the source with :mod:`ast`: every ``import`` and ``from … import`` in a
module, at the top or inside a function (a function-level import is still a dependency; it only
runs later), except those under ``if TYPE_CHECKING:``, which exist for the type checker alone.

The rules:

(a) **Nothing below the facade imports it.** ``modelbook.api`` (and the package root, which
    re-exports it) is imported only by the shells over it, which make one API call per command:
    ``modelbook/__init__.py``, ``__main__.py``, ``cli.py`` (the ``modelbook`` command),
    ``magics.py`` (``%register``, ``%monitor``, ``%modelbook``) and ``server/*`` (the lab
    sidebar's REST API). The engine (``catalog``, ``registry``, ``capture``, ``stats``,
    ``monitoring``, ``version_diff``, ``run_history``, ``alerts``, ``scheduled``…) calls
    :mod:`modelbook.catalog` for register/load/show, never the facade, and never the shells.
(b) **Rendering is a function of a result.** ``render/*`` imports, from the rest of the package,
    only what results are made of: ``results``, ``errors``, ``config``, ``display`` (which
    picks widget or static output), and the result dataclasses it renders, by name, from the
    module that defines them (``MonitorReport`` from ``monitoring.report``, ``DatasetDiff`` from
    ``version_diff``…). Nothing that computes or stores: no ``registry``, ``capture``,
    ``stats`` or ``monitoring`` function, no ``catalog``, no ``api``.
(c) **The engine never imports IPython.** Only ``magics.py``, ``widgets/*`` and ``server/*``
    (which run inside Jupyter) may.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import modelbook

SRC = Path(modelbook.__file__).parent

#: Modules that are shells over the facade: they alone may import ``modelbook.api``.
SHELLS = ("modelbook", "modelbook.__main__", "modelbook.api", "modelbook.cli", "modelbook.magics")
SHELL_PACKAGES = ("modelbook.server",)

#: What render/* may import from outside render/ (any name).
RENDER_MAY_IMPORT = (
    "modelbook.results",
    "modelbook.errors",
    "modelbook.config",
    "modelbook.display",
)
#: Result dataclasses render/* may import by name from the engine module that defines them.
RESULT_TYPES = {
    "modelbook.monitoring.report": {"CheckResult", "MonitorReport"},
    "modelbook.monitoring.timeline": {"MonitorTimeline", "TimelineAlert"},
    "modelbook.stats.drift": {"ColumnDrift", "DatasetDrift"},
    "modelbook.version_diff": {"DatasetDiff", "ModelDiff", "PredictionDiff", "RowChanges"},
    "modelbook.run_history": {"HistoryReport", "HistoryRun"},
    "modelbook.late_labels": {"FeedbackReport", "FeedbackRun"},
    "modelbook.policies": {"PolicyAction", "PolicyState", "PolicyStatus"},
    "modelbook.monitoring.challenger": {"ChallengerComparison", "Comparison"},
}

#: Modules that may import IPython (they run inside Jupyter).
IPYTHON_ALLOWED = ("modelbook.magics", "modelbook.widgets", "modelbook.server")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module ('IPython', 'modelbook.api', ...)
    names: tuple[str, ...]  # names taken from it ('from x import a, b'); () for 'import x'
    line: int

    def __str__(self) -> str:
        what = f" ({', '.join(self.names)})" if self.names else ""
        return f"{self.module}:{self.line} imports {self.target}{what}"


def _module_name(src: Path, path: Path) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """Nodes under ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


def import_graph(src: Path = SRC) -> list[Import]:
    """Every runtime import in the package at ``src`` (top level and inside functions)."""
    paths = {_module_name(src, p): p for p in sorted(src.rglob("*.py"))}
    found: list[Import] = []
    for name, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        skipped = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                found += [Import(name, a.name, (), node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from .x import y
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                names = tuple(a.name for a in node.names)
                # 'from modelbook import catalog' imports the module modelbook.catalog.
                modules = [n for n in names if f"{target}.{n}" in paths]
                found += [Import(name, f"{target}.{n}", (), node.lineno) for n in modules]
                rest = tuple(n for n in names if n not in modules)
                if rest:
                    found.append(Import(name, target, rest, node.lineno))
    return found


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def facade_violations(graph: list[Import]) -> list[str]:
    """Rule (a): imports of the facade (or a shell) by a module below it."""
    out = []
    for imp in graph:
        if imp.module in SHELLS or _within(imp.module, SHELL_PACKAGES):
            continue
        upward = imp.target in ("modelbook.api", "modelbook.cli", "modelbook.magics")
        upward |= _within(imp.target, SHELL_PACKAGES)
        # The package root re-exports the facade: 'import modelbook' / 'from modelbook import
        # register' reach it as well ('from modelbook import errors' is a module import).
        upward |= imp.target == "modelbook" and any(n != "__version__" for n in imp.names)
        upward |= imp.target == "modelbook" and not imp.names
        if upward:
            out.append(str(imp))
    return out


def render_violations(graph: list[Import]) -> list[str]:
    """Rule (b): what render/* imports from the engine beyond the result types."""
    out = []
    for imp in graph:
        if not _within(imp.module, ("modelbook.render",)):
            continue
        target = imp.target
        if not target.startswith("modelbook") or _within(target, ("modelbook.render",)):
            continue
        if _within(target, RENDER_MAY_IMPORT):
            continue
        allowed = RESULT_TYPES.get(target)
        if allowed is not None and imp.names and set(imp.names) <= allowed:
            continue
        out.append(str(imp))
    return out


def ipython_violations(graph: list[Import]) -> list[str]:
    """Rule (c): engine modules that import IPython."""
    return [
        str(imp)
        for imp in graph
        if _within(imp.target, ("IPython",)) and not _within(imp.module, IPYTHON_ALLOWED)
    ]


def test_nothing_below_the_facade_imports_it() -> None:
    assert facade_violations(import_graph()) == []


def test_render_imports_only_results() -> None:
    assert render_violations(import_graph()) == []


def test_engine_never_imports_ipython() -> None:
    assert ipython_violations(import_graph()) == []


def test_the_graph_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    """The rules catch what a text search misses; TYPE_CHECKING imports are left out."""
    pkg = tmp_path / "modelbook"
    (pkg / "monitoring").mkdir(parents=True)
    (pkg / "render").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "api.py").write_text("")
    (pkg / "catalog.py").write_text("")
    (pkg / "monitoring" / "__init__.py").write_text("")
    (pkg / "monitoring" / "report.py").write_text("")
    (pkg / "monitoring" / "run.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from modelbook import api as typed\n"
        "def monitor():\n"
        "    from .. import api\n"
        "    from modelbook import catalog, load\n"
        "    import IPython.display\n"
    )
    (pkg / "render" / "__init__.py").write_text("")
    (pkg / "render" / "monitor.py").write_text(
        "from modelbook.monitoring.report import MonitorReport\n"
        "def f():\n"
        "    from modelbook.monitoring.run import monitor\n"
    )
    graph = import_graph(pkg)
    assert facade_violations(graph) == [
        "modelbook.monitoring.run:5 imports modelbook.api",
        "modelbook.monitoring.run:6 imports modelbook (load)",
    ]
    assert render_violations(graph) == [
        "modelbook.render.monitor:3 imports modelbook.monitoring.run (monitor)"
    ]
    assert ipython_violations(graph) == ["modelbook.monitoring.run:7 imports IPython.display"]
