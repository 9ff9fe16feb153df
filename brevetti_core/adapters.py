"""The framework adapters: one registry, one protocol, so core code never names a framework.

An adapter is a package that mirrors ``brevetti_core``'s public names (``DataGenerator``,
``build_image_data_generator``, ...) with flavours whose ``get_dataset()`` returns the
framework's objects, plus an ``Adapter`` object describing it. Adapters are registered the way
fsspec registers filesystems: by name, pointing at ``"module:attribute"``, loaded on first use.
Installed packages register through the ``brevetti.adapters`` entry-point group (ours do so in
``pyproject.toml``; a JAX adapter would be one new package plus one entry point line), and code
can call ``register_adapter`` directly. ``numpy``, the core itself, is always registered.

Listing names never imports a framework; ``get_adapter(name)`` imports it, and turns a missing
framework into ``FrameworkUnavailable`` with the command that installs it.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

ENTRY_POINT_GROUP = "brevetti.adapters"


class FrameworkUnavailable(ImportError):
    """The chosen framework is not installed; the message gives the command that installs it."""


@dataclass(frozen=True)
class Adapter:
    """One framework: its package of flavoured names, how to iterate a generator, how to read a batch back.

    `iterate(generator, structure=None, workers=0, **options)` yields the framework's batches the
    way its users iterate them (`workers`: DataLoader workers, tf.data parallel calls); `to_numpy`
    turns one back into the core's numpy batch (NHWC images, str arrays), for fingerprints and
    parity checks. `version` is the framework's version, recorded beside fingerprints.
    """

    name: str
    package: ModuleType
    iterate: Callable[..., Iterable[Any]]
    to_numpy: Callable[[Any], Any]
    version: str | None = None

    @property
    def generator_type(self) -> type:
        """The package's DataGenerator flavour."""
        return self.package.DataGenerator

    def build_image_data_generator(self, samples: Any, **settings: Any) -> Any:
        """The package's build_image_data_generator."""
        return self.package.build_image_data_generator(samples, **settings)


@dataclass(frozen=True)
class _Registration:
    target: str
    extra: str | None


_registry: dict[str, _Registration] = {}
_loaded: dict[str, Adapter] = {}


def register_adapter(name: str, target: str, extra: str | None = None, clobber: bool = False) -> None:
    """Register the adapter `name` as ``"module:attribute"``; `extra` is the pip extra that installs it."""
    if not clobber and name in _registry and _registry[name].target != target:
        raise ValueError(f"adapter {name!r} is already registered as {_registry[name].target}; pass clobber=True")
    _registry[name] = _Registration(target, extra)
    _loaded.pop(name, None)


def _discover() -> None:
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name not in _registry:
            extras = point.extras
            _registry[point.name] = _Registration(point.value.split("[")[0].strip(), extras[0] if extras else None)


def registered_adapters() -> list[str]:
    """Names of every registered adapter ("numpy" first), without importing any framework."""
    _discover()
    return ["numpy", *sorted(name for name in _registry if name != "numpy")]


def get_adapter(name: str) -> Adapter:
    """The adapter registered as `name`; ValueError listing the registered ones for an unknown name."""
    if name in _loaded:
        return _loaded[name]
    names = registered_adapters()
    if name not in names:
        raise ValueError(f"unknown framework {name!r}; registered adapters: {', '.join(names)}")
    registration = _registry[name]
    module, _, attribute = registration.target.partition(":")
    try:
        adapter = getattr(importlib.import_module(module), attribute)
    except ImportError as error:
        extra = f'".[{registration.extra}]"' if registration.extra else "the framework"
        raise FrameworkUnavailable(
            f"framework {name!r} is not installed ({error}); install it with: pip install -c constraints.txt -e {extra}"
            f"   (or run `make demo`, which installs everything)") from error
    if not isinstance(adapter, Adapter):
        raise TypeError(f"adapter {name!r} ({registration.target}) is a {type(adapter).__name__}, not an Adapter")
    _loaded[name] = adapter
    return adapter


def to_numpy(batch: Any, framework: str) -> Any:
    """A batch yielded by `framework`'s get_dataset() as the core's numpy batch."""
    return get_adapter(framework).to_numpy(batch)


def _iterate_numpy(generator: Any, structure: Any = None, workers: int = 0, **options: Any) -> Iterable[Any]:
    return generator.get_dataset_numpy(structure=structure, **options)


NUMPY = Adapter("numpy", importlib.import_module("brevetti_core"), _iterate_numpy, lambda batch: batch)
"""The core itself: numpy batches, no framework."""

register_adapter("numpy", f"{__name__}:NUMPY")
