"""build_facets: records and a 64x64 sprite atlas of a generator's first samples, from any generator flavour."""
import importlib
import io
import json
import math

import numpy as np
import pytest
from PIL import Image

from brevetti_core import DataGenerator, ImagePipeline
from brevetti_core.dataset import Dataset
from brevetti_core.facets import build_facets, output_image, placeholder, thumbnail
from brevetti_demo import generate_vials


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    root = generate_vials(tmp_path_factory.mktemp("facets") / "vials", items_per_class=2, annotations=False)
    return Dataset(bucket=str(root)).get_image_samples()


def image_generator(samples, flavour="brevetti_core", **kwargs):
    generator_type = importlib.import_module(flavour).DataGenerator
    options = {"shuffle": True, "seed": 7, "output_structure": ("img", "category"), **kwargs}
    return generator_type(samples, **options).map(ImagePipeline(target_size=(96, 80), antialias=True))


def read_atlas(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)


def tile(atlas: np.ndarray, index: int, count: int) -> np.ndarray:
    side = math.ceil(math.sqrt(count))
    row, col = divmod(index, side)
    return atlas[row * 64:(row + 1) * 64, col * 64:(col + 1) * 64]


def test_records_are_the_first_planned_samples_without_paths(samples, tmp_path):
    generator = image_generator(samples)
    facets = build_facets(generator, str(tmp_path), count=10)
    records = json.loads((tmp_path / "facets.json").read_text())
    assert facets.count == len(records) == 10 and facets.errors == []
    assert [r["etag"] for r in records] == generator.plan(0)["etag"].head(10).tolist()
    assert "path" not in records[0] and "bucket" not in records[0]
    assert records[0]["category"] == list(generator.plan(0)["category"].iloc[0])


def test_excluded_columns_can_be_chosen(samples, tmp_path):
    build_facets(image_generator(samples), str(tmp_path), count=3, exclude_rows=["etag", "url"])
    record = json.loads((tmp_path / "facets.json").read_text())[0]
    assert "path" in record and "etag" not in record and "url" not in record


def test_atlas_is_a_square_grid_of_the_generator_images_as_64px_thumbnails(samples, tmp_path):
    generator = image_generator(samples)
    build_facets(generator, str(tmp_path), count=10)
    atlas = read_atlas(tmp_path / "spriteatlas.jpeg")
    assert atlas.shape == (4 * 64, 4 * 64, 3)
    outputs = generator.get_dataset_numpy(batch=False)
    for index in range(10):
        expected = thumbnail(output_image(next(outputs))).astype(np.int16)
        assert np.abs(tile(atlas, index, 10) - expected).mean() < 4, index
    assert tile(atlas, 15, 10).max() < 16  # empty cells are black


def test_count_larger_than_the_samples_takes_one_epoch(samples, tmp_path):
    facets = build_facets(image_generator(samples), str(tmp_path), count=4096)
    assert facets.count == len(samples)
    side = math.ceil(math.sqrt(len(samples)))
    assert read_atlas(tmp_path / "spriteatlas.jpeg").shape[:2] == (side * 64, side * 64)


def test_an_endless_generator_stops_at_count(samples, tmp_path):
    facets = build_facets(image_generator(samples, repeat=True), str(tmp_path), count=len(samples) + 5)
    assert facets.count == len(samples) + 5


def test_unreadable_image_gets_a_placeholder_and_an_error(samples, tmp_path):
    broken = tmp_path / "broken.bmp"
    broken.write_bytes(b"BM not an image")
    table = samples.head(3).copy()
    table.loc[1, "path"] = str(broken)
    facets = build_facets(image_generator(table, shuffle=False), str(tmp_path / "facets"), count=3)
    assert len(facets.errors) == 1 and "broken.bmp" in facets.errors[0]
    records = json.loads((tmp_path / "facets" / "facets.json").read_text())
    assert ["error" in r for r in records] == [False, True, False]
    assert "cannot decode image" in records[1]["error"]
    atlas = read_atlas(tmp_path / "facets" / "spriteatlas.jpeg")
    assert np.abs(tile(atlas, 1, 3) - placeholder().astype(np.int16)).mean() < 4
    assert np.abs(tile(atlas, 0, 3) - placeholder().astype(np.int16)).mean() > 20


