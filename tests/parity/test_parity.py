"""Parity: every adapter gives get_dataset_numpy()'s batches byte for byte, for every pipeline of the matrix.

Adapters: numpy (a second, independent generator), torch with 0, 1 and 2 workers, tf sequential
and AUTOTUNE-parallel. Batches are compared with ``structure=None``, so every array the pipeline
makes (images, masks, onehot, file shapes) and every table value (etag = sample id, path,
category) must match after the framework's batch is converted back (NCHW -> NHWC, strings).
The last tests check the matrix itself: each pipeline does what its name says, so parity on it
means something.
"""
import numpy as np
import pytest

from brevetti_core.adapters import get_adapter

from .conftest import ADAPTERS, PIPELINES, assert_identical_batches, no_augmentation


@pytest.mark.parametrize("pipeline", list(PIPELINES))
@pytest.mark.parametrize("adapter_name", list(ADAPTERS))
def test_adapter_batches_equal_get_dataset_numpy(adapter_name, pipeline, data, reference_batches):
    chosen = ADAPTERS[adapter_name]
    batches = chosen.batches(chosen.build(PIPELINES[pipeline], data))
    assert_identical_batches(reference_batches(pipeline), batches)


@pytest.mark.parametrize("adapter_name", list(ADAPTERS))
def test_default_output_structure_equals_get_dataset_numpy(adapter_name, data):
    chosen = ADAPTERS[adapter_name]
    expected = list(no_augmentation(get_adapter("numpy").package, data).get_dataset_numpy())
    batches = chosen.batches(chosen.build(no_augmentation, data), structure="__default__")
    assert isinstance(batches[0], tuple) and len(batches[0]) == 2
    assert_identical_batches(expected, batches)


def test_forced_augmentation_changes_every_image(reference_batches):
    plain = {path: img for batch in reference_batches("no_augmentation")
             for path, img in zip(batch["path"], batch["img"])}
    for batch in reference_batches("every_augmentation_forced"):
        for path, img in zip(batch["path"], batch["img"]):
            assert not np.array_equal(img, plain[path]), path


def test_greyscale_batches_have_one_channel_and_rgb_three(reference_batches):
    assert {batch["img"].shape[1:] for batch in reference_batches("greyscale")} == {(32, 32, 1)}
    assert {batch["img"].shape[1:] for batch in reference_batches("no_augmentation")} == {(32, 32, 3)}


def test_rois_are_stacked_along_the_height(reference_batches):
    assert {batch["img"].shape[1:] for batch in reference_batches("rois_stacked")} == {(64, 24, 3)}


def test_rois_apart_are_one_batch_per_roi(reference_batches):
    assert {tuple(part.shape[1:] for part in batch["img"]) for batch in reference_batches("rois_apart")} == \
           {((16, 16, 3), (16, 16, 3))}


def test_segmentation_masks_hold_both_classes_and_background(reference_batches):
    masks = np.concatenate([batch["segmentation"] for batch in reference_batches("segmentation_masks")])
    assert masks.shape[1:] == (32, 32, 2)
    assert (masks[..., 0] > 0).any() and (masks[..., 1] > 0).any() and (masks == 0).any()


def test_stratified_sampling_draws_every_category(reference_batches, data):
    drawn = np.concatenate([batch["folder"] for batch in reference_batches("stratified_sampling")])
    assert len(drawn) == len(data.rgb) and set(drawn) == set(data.rgb["folder"])


def test_repeat_gives_two_epochs_in_different_orders(reference_batches, data):
    paths = np.concatenate([batch["path"] for batch in reference_batches("repeat_across_epochs")])
    first, second = paths[:len(data.rgb)], paths[len(data.rgb):]
    assert len(second) == len(data.rgb) and sorted(first) == sorted(second) and list(first) != list(second)
