"""ImagePipeline on real files: local and S3, geometry, rescale, shapes and bad input."""
import pickle

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageOps

from brevetti_core.image.decode import DecodeOptions, ImageDecodeError
from brevetti_core.image.geometry import resize
from brevetti_core.image.pipeline import ImagePipeline


def write_image(path, array, **options):
    Image.fromarray(array).save(path, **options)
    return str(path)


@pytest.fixture
def gradient_png(tmp_path):
    y, x = np.mgrid[0:40, 0:60]
    rgb = np.stack([x * 4, y * 6, (x + y) * 2], axis=-1).astype(np.uint8)
    return write_image(tmp_path / "gradient.png", rgb), rgb.astype(np.float32)


def test_without_settings_the_output_is_the_decoded_file_as_float32(gradient_png):
    path, pixels = gradient_png
    sample = ImagePipeline()({"path": path}, {})
    assert sample["img"].dtype == np.float32
    np.testing.assert_array_equal(sample["img"], pixels)


def test_the_file_shape_is_recorded_before_rois_and_resize(gradient_png):
    path, _ = gradient_png
    sample = ImagePipeline(target_size=(10, 10), rois=((5, 5), (25, 15)))({"path": path}, {})
    np.testing.assert_array_equal(sample["_image_file_shape"], [40, 60, 3])
    assert sample["img"].shape == (10, 10, 3)


def test_target_size_resizes_with_the_chosen_method_then_rescales(gradient_png):
    path, pixels = gradient_png
    pipeline = ImagePipeline(target_size=(20, 30), resize_method="bicubic", rescale="unit")
    out = pipeline({"path": path}, {})["img"]
    np.testing.assert_array_equal(out, resize(pixels, (20, 30), "bicubic") * np.float32(1 / 255))


@pytest.mark.parametrize("method", ["bilinear", "bicubic"])
def test_an_8_bit_file_resizes_antialiased_to_within_a_level_of_the_float_resize(gradient_png, method):
    path, pixels = gradient_png
    out = ImagePipeline(target_size=(17, 23), resize_method=method, antialias=True)({"path": path}, {})["img"]
    error = np.abs(out - np.clip(resize(pixels, (17, 23), method, antialias=True), 0, 255))
    # Pillow's 8-bit resize rounds to a level after each of its two passes (rows, then columns).
    assert error.max() < 1 and error.mean() < 0.35


@pytest.mark.parametrize("method", ["bilinear", "bicubic"])
def test_an_8_bit_file_resizes_without_antialias_exactly_as_its_float_pixels(gradient_png, method):
    path, pixels = gradient_png
    out = ImagePipeline(target_size=(17, 23), resize_method=method)({"path": path}, {})["img"]
    np.testing.assert_array_equal(out, resize(pixels, (17, 23), method))


def test_rois_are_cut_from_the_file_and_stacked_vertically(gradient_png):
    path, pixels = gradient_png
    pipeline = ImagePipeline(rois=[((0, 0), (10, 5)), ((50, 30), (60, 40))])
    out = pipeline({"path": path}, {})["img"]
    np.testing.assert_array_equal(out, np.concatenate([pixels[0:5, 0:10], pixels[30:40, 50:60]]))
    assert pipeline.output_shape == (15, 10, 3)


def test_keep_aspect_ratio_and_center_padding_place_the_image_in_the_middle(gradient_png):
    path, _ = gradient_png
    out = ImagePipeline(target_size=(30, 30), keep_aspect_ratio=True, center_padding=True,
                        resize_method="nearest")({"path": path}, {})["img"]
    assert out.shape == (30, 30, 3)
    rows_with_content = np.flatnonzero(out.any(axis=(1, 2)))
    assert (rows_with_content.min(), rows_with_content.max()) == (5, 24)  # 20 rows of image, 5 of padding each side


def test_output_shape_is_static_where_the_settings_fix_it():
    assert ImagePipeline(target_size=(224, 224)).output_shape == (224, 224, 3)
    assert ImagePipeline(color_mode="greyscale").output_shape == (None, None, 1)


