"""Geometry kernels against hand-computed expectations on small arrays."""
import numpy as np
import pytest

from brevetti_core.image.geometry import (
    ImageGeometry,
    crop,
    fitted_size,
    pad_to_size,
    parse_rescale,
    parse_rois,
    parse_target_size,
    rescale,
    resize,
)

ROW = np.array([[0.0, 10.0, 20.0, 30.0]], dtype=np.float32)


def test_bilinear_upscale_samples_at_half_pixel_centres_with_clamped_edges():
    out = resize(np.array([[0.0, 10.0]], np.float32), (1, 4), "bilinear")
    np.testing.assert_allclose(out, [[0.0, 2.5, 7.5, 10.0]], rtol=1e-6)


def test_bilinear_downscale_without_antialias_averages_the_two_nearest_pixels():
    np.testing.assert_allclose(resize(ROW, (1, 2), "bilinear"), [[5.0, 25.0]], rtol=1e-6)


def test_bilinear_downscale_with_antialias_uses_a_widened_triangle_filter():
    # Output pixel 0 is centred at 1.0; input centres 0.5, 1.5, 2.5 lie 0.25, 0.25, 0.75 output pixels away.
    expected = [[(0 * 0.75 + 10 * 0.75 + 20 * 0.25) / 1.75, (10 * 0.25 + 20 * 0.75 + 30 * 0.75) / 1.75]]
    np.testing.assert_allclose(resize(ROW, (1, 2), "bilinear", antialias=True), expected, rtol=1e-6)


def test_area_downscale_averages_the_covered_input_area():
    np.testing.assert_allclose(resize(ROW, (1, 2), "area"), [[5.0, 25.0]], rtol=1e-6)
    three = np.array([[0.0, 3.0, 9.0]], np.float32)
    np.testing.assert_allclose(resize(three, (1, 2), "area"), [[(0 + 3 * 0.5) / 1.5, (3 * 0.5 + 9) / 1.5]], rtol=1e-6)


def test_nearest_takes_the_pixel_under_each_output_centre():
    np.testing.assert_array_equal(resize(ROW, (1, 2), "nearest"), [[10.0, 30.0]])
    np.testing.assert_array_equal(resize(np.array([[1.0, 2.0]], np.float32), (1, 4), "nearest"), [[1, 1, 2, 2]])


def test_bicubic_reproduces_a_linear_ramp_away_from_the_edges():
    ramp = np.tile(np.arange(0, 80, 10, dtype=np.float32), (3, 1))
    out = resize(ramp, (3, 4), "bicubic")
    np.testing.assert_allclose(out[1, 1:3], [25.0, 45.0], rtol=1e-5)


def test_resize_resamples_every_channel_alike():
    image = np.stack([ROW, ROW * 2, ROW * 3], axis=-1)
    out = resize(image, (1, 2), "bilinear")
    assert out.shape == (1, 2, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., 2], [[15.0, 75.0]], rtol=1e-6)


def test_resize_to_the_same_size_is_the_identity():
    image = np.random.default_rng(0).random((5, 7, 3), dtype=np.float32)
    for method in ("bilinear", "nearest", "bicubic", "area"):
        np.testing.assert_array_equal(resize(image, (5, 7), method), image)


@pytest.mark.parametrize("mode, center, expected", [
    ("CONSTANT", False, [1, 2, 3, 0, 0]),
    ("REFLECT", False, [1, 2, 3, 2, 1]),
    ("SYMMETRIC", False, [1, 2, 3, 3, 2]),
    ("CONSTANT", True, [0, 1, 2, 3, 0]),
    ("REFLECT", True, [2, 1, 2, 3, 2]),
])
def test_padding_modes_fill_as_named(mode, center, expected):
    out = pad_to_size(np.array([[1.0, 2.0, 3.0]], np.float32), (1, 5), mode, center)
    np.testing.assert_array_equal(out, [expected])


def test_center_padding_puts_the_odd_pixel_after():
    out = pad_to_size(np.ones((1, 1), np.float32), (4, 4), "CONSTANT", center=True)
    assert out[1, 1] == 1 and out.sum() == 1


def test_keep_aspect_ratio_fits_the_largest_same_shape_inside_the_target():
    assert fitted_size((100, 50), (40, 40), keep_aspect_ratio=True) == (40, 20)
    assert fitted_size((100, 50), (40, 40), keep_aspect_ratio=False) == (40, 40)


