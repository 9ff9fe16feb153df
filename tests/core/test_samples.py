"""Sample tables from local folders: categories, class mappings, filters, content etags, errors."""
import hashlib
import logging

import pandas as pd
import pytest
from PIL import Image

from brevetti_core.dataset import Dataset, get_image_samples
from brevetti_core.samples import SAMPLE_COLUMNS


def write_image(path, colour=(10, 20, 30), fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 6), colour).save(path, format=fmt or {".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF",
                                                               ".tiff": "TIFF"}.get(path.suffix.lower(),
                                                                                    path.suffix[1:].upper()))
    return path


@pytest.fixture
def tree(tmp_path):
    """good/ (2), defects/scratch/ (1), defects/dent/deep/ (1), one root image, a text file, hidden files."""
    root = tmp_path / "ds"
    write_image(root / "good" / "1_100.bmp", (1, 1, 1))
    write_image(root / "good" / "2_200.bmp", (2, 2, 2))
    write_image(root / "defects" / "scratch" / "3_300.png", (3, 3, 3))
    write_image(root / "defects" / "dent" / "deep" / "4_400.bmp", (4, 4, 4))
    write_image(root / "root.bmp", (5, 5, 5))
    (root / "notes.txt").write_text("not an image")
    write_image(root / ".hidden" / "x.bmp")
    write_image(root / "good" / ".thumb.bmp")
    return root


def relative(samples, root):
    return [p[len(str(root)) + 1:] for p in samples["path"]]


def test_columns_are_the_sample_table_columns(tree):
    samples = Dataset(bucket=tree).get_image_samples()
    assert list(samples.columns) == SAMPLE_COLUMNS


def test_rows_are_sorted_by_path(tree):
    samples = Dataset(bucket=tree).get_image_samples()
    assert relative(samples, tree) == ["defects/dent/deep/4_400.bmp", "defects/scratch/3_300.png",
                                       "good/1_100.bmp", "good/2_200.bmp", "root.bmp"]


def test_category_is_leaf_folder_as_tuple_and_root_files_are___root__(tree):
    samples = Dataset(bucket=tree).get_image_samples()
    assert samples["category"].tolist() == [("deep",), ("scratch",), ("good",), ("good",), ("__root__",)]
    assert samples["folder"].tolist() == ["deep", "scratch", "good", "good", "__root__"]
    assert samples["category"].dtype == object


def test_class_mapping_is_looked_up_from_the_leaf_folder_upward(tree):
    samples = Dataset(bucket=tree).get_image_samples(class_mapping={"defects": "defect", "scratch": "scratched",
                                                                    "__root__": "other"})
    assert samples["category"].tolist() == [("defect",), ("scratched",), ("other",), ("other",), ("other",)]


def test_class_mapping_values_can_be_multi_label(tree):
    mapping = {"deep": "defect|dent", "scratch": ["defect", "scratch"]}
    samples = Dataset(bucket=tree).get_image_samples(class_mapping=mapping)
    assert samples["category"].tolist()[:2] == [("defect", "dent"), ("defect", "scratch")]


def test_classes_filter_keeps_listed_names_and_drops_emptied_rows(tree):
    samples = Dataset(bucket=tree).get_image_samples(class_mapping={"deep": "defect|dent"}, classes=["defect", "good"])
    assert samples["category"].tolist() == [("defect",), ("good",), ("good",)]


def test_invalid_class_mapping_value_is_an_error_naming_the_key(tree):
    with pytest.raises(ValueError, match="class_mapping\\['good'\\]"):
        Dataset(bucket=tree).get_image_samples(class_mapping={"good": 3})


def test_image_extensions_match_in_any_case(tmp_path):
    names = ["a.bmp", "b.PNG", "c.jpg", "d.JPEG", "e.tif", "f.TIFF"]
    for name in names:
        write_image(tmp_path / "ds" / "x" / name)
    samples = Dataset(bucket=tmp_path / "ds").get_image_samples()
    assert [p.rsplit("/", 1)[1] for p in samples["path"]] == names


def test_sample_filter_can_restrict_the_files(tree):
    samples = Dataset(bucket=tree).get_image_samples(sample_filter=r"\.png$")
    assert relative(samples, tree) == ["defects/scratch/3_300.png"]


