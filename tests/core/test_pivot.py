"""Pivot export: field layout, exploded multi-label counts with unique-sample ids, dataset tags, the two files."""
import json

import numpy as np
import pandas as pd
import pytest

from brevetti_core.dataset import Dataset, category_counts
from brevetti_core.pivot import export_pivot_table, get_default_fields, join_tags, pivot_data, pivot_fields
from brevetti_demo import generate_vials


def multi_label_samples() -> pd.DataFrame:
    """7 samples, two of them multi-label, one unlabelled (empty tuple) and one without a purpose."""
    return pd.DataFrame({
        "category": [("A",), ("A", "B"), ("B",), ("A",), (), ("C",), ("A", "B")],
        "purpose": ["train", "devel", "train", "train", "train", None, "devel"],
        "dataset_id": ["d1", "d1", "d1", "d2", "d2", "d2", "d2"],
        "url": [f"https://host/{i}" for i in range(7)],
    })


def test_pivot_fields_maps_labels_and_specs_to_key_label_entries():
    layout = pivot_fields({"a": "A", "b": {"label": "B", "sort": ["x", "y"]}, "c": {"sort": []}})
    assert layout == {"rowFields": [], "colFields": [], "fields": [
        {"key": "a", "label": "A"}, {"key": "b", "label": "B", "sort": ["x", "y"]},
        {"key": "c", "label": "c", "sort": []}]}


def test_pivot_fields_puts_a_field_that_is_both_row_and_column_in_the_rows():
    fields = {key: key.upper() for key in "abcde"}
    layout = pivot_fields(fields, rows=["c", "a"], cols=["c", "d", "e"])
    assert [f["key"] for f in layout["rowFields"]] == ["c", "a"]
    assert [f["key"] for f in layout["colFields"]] == ["d", "e"]
    assert [f["key"] for f in layout["fields"]] == ["b"]


def test_pivot_fields_rejects_rows_that_are_not_fields():
    with pytest.raises(ValueError, match=r"\['nope'\] are not among the fields \['a'\]"):
        pivot_fields({"a": "A"}, rows=["nope"])


def test_default_fields_keep_the_reference_columns_present_with_sorted_category_labels():
    fields = get_default_fields(multi_label_samples())
    assert fields == {"category": {"label": "Category", "sort": ["A", "B", "C"]},
                      "dataset_id": "Dataset Id", "purpose": "Purpose"}


def test_pivot_data_explodes_multi_labels_and_counts_unique_samples_by_id():
    data = pivot_data(multi_label_samples(), ["category"])
    assert data.drop_duplicates("id")["count"].sum() == 7
    assert data.groupby("category")["count"].sum().to_dict() == {"A": 4, "B": 3, "C": 1, "N/A": 1}


def test_pivot_data_gives_identical_field_values_one_id_with_their_count():
    data = pivot_data(multi_label_samples(), ["category", "purpose"])
    assert list(data.columns) == ["category", "purpose", "id", "count"]
    a_train = data[(data["category"] == "A") & (data["purpose"] == "train")]
    assert a_train["count"].tolist() == [2]
    devel = data[data["purpose"] == "devel"]  # the two ("A", "B") devel samples: one id, exploded per label
    assert devel["category"].tolist() == ["A", "B"] and devel["count"].tolist() == [2, 2]
    assert devel["id"].nunique() == 1 and devel["id"].iloc[0] not in set(data.loc[data["purpose"] != "devel", "id"])


def test_pivot_data_writes_missing_values_and_empty_label_sets_as_na():
    data = pivot_data(multi_label_samples(), ["category", "purpose"])
    assert data.loc[data["category"] == "C", "purpose"].tolist() == ["N/A"]
    assert data.loc[data["category"] == "N/A", "purpose"].tolist() == ["train"]


@pytest.mark.parametrize("container", [list, np.array, set, frozenset])
def test_pivot_data_treats_list_array_and_set_cells_like_tuples(container):
    samples = multi_label_samples().assign(category=lambda t: t["category"].map(lambda c: container(sorted(c))))
    assert pivot_data(samples, ["category"]).equals(pivot_data(multi_label_samples(), ["category"]))


