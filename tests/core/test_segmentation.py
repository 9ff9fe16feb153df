"""SegmentationLoader: annotation shapes to per-class masks that follow the image geometry."""
import json

import numpy as np
import pytest
from PIL import Image

from brevetti_core.image.pipeline import ImagePipeline
from brevetti_core.segmentation import SegmentationLoader


def points(*xy):
    return [{"x": x, "y": y} for x, y in xy]


def annotation_file(tmp_path, *annotations, name="annotation.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"annotations": list(annotations), "image": {"height": 12, "width": 16}}))
    return str(path)


def load(loader, path, shape=(12, 16, 3)):
    return loader({"annotation_path": path, "_image_file_shape": np.array(shape)}, {})["segmentation"]


def expected_block(rows, cols, shape=(12, 16)):
    block = np.zeros(shape, np.float32)
    block[rows, cols] = 1
    return block


def test_a_rectangle_fills_its_floored_corners_inclusively(tmp_path):
    path = annotation_file(tmp_path, {"label": "A", "type": "rectangle", "points": points((1.7, 2.2), (4.9, 5.1))})
    mask = load(SegmentationLoader(["A", "B"]), path)
    assert mask.shape == (12, 16, 2) and mask.dtype == np.float32
    np.testing.assert_array_equal(mask[..., 0], expected_block(slice(2, 6), slice(1, 5)))
    assert not mask[..., 1].any()


def test_a_polygon_fills_its_inside_and_boundary(tmp_path):
    square = points((2, 3), (6, 3), (6, 7), (2, 7))
    mask = load(SegmentationLoader(["A"]), annotation_file(tmp_path, {"label": "A", "type": "polygon", "points": square}))
    np.testing.assert_array_equal(mask[..., 0], expected_block(slice(3, 8), slice(2, 7)))


def test_a_point_marks_one_pixel_and_a_line_its_path(tmp_path):
    path = annotation_file(tmp_path,
                           {"label": "A", "type": "point", "points": points((9.5, 10.9))},
                           {"label": "B", "type": "line", "points": points((0, 1), (5, 1))})
    mask = load(SegmentationLoader(["A", "B"]), path)
    np.testing.assert_array_equal(mask[..., 0], expected_block(10, 9))
    np.testing.assert_array_equal(mask[..., 1], expected_block(1, slice(0, 6)))


def test_a_mapping_to_several_classes_draws_into_each(tmp_path):
    path = annotation_file(tmp_path, {"label": "defect", "type": "rectangle", "points": points((0, 0), (1, 1))})
    for mapping in ({"defect": "A|C"}, {"defect": ["A", "C"]}):
        mask = load(SegmentationLoader(["A", "B", "C"], mapping=mapping), path)
        assert mask[..., 0].sum() == 4 and mask[..., 1].sum() == 0 and mask[..., 2].sum() == 4


def test_overlapping_annotations_of_one_class_stay_binary(tmp_path):
    box = {"label": "A", "type": "rectangle", "points": points((0, 0), (3, 3))}
    mask = load(SegmentationLoader(["A"]), annotation_file(tmp_path, box, box))
    assert mask.max() == 1


def test_labels_outside_the_classes_are_ignored(tmp_path):
    path = annotation_file(tmp_path, {"label": "dust", "type": "rectangle", "points": points((0, 0), (3, 3))})
    assert not load(SegmentationLoader(["A"]), path).any()


def test_sparse_masks_hold_the_class_index(tmp_path):
    path = annotation_file(tmp_path,
                           {"label": "B", "type": "rectangle", "points": points((0, 0), (1, 1))},
                           {"label": "C", "type": "rectangle", "points": points((5, 5), (5, 5))})
    mask = load(SegmentationLoader(["background", "B", "C"], sparse=True), path)
    assert mask.shape == (12, 16, 1)
    assert mask[0, 0, 0] == 1 and mask[5, 5, 0] == 2 and mask[8, 8, 0] == 0


def test_an_empty_annotation_path_gives_zeros_of_the_image_size():
    mask = load(SegmentationLoader(["A", "B"]), "", shape=(7, 9, 3))
    assert mask.shape == (7, 9, 2) and not mask.any()


def test_masks_follow_rois_resize_and_padding_of_their_image(tmp_path):
    image = np.zeros((40, 60, 3), np.uint8)
    image[10:22, 15:41] = 255
    Image.fromarray(image).save(tmp_path / "part.png")
    path = annotation_file(tmp_path, {"label": "A", "type": "rectangle", "points": points((15, 10), (40, 21))})
    pipeline = ImagePipeline(target_size=(24, 24), rois=((5, 2), (55, 38)), keep_aspect_ratio=True,
                             center_padding=True, resize_method="nearest", segmentation=SegmentationLoader(["A"]))
    sample = pipeline({"path": str(tmp_path / "part.png"), "annotation_path": path}, {})
    assert sample["segmentation"].shape == (24, 24, 1)
    assert sample["segmentation"].any()
    np.testing.assert_array_equal(sample["segmentation"][..., 0], (sample["img"][..., 0] > 0).astype(np.float32))


def test_masks_stay_aligned_when_a_large_jpeg_is_decoded_smaller(tmp_path):
    image = np.zeros((800, 600, 3), np.uint8)
    image[200:400, 100:300] = 255
    Image.fromarray(image).save(tmp_path / "big.jpg", quality=95)
    path = annotation_file(tmp_path, {"label": "A", "type": "rectangle", "points": points((100, 200), (299, 399))})
    pipeline = ImagePipeline(target_size=(80, 80), keep_aspect_ratio=True, antialias=True,
                             segmentation=SegmentationLoader(["A"]))
    sample = pipeline({"path": str(tmp_path / "big.jpg"), "annotation_path": path}, {})
    bright = sample["img"][..., 0] > 127.5
    np.testing.assert_array_equal(bright, sample["segmentation"][..., 0] > 0)


def test_mapped_on_its_own_it_follows_the_geometry_it_is_given(tmp_path):
    path = annotation_file(tmp_path, {"label": "A", "type": "rectangle", "points": points((0, 0), (7, 5))})
    pipeline = ImagePipeline(target_size=(6, 8))
    mask = load(SegmentationLoader(["A"], geometry=pipeline.geometry), path)
    np.testing.assert_array_equal(mask[..., 0], expected_block(slice(0, 3), slice(0, 4), shape=(6, 8)))


def test_it_needs_the_image_file_shape():
    with pytest.raises(KeyError, match="after ImagePipeline"):
        SegmentationLoader(["A"])({"annotation_path": ""}, {})


def test_an_annotation_file_that_is_not_json_is_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json.*not valid JSON"):
        load(SegmentationLoader(["A"]), str(bad))


def test_an_unknown_annotation_type_is_named_with_its_file(tmp_path):
    path = annotation_file(tmp_path, {"label": "A", "type": "ellipse", "points": points((0, 0))}, name="odd.json")
    with pytest.raises(ValueError, match="odd.json.*'ellipse'"):
        load(SegmentationLoader(["A"]), path)


@pytest.mark.parametrize("kwargs, message", [
    ({"classes": []}, "at least one class"),
    ({"classes": ["A"], "mapping": {"x": "A|Z"}}, r"names \['Z'\]"),
    ({"classes": ["A", "B"], "mapping": {"x": "A|B"}, "sparse": True}, "one class per pixel"),
])
def test_bad_settings_fail_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SegmentationLoader(**kwargs)
