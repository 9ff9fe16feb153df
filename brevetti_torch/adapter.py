"""The PyTorch adapter's registration (entry point ``brevetti.adapters: torch``)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

import brevetti_torch
from brevetti_core.adapters import Adapter

from .pipeline import to_numpy


def iterate(generator: Any, structure: Any = None, workers: int = 0, **options: Any) -> Iterable[Any]:
    """`generator.get_dataset()` as a DataLoader with `workers` worker processes."""
    return generator.get_dataset(structure=structure, num_workers=workers, **options)


ADAPTER = Adapter("torch", brevetti_torch, iterate, to_numpy, torch.__version__)
