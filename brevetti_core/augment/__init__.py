"""Random augmentation: `ImageAugmenter` and its parts (transform, deformation, filtering, noise, or your own).

Each part separates what is random from what is applied: ``sample_params(streams, n)`` draws a
whole epoch's parameters at once, one independent stream per parameter name, and ``apply(image,
params)`` is a pure kernel. A parameter that a chance switched off takes its neutral value (0
degrees, scale 1, ...), so the plan shows exactly what was applied to each sample. Values are
drawn as float32 to keep plans of millions of rows small; the draws for slot i never depend on n.
Draws scale exact uniforms by element-wise float32 arithmetic, and the kernels derive matrices and
filter taps from them by the portable recipe of `brevetti_core.portable`, so a plan and its
batches are the same bytes on every CPU.

This module holds the sampling conventions the parts share, `part` their interface and registry by
name; import the parts from their modules.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
        pair: Any = value  # a list (from JSON), tuple or array; anything else fails below
        try:
            low, high = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ValueError(f"{message}, got {value!r}") from None
        if low > high:
            raise ValueError(f"{message} with low <= high, got {value!r}")
    if minimum is not None and low < minimum:
        raise ValueError(f"{owner}: {name} must not go below {minimum}, got {value!r}")
    return low, high


def draw(streams: ParamStreams, name: str, n: int) -> np.ndarray:
    """n float32 uniforms in [0, 1) from the stream `name`; value i depends only on i."""
    return streams.generator(name).random(n, dtype=np.float32)


def gated_uniform(streams: ParamStreams, name: str, n: int, chance: float, low: float, high: float,
                  off: float) -> tuple[np.ndarray, np.ndarray]:
    """(values, gate): U(low, high) where a `chance` gate is open, `off` elsewhere; one draw per slot.

    Given ``u < chance``, ``u / chance`` is again uniform on [0, 1), so a single draw both decides
    and sets the value: half the random numbers and memory of drawing them apart.
    """
    u = draw(streams, name, n)
    gate = u < np.float32(chance)
    u *= np.float32((high - low) / chance) if chance > 0 else np.float32(0)
    u += np.float32(low)
    return select(gate, u, off), gate


def uniform_where(streams: ParamStreams, name: str, n: int, gate: np.ndarray, low: float, high: float,
                  off: float) -> np.ndarray:
    """U(low, high) from the stream `name` where `gate` is open, `off` elsewhere (float32)."""
    u = draw(streams, name, n)
    u *= np.float32(high - low)
    u += np.float32(low)
    return select(gate, u, off)


def select(gate: np.ndarray, values: np.ndarray, off: float) -> np.ndarray:
    """`values` (float32, overwritten) where `gate`, else `off`.

    Arithmetic rather than np.where: with a 0/1 gate ``v * 1 + off * 0 == v`` and ``v * 0 + off * 1
    == off`` exactly (the added +0.0 also turns -0.0 into 0.0), and it runs several times faster
    than a masked select over a random mask, which matters for plans of millions of slots.
    """
    opened = gate.astype(np.float32)
    values *= opened
    closed = np.float32(1) - opened
    closed *= np.float32(off)
    values += closed
    return values
