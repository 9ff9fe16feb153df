"""Augmentation parameter sampling: vectorised, seeded, chances honoured, every decision independent."""
import numpy as np
import pytest

from brevetti_core.augment.augmenter import ImageAugmenter
from brevetti_core.augment.deformation import ImageDeformation
from brevetti_core.augment.filtering import ImageFiltering
from brevetti_core.augment.noise import ImageNoise
from brevetti_core.augment.transform import RandomTransformer
from brevetti_core.rng import ParamStreams

N = 40_000


@pytest.fixture(scope="module")
def params():
    augmenter = ImageAugmenter(image_deformation=ImageDeformation(alpha=2.0))
    return augmenter.sample_params(ParamStreams(seed=11, stream=1001, epoch=0), N)


def test_every_parameter_is_one_array_of_n_with_a_compact_dtype(params):
    expected = {"flip_lr", "flip_ud", "rotate_deg", "scale_x", "scale_y", "shear_x", "shear_y", "translate_x",
                "translate_y", "deform_alpha", "deform_seed", "filter", "emboss_x", "emboss_y", "saturation", "hue",
                "contrast", "brightness", "noise_std", "noise_seed"}
    assert set(params) == expected
    assert all(values.shape == (N,) for values in params.values())
    assert params["flip_lr"].dtype == np.bool_ and params["filter"].dtype == np.int8
    assert params["noise_seed"].dtype == np.uint64 and params["rotate_deg"].dtype == np.float32


def test_same_streams_give_the_same_parameters_and_another_epoch_different_ones(params):
    augmenter = ImageAugmenter(image_deformation=ImageDeformation(alpha=2.0))
    again = augmenter.sample_params(ParamStreams(seed=11, stream=1001, epoch=0), N)
    other = augmenter.sample_params(ParamStreams(seed=11, stream=1001, epoch=1), N)
    assert all(np.array_equal(params[k], again[k]) for k in params)
    assert not np.array_equal(params["rotate_deg"], other["rotate_deg"])


def test_a_slot_draws_the_same_whatever_the_epoch_length(params):
    short = ImageAugmenter(image_deformation=ImageDeformation(alpha=2.0)).sample_params(
        ParamStreams(seed=11, stream=1001, epoch=0), 100)
    assert all(np.array_equal(short[k], params[k][:100]) for k in short)


@pytest.mark.parametrize("name, off, rate", [
    ("rotate_deg", 0.0, 0.5), ("scale_x", 1.0, 0.5), ("shear_x", 0.0, 0.5), ("translate_x", 0.0, 0.5),
    ("saturation", 1.0, 0.5), ("hue", 0.0, 0.5), ("contrast", 1.0, 0.5), ("brightness", 0.0, 0.5),
    ("noise_std", 0.0, 0.5), ("deform_alpha", 0.0, 0.5), ("flip_lr", False, 0.25), ("flip_ud", False, 0.25),
])
def test_default_chances_are_honoured(params, name, off, rate):
    assert abs(np.mean(params[name] != off) - rate) < 0.015


def test_the_filter_choice_splits_its_chance_evenly(params):
    shares = np.bincount(params["filter"], minlength=4) / N
    np.testing.assert_allclose(shares, [0.5, 1 / 6, 1 / 6, 1 / 6], atol=0.01)
    assert np.all((params["emboss_x"] != 0) == (params["filter"] == 1))


def test_values_lie_in_the_reference_ranges(params):
    on = params["rotate_deg"] != 0
    assert params["rotate_deg"][on].min() >= -90 and params["rotate_deg"][on].max() <= 90
    assert params["scale_x"].min() >= 0.8 and params["scale_x"].max() <= 1.2
    assert np.abs(params["translate_y"]).max() <= 0.1 and np.abs(params["shear_y"]).max() <= 0.04
    assert params["contrast"].min() >= 0.5 and params["contrast"].max() <= 1.25
    assert set(np.unique(params["noise_std"])) == {0.0, np.float32(0.01)}
    emboss = params["emboss_x"][params["filter"] == 1]
    assert np.abs(emboss).max() <= 0.25 and np.mean(emboss < 0) == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize("first, second", [
    ("flip_lr", "rotate_deg"), ("flip_lr", "translate_x"), ("rotate_deg", "translate_x"), ("flip_lr", "flip_ud"),
    ("scale_x", "shear_x"), ("contrast", "brightness"), ("saturation", "hue"), ("filter", "noise_std"),
])
def test_decisions_are_uncorrelated(params, first, second):
    """The reference gated flip, rotate and translate with one draw; here each decision has its own stream."""
    off = {"flip_lr": False, "flip_ud": False, "scale_x": 1.0, "saturation": 1.0, "contrast": 1.0}
    a = params[first] != off.get(first, 0)
    b = params[second] != off.get(second, 0)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.03


def test_chance_zero_switches_everything_off_and_one_switches_it_on():
    streams = ParamStreams(seed=1, stream=1000, epoch=0)
    never = RandomTransformer(chance=0, rotate_chance=0).sample_params(streams, 500)
    assert not never["flip_lr"].any() and not never["rotate_deg"].any() and np.all(never["scale_x"] == 1)
    always = ImageNoise(chance=1).sample_params(streams, 500)
    assert np.all(always["noise_std"] == np.float32(0.01)) and np.all(always["brightness"] != 0)


def test_disabled_flips_never_flip():
    drawn = RandomTransformer(flip_left_right=False, flip_up_down=False).sample_params(ParamStreams(1, 1000, 0), 500)
    assert not drawn["flip_lr"].any() and not drawn["flip_ud"].any()


def test_parts_set_to_none_draw_nothing():
    drawn = ImageAugmenter(random_transformer=None, image_filter=None).sample_params(ParamStreams(1, 1000, 0), 3)
    assert set(drawn) == {"saturation", "hue", "contrast", "brightness", "noise_std", "noise_seed"}


@pytest.mark.parametrize("build, argument", [
    (lambda: RandomTransformer(chance=1.5), "chance"),
    (lambda: RandomTransformer(rotate_chance=-0.1), "rotate_chance"),
    (lambda: ImageNoise(chance=2), "chance"),
    (lambda: ImageFiltering(chance=-1), "chance"),
    (lambda: ImageDeformation(chance=1.01), "chance"),
])
def test_chances_outside_0_1_fail_at_construction_naming_the_argument(build, argument):
    with pytest.raises(ValueError, match=rf"{argument} is a chance and must be in \[0, 1\]"):
        build()


@pytest.mark.parametrize("build, message", [
    (lambda: RandomTransformer(interpolation="lanczos"), "interpolation must be one of"),
    (lambda: RandomTransformer(scale=1.5), "scale must be in"),
    (lambda: ImageNoise(contrast=(2, 1)), "contrast must be a"),
    (lambda: ImageFiltering(avg_blur=(0, 3)), "avg_blur must be"),
    (lambda: ImageDeformation(sigma=0), "sigma must be"),
])
def test_bad_ranges_and_modes_fail_at_construction(build, message):
    with pytest.raises(ValueError, match=message):
        build()
