"""``%register``, ``%monitor`` and ``%modelbook``: the only module that imports IPython.

Each magic parses its line, looks variables up in the notebook, and makes one API call. Every
error a user can cause becomes an IPython ``UsageError`` (exactly that class: IPython prints it
as one line, without a traceback) that says what happened and what to do.
"""

from __future__ import annotations

import argparse
import ast
import shlex
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from modelbook import api
from modelbook.errors import ModelbookError

__all__ = ["ModelbookMagics", "load_ipython_extension"]


class _HelpShown(Exception):
    """argparse printed help; nothing else to do."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting the kernel."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message)
        raise _HelpShown


def _parser(prog: str, description: str) -> _Parser:
    return _Parser(prog=prog, description=description, add_help=True)


@contextmanager
def _usage_errors() -> Iterator[None]:
    try:
        yield
    except ModelbookError as exc:
        raise UsageError(str(exc)) from None


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"cannot parse the line: {exc}; check the quotes.") from None


REGISTER = _parser("%register", "Store a model or dataset as a new version in the registry.")
REGISTER.add_argument("var", help="notebook variable holding a model or dataset, or a file path")
REGISTER.add_argument("--name", help="name to store it under (default: the variable's name)")
REGISTER.add_argument("--data", help="variable holding the model's training data")
REGISTER.add_argument("--target", help="variable holding the labels, or a column of --data")
REGISTER.add_argument("--metrics", help="a dict literal or a variable, e.g. \"{'auc': 0.91}\"")
REGISTER.add_argument("--tag", nargs="+", default=[], metavar="KEY=VALUE", help="tags")
REGISTER.add_argument("--notes", help="free text stored with the version")
REGISTER.add_argument("--alias", help="point this alias (e.g. production) at the new version")
REGISTER.add_argument(
    "--eval", "--eval-data", dest="eval_data", metavar="X_VAL",
    help="variable (or .parquet/.csv path) holding a held-out evaluation set",
)  # fmt: skip
REGISTER.add_argument(
    "--eval-target", help="variable holding the evaluation labels, or a column of --eval"
)
REGISTER.add_argument(
    "--eval-scores", nargs="+", metavar="COLUMN",
    help="columns of --eval holding the outputs of a model served elsewhere (no predict)",
)  # fmt: skip

MONITOR = _parser(
    "%monitor", "Check a batch against a model or dataset version and record the run."
)
MONITOR.add_argument("ref", help="NAME (its production alias, else latest), NAME@3 or NAME@ALIAS")
MONITOR.add_argument("--data", required=True, help="variable holding the batch, or a file path")
MONITOR.add_argument("--target", help="variable holding the labels, or a column of the batch")
MONITOR.add_argument("--reference", help="dataset version to compare against (default: training)")
MONITOR.add_argument("--columns", nargs="+", metavar="COLUMN", help="only these columns")
MONITOR.add_argument("--store", choices=("none", "profile", "data"), help="what to keep")
MONITOR.add_argument("--fail-on-alert", action="store_true", help="raise when the run alerts")
MONITOR.add_argument("--rules", help="alert rules: a dict literal or a variable")
MONITOR.add_argument("--trust", action="store_true", help="allow a pickled (untrusted) model")
MONITOR.add_argument(
    "--scores", nargs="+", metavar="COL", help="batch columns with a served model's probabilities"
)
MONITOR.add_argument("--predicted", metavar="COL", help="batch column with its predictions")
MONITOR.add_argument(
    "--time", metavar="COL", help="batch column of each row's time (timeline; with --id: logged)"
)
MONITOR.add_argument("--id", metavar="COL", help="id column: keep each row's prediction (log)")
MONITOR.add_argument(
    "--challenger", metavar="REF", help="another model version scored on the batch and compared"
)
MONITOR.add_argument(
    "--chunk", metavar="SIZE", help="one run per chunk: month, week, 1d, 6h, quarter or N rows"
)
MONITOR.add_argument(
    "--multivariate",
    choices=("pca", "classifier", "both", "off"),
    help="multivariate drift: PCA reconstruction error (default), domain classifier, both, off",
)
MONITOR.add_argument(
    "--segments", nargs="+", metavar="COL",
    help="judge each value of these columns apart (region*plan: an intersection)",
)  # fmt: skip
MONITOR.add_argument(
    "--sensitive", nargs="+", metavar="COL",
    help="sensitive features for fairness measures (gender*age_band: an intersection)",
)  # fmt: skip


def _slices(values: list[str] | None) -> list[tuple[str, ...]] | None:
    """``--segments region region*plan`` (commas also split) as the API's list of tuples."""
    items = [v for item in values or [] for v in item.split(",") if v]
    return [tuple(v.split("*")) for v in items] or None


