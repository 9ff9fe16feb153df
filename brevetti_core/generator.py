"""DataGenerator: the seed-compatible front over a seeded plan (``plan.py``) and its executor (``executor.py``).

The generator holds a ``Plan`` (``generator.seeded_plan``: which sample fills which slot, and
every random parameter of every mapped action, a pure function of the samples, settings and
seed), its output structure and its ``on_error`` policy. Everything it does is one of:

- ``plan(epoch)``: the epoch's plan as a DataFrame (``save_plan``/``load_plan``: as a file, see
  ``plan_file.py``; ``plan=`` on every dataset getter replays one, see ``replay.py``);
  ``batch_plans(start_batch, rank, world_size)``:
  the ``BatchPlan`` of each global batch from ``start_batch`` on (resume), cut to the rank's
  contiguous slice (``sharding.Shard``; a slice may be empty when the batch is smaller than the world);
- ``sample_loader``: the picklable ``Executor`` of those plans (``load_sample(row)`` is its ``load``);
- ``get_samples_numpy`` (table values, no actions) and ``get_dataset_numpy``: iterators of the
  executed plans as numpy batches; each call starts the same sequence again.

The framework flavours (``brevetti_torch``, ``brevetti_tf``) execute the same plans with the
same executor as DataLoaders and tf.data pipelines.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, field_validator

from .actions import Action, as_action
from .executor import Executor, check_on_error, numpy_batches, spec_prototype
from .plan import BatchPlan, BatchSource, Plan
from .plan_file import PlanPath, load_plan, save_plan
from .replay import ReplayPlan
from .sampling import Weighing, check_weighing
from .sharding import Shard
from .structure import DEFAULT, Structure, check_structure, resolve_structure, select_structure

__all__ = ["DataGenerator", "StratifiedSampler", "build_image_data_generator"]


class _PlanAttribute:
    """A read-only generator attribute that is its plan's attribute `name` (the plan holds the settings)."""

    def __init__(self, name: str):
        self.name = name

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, generator: DataGenerator | None, owner: type | None = None) -> Any:
        return self if generator is None else getattr(generator.seeded_plan, self.name)

    def __set__(self, generator: DataGenerator, value: Any) -> None:
        raise AttributeError(f"DataGenerator.{self.attribute} is fixed when the generator is made; "
                             f"make a new generator with {self.attribute}={value!r}")