def test_dict_output_uses_the_img_entry(samples, tmp_path):
    generator = image_generator(samples, output_structure=None, shuffle=False)
    build_facets(generator, str(tmp_path / "dict"), count=4)
    build_facets(image_generator(samples, shuffle=False), str(tmp_path / "tuple"), count=4)
    atlas = "spriteatlas.jpeg"
    assert (tmp_path / "dict" / atlas).read_bytes() == (tmp_path / "tuple" / atlas).read_bytes()


def test_a_generator_without_images_is_an_error_saying_what_to_map(samples, tmp_path):
    generator = DataGenerator(samples, output_structure=("path", "folder"))
    with pytest.raises(ValueError, match="map an ImagePipeline"):
        build_facets(generator, str(tmp_path), count=4)
    assert not (tmp_path / "facets.json").exists()


def test_no_samples_is_an_error(samples, tmp_path):
    with pytest.raises(ValueError, match="no samples"):
        build_facets(image_generator(samples.head(0)), str(tmp_path))


def test_count_must_be_positive(samples, tmp_path):
    with pytest.raises(ValueError, match="count must be a positive integer, got 0"):
        build_facets(image_generator(samples), str(tmp_path), count=0)


def test_progress_off_a_terminal_is_a_log_line(samples, tmp_path, caplog):
    with caplog.at_level("INFO", logger="brevetti_core.progress"):
        build_facets(image_generator(samples), str(tmp_path), count=5)
    assert any(message.startswith("Thumbnails: 5/5 sample (100%)") for message in caplog.messages)


@pytest.mark.parametrize("flavour", ["brevetti_torch", "brevetti_tf"])
def test_framework_generators_give_the_same_facets_as_the_core_one(samples, tmp_path, flavour):
    build_facets(image_generator(samples), str(tmp_path / "core"), count=8)
    build_facets(image_generator(samples, flavour), str(tmp_path / flavour), count=8)
    for name in ("facets.json", "spriteatlas.jpeg"):
        assert (tmp_path / flavour / name).read_bytes() == (tmp_path / "core" / name).read_bytes()


def test_facets_written_to_s3(samples, s3_bucket, s3_client):
    build_facets(image_generator(samples), f"{s3_bucket}/job/artifacts/facets", count=4)
    bucket = s3_bucket[len("s3://"):]
    records = json.loads(s3_client.get_object(Bucket=bucket, Key="job/artifacts/facets/facets.json")["Body"].read())
    atlas = s3_client.get_object(Bucket=bucket, Key="job/artifacts/facets/spriteatlas.jpeg")["Body"].read()
    assert len(records) == 4 and Image.open(io.BytesIO(atlas)).size == (128, 128)


def test_thumbnail_keeps_pixel_values_and_the_aspect_ratio():
    image = np.zeros((32, 128, 3), np.float32)
    image[..., 0] = 200.0
    small = thumbnail(image)
    assert small.shape == (64, 64, 3) and small.dtype == np.uint8
    assert small[32, 32].tolist() == [200, 0, 0]
    assert small[0, 32].tolist() == [0, 0, 0] and small[63, 32].tolist() == [0, 0, 0]  # letterboxed


def test_thumbnail_scales_unit_floats_and_stretches_normalised_images():
    assert thumbnail(np.full((8, 8, 1), 0.5, np.float32))[0, 0].tolist() == [128, 128, 128]
    normalised = np.linspace(-2.0, 2.5, 64 * 64, dtype=np.float32).reshape(64, 64, 1)
    stretched = thumbnail(normalised)
    assert stretched.min() == 0 and stretched.max() == 255
