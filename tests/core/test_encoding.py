"""OneHotEncoder: one-hot, multi-hot, unknown categories."""
import numpy as np
import pandas as pd
import pytest

from brevetti_core.encoding import OneHotEncoder

CLASSES = ["good", "scratch", "dent"]


def encode(category, classes=CLASSES):
    return OneHotEncoder(classes)({"category": category}, {})["onehot"]


def test_a_single_label_tuple_is_one_hot():
    out = encode(("scratch",))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [0, 1, 0])


def test_a_multi_label_tuple_is_multi_hot():
    np.testing.assert_array_equal(encode(("dent", "good")), [1, 0, 1])


def test_an_unknown_category_is_all_zeros():
    np.testing.assert_array_equal(encode(("__UNLABELED__",)), [0, 0, 0])


def test_unknown_names_in_a_multi_label_tuple_are_ignored():
    np.testing.assert_array_equal(encode(("dent", "rust")), [0, 0, 1])


def test_a_plain_string_category_counts_as_a_one_tuple():
    np.testing.assert_array_equal(encode("dent"), [0, 0, 1])


def test_classes_may_come_from_a_pandas_column():
    folders = pd.Series(["b", "a", "b"]).unique()
    np.testing.assert_array_equal(encode(("a",), classes=folders), [0, 1])


def test_keys_are_configurable_and_the_input_is_left_alone():
    sample = {"label": ("good",)}
    result = OneHotEncoder(CLASSES, input_key="label", output_key="y")(sample, {})
    np.testing.assert_array_equal(result["y"], [1, 0, 0])
    assert sample == {"label": ("good",)}


def test_a_missing_input_key_is_named():
    with pytest.raises(KeyError, match="no 'category'"):
        OneHotEncoder(CLASSES)({"path": "x.png"}, {})


@pytest.mark.parametrize("classes, message", [([], "at least one class"), (["a", "a"], "unique"),
                                              ("abc", "list of class names")])
def test_bad_classes_fail_at_construction(classes, message):
    with pytest.raises(ValueError, match=message):
        OneHotEncoder(classes)
