"""Conformance: brevettiai's documented pivot-table behaviours (its tests/test_pivot.py, inventory §7.1).

Each test states one behaviour of the reference in its docstring; the export is checked on the files
written to disk from a sample table listed from image files.
"""
import json

import pandas as pd
from reference_files import write_numbered_dataset

from brevetti_core import Dataset, SampleSplit
from brevetti_core.pivot import export_pivot_table, get_default_fields, pivot_data, pivot_fields

FIELDS = {"a": "A", "b": {"label": "B", "sort": ["x", "y"]}, "c": "C", "d": "D", "e": "E"}


def multi_label_samples() -> pd.DataFrame:
    """Seven samples, some with several labels, one without any."""
    return pd.DataFrame({"cat": [("a",), ("a", "b"), ("b",), ("c",), ("a", "c"), ("b",), None]})


def test_pivot_fields_map_keys_to_labels_and_keep_extra_settings():
    """Reference test_pivot: a field given as a label becomes {key, label}; a dict keeps its settings."""
    layout = pivot_fields(FIELDS)
    assert layout["fields"][:2] == [{"key": "a", "label": "A"}, {"key": "b", "label": "B", "sort": ["x", "y"]}]


def test_pivot_fields_leave_rows_and_columns_out_of_the_other_fields():
    """Reference test_pivot: rows and cols are taken out of `fields`; a column that is also a row is a row only
    (rows [c], cols [c, d, e] give colFields d, e)."""
    layout = pivot_fields(FIELDS, rows=["c"], cols=["c", "d", "e"])
    assert [f["key"] for f in layout["rowFields"]] == ["c"]
    assert [f["key"] for f in layout["colFields"]] == ["d", "e"]
    assert [f["key"] for f in layout["fields"]] == ["a", "b"]


def test_pivot_data_counts_each_sample_once_per_id():
    """Reference test_pivot: pivot_data explodes multi-label cells, yet drop_duplicates('id').count.sum() == 7."""
    data = pivot_data(multi_label_samples(), ["cat"])
    assert data.drop_duplicates("id")["count"].sum() == 7
    assert sorted(set(data["cat"])) == ["N/A", "a", "b", "c"]


def test_a_categorical_column_with_na_explodes_to_na_label_and_omits_unused_categories():
    """Reference (2.0.0) test_pivot: a categorical column with NA gives labels A, A, N/A; unused categories omitted."""
    samples = pd.DataFrame({"cat": pd.Categorical(["A", "A", None], categories=["A", "B", "C"])})
    data = pivot_data(samples, ["cat"])
    assert data.loc[data.index.repeat(data["count"]), "cat"].tolist() == ["A", "A", "N/A"]


def test_default_fields_are_those_present_with_category_labels_sorted(tmp_path):
    """Reference §7.1 get_default_fields: category (its sorted labels), folder, dataset_id, purpose where present."""
    samples = Dataset(bucket=str(write_numbered_dataset(tmp_path / "d", {"B": 2, "A": 1}))).get_image_samples()
    fields = get_default_fields(samples)
    assert fields == {"category": {"label": "Category", "sort": ["A", "B"]}, "folder": "Folder",
                      "dataset_id": "Dataset Id"}


def test_export_writes_summary_fields_and_classification_summary(tmp_path):
    """Reference §7.1 export_pivot_table: pivot_dir/summary_fields.json holds the pivot_fields layout and
    pivot_dir/classification_summary.json the records (fields, id, count)."""
    samples = Dataset(bucket=str(write_numbered_dataset(tmp_path / "d", {"A": 3, "B": 2}))).get_image_samples()
    samples = SampleSplit(seed=1).assign(samples, remainder="devel")
    (tmp_path / "pivot").mkdir()
    export_pivot_table(str(tmp_path / "pivot"), samples, rows=["dataset_id"], cols=["category"])
    layout = json.loads((tmp_path / "pivot" / "summary_fields.json").read_text())
    records = json.loads((tmp_path / "pivot" / "classification_summary.json").read_text())
    assert [f["key"] for f in layout["rowFields"]] == ["dataset_id"]
    assert [f["key"] for f in layout["colFields"]] == ["category"]
    assert {f["key"] for f in layout["fields"]} == {"folder", "purpose"}
    assert set(records[0]) == {"category", "folder", "dataset_id", "purpose", "id", "count"}
    assert sum(r["count"] for r in records) == 5
