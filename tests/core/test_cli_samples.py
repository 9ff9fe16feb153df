"""`brevetti samples`: the pre-flight summary of a dataset."""
import re

import pandas as pd
import pytest
from test_samples_s3 import upload_tree

from brevetti_core.cli.main import main
from brevetti_demo import generate_vials


@pytest.fixture(scope="module")
def vials(tmp_path_factory):
    root = generate_vials(tmp_path_factory.mktemp("cli") / "vials", items_per_class=3, shots_per_item=2)
    (root / "readme.txt").write_text("how the photos were taken")
    (root / "good" / "truncated.bmp").write_bytes((root / "unknown").glob("*.bmp").__next__().read_bytes()[:200])
    return root


def run(capsys, *args):
    code = main(["samples", *map(str, args)])
    return code, capsys.readouterr()


def test_prints_the_number_of_images_per_category(vials, capsys):
    code, out = run(capsys, vials, "--no-verify")
    assert code == 0
    assert f"Dataset {vials}: 23 images, 1 other entries" in out.out
    lines = out.out.splitlines()
    good = len(list((vials / "good").glob("*.bmp")))
    assert any(line.split() == ["good", str(good)] for line in lines)
    assert any(line.split() == ["unknown", "1"] for line in lines)
    assert any(line.split() == ["total", "23"] for line in lines)


def test_with_split_prints_counts_per_category_and_purpose(vials, capsys):
    code, out = run(capsys, vials, "--split", "0.5", "--uniqueness", r"/(\d*)_\d*.bmp",
                    "--unmatched-uniqueness", "etag", "--seed", "1", "--no-verify")
    assert code == 0
    header = next(line for line in out.out.splitlines() if line.startswith("purpose"))
    assert header.split() == ["purpose", "devel", "train", "total"]
    assert "Split: 0.5 train by sorted_permutation (seed 1; --seed 1 gives this split again)" in out.out


def split_of(capsys, vials, tmp_path, *args):
    """The purpose of each path from `brevetti samples --split 0.5 ... --csv`, and the printed Split line."""
    path = tmp_path / f"split-{len(list(tmp_path.iterdir()))}.csv"
    code, out = run(capsys, vials, "--split", "0.5", "--no-verify", "--csv", path, *args)
    assert code == 0, out.err
    table = pd.read_csv(path)
    line = next(line for line in out.out.splitlines() if line.startswith("Split: "))
    return table.set_index("path")["purpose"].sort_index(), table, line


def test_the_same_seed_gives_the_same_split(vials, tmp_path, capsys):
    first, _, _ = split_of(capsys, vials, tmp_path, "--seed", "7")
    again, _, _ = split_of(capsys, vials, tmp_path, "--seed", "7")
    assert first.equals(again)


def test_a_drawn_seed_is_printed_and_gives_the_split_again(vials, tmp_path, capsys):
    drawn, _, line = split_of(capsys, vials, tmp_path)
    seed = re.search(r"\(seed (\d+);", line).group(1)
    again, _, _ = split_of(capsys, vials, tmp_path, "--seed", seed)
    assert drawn.equals(again)


@pytest.mark.parametrize("strata", [["--stratify", "folder"], ["--stratify-regex", r"^(\w+)/"]])
def test_stratify_splits_each_category_folder_on_its_own(strata, vials, tmp_path, capsys):
    _, table, line = split_of(capsys, vials, tmp_path, "--seed", "3", *strata)
    assert f", stratified by {strata[1]} (seed 3;" in line
    for folder, purposes in table.groupby("folder")["purpose"]:
        train = int((purposes == "train").sum())
        assert abs(train - len(purposes) / 2) <= 1, (folder, train, len(purposes))  # half of each, up to one sample


def test_lists_duplicate_groups(vials, capsys):
    _, out = run(capsys, vials, "--no-verify")
    assert "Duplicate groups (identical content): 3 groups, 6 files" in out.out


def test_lists_non_image_files(vials, capsys):
    _, out = run(capsys, vials, "--no-verify")
    assert "Files skipped as non-images: 1\n  readme.txt" in out.out


def test_lists_unreadable_images(vials, capsys):
    _, out = run(capsys, vials)
    assert "Unreadable images: 1" in out.out
    assert f"{vials / 'good' / 'truncated.bmp'}: " in out.out


def test_csv_writes_the_sample_table(vials, tmp_path, capsys):
    code, _ = run(capsys, vials, "--split", "0.8", "--seed", "2", "--no-verify", "--csv", tmp_path / "samples.csv")
    table = pd.read_csv(tmp_path / "samples.csv")
    assert code == 0 and len(table) == 23
    assert list(table.columns) == ["category", "folder", "path", "etag", "bucket", "dataset", "dataset_id",
                                   "reference", "url", "purpose"]


def test_summarises_an_s3_dataset(vials, s3_bucket, s3_client, capsys):
    upload_tree(s3_client, vials, s3_bucket)
    code, out = run(capsys, s3_bucket)
    assert code == 0
    assert f"Dataset {s3_bucket}: 23 images, 1 other entries" in out.out
    assert "Unreadable images: 1" in out.out


def test_missing_folder_exits_2_naming_it(tmp_path, capsys):
    code, out = run(capsys, tmp_path / "nowhere")
    assert code == 2
    assert "nowhere" in out.err and "Traceback" not in out.err


def test_bad_split_exits_2(vials, capsys):
    code, out = run(capsys, vials, "--split", "1.5", "--no-verify")
    assert code == 2 and "split" in out.err
