"""SegmentationLoader: annotation shapes to per-class masks that follow the image geometry."""
import json

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageDraw

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
    path = annotation_file(tmp_path, {"label": "A", "type": "polygon", "points": square})
    mask = load(SegmentationLoader(["A"]), path)
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
    with pytest.raises(ValueError, match=r"odd.json'.*annotation 1 \('A' ellipse\): type 'ellipse' is not one of"):
        load(SegmentationLoader(["A"]), path)


@pytest.mark.parametrize("kwargs, message", [
    ({"classes": []}, "at least one class"),
    ({"classes": ["A"], "mapping": {"x": "A|Z"}}, r"names \['Z'\]"),
    ({"classes": ["A", "B"], "mapping": {"x": "A|B"}, "sparse": True}, "one class per pixel"),
])
def test_bad_settings_fail_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SegmentationLoader(**kwargs)


def test_masks_of_an_exif_rotated_jpeg_are_drawn_on_the_upright_image(tmp_path):
    upright = np.zeros((48, 32, 3), np.uint8)
    upright[4:20, 18:30] = 255  # what the annotation tool showed: 32 wide, 48 high
    stored = Image.fromarray(np.rot90(upright, 1))  # the camera's pixels, held on its side
    exif = stored.getexif()
    exif[ExifTags.Base.Orientation] = 6
    stored.save(tmp_path / "sideways.jpg", quality=95, exif=exif)
    path = annotation_file(tmp_path, {"label": "A", "type": "rectangle", "points": points((18, 4), (29, 19))})
    pipeline = ImagePipeline(segmentation=SegmentationLoader(["A"]))
    sample = pipeline({"path": str(tmp_path / "sideways.jpg"), "annotation_path": path}, {})
    assert sample["segmentation"].shape == (48, 32, 1)
    np.testing.assert_array_equal(sample["segmentation"][..., 0] > 0, sample["img"][..., 0] > 127.5)


@pytest.mark.parametrize("far", [2.0**31, 1e12, 1e300])
def test_shapes_reaching_far_outside_the_image_are_clipped_to_it(tmp_path, far):
    path = annotation_file(tmp_path,
                           {"label": "A", "type": "rectangle", "points": points((-far, -far), (far, far))},
                           {"label": "B", "type": "polygon", "points": points((-far, -far), (far, -far), (0, far))},
                           {"label": "C", "type": "line", "points": points((-far, 5), (far, 5))},
                           {"label": "D", "type": "point", "points": points((far, 3), (2, 3))})
    mask = load(SegmentationLoader(["A", "B", "C", "D"]), path)
    np.testing.assert_array_equal(mask[..., 0], np.ones((12, 16)))
    np.testing.assert_array_equal(mask[..., 1], np.ones((12, 16)))
    np.testing.assert_array_equal(mask[..., 2], expected_block(5, slice(None)))
    np.testing.assert_array_equal(mask[..., 3], expected_block(3, 2))


def test_a_clipped_polygon_covers_the_pixels_pillow_draws_for_the_whole_one(tmp_path):
    # Vertices a few image sizes away: far enough to be clipped, near enough for Pillow to draw unclipped.
    triangle = [(-300, 5), (5, -300), (14, 11)]
    path = annotation_file(tmp_path, {"label": "A", "type": "polygon", "points": points(*triangle)})
    whole = Image.new("L", (16, 12))
    ImageDraw.Draw(whole).polygon(triangle, fill=1, outline=1)
    np.testing.assert_array_equal(load(SegmentationLoader(["A"]), path)[..., 0], np.asarray(whole))


def test_a_clipped_line_covers_the_pixels_pillow_draws_for_the_whole_one(tmp_path):
    line = [(-300, -290), (8, 5), (400, 9)]
    path = annotation_file(tmp_path, {"label": "A", "type": "line", "points": points(*line)})
    whole = Image.new("L", (16, 12))
    ImageDraw.Draw(whole).line(line, fill=1, width=1)
    np.testing.assert_array_equal(load(SegmentationLoader(["A"]), path)[..., 0], np.asarray(whole))


@pytest.mark.parametrize("bad, shown", [("NaN", "nan"), ("Infinity", "inf"), ("-Infinity", "-inf")])
def test_a_coordinate_that_is_not_finite_is_an_error_naming_the_file_and_the_shape(tmp_path, bad, shown):
    path = tmp_path / "odd.json"
    box = '{"label": "A", "type": "rectangle", "points": [{"x": 0, "y": 0}, {"x": 1, "y": 1}]}'
    odd = f'{{"label": "B", "type": "polygon", "points": [{{"x": 1, "y": {bad}}}]}}'
    path.write_text(f'{{"annotations": [{box}, {odd}]}}')
    with pytest.raises(ValueError, match=rf"odd.json'.*annotation 2 \('B' polygon\).*y={shown} is not a finite number"):
        load(SegmentationLoader(["A", "B"]), str(path))


@pytest.mark.parametrize("point", [{"x": "left", "y": 3}, {"x": None, "y": 3}, {"x": [1], "y": 3}, {"y": 3}, 7,
                                   {"x": "3", "y": 3}, {"x": True, "y": 3}])
def test_a_point_that_is_not_numeric_is_an_error_naming_the_file_and_the_shape(tmp_path, point):
    path = annotation_file(tmp_path, {"label": "A", "type": "line", "points": [{"x": 0, "y": 0}, point]},
                           name="odd.json")
    with pytest.raises(ValueError, match=r"odd.json'.*annotation 1 \('A' line\).*needs numbers 'x' and 'y'"):
        load(SegmentationLoader(["A"]), path)


def test_a_shape_with_an_empty_point_list_is_an_error_naming_the_file_and_the_shape(tmp_path):
    path = annotation_file(tmp_path, {"label": "A", "type": "polygon", "points": []}, name="odd.json")
    with pytest.raises(ValueError, match=r"odd.json'.*annotation 1 \('A' polygon\) needs 'points'.*at least one"):
        load(SegmentationLoader(["A"]), path)


def test_a_shape_without_points_is_an_error_naming_the_file_and_the_shape(tmp_path):
    path = annotation_file(tmp_path, {"label": "A", "type": "polygon"}, name="odd.json")
    with pytest.raises(ValueError, match=r"odd.json'.*annotation 1 \('A' polygon\) needs 'points'"):
        load(SegmentationLoader(["A"]), path)
