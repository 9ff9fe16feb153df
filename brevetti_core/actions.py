"""The steps a generator maps over its samples.

An action separates *what is random* from *what is applied* (as torchvision v2 splits
``make_params`` from its functional kernels): ``sample_params`` draws every random parameter for
a whole epoch at once from the action's own streams, and ``__call__`` applies one slot's
parameters to one sample as a pure function. The parameters become plan columns
(``<prefix>.<name>``), so a plan row plus the file bytes fully determine a sample's output.
"""
from __future__ import annotations

import abc
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .rng import ParamStreams

Sample = dict[str, Any]


class Action(abc.ABC):
    """One mapped step: vectorised parameter sampling plus a pure per-sample kernel."""

    #: Prefix of this action's plan columns, e.g. "aug" gives "aug.rotate_deg".
    plan_prefix: str = ""

    def sample_params(self, streams: ParamStreams, n: int) -> dict[str, np.ndarray]:
        """Every random parameter for `n` slots, as arrays of length n. Deterministic actions draw none."""
        return {}

    @abc.abstractmethod
    def __call__(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        """The sample with this action applied, given this slot's parameters (keys without prefix)."""

    def describe(self) -> str:
        return type(self).__name__


class FunctionAction(Action):
    """A plain user function ``fn(sample) -> sample``; it gets a per-slot ``seed`` if it accepts one."""

    def __init__(self, fn: Callable[..., Sample]):
        if not callable(fn):
            raise TypeError(f"map() expects a callable or an Action, got {fn!r}")
        self.fn = fn
        self.plan_prefix = getattr(fn, "__name__", type(fn).__name__).strip("<>").lower()
        try:
            parameters: Mapping[str, inspect.Parameter] = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            parameters = {}
        self.takes_seed = "seed" in parameters or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())

    def sample_params(self, streams: ParamStreams, n: int) -> dict[str, np.ndarray]:
        return {"seed": streams.seeds("seed", n)} if self.takes_seed else {}

    def __call__(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        result = self.fn(sample, seed=int(params["seed"])) if self.takes_seed else self.fn(sample)
        if not isinstance(result, Mapping):
            raise TypeError(f"map function {self.describe()} must return a dict, got {type(result).__name__}")
        return dict(result)

    def describe(self) -> str:
        return getattr(self.fn, "__qualname__", repr(self.fn))


def as_action(fn: Action | Callable) -> Action:
    """`fn` itself if it is an Action, else a FunctionAction wrapping it."""
    return fn if isinstance(fn, Action) else FunctionAction(fn)
