"""Augmentation kernels against hand-computed expectations; labels follow the image geometry."""
import numpy as np
import pytest

from brevetti_core.augment.augmenter import ImageAugmenter
from brevetti_core.augment.deformation import ImageDeformation, remap
from brevetti_core.augment.filtering import ImageFiltering, emboss, gaussian_blur, gaussian_kernel, mean_blur
from brevetti_core.augment.noise import (
    ImageNoise,
    add_gaussian_noise,
    adjust_brightness,
    adjust_contrast,
    color_matrix,
    color_transform,
    photometric,
)
from brevetti_core.augment.transform import RandomTransformer, affine_matrix, warp_affine
from brevetti_core.rng import ParamStreams

rng = np.random.default_rng(0)
IMAGE = rng.random((6, 6, 3), dtype=np.float32)
NEUTRAL = {"flip_lr": False, "flip_ud": False, "rotate_deg": 0.0, "scale_x": 1.0, "scale_y": 1.0, "shear_x": 0.0,
           "shear_y": 0.0, "translate_x": 0.0, "translate_y": 0.0}
NO_COLOUR = {"saturation": 1.0, "hue": 0.0, "contrast": 1.0, "brightness": 0.0, "noise_std": 0.0, "noise_seed": 0}


def warp(image, interpolation="bilinear", **params):
    return warp_affine(image, affine_matrix({**NEUTRAL, **params}, image.shape[:2]), interpolation)


# -- geometry ------------------------------------------------------------------------------------
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
def test_flips_are_exact_mirror_images(interpolation):
    np.testing.assert_array_equal(warp(IMAGE, interpolation, flip_lr=True), IMAGE[:, ::-1])
    np.testing.assert_array_equal(warp(IMAGE, interpolation, flip_ud=True), IMAGE[::-1])


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_quarter_turns_are_exact_and_counter_clockwise(interpolation):
    np.testing.assert_array_equal(warp(IMAGE, interpolation, rotate_deg=90.0), np.rot90(IMAGE, 1))
    np.testing.assert_array_equal(warp(IMAGE, interpolation, rotate_deg=-90.0), np.rot90(IMAGE, -1))
    np.testing.assert_array_equal(warp(IMAGE, interpolation, rotate_deg=180.0), IMAGE[::-1, ::-1])


def test_positive_translate_moves_the_content_right_and_down_filling_with_zeros():
    out = warp(IMAGE, translate_x=2 / 6, translate_y=1 / 6)
    np.testing.assert_array_equal(out[1:, 2:], IMAGE[:-1, :-2])
    assert not out[:1].any() and not out[:, :2].any()


def test_scale_zooms_about_the_image_centre():
    image = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    out = warp(image, "nearest", scale_x=2.0, scale_y=2.0)
    # Output centres 0.5, 1.5, 2.5, 3.5 map to 1.25, 1.75, 2.25, 2.75: pixels 1, 1, 2, 2.
    np.testing.assert_array_equal(out[..., 0], image[[1, 1, 2, 2]][:, [1, 1, 2, 2], 0])


def test_all_geometry_is_one_fused_resample_equal_to_its_matrix():
    params = {**NEUTRAL, "flip_lr": True, "rotate_deg": 33.0, "scale_x": 1.1, "shear_y": 0.03, "translate_x": 0.05}
    matrix = affine_matrix(params, (6, 6))
    assert matrix.shape == (2, 3)
    np.testing.assert_array_equal(RandomTransformer().apply(IMAGE, params), warp_affine(IMAGE, matrix, "bilinear"))


def test_affine_matrices_are_on_the_2_to_the_minus_20_grid_so_pillows_positions_are_exact():
    params = RandomTransformer(chance=1.0, rotate_chance=1.0).sample_params(ParamStreams(4, 1000, 0), 200)
    for slot in range(200):
        matrix = affine_matrix({name: values[slot] for name, values in params.items()}, (37, 53))
        np.testing.assert_array_equal(matrix * 2.0 ** 20, np.round(matrix * 2.0 ** 20))


