"""brevetti_tf: the TensorFlow adapter. Executes brevetti_core plans as TensorFlow data pipelines.

Every public name of brevetti_core is available here too, so code written against the
reference SDK only changes its import lines.
"""
from __future__ import annotations

import os
import sys
from typing import Any

# Quiet TensorFlow's start-up unless the user chose otherwise; must precede its first import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

if "torch" in sys.modules and "tensorflow" not in sys.modules:
    # torch's compiler stack (torch._dynamo, loaded by torch.optim, torch.export and torchvision.models) loads
    # triton, whose native library crashes the process (SIGSEGV) when TensorFlow's is already loaded, but not
    # the other way round. A session that uses both frameworks gets it loaded now, before TensorFlow.
    import torch._dynamo  # noqa: F401

import brevetti_core as _core

# Redundant aliases mark these as re-exports: the adapter's own versions shadow brevetti_core's.
from .generator import DataGenerator as DataGenerator
from .generator import StratifiedSampler as StratifiedSampler
from .generator import build_image_data_generator as build_image_data_generator


def __getattr__(name: str) -> Any:
    return getattr(_core, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(dir(_core)))
