"""How loaded samples become numpy batches: arrays stacked, strings as str arrays, category tuples as label arrays."""
import numpy as np
import pandas as pd
import pytest

from brevetti_core.batching import as_numpy_sample, collate
from brevetti_core.generator import DataGenerator


def test_arrays_are_stacked_along_a_new_batch_axis():
    batch = collate([{"img": np.full((2, 3, 1), i, np.float32)} for i in range(4)])
    assert batch["img"].shape == (4, 2, 3, 1)
    assert batch["img"].dtype == np.float32
    assert batch["img"][:, 0, 0, 0].tolist() == [0, 1, 2, 3]


def test_strings_become_a_str_array():
    batch = collate([{"path": "a.png"}, {"path": "dir/bb.png"}])
    assert batch["path"].dtype.kind == "U"
    assert batch["path"].tolist() == ["a.png", "dir/bb.png"]


def test_numbers_become_a_numeric_array():
    batch = collate([{"id": 1, "w": 0.5, "ok": True}, {"id": 2, "w": 1.5, "ok": False}])
    assert batch["id"].dtype == np.int64 and batch["w"].dtype == np.float64 and batch["ok"].dtype == bool


def test_category_tuples_become_a_label_array_padded_with_empty_strings():
    batch = collate([{"category": ("good",)}, {"category": ("bad", "scratch")}, {"category": ()}])
    assert batch["category"].tolist() == [["good", ""], ["bad", "scratch"], ["", ""]]


def test_an_unbatched_category_is_a_one_dimensional_str_array():
    sample = as_numpy_sample({"category": ("bad", "scratch"), "path": "x.png"})
    assert sample["category"].tolist() == ["bad", "scratch"]
    assert sample["path"] == "x.png"


def test_tuples_of_arrays_are_stacked_element_wise():
    batch = collate([{"rois": (np.zeros((2, 2)), np.ones((3, 3)))} for _ in range(5)])
    assert [a.shape for a in batch["rois"]] == [(5, 2, 2), (5, 3, 3)]


def test_nested_dicts_are_collated_recursively():
    batch = collate([{"meta": {"size": np.array([4, 5]), "name": "a"}},
                     {"meta": {"size": np.array([6, 7]), "name": "b"}}])
    assert batch["meta"]["size"].tolist() == [[4, 5], [6, 7]] and batch["meta"]["name"].tolist() == ["a", "b"]


def test_arrays_of_different_shapes_name_the_key():
    with pytest.raises(ValueError, match="cannot batch 'img'.*target_size"):
        collate([{"img": np.zeros((4, 4, 3))}, {"img": np.zeros((5, 4, 3))}])


def test_samples_with_different_keys_cannot_share_a_batch():
    with pytest.raises(ValueError, match="different keys"):
        collate([{"img": np.zeros(2)}, {"mask": np.zeros(2)}])


def test_mixed_values_fall_back_to_an_object_array():
    batch = collate([{"annotation_path": "a.json"}, {"annotation_path": None}])
    assert batch["annotation_path"].dtype == object
    assert batch["annotation_path"].tolist() == ["a.json", None]


def test_unbatched_iteration_yields_the_samples_of_the_batches_in_order():
    samples = pd.DataFrame({"id": range(7), "category": [("a",)] * 7})
    generator = DataGenerator(samples, batch_size=3, shuffle=True, seed=2)
    one_by_one = list(generator.get_samples_numpy(batch=False))
    batches = list(generator.get_samples_numpy())
    assert [s["id"] for s in one_by_one] == np.concatenate([b["id"] for b in batches]).tolist()
    assert one_by_one[0]["category"].tolist() == ["a"]
