"""Lazy imports of optional dependencies with an install hint."""

from __future__ import annotations

import importlib
from types import ModuleType

from calovq.exceptions import CaloVQError

_EXTRA = {
    "matplotlib": "plot",
    "matplotlib.pyplot": "plot",
    "sklearn": "eval",
    "sklearn.metrics": "eval",
    "sklearn.isotonic": "eval",
    "onnx": "onnx",
    "onnxruntime": "onnx",
}


def require(module: str) -> ModuleType:
    """Import ``module`` or raise :class:`CaloVQError` naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        extra = _EXTRA.get(module, "all")
        msg = f"{module} is needed for this feature: pip install 'calovq[{extra}]'"
        raise CaloVQError(msg) from exc