def test_non_images_are_skipped_and_counted_in_the_log(tree, caplog):
    with caplog.at_level(logging.INFO, logger="brevetti_core"):
        samples = Dataset(bucket=tree, name="parts").get_image_samples()
    assert not samples["path"].str.endswith(".txt").any()
    assert "Skipped 1 entries that are not images in dataset 'parts' (e.g. notes.txt)" in caplog.text


def test_hidden_files_and_folders_are_not_samples(tree):
    samples = Dataset(bucket=tree).get_image_samples()
    assert not samples["path"].str.contains("/.", regex=False).any()


def test_etag_is_the_md5_of_the_content_so_identical_files_share_it(tree):
    (tree / "good" / "copy_of_1.bmp").write_bytes((tree / "good" / "1_100.bmp").read_bytes())
    samples = Dataset(bucket=tree).get_image_samples().set_index("path")
    etag = samples.loc[str(tree / "good" / "1_100.bmp"), "etag"]
    assert etag == hashlib.md5((tree / "good" / "1_100.bmp").read_bytes()).hexdigest()
    assert samples.loc[str(tree / "good" / "copy_of_1.bmp"), "etag"] == etag
    assert samples["etag"].nunique() == len(samples) - 1


def test_dataset_columns_and_file_urls(tree):
    samples = Dataset(id="ds-1", name="Parts", bucket=tree).get_image_samples()
    row = samples.iloc[2]
    assert (row["bucket"], row["dataset"], row["dataset_id"], row["reference"]) == (str(tree), "Parts", "ds-1", "N/A")
    assert row["url"] == (tree / "good" / "1_100.bmp").as_uri()


def test_reference_column_holds_the_dataset_reference(tree):
    samples = Dataset(bucket=tree, reference="batch 7").get_image_samples()
    assert set(samples["reference"]) == {"batch 7"}


def test_urls_of_names_with_spaces_are_percent_encoded(tmp_path):
    write_image(tmp_path / "ds" / "a b" / "x#1.bmp")
    samples = Dataset(bucket=tmp_path / "ds").get_image_samples()
    assert samples["url"].iloc[0] == (tmp_path / "ds" / "a b" / "x#1.bmp").as_uri()


def test_contents_are_logged_as_category_counts(tree, caplog):
    with caplog.at_level(logging.INFO, logger="brevetti_core"):
        Dataset(bucket=tree, name="parts").get_image_samples()
    assert "Getting image samples from dataset 'parts' [" in caplog.text
    assert "Contents: {('good',): 2, ('__root__',): 1, ('deep',): 1, ('scratch',): 1}" in caplog.text


def test_missing_folder_is_an_error_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        Dataset(bucket=tmp_path / "nowhere").get_image_samples()


def test_empty_dataset_gives_an_empty_table_with_the_columns_and_a_warning(tmp_path, caplog):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("nothing here")
    with caplog.at_level(logging.WARNING, logger="brevetti_core"):
        samples = Dataset(bucket=tmp_path / "empty", name="empty").get_image_samples()
    assert samples.empty and list(samples.columns) == SAMPLE_COLUMNS
    assert "Dataset 'empty'" in caplog.text and "no image samples" in caplog.text


def test_several_datasets_are_concatenated_in_the_given_order(tmp_path):
    write_image(tmp_path / "b" / "good" / "1.bmp")
    write_image(tmp_path / "a" / "good" / "1.bmp")
    write_image(tmp_path / "a" / "bad" / "2.bmp")
    samples = get_image_samples([Dataset(name="B", bucket=tmp_path / "b"), Dataset(name="A", bucket=tmp_path / "a")])
    assert samples["dataset"].tolist() == ["B", "A", "A"]
    assert samples.index.tolist() == [0, 1, 2]
    assert samples["category"].tolist() == [("good",), ("bad",), ("good",)]


def test_several_datasets_pass_options_to_each(tmp_path):
    write_image(tmp_path / "a" / "good" / "1.bmp")
    write_image(tmp_path / "b" / "bad" / "1.bmp")
    samples = get_image_samples([Dataset(bucket=tmp_path / "a"), Dataset(bucket=tmp_path / "b")],
                                class_mapping={"good": "ok", "bad": "ng"})
    assert samples["category"].tolist() == [("ok",), ("ng",)]


def test_the_table_is_a_plain_dataframe_a_user_can_filter(tree):
    samples = Dataset(bucket=tree).get_image_samples()
    good = samples[samples["category"] == ("good",)]
    assert isinstance(good, pd.DataFrame) and len(good) == 2
