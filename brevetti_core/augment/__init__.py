"""Random augmentation: `ImageAugmenter` and its parts (transform, deformation, filtering, noise).

Each part separates what is random from what is applied: ``sample_params(streams, n)`` draws a
whole epoch's parameters at once, one independent stream per parameter name, and ``apply(image,
params)`` is a pure kernel. A parameter that a chance switched off takes its neutral value (0
degrees, scale 1, ...), so the plan shows exactly what was applied to each sample. Values are
drawn as float32 to keep plans of millions of rows small; the draws for slot i never depend on n.

This module holds the conventions the parts share; import the parts from their modules.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..rng import ParamStreams


def check_chance(owner: str, name: str, value: float) -> float:
    """`value` as a float if it is a probability in [0, 1]; ValueError naming the setting otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not 0 <= value <= 1:
        raise ValueError(f"{owner}: {name} is a chance and must be in [0, 1], got {value!r}")
    return float(value)


def check_range(owner: str, name: str, value: float | Sequence[float], symmetric: bool = True,
                minimum: float | None = None) -> tuple[float, float]:
    """(low, high) from a pair, or from one number v as (-v, v) when `symmetric`."""
    message = (f"{owner}: {name} must be a number >= 0 (meaning +-{name}) or a (low, high) pair"
               if symmetric else f"{owner}: {name} must be a (low, high) pair")
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if not symmetric or value < 0:
            raise ValueError(f"{message}, got {value!r}")
        low, high = -float(value), float(value)
    else:
        try:
            low, high = (float(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"{message}, got {value!r}") from None
        if low > high:
            raise ValueError(f"{message} with low <= high, got {value!r}")
    if minimum is not None and low < minimum:
        raise ValueError(f"{owner}: {name} must not go below {minimum}, got {value!r}")
    return low, high


def draws(streams: ParamStreams, name: str, n: int, k: int) -> np.ndarray:
    """(n, k) float32 uniforms in [0, 1) from the stream `name`; row i depends only on i."""
    return streams.generator(name).random((n, k), dtype=np.float32)


def gated(gate: np.ndarray, value: np.ndarray, off: float) -> np.ndarray:
    """`value` where `gate` is True, `off` elsewhere, as float32."""
    return np.where(gate, value, np.float32(off)).astype(np.float32, copy=False)


def between(u: np.ndarray, low: float, high: float) -> np.ndarray:
    """Uniforms `u` in [0, 1) mapped to [low, high), in float32."""
    return np.float32(low) + np.float32(high - low) * u