def test_large_jpeg_antialiased_downscale_stays_close_to_a_full_decode(tmp_path):
    y, x = np.mgrid[0:512, 0:512]
    smooth = np.stack([x // 2, y // 2, (x + y) // 4], axis=-1).astype(np.uint8)
    path = write_image(tmp_path / "big.jpg", smooth, quality=95)
    out = ImagePipeline(target_size=(100, 100), antialias=True)({"path": path}, {})["img"]
    full = resize(np.asarray(Image.open(path).convert("RGB"), np.float32), (100, 100), "bilinear", antialias=True)
    assert out.shape == (100, 100, 3)
    assert np.abs(out - full).mean() < 1.0


def test_images_are_read_from_s3(s3_bucket, s3_client, gradient_png):
    path, pixels = gradient_png
    bucket = s3_bucket.removeprefix("s3://")
    with open(path, "rb") as f:
        s3_client.put_object(Bucket=bucket, Key="folder/gradient.png", Body=f.read())
    out = ImagePipeline()({"path": f"{s3_bucket}/folder/gradient.png"}, {})["img"]
    np.testing.assert_array_equal(out, pixels)


def test_the_input_sample_is_left_unchanged(gradient_png):
    path, _ = gradient_png
    sample = {"path": path, "category": ("a",)}
    result = ImagePipeline()(sample, {})
    assert sample == {"path": path, "category": ("a",)}
    assert result["category"] == ("a",)


def test_a_corrupt_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(ImageDecodeError, match="broken.png"):
        ImagePipeline()({"path": str(path)}, {})


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.png"):
        ImagePipeline()({"path": str(tmp_path / "nothing.png")}, {})


def test_a_sample_without_the_path_key_names_the_key():
    with pytest.raises(KeyError, match="'image_path'"):
        ImagePipeline(path_key="image_path")({"path": "x.png"}, {})


@pytest.mark.parametrize("argument, value, message", [
    ("resize_method", "lanczos", "resize_method must be one of"),
    ("color_mode", "cmyk", "color_mode must be one of"),
    ("rescale", "zscore", "rescale must be None"),
    ("padding_mode", "EDGE", "padding_mode must be one of"),
    ("target_size", (224,), "target_size must be"),
    ("rois", ((0, 0), (0, 0)), "rois must be"),
    ("max_pixels", 0, "max_pixels must be"),
])
def test_bad_settings_fail_at_construction(argument, value, message):
    with pytest.raises(ValueError, match=message):
        ImagePipeline(**{argument: value})


def sideways_jpeg(path, width=96, height=64):
    """A JPEG stored `width` x `height` whose EXIF says the camera was held rotated (orientation 6)."""
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 255 // width, y * 255 // height, (x < width // 4) * 200], -1).astype(np.uint8)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[ExifTags.Base.Orientation] = 6
    image.save(path, quality=95, exif=exif)
    return str(path)


def test_decode_options_default_to_strict_bounded_and_upright():
    assert ImagePipeline().decode_options == DecodeOptions(allow_truncated=False, max_pixels=64 * 2**20,
                                                           exif_orientation=True)


def test_decode_options_travel_with_the_pickled_pipeline():
    pipeline = ImagePipeline(allow_truncated=True, max_pixels=1000, exif_orientation=False)
    assert pickle.loads(pickle.dumps(pipeline)).decode_options == DecodeOptions(True, 1000, False)


def test_an_exif_rotated_jpeg_comes_out_upright_with_its_upright_file_shape(tmp_path):
    path = sideways_jpeg(tmp_path / "sideways.jpg")
    sample = ImagePipeline()({"path": path}, {})
    upright = np.asarray(ImageOps.exif_transpose(Image.open(path)), np.float32)
    np.testing.assert_array_equal(sample["img"], upright)
    np.testing.assert_array_equal(sample["_image_file_shape"], [96, 64, 3])


def test_exif_orientation_false_gives_the_stored_pixels(tmp_path):
    path = sideways_jpeg(tmp_path / "sideways.jpg")
    sample = ImagePipeline(exif_orientation=False)({"path": path}, {})
    np.testing.assert_array_equal(sample["img"], np.asarray(Image.open(path), np.float32))
    np.testing.assert_array_equal(sample["_image_file_shape"], [64, 96, 3])


def test_an_antialiased_downscale_of_a_rotated_jpeg_stays_close_to_a_full_decode(tmp_path):
    path = sideways_jpeg(tmp_path / "big.jpg", width=768, height=512)
    out = ImagePipeline(target_size=(96, 64), antialias=True)({"path": path}, {})["img"]
    upright = np.asarray(ImageOps.exif_transpose(Image.open(path)), np.float32)
    full = resize(upright, (96, 64), "bilinear", antialias=True)
    assert np.abs(out - full).mean() < 1.0


def test_a_file_over_max_pixels_is_an_error_naming_it_its_size_and_the_setting(gradient_png):
    path, _ = gradient_png
    with pytest.raises(ImageDecodeError, match=r"gradient.png'.*60x40 .*max_pixels=2000.*ImagePipeline\(max_pixels="):
        ImagePipeline(max_pixels=2000)({"path": path}, {})


def test_an_empty_file_is_an_error_calling_it_empty(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageDecodeError, match=r"empty.png': the file is empty \(0 bytes\)"):
        ImagePipeline()({"path": str(path)}, {})
