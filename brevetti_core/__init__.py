"""brevetti_core: framework-free job context, sample tables, splits, seeded plans and image kernels.

Never imports torch or tensorflow. Public names are loaded lazily from their modules, so
``import brevetti_core`` stays cheap and a name's home module is listed once, here.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # job context
    "Job": "job", "JobSettings": "settings", "RemoteMonitor": "monitor", "PlatformBackend": "platform_backend",
    "IoTools": "io_tools", "io_tools": "io_tools",
    # sample tables and splits
    "Dataset": "dataset", "get_image_samples": "dataset", "SampleSplit": "split",
    "merge_sample_identification": "sample_identification", "load_sample_identification": "sample_identification",
    "save_sample_identification": "sample_identification",
    # plans
    "DataGenerator": "generator", "StratifiedSampler": "generator",
    "build_image_data_generator": "generator", "Action": "actions", "BatchPlan": "plan", "Plan": "plan",
    "Shard": "sharding", "EpochMonitor": "monitor",
    "SampleError": "executor", "load_plan": "plan_file", "DataSettings": "data_settings",
    # framework adapters
    "get_adapter": "adapters", "register_adapter": "adapters", "registered_adapters": "adapters",
    "Adapter": "adapters", "FrameworkUnavailable": "adapters",
    # kernels
    "OneHotEncoder": "encoding", "ImagePipeline": "image.pipeline", "SegmentationLoader": "segmentation",
    "ImageAugmenter": "augment.augmenter", "RandomTransformer": "augment.transform",
    "ImageNoise": "augment.noise", "ImageFiltering": "augment.filtering",
    "AugmentationPart": "augment.part", "registered_parts": "augment.part",
    # job outputs
    "ModelArchive": "archive", "build_facets": "facets", "export_pivot_table": "pivot", "write_report": "report",
    "ImageDeformation": "augment.deformation", "tile2d": "image.tile", "ImageDecodeError": "image.decode",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'brevetti_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
