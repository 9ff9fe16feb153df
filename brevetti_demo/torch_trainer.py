"""Training the demo CNN in PyTorch; mirrored function by function in ``brevetti_demo.tf_trainer``.

The loop is the plainest one: Adam on softmax cross-entropy, a running mean of loss and accuracy
per epoch (``hooks.EpochMetrics``), then an evaluation pass over the devel batches. Each batch's
fingerprint is taken from the very tensors handed to the model (back to the core's NHWC numpy
layout first), so it can be compared with the TensorFlow run's.
"""
from __future__ import annotations

import importlib.util
import logging
import math
import os
import sys
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from brevetti_core.batching import fingerprint
from brevetti_core.progress import progress
from brevetti_torch.generator import DataGenerator
from brevetti_torch.hooks import EpochMetrics, EpochMonitor
from brevetti_torch.pipeline import to_numpy

from .model import CnnSpec, training_length, write_spec

log = logging.getLogger(__name__)

if "tensorflow" not in sys.modules:
    # torch.optim and torch.export load torch._dynamo, which loads triton; triton's native library
    # crashes the process (SIGSEGV) when TensorFlow's is already loaded, but not the other way
    # round. Loading it now lets TensorFlow be imported after this module.
    import torch._dynamo

FRAMEWORK = "torch"
MODEL_FILE = "model.pt2"
ADAM_EPSILON = 1e-7  # Keras' default, so both frameworks run the same optimiser settings


def configure_threads(threads: int) -> int:
    """Use `threads` CPU threads for tensor math (0: one per core); returns the count in use."""
    count = threads or os.cpu_count() or 1
    torch.set_num_threads(count)
    return torch.get_num_threads()


def build_model(spec: CnnSpec, weights: dict[str, np.ndarray]) -> nn.Sequential:
    """The CNN of `spec` as an nn.Sequential holding `weights` (Keras layout, transposed here)."""
    layers: list[nn.Module] = []
    for layer in spec.layers():
        if layer.kind == "conv":
            k, _, inputs, outputs = layer.kernel
            module = nn.Conv2d(inputs, outputs, k, padding=k // 2)
            _load(module, weights, layer.name, (3, 2, 0, 1))
        elif layer.kind == "dense":
            module = nn.Linear(*layer.kernel)
            _load(module, weights, layer.name, (1, 0))
        elif layer.kind == "maxpool":
            module = nn.MaxPool2d(2)
        else:
            module = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        layers.append(module)
        if layer.relu:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _load(module: nn.Module, weights: dict[str, np.ndarray], name: str, axes: tuple[int, ...]) -> None:
    kernel, bias = weights[f"{name}/kernel"], weights[f"{name}/bias"]
    expected = tuple(module.weight.shape[i] for i in np.argsort(axes))
    if kernel.shape != expected:
        raise ValueError(f"weights {name}/kernel have shape {kernel.shape}, the model's layer needs {expected}")
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(axes))))
        module.bias.copy_(torch.from_numpy(bias))


