"""plan(epoch) on a large sample table: shuffle + stratified sampling + an augmenter's ~20 parameters.

Target: 10,000,000 rows in <= 3 s and <= 2 GiB (peak memory added by the call: what tracemalloc
sees plus Arrow's string buffers, which it does not). The peer, timed in
the same run, is the floor any planner pays: a numpy permutation, a pandas take of the sample
columns and 20 float64 uniform columns from numpy's default generator.

    .venv/bin/python benchmarks/bench_plan.py [--quick] [--rows N]
"""
from __future__ import annotations

import argparse
import functools
import gc
import threading
import time
import tracemalloc

import numpy as np
import pandas as pd

from brevetti_core.actions import Action
from brevetti_core.generator import DataGenerator


class FakeAugmenter(Action):
    """Stands in for the default ImageAugmenter: 20 parameters (chances, uniforms, a seed, a choice)."""

    plan_prefix = "aug"

    def sample_params(self, streams, n):
        params = {name: streams.chance(name, n, 0.5) for name in ("flip_lr", "flip_ud", "rotate", "noise")}
        for name, low, high in (("rotate_deg", -90, 90), ("scale", 0.8, 1.2), ("shear", -0.04, 0.04),
                                ("translate_x", -0.1, 0.1), ("translate_y", -0.1, 0.1), ("brightness", -0.25, 0.25),
                                ("contrast", 0.5, 1.25), ("hue", -0.05, 0.05), ("saturation", 0, 2),
                                ("gaussian_sigma", 0, 0.01), ("blur_sigma", 0, 1), ("emboss_strength", 0, 1),
                                ("elastic_alpha", 0, 1), ("elastic_sigma", 0, 1)):
            params[name] = streams.uniform(name, n, low, high)
        params["noise_seed"] = streams.seeds("noise_seed", n)
        params["filter"] = streams.generator("filter").integers(0, 4, n, dtype=np.int8)
        return params

    def __call__(self, sample, params):
        return sample


def augmenter() -> tuple[Action, str]:
    """The real default ImageAugmenter when it exists, else the stand-in."""
    try:
        from brevetti_core.augment.augmenter import ImageAugmenter
    except ImportError:
        return FakeAugmenter(), "FakeAugmenter (20 params; ImageAugmenter not available)"
    return ImageAugmenter(), "ImageAugmenter()"


def timed(fn):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def peak_memory(fn) -> tuple[int, int]:
    """(peak bytes tracemalloc saw while fn ran, peak bytes Arrow's pool added, sampled every 5 ms).

    pandas' ``str`` columns live in Arrow buffers, which tracemalloc does not see; the sum of the
    two peaks bounds the call's peak memory from above.
    """
    try:
        import pyarrow as pa
        arrow_bytes = pa.total_allocated_bytes
    except ImportError:  # pandas then keeps strings as Python objects, which tracemalloc sees
        def arrow_bytes() -> int:
            return 0

    gc.collect()
    base = peak = arrow_bytes()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.005):
            peak = max(peak, arrow_bytes())

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    tracemalloc.start()
    try:
        fn()
        traced = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        done.set()
        watcher.join()
    return traced, max(peak, arrow_bytes()) - base


def sample_table(rows: int) -> pd.DataFrame:
    """A table shaped like get_image_samples' output: 9 columns, unique paths/etags/urls, 5 categories."""
    classes = ["good", "missing_cap", "failed_cap", "unknown", "scratch"]
    class_of = np.random.default_rng(0).choice(len(classes), rows, p=[0.5, 0.2, 0.2, 0.05, 0.05])
    categories = np.empty(len(classes), dtype=object)
    categories[:] = [(name,) for name in classes]
    numbers = np.arange(rows).astype(str)
    paths = np.char.add(np.char.add("s3://bucket/cb14b6e3/", np.asarray(classes)[class_of]), np.char.add("/", numbers))
    return pd.DataFrame({
        "category": categories[class_of],
        "folder": pd.Series(np.asarray(classes, dtype=object)[class_of], dtype="str"),
        "path": pd.Series(paths, dtype="str"),
        "etag": pd.Series(np.char.zfill(numbers, 32), dtype="str"),
        "bucket": pd.Series(["s3://bucket/cb14b6e3"] * rows, dtype="str"),
        "dataset": pd.Series(["NeurIPS vials TRAIN"] * rows, dtype="str"),
        "dataset_id": pd.Series(["cb14b6e3-b4b9-45bb-955f-47aa6489a192"] * rows, dtype="str"),
        "reference": pd.Series(["N/A"] * rows, dtype="str"),
        "url": pd.Series(np.char.add("https://platform/download?path=", numbers), dtype="str"),
    })