def test_pivot_data_aggregates_extra_columns_and_sums_an_existing_count_column():
    samples = multi_label_samples().assign(count=[1, 2, 3, 4, 5, 6, 7])
    data = pivot_data(samples, ["dataset_id"], agg={"url": "first"})
    assert data.to_dict("records") == [{"dataset_id": "d1", "id": 0, "count": 6, "url": "https://host/0"},
                                       {"dataset_id": "d2", "id": 1, "count": 22, "url": "https://host/3"}]


def test_pivot_data_names_missing_columns():
    with pytest.raises(KeyError, match=r"pivot columns \['folder'\] are not in the samples"):
        pivot_data(multi_label_samples(), ["category", "folder"])


def test_tags_join_by_dataset_id_or_name_and_untagged_datasets_get_na():
    datasets = [Dataset(id="d1", name="line one", bucket="/data/one"), Dataset(id="d2", name="line two", bucket="/x")]
    joined, labels = join_tags(multi_label_samples(), datasets, {"d1": {"Camera": ["top", "side"]},
                                                                 "line two": {"Plant": "Aarhus"}})
    assert labels == {"tag_camera": "Camera", "tag_plant": "Plant"}
    data = pivot_data(joined, ["dataset_id", *labels])
    d1 = data[data["dataset_id"] == "d1"]
    assert sorted(d1["tag_camera"]) == ["side", "top"] and set(d1["tag_plant"]) == {"N/A"}
    assert set(data.loc[data["dataset_id"] == "d2", "tag_plant"]) == {"Aarhus"}


def test_tags_naming_an_unknown_dataset_are_an_error():
    with pytest.raises(ValueError, match=r"tags: 'd9' is neither a dataset_id in the samples \['d1', 'd2'\]"):
        join_tags(multi_label_samples(), None, {"d9": {"Camera": "top"}})


def test_export_writes_the_reference_files(tmp_path):
    export_pivot_table(str(tmp_path / "pivot"), multi_label_samples(), rows=["dataset_id"], cols=["category"],
                       agg={"url": "first"})
    layout = json.loads((tmp_path / "pivot" / "summary_fields.json").read_text())
    assert layout["rowFields"] == [{"key": "dataset_id", "label": "Dataset Id"}]
    assert layout["colFields"] == [{"key": "category", "label": "Category", "sort": ["A", "B", "C"]}]
    assert layout["fields"] == [{"key": "purpose", "label": "Purpose"}]
    records = json.loads((tmp_path / "pivot" / "classification_summary.json").read_text())
    assert set(records[0]) == {"category", "dataset_id", "purpose", "id", "count", "url"}
    assert sum(r["count"] for r in {r["id"]: r for r in records}.values()) == 7


def test_export_adds_tag_fields_to_the_layout(tmp_path):
    export_pivot_table(str(tmp_path), multi_label_samples(), fields={"category": "Category"},
                       tags={"d2": {"Line": "B"}}, rows=["tag_line"])
    layout = json.loads((tmp_path / "summary_fields.json").read_text())
    assert layout["rowFields"] == [{"key": "tag_line", "label": "Line"}]
    records = json.loads((tmp_path / "classification_summary.json").read_text())
    assert {r["tag_line"] for r in records} == {"B", "N/A"}


def test_export_to_s3(s3_bucket, s3_client):
    export_pivot_table(f"{s3_bucket}/job/artifacts/pivot", multi_label_samples())
    body = s3_client.get_object(Bucket=s3_bucket[5:], Key="job/artifacts/pivot/classification_summary.json")["Body"]
    records = json.loads(body.read())
    assert sum(r["count"] for r in {r["id"]: r for r in records}.values()) == 7


def test_pivot_of_a_listed_dataset_counts_each_category(tmp_path):
    samples = Dataset(bucket=str(generate_vials(tmp_path / "vials", items_per_class=2, annotations=False))) \
        .get_image_samples()
    data = pivot_data(samples, list(get_default_fields(samples)))
    counts = data.groupby("category")["count"].sum().to_dict()
    assert counts == {category[0]: n for category, n in category_counts(samples).items()}
