"""Scheduled notebook runs: execute with papermill, export static HTML, collect the monitor runs.

The kernel is another process, so it learns that it runs scheduled from its environment
(:mod:`modelbook.capture.context`), and the monitor runs it recorded are found afterwards by
querying the registry: runs of this notebook, with these parameters, that started while it ran.
That holds however many kernels, scheduled runs and CLI calls share the registry at the same
time (two runs of one notebook with identical parameters at once would see each other's runs).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from modelbook.capture.context import ENV_NOTEBOOK, ENV_PARAMETERS, ENV_REPORT, ENV_SOURCE
from modelbook.errors import ConfigError
from modelbook.registry import Location, Registry, find_location
from modelbook.registry.store import now
from modelbook.results import Renderable

__all__ = [
    "NotebookRun",
    "RunMonitor",
    "environ",
    "export_html",
    "parse_parameter",
    "read_parameters",
    "run_notebook",
]

PathLike = str | os.PathLike[str]


def parse_parameter(value: str) -> Any:
    """A ``-p`` value as papermill types it: True/False/None, int, float, else the string."""
    if value in {"True", "False"}:
        return value == "True"
    if value == "None":
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


@dataclass(frozen=True)
class RunMonitor:
    """A monitor run recorded during a scheduled notebook run."""

    run_id: str
    target: str  # name@version
    status: str
    n_alerts: int
    drift_share: float | None
    started_at: datetime


@dataclass(frozen=True, repr=False)
class NotebookRun(Renderable):
    """The outcome of ``modelbook run``: executed notebook, report, and its monitor runs."""

    notebook: str
    output: str | None  # the executed notebook, when kept
    html: str | None
    registry: str
    parameters: Mapping[str, Any]
    started_at: datetime
    finished_at: datetime
    error: str | None = None  # the failing cell, or why execution stopped
    monitors: tuple[RunMonitor, ...] = field(default_factory=tuple)
    stopped_by_alert: bool = False  # the failing cell raised AlertError / %monitor --fail-on-alert
    kind = "notebook_run"

    @property
    def failed(self) -> bool:
        """A cell failed for another reason than an alert the notebook chose to stop on."""
        return self.error is not None and not self.stopped_by_alert

    @property
    def alerts(self) -> tuple[RunMonitor, ...]:
        return tuple(m for m in self.monitors if m.status == "alert")

    @property
    def status(self) -> str:
        """'error' (a cell failed or a monitor run errored), 'alert', or 'ok'."""
        if self.failed or any(m.status == "error" for m in self.monitors):
            return "error"
        return "alert" if self.alerts or self.stopped_by_alert else "ok"

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["status"] = self.status
        return data

    def summary(self) -> str:
        lines = [
            f"ran {self.notebook} ({(self.finished_at - self.started_at).total_seconds():.1f} s)"
        ]
        if self.error:
            lines.append(
                f"{'stopped on an alert' if self.stopped_by_alert else 'failed'}: {self.error}"
            )
        if self.monitors:
            for m in self.monitors:
                alerts = f", {m.n_alerts} alerts" if m.n_alerts else ""
                lines.append(f"  monitor {m.target}: {m.status}{alerts} (run {m.run_id})")
        else:
            lines.append(f"  no monitor runs recorded in {self.registry}")
        if self.output:
            lines.append(f"executed notebook: {self.output}")
        if self.html:
            lines.append(f"HTML report: {self.html}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<NotebookRun {self.notebook}: {self.status}, {len(self.monitors)} monitor runs>"


@contextlib.contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for a block (the kernel papermill starts inherits them)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_ALERT_STOP = "%monitor --fail-on-alert:"


def _execute(
    notebook: Path,
    output: Path,
    parameters: Mapping[str, Any],
    *,
    kernel: str | None,
    cwd: Path | None,
    timeout: float | None,
) -> tuple[str | None, bool]:
    """Run the notebook; returns (what failed, one line or None; whether an alert stopped it)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    language = None
    if kernel is None and not _kernel_of(notebook):
        kernel, language = "python3", "python"  # a notebook written by a script names none
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=dict(parameters),
            kernel_name=kernel,
            language=language,
            progress_bar=False,
            cwd=str(cwd) if cwd is not None else None,
            execution_timeout=timeout,
        )
    except PapermillExecutionError as exc:
        evalue = str(exc.evalue).strip()
        first = evalue.splitlines()[0] if evalue else ""
        alert = exc.ename == "AlertError" or (
            exc.ename == "UsageError" and evalue.startswith(_ALERT_STOP)
        )
        return f"cell {exc.exec_count} raised {exc.ename}" + (f": {first}" if first else ""), alert
    except Exception as exc:  # kernel died, timed out, could not start: all mean "failed"
        text = str(exc).strip()
        return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}", False
    return None, False


def _kernel_of(notebook: Path) -> str | None:
    try:
        metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return None
    spec = metadata.get("kernelspec") if isinstance(metadata, dict) else None
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) and name else None


