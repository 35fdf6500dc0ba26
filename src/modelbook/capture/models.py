"""Model flavors: how each kind of model is turned into bytes and back.

- ``sklearn``: scikit-learn estimators and pipelines, stored with skops (no pickle). At load
  time the types found in the file are checked: types from scikit-learn, numpy and scipy load
  without asking; anything else needs ``trust=True``.
- ``xgboost`` / ``lightgbm``: their own model formats, when the libraries are installed.
- ``pickle``: any other object with ``predict``; marked untrusted, because unpickling runs code.

Serialised bytes are not stable across runs (skops writes a zip with timestamps, pickle memo
order varies), so a model's *identity* is computed separately, by :func:`model_identity`: a hash
of its class, parameters and learned state, walked the way pickle walks an object but with
sorted sets and dict keys, numpy arrays hashed by dtype, shape and bytes (structured arrays field
by field, so padding never counts) and functions by qualified name. The same estimator fitted
with the same data and seed in two processes gets the same identity; so re-running a notebook
finds the version it stored last time instead of storing a copy.
"""

from __future__ import annotations

import copy
import importlib
import io
import pickle
import struct
import sys
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelbook.errors import ModelbookError, UnsupportedObjectError, UntrustedArtifactError

__all__ = [
    "SUPPORTED_MODELS",
    "SerializedModel",
    "check_fitted",
    "deserialize",
    "flatten_params",
    "is_model",
    "model_identity",
    "serialize",
]

SUPPORTED_MODELS = (
    "scikit-learn estimators and pipelines, XGBoost and LightGBM models, "
    "or any picklable object with a predict() method"
)
_SAFE_MODULES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.", "_operator.")


@dataclass(frozen=True)
class SerializedModel:
    flavor: str
    class_name: str
    payload: bytes
    trusted: bool
    params: dict[str, Any]


def _qualname(obj: object) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def is_model(obj: object) -> bool:
    """Anything with a callable ``predict`` is treated as a model."""
    return callable(getattr(obj, "predict", None))


def check_fitted(obj: object) -> None:
    """Refuse an estimator that was never fitted (monitoring it would fail on predict)."""
    if "sklearn" not in sys.modules or not callable(getattr(obj, "fit", None)):
        return
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(obj, BaseEstimator) and not hasattr(obj, "__sklearn_is_fitted__"):
        return
    try:
        check_is_fitted(obj)
    except NotFittedError:
        short = type(obj).__name__
        raise UnsupportedObjectError(
            f"cannot register an unfitted {short}: fit it first (e.g. model.fit(X, y)); a model "
            "that was never trained cannot predict, so monitoring it would fail."
        ) from None
    except (TypeError, AttributeError):  # not an estimator check_is_fitted understands
        return


class _Unhashable(Exception):
    """The object holds something without a stable identity; such a model is never deduped."""


def model_identity(obj: object) -> str | None:
    """A digest of ``obj``'s class, parameters and learned state, stable across processes.

    None when some part of the object cannot be walked deterministically (then every
    registration stores a new version, as before).
    """
    try:
        return "xxh3:" + _structure_digest(obj)
    except (_Unhashable, RecursionError):
        return None


