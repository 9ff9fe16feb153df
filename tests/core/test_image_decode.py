"""Decoding image files: every format and pixel mode, colour modes, and bad files."""
import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageFile, ImageOps
from png_files import blank_grey_png, sixteen_bit_png

from brevetti_core.image.decode import (
    DEFAULT_MAX_PIXELS,
    DecodeOptions,
    ImageDecodeError,
    bayer_demosaic,
    decode_image,
    open_image,
)

RGB = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]],
                [[10, 20, 30], [200, 100, 50], [7, 7, 7]]], dtype=np.uint8)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noise), "JPEG")
    return data[: len(data) // 2]


def exif_jpeg(orientation: int, size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG stored `size` (width, height) with EXIF orientation `orientation` and no symmetry."""
    y, x = np.mgrid[0:size[1], 0:size[0]]
    image = Image.fromarray(np.stack([x * 255 // size[0], y * 255 // size[1], (x < size[0] // 4) * 200], -1)
                            .astype(np.uint8))
    exif = image.getexif()
    exif[ExifTags.Base.Orientation] = orientation
    return encode(image, "JPEG", exif=exif, quality=95)


@pytest.fixture(scope="module")
def huge_png(tmp_path_factory):
    """A 97 KB PNG claiming 10000 x 10000 pixels."""
    return blank_grey_png(tmp_path_factory.mktemp("huge") / "huge.png", 10000, 10000)


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
    with open_image(big) as source:
        decoded = source.decode("rgb", min_size=(200, 150))
    assert decoded.shape[0] >= 200 and decoded.shape[1] >= 150
    assert decoded.shape[0] < 1000


def test_large_png_downscale_box_reduces_keeping_twice_the_requested_size():
    big = encode(Image.fromarray(np.full((900, 600), 77, np.uint8)), "PNG")
    with open_image(big) as source:
        decoded = source.decode("greyscale", min_size=(100, 100))
    assert decoded.shape == (300, 200, 1)
    assert np.all(decoded == 77)


def test_bytes_that_are_no_image_are_called_unrecognised_with_their_first_bytes_not_a_buffer():
    with pytest.raises(ImageDecodeError) as caught:
        decode_image(b"version https://git-lfs.github.com/spec/v1", path="s3://b/part.png")
    message = str(caught.value)
    assert message.startswith("cannot decode image 's3://b/part.png': not a recognised image format")
    assert "b'version https://'" in message
    assert "BytesIO" not in message


def test_a_truncated_file_is_an_error_even_when_the_process_allows_truncated_images(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(ImageDecodeError, match="cut.jpg.*truncated.*allow_truncated=True"):
        decode_image(truncated_jpeg(), path="cut.jpg")


def test_allow_truncated_decodes_a_truncated_file_whatever_the_process_set():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    decoded = decode_image(truncated_jpeg(), options=DecodeOptions(allow_truncated=True))
    assert decoded.shape == (64, 64, 3)


def test_decoding_leaves_pillows_process_settings_as_they_were(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1234)
    with pytest.raises(ImageDecodeError):
        decode_image(truncated_jpeg())
    decode_image(encode(Image.fromarray(RGB), "PNG"))
    assert (ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS) == (True, 1234)


def test_an_image_over_max_pixels_is_refused_naming_the_file_its_size_and_the_setting():
    data = encode(Image.new("L", (20, 10)), "PNG")
    with pytest.raises(ImageDecodeError) as caught:
        decode_image(data, path="wide.png", options=DecodeOptions(max_pixels=199))
    message = str(caught.value)
    assert "'wide.png'" in message and "20x10" in message and "max_pixels=199" in message
    assert "ImagePipeline(max_pixels=...)" in message


def test_an_image_of_exactly_max_pixels_decodes():
    data = encode(Image.new("L", (20, 10)), "PNG")
    assert decode_image(data, options=DecodeOptions(max_pixels=200)).shape == (10, 20, 3)


def test_the_default_pixel_limit_is_64_megapixels():
    assert DecodeOptions().max_pixels == DEFAULT_MAX_PIXELS == 8192 * 8192


@pytest.mark.parametrize("limit", [0, -5, 2.5, "64M", True])
def test_max_pixels_must_be_a_positive_whole_number_or_none(limit):
    with pytest.raises(ValueError, match="max_pixels must be a positive whole number"):
        DecodeOptions(max_pixels=limit)


def test_a_100_megapixel_png_is_refused_from_its_header_before_any_pixel_is_decoded(huge_png):
    # VmHWM, not ru_maxrss: the peak of this process alone (ru_maxrss carries the parent's over exec).
    script = ("import re, sys\n"
              "from brevetti_core.image.decode import ImageDecodeError, decode_image\n"
              "data = open(sys.argv[1], 'rb').read()\n"
              "try:\n    decode_image(data, path=sys.argv[1])\n"
              "except ImageDecodeError as error:\n    print(error)\n"
              "print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1]) // 1024)\n")
    result = subprocess.run([sys.executable, "-c", script, str(huge_png)], capture_output=True, text=True, check=True)
    message, peak_mb = result.stdout.splitlines()
    assert message.startswith(f"cannot decode image '{huge_png}': 10000x10000 is 100,000,000 pixels, more than "
                              f"max_pixels={DEFAULT_MAX_PIXELS}")
    assert int(peak_mb) < 300  # decoding it would take 100 MB for Pillow and 1.2 GB as float32 RGB
    assert "DecompressionBombWarning" not in result.stderr


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_turns_a_jpeg_upright_as_pillow_exif_transpose_does(orientation):
    data = exif_jpeg(orientation)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))), np.float32)
    decoded = decode_image(data)
    assert decoded.shape == expected.shape == ((48, 64, 3) if orientation < 5 else (64, 48, 3))
    np.testing.assert_array_equal(decoded, expected)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_turns_lossless_files_upright(fmt, orientation):
    image = Image.fromarray(RGB)
    exif = image.getexif()
    exif[ExifTags.Base.Orientation] = orientation
    turn = {3: lambda a: a[::-1, ::-1], 6: lambda a: np.rot90(a, -1), 8: lambda a: np.rot90(a, 1)}[orientation]
    np.testing.assert_array_equal(decode_image(encode(image, fmt, exif=exif)), turn(RGB).astype(np.float32))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF"])
def test_without_exif_orientation_the_stored_pixels_come_out(fmt):
    image = Image.fromarray(np.tile(RGB, (8, 8, 1)))
    exif = image.getexif()
    exif[ExifTags.Base.Orientation] = 6
    data = encode(image, fmt, exif=exif, **({"quality": 95} if fmt == "JPEG" else {}))
    stored = np.asarray(Image.open(io.BytesIO(encode(image, fmt, **({"quality": 95} if fmt == "JPEG" else {})))),
                        np.float32)
    np.testing.assert_array_equal(decode_image(data, options=DecodeOptions(exif_orientation=False)), stored)


def test_the_source_size_is_upright_and_a_jpeg_draft_turns_with_it():
    with open_image(exif_jpeg(6, size=(800, 600))) as source:
        assert source.size == (800, 600)  # stored 600 high and 800 wide, held on its side
        decoded = source.decode("rgb", min_size=(200, 150))
    assert decoded.shape == (200, 150, 3)  # libjpeg's 1/4 scale of the stored 800 x 600, turned upright


def test_sixteen_bit_rgb_keeps_only_the_high_byte_of_each_sample():
    # Pillow has no 16-bit colour mode: it decodes 16-bit RGB(A) PNGs and TIFFs to 8 bits per channel.
    values = np.array([[[0, 257, 65535], [1000, 1023, 40000]]], dtype=np.uint16)
    decoded = decode_image(sixteen_bit_png(values))
    np.testing.assert_array_equal(decoded, (values // 256).astype(np.float32))


def test_sixteen_bit_grey_png_written_chunk_by_chunk_keeps_its_precision():
    values = np.array([[0, 1000, 65535]], dtype=np.uint16)
    decoded = decode_image(sixteen_bit_png(values), color_mode="greyscale")
    np.testing.assert_allclose(decoded[0, :, 0], values[0] / 257, rtol=1e-6)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "TIFF", "GIF", "WEBP"])
def test_every_cut_of_a_file_is_an_error_naming_the_file_never_a_buffer(fmt):
    data = encode(Image.fromarray(np.tile(RGB, (20, 20, 1))), fmt)
    for cut in sorted({1, 4, 8, 16, 30, len(data) // 2}):
        with pytest.raises(ImageDecodeError) as caught:
            decode_image(data[:cut], path=f"s3://b/cut-{cut}.{fmt.lower()}")
        message = str(caught.value)
        assert message.startswith(f"cannot decode image 's3://b/cut-{cut}.{fmt.lower()}': "), message
        assert "BytesIO" not in message and " at 0x" not in message, message