def test_affine_matrix_inverts_the_forward_geometry():
    params = {**NEUTRAL, "rotate_deg": 33.0, "scale_x": 1.1, "scale_y": 0.9, "shear_x": 0.03, "translate_x": 0.05}
    cos, sin = np.cos(np.radians(33.0)), np.sin(np.radians(33.0))
    forward = np.array([[cos, sin], [-sin, cos]]) @ np.array([[1.0, 0.03], [0.0, 1.0]]) @ np.diag([1.1, 0.9])
    matrix = affine_matrix(params, (6, 8))
    np.testing.assert_allclose(matrix[:, :2] @ forward, np.eye(2), atol=1e-5)
    # The centre, moved right by 5% of the width, maps back to the centre.
    np.testing.assert_allclose(matrix @ [4.0 + 0.4, 3.0, 1.0], [4.0, 3.0], atol=1e-5)


def test_neutral_geometry_returns_the_image_untouched():
    assert warp(IMAGE) is IMAGE


def test_labels_get_the_image_matrix_with_nearest_interpolation():
    mask = (rng.random((16, 12, 2)) > 0.5).astype(np.float32)
    transformer = RandomTransformer(interpolation="nearest")
    params = transformer.sample_params(ParamStreams(3, 1000, 0), 20)
    for slot in range(20):
        row = {name: values[slot] for name, values in params.items()}
        np.testing.assert_array_equal(transformer.apply(mask, row), transformer.apply_label(mask, row))
        assert set(np.unique(transformer.apply_label(mask, row))) <= {0.0, 1.0}


def test_augmented_masks_stay_aligned_with_an_image_equal_to_them():
    mask = np.zeros((10, 10, 1), np.float32)
    mask[2:5, 1:7] = 1
    augmenter = ImageAugmenter(random_transformer=RandomTransformer(interpolation="nearest"),
                               image_noise=None, image_filter=None)
    params = augmenter.sample_params(ParamStreams(5, 1000, 0), 30)
    for slot in range(30):
        row = {name: values[slot] for name, values in params.items()}
        out = augmenter({"img": mask, "segmentation": mask}, row)
        np.testing.assert_array_equal(out["img"], out["segmentation"])


def test_labels_get_geometry_but_no_colour_noise_or_filtering():
    mask = np.zeros((8, 8, 1), np.float32)
    mask[2:6, 2:6] = 1
    augmenter = ImageAugmenter()
    row = {**NEUTRAL, **NO_COLOUR, "flip_lr": True, "filter": 2, "emboss_x": 0.0, "emboss_y": 0.0,
           "brightness": 0.3, "noise_std": 0.5, "noise_seed": 9}
    out = augmenter({"img": mask, "segmentation": mask}, row)
    np.testing.assert_array_equal(out["segmentation"], mask[:, ::-1])
    assert not np.array_equal(out["img"], mask[:, ::-1])


# -- colour and noise ----------------------------------------------------------------------------
def test_contrast_scales_each_channel_about_its_mean():
    image = np.array([[[0.0, 10.0], [4.0, 30.0]]], np.float32)  # means 2 and 20
    np.testing.assert_allclose(adjust_contrast(image, 0.5), [[[1.0, 15.0], [3.0, 25.0]]])


def test_brightness_adds_its_delta():
    np.testing.assert_allclose(adjust_brightness(IMAGE, 0.25), IMAGE + np.float32(0.25))


def test_zero_saturation_gives_itu601_grey():
    out = color_transform(IMAGE, saturation=0.0, hue=0.0)
    luma = IMAGE @ np.array([0.299, 0.587, 0.114], np.float32)
    for channel in range(3):
        np.testing.assert_allclose(out[..., channel], luma, atol=1e-6)