class DataGenerator:
    """Batches of samples in a seeded, replayable order, with mapped actions (reference DataGenerator).

    `repeat`: False = one epoch, True or -1 = endless, n = n epochs; each epoch has its own order.
    Sampling by group (`sampling_groupby`) without shuffle interleaves the groups in proportion to
    their weights, each in input order: one epoch visits every sample once (exhausted groups are
    skipped); with repeat the groups cycle, so small groups come round again.
    ``len()`` is batches per epoch, ``ceil(min(max_epoch_samples, len(samples)) / batch_size)``.
    `on_error`: "raise" (default), or "zeros"/"skip" to replace/drop samples whose actions fail,
    with a counted warning per epoch.
    """

    def __init__(self, samples: Any, batch_size: int = 32, shuffle: bool = False, repeat: bool | int = False,
                 sampling_groupby: str | Sequence[str] | None = None, sampling_group_weighing: Weighing = "uniform",
                 seed: int | None = None, output_structure: Structure = None, max_epoch_samples: float = np.inf,
                 on_error: str = "raise"):
        self.on_error = check_on_error(on_error)
        self.output_structure = check_structure(output_structure)
        self.seeded_plan = Plan(samples, batch_size=batch_size, shuffle=shuffle, repeat=repeat,
                                groupby=sampling_groupby, weighing=sampling_group_weighing, seed=seed,
                                max_epoch_samples=max_epoch_samples, seed_owner="DataGenerator")

    # -- settings: the plan's, read-only -------------------------------------------------------

    samples = _PlanAttribute("samples")
    batch_size = _PlanAttribute("batch_size")
    shuffle = _PlanAttribute("shuffle")
    repeat = _PlanAttribute("repeat")
    epochs = _PlanAttribute("epochs")
    seed = _PlanAttribute("seed")
    sampling_groupby = _PlanAttribute("groupby")
    sampling_group_weighing = _PlanAttribute("weighing")
    max_epoch_samples = _PlanAttribute("max_epoch_samples")
    actions = _PlanAttribute("actions")
    total_batches = _PlanAttribute("total_batches")
    group_weights = _PlanAttribute("group_weights")

    def __len__(self) -> int:
        return len(self.seeded_plan)

    def map(self, fn: Action | Callable | Iterable[Action | Callable | None]) -> DataGenerator:
        """A new generator with `fn` (or each of a list, skipping None) appended to the action chain.

        The action at chain position i draws from stream ``STREAM_ACTIONS + i`` of this generator's
        seed, so its parameters depend on its place in the chain, never on when map() was called.
        """
        fns: list[Any] = list(fn) if isinstance(fn, (list, tuple)) else [fn]
        mapped = copy.copy(self)
        added = tuple(as_action(f) for f in fns if f is not None)
        mapped.seeded_plan = self.seeded_plan.with_actions(self.actions + added)
        return mapped

    # -- the plan ------------------------------------------------------------------------------

    def plan(self, epoch: int = 0, sample_columns: Sequence[Any] | None = None) -> pd.DataFrame:
        """One row per slot of `epoch`: epoch, batch (global), position, index, group, sample columns, parameters.

        `sample_columns` limits the copied table columns (default all): copying them dominates
        the cost on large tables, and a plan replays from its index plus the table as well.
        """
        return self.seeded_plan.epoch_table(epoch, sample_columns)

    def batch_plans(self, start_batch: int = 0, rank: int = 0, world_size: int = 1,
                    with_params: bool = True) -> Iterator[BatchPlan]:
        """The plans of global batches start_batch, start_batch+1, ..., each cut to `rank`'s slice.

        Arguments are checked now, not at the first ``next()``. ``with_params=False`` leaves the
        action parameters out of the rows (enough for the raw samples; no parameters drawn).
        """
        return self.seeded_plan.batch_plans(start_batch, Shard(rank, world_size), with_params)

    def save_plan(self, path: PlanPath, epoch: int = 0) -> None:
        """Write the plan of `epoch` and this generator's settings to `path`: CSV, or Parquet for .parquet/.pq.

        ``load_plan(path)`` reads it back with its tuples and dtypes; ``get_dataset_numpy(plan=path)``
        (and the adapters' ``get_dataset(plan=path)``) replay it.
        """
        save_plan(self.plan(epoch), path, {**self.settings(), "epoch": int(epoch), "batches_per_epoch": len(self)})

    @staticmethod
    def load_plan(path: PlanPath) -> pd.DataFrame:
        """The plan table saved in `path` (by ``save_plan``, or a plain ``plan(epoch).to_csv()``)."""
        return load_plan(path)

    def settings(self) -> dict[str, Any]:
        """The settings that make this generator's plan, as JSON-ready values (a plan file's header holds them)."""
        weighing, repeat = self.sampling_group_weighing, self.repeat
        return {"samples": len(self.samples), "batch_size": self.batch_size, "shuffle": self.shuffle,
                "repeat": bool(repeat) if isinstance(repeat, (bool, np.bool_)) else int(repeat),
                "sampling_groupby": self.sampling_groupby,
                "sampling_group_weighing": weighing if isinstance(weighing, str) else
                getattr(weighing, "__qualname__", repr(weighing)),
                "seed": self.seed, "max_epoch_samples": float(self.max_epoch_samples), "on_error": self.on_error,
                "output_structure": self.output_structure,
                "actions": dict(zip(self.seeded_plan.prefixes, (action.describe() for action in self.actions)))}

    def batch_source(self, plan: pd.DataFrame | PlanPath | None = None) -> BatchSource:
        """What a pipeline walks: this generator's own plan, or a saved `plan` (a table or a plan file) replayed."""
        if plan is None:
            return self.seeded_plan
        table = plan if isinstance(plan, pd.DataFrame) else load_plan(plan)
        return ReplayPlan(table, self.samples)

    # -- execution -----------------------------------------------------------------------------

    @property
    def sample_loader(self) -> Executor:
        """The picklable executor of this generator's plan rows."""
        plan = self.seeded_plan
        return Executor(plan.actions, plan.prefixes, tuple(plan.samples.columns), self.on_error)

    def load_sample(self, row: Mapping[Any, Any]) -> dict:
        """The sample of one plan row with every action applied (pure); SampleError when an action fails."""
        return self.sample_loader.load(row)

    def select_structure(self, values: Mapping[str, Any], structure: Structure = DEFAULT) -> Any:
        """`values` picked by `structure` ("__default__" = output_structure, None = all)."""
        return select_structure(values, resolve_structure(structure, self.output_structure))

    def get_samples_numpy(self, batch: bool = True, structure: Structure = None, start_batch: int = 0,
                          rank: int = 0, world_size: int = 1,
                          plan: pd.DataFrame | PlanPath | None = None) -> Iterator[Any]:
        """Iterator over the planned samples as the table holds them (no actions), batched or one by one.

        `start_batch` resumes at a global batch; `rank`/`world_size` yield that rank's slices
        (a rank whose slice of a batch is empty skips it; ``batch_plans`` keeps ranks in step).
        `plan` replays a saved plan (a table or a plan file) instead of the generator's own.
        """
        structure = resolve_structure(structure, self.output_structure)
        plans = self.batch_source(plan).batch_plans(start_batch, Shard(rank, world_size), with_params=False)
        return numpy_batches(plans, self.sample_loader, load=False, batch=batch, structure=structure)

    def get_dataset_numpy(self, batch: bool = True, structure: Structure = DEFAULT, start_batch: int = 0,
                          rank: int = 0, world_size: int = 1,
                          plan: pd.DataFrame | PlanPath | None = None) -> Iterator[Any]:
        """Iterator over the planned samples with every action applied, batched or one by one (as get_samples_numpy)."""
        structure = resolve_structure(structure, self.output_structure)
        source = self.batch_source(plan)
        plans = source.batch_plans(start_batch, Shard(rank, world_size), with_params=True)
        executor = self.sample_loader
        prototype = partial(spec_prototype, source, executor, start_batch)
        return numpy_batches(plans, executor, load=True, batch=batch, structure=structure, prototype=prototype)

    def __iter__(self) -> Iterator[Any]:
        return self.get_dataset_numpy()

    def __repr__(self) -> str:
        return (f"DataGenerator({len(self.samples)} samples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"repeat={self.repeat!r}, groupby={self.sampling_groupby}, seed={self.seed}, "
                f"actions={[action.describe() for action in self.actions]})")