def _structure_digest(obj: object) -> str:
    import numpy as np
    import xxhash

    digest = xxhash.xxh3_128()
    update = digest.update
    memo: dict[int, int] = {}
    alive: list[Any] = []  # keep reduce() results alive, so their ids stay unique

    def size(n: int) -> bytes:
        return struct.pack("<q", n)

    def key_of(value: Any) -> str:
        return "s" + value if type(value) is str else "h" + _structure_digest(value)

    def walk(x: Any, depth: int) -> None:
        if depth > 500:
            raise _Unhashable("nested too deeply")
        if x is None or x is True or x is False or x is Ellipsis:
            update(b"c" + repr(x).encode())
            return
        kind = type(x)
        if kind is int:
            text = str(x).encode()
            update(b"i" + size(len(text)) + text)
            return
        if kind is float:
            update(b"f" + struct.pack("<d", x))
            return
        if kind is complex:
            update(b"j" + struct.pack("<dd", x.real, x.imag))
            return
        if kind is str:
            data = x.encode("utf-8", "surrogatepass")
            update(b"s" + size(len(data)) + data)
            return
        if kind in (bytes, bytearray):
            update(b"b" + size(len(x)))
            update(x)
            return
        if id(x) in memo:  # shared or cyclic reference: its first-visit number
            update(b"r" + size(memo[id(x)]))
            return
        memo[id(x)] = len(memo)
        alive.append(x)
        if isinstance(x, np.ndarray):
            update(b"a" + x.dtype.str.encode() + repr(x.shape).encode())
            if x.dtype.hasobject:
                if x.dtype.names:
                    raise _Unhashable("structured object array")
                update(b"O")
                for item in x.ravel(order="C"):
                    walk(item, depth + 1)
            elif x.dtype.names:  # field by field: padding bytes are not data
                for field in x.dtype.names:
                    update(b"n" + field.encode())
                    update(np.ascontiguousarray(x[field]).tobytes())
            elif x.size:
                update(np.ascontiguousarray(x).reshape(-1).view(np.uint8).data)
            return
        if isinstance(x, np.generic):
            update(b"g" + x.dtype.str.encode())
            walk(x.item() if x.dtype.kind not in "OV" else x.tobytes(), depth + 1)
            return
        if kind in (list, tuple):
            update((b"l" if kind is list else b"t") + size(len(x)))
            for item in x:
                walk(item, depth + 1)
            return
        if kind is dict:
            update(b"d" + size(len(x)))
            for key, _k, value in sorted(
                ((key_of(k), k, v) for k, v in x.items()), key=lambda item: item[0]
            ):
                update(b"k" + key.encode())
                walk(value, depth + 1)
            return
        if kind in (set, frozenset):
            update(b"S" + size(len(x)))
            for key in sorted(key_of(item) for item in x):
                update(b"k" + key.encode())
            return
        if isinstance(x, types.FunctionType) and (
            "<lambda>" in x.__qualname__ or "<locals>" in x.__qualname__
        ):  # no importable name: its code stands for it
            update(b"L" + f"{x.__module__}.{x.__qualname__}".encode())
            walk(x.__code__.co_code, depth + 1)
            walk(repr(x.__code__.co_consts), depth + 1)
            return
        if isinstance(
            x, (type, types.FunctionType, types.BuiltinFunctionType, types.ModuleType, np.ufunc)
        ):
            name = getattr(x, "__qualname__", None) or getattr(x, "__name__", None)
            module = getattr(x, "__module__", None) or ""
            if isinstance(x, np.ufunc):
                module = "numpy"
            update(b"N" + f"{module}.{name}".encode())
            return
        try:
            reduced = x.__reduce_ex__(4)
        except Exception as exc:
            raise _Unhashable(f"{type(x).__name__}: {exc}") from exc
        alive.append(reduced)
        if isinstance(reduced, str):  # a global singleton
            update(b"G" + reduced.encode())
            return
        update(b"R" + size(len(reduced)))
        for part in reduced:
            if isinstance(part, types.GeneratorType) or (
                hasattr(part, "__next__") and not isinstance(part, (str, bytes))
            ):
                part = list(part)
                alive.append(part)
            walk(part, depth + 1)

    walk(obj, 0)
    return str(digest.hexdigest())


def _flavor(obj: object) -> str:
    module = type(obj).__module__.split(".")[0]
    if module == "xgboost":
        return "xgboost"
    if module == "lightgbm":
        return "lightgbm"
    if module == "sklearn":
        return "sklearn"
    return "pickle"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return _jsonable(value.item())
    if hasattr(value, "get_params"):
        return type(value).__name__
    return repr(value)


def flatten_params(obj: object) -> dict[str, Any]:
    """``get_params(deep=True)`` as JSON-able values (estimators shown by class name)."""
    get_params = getattr(obj, "get_params", None)
    if not callable(get_params):
        return {}
    try:
        params = get_params(deep=True)
    except Exception:  # a broken custom get_params must not block registration
        return {}
    return {str(k): _jsonable(v) for k, v in sorted(params.items())}


