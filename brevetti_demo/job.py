"""`VialsJob`: the demo's training job, a small CNN classifying vial images in PyTorch or TensorFlow.

``run()`` lists the samples, splits them by physical vial (the item id in the file name, cached in
``artifacts/split_ids.csv``), builds the train and devel plans, and hands them to the chosen
framework's trainer (``brevetti_demo.torch_trainer`` / ``brevetti_demo.tf_trainer``), which starts from
the same numpy-drawn weights in either framework. Artifacts:

- ``progress.jsonl``: train/devel loss and accuracy per epoch (the remote monitor);
- ``fingerprints.json``: the SHA-256 of every batch the model saw, by purpose and epoch (rewritten
  each epoch, so an interrupted run keeps what it saw);
- ``output.json``: the final metrics, split counts and timings (the latest epoch's when interrupted);
- ``model/``: the exported model and its ``spec.json``;
- ``report.html``: the job's report, with the sample table, the first training batch and the devel
  predictions (confusion matrix, per-class precision/recall/F1) recorded here.

The ``unknown/`` folder of the vials dataset is left out by the default ``data.classes`` (listing
drops samples of no listed class), so every trained sample has exactly one class.

Run it directly with ``python -m brevetti_demo.job --data.datasets '["<folder or s3://...>"]'``
plus any setting (``--framework tf --epochs 10``); ``brevetti demo`` runs it in both frameworks.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any, Literal

import pandas as pd
from pydantic import Field

from brevetti_core.adapters import get_adapter
from brevetti_core.data_settings import DataSettings
from brevetti_core.job import Job
from brevetti_core.report.record import record_first_batch, record_predictions, record_samples
from brevetti_core.settings import JobSettings
from brevetti_core.split import SampleSplit

from .model import CnnSpec, initial_weights
from .vials import CLASSES

log = logging.getLogger(__name__)

ITEM_ID = r"/(\d+)_\d+\.bmp$"
"""The physical vial of a file `<item>_<timestamp>.bmp`: all its shots go to one purpose."""
ID_FILE = "split_ids.csv"
FINGERPRINTS_FILE = "fingerprints.json"
TRAINERS = {"torch": ("brevetti_demo.torch_trainer", "torch"), "tf": ("brevetti_demo.tf_trainer", "tensorflow")}
"""The frameworks the demo CNN can be trained in, in run order: trainer module and the package it needs.

torch comes first: in one process its compiler stack must load before TensorFlow (see torch_trainer)."""
MODEL_FOLDER = "model"


def vials_data() -> DataSettings:
    """The demo's data: the three vial classes at 64x64, split 80/20 by vial, no augmentation settings."""
    return DataSettings(
        classes=list(CLASSES),
        split=SampleSplit(stratification=["folder"], uniqueness=ITEM_ID, split=0.8, seed=0),
        batch_size=16,
        shuffle=True,
        seed=0,
        image={"target_size": [64, 64], "antialias": True, "rescale": "imagenet"},
        augmentation={},
    )


class VialsSettings(JobSettings):
    """Settings of VialsJob; image size and batch size live in `data` (data.image.target_size, data.batch_size)."""

    framework: Literal[tuple(TRAINERS)] = Field(  # type: ignore[valid-type]  # the keys of TRAINERS
        "torch", description="Framework that trains the model")
    epochs: int = Field(30, ge=1, description="Passes over the training samples")
    learning_rate: float = Field(2e-3, gt=0, description="Adam learning rate")
    augment: bool = Field(False, description="Augment training images with data.augmentation (ImageAugmenter)")
    seed: int = Field(0, ge=0, description="Seed of the initial weights (data.seed seeds the plan)")
    filters: tuple[int, ...] = Field((32, 32, 64, 64), min_length=1, description="Channels of each conv block")
    hidden: int = Field(64, ge=0, description="Units of the hidden dense layer; 0: none")
    threads: int = Field(0, ge=0, description="CPU threads for the framework's math; 0: one per core")
    data: DataSettings = Field(default_factory=vials_data, description="Datasets, classes, split and pipeline")


class SeenBatches:
    """The fingerprint of every batch a model saw, as {purpose: [[epoch, batch, sha256], ...]}."""

    def __init__(self):
        self.batches: dict[str, list[list]] = {}
        self._count: dict[tuple[str, int], int] = {}

    def __call__(self, purpose: str, epoch: int, digest: str) -> None:
        index = self._count.get((purpose, epoch), 0)
        self._count[purpose, epoch] = index + 1
        self.batches.setdefault(purpose, []).append([epoch, index, digest])

    def digest(self) -> str:
        """One SHA-256 over every fingerprint in order: equal digests, equal data."""
        return hashlib.sha256(json.dumps(self.batches, sort_keys=True).encode()).hexdigest()


