"""`OneHotEncoder`: sample categories to multi-hot float32 vectors."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .actions import Action, Sample


class OneHotEncoder(Action):
    """Writes ``sample[output_key]``: a float32 vector with 1 at each of the sample's categories.

    A category is a tuple of class names (a plain string counts as a 1-tuple), so a multi-label
    sample gets a multi-hot vector. Names not in `classes` contribute nothing: a sample of an
    unknown category encodes to all zeros.
    """

    plan_prefix = "onehot"

    def __init__(self, classes: Iterable[str], input_key: str = "category", output_key: str = "onehot"):
        if isinstance(classes, str):
            raise ValueError(f"OneHotEncoder: classes must be a list of class names, got the string {classes!r}")
        self.classes = [str(c) for c in (classes.tolist() if hasattr(classes, "tolist") else classes)]
        if not self.classes:
            raise ValueError("OneHotEncoder: classes must name at least one class")
        duplicates = sorted({c for c in self.classes if self.classes.count(c) > 1})
        if duplicates:
            raise ValueError(f"OneHotEncoder: classes must be unique, {duplicates} appear more than once")
        self.index = {name: i for i, name in enumerate(self.classes)}
        self.input_key, self.output_key = input_key, output_key

    def encode(self, category: Any) -> np.ndarray:
        """The multi-hot float32 vector of one category (a tuple of names, or one name)."""
        vector = np.zeros(len(self.classes), dtype=np.float32)
        if category is None:
            return vector
        names = (category,) if isinstance(category, (str, bytes)) else category
        for raw in names:
            name = raw.decode() if isinstance(raw, bytes) else str(raw)
            if name in self.index:
                vector[self.index[name]] = 1.0
        return vector

    def __call__(self, sample: Sample, params: Mapping[str, Any] | None = None) -> Sample:
        if self.input_key not in sample:
            raise KeyError(f"OneHotEncoder: the sample has no {self.input_key!r} (it has {sorted(sample)}); "
                           "set input_key")
        result = dict(sample)
        result[self.output_key] = self.encode(sample[self.input_key])
        return result

    def describe(self) -> str:
        return f"OneHotEncoder({len(self.classes)} classes)"
