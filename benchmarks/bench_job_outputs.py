"""Job outputs: pivot_data and build_facets beside plain pandas / Pillow peers doing the same work.

pivot_data: counts per (category label, purpose, dataset) with unique-sample ids on a sample table
with multi-label tuples. Peer: ``explode`` + ``groupby().size()`` (the same counts without the ids).
build_facets: 64x64 thumbnails of a generator's first samples, sprite atlas, facets.json. Peer: a
plain loop over ``get_dataset_numpy(batch=False)`` with Pillow thumbnails, numpy tiling and a JPEG
encode (one thread, no records). Best of several interleaved rounds.

    .venv/bin/python benchmarks/bench_job_outputs.py [--quick] [--rows N] [--images N] [--rounds R]
"""
from __future__ import annotations

import argparse
import io
import logging
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageOps

from brevetti_core import DataGenerator, ImagePipeline
from brevetti_core.dataset import Dataset
from brevetti_core.facets import build_facets
from brevetti_core.pivot import pivot_data
from brevetti_demo import generate_vials


def sample_table(rows: int) -> pd.DataFrame:
    """`rows` samples over 40 labels (a fifth of them with two labels), 3 purposes and 4 datasets."""
    rng = np.random.default_rng(0)
    labels = np.array([f"defect_{i:02d}" for i in range(40)], dtype=object)
    first, second = rng.integers(0, 40, rows), rng.integers(0, 40, rows)
    two = rng.random(rows) < 0.2
    categories = [(labels[a], labels[b]) if t else (labels[a],) for a, b, t in zip(first, second, two)]
    return pd.DataFrame({
        "category": pd.Series(categories, dtype=object),
        "purpose": rng.choice(["train", "devel", "test"], rows),
        "dataset_id": rng.choice([f"dataset-{i}" for i in range(4)], rows),
    })


def pivot_peer(samples: pd.DataFrame) -> pd.Series:
    return samples.explode("category").groupby(["category", "purpose", "dataset_id"]).size()


def facets_peer(generator: DataGenerator, count: int, folder: str) -> None:
    thumbnails = []
    for image, _ in generator.get_dataset_numpy(batch=False):
        picture = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
        thumbnails.append(np.asarray(ImageOps.pad(picture, (64, 64), method=Image.Resampling.BOX)))
        if len(thumbnails) == count:
            break
    side = math.ceil(math.sqrt(len(thumbnails)))
    cells = np.zeros((side * side, 64, 64, 3), np.uint8)
    cells[:len(thumbnails)] = thumbnails
    atlas = cells.reshape(side, side, 64, 64, 3).swapaxes(1, 2).reshape(side * 64, side * 64, 3)
    buffer = io.BytesIO()
    Image.fromarray(atlas).save(buffer, format="JPEG", quality=90)
    Path(folder, "spriteatlas.jpeg").write_bytes(buffer.getvalue())


def best_of(rounds: int, jobs: dict) -> dict[str, float]:
    best = dict.fromkeys(jobs, math.inf)
    for _ in range(rounds):
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--rows", type=int, default=None, help="sample table rows for pivot_data")
    parser.add_argument("--images", type=int, default=None, help="thumbnails for build_facets")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rows = args.rows or (20_000 if args.quick else 500_000)
    images = args.images or (48 if args.quick else 512)
    rounds = args.rounds or (2 if args.quick else 3)
    logging.disable(logging.WARNING)

    samples = sample_table(rows)
    assert pivot_data(samples, ["category", "purpose", "dataset_id"]).groupby(
        ["category", "purpose", "dataset_id"])["count"].sum().sort_index().equals(pivot_peer(samples).sort_index())
    pivot = best_of(rounds, {"ours": lambda: pivot_data(samples, ["category", "purpose", "dataset_id"]),
                             "peer": lambda: pivot_peer(samples)})
    print(f"pivot_data, {rows:,} samples: ours {pivot['ours'] * 1e3:.0f} ms, explode+groupby peer "
          f"{pivot['peer'] * 1e3:.0f} ms, ratio ours/peer {pivot['ours'] / pivot['peer']:.2f} "
          f"({rows / pivot['ours'] / 1e6:.2f} M samples/s)")

    with tempfile.TemporaryDirectory() as folder:
        items = max(1, math.ceil(images / 9))
        table = Dataset(bucket=str(generate_vials(Path(folder, "vials"), items_per_class=items, annotations=False))) \
            .get_image_samples()
        generator = DataGenerator(table, shuffle=True, seed=1, output_structure=("img", "category")) \
            .map(ImagePipeline(target_size=(224, 224)))
        count = min(images, len(table))
        facets = best_of(rounds, {"ours": lambda: build_facets(generator, folder + "/ours", count=count),
                                  "peer": lambda: facets_peer(generator, count, folder)})
    print(f"build_facets, {count} 224x224 BMPs: ours {facets['ours']:.2f} s, plain loop peer {facets['peer']:.2f} s, "
          f"ratio ours/peer {facets['ours'] / facets['peer']:.2f} ({count / facets['ours']:.0f} samples/s)")


if __name__ == "__main__":
    main()
