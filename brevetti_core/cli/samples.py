"""`brevetti samples PATH_OR_URI`: a pre-flight summary of a dataset before training on it.

Prints the number of images per category (and per purpose with ``--split``), groups of
byte-identical files, files skipped as non-images and images that cannot be decoded.

``--split`` draws the split ``SampleSplit`` would: per stratum (``--stratify folder``: each category
folder split on its own) and per item (``--uniqueness``), seeded by ``--seed``. Without ``--seed`` a
seed is drawn and printed; the same seed on the same files gives the same split.
"""
from __future__ import annotations

import argparse

import pandas as pd

from ..dataset import Dataset
from ..io_tools import io_tools
from ..samples import REGULAR, unreadable_images
from ..split import MODE_HASH, MODE_SORTED_PERMUTATION, SampleSplit

LISTED_EXAMPLES = 20


def register(subparsers) -> None:
    parser = subparsers.add_parser("samples", help="summarise the images of a folder or s3:// dataset",
                                   description="\n\n".join(__doc__.split("\n\n")[1:3]),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("location", metavar="PATH_OR_URI", help="dataset folder or s3://bucket/prefix")
    parser.add_argument("--split", type=float, default=None, help="fraction assigned 'train', the rest 'devel'")
    parser.add_argument("--uniqueness", default=None, metavar="REGEX",
                        help="regex on the path whose first group identifies one item (default: identical content)")
    parser.add_argument("--unmatched-uniqueness", choices=["error", "etag"], default="error",
                        help="paths the uniqueness regex does not match: an error, or keyed by their content etag")
    strata = parser.add_mutually_exclusive_group()
    strata.add_argument("--stratify", action="append", default=None, metavar="COLUMN",
                        help="split each group of samples sharing this sample-table column (folder, dataset, ...) on "
                             "its own; repeat for several columns")
    strata.add_argument("--stratify-regex", default=None, metavar="REGEX",
                        help="split each group of paths sharing this regex's first group on its own")
    parser.add_argument("--seed", type=int, default=-1,
                        help="split seed; -1 draws one and prints it (rerun with it for the same split)")
    parser.add_argument("--mode", choices=[MODE_SORTED_PERMUTATION, MODE_HASH], default=MODE_SORTED_PERMUTATION,
                        help="split method")
    parser.add_argument("--csv", default=None, metavar="OUT", help="write the sample table to this CSV file or URI")
    parser.add_argument("--no-verify", dest="verify", action="store_false",
                        help="skip decoding every image to find unreadable ones")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dataset = Dataset(bucket=args.location)
    samples, skipped = dataset.scan()
    if args.split is not None:
        stratification = args.stratify or args.stratify_regex
        splitter = SampleSplit(stratification=stratification, uniqueness=args.uniqueness, split=args.split,
                               seed=args.seed, mode=args.mode, unmatched_uniqueness=args.unmatched_uniqueness)
        samples = splitter.assign(samples, remainder="devel")
        strata = f", stratified by {', '.join(args.stratify) if args.stratify else args.stratify_regex}" \
            if stratification else ""
        print(f"Split: {args.split:g} train by {args.mode}{strata} (seed {splitter.seed_used}; --seed "
              f"{splitter.seed_used} gives this split again)")
    print(f"Dataset {dataset.bucket}: {len(samples)} images, {len(skipped)} other entries")
    print()
    print(_counts(samples))
    _print_duplicates(samples)
    regular = skipped["kind"] == REGULAR
    _print_list("Files skipped as non-images", skipped.loc[regular, "relpath"].tolist())
    _print_list("Entries skipped as not regular files",
                [f"{r} ({k})" for r, k in zip(skipped.loc[~regular, "relpath"], skipped.loc[~regular, "kind"])])
    if args.verify and len(samples):
        unreadable = unreadable_images(samples["path"].tolist())
        _print_list("Unreadable images", [f"{p}: {e}" for p, e in zip(unreadable["path"], unreadable["error"])])
    if args.csv:
        io_tools.write_file(args.csv, samples.to_csv(index=False))
        print(f"\nWrote {len(samples)} rows to {args.csv}")
    return 0


def _counts(samples: pd.DataFrame) -> str:
    categories = samples["category"].map(", ".join) if len(samples) else samples["category"]
    if "purpose" in samples.columns:
        table = pd.crosstab(categories.rename("category"), samples["purpose"].fillna("unassigned"),
                            margins=True, margins_name="total")
    else:
        table = categories.rename("category").value_counts().sort_index().rename("images").to_frame()
        table.loc["total"] = len(samples)
    return table.to_string()


def _print_duplicates(samples: pd.DataFrame) -> None:
    sizes = samples.groupby("etag")["path"].transform("size")
    duplicates = samples[sizes > 1].sort_values(["etag", "path"])
    groups = duplicates.groupby("etag", sort=True)["path"]
    print(f"\nDuplicate groups (identical content): {groups.ngroups} groups, {len(duplicates)} files")
    for i, (etag, paths) in enumerate(groups):
        if i == LISTED_EXAMPLES:
            print(f"  ... and {groups.ngroups - LISTED_EXAMPLES} more groups")
            break
        print(f"  {etag}: " + ", ".join(paths))


def _print_list(title: str, items: list[str]) -> None:
    print(f"\n{title}: {len(items)}")
    for item in items[:LISTED_EXAMPLES]:
        print(f"  {item}")
    if len(items) > LISTED_EXAMPLES:
        print(f"  ... and {len(items) - LISTED_EXAMPLES} more")