class EpochReport:
    """The monitor the trainer reports to: progress.jsonl, the output metrics and fingerprints.json, every epoch."""

    def __init__(self, job: VialsJob, seen: SeenBatches):
        self.job, self.seen = job, seen
        self.monitor = job.get_remote_monitor()
        self.fingerprints_path = job.artifact_path(FINGERPRINTS_FILE)
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        # A Ctrl-C between these writes would leave progress.jsonl, output.json and fingerprints.json
        # describing different epochs; it takes effect once all three agree.
        with deferred_interrupt():
            self.monitor.on_epoch_end(epoch, logs)
            self.job.add_output_metrics({**logs, "epochs_completed": epoch + 1,
                                         "train_seconds": round(time.perf_counter() - self.started, 2)})
            self.write_fingerprints()

    def write_fingerprints(self) -> None:
        header = {"framework": self.job.settings.framework, "digest": self.seen.digest()}
        # One batch a line, so two runs' files compare with a plain diff.
        parts = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in header.items()]
        parts += [f"  {json.dumps(purpose)}: [\n" + ",\n".join(f"    {json.dumps(entry)}" for entry in entries)
                  + "\n  ]" for purpose, entries in self.seen.batches.items()]
        self.job.io.write_file(self.fingerprints_path, "{\n" + ",\n".join(parts) + "\n}\n")


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold back SIGINT (Ctrl-C) inside the block and raise KeyboardInterrupt when it ends, if one came."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield  # only the main thread can swap handlers, and a custom handler is the caller's business
        return
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if received:
        raise KeyboardInterrupt


class VialsJob(Job):
    """Trains the demo CNN on the vials (or any folder of class folders) in the framework of `settings`."""

    settings: VialsSettings

    def run(self) -> str:
        """Split, train, export; returns the model folder in the artifacts."""
        started = time.perf_counter()
        settings = self.settings
        trainer = training_module(settings.framework)
        threads = trainer.configure_threads(settings.threads)
        samples = settings.data.samples(self.datasets, id_path=self.artifact_path(ID_FILE))
        classes = settings.data.class_names(samples)
        check_classes(samples, classes, settings.data)
        self.add_output_metrics({"framework": settings.framework, "threads": threads, "classes": classes,
                                 "split": split_counts(samples), "epochs_completed": 0})
        record_samples(self, samples)
        train = settings.data.generator(samples, settings.framework, "train", augment=settings.augment,
                                        repeat=settings.epochs)
        record_first_batch(self, train)
        devel_samples = int((samples["purpose"] == "devel").sum())
        devel = settings.data.generator(samples, settings.framework, "devel", augment=False,
                                        shuffle=False) if devel_samples else None
        spec = CnnSpec(image_size=image_size(train), classes=len(classes), filters=settings.filters,
                       hidden=settings.hidden)
        model = trainer.build_model(spec, initial_weights(spec, settings.seed))
        log.info("Training a %d-parameter CNN in %s: %d epochs of %d batches, %d devel samples",
                 spec.parameter_count(), settings.framework, settings.epochs, len(train), devel_samples)
        seen = SeenBatches()
        report = EpochReport(self, seen)
        final = trainer.train_classifier(model, train, devel, learning_rate=settings.learning_rate,
                                         monitor=report, on_batch=seen)
        if devel is not None:
            true, predicted = trainer.classify(model, devel)
            record_predictions(self, [classes[i] for i in true], [classes[i] for i in predicted])
        folder = self.temp_path(MODEL_FOLDER, dir=True)
        trainer.export_model(model, spec, folder, {"classes": classes, "image": settings.data.image})
        model_path = self.artifact_path(MODEL_FOLDER)
        self.io.copy(folder, model_path)
        self.add_output_metrics({**final, "parameters": spec.parameter_count(), "fingerprints_digest": seen.digest(),
                                 "wall_seconds": round(time.perf_counter() - started, 2)})
        return model_path


def training_module(framework: str) -> ModuleType:
    """The demo's trainer of `framework`; FrameworkUnavailable (with the install command) when not installed."""
    get_adapter(framework)  # the install hint when the framework is missing
    return importlib.import_module(TRAINERS[framework][0])


def check_classes(samples: pd.DataFrame, classes: list[str], data: DataSettings) -> None:
    """ValueError when no sample has one of `classes`; a warning for each class without samples."""
    datasets = ", ".join(data.datasets) or "the job's datasets"
    if samples.empty:
        raise ValueError(f"no images of the classes {classes} in {datasets}: set data.classes to your class folder "
                         f"names (--data.classes '[\"ok\", \"defect\"]'), or to null for every folder found")
    found = set(samples["category"].explode())
    for name in classes:
        if name not in found:
            log.warning("Class %r has no images in %s; the model learns it from none", name, datasets)


def split_counts(samples: pd.DataFrame) -> dict[str, dict[str, int]]:
    """{purpose: {category: samples}} of a split sample table."""
    counts = pd.crosstab(samples["purpose"], samples["category"].str.join("|"))
    return {str(purpose): {str(name): int(n) for name, n in row.items() if n} for purpose, row in counts.iterrows()}


def image_size(generator: Any) -> tuple[int, int]:
    """(height, width) of the images `generator` yields (its ImagePipeline's target_size)."""
    for action in generator.actions:
        size = getattr(action, "target_size", None)
        if size is not None:
            return tuple(size)
    raise ValueError("data.image needs a target_size (height, width): the model's input size is fixed")


if __name__ == "__main__":
    from brevetti_core.cli.main import configure_logging

    configure_logging(verbose=False)  # as `brevetti`: our progress at INFO, other libraries from WARNING
    try:
        VialsJob.init().start()
    except KeyboardInterrupt:
        log.warning("Interrupted: the job is marked interrupted, its artifacts keep the epochs completed so far")
        sys.exit(130)
