"""`DataSettings`: every setting that fixes a job's data, from listing to batches, as one typed block.

A job's settings embed it (``data: DataSettings``) so that the same block, read back from a job
definition or a JSON file, rebuilds exactly the same batches in any framework (the demo job and
``brevetti fingerprint`` both build their generators here).
"""
from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
from pydantic import Field, field_validator

from .adapters import get_adapter
from .dataset import Dataset, get_image_samples
from .generator import DataGenerator, category_classes
from .settings import JobSettings
from .split import SampleSplit


class DataSettings(JobSettings):
    """Datasets, classes, split and pipeline of a training job."""

    datasets: list[str] = Field(default_factory=list, description="Folders or s3:// URIs; empty: the job's datasets")
    classes: list[str] | None = Field(None, description="Class names; None: every category found")
    class_mapping: dict[str, str | list[str]] | None = Field(None, description="Folder name -> class(es)")
    split: SampleSplit = Field(default_factory=lambda: SampleSplit(seed=0), description="Train/devel split")
    batch_size: int = Field(32, ge=1, description="Samples per batch")
    shuffle: bool = Field(True, description="Shuffle the training order each epoch")
    seed: int = Field(0, ge=0, description="Seed of the plan: order and every augmentation parameter")
    image: dict[str, Any] = Field(default_factory=lambda: {"target_size": [224, 224], "antialias": True,
                                                            "rescale": "imagenet"},
                                  description="ImagePipeline settings")
    augmentation: dict[str, Any] | None = Field(default_factory=dict,
                                                description="ImageAugmenter settings: its keywords, or parts in order "
                                                            "as {\"parts\": [{\"name\": ..., <settings>}, ...]}; "
                                                            "null: no augmentation")

    @field_validator("image")
    @classmethod
    def _image_builds_a_pipeline(cls, image: dict[str, Any]) -> dict[str, Any]:
        # Checked here, at init, rather than when run() builds the generator and a job already exists.
        from .image.pipeline import ImagePipeline

        check_keywords(ImagePipeline, image, "ImagePipeline")
        _build(ImagePipeline, image)
        return image

    @field_validator("augmentation")
    @classmethod
    def _augmentation_builds_an_augmenter(cls, augmentation: dict[str, Any] | None) -> dict[str, Any] | None:
        if augmentation is None:
            return None
        from .augment.augmenter import ImageAugmenter, part_class

        check_keywords(ImageAugmenter, augmentation, "ImageAugmenter")
        for keyword, value in augmentation.items():
            if keyword == "parts" and isinstance(value, list):
                for index, spec in enumerate(value):
                    if isinstance(spec, Mapping) and "name" in spec:
                        settings = {k: v for k, v in spec.items() if k != "name"}
                        check_keywords(part_class(spec["name"]), settings, f"parts[{index}] ({spec['name']})")
            elif isinstance(value, Mapping) and keyword not in ("image_keys", "label_keys"):
                check_keywords(part_class(keyword), value, keyword)
        _build(ImageAugmenter, augmentation)
        return augmentation

    def dataset_list(self, job_datasets: Sequence[Dataset] = ()) -> list[Dataset]:
        """`datasets` as Dataset objects, or the job's own datasets when none are set."""
        if self.datasets:
            return [Dataset(bucket=bucket) for bucket in self.datasets]
        if not job_datasets:
            raise ValueError("no datasets: set data.datasets (folders or s3:// URIs) or give the job datasets")
        return list(job_datasets)

    def samples(self, job_datasets: Sequence[Dataset] = (), id_path: str | None = None) -> pd.DataFrame:
        """The sample table with a purpose per sample (the split cached at `id_path` when given)."""
        table = get_image_samples(self.dataset_list(job_datasets), class_mapping=self.class_mapping,
                                  classes=self.classes)
        if id_path is not None:
            return self.split.update_unassigned(table, id_path=id_path)
        return self.split.assign(table, remainder="devel")

    def generator(self, samples: pd.DataFrame, framework: str = "numpy", purpose: str | None = "train",
                  augment: bool = True, **overrides: Any) -> DataGenerator:
        """The image generator over `samples` of `purpose` (all when None) in `framework`'s flavour."""
        adapter = get_adapter(framework)
        classes = self.class_names(samples)  # from the whole table, so every purpose encodes alike
        if purpose is not None:
            samples = samples[samples["purpose"] == purpose].reset_index(drop=True)
        settings = {"batch_size": self.batch_size, "shuffle": self.shuffle, "seed": self.seed, **overrides}
        return adapter.build_image_data_generator(
            samples, classes=classes, image=self.image,
            augmentation=self.augmentation if augment else None, **settings)

    def class_names(self, samples: pd.DataFrame) -> list[str]:
        """`classes`, or the sorted labels of the samples' categories."""
        if self.classes is not None:
            return list(self.classes)
        return category_classes(samples["category"])


def check_keywords(target: Callable, settings: Mapping[str, Any], what: str) -> None:
    """ValueError naming each key of `settings` that `target` takes no keyword for, with close matches."""
    accepted = [name for name, p in inspect.signature(target).parameters.items()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    problems = []
    for key in settings:
        if key in accepted:
            continue
        close = difflib.get_close_matches(str(key), accepted, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(map(repr, close))}?" if close else f"{what} takes {', '.join(accepted)}"
        problems.append(f"{what} has no setting {key!r}; {hint}")
    if problems:
        raise ValueError("; ".join(problems))


def _build(target: Callable, settings: Mapping[str, Any]) -> None:
    """Build `target(**settings)` once, so that a value it refuses is reported with the setting."""
    try:
        target(**settings)
    except (TypeError, ValueError) as error:
        raise ValueError(str(error)) from None
