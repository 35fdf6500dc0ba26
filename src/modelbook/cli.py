"""The ``modelbook`` command: the verbs of ``%modelbook`` for shells, cron and CI.

A thin shell over :mod:`modelbook.api`: parse, make one call, print the result as text or as
JSON (``--json``: the result's ``to_dict()``), and exit with a documented code.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from modelbook.errors import ConfigError, InvalidNameError, ModelbookError

__all__ = ["EXIT_ALERT", "EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

EXIT_OK = 0
EXIT_ALERT = 1
EXIT_USAGE = 2
EXIT_ERROR = 3

EXIT_CODES = f"""exit codes:
  {EXIT_OK}  ok
  {EXIT_ALERT}  a monitor run raised an alert (monitor; run with --fail-on-alert), realized
     quality alerted (feedback), or check found something broken
  {EXIT_USAGE}  usage: bad arguments, an invalid name or reference, or invalid settings
  {EXIT_ERROR}  error: the command could not complete (not found, no registry at the path,
     registry busy or damaged, a notebook cell failed, a monitor run errored, ...); the
     message is on stderr

Every verb takes --json (stable JSON on stdout; on failure {{"error": {{...}}}}) and
--registry PATH (default: $MODELBOOK_HOME, else the nearest .modelbook/ folder)."""

# Errors that mean "fix the command or its settings": exit 2, like argparse's own errors.
# Usage problems found after parsing are ConfigErrors too, so --json always names a public class.
_USAGE_ERRORS: tuple[type[ModelbookError], ...] = (InvalidNameError, ConfigError)


class _ArgumentError(SystemExit):
    """argparse rejected the command line (exit 2); carries the message for --json."""

    def __init__(self, message: str) -> None:
        super().__init__(EXIT_USAGE)
        self.message = message


@dataclass(frozen=True)
class _Outcome:
    value: Any  # a Renderable result, a mapping (JSON as-is), or text
    code: int = EXIT_OK
    text: str | None = None  # overrides the text form of ``value``


# -- output -------------------------------------------------------------------------------------


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _as_json(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    data = to_dict() if callable(to_dict) else value
    # default=str covers datetimes and paths; the round trip makes nested values plain JSON.
    return _finite(json.loads(json.dumps(data, default=str)))


def _emit(outcome: _Outcome, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(_as_json(outcome.value), indent=2, allow_nan=False))
        return
    text = outcome.text if outcome.text is not None else str(outcome.value)
    if text:
        print(text)


def _fail(exc: BaseException, code: int, *, as_json: bool) -> int:
    message = str(exc) or type(exc).__name__
    print(f"modelbook: {message}", file=sys.stderr)
    if as_json:
        error = {"type": type(exc).__name__, "message": message, "exit_code": code}
        print(json.dumps({"error": error}, indent=2))
    return code


# -- verbs --------------------------------------------------------------------------------------


def _api() -> Any:
    from modelbook import api

    return api


def _cmd_ls(args: argparse.Namespace) -> _Outcome:
    return _Outcome(_api().ls(args.name, registry=args.registry))


def _cmd_show(args: argparse.Namespace) -> _Outcome:
    return _Outcome(_api().show(args.ref, registry=args.registry))


def _cmd_diff(args: argparse.Namespace) -> _Outcome:
    on: str | None = None
    if args.on:
        on = _data_file(args.on, "--on")
    key = args.key[0] if args.key and len(args.key) == 1 else args.key
    result = _api().diff(args.a, args.b, key=key, on=on, trust=args.trust, registry=args.registry)
    return _Outcome(result)


def _data_file(path: str, flag: str) -> str:
    data = Path(path).expanduser()
    if data.suffix.lower() not in {".parquet", ".pq", ".csv", ".tsv"}:
        raise ConfigError(f"{flag} {path} must be a .parquet or .csv file.")
    if not data.is_file():
        raise ConfigError(f"{flag} {path} does not exist.")
    return str(data)


def _cmd_init(args: argparse.Namespace) -> _Outcome:
    result = _api().init(args.url or args.registry, objects=args.objects)
    return _Outcome(result.to_dict(), text=str(result))


def _cmd_where(args: argparse.Namespace) -> _Outcome:
    home = _api().where(registry=args.registry)
    if not isinstance(home, Path):  # a team registry: its URL without password
        return _Outcome({"registry": str(home), "team": True}, text=f"{home} (team registry)")
    exists = (home / "registry.duckdb").exists()
    return _Outcome(
        {"registry": str(home), "exists": exists},
        text=f"{home}" + ("" if exists else " (not created yet)"),
    )


def _cmd_env(args: argparse.Namespace) -> _Outcome:
    api = _api()
    resolved = api.resolve(args.ref, kind="model", registry=args.registry)
    text = api.requirements(args.ref, registry=args.registry)
    return _Outcome({"ref": str(resolved), "requirements": text}, text=text.rstrip("\n"))


def _cmd_gc(args: argparse.Namespace) -> _Outcome:
    return _Outcome(_api().gc(grace_seconds=args.grace, registry=args.registry))


def _cmd_push(args: argparse.Namespace) -> _Outcome:
    return _Outcome(_api().push(args.ref, to=args.to, alias=args.alias, registry=args.registry))


def _cmd_pull(args: argparse.Namespace) -> _Outcome:
    return _Outcome(
        _api().pull(args.ref, from_=args.from_, alias=args.alias, registry=args.registry)
    )


def _cmd_check(args: argparse.Namespace) -> _Outcome:
    report = _api().check(registry=args.registry)
    return _Outcome(report, code=EXIT_OK if report.ok else EXIT_ALERT)


def _cmd_history(args: argparse.Namespace) -> _Outcome:
    return _Outcome(
        _api().history(args.ref, since=args.since, limit=args.limit, registry=args.registry)
    )


def _cmd_feedback(args: argparse.Namespace) -> _Outcome:
    labels = _data_file(args.labels, "--labels")
    report = _api().feedback(
        args.model,
        labels=labels,
        id=args.id,
        target=args.target,
        min_labels=args.min_labels,
        registry=args.registry,
    )
    # Like monitor: 1 when a run's realized quality alerted (insufficient labels are not).
    return _Outcome(report, code=EXIT_ALERT if report.status == "alert" else EXIT_OK)


def _cmd_alias(args: argparse.Namespace) -> _Outcome:
    api = _api()
    if args.history:
        if args.alias:
            raise ConfigError("alias --history takes at most a NAME, e.g. alias --history churn.")
        return _Outcome(api.alias_history(args.ref, registry=args.registry))
    if args.remove:
        if not args.ref or args.alias:
            raise ConfigError("alias --remove needs exactly NAME@ALIAS, e.g. churn@staging.")
        return _Outcome(api.unalias(args.ref, registry=args.registry))
    if not args.ref or not args.alias:
        raise ConfigError(
            "alias needs a version and an alias, e.g. modelbook alias churn@3 production."
        )
    return _Outcome(api.alias(args.ref, args.alias, registry=args.registry))


def _cmd_rollback(args: argparse.Namespace) -> _Outcome:
    return _Outcome(_api().rollback(args.ref, reason=args.reason, registry=args.registry))


def _cmd_policy(args: argparse.Namespace) -> _Outcome:
    return _Outcome(_api().policy_status(registry=args.registry))


_MODEL_FILES = {
    "sklearn": "a skops file: load it with skops.io.load(path, trusted=[...]) after checking "
    "skops.io.get_untrusted_types(file=path)",
    "pickle": "a pickle file: loading it runs code, so only load it if you trust its author",
    "xgboost": "XGBoost's own format (by suffix: .json or .ubj): load it with "
    "xgboost.Booster(model_file=path) or XGBModel().load_model(path)",
    "lightgbm": "LightGBM's text format: load it with lightgbm.Booster(model_file=path)",
}


def _cmd_load(args: argparse.Namespace) -> _Outcome:
    api = _api()
    resolved = api.resolve(args.ref, registry=args.registry)
    output = Path(args.output).expanduser()
    if output.is_dir():
        raise ConfigError(f"--output {output} is a folder: name a file in it.")
    if output.exists() and not args.force:
        raise ConfigError(f"{output} exists: choose another --output or pass --force.")
    folder = output.parent
    if not folder.is_dir():
        if folder.exists():
            raise ConfigError(f"--output {output}: {folder} is a file, not a folder.")
        if not args.parents:
            raise ConfigError(
                f"--output {output}: the folder {folder} does not exist; create it, or pass "
                "--parents to create it."
            )
        folder.mkdir(parents=True, exist_ok=True)
    if resolved.kind == "dataset":
        fmt = _dataset_format(output)
        source = api.dataset_path(str(resolved), registry=args.registry)
        if fmt == "parquet":
            shutil.copyfile(source, output)
        else:
            import pyarrow.csv as pcsv
            import pyarrow.parquet as pq

            pcsv.write_csv(pq.read_table(source), output)
        note = f"dataset {resolved} written to {output} ({fmt})"
        info: dict[str, Any] = {
            "ref": str(resolved),
            "kind": "dataset",
            "output": str(output),
            "format": fmt,
        }
    else:
        flavor = _write_model(api, resolved, output, trust=args.trust, registry=args.registry)
        note = f"model {resolved} written to {output}: {_MODEL_FILES[flavor]}"
        info = {"ref": str(resolved), "kind": "model", "output": str(output), "format": flavor}
    info["bytes"] = output.stat().st_size
    return _Outcome(info, text=note)


def _dataset_format(output: Path) -> str:
    suffix = output.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise ConfigError(f"--output {output} must end in .parquet, .pq or .csv for a dataset.")


def _write_model(api: Any, resolved: Any, output: Path, *, trust: bool, registry: Any) -> str:
    """The stored artifact as a file; XGBoost/LightGBM are re-saved in their native format."""
    from modelbook.registry import open_registry

    reg = open_registry(registry)
    row = reg.model_version(resolved.name, resolved.version)
    flavor = str(row["flavor"])
    if flavor in {"sklearn", "pickle"}:
        output.write_bytes(reg.objects.read_verified(row["blob"]))
        return flavor
    model = api.load(str(resolved), trust=trust, registry=registry)
    if flavor == "xgboost":
        if output.suffix.lower() not in {".json", ".ubj"}:
            raise ConfigError(f"--output {output} must end in .json or .ubj for an XGBoost model.")
        model.save_model(str(output))
    elif flavor == "lightgbm":
        booster = getattr(model, "booster_", model)
        booster.save_model(str(output))
    else:
        raise ModelbookError(
            f"model {resolved} has an unknown flavor {flavor!r}: upgrade modelbook."
        )
    return flavor


def _cmd_monitor(args: argparse.Namespace) -> _Outcome:
    import modelbook

    data = _data_file(args.data, "--data")
    options: dict[str, Any] = {"data": data, "registry": args.registry, "trust": args.trust}
    if args.target:
        options["target"] = args.target
    if args.reference:
        options["reference"] = args.reference
    columns = [c.strip() for item in args.columns or [] for c in item.split(",") if c.strip()]
    if columns:
        options["columns"] = columns
    if args.store:
        options["store"] = args.store
    scores = [c.strip() for item in args.scores or [] for c in item.split(",") if c.strip()]
    if scores:
        options["scores"] = scores
    if args.predicted:
        options["predicted"] = args.predicted
    if args.multivariate:
        options["multivariate"] = args.multivariate
    if args.time:
        options["time"] = args.time
    if args.chunk:
        options["chunk"] = args.chunk
    if args.id:
        options["id"] = args.id
    if args.challenger:
        options["challenger"] = args.challenger
    for flag in ("segments", "sensitive"):  # region*plan: an intersection (a tuple in the API)
        names = [c.strip() for item in getattr(args, flag) or [] for c in item.split(",")]
        if any(names):
            options[flag] = [tuple(n.split("*")) for n in names if n]
    if args.rules:
        try:
            options["rules"] = json.loads(args.rules)
        except ValueError as exc:
            raise ConfigError(
                f"--rules is not JSON ({exc}): write e.g. '{{\"drift\": {{}}}}'."
            ) from None
        if not isinstance(options["rules"], dict):
            raise ConfigError("--rules must be a JSON object shaped like [tool.modelbook.monitor].")
    from modelbook.capture.context import ENV_SOURCE
    from modelbook.scheduled import environ

    # The run records source 'cli' (a wrapper that set MODELBOOK_SOURCE keeps its own).
    with environ({ENV_SOURCE: os.environ.get(ENV_SOURCE) or "cli"}):
        report = modelbook.monitor(args.ref, **options)
    status = str(report.status)
    code = {"ok": EXIT_OK, "alert": EXIT_ALERT}.get(status, EXIT_ERROR)
    return _Outcome(report, code=code)


def _cmd_run(args: argparse.Namespace) -> _Outcome:
    from modelbook.scheduled import parse_parameter, read_parameters, run_notebook

    parameters: dict[str, Any] = {}
    for path in args.parameters_files or []:
        parameters.update(read_parameters(path))
    for key, value in args.parameters or []:
        parameters[key] = parse_parameter(value)
    for key, value in args.raw_parameters or []:
        parameters[key] = value
    for key in parameters:
        if not key.isidentifier():
            raise ConfigError(f"parameter name {key!r} is not a valid Python name.")
    result = run_notebook(
        args.notebook,
        parameters=parameters,
        output=args.output,
        html=args.html,
        html_input=not args.no_input,
        registry=args.registry,
        kernel=args.kernel,
        cwd=args.cwd,
        timeout=args.timeout,
    )
    if result.failed:
        code = EXIT_ERROR
        print(f"modelbook: {args.notebook}: {result.error}", file=sys.stderr)
    elif result.stopped_by_alert:  # the notebook itself chose to stop on an alert
        code = EXIT_ALERT
        print(f"modelbook: {args.notebook}: stopped on an alert: {result.error}", file=sys.stderr)
    elif args.fail_on_alert and result.status == "error":
        code = EXIT_ERROR
    elif args.fail_on_alert and result.status == "alert":
        code = EXIT_ALERT
    else:
        code = EXIT_OK
    return _Outcome(result, code=code, text=result.summary())


# -- parser -------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self._print_message(f"{self.prog}: error: {message} (see {self.prog} --help)\n", sys.stderr)
        raise _ArgumentError(f"{self.prog}: {message} (see {self.prog} --help)")


def _since(text: str) -> str:
    from modelbook.run_history import parse_since

    try:
        parse_since(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("since=", "")) from None
    return text


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def build_parser() -> argparse.ArgumentParser:
    from modelbook import __version__

    common = _Parser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON on stdout"
    )
    common.add_argument(
        "--registry",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="registry folder or postgresql:// URL to use",
    )
    parser = _Parser(
        prog="modelbook",
        description="Version and monitor ML models and their data; the verbs of %modelbook.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"modelbook {__version__}")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")
    parser.add_argument(
        "--registry", metavar="PATH", help="registry folder or postgresql:// URL to use"
    )
    sub = parser.add_subparsers(dest="command", metavar="VERB")

    def verb(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            description=help[0].upper() + help[1:] + ".",
            parents=[common],
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    ls = verb("ls", "list models and datasets, or the versions of NAME")
    ls.add_argument("name", nargs="?")
    show = verb("show", "show a version: NAME, NAME@3 or NAME@ALIAS")
    show.add_argument("ref")
    diff = verb("diff", "compare two versions, e.g. churn@1 churn@2")
    diff.add_argument("a", help="the baseline version, e.g. churn@1")
    diff.add_argument("b", help="the version to compare, e.g. churn@2")
    diff.add_argument("--key", nargs="+", metavar="COLUMN", help="datasets: key column(s) for rows")
    diff.add_argument("--on", metavar="PATH", help="models: evaluation data (.parquet/.csv)")
    diff.add_argument("--trust", action="store_true", help="allow pickled (untrusted) models")
    load = verb("load", "write a dataset (Parquet/CSV by suffix) or a model artifact to a file")
    load.add_argument("ref")
    load.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    load.add_argument("--trust", action="store_true", help="allow untrusted (pickled) content")
    load.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    load.add_argument(
        "--parents", action="store_true", help="create FILE's folder if it does not exist"
    )
    alias = verb("alias", "point ALIAS at REF (churn@3 production), remove one, or show history")
    alias.add_argument("ref", nargs="?")
    alias.add_argument("alias", nargs="?")
    alias.add_argument("--remove", action="store_true", help="remove NAME@ALIAS")
    alias.add_argument("--history", action="store_true", help="who moved which alias when")
    rollback = verb("rollback", "move NAME@ALIAS back to the version that held it before")
    rollback.add_argument("ref", help="the alias to move back, e.g. churn@production")
    rollback.add_argument("--reason", help="why (recorded in the alias history)")
    policy = verb("policy", "rollback/retraining policies: streaks, last action, cooldown")
    policy.add_argument("action", nargs="?", default="check", choices=("check",))
    monitor = verb("monitor", "monitor a Parquet/CSV batch against a model or dataset version")
    monitor.add_argument("ref")
    monitor.add_argument("--data", required=True, metavar="PATH", help="the batch (.parquet/.csv)")
    monitor.add_argument("--target", help="label column of the batch (quality metrics)")
    monitor.add_argument("--reference", metavar="REF", help="dataset version to compare against")
    monitor.add_argument("--columns", nargs="+", metavar="COLUMN", help="only these columns")
    monitor.add_argument("--store", choices=("none", "profile", "data"), help="what to keep")
    monitor.add_argument("--rules", metavar="JSON", help="alert rules, as [tool.modelbook.monitor]")
    monitor.add_argument("--trust", action="store_true", help="allow a pickled (untrusted) model")
    monitor.add_argument(
        "--scores", nargs="+", metavar="COL", help="columns with a served model's probabilities"
    )
    monitor.add_argument("--predicted", metavar="COL", help="column with its predictions")
    monitor.add_argument(
        "--time", metavar="COL", help="column of each row's time (a timeline; with --id: logged)"
    )
    monitor.add_argument("--id", metavar="COL", help="id column: keep each row's prediction (log)")
    monitor.add_argument(
        "--challenger", metavar="REF", help="another model version scored and compared"
    )
    monitor.add_argument(
        "--chunk", metavar="SIZE", help="one run per chunk: month, week, 1d, 6h, quarter or N rows"
    )
    monitor.add_argument(
        "--multivariate",
        choices=("pca", "classifier", "both", "off"),
        help="multivariate drift: PCA reconstruction error (default), domain classifier, both",
    )
    monitor.add_argument(
        "--segments", nargs="+", metavar="COL",
        help="judge each value of these columns apart (region*plan: an intersection)",
    )  # fmt: skip
    monitor.add_argument(
        "--sensitive", nargs="+", metavar="COL",
        help="sensitive features for fairness measures (gender*age_band: an intersection)",
    )  # fmt: skip
    history = verb("history", "monitor runs of NAME (or NAME@VERSION), newest first")
    history.add_argument("ref")
    history.add_argument("--since", type=_since, help="only runs newer than 30d, 12h, 2w, a date")
    history.add_argument("--limit", type=_positive, help="only the newest N runs")
    feedback = verb("feedback", "join late labels to the logged predictions of a model")
    feedback.add_argument("model", help="the model name (labels belong to every version)")
    feedback.add_argument("--labels", required=True, metavar="PATH", help="labels .parquet/.csv")
    feedback.add_argument("--id", required=True, help="the id column the runs were logged with")
    feedback.add_argument("--target", required=True, help="the column holding the labels")
    feedback.add_argument(
        "--min-labels", type=_positive, help="labelled rows needed for a verdict (default 100)"
    )
    gc = verb("gc", "remove artifact files no version references (safe while others write)")
    gc.add_argument(
        "--grace", type=float, default=3600.0, metavar="S",
        help="keep unreferenced files younger than S seconds (default 3600; 0: none)",
    )  # fmt: skip
    verb("check", "verify every artifact file's hash and every reference; exit 1 if broken")
    push = verb("push", "copy a version, with its data, profiles and files, to another registry")
    push.add_argument("ref", help="the version to copy, e.g. churn@3 or churn@production")
    push.add_argument("--to", required=True, metavar="REGISTRY", help="postgresql://... or PATH")
    push.add_argument("--alias", help="point this alias of the destination at the copy")
    pull = verb("pull", "copy a version, with its data, profiles and files, from another registry")
    pull.add_argument("ref", help="the version to copy, e.g. churn@production")
    pull.add_argument(
        "--from", dest="from_", required=True, metavar="REGISTRY", help="postgresql://... or PATH"
    )
    pull.add_argument("--alias", help="point this alias of this registry at the copy")
    init = verb("init", "create a registry's tables (or migrate them): postgresql://... or PATH")
    init.add_argument("url", nargs="?", metavar="URL", help="a team registry URL or a folder")
    init.add_argument(
        "--objects", metavar="WHERE",
        help="a team registry's files: a shared folder or s3://bucket/prefix (stored for all)",
    )  # fmt: skip
    verb("where", "print the registry folder in use")
    env = verb("env", "the environment recorded with a model, as pip requirements")
    env.add_argument("ref")
    run = verb("run", "execute a notebook with papermill as a scheduled run")
    run.add_argument("notebook", metavar="NOTEBOOK.ipynb")
    run.add_argument(
        "-p", "--parameter", nargs=2, action="append", dest="parameters",
        metavar=("KEY", "VALUE"), help="a papermill parameter (typed: True, 3, 0.5, None, text)",
    )  # fmt: skip
    run.add_argument(
        "-r", "--parameter-raw", nargs=2, action="append", dest="raw_parameters",
        metavar=("KEY", "VALUE"), help="a parameter kept as a string",
    )  # fmt: skip
    run.add_argument(
        "-f", "--parameters-file", action="append", dest="parameters_files", metavar="FILE",
        help="parameters from a YAML or JSON file (-p/-r override them)",
    )  # fmt: skip
    run.add_argument("--output", metavar="OUT.ipynb", help="keep the executed notebook here")
    run.add_argument("--html", metavar="OUT.html", help="write a static HTML report here")
    run.add_argument(
        "--no-input", action="store_true", help="leave the code out of the HTML report"
    )
    run.add_argument(
        "--fail-on-alert", action="store_true", help="exit 1 when a monitor run raised an alert"
    )
    run.add_argument("--kernel", help="kernel name (default: the notebook's)")
    run.add_argument("--cwd", help="working directory of the kernel (default: this one)")
    run.add_argument("--timeout", type=float, help="seconds allowed per cell")
    return parser


_COMMANDS: Mapping[str, Callable[[argparse.Namespace], _Outcome]] = {
    "ls": _cmd_ls,
    "show": _cmd_show,
    "diff": _cmd_diff,
    "load": _cmd_load,
    "alias": _cmd_alias,
    "rollback": _cmd_rollback,
    "policy": _cmd_policy,
    "monitor": _cmd_monitor,
    "history": _cmd_history,
    "feedback": _cmd_feedback,
    "gc": _cmd_gc,
    "check": _cmd_check,
    "push": _cmd_push,
    "pull": _cmd_pull,
    "init": _cmd_init,
    "where": _cmd_where,
    "env": _cmd_env,
    "run": _cmd_run,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _ArgumentError as exc:  # a usage error argparse found; printed on stderr already
        words = sys.argv[1:] if argv is None else list(argv)
        if "--json" in words:
            error = {"type": "ConfigError", "message": exc.message, "exit_code": EXIT_USAGE}
            print(json.dumps({"error": error}, indent=2))
        return EXIT_USAGE
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    as_json = bool(args.json)
    try:
        outcome = _COMMANDS[args.command](args)
    except _USAGE_ERRORS as exc:
        return _fail(exc, EXIT_USAGE, as_json=as_json)
    except ModelbookError as exc:
        return _fail(exc, EXIT_ERROR, as_json=as_json)
    except OSError as exc:  # a file we were asked to read or write
        where = f" ({exc.filename})" if exc.filename else ""
        return _fail(OSError(f"{exc.strerror or exc}{where}"), EXIT_ERROR, as_json=as_json)
    except KeyboardInterrupt:
        print("modelbook: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: keep the traceback, but never exit 1 (= "alert")
        import traceback

        traceback.print_exc()
        return _fail(
            RuntimeError(f"internal error ({type(exc).__name__}: {exc}); please report it"),
            EXIT_ERROR,
            as_json=as_json,
        )
    try:
        _emit(outcome, as_json=as_json)
        sys.stdout.flush()
    except BrokenPipeError:  # `modelbook ... | head`: the reader left; not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return outcome.code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
