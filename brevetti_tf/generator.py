"""TensorFlow flavours of DataGenerator, StratifiedSampler and build_image_data_generator.

``get_samples()`` / ``get_dataset()`` return a ``tf.data.Dataset`` over the core plan;
everything else (plan, len, map, numpy iteration) is the core generator's.
"""
from __future__ import annotations

from typing import Any, ClassVar, cast

import pandas as pd
import tensorflow as tf

from brevetti_core import generator as core
from brevetti_core.plan_file import PlanPath
from brevetti_core.structure import DEFAULT, Structure, resolve_structure

from .pipeline import make_pipeline
from .sharding import resolve_shards


class DataGenerator(core.DataGenerator):
    """A core DataGenerator whose datasets are tf.data.Datasets (NHWC images)."""

    def get_samples(self, batch: bool = True, structure: Structure = None, **options: Any) -> tf.data.Dataset:
        """The planned samples as the table holds them (no actions), as a tf.data.Dataset."""
        return self._pipeline(load=False, batch=batch, structure=structure, **options)

    def get_dataset(self, batch: bool = True, structure: Structure = DEFAULT, **options: Any) -> tf.data.Dataset:
        """The planned samples with every action applied, as a tf.data.Dataset.

        Options: plan (replay a saved plan: a table or a plan file), start_batch (resume),
        rank/world_size or input_context (a tf.distribute.InputContext), num_parallel_calls
        (default AUTOTUNE), prefetch (default AUTOTUNE; 0 for none), num_workers (worker processes
        executing the batches, as DataLoader's; default 0: in this process, where the GIL limits
        parallel calls) and multiprocessing_context (their start method; default the platform's).
        """
        return self._pipeline(load=True, batch=batch, structure=structure, **options)

    def _pipeline(self, load: bool, batch: bool, structure: Structure, start_batch: int = 0, rank: int | None = None,
                  world_size: int | None = None, input_context: tf.distribute.InputContext | None = None,
                  plan: pd.DataFrame | PlanPath | None = None, **options: Any) -> tf.data.Dataset:
        structure = resolve_structure(structure, self.output_structure)
        return make_pipeline(self.batch_source(plan), self.sample_loader, load=load, batch=batch,
                             structure=structure, start_batch=start_batch,
                             shards=resolve_shards(rank, world_size, input_context), **options)


class StratifiedSampler(core.StratifiedSampler):
    """The core StratifiedSampler; ``get()`` returns the TensorFlow DataGenerator."""

    generator_type: ClassVar[type[core.DataGenerator]] = DataGenerator


def build_image_data_generator(samples: Any, classes=None, image=None, augmentation=None,
                               **kwargs: Any) -> DataGenerator:
    """The core build_image_data_generator, returning the TensorFlow flavour."""
    generator = core.build_image_data_generator(samples, classes, image, augmentation, generator_type=DataGenerator,
                                                **kwargs)
    return cast(DataGenerator, generator)  # map() keeps the flavour it was built with
