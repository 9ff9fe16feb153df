"""Decoding image files: every format and pixel mode, colour modes, and bad files."""
import io

import numpy as np
import pytest
from PIL import Image

from brevetti_core.image.decode import ImageDecodeError, bayer_demosaic, decode_image, open_image, to_array

RGB = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]],
                [[10, 20, 30], [200, 100, 50], [7, 7, 7]]], dtype=np.uint8)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["BMP", "PNG", "TIFF"])
def test_lossless_rgb_files_decode_to_their_exact_pixels(fmt):
    decoded = decode_image(encode(Image.fromarray(RGB), fmt))
    assert decoded.dtype == np.float32
    np.testing.assert_array_equal(decoded, RGB.astype(np.float32))


def test_jpeg_decodes_to_nearly_its_pixels():
    smooth = np.tile(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], (32, 1, 3))
    decoded = decode_image(encode(Image.fromarray(smooth), "JPEG", quality=95))
    assert decoded.shape == (32, 64, 3)
    assert np.abs(decoded - smooth).mean() < 2


@pytest.mark.parametrize("fmt", ["BMP", "PNG", "TIFF", "JPEG"])
def test_grey_files_give_three_equal_channels_in_rgb_mode(fmt):
    grey = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    decoded = decode_image(encode(Image.fromarray(grey), fmt), color_mode="rgb")
    assert decoded.shape == (6, 8, 3)
    np.testing.assert_array_equal(decoded[..., 0], decoded[..., 2])


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_sixteen_bit_grey_is_scaled_to_0_255_keeping_its_precision(fmt):
    values = np.array([[0, 257, 65535, 1000]], dtype=np.uint16)
    decoded = decode_image(encode(Image.fromarray(values), fmt), color_mode="greyscale")
    assert decoded.shape == (1, 4, 1)
    np.testing.assert_allclose(decoded[0, :, 0], [0, 1, 255, 1000 / 257], rtol=1e-6)


def test_rgba_drops_alpha_without_compositing():
    rgba = np.dstack([RGB, np.full(RGB.shape[:2], 0, np.uint8)])
    decoded = decode_image(encode(Image.fromarray(rgba), "PNG"))
    np.testing.assert_array_equal(decoded, RGB.astype(np.float32))


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF"])
def test_palette_images_decode_to_their_palette_colours(fmt):
    palette_image = Image.fromarray(RGB).quantize(colors=6, method=Image.Quantize.MEDIANCUT)
    expected = np.asarray(palette_image.convert("RGB"), dtype=np.float32)
    np.testing.assert_array_equal(decode_image(encode(palette_image, fmt)), expected)


def test_greyscale_mode_gives_one_channel_of_itu601_luma():
    decoded = decode_image(encode(Image.fromarray(RGB), "PNG"), color_mode="greyscale")
    assert decoded.shape == (2, 3, 1)
    expected = RGB.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(decoded[..., 0], expected, rtol=1e-6)


def test_greyscale_mode_keeps_grey_files_exact():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    decoded = decode_image(encode(Image.fromarray(grey), "PNG"), color_mode="greyscale")
    np.testing.assert_array_equal(decoded[..., 0], grey)


def test_bayer_mode_demosaics_the_first_channel_bilinearly():
    # BGGR mosaic of a flat colour (R=200, G=100, B=50): every output pixel gets that colour back.
    mosaic = np.full((6, 8), 100, np.uint8)
    mosaic[0::2, 0::2] = 50
    mosaic[1::2, 1::2] = 200
    decoded = decode_image(encode(Image.fromarray(mosaic), "PNG"), color_mode="bayer")
    assert decoded.shape == (6, 8, 3)
    np.testing.assert_array_equal(decoded, np.broadcast_to(np.float32([200, 100, 50]), (6, 8, 3)))


def test_bayer_demosaic_interpolates_missing_samples_from_neighbours():
    mosaic = np.zeros((4, 4), np.float32)
    mosaic[1, 1] = 8.0  # one red sample
    red = bayer_demosaic(mosaic)[..., 0]
    assert red[1, 1] == 8.0
    assert red[1, 2] == 4.0  # between two red samples horizontally: (8 + 0) / 2
    assert red[2, 2] == 2.0  # between four red samples diagonally: (8 + 0 + 0 + 0) / 4
    assert red[0, 0] == 8.0  # the corner has only one red neighbour inside the image


def test_unknown_color_mode_is_rejected_with_the_accepted_modes():
    with pytest.raises(ValueError, match="color_mode must be one of .*'bayer'.*got 'hsv'"):
        decode_image(encode(Image.fromarray(RGB), "PNG"), color_mode="hsv")


def test_an_empty_file_is_an_error_naming_the_file():
    with pytest.raises(ImageDecodeError, match=r"cannot decode image 's3://b/empty.png': the file is empty"):
        decode_image(b"", path="s3://b/empty.png")


def test_a_truncated_file_is_an_error_naming_the_file():
    data = encode(Image.fromarray(np.tile(RGB, (40, 40, 1))), "JPEG")
    with pytest.raises(ImageDecodeError, match="cut.jpg"):
        decode_image(data[: len(data) // 2], path="cut.jpg")


def test_bytes_that_are_no_image_are_an_error_naming_the_file():
    with pytest.raises(ImageDecodeError, match="notes.png") as caught:
        decode_image(b"this is not an image", path="notes.png")
    assert isinstance(caught.value, ValueError)
    assert caught.value.path == "notes.png"


def test_large_jpeg_downscale_decodes_smaller_but_never_below_the_requested_size():
    big = encode(Image.fromarray(np.zeros((1000, 800, 3), np.uint8)), "JPEG")
    decoded = to_array(open_image(big), "rgb", min_size=(200, 150))
    assert decoded.shape[0] >= 200 and decoded.shape[1] >= 150
    assert decoded.shape[0] < 1000


def test_large_png_downscale_box_reduces_keeping_twice_the_requested_size():
    big = encode(Image.fromarray(np.full((900, 600), 77, np.uint8)), "PNG")
    decoded = to_array(open_image(big), "greyscale", min_size=(100, 100))
    assert decoded.shape == (300, 200, 1)
    assert np.all(decoded == 77)
