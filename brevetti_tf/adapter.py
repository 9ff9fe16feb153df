"""The TensorFlow adapter's registration (entry point ``brevetti.adapters: tf``)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import tensorflow as tf

import brevetti_tf
from brevetti_core.adapters import Adapter

from .pipeline import to_numpy


def iterate(generator: Any, structure: Any = None, workers: int = 0, **options: Any) -> Iterable[Any]:
    """`generator.get_dataset()` as a tf.data.Dataset with `workers` parallel calls (0: sequential)."""
    return generator.get_dataset(structure=structure, num_parallel_calls=workers or None, **options)


ADAPTER = Adapter("tf", brevetti_tf, iterate, to_numpy, tf.__version__)
