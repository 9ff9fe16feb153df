"""Conformance: brevettiai's tile2d (its tests/test_data_manipulation.py, inventory §6.7), on decoded image files."""
import numpy as np
import pytest
from reference_files import sample_numbers, write_numbered_dataset

from brevetti_core import DataGenerator, Dataset, ImagePipeline, tile2d


@pytest.mark.parametrize("grid", [(4, 3), (4, 4), (4, 5)])
def test_tiles_are_placed_row_major_with_zero_fill(grid):
    """Reference test_data_manipulation: tile2d(data(4, 10, 16, 2), grid) is (10*rows, 16*cols, 2), item i at row
    i // cols, column i % cols, empty cells zero."""
    data = np.arange(1, 4 * 10 * 16 * 2 + 1, dtype=np.float32).reshape(4, 10, 16, 2)
    tiled = tile2d(data, grid)
    rows, cols = grid
    assert tiled.shape == (10 * rows, 16 * cols, 2)
    for cell in range(rows * cols):
        tile = tiled[cell // cols * 10:(cell // cols + 1) * 10, cell % cols * 16:(cell % cols + 1) * 16]
        assert np.array_equal(tile, data[cell]) if cell < 4 else not tile.any()


def test_items_beyond_the_grid_are_left_out():
    """Reference §6.7: surplus items are dropped."""
    assert tile2d(np.ones((7, 2, 2, 1)), (2, 3)).shape == (4, 6, 1)


def test_a_batch_of_decoded_images_tiles_in_sample_order(tmp_path):
    """Reference seed notebook: tile2d(x["img"], (2, 4)) of a DataGenerator batch shows the batch row by row."""
    samples = Dataset(bucket=str(write_numbered_dataset(tmp_path / "d", {"A": 8}))).get_image_samples()
    batch = next(iter(DataGenerator(samples, batch_size=8).map(ImagePipeline()).get_dataset_numpy(structure="img")))
    tiled = tile2d(batch, (2, 4))
    corners = tiled[::4, ::4]  # one pixel of each 4x4 tile, row by row
    assert sample_numbers(corners.reshape(8, 1, 1, 3)) == list(range(8)) == sample_numbers(batch)
