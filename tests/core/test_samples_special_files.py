"""Listings meet what real folders hold: FIFOs, sockets, symlinks, and images that do not decode."""
import logging
import os
import socket

import pandas as pd
import pytest
from PIL import Image

from brevetti_core import DataGenerator, ImagePipeline
from brevetti_core.cli.main import main
from brevetti_core.dataset import Dataset
from brevetti_core.image.decode import DecodeOptions
from brevetti_core.samples import unreadable_images

LISTING_TIMEOUT_S = 60  # reading a FIFO waits for a writer: a listing that opens one fails here, not hangs


@pytest.fixture
def parts(tmp_path):
    """good/a.png and good/b.png, real images."""
    root = tmp_path / "parts"
    (root / "good").mkdir(parents=True)
    Image.new("RGB", (8, 6), (1, 2, 3)).save(root / "good" / "a.png")
    Image.new("RGB", (8, 6), (4, 5, 6)).save(root / "good" / "b.png")
    return root


def names(samples):
    return [os.path.basename(p) for p in samples["path"]]


@pytest.mark.timeout(LISTING_TIMEOUT_S)
def test_a_fifo_named_like_an_image_is_skipped_and_reported(parts, caplog):
    os.mkfifo(parts / "good" / "x.png")
    with caplog.at_level(logging.WARNING, logger="brevetti_core"):
        samples = Dataset(bucket=parts).get_image_samples()
    assert names(samples) == ["a.png", "b.png"]
    assert f"Skipped 1 entries under {parts} that are not regular files (e.g. good/x.png (a FIFO))" in caplog.text


def test_a_dangling_symlink_is_skipped_and_reported(parts, caplog):
    (parts / "good" / "gone.png").symlink_to(parts / "nowhere.png")
    with caplog.at_level(logging.WARNING, logger="brevetti_core"):
        samples = Dataset(bucket=parts).get_image_samples()
    assert names(samples) == ["a.png", "b.png"]
    assert "good/gone.png (a dangling symlink)" in caplog.text


def test_a_socket_is_skipped_and_reported(parts, caplog):
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(parts / "good" / "s.png"))
        with caplog.at_level(logging.WARNING, logger="brevetti_core"):
            samples = Dataset(bucket=parts).get_image_samples()
    assert names(samples) == ["a.png", "b.png"]
    assert "good/s.png (a socket)" in caplog.text


def test_a_symlink_to_an_image_is_a_sample_with_the_images_etag(parts):
    (parts / "good" / "link.png").symlink_to(parts / "good" / "a.png")
    samples = Dataset(bucket=parts).get_image_samples()
    samples.index = names(samples)
    assert list(samples.index) == ["a.png", "b.png", "link.png"]
    assert samples.loc["link.png", "etag"] == samples.loc["a.png", "etag"]


def test_the_report_counts_every_skipped_entry_and_names_a_few(parts, caplog):
    for i in range(5):
        (parts / "good" / f"gone{i}.png").symlink_to(parts / f"nowhere{i}.png")
    with caplog.at_level(logging.WARNING, logger="brevetti_core"):
        Dataset(bucket=parts).get_image_samples()
    assert "Skipped 5 entries" in caplog.text
    assert "good/gone2.png" in caplog.text and "good/gone3.png" not in caplog.text


@pytest.mark.timeout(LISTING_TIMEOUT_S)
def test_brevetti_samples_summarises_a_folder_with_a_fifo_and_a_dangling_symlink(parts, capsys):
    os.mkfifo(parts / "good" / "x.png")
    (parts / "good" / "gone.png").symlink_to(parts / "nowhere.png")
    assert main(["samples", str(parts)]) == 0
    out = capsys.readouterr().out
    assert f"Dataset {parts}: 2 images, 2 other entries" in out and "Unreadable images: 0" in out
    assert "Entries skipped as not regular files: 2\n  good/gone.png (a dangling symlink)\n  good/x.png (a FIFO)" in out


@pytest.mark.timeout(LISTING_TIMEOUT_S)
def test_a_fifo_named_like_an_annotation_is_not_opened(parts):
    (parts / ".annotations" / "good").mkdir(parents=True)
    os.mkfifo(parts / ".annotations" / "good" / "a.png.json")
    samples = Dataset(bucket=str(parts)).get_image_samples(annotations=True)
    assert (samples["annotation_path"].fillna("") == "").all() and len(samples) == 2


def test_an_empty_file_is_reported_as_empty(parts):
    (parts / "good" / "empty.png").write_bytes(b"")
    unreadable = unreadable_images([str(parts / "good" / "a.png"), str(parts / "good" / "empty.png")])
    assert unreadable.to_dict("records") == [{"path": str(parts / "good" / "empty.png"),
                                              "error": "the file is empty (0 bytes)"}]


def test_an_unrecognised_file_is_reported_by_its_first_bytes_not_by_a_buffer(parts):
    (parts / "good" / "page.png").write_bytes(b"<html>Access denied</html>")
    (error,) = unreadable_images([str(parts / "good" / "page.png")])["error"]
    assert error == "not a recognised image format (it starts with b'<html>Access den')"


def test_an_image_over_the_pixel_limit_is_reported_with_its_size(parts):
    (error,) = unreadable_images([str(parts / "good" / "a.png")], options=DecodeOptions(max_pixels=40))["error"]
    assert error.startswith("8x6 is 48 pixels, more than max_pixels=40;")


@pytest.mark.timeout(LISTING_TIMEOUT_S)
def test_a_fifo_named_in_a_sample_table_fails_its_sample_instead_of_blocking(parts):
    fifo = parts / "good" / "x.png"
    os.mkfifo(fifo)
    samples = Dataset(bucket=str(parts)).get_image_samples()
    samples = pd.concat([samples, samples.iloc[:1].assign(path=str(fifo))], ignore_index=True)
    generator = DataGenerator(samples, batch_size=len(samples), output_structure="img").map(
        ImagePipeline(target_size=(8, 8)))
    with pytest.raises(Exception, match=r"not a regular file \(a FIFO, socket or device\): .*good/x\.png"):
        next(generator.get_dataset_numpy())
