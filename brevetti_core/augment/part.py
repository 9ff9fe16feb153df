"""`AugmentationPart`: the interface every step of `ImageAugmenter` fills in, and the registry of parts by name.

A part draws a whole epoch's parameters in ``sample_params(streams, n)`` and applies one slot's in
the pure kernel ``apply(image, params)``. It declares, rather than leaves the augmenter to guess,
whether it is geometric (labels move with the image, nearest interpolation, through
``apply_label``) or photometric (labels pass through untouched), and what its output looks like.
A subclass that sets ``name`` registers under it, so settings can list parts by name:
``{"parts": [{"name": "random_transformer", "rotate_chance": 0}, {"name": "my_part"}]}``.
"""
from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..rng import ParamStreams

_registry: dict[str, type[AugmentationPart]] = {}


@dataclass(frozen=True)
class OutputSpec:
    """What a part's kernel promises about its output, checked on every image it returns."""

    #: The output has the input's shape (HWC); False lets a part crop, pad or change channels.
    keeps_shape: bool = True
    #: The numpy dtype of the output.
    dtype: str = "float32"

    def check(self, part: str, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """`after` if it keeps this promise; ValueError naming `part` and the broken promise otherwise."""
        if self.keeps_shape and after.shape != before.shape:
            raise ValueError(f"augmentation part {part!r} turned shape {before.shape} into {after.shape} but "
                             f"declares keeps_shape=True (declare output = OutputSpec(keeps_shape=False))")
        if after.dtype != np.dtype(self.dtype):
            raise ValueError(f"augmentation part {part!r} returned {after.dtype} but declares dtype {self.dtype!r}")
        return after


class AugmentationPart(abc.ABC):
    """One augmentation step: a vectorised parameter sampler and a pure kernel.

    Subclasses set ``name`` (which registers them), ``geometric`` and, when the kernel changes the
    shape or dtype, ``output``. Parameter names are plan columns ``aug.<name>`` shared by all parts
    of an augmenter, and each is drawn from its own stream ``streams.generator(<name>)``, so they
    must not clash with another part's.
    """

    #: The name settings refer to the part by; setting it in a subclass registers the subclass.
    name: ClassVar[str]
    #: True: the part moves pixels, and ``apply_label`` moves label maps alike with nearest interpolation.
    geometric: ClassVar[bool] = False
    output: ClassVar[OutputSpec] = OutputSpec()

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        moves_labels = cls.apply_label is not AugmentationPart.apply_label
        if cls.geometric and not moves_labels:
            raise TypeError(f"augmentation part {cls.__qualname__} is declared geometric but defines no apply_label: "
                            f"labels must move with the image (nearest interpolation)")
        if moves_labels and not cls.geometric:
            raise TypeError(f"augmentation part {cls.__qualname__} defines apply_label but is not declared geometric: "
                            f"set geometric = True, or drop apply_label so labels pass through unchanged")
        if "name" in cls.__dict__:
            _register(cls)

    @abc.abstractmethod
    def sample_params(self, streams: ParamStreams, n: int) -> dict[str, np.ndarray]:
        """Every parameter of n slots as arrays of length n; slot i's values must not depend on n."""

    @abc.abstractmethod
    def apply(self, image: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        """`image` (HWC float32) with one slot's `params` applied; a pure function of its arguments."""

    def apply_label(self, label: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        """`label` (HWC) as this part leaves it: unchanged here; geometric parts move it, nearest."""
        return label


def registered_parts() -> dict[str, type[AugmentationPart]]:
    """The registered part classes by name (the built-ins register when `augment.augmenter` is imported)."""
    return dict(sorted(_registry.items()))


def _register(cls: type[AugmentationPart]) -> None:
    name = cls.__dict__["name"]
    if not isinstance(name, str) or not name:
        raise TypeError(f"augmentation part {cls.__qualname__}: name must be a non-empty string, got {name!r}")
    taken = _registry.get(name)
    # The same class defined again (a re-run notebook cell, a reloaded module) replaces itself.
    if taken is not None and (taken.__module__, taken.__qualname__) != (cls.__module__, cls.__qualname__):
        raise TypeError(f"augmentation part name {name!r} of {cls.__module__}.{cls.__qualname__} is taken by "
                        f"{taken.__module__}.{taken.__qualname__}")
    _registry[name] = cls
