"""tile2d: row-major grids, zero-filled cells, surplus dropped."""
import numpy as np
import pytest

from brevetti_core.image.tile import tile2d


@pytest.mark.parametrize("grid", [(4, 3), (4, 4), (4, 5)])
def test_tiles_fill_the_grid_row_by_row_and_zero_the_rest(grid):
    data = np.random.default_rng(0).random((10, 4, 6, 2)) + 1  # no zeros in real cells
    rows, cols = grid
    out = tile2d(data, grid)
    assert out.shape == (4 * rows, 6 * cols, 2)
    for i in range(rows * cols):
        cell = out[(i // cols) * 4:(i // cols + 1) * 4, (i % cols) * 6:(i % cols + 1) * 6]
        if i < len(data):
            np.testing.assert_array_equal(cell, data[i])
        else:
            assert not cell.any()


def test_images_beyond_the_grid_are_left_out():
    data = np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1)
    np.testing.assert_array_equal(tile2d(data, (2, 2))[..., 0], [[0, 1], [2, 3]])


def test_channelless_images_tile_too():
    assert tile2d(np.ones((3, 2, 2)), (1, 3)).shape == (2, 6)


def test_a_bad_grid_is_rejected():
    with pytest.raises(ValueError, match="grid must be"):
        tile2d(np.ones((3, 2, 2, 1)), (0, 3))