def test_saturation_blends_away_from_grey():
    out = color_transform(IMAGE, saturation=2.0, hue=0.0)
    luma = (IMAGE @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    np.testing.assert_allclose(out, luma + 2 * (IMAGE - luma), atol=1e-5)


def test_hue_turns_colours_but_leaves_greys_and_full_turns_alone():
    grey = np.full((2, 2, 3), 0.4, np.float32)
    np.testing.assert_allclose(color_transform(grey, 1.0, 0.3), grey, atol=1e-6)
    np.testing.assert_allclose(color_transform(IMAGE, 1.0, 1.0), IMAGE, atol=1e-5)
    assert np.abs(color_transform(IMAGE, 1.0, 0.25) - IMAGE).max() > 0.05


def test_color_matrix_is_the_yiq_hue_turn_times_the_saturation_blend():
    to_yiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    for saturation, hue in [(0.3, 0.04), (1.7, -0.05), (1.0, 0.25), (0.0, 0.0)]:
        angle = 2 * np.pi * hue
        turn = np.array([[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]])
        saturate = saturation * np.eye(3) + (1 - saturation) * np.outer(np.ones(3), to_yiq[0])
        expected = np.linalg.inv(to_yiq) @ turn @ to_yiq @ saturate
        np.testing.assert_allclose(color_matrix(saturation, hue), expected, atol=1e-12)


def test_gaussian_noise_has_the_given_spread_and_is_fixed_by_its_seed():
    flat = np.zeros((200, 200, 3), np.float32)
    noisy = add_gaussian_noise(flat, 0.01, seed=42)
    assert abs(noisy.std() - 0.01) < 0.0005 and abs(noisy.mean()) < 0.0005
    np.testing.assert_array_equal(noisy, add_gaussian_noise(flat, 0.01, seed=42))
    assert not np.array_equal(noisy, add_gaussian_noise(flat, 0.01, seed=43))


@pytest.mark.parametrize("saturation, hue, contrast, brightness", [(1.6, 0.04, 0.7, 0.2), (0.0, 0.0, 1.2, 0.0),
                                                                   (1.0, -0.05, 1.0, -0.3), (1.0, 0.0, 1.0, 0.1)])
def test_the_fused_colour_pass_equals_the_steps_one_after_another(saturation, hue, contrast, brightness):
    image = rng.random((20, 30, 3), dtype=np.float32) * 2 - 1
    steps = adjust_brightness(adjust_contrast(color_transform(image, saturation, hue), contrast), brightness)
    fused = photometric(image, saturation, hue, contrast, brightness, 0.0, 0)
    np.testing.assert_allclose(fused, steps, atol=2e-6)
    assert fused.dtype == np.float32 and fused.flags.c_contiguous


def test_the_fused_colour_pass_adds_the_same_noise_as_the_noise_step():
    image = rng.random((20, 30, 3), dtype=np.float32)
    np.testing.assert_allclose(photometric(image, 1.0, 0.0, 1.0, 0.0, 0.05, 7), add_gaussian_noise(image, 0.05, 7),
                               atol=1e-7)


def test_a_neutral_colour_pass_returns_the_image_untouched():
    assert photometric(IMAGE, 1.0, 0.0, 1.0, 0.0, 0.0, 3) is IMAGE


def test_colour_steps_skip_images_without_three_channels():
    grey = IMAGE[..., :1]
    out = ImageNoise().apply(grey, {**NO_COLOUR, "saturation": 0.0, "hue": 0.2, "brightness": 0.5})
    np.testing.assert_allclose(out, grey + np.float32(0.5))


# -- filtering -----------------------------------------------------------------------------------
def test_gaussian_kernel_has_2_ceil_2_5_sigma_plus_1_normalised_taps():
    kernel = gaussian_kernel(0.5)
    taps = np.exp(-0.5 * (np.arange(-2, 3) / 0.5) ** 2)
    np.testing.assert_allclose(kernel, taps / taps.sum(), rtol=1e-6)
    assert len(gaussian_kernel(2.0)) == 11


def test_gaussian_kernel_is_exactly_symmetric_and_cached_values_are_not_shared():
    kernel = gaussian_kernel(1.3)
    np.testing.assert_array_equal(kernel, kernel[::-1])
    kernel[0] = 5
    assert gaussian_kernel(1.3)[0] != 5


def test_gaussian_blur_spreads_an_impulse_into_the_outer_product_of_its_kernel():
    impulse = np.zeros((9, 9, 1), np.float32)
    impulse[4, 4] = 1
    kernel = gaussian_kernel(0.5)
    np.testing.assert_allclose(gaussian_blur(impulse, 0.5)[2:7, 2:7, 0], np.outer(kernel, kernel), rtol=1e-6)


def test_mean_blur_averages_a_box_with_reflected_borders():
    impulse = np.zeros((5, 5, 1), np.float32)
    impulse[2, 2] = 9
    out = mean_blur(impulse, (3, 3))[..., 0]
    np.testing.assert_allclose(out[1:4, 1:4], np.ones((3, 3)), rtol=1e-6)
    assert out.sum() == pytest.approx(9)
    ramp = np.array([[0.0, 1.0, 2.0]], np.float32)[..., None]
    assert mean_blur(ramp, (1, 3))[0, 0, 0] == pytest.approx(2 / 3)  # reflect: (1 + 0 + 1) / 3


def test_emboss_adds_weighted_sobel_gradients():
    ramp = np.tile(np.arange(8, dtype=np.float32), (8, 1))[..., None]
    out = emboss(ramp, weight_x=0.1, weight_y=0.5)
    np.testing.assert_allclose(out[1:-1, 1:-1], ramp[1:-1, 1:-1] + 0.8, rtol=1e-6)  # sobel_x of a unit slope is 8
    flat = np.full((5, 5, 3), 3.0, np.float32)
    np.testing.assert_array_equal(emboss(flat, 0.2, 0.2), flat)


@pytest.mark.parametrize("code, expected", [
    (0, lambda x: x), (1, lambda x: emboss(x, 0.1, -0.2)),
    (2, lambda x: gaussian_blur(x, 0.5)), (3, lambda x: mean_blur(x, (3, 3))),
])
def test_filter_code_selects_one_filter(code, expected):
    out = ImageFiltering().apply(IMAGE, {"filter": np.int8(code), "emboss_x": 0.1, "emboss_y": -0.2})
    np.testing.assert_array_equal(out, expected(IMAGE))


# -- deformation ---------------------------------------------------------------------------------
def test_remap_moves_pixels_by_the_displacement_field_reading_zero_outside():
    image = np.arange(12, dtype=np.float32).reshape(3, 4, 1)
    dy, dx = np.zeros((3, 4), np.float32), np.ones((3, 4), np.float32)
    np.testing.assert_array_equal(remap(image, dy, dx)[..., 0], np.hstack([image[:, 1:, 0], np.zeros((3, 1))]))
    half = remap(image, dy, dx * np.float32(0.5))
    np.testing.assert_allclose(half[:, 0, 0], (image[:, 0, 0] + image[:, 1, 0]) / 2)


def test_deformation_with_zero_alpha_leaves_images_alone():
    assert ImageDeformation().apply(IMAGE, {"deform_alpha": np.float32(0), "deform_seed": np.uint64(1)}) is IMAGE


def test_deformation_moves_image_and_label_by_the_same_field():
    mask = (rng.random((20, 20, 1)) > 0.5).astype(np.float32)
    deformation = ImageDeformation(alpha=3.0, sigma=2.0)
    row = {"deform_alpha": np.float32(3.0), "deform_seed": np.uint64(77)}
    moved = deformation.apply_label(mask, row)
    assert not np.array_equal(moved, mask)
    assert set(np.unique(moved)) <= {0.0, 1.0}
    np.testing.assert_array_equal(moved, deformation.apply_label(mask, row))


def test_augmenter_applies_the_same_parameters_to_every_roi_of_a_sample():
    augmenter = ImageAugmenter(image_noise=None, image_filter=None)
    row = {**NEUTRAL, "flip_lr": True}
    out = augmenter({"img": (IMAGE, IMAGE[:4])}, row)
    np.testing.assert_array_equal(out["img"][0], IMAGE[:, ::-1])
    np.testing.assert_array_equal(out["img"][1], IMAGE[:4, ::-1])
    frames = augmenter({"img": np.stack([IMAGE, IMAGE * 2])}, row)["img"]
    np.testing.assert_array_equal(frames, np.stack([IMAGE, IMAGE * 2])[:, :, ::-1])


def test_augmenter_names_a_missing_image_key():
    with pytest.raises(KeyError, match="no image 'img'"):
        ImageAugmenter()({"path": "a.png"}, {**NEUTRAL, **NO_COLOUR, "filter": 0})


def test_augmenter_parts_can_be_given_as_settings_dicts():
    augmenter = ImageAugmenter(random_transformer={"rotate_chance": 0.0, "flip_up_down": False},
                               image_deformation={"alpha": 2.0}, image_noise=None)
    assert augmenter.random_transformer.rotate_chance == 0.0
    assert augmenter.random_transformer.flip_up_down is False
    assert isinstance(augmenter.image_deformation, ImageDeformation) and augmenter.image_deformation.alpha == 2.0
    assert augmenter.image_noise is None


def test_augmenter_refuses_a_part_of_the_wrong_kind():
    with pytest.raises(TypeError, match="ImageNoise"):
        ImageAugmenter(image_noise=3)