def read_parameters(path: PathLike) -> dict[str, Any]:
    """Parameters from a YAML or JSON file (a mapping of names to values), as papermill -f."""
    import yaml  # type: ignore[import-untyped]  # papermill depends on PyYAML

    file = Path(path).expanduser()
    try:
        value = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot read the parameters file {path} ({exc.strerror or exc})."
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"the parameters file {path} is not YAML or JSON ({exc}).") from exc
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ConfigError(f"the parameters file {path} must hold a mapping of names to values.")
    return value


def export_html(notebook: Path, html: Path, *, include_input: bool = True) -> None:
    """A static HTML report (nbconvert): our outputs carry self-contained HTML fallbacks.

    ``include_input=False`` leaves the code out: a report of results for readers of the job.
    """
    import nbformat
    from nbconvert import HTMLExporter

    node = nbformat.read(str(notebook), as_version=4)  # type: ignore[no-untyped-call]
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        exclude_input=not include_input,
        exclude_input_prompt=not include_input,
        exclude_output_prompt=not include_input,
    )
    body, _ = exporter.from_notebook_node(node)
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(body, encoding="utf-8")


def _parameters_of(row: Mapping[str, Any]) -> Any:
    try:
        return json.loads(row["parameters"]) if row["parameters"] else {}
    except ValueError:
        return None


def _monitors(
    home: Location,
    notebook: str,
    parameters: Mapping[str, Any],
    started: datetime,
    finished: datetime,
) -> tuple[RunMonitor, ...]:
    """Runs this notebook stored while it ran, with these parameters (so concurrent runs of
    the same notebook for other batches are told apart)."""
    expected = json.loads(json.dumps(dict(parameters)))
    rows = Registry(home).monitor_runs(since=started)
    found = [
        RunMonitor(
            run_id=str(r["id"]),
            target=f"{r['target']}@{r['target_version']}",
            status=str(r["status"]),
            n_alerts=int(r["n_alerts"]),
            drift_share=None if r["drift_share"] is None else float(r["drift_share"]),
            started_at=r["started_at"],
        )
        for r in rows
        if r["notebook"] == notebook
        and r["started_at"] <= finished
        and _parameters_of(r) == expected
    ]
    return tuple(sorted(found, key=lambda m: m.started_at))


def run_notebook(
    notebook: PathLike,
    *,
    parameters: Mapping[str, Any] | None = None,
    output: PathLike | None = None,
    html: PathLike | None = None,
    html_input: bool = True,
    registry: PathLike | None = None,
    kernel: str | None = None,
    cwd: PathLike | None = None,
    timeout: float | None = None,
) -> NotebookRun:
    """Execute a notebook as a scheduled run and collect the monitor runs it recorded.

    ``html_input=False`` leaves the code out of the HTML report. The registry is ``registry``,
    else a ``registry`` parameter, else the one discovered here;
    the kernel gets it as ``MODELBOOK_HOME``. A failing cell does not raise: it is the
    result's ``error`` (the executed notebook and HTML are still written, showing it). A cell
    that stopped the notebook on an alert (``AlertError`` from ``raise_for_alerts()``, or
    ``%monitor --fail-on-alert``) makes the run an alert, not a failure.
    """
    path = Path(notebook).expanduser().absolute()
    if path.suffix != ".ipynb":
        raise ConfigError(f"{notebook} is not a notebook: pass an .ipynb file.")
    if not path.is_file():
        raise ConfigError(f"notebook {notebook} does not exist.")
    params = dict(parameters or {})
    try:
        params_json = json.dumps(params)
    except TypeError as exc:
        raise ConfigError(f"parameters must be JSON values ({exc}).") from exc
    param_registry = params.get("registry")
    if not isinstance(param_registry, str) or not param_registry:
        param_registry = None
    chosen = registry if registry is not None else param_registry
    home = find_location(chosen)
    html_path = Path(html).expanduser().absolute() if html else None
    environment = {
        ENV_SOURCE: "scheduled",
        ENV_NOTEBOOK: str(path),
        ENV_PARAMETERS: params_json,
        ENV_REPORT: str(html_path or ""),
        # The child needs the full URL of a team registry (credentials stay out of output).
        "MODELBOOK_HOME": home.url or str(home),
    }
    with tempfile.TemporaryDirectory(prefix="modelbook-run-") as tmp:
        executed = Path(output).expanduser().absolute() if output else Path(tmp) / path.name
        executed.parent.mkdir(parents=True, exist_ok=True)
        started = now()
        with environ(environment):
            error, stopped_by_alert = _execute(
                path,
                executed,
                params,
                kernel=kernel,
                cwd=Path(cwd) if cwd is not None else None,
                timeout=timeout,
            )
        finished = now()
        if html_path is not None and executed.exists():
            export_html(executed, html_path, include_input=html_input)
    return NotebookRun(
        notebook=str(path),
        output=str(executed) if output else None,
        html=str(html_path) if html_path is not None and html_path.exists() else None,
        registry=str(home),
        parameters=params,
        started_at=started,
        finished_at=finished,
        error=error,
        stopped_by_alert=stopped_by_alert,
        monitors=_monitors(home, str(path), params, started, finished),
    )