def model_weights(model: nn.Sequential) -> dict[str, np.ndarray]:
    """The model's weights in Keras layout, named as in `initial_weights` (conv0/kernel, ..., logits/bias)."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    denses = [m for m in model.modules() if isinstance(m, nn.Linear)]
    named: list[tuple[str, nn.Module, tuple[int, ...]]] = [(f"conv{i}", m, (2, 3, 1, 0)) for i, m in enumerate(convs)]
    named += [("logits" if i == len(denses) - 1 else "hidden", m, (1, 0)) for i, m in enumerate(denses)]
    weights = {}
    for name, module, axes in named:
        weights[f"{name}/kernel"] = module.weight.detach().numpy().transpose(axes).copy()
        weights[f"{name}/bias"] = module.bias.detach().numpy().copy()
    return weights


def predict(model: nn.Sequential, images: np.ndarray) -> np.ndarray:
    """Logits for a batch of NHWC float32 images."""
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))).numpy()


def train_classifier(model: nn.Sequential, train: DataGenerator, devel: DataGenerator | None, *,
                     learning_rate: float, monitor: EpochMonitor | None = None,
                     on_batch: Callable[[str, int, str], None] | None = None) -> dict[str, float]:
    """Train for the epochs of `train`'s plan (built with ``repeat=epochs``), evaluating on `devel` after each.

    The learning rate decays from `learning_rate` to 0 along a cosine over the run. Reports each
    epoch's logs (train_loss, train_accuracy, devel_loss, devel_accuracy) to `monitor`, calls
    ``on_batch(purpose, epoch, fingerprint)`` for every batch the model sees, and returns the last
    epoch's logs.
    """
    epochs, steps = training_length(train)
    _check_compiler_stack("train_classifier")
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate, eps=ADAM_EPSILON)
    # Cosine decay to zero over the run, in closed form as Keras' CosineDecay computes it.
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: cosine_decay(step, epochs * steps))
    metrics = EpochMetrics(monitor, prefix="train_")
    logs: dict[str, float] = {}
    model.train()
    with progress(total=epochs * steps, desc=f"{FRAMEWORK} training", unit="batch", leave=False) as bar:
        for index, batch in enumerate(train.get_dataset()):
            epoch = index // steps
            images, labels = batch
            if on_batch is not None:
                on_batch("train", epoch, fingerprint(to_numpy(batch)))
            optimiser.zero_grad(set_to_none=True)
            logits = model(images)
            loss = nn.functional.cross_entropy(logits, labels)
            loss.backward()
            optimiser.step()
            schedule.step()
            metrics.update(len(labels), loss=loss, accuracy=_accuracy(logits, labels))
            bar.update()
            if (index + 1) % steps == 0:
                logs = metrics.end_epoch(epoch, **(evaluate(model, devel, epoch, on_batch) if devel else {}))
                bar.set_postfix({name: round(value, 3) for name, value in logs.items()})
                model.train()
    return logs


def evaluate(model: nn.Sequential, devel: DataGenerator, epoch: int = 0,
             on_batch: Callable[[str, int, str], None] | None = None) -> dict[str, float]:
    """{"devel_loss", "devel_accuracy"} of `model` over one pass of `devel`."""
    metrics = EpochMetrics(prefix="devel_")
    model.eval()
    with torch.no_grad():
        for batch in devel.get_dataset():
            images, labels = batch
            if on_batch is not None:
                on_batch("devel", epoch, fingerprint(to_numpy(batch)))
            logits = model(images)
            metrics.update(len(labels), loss=nn.functional.cross_entropy(logits, labels),
                           accuracy=_accuracy(logits, labels))
    return metrics.result()


def classify(model: nn.Sequential, generator: DataGenerator) -> tuple[np.ndarray, np.ndarray]:
    """(true, predicted) class indices of every sample of one pass of `generator`, in its order."""
    true, predicted = [], []
    model.eval()
    with torch.no_grad():
        for images, labels in generator.get_dataset():
            true.append(labels.argmax(dim=1).numpy())
            predicted.append(model(images).argmax(dim=1).numpy())
    return np.concatenate(true), np.concatenate(predicted)


def cosine_decay(step: int, total: int) -> float:
    """The learning-rate factor at `step` of `total`: from 1 down to 0 along half a cosine."""
    return 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))


def _accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(dim=1) == labels.argmax(dim=1)).float().mean()


def _check_compiler_stack(what: str) -> None:
    """RuntimeError instead of a segfault when triton would be loaded after TensorFlow."""
    if "tensorflow" in sys.modules and "triton" not in sys.modules and importlib.util.find_spec("triton"):
        raise RuntimeError(
            f"{what}: TensorFlow was imported before brevetti_demo.torch_trainer, and torch's compiler stack "
            f"(triton) crashes when loaded after it; import brevetti_demo.torch_trainer before tensorflow, "
            f"or train each framework in its own process")


def export_model(model: nn.Sequential, spec: CnnSpec, folder: str, metadata: dict | None = None) -> str:
    """Write `model` as a torch.export program and spec.json (+ `metadata`); returns the model file."""
    _check_compiler_stack("export_model")
    model.eval()
    example = torch.zeros(2, spec.channels, *spec.image_size)
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(model, (example,), dynamic_shapes=({0: batch},))
    path = os.path.join(folder, MODEL_FILE)
    torch.export.save(program, path)
    write_spec(spec, folder, FRAMEWORK, MODEL_FILE, "NCHW", metadata)
    log.info("Exported the model to %s", path)
    return path
