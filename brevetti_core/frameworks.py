"""Choosing a framework by name: the numpy core, or the torch / tf adapter when it is installed."""
from __future__ import annotations

import importlib
from types import ModuleType

FRAMEWORKS = ("numpy", "torch", "tf")
_ADAPTERS = {"numpy": ("brevetti_core", None), "torch": ("brevetti_torch", "torch"), "tf": ("brevetti_tf", "tf")}


class FrameworkUnavailable(ImportError):
    """The chosen framework is not installed; the message gives the command that installs it."""


def adapter(framework: str) -> ModuleType:
    """The package whose DataGenerator flavour serves `framework` ("numpy", "torch" or "tf")."""
    if framework not in _ADAPTERS:
        raise ValueError(f"framework must be one of {list(FRAMEWORKS)}, got {framework!r}")
    package, extra = _ADAPTERS[framework]
    try:
        return importlib.import_module(package)
    except ImportError as error:
        raise FrameworkUnavailable(
            f"framework {framework!r} is not installed ({error}); install it with: "
            f"pip install -c constraints.txt -e \".[{extra}]\"   (or run `make demo`, which installs everything)"
        ) from error


def to_numpy(batch, framework: str):
    """A batch yielded by `framework`'s get_dataset() as the core's numpy batch (NHWC, str arrays)."""
    if framework == "numpy":
        return batch
    return importlib.import_module(f"{adapter(framework).__name__}.pipeline").to_numpy(batch)