def test_keep_aspect_ratio_pads_the_rest_at_the_bottom_right():
    geometry = ImageGeometry(target_size=(4, 4), keep_aspect_ratio=True)
    out = geometry.apply(np.ones((8, 4, 1), np.float32), "nearest")
    assert out.shape == (4, 4, 1)
    np.testing.assert_array_equal(out[..., 0], [[1, 1, 0, 0]] * 4)


def test_crop_takes_x1_y1_to_x2_y2_with_exclusive_ends_and_zero_fills_outside():
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    np.testing.assert_array_equal(crop(image, (1, 2, 3, 4)), [[9, 10], [13, 14]])
    np.testing.assert_array_equal(crop(image, (3, 3, 5, 4)), [[15, 0]])


def test_rois_concatenate_vertically_before_resizing():
    image = np.arange(36, dtype=np.float32).reshape(6, 6, 1)
    geometry = ImageGeometry(rois=[((0, 0), (3, 2)), ((3, 4), (6, 6))])
    out = geometry.apply(image)
    np.testing.assert_array_equal(out[..., 0], np.concatenate([image[0:2, 0:3, 0], image[4:6, 3:6, 0]]))
    assert geometry.output_shape(1) == (4, 3, 1)
    resized = ImageGeometry(rois=[((0, 0), (3, 2)), ((3, 4), (6, 6))], target_size=(2, 3)).apply(image, "nearest")
    np.testing.assert_array_equal(resized[..., 0], out[1::2, :, 0])


def test_rois_as_timeseries_stack_frames_and_none_gives_a_tuple():
    image = np.arange(36, dtype=np.float32).reshape(6, 6, 1)
    rois = [((0, 0), (2, 2)), ((4, 4), (6, 6))]
    frames = ImageGeometry(rois=rois, roi_mode="as_timeseries").apply(image)
    assert frames.shape == (2, 2, 2, 1)
    separate = ImageGeometry(rois=rois, roi_mode=None).apply(image)
    assert isinstance(separate, tuple)
    np.testing.assert_array_equal(separate[1], image[4:6, 4:6])


def test_a_single_roi_is_accepted_without_a_list():
    assert parse_rois(((1, 2), (3, 4))) == ((1, 2, 3, 4),)


@pytest.mark.parametrize("setting, expected", [
    ("imagenet", [-1.0, 0.0, 1.0]),
    ("unit", [0.0, 0.5, 1.0]),
    ({"scale": 2.0, "offset": 1.0}, [1.0, 256.0, 511.0]),
])
def test_rescale_presets_map_0_255_as_documented(setting, expected):
    scale, offset = parse_rescale(setting)
    out = rescale(np.array([0.0, 127.5, 255.0], np.float32), scale, offset)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_no_rescale_is_none():
    assert parse_rescale(None) is None and parse_rescale("None") is None


@pytest.mark.parametrize("bad", [(224,), (0, 10), "224", (2.5, 3), (True, 3)])
def test_bad_target_size_is_rejected_naming_the_argument(bad):
    with pytest.raises(ValueError, match="target_size must be"):
        parse_target_size(bad)


@pytest.mark.parametrize("bad", [((1, 2, 3),), [[(0, 0), (0, 5)]], ((5, 5), (1, 1)), [((0, 0), (2.5, 2))], "roi"])
def test_bad_rois_are_rejected_naming_the_argument(bad):
    with pytest.raises(ValueError, match="rois must be"):
        parse_rois(bad)


def test_concatenating_rois_of_different_widths_is_rejected():
    with pytest.raises(ValueError, match="equal widths"):
        ImageGeometry(rois=[((0, 0), (3, 2)), ((0, 0), (4, 2))])


@pytest.mark.parametrize("argument, value", [("roi_mode", "stack"), ("padding_mode", "WRAP")])
def test_unknown_modes_are_rejected_with_the_accepted_values(argument, value):
    with pytest.raises(ValueError, match=f"{argument} must be one of"):
        ImageGeometry(**{argument: value})


def test_unknown_rescale_is_rejected_with_the_accepted_values():
    with pytest.raises(ValueError, match="rescale must be None, 'imagenet'.*got 'zscore'"):
        parse_rescale("zscore")
