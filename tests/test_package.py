"""Package-level rules: a light import, an engine without IPython, a guarded public surface."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import modelbook

SRC = Path(modelbook.__file__).parent


def _run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_import_is_light() -> None:
    code = (
        "import time; t = time.perf_counter(); import modelbook; a = time.perf_counter() - t; "
        "import sys; heavy = [m for m in ('pandas', 'scipy', 'altair', 'duckdb', 'pyarrow', "
        "'sklearn', 'IPython') if m in sys.modules]; print(a, heavy)"
    )
    elapsed, heavy = _run(code).split(" ", 1)
    assert float(elapsed) < 0.3
    assert heavy == "[]"


def test_extension_load_is_light() -> None:
    code = (
        "from IPython.testing.globalipapp import get_ipython; ip = get_ipython(); import time, sys; "
        "t = time.perf_counter(); ip.run_line_magic('load_ext', 'modelbook'); "
        "a = time.perf_counter() - t; print(a, [m for m in ('pandas', 'scipy', 'altair') "
        "if m in sys.modules])"
    )
    elapsed, heavy = _run(code).split(" ", 1)
    assert float(elapsed) < 0.3
    assert heavy == "[]"


def test_engine_never_imports_ipython() -> None:
    allowed = {"magics.py"}
    offenders = []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC)
        if relative.name in allowed or relative.parts[0] in {"widgets", "server"}:
            continue
        text = path.read_text()
        if "import IPython" in text or "from IPython" in text:
            offenders.append(str(relative))
    assert offenders == []


def test_public_names_are_exported_and_resolve() -> None:
    assert sorted(modelbook.__all__) == sorted(set(modelbook.__all__))
    for name in modelbook.__all__:
        assert getattr(modelbook, name) is not None, name
    public = {n for n in dir(modelbook) if not n.startswith("_")}
    assert public <= set(modelbook.__all__) | {"errors", "annotations", "importlib"}


def test_every_magic_flag_is_an_api_keyword() -> None:
    """``--target`` on a magic ↔ ``target=`` on the API function it calls."""
    from modelbook import magics

    pairs = [(magics.REGISTER, modelbook.register)]
    monitor_parser = getattr(magics, "MONITOR", None)
    if monitor_parser is not None:
        pairs.append((monitor_parser, modelbook.monitor))  # type: ignore[attr-defined]
    for parser, function in pairs:
        keywords = set(inspect.signature(function).parameters)
        for action in parser._actions:
            if not action.option_strings or action.dest == "help":
                continue
            assert action.dest in keywords, (
                f"{parser.prog} {action.option_strings[0]} ↔ {function.__name__}"
            )
