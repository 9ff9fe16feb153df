"""Per-image pipeline throughput, one process: ours beside decode alone and a plain Pillow + numpy peer.

Ours: read and decode a 512x512 JPEG, ImagePipeline(224x224, antialias, imagenet), the default
ImageAugmenter and OneHotEncoder, with parameters drawn for the epoch by ``sample_params``.
Peer: the same work written plainly (open, convert, LANCZOS resize, Pillow affine transform,
Pillow filters/colour, numpy contrast/brightness/noise/normalise, one-hot). Decode alone is the
floor both stand on. Each is timed over the same files, best of several interleaved rounds.

    .venv/bin/python benchmarks/bench_image_pipeline.py [--quick] [--images N] [--rounds R]
"""
from __future__ import annotations

import argparse
import io
import math
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from brevetti_core.augment.augmenter import ImageAugmenter
from brevetti_core.encoding import OneHotEncoder
from brevetti_core.image.pipeline import ImagePipeline
from brevetti_core.rng import ParamStreams

CLASSES = ["good", "scratch", "dent", "stain"]
SIZE = 224


def make_images(folder: Path, count: int) -> list[dict]:
    """`count` 512x512 JPEGs of smooth shapes with mild sensor noise, as sample dicts."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:512, 0:512].astype(np.float32)
    samples = []
    for i in range(count):
        base = 60 + 40 * np.sin(x / rng.uniform(20, 80)) + 40 * np.cos(y / rng.uniform(20, 80))
        image = np.stack([base, base * 0.8 + 30, base * 0.6 + 60], axis=-1)
        cx, cy, r = [*rng.uniform(100, 412, 2).tolist(), rng.uniform(20, 80)]
        image[(x - cx) ** 2 + (y - cy) ** 2 < r ** 2] += rng.uniform(-50, 80, 3)
        image += rng.normal(0, 4, image.shape)
        path = folder / f"image_{i:04d}.jpg"
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(path, quality=90)
        samples.append({"path": str(path), "category": (CLASSES[i % len(CLASSES)],)})
    return samples


def decode_only(samples: list[dict]) -> None:
    for sample in samples:
        with open(sample["path"], "rb") as f:
            np.asarray(Image.open(io.BytesIO(f.read())).convert("RGB"))


def ours(samples: list[dict]) -> np.ndarray:
    pipeline = ImagePipeline(target_size=(SIZE, SIZE), antialias=True, rescale="imagenet")
    augmenter, encoder = ImageAugmenter(), OneHotEncoder(CLASSES)
    params = augmenter.sample_params(ParamStreams(seed=1, stream=1001, epoch=0), len(samples))
    last = None
    for slot, sample in enumerate(samples):
        row = {name: values[slot] for name, values in params.items()}
        last = encoder(augmenter(pipeline(sample, {}), row), {})
    return last["img"]


def plain_pillow_numpy(samples: list[dict]) -> np.ndarray:
    """The same work as `ours`, written the obvious way with Pillow and numpy."""
    rng = np.random.default_rng(1)
    eye = np.eye(len(CLASSES), dtype=np.float32)
    x = None
    for sample in samples:
        image = Image.open(sample["path"]).convert("RGB").resize((SIZE, SIZE), Image.Resampling.LANCZOS)
        angle = math.radians(rng.uniform(-90, 90)) if rng.random() < 0.5 else 0.0
        scale = rng.uniform(0.8, 1.2) if rng.random() < 0.5 else 1.0
        flip = -1.0 if rng.random() < 0.25 else 1.0
        tx, ty = rng.uniform(-0.1, 0.1, 2) * SIZE if rng.random() < 0.5 else (0.0, 0.0)
        a, b = math.cos(angle) / scale * flip, math.sin(angle) / scale
        c = SIZE / 2
        coefficients = (a, b, c - a * (c + tx) - b * (c + ty), -b * flip, a * flip, c + b * (c + tx) - a * (c + ty))
        image = image.transform((SIZE, SIZE), Image.Transform.AFFINE, coefficients, resample=Image.Resampling.BILINEAR)
        choice = rng.random()
        if choice < 0.5 / 3:
            image = image.filter(ImageFilter.EMBOSS)
        elif choice < 1 / 3:
            image = image.filter(ImageFilter.GaussianBlur(0.5))
        elif choice < 0.5:
            image = image.filter(ImageFilter.BoxBlur(1))
        if rng.random() < 0.5:
            image = ImageEnhance.Color(image).enhance(rng.uniform(0, 2))
        x = np.asarray(image, dtype=np.float32) / 127.5 - 1
        if rng.random() < 0.5:
            mean = x.mean(axis=(0, 1))
            x = (x - mean) * rng.uniform(0.5, 1.25) + mean
        if rng.random() < 0.5:
            x = x + rng.uniform(-0.25, 0.25)
        if rng.random() < 0.5:
            x = x + rng.normal(0, 0.01, x.shape)
        x = x.astype(np.float32)
        eye[CLASSES.index(sample["category"][0])].copy()
    return x


def best_rate(fn, samples: list[dict], rounds: int) -> float:
    """Images per second of `fn` over `samples`: the best of `rounds` timings."""
    best = math.inf
    for _ in range(rounds):
        start = time.perf_counter()
        fn(samples)
        best = min(best, time.perf_counter() - start)
    return len(samples) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 images, 2 rounds")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    count, rounds = (40, 2) if args.quick else (args.images, args.rounds)
    with tempfile.TemporaryDirectory() as folder:
        samples = make_images(Path(folder), count)
        for fn in (decode_only, ours, plain_pillow_numpy):  # warm file cache and imports
            fn(samples[:5])
        rates = {name: best_rate(fn, samples, rounds) for name, fn in
                 (("decode alone", decode_only), ("brevetti_core", ours), ("plain Pillow+numpy", plain_pillow_numpy))}
    print(f"per-image pipeline, {count} JPEGs 512x512 -> {SIZE}x{SIZE}, one process, best of {rounds}")
    for name, rate in rates.items():
        print(f"  {name:<20} {rate:8.1f} images/s  {1000 / rate:6.2f} ms/image")
    print(f"  ratio brevetti_core / plain peer: {rates['brevetti_core'] / rates['plain Pillow+numpy']:.2f}x")
    print(f"  ratio brevetti_core / decode alone: {rates['brevetti_core'] / rates['decode alone']:.2f}x")


if __name__ == "__main__":
    main()