class StratifiedSampler(BaseModel):
    """Sampling settings (reference StratifiedSampler); ``get(samples, ...)`` builds the DataGenerator."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    batch_size: int = 32
    groupby: list[str] | None = None
    group_weighing: str | Callable[..., float] = "uniform"
    max_epoch_samples: int = 10**9
    seed: int = -1

    #: The DataGenerator class get() builds; the framework adapters set their flavour.
    generator_type: ClassVar[type[DataGenerator]] = DataGenerator

    @field_validator("groupby", mode="before")
    @classmethod
    def _groupby_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        return value or None

    @field_validator("group_weighing")
    @classmethod
    def _known_weighing(cls, value: Any) -> Any:
        return check_weighing(value)

    @field_validator("batch_size", "max_epoch_samples")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be a positive integer, got {value}")
        return value

    def get(self, samples: Any, shuffle: bool = False, repeat: bool | int = False, **kwargs: Any) -> DataGenerator:
        """A DataGenerator over `samples` with these settings; keyword arguments override them. seed < 0 means None."""
        settings = {"batch_size": self.batch_size, "max_epoch_samples": self.max_epoch_samples, "seed": self.seed,
                    "sampling_groupby": self.groupby, "sampling_group_weighing": self.group_weighing, **kwargs}
        if settings["seed"] is not None and settings["seed"] < 0:
            settings["seed"] = None
        return self.generator_type(samples, shuffle=shuffle, repeat=repeat, **settings)


def category_classes(categories: pd.Series) -> list[str]:
    """The sorted labels of a category column (tuples; a plain string is a 1-tuple), without "__UNLABELED__"."""
    labels: set[str] = set()
    for category in pd.unique(categories.to_numpy(dtype=object)):
        labels.update((category,) if isinstance(category, str) else category)
    labels.discard("__UNLABELED__")
    return sorted(labels)


def build_image_data_generator(samples: Any, classes: Sequence[str] | None = None,
                               image: Mapping[str, Any] | Action | None = None,
                               augmentation: Mapping[str, Any] | Action | None = None,
                               generator_type: type[DataGenerator] = DataGenerator, **kwargs: Any) -> DataGenerator:
    """DataGenerator → ImagePipeline(**image) → ImageAugmenter(**augmentation) if given → OneHotEncoder(classes).

    The default output structure is ("img", "onehot"); `classes` defaults to every label in the
    samples' category tuples except "__UNLABELED__". `image`/`augmentation` may also be instances.
    `generator_type` is the DataGenerator class to build (the framework adapters pass their flavour).
    """
    from .augment.augmenter import ImageAugmenter
    from .encoding import OneHotEncoder
    from .image.pipeline import ImagePipeline

    kwargs.setdefault("output_structure", ("img", "onehot"))
    generator = generator_type(samples, **kwargs)
    if classes is None:
        if "category" not in generator.samples.columns:
            raise KeyError(f"build_image_data_generator needs classes or a 'category' column; "
                           f"columns: {list(generator.samples.columns)}")
        classes = category_classes(generator.samples["category"])
    generator = generator.map(image if isinstance(image, Action) else ImagePipeline(**(image or {})))
    if augmentation is not None:
        generator = generator.map(augmentation if isinstance(augmentation, Action)
                                  else ImageAugmenter(**augmentation))
    return generator.map(OneHotEncoder(classes))
