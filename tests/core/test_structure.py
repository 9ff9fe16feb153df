"""Output structures: None, "__default__", a key, a tuple or list, a nested dict of keys."""
import numpy as np
import pandas as pd
import pytest

from brevetti_core.generator import DataGenerator
from brevetti_core.structure import check_structure, resolve_structure, select_structure

BATCH = {"img": np.zeros((2, 3, 3, 1)), "onehot": np.eye(2), "path": np.array(["a.png", "b.png"])}


def test_none_selects_the_whole_dict():
    assert select_structure(BATCH, None) is BATCH


def test_a_key_selects_that_array():
    assert select_structure(BATCH, "onehot") is BATCH["onehot"]


def test_a_tuple_or_list_of_keys_selects_a_tuple():
    assert select_structure(BATCH, ("img", "onehot")) == (BATCH["img"], BATCH["onehot"])
    assert select_structure(BATCH, ["path", "img"]) == (BATCH["path"], BATCH["img"])


def test_a_nested_structure_keeps_its_shape():
    selected = select_structure(BATCH, {"inputs": {"image": "img"}, "targets": ("onehot", "path")})
    assert selected == {"inputs": {"image": BATCH["img"]}, "targets": (BATCH["onehot"], BATCH["path"])}


def test_default_stands_for_the_output_structure():
    assert resolve_structure("__default__", ("img", "onehot")) == ("img", "onehot")
    assert resolve_structure("__default__", None) is None
    assert resolve_structure("img", ("img", "onehot")) == "img"


def test_a_missing_key_is_named_with_the_available_keys():
    with pytest.raises(KeyError, match="'label' is not in the output; available keys: \\['img', 'onehot', 'path'\\]"):
        select_structure(BATCH, ("img", "label"))


@pytest.mark.parametrize("structure", [3, ("img", None), {"a": 1.5}])
def test_a_structure_of_other_things_is_refused(structure):
    with pytest.raises(TypeError, match="structure"):
        check_structure(structure)


def test_get_dataset_numpy_defaults_to_the_output_structure_and_get_samples_numpy_to_everything():
    samples = pd.DataFrame({"path": ["a", "b", "c"], "id": [1, 2, 3]})
    generator = DataGenerator(samples, batch_size=3, seed=0, output_structure=("id", "path"))
    ids, paths = next(generator.get_dataset_numpy())
    assert ids.tolist() == [1, 2, 3] and paths.tolist() == ["a", "b", "c"]
    assert set(next(generator.get_samples_numpy())) == {"path", "id"}
    assert next(generator.get_dataset_numpy(structure={"x": "id"}))["x"].tolist() == [1, 2, 3]


def test_an_unknown_output_structure_key_fails_naming_it():
    generator = DataGenerator(pd.DataFrame({"path": ["a"]}), seed=0, output_structure=("img", "onehot"))
    with pytest.raises(KeyError, match="'img'"):
        next(generator.get_dataset_numpy())
