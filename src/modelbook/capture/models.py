"""Model flavors: how each kind of model is turned into bytes and back.

- ``sklearn``: scikit-learn estimators and pipelines, stored with skops (no pickle). At load
  time the types found in the file are checked: types from scikit-learn, numpy and scipy load
  without asking; anything else needs ``trust=True``.
- ``xgboost`` / ``lightgbm``: their own model formats, when the libraries are installed.
- ``pickle``: any other object with ``predict``; marked untrusted, because unpickling runs code.
"""

from __future__ import annotations

import copy
import importlib
import io
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelbook.errors import ModelbookError, UnsupportedObjectError, UntrustedArtifactError

__all__ = [
    "SUPPORTED_MODELS",
    "SerializedModel",
    "deserialize",
    "flatten_params",
    "is_model",
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
