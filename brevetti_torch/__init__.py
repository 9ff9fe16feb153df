"""brevetti_torch: the PyTorch adapter. Executes brevetti_core plans as PyTorch data pipelines.

Every public name of brevetti_core is available here too, so code written against the
reference SDK only changes its import lines.
"""
from __future__ import annotations

import logging
import sys
from typing import Any

import brevetti_core as _core

if "tensorflow" in sys.modules and "torch._dynamo" not in sys.modules:
    logging.getLogger(__name__).warning(
        "TensorFlow was imported before brevetti_torch: torch's compiler stack (torch._dynamo, loaded by torch.optim, "
        "torch.export and torchvision.models) crashes this process if it loads after TensorFlow; in a session that "
        "uses both frameworks, import brevetti_torch (or torch) before TensorFlow")

# Redundant aliases mark these as re-exports: the adapter's own versions shadow brevetti_core's.
from .generator import DataGenerator as DataGenerator
from .generator import StratifiedSampler as StratifiedSampler
from .generator import build_image_data_generator as build_image_data_generator


def __getattr__(name: str) -> Any:
    return getattr(_core, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(dir(_core)))
