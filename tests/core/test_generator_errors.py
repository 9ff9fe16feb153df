"""A failing action: SampleError naming the action, sample and plan position.

on_error="zeros"/"skip" replace or drop the sample instead, with counted warnings.
"""
import logging
import pickle

import numpy as np
import pandas as pd
import pytest

from brevetti_core.executor import SampleError
from brevetti_core.generator import DataGenerator


def load(sample):
    if sample["path"].endswith("broken.png"):
        raise OSError(f"truncated file {sample['path']}")
    return {**sample, "img": np.full((2, 2, 1), sample["id"] + 1, np.float32)}


def samples() -> pd.DataFrame:
    paths = ["a.png", "b.png", "broken.png", "c.png", "d.png"]
    return pd.DataFrame({"id": range(5), "path": paths, "category": [("x",)] * 5})


def generator(**kw) -> DataGenerator:
    return DataGenerator(samples(), batch_size=3, seed=0, **kw).map(load)


def test_a_failing_action_names_itself_the_sample_and_its_place():
    with pytest.raises(SampleError) as caught:
        list(generator().get_dataset_numpy())
    error = caught.value
    assert "load failed on sample 2 (path 'broken.png') at epoch 0, batch 0, position 2" in str(error)
    assert "OSError: truncated file broken.png" in str(error)
    assert isinstance(error.__cause__, OSError)
    assert (error.action, error.index, error.path, error.epoch, error.batch, error.position) == \
           ("load", 2, "broken.png", 0, 0, 2)


def test_an_action_that_returns_no_dict_is_a_sample_error():
    gen = DataGenerator(samples(), seed=0).map(lambda sample: None)
    with pytest.raises(SampleError, match="must return a dict"):
        next(gen.get_dataset_numpy())


def test_a_sample_error_survives_pickling():
    with pytest.raises(SampleError) as caught:
        list(generator().get_dataset_numpy())
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value) and copy.path == "broken.png" and copy.position == 2


def test_zeros_replaces_the_failed_sample_and_keeps_its_table_values(caplog):
    with caplog.at_level(logging.WARNING):
        first, second = list(generator(on_error="zeros").get_dataset_numpy())
    assert first["img"].shape == (3, 2, 2, 1)
    assert first["img"][:, 0, 0, 0].tolist() == [1, 2, 0]
    assert first["path"].tolist() == ["a.png", "b.png", "broken.png"]
    assert second["img"][:, 0, 0, 0].tolist() == [4, 5]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "1 samples failed in epoch 0 and were replaced by zeros" in warnings[0]
    assert "broken.png" in warnings[0]


def test_skip_drops_the_failed_sample_with_a_counted_warning_per_epoch(caplog):
    with caplog.at_level(logging.WARNING):
        batches = list(generator(on_error="skip", repeat=2).get_dataset_numpy(structure="id"))
    assert [b.tolist() for b in batches] == [[0, 1], [3, 4], [0, 1], [3, 4]]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [w.split(" and were")[0] for w in warnings] == ["on_error='skip': 1 samples failed in epoch 0",
                                                            "on_error='skip': 1 samples failed in epoch 1"]


def test_zeros_keeps_a_batch_in_which_nothing_loaded_shaped_like_the_others(caplog):
    gen = DataGenerator(samples().iloc[[2, 0]], batch_size=1, seed=0, on_error="zeros").map(load)
    with caplog.at_level(logging.WARNING):
        failed, loaded = list(gen.get_dataset_numpy())
    assert failed["img"].shape == loaded["img"].shape == (1, 2, 2, 1) and not failed["img"].any()
    assert (failed["id"].tolist(), failed["path"].tolist(), failed["category"].tolist()) == ([2], ["broken.png"],
                                                                                            [["x"]])
    assert "1 samples failed in epoch 0 and were replaced by zeros" in caplog.text and "dropped" not in caplog.text


def test_skip_drops_a_batch_in_which_nothing_loaded_and_says_so(caplog):
    gen = DataGenerator(samples().iloc[[2, 0]], batch_size=1, seed=0, on_error="skip").map(load)
    with caplog.at_level(logging.WARNING):
        batches = list(gen.get_dataset_numpy(structure="id"))
    assert [b.tolist() for b in batches] == [[0]]
    assert "1 batches had no loadable sample and were dropped" in caplog.text


def test_an_unknown_on_error_is_refused():
    with pytest.raises(ValueError, match="on_error must be one of \\['raise', 'zeros', 'skip'\\]"):
        DataGenerator(samples(), on_error="ignore", seed=0)
