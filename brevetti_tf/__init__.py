"""brevetti_tf: the TensorFlow adapter. Executes brevetti_core plans as TensorFlow data pipelines.

Every public name of brevetti_core is available here too, so code written against the
reference SDK only changes its import lines.
"""
from __future__ import annotations

import os
from typing import Any

# Quiet TensorFlow's start-up unless the user chose otherwise; must precede its first import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import brevetti_core as _core  # noqa: E402

from .generator import DataGenerator, StratifiedSampler, build_image_data_generator  # noqa: E402


def __getattr__(name: str) -> Any:
    return getattr(_core, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(dir(_core)))
