"""How far the fast pixel path lands from float pipelines, on the no-augmentation path (no timing).

The image pipeline decodes 8-bit JPEGs at reduced size (libjpeg's DCT scaling) and resizes the
uint8 levels with Pillow's 8-bit antialiasing kernels, rounding to whole levels. This compares
its output (512x512 JPEG -> 224x224, antialias, imagenet rescale) with:

(1) the same reduced decode resized on float planes (Pillow's float kernels, no rounding), then
    rescaled: what the uint8 kernels' rounding costs;
(2) a full-size decode resized on float planes: what the reduced decode and the rounding cost;
(3) the reference's float pipeline in TensorFlow: tf.io.decode_jpeg, tf.image.resize(antialias=True)
    on float32, then x / 127.5 - 1 (as brevettiai does).

Differences are printed in output units (imagenet scale [-1, 1]) and in 8-bit levels (x 127.5).

    .venv/bin/python benchmarks/pixel_agreement.py [--images N] [--cache DIR]
"""
from __future__ import annotations

import argparse
import io
import os
import tempfile
from pathlib import Path

import numpy as np
from bench_loaders import ensure_dataset, image_files
from PIL import Image

from brevetti_core.image.geometry import resize
from brevetti_core.image.pipeline import ImagePipeline

SIZE = (224, 224)


def float_planes(path: str, reduced: bool) -> np.ndarray:
    """Decode (at the pipeline's reduced size when `reduced`), antialiased resize on float planes, imagenet rescale."""
    with Image.open(path) as image:
        if reduced:
            image.draft("RGB", (SIZE[1], SIZE[0]))
        pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    return resize(pixels, SIZE, "bilinear", antialias=True) * np.float32(1 / 127.5) + np.float32(-1.0)


def tf_reference(path: str) -> np.ndarray:
    """The reference's float pipeline in TensorFlow."""
    import tensorflow as tf

    image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
    resized = tf.image.resize(tf.cast(image, tf.float32), SIZE, antialias=True)
    return (resized / 127.5 - 1.0).numpy()


def report(name: str, differences: list[np.ndarray]) -> None:
    every = np.concatenate([d.ravel() for d in differences])
    print(f"  vs {name:<44} mean |d| {every.mean():.5f} ({every.mean() * 127.5:.3f} levels)   "
          f"max |d| {every.max():.5f} ({every.max() * 127.5:.2f} levels)   "
          f"99.9th pct {np.quantile(every, 0.999) * 127.5:.2f} levels")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "brevetti-bench-jpegs")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    paths = image_files(ensure_dataset(args.cache))[0]
    paths = paths[::max(1, len(paths) // args.images)][:args.images]
    pipeline = ImagePipeline(target_size=SIZE, antialias=True, rescale="imagenet")
    ours = [pipeline({"path": path}, {})["img"] for path in paths]
    with Image.open(io.BytesIO(Path(paths[0]).read_bytes())) as first:
        size = first.size
    print(f"pixel agreement, {len(paths)} JPEGs {size[0]}x{size[1]} -> {SIZE[0]}x{SIZE[1]}, antialias, imagenet "
          f"rescale, no augmentation")
    report("the same reduced decode on float planes", [np.abs(o - float_planes(p, True)) for o, p in zip(ours, paths)])
    report("a full decode on float planes", [np.abs(o - float_planes(p, False)) for o, p in zip(ours, paths)])
    report("the reference float pipeline in TensorFlow", [np.abs(o - tf_reference(p)) for o, p in zip(ours, paths)])


if __name__ == "__main__":
    main()
