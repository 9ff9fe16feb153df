"""The demo classifier as data: a small CNN's layers and its He-initialised weights, drawn with numpy.

Both trainers (``brevetti_demo.torch_trainer`` and ``brevetti_demo.tf_trainer``) build their model from
one `CnnSpec` and load the same `initial_weights`, so a torch run and a tf run start from
identical parameters. Weights are kept in Keras layout (conv kernels ``(kh, kw, in, out)``,
dense kernels ``(in, out)``); the torch trainer transposes them. Convolutions pad "same" with odd
kernels and pooling halves with floor, which both frameworks compute alike; global average
pooling before the classifier avoids flattening, whose element order differs (CHW vs HWC).
"""
from __future__ import annotations

import json
import os
from typing import Any, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from brevetti_core.rng import generator

STREAM_WEIGHTS = 3000
"""The rng stream of initial weights (plans use 1-2, mapped actions 1000+)."""


class Layer(NamedTuple):
    """One layer: its kind, its name (prefix of its weights) and its kernel shape in Keras layout."""

    kind: Literal["conv", "maxpool", "global_average", "dense"]
    name: str
    kernel: tuple[int, ...] = ()
    relu: bool = False


class CnnSpec(BaseModel):
    """conv-relu-maxpool blocks, global average pooling, an optional hidden dense layer, then class logits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image_size: tuple[int, int] = Field(description="Input height and width")
    channels: int = Field(3, ge=1, description="Input channels")
    classes: int = Field(ge=2, description="Output logits")
    filters: tuple[int, ...] = Field((32, 32, 64, 64), min_length=1, description="Output channels of each conv block")
    kernel_size: int = Field(3, ge=1, description="Odd conv kernel size")
    hidden: int = Field(64, ge=0, description="Units of the hidden dense layer; 0: none")

    @model_validator(mode="after")
    def _fits(self) -> CnnSpec:
        if self.kernel_size % 2 == 0:
            raise ValueError(f"CnnSpec: kernel_size must be odd (same padding is then equal in torch and tf), "
                             f"got {self.kernel_size}")
        smallest = min(self.image_size) >> len(self.filters)
        if smallest < 1:
            raise ValueError(f"CnnSpec: image_size {self.image_size} is too small for {len(self.filters)} pooling "
                             f"blocks; use at least {2 ** len(self.filters)} pixels or fewer filters")
        return self

    def layers(self) -> list[Layer]:
        """The layers in order, with their kernel shapes."""
        layers, inputs, k = [], self.channels, self.kernel_size
        for i, filters in enumerate(self.filters):
            layers += [Layer("conv", f"conv{i}", (k, k, inputs, filters), relu=True), Layer("maxpool", f"pool{i}")]
            inputs = filters
        layers.append(Layer("global_average", "average"))
        if self.hidden:
            layers.append(Layer("dense", "hidden", (inputs, self.hidden), relu=True))
            inputs = self.hidden
        layers.append(Layer("dense", "logits", (inputs, self.classes)))
        return layers

    def parameter_count(self) -> int:
        """Trainable scalars: kernels plus biases."""
        return sum(int(np.prod(layer.kernel)) + layer.kernel[-1] for layer in self.layers() if layer.kernel)


def initial_weights(spec: CnnSpec, seed: int) -> dict[str, np.ndarray]:
    """{"<layer>/kernel", "<layer>/bias"} float32 arrays: He-normal kernels (std sqrt(2 / fan_in)), zero biases.

    Each layer draws from its own stream keyed by (seed, layer name), so changing one layer's
    shape leaves the others' weights as they were.
    """
    weights = {}
    for layer in spec.layers():
        if not layer.kernel:
            continue
        fan_in = int(np.prod(layer.kernel[:-1]))
        draw = generator(seed, STREAM_WEIGHTS, 0, f"{layer.name}/kernel").standard_normal(layer.kernel)
        weights[f"{layer.name}/kernel"] = (draw * np.sqrt(2.0 / fan_in)).astype(np.float32)
        weights[f"{layer.name}/bias"] = np.zeros(layer.kernel[-1], dtype=np.float32)
    return weights


def reference_logits(spec: CnnSpec, weights: dict[str, np.ndarray], images: np.ndarray) -> np.ndarray:
    """The spec's forward pass in plain numpy (float64), the yardstick for both frameworks' models: NHWC -> logits."""
    x = np.asarray(images, dtype=np.float64)
    for layer in spec.layers():
        if layer.kind == "conv":
            k = layer.kernel[0]
            padded = np.pad(x, ((0, 0), (k // 2, k // 2), (k // 2, k // 2), (0, 0)))
            windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(1, 2))  # (N, H, W, C, k, k)
            x = np.einsum("nhwcij,ijco->nhwo", windows, weights[f"{layer.name}/kernel"]) + weights[f"{layer.name}/bias"]
        elif layer.kind == "maxpool":
            n, h, w, c = x.shape
            x = x[:, :h // 2 * 2, :w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))
        elif layer.kind == "global_average":
            x = x.mean(axis=(1, 2))
        else:
            x = x @ weights[f"{layer.name}/kernel"] + weights[f"{layer.name}/bias"]
        if layer.relu:
            x = np.maximum(x, 0.0)
    return x


def training_length(train: Any) -> tuple[int, int]:
    """(epochs, batches per epoch) of a train generator built with ``repeat=epochs``; ValueError otherwise."""
    if train.epochs is None:
        raise ValueError("train_classifier: the train generator repeats endlessly; build it with repeat=<epochs>")
    if len(train) == 0:
        raise ValueError("train_classifier: the train generator has no samples (is any sample's purpose 'train'?)")
    return train.epochs, len(train)


def write_spec(spec: CnnSpec, folder: str, framework: str, model_file: str, input_layout: str,
               metadata: dict | None = None) -> None:
    """Write spec.json beside an exported model: framework, model file, input layout, architecture, `metadata`."""
    description = {"framework": framework, "model_file": model_file, "input_layout": input_layout,
                   "spec": spec.model_dump(mode="json"), **(metadata or {})}
    with open(os.path.join(folder, "spec.json"), "w", encoding="utf-8") as f:
        json.dump(description, f, indent=2)
