"""Per-image pipeline throughput, one process: ours beside decode alone and a plain Pillow + numpy peer.

Ours: read and decode a 512x512 JPEG, ImagePipeline(224x224, antialias, imagenet), the default
ImageAugmenter and OneHotEncoder, with parameters drawn for the epoch by ``sample_params``.
Peer: the same work written plainly (open, convert, LANCZOS resize, Pillow affine transform,
Pillow filters/colour, numpy contrast/brightness/noise/normalise, one-hot). Decode alone is the
floor both stand on. Each is timed over the same files, best of several interleaved rounds, with
numpy's and OpenBLAS's thread pools pinned to one thread. Then ours is timed stage by stage
(decode, the pipeline's resize and rescale, each augmentation part, one-hot and collate), which
says where its time goes. The process keeps freed memory in its heap (`keep_freed_memory`), as
every process that executes plans does; the peers run in the same process and gain from it too.

    .venv/bin/python benchmarks/bench_image_pipeline.py [--quick] [--images N] [--rounds R]
"""
from __future__ import annotations

import os

for _pool in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")  # before numpy loads its BLAS

import argparse  # noqa: E402
import io  # noqa: E402
import math  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image, ImageEnhance, ImageFilter  # noqa: E402

from brevetti_core.allocator import keep_freed_memory  # noqa: E402
from brevetti_core.augment.augmenter import ImageAugmenter  # noqa: E402
from brevetti_core.batching import collate  # noqa: E402
from brevetti_core.encoding import OneHotEncoder  # noqa: E402
from brevetti_core.image.pipeline import ImagePipeline  # noqa: E402
from brevetti_core.rng import ParamStreams  # noqa: E402

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


def stage_costs(samples: list[dict]) -> dict[str, np.ndarray]:
    """Seconds per image of each stage of `ours`, each timed image by image on the previous stage's output."""
    pipeline = ImagePipeline(target_size=(SIZE, SIZE), antialias=True, rescale="imagenet")
    augmenter, encoder = ImageAugmenter(), OneHotEncoder(CLASSES)
    params = augmenter.sample_params(ParamStreams(seed=1, stream=1001, epoch=0), len(samples))
    rows = [{name: values[slot].item() for name, values in params.items()} for slot in range(len(samples))]
    costs: dict[str, np.ndarray] = {}

    def timed(name: str, fn: Callable[[int], Any]) -> list:
        out, seconds = [], []
        for i in range(len(samples)):
            start = time.perf_counter()
            out.append(fn(i))
            seconds.append(time.perf_counter() - start)
        costs[name] = np.array(seconds)
        return out

    timed("read + decode (draft)", lambda i: _draft_decode(samples[i]["path"]))
    images = timed("ImagePipeline (read, decode, resize, rescale)", lambda i: pipeline(samples[i], {})["img"])
    for part in augmenter.parts:
        before = images
        images = timed(type(part).__name__, lambda i, part=part, before=before: part.apply(before[i], rows[i]))
    loaded = timed("OneHotEncoder", lambda i: encoder({**samples[i], "img": images[i]}, {}))
    seconds = []
    for first in range(0, len(loaded), 32):
        start = time.perf_counter()
        collate(loaded[first:first + 32])
        seconds += [(time.perf_counter() - start) / len(loaded[first:first + 32])] * len(loaded[first:first + 32])
    costs["collate (batches of 32)"] = np.array(seconds)
    return costs


def _draft_decode(path: str) -> np.ndarray:
    with open(path, "rb") as f:
        image = Image.open(io.BytesIO(f.read()))
    image.draft("RGB", (SIZE, SIZE))
    return np.asarray(image.convert("RGB"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 images, 2 rounds")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    count, rounds = (40, 2) if args.quick else (args.images, args.rounds)
    keep_freed_memory()
    contenders = {"decode alone": decode_only, "brevetti_core": ours, "plain Pillow+numpy": plain_pillow_numpy}
    with tempfile.TemporaryDirectory() as folder:
        samples = make_images(Path(folder), count)
        for fn in contenders.values():  # warm file cache and imports
            fn(samples[:5])
        best = dict.fromkeys(contenders, math.inf)
        for _ in range(rounds):  # interleaved: a busy spell slows every contender's round alike
            for name, fn in contenders.items():
                start = time.perf_counter()
                fn(samples)
                best[name] = min(best[name], time.perf_counter() - start)
        # Each image's fastest round per stage (the same parameters every round), averaged over the images.
        runs = [stage_costs(samples) for _ in range(rounds)]
        stages = {name: 1000 * float(np.mean(np.min([run[name] for run in runs], axis=0))) for name in runs[0]}
    rates = {name: count / seconds for name, seconds in best.items()}
    print(f"per-image pipeline, {count} JPEGs 512x512 -> {SIZE}x{SIZE}, one process, best of {rounds}")
    for name, rate in rates.items():
        print(f"  {name:<20} {rate:8.1f} images/s  {1000 / rate:6.2f} ms/image")
    print(f"  ratio brevetti_core / plain peer: {rates['brevetti_core'] / rates['plain Pillow+numpy']:.2f}x")
    print(f"  ratio brevetti_core / decode alone: {rates['brevetti_core'] / rates['decode alone']:.2f}x")
    print("  where brevetti_core's time goes (ms per image, default augmenter's parts as drawn):")
    for name, ms in stages.items():
        print(f"    {name:<46} {ms:6.2f}")


if __name__ == "__main__":
    main()