def serialize(obj: object) -> SerializedModel:
    flavor = _flavor(obj)
    params = flatten_params(obj)
    if flavor == "sklearn":
        import skops.io as sio

        try:
            payload = sio.dumps(obj)
        except Exception:
            flavor = "pickle"  # skops cannot express every object; fall back, untrusted
        else:
            return SerializedModel(flavor, _qualname(obj), payload, True, params)
    if flavor in {"xgboost", "lightgbm"}:
        return SerializedModel(flavor, _qualname(obj), _native_dump(obj, flavor), True, params)
    try:
        payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise UnsupportedObjectError(
            f"cannot store {_qualname(obj)}: it cannot be pickled ({exc}); supported models are "
            f"{SUPPORTED_MODELS}."
        ) from exc
    return SerializedModel("pickle", _qualname(obj), payload, False, params)


def _frame(parts: list[bytes]) -> bytes:
    return b"".join(len(p).to_bytes(8, "big") + p for p in parts)


def _unframe(payload: bytes) -> list[bytes]:
    parts, at = [], 0
    while at < len(payload):
        size = int.from_bytes(payload[at : at + 8], "big")
        parts.append(payload[at + 8 : at + 8 + size])
        at += 8 + size
    return parts


def _native_dump(obj: Any, flavor: str) -> bytes:
    """The booster in the library's own format; a LightGBM sklearn wrapper's other state via skops.

    XGBoost's format keeps its scikit-learn wrapper's attributes, so the class name is enough.
    """
    if flavor == "xgboost":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.ubj"
            obj.save_model(str(path))
            return _frame([_qualname(obj).encode(), path.read_bytes()])
    import skops.io as sio

    if not hasattr(obj, "booster_"):  # a bare lightgbm.Booster
        return _frame([_qualname(obj).encode(), obj.model_to_string().encode(), b""])
    wrapper = copy.copy(obj)
    wrapper._Booster = None
    return _frame(
        [_qualname(obj).encode(), obj.booster_.model_to_string().encode(), sio.dumps(wrapper)]
    )


def _native_load(payload: bytes, flavor: str, *, trust: bool, what: str) -> Any:
    class_path, booster, *rest = _unframe(payload)
    module_name, _, class_name = class_path.decode().rpartition(".")
    if not module_name.startswith(flavor) and not trust:
        raise UntrustedArtifactError(
            f"{what} names the class {class_path.decode()}, outside {flavor}: load it with "
            "trust=True (--trust) only if you trust whoever registered it."
        )
    cls = getattr(importlib.import_module(module_name), class_name)
    if flavor == "xgboost":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.ubj"
            path.write_bytes(booster)
            model = cls()
            model.load_model(str(path))
            return model
    import lightgbm

    native = lightgbm.Booster(model_str=booster.decode())
    if not rest or not rest[0]:
        return native
    wrapper = _skops_load(rest[0], trust=trust, what=what, extra_safe=("lightgbm.",))
    wrapper._Booster = native
    return wrapper


def _skops_load(payload: bytes, *, trust: bool, what: str, extra_safe: tuple[str, ...] = ()) -> Any:
    import skops.io as sio

    found = sio.get_untrusted_types(data=payload)
    unsafe = [t for t in found if not t.startswith(_SAFE_MODULES + extra_safe)]
    if unsafe and not trust:
        raise UntrustedArtifactError(
            f"{what} contains types outside scikit-learn/numpy/scipy ({', '.join(unsafe[:5])}); "
            "load it with trust=True (--trust) only if you trust whoever registered it."
        )
    return sio.loads(payload, trusted=found)


def deserialize(flavor: str, payload: bytes, *, trust: bool, what: str) -> Any:
    """Rebuild a model; ``trust`` allows pickle and types outside the safe list."""
    if flavor == "sklearn":
        return _skops_load(payload, trust=trust, what=what)
    if flavor in {"xgboost", "lightgbm"}:
        try:
            return _native_load(payload, flavor, trust=trust, what=what)
        except ImportError as exc:
            raise ModelbookError(
                f"{what} is a {flavor} model: install it with `pip install {flavor}` to load it."
            ) from exc
    if flavor == "pickle":
        if not trust:
            raise UntrustedArtifactError(
                f"{what} was stored with pickle, and unpickling can run arbitrary code: load it "
                "with trust=True (--trust) only if you trust whoever registered it."
            )
        return pickle.load(io.BytesIO(payload))
    raise ModelbookError(f"{what} has an unknown flavor {flavor!r}: upgrade modelbook.")