def _modelbook_parser() -> _Parser:
    parser = _parser("%modelbook", "Browse and manage the modelbook registry.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    use = sub.add_parser("use", help="use the registry at PATH for this session")
    use.add_argument("path")
    sub.add_parser("where", help="show which registry is in use")
    ls = sub.add_parser("ls", help="list models and datasets, or the versions of NAME")
    ls.add_argument("name", nargs="?")
    show = sub.add_parser("show", help="show a version: NAME, NAME@3 or NAME@ALIAS")
    show.add_argument("ref")
    load = sub.add_parser("load", help="load a model or dataset into a variable")
    load.add_argument("ref")
    load.add_argument("--as", dest="as_", metavar="VAR", help="variable to assign (default: NAME)")
    load.add_argument("--trust", action="store_true", help="allow pickled (untrusted) artifacts")
    load.add_argument("--format", default="pandas", choices=("pandas", "arrow", "polars"))
    alias = sub.add_parser("alias", help="point ALIAS at REF (e.g. churn@3 production)")
    alias.add_argument("ref", nargs="?")
    alias.add_argument("alias", nargs="?")
    alias.add_argument("--remove", action="store_true", help="remove REF's alias (churn@staging)")
    alias.add_argument("--history", metavar="NAME", help="show who moved which alias when")
    envp = sub.add_parser("env", help="the environment recorded with a model, as requirements")
    envp.add_argument("ref")
    history = sub.add_parser("history", help="monitor runs of NAME (or NAME@VERSION), newest first")
    history.add_argument("ref")
    history.add_argument("--since", help="only runs newer than this: 30d, 12h, 2w or a date")
    history.add_argument("--limit", type=int, help="only the newest N runs")
    feedback = sub.add_parser("feedback", help="join late labels to NAME's logged predictions")
    feedback.add_argument("model", help="the model name (labels belong to every version)")
    feedback.add_argument("--labels", required=True, help="variable or .parquet/.csv path")
    feedback.add_argument("--id", required=True, help="the id column the runs were logged with")
    feedback.add_argument("--target", required=True, help="the column holding the labels")
    feedback.add_argument("--min-labels", type=int, help="labelled rows for a verdict (100)")
    diff = sub.add_parser("diff", help="what changed from version A to B (models or datasets)")
    diff.add_argument("a", help="the baseline version, e.g. churn@1")
    diff.add_argument("b", help="the version to compare, e.g. churn@2")
    diff.add_argument("--key", nargs="+", metavar="COLUMN", help="dataset rows: key column(s)")
    diff.add_argument("--on", metavar="EVAL_VAR", help="models: variable with evaluation data")
    diff.add_argument("--trust", action="store_true", help="allow pickled (untrusted) models")
    gc = sub.add_parser("gc", help="remove artifact files no version references")
    gc.add_argument(
        "--grace", type=float, default=3600.0, metavar="S",
        help="keep unreferenced files younger than S seconds (default 3600; 0: none)",
    )  # fmt: skip
    sub.add_parser("check", help="verify every artifact file's hash and every reference")
    push = sub.add_parser("push", help="copy a version and what it references to a registry")
    push.add_argument("ref", help="the version to copy, e.g. churn@3")
    push.add_argument("--to", required=True, metavar="REGISTRY", help="postgresql://... or PATH")
    push.add_argument("--alias", help="point this alias of the destination at the copy")
    pull = sub.add_parser("pull", help="copy a version and what it references from a registry")
    pull.add_argument("ref", help="the version to copy, e.g. churn@production")
    pull.add_argument(
        "--from", dest="from_", required=True, metavar="REGISTRY", help="postgresql://... or PATH"
    )
    pull.add_argument("--alias", help="point this alias of this registry at the copy")
    rollback = sub.add_parser("rollback", help="move NAME@ALIAS back to its previous version")
    rollback.add_argument("ref", help="the alias to move back, e.g. churn@production")
    rollback.add_argument("--reason", help="why (recorded in the alias history)")
    policy = sub.add_parser("policy", help="rollback/retraining policies: streaks and actions")
    policy.add_argument("action", nargs="?", default="check", choices=("check",))
    return parser


MODELBOOK = _modelbook_parser()


@magics_class
class ModelbookMagics(Magics):  # type: ignore[misc]
    """The magics; state lives in the registry, not here."""

    @property
    def _ns(self) -> dict[str, Any]:
        assert self.shell is not None
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    def _lookup(self, name: str, what: str) -> Any:
        namespace = self._ns
        if name in namespace:
            return namespace[name]
        raise UsageError(
            f"{what} {name!r} is not defined in the notebook: run the cell that creates it first."
        )

    def _parse(self, parser: _Parser, line: str) -> argparse.Namespace | None:
        try:
            return parser.parse_args(_split(line))
        except _HelpShown:
            return None

    @line_magic  # type: ignore[misc]
    def register(self, line: str) -> Any:
        """%register VAR [--name NAME] [--data X] [--target Y] [--metrics DICT] [--tag k=v ...]
        [--notes TEXT] [--alias ALIAS] [--eval X_VAL [--eval-target Y_VAL] [--eval-scores C ...]]"""
        args = self._parse(REGISTER, line)
        if args is None:
            return None
        obj, default_name = self._object_or_path(args.var)
        data = self._lookup(args.data, "--data variable") if args.data else None
        target: Any = None
        if args.target:
            if args.target in self._ns:
                target = self._ns[args.target]
            elif data is not None and args.target in list(getattr(data, "columns", [])):
                raise UsageError(
                    f"--target {args.target!r} is a column of --data: pass the labels as their "
                    "own variable, e.g. --data X --target y."
                )
            else:
                self._lookup(args.target, "--target variable")
        eval_data = self._data(args.eval_data, "--eval") if args.eval_data else None
        eval_target = self._eval_target(args.eval_target, eval_data)
        scores = [c for item in args.eval_scores or [] for c in item.split(",") if c]
        with _usage_errors():
            return api.register(
                obj,
                name=args.name if args.name is not None else default_name,
                data=data,
                target=target,
                metrics=self._metrics(args.metrics),
                tag=_tags(args.tag),
                notes=args.notes,
                alias=args.alias,
                eval_data=eval_data,
                eval_target=eval_target,
                eval_scores=scores or None,
            )

    def _eval_target(self, token: str | None, eval_data: Any) -> Any:
        """A notebook variable holds the labels; else a column of --eval names them."""
        if token is None:
            return None
        if token in self._ns:
            return self._ns[token]
        if isinstance(eval_data, str) or token in list(getattr(eval_data, "columns", [])):
            return token
        raise UsageError(
            f"--eval-target {token!r} is neither a notebook variable nor a column of --eval: "
            "run the cell that creates the labels first, or name their column."
        )

    def _object_or_path(self, token: str) -> tuple[Any, str | None]:
        if token in self._ns:
            return self._ns[token], token
        if token.lower().endswith((".parquet", ".pq", ".csv", ".tsv")):
            return token, None
        if not token.isidentifier():
            raise UsageError(f"{token!r} is neither a notebook variable nor a .parquet/.csv path.")
        return self._lookup(token, "variable"), token

    def _dict_arg(self, flag: str, text: str | None, example: str, shape: str) -> Any:
        """A dict given as a literal or as the name of a notebook variable."""
        if text is None:
            return None
        if text.isidentifier():
            value = self._lookup(text, f"{flag} variable")
        else:
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise UsageError(
                    f'{flag} {text!r} is not a dict literal: write {flag} "{example}" '
                    "or pass a variable."
                ) from None
        if not isinstance(value, dict):
            raise UsageError(f"{flag} must be a dict {shape}.")
        return value

    def _metrics(self, text: str | None) -> dict[str, float] | None:
        shape = "of names to numbers, e.g. {'auc': 0.91}"
        value: dict[str, float] | None = self._dict_arg("--metrics", text, "{'auc': 0.91}", shape)
        return value

    @line_magic  # type: ignore[misc]
    def monitor(self, line: str) -> Any:
        """%monitor REF --data BATCH [--target LABELS] [--reference DATASET] [--columns C ...]
        [--store none|profile|data] [--fail-on-alert] [--rules DICT] [--trust]
        [--scores COL [COL ...]] [--predicted COL] [--multivariate pca|classifier|both|off]
        [--time COL] [--chunk month|week|1d|6h|quarter|N] [--id COL] [--challenger REF]
        [--segments COL [A*B ...]] [--sensitive COL [A*B ...]]"""
        args = self._parse(MONITOR, line)
        if args is None:
            return None
        data = self._data(args.data)
        target: Any = None
        if args.target:
            # A notebook variable holds labels; any other name is a column of the batch.
            target = self._ns.get(args.target, args.target)
        columns = [c for item in args.columns or [] for c in item.split(",") if c]
        rules = self._rules(args.rules)
        with _usage_errors():
            report = api.monitor(
                args.ref,
                data=data,
                target=target,
                reference=args.reference,
                columns=columns or None,
                store=args.store,
                fail_on_alert=False,
                rules=rules,
                trust=args.trust,
                scores=[c for item in args.scores or [] for c in item.split(",") if c] or None,
                predicted=args.predicted,
                multivariate=args.multivariate,
                time=args.time,
                chunk=args.chunk,
                id=args.id,
                challenger=args.challenger,
                segments=_slices(args.segments),
                sensitive=_slices(args.sensitive),
            )
        if args.fail_on_alert and not report.ok:
            from IPython.display import display

            display(report)  # type: ignore[no-untyped-call]
            raise UsageError(f"%monitor --fail-on-alert: {report.summary()}.")
        return report

    def _data(self, token: str, flag: str = "--data") -> Any:
        if token in self._ns:
            return self._ns[token]
        if token.lower().endswith((".parquet", ".pq", ".csv", ".tsv")):
            return token
        raise UsageError(
            f"{flag} {token!r} is neither a notebook variable nor a .parquet/.csv path: "
            "run the cell that creates it first."
        )

    def _rules(self, text: str | None) -> dict[str, Any] | None:
        example = "{'checks': {'schema.unexpected': 'info'}}"
        shape = "shaped like [tool.modelbook.monitor]"
        value: dict[str, Any] | None = self._dict_arg("--rules", text, example, shape)
        return value

    @line_magic  # type: ignore[misc]
    def modelbook(self, line: str) -> Any:
        """%modelbook use|where|ls|show|load|alias|rollback|policy|env|history|feedback|diff|gc|check
        |push|pull ... (--help)"""
        args = self._parse(MODELBOOK, line)
        if args is None:
            return None
        if args.command is None:
            MODELBOOK.print_help()
            return None
        handler: Callable[[argparse.Namespace], Any] = getattr(self, f"_cmd_{args.command}")
        with _usage_errors():
            return handler(args)

    def _cmd_use(self, args: argparse.Namespace) -> None:
        print(f"modelbook registry: {_described(api.use(args.path))}")

    def _cmd_where(self, args: argparse.Namespace) -> None:
        print(f"modelbook registry: {_described(api.where())}")

    def _cmd_ls(self, args: argparse.Namespace) -> Any:
        return api.ls(args.name)

    def _cmd_show(self, args: argparse.Namespace) -> Any:
        return api.show(args.ref)

    def _cmd_load(self, args: argparse.Namespace) -> None:
        value = api.load(args.ref, trust=args.trust, format=args.format)
        var = args.as_ or args.ref.partition("@")[0].replace("-", "_").replace(".", "_")
        if not var.isidentifier():
            raise UsageError(f"--as {var!r} is not a valid variable name.")
        self._ns[var] = value
        print(f"loaded {args.ref} into `{var}` ({type(value).__name__})")

    def _cmd_alias(self, args: argparse.Namespace) -> Any:
        if args.history is not None:
            return api.alias_history(args.history)
        if args.remove:
            if not args.ref:
                raise UsageError("%modelbook alias --remove needs NAME@ALIAS, e.g. churn@staging.")
            return api.unalias(args.ref)
        if not args.ref or not args.alias:
            raise UsageError(
                "%modelbook alias needs a version and an alias, e.g. %modelbook alias churn@3 production."
            )
        return api.alias(args.ref, args.alias)

    def _cmd_env(self, args: argparse.Namespace) -> None:
        print(api.requirements(args.ref), end="")

    def _cmd_history(self, args: argparse.Namespace) -> Any:
        return api.history(args.ref, since=args.since, limit=args.limit)

    def _cmd_feedback(self, args: argparse.Namespace) -> Any:
        labels = self._data(args.labels, "--labels")
        return api.feedback(
            args.model,
            labels=labels,
            id=args.id,
            target=args.target,
            min_labels=args.min_labels,
        )

    def _cmd_diff(self, args: argparse.Namespace) -> Any:
        on = self._lookup(args.on, "--on variable") if args.on else None
        key = args.key[0] if args.key and len(args.key) == 1 else args.key
        return api.diff(args.a, args.b, key=key, on=on, trust=args.trust)

    def _cmd_gc(self, args: argparse.Namespace) -> Any:
        return api.gc(grace_seconds=args.grace)

    def _cmd_check(self, args: argparse.Namespace) -> Any:
        return api.check()

    def _cmd_push(self, args: argparse.Namespace) -> Any:
        return api.push(args.ref, to=args.to, alias=args.alias)

    def _cmd_pull(self, args: argparse.Namespace) -> Any:
        return api.pull(args.ref, from_=args.from_, alias=args.alias)

    def _cmd_rollback(self, args: argparse.Namespace) -> Any:
        return api.rollback(args.ref, reason=args.reason)

    def _cmd_policy(self, args: argparse.Namespace) -> Any:
        return api.policy_status()


def _described(home: Any) -> str:
    if home is None:
        return f"{api.where()} (found as usual: MODELBOOK_HOME, else the nearest .modelbook/)"
    if getattr(home, "is_team", False):  # a team registry's Location: its URL, no password
        return f"{home} (team registry)"
    if (home / "registry.duckdb").exists():
        return str(home)
    return f"{home} (no registry there yet: the first %register creates it)"


def _tags(pairs: Sequence[str]) -> dict[str, str]:
    tags = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--tag {pair!r} is not KEY=VALUE, e.g. --tag team=risk.")
        tags[key] = value
    return tags


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(ModelbookMagics)