def table_bytes(table: pd.DataFrame) -> dict[str, int]:
    """Bytes a table's columns hold: Arrow strings (offsets included), object pointers, numbers."""
    held = {"strings": 0, "objects": 0, "numbers": 0}
    for name in table.columns:
        column = table[name]
        kind = ("strings" if isinstance(column.dtype, pd.StringDtype) else
                "objects" if column.dtype == object else "numbers")
        held[kind] += int(column.memory_usage(index=False, deep=False))
    return held


def peer(samples: pd.DataFrame, columns: int):
    generator = np.random.default_rng(0)
    order = generator.permutation(len(samples))
    taken = samples.take(order).reset_index(drop=True)
    return taken, [generator.uniform(size=len(samples)) for _ in range(columns)]


def best_of(repeats: int, prepare, run) -> tuple[float, object]:
    """The fastest of `repeats` timed calls of run(prepare()), the preparation untimed; the machine is shared."""
    times, result = [], None
    for _ in range(repeats):
        subject = prepare()
        seconds, result = timed(functools.partial(run, subject))
        times.append(seconds)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000,000 rows instead of 10,000,000")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3, help="timings are the best of this many runs")
    args = parser.parse_args()
    rows = args.rows or (1_000_000 if args.quick else 10_000_000)

    start = time.perf_counter()
    samples = sample_table(rows)
    print(f"sample table: {rows:,} rows x {samples.shape[1]} columns built in {time.perf_counter() - start:.1f} s")
    action, action_name = augmenter()

    def build() -> DataGenerator:
        return DataGenerator(samples, batch_size=32, shuffle=True, sampling_groupby="category",
                             sampling_group_weighing="square root", seed=7).map(action)

    build_s, _ = best_of(args.repeats, lambda: None, lambda _: build())
    order_s, _ = best_of(args.repeats, build, lambda generator: generator.seeded_plan.order(0))
    params_s, params = best_of(args.repeats, build, lambda generator: generator.seeded_plan.params(0))
    slots_s, _ = best_of(args.repeats, build,
                         lambda generator: (generator.seeded_plan.order(0), generator.seeded_plan.params(0)))
    plan_s, plan = best_of(args.repeats, build, lambda generator: generator.plan(0))  # empty caches each time
    shape, held = plan.shape, table_bytes(plan)
    del plan, _
    lean_s, _ = best_of(args.repeats, build, lambda generator: generator.plan(0, sample_columns=["path"]))
    del _
    fresh = build()
    plan_traced, plan_arrow = peak_memory(functools.partial(fresh.plan, 0))
    del fresh
    peer_s, _ = best_of(args.repeats, lambda: None, lambda _: peer(samples, len(params)))
    del _
    peer_traced, peer_arrow = peak_memory(lambda: peer(samples, len(params)))

    gib = 1024**3
    print(f"augmenter: {action_name}; plan: {shape[0]:,} rows x {shape[1]} columns ({len(params)} parameter columns); "
          f"best of {args.repeats}")
    print(f"DataGenerator(shuffle, groupby='category', 'square root').map(aug): {build_s:.2f} s")
    print(f"executor's epoch slot table (what iteration uses): {slots_s:.2f} s "
          f"(order {order_s:.2f} s + parameters {params_s:.2f} s)")
    plan_mem, peer_mem = plan_traced + plan_arrow, peer_traced + peer_arrow
    print(f"plan(0) as a DataFrame (empty caches): {plan_s:.2f} s, peak <= {plan_mem / gib:.2f} GiB "
          f"(numpy/pandas {plan_traced / gib:.2f} + Arrow strings {plan_arrow / gib:.2f}) "
          f"(target <= 3 s, <= 2 GiB for 10M rows)")
    print(f"plan(0, sample_columns=['path']):       {lean_s:.2f} s")
    print(f"plan(0) table holds {sum(held.values()) / gib:.2f} GiB: " + ", ".join(
        f"{kind} {size / gib:.2f}" for kind, size in held.items()) + " (the part any plan of these columns keeps)")
    print(f"peer (permutation + take + {len(params)} float64 uniform columns): {peer_s:.2f} s, "
          f"peak <= {peer_mem / gib:.2f} GiB (numpy/pandas {peer_traced / gib:.2f} + Arrow {peer_arrow / gib:.2f})")
    print(f"ratio plan/peer: time {plan_s / peer_s:.2f}x, memory {plan_mem / max(peer_mem, 1):.2f}x")


if __name__ == "__main__":
    main()
