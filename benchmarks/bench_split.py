"""SampleSplit.assign throughput on 1,000,000 rows, against scikit-learn's GroupShuffleSplit on the same rows.

Both keep each group (an item, or identical content) wholly in train or devel; SampleSplit also
stratifies by folder, keeps existing purposes and makes the order independent of the row order.
The regex case includes extracting the item id from 1M paths. Run: .venv/bin/python benchmarks/bench_split.py [--quick]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

from brevetti_core.split import SampleSplit


def make_samples(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    item = np.sort(rng.integers(0, n // 3, size=n))
    folder = rng.choice(np.array(["good", "missing_cap", "failed_cap", "scratch", "dent"]), size=n)
    timestamp = 1543413266626 + np.arange(n)
    path = pd.Series(folder, dtype="str").radd("s3://bucket/") + "/" + pd.Series(item).astype("str") + "_" + \
        pd.Series(timestamp).astype("str") + ".bmp"
    etag = pd.Series(rng.integers(0, 2**63, size=n)).map("{:032x}".format)
    return pd.DataFrame({"etag": etag, "folder": folder, "path": path, "item": item})


def best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    samples = make_samples(n)
    print(f"{n:,} rows, {samples['item'].nunique():,} items, 5 folders")

    peers = {}
    for groups in ("item", "etag"):
        peers[groups] = best_of(args.repeats, lambda column=groups: next(
            GroupShuffleSplit(n_splits=1, train_size=0.8, random_state=0).split(samples, groups=samples[column])))
        print(f"sklearn GroupShuffleSplit groups={groups:5}                {peers[groups]:7.3f} s  "
              f"{n / peers[groups]:12,.0f} rows/s")

    cases = [
        ("SampleSplit stratification=folder, uniqueness=etag  ", "etag",
         SampleSplit(stratification=["folder"], seed=1)),
        ("SampleSplit stratification=folder, uniqueness=item  ", "item",
         SampleSplit(stratification=["folder"], uniqueness=["item"], seed=1)),
        ("SampleSplit stratification=folder, uniqueness=regex ", "item",
         SampleSplit(stratification=["folder"], uniqueness=r"/(\d+)_\d+\.bmp$", seed=1)),
        ("SampleSplit mode=hash, uniqueness=etag              ", "etag", SampleSplit(seed=1, mode="hash")),
    ]
    for name, groups, split in cases:
        seconds = best_of(args.repeats, lambda split=split: split.assign(samples, remainder="devel"))
        print(f"{name}{seconds:7.3f} s  {n / seconds:12,.0f} rows/s  "
              f"({seconds / peers[groups]:.2f}x the time of sklearn groups={groups})")

if __name__ == "__main__":
    main()
