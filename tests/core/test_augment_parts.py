"""Augmentation parts by name: user-defined parts from JSON settings, the parts list, label declarations."""
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from brevetti_core.augment.augmenter import ImageAugmenter, build_part
from brevetti_core.augment.noise import ImageNoise
from brevetti_core.augment.part import AugmentationPart, OutputSpec, registered_parts
from brevetti_core.augment.transform import RandomTransformer
from brevetti_core.generator import build_image_data_generator
from brevetti_core.rng import ParamStreams

IMAGE = {"target_size": (24, 32), "antialias": True, "rescale": "imagenet"}
BUILT_IN = ["image_deformation", "image_filter", "image_noise", "random_transformer"]


class Invert(AugmentationPart):
    """A user's photometric part: negates the image with probability `chance`."""

    name = "test_invert"

    def __init__(self, chance: float = 0.5):
        self.chance = chance

    def sample_params(self, streams, n):
        return {"invert": streams.generator("invert").random(n) < self.chance}

    def apply(self, image, params):
        return -image if params["invert"] else image


class Roll(AugmentationPart):
    """A user's geometric part: rolls image and labels `shift` columns to the right."""

    name = "test_roll"
    geometric = True

    def __init__(self, shift: int = 1):
        self.shift = shift

    def sample_params(self, streams, n):
        return {"roll": np.full(n, self.shift)}

    def apply(self, image, params):
        return np.roll(image, int(params["roll"]), axis=1)

    def apply_label(self, label, params):
        return np.roll(label, int(params["roll"]), axis=1)


def row(augmenter, slot=0, n=8):
    params = augmenter.sample_params(ParamStreams(seed=4, stream=1001, epoch=0), n)
    return {name: values[slot] for name, values in params.items()}


@pytest.fixture
def samples(tmp_path) -> pd.DataFrame:
    generator, rows = np.random.default_rng(0), []
    for i in range(10):
        path = tmp_path / ("a", "b")[i % 2] / f"{i}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(generator.integers(0, 256, (30 + i, 40, 3), dtype=np.uint8)).save(path)
        rows.append({"category": (path.parent.name,), "path": str(path)})
    return pd.DataFrame(rows)


def batches(samples, augmentation):
    generator = build_image_data_generator(samples, batch_size=4, shuffle=True, seed=3, image=IMAGE,
                                           augmentation=augmentation)
    return generator, [img for img, _ in generator.get_dataset_numpy()]


# -- registry ------------------------------------------------------------------------------------
def test_built_in_and_user_parts_are_registered_by_name():
    known = registered_parts()
    assert all(name in known for name in BUILT_IN)
    assert known["random_transformer"] is RandomTransformer and known["test_invert"] is Invert


def test_a_registered_part_named_in_json_settings_applies_and_becomes_a_plan_column(samples):
    settings = json.loads('{"parts": [{"name": "test_invert", "chance": 1.0}]}')
    _, plain = batches(samples, None)
    generator, inverted = batches(samples, settings)
    plan = generator.plan(0)
    assert "aug.invert" in plan.columns and plan["aug.invert"].all()
    assert len(inverted) == len(plain)
    for a, b in zip(plain, inverted):
        np.testing.assert_array_equal(b, -a)


def test_the_parts_list_and_the_keywords_give_identical_plans_and_batches(samples):
    keywords = {"random_transformer": {"rotate_chance": 1.0}, "image_deformation": {"alpha": 2.0, "sigma": 2.0}}
    listed = {"parts": [{"name": "random_transformer", "rotate_chance": 1.0},
                        {"name": "image_deformation", "alpha": 2.0, "sigma": 2.0}, "image_filter", "image_noise"]}
    by_keyword, keyword_batches = batches(samples, keywords)
    by_list, list_batches = batches(samples, listed)
    pd.testing.assert_frame_equal(by_list.plan(0), by_keyword.plan(0))
    for a, b in zip(keyword_batches, list_batches, strict=True):
        np.testing.assert_array_equal(a, b)


def test_parts_apply_in_list_order():
    brighten = ImageNoise(chance=1.0, brightness=(0.5, 0.5), contrast=(1, 1), saturation=(1, 1), hue=0, stddev=0)
    image = np.full((2, 2, 3), 0.25, np.float32)
    first = ImageAugmenter(parts=[Invert(chance=1.0), brighten])
    second = ImageAugmenter(parts=[brighten, Invert(chance=1.0)])
    np.testing.assert_array_equal(first.augment_image(image, row(first)), np.full_like(image, 0.25))
    np.testing.assert_array_equal(second.augment_image(image, row(second)), np.full_like(image, -0.75))


def test_a_part_can_be_listed_by_name_alone_with_its_default_settings():
    augmenter = ImageAugmenter(parts=["image_noise", "test_roll"])
    assert [type(part) for part in augmenter.parts] == [ImageNoise, Roll]
    assert augmenter.image_noise.chance == 0.5 and augmenter.random_transformer is None


def test_an_unknown_part_name_lists_the_registered_names():
    with pytest.raises(ValueError, match=r"unknown augmentation part 'image_nois' \(did you mean 'image_noise'\?\)"
                                         r".*image_deformation, image_filter, image_noise, random_transformer"):
        ImageAugmenter(parts=[{"name": "image_nois"}])


def test_an_unknown_setting_of_a_listed_part_names_the_part_and_its_settings():
    with pytest.raises(TypeError, match=r"RandomTransformer settings \{'rotation': 3\}.*rotate_chance"):
        build_part({"name": "random_transformer", "rotation": 3})


def test_a_part_without_a_name_is_refused():
    with pytest.raises(TypeError, match="with a 'name' key"):
        build_part({"chance": 1.0})


def test_parts_and_keyword_parts_together_are_refused():
    with pytest.raises(ValueError, match="not both.*image_noise"):
        ImageAugmenter(image_noise=None, parts=["image_filter"])


def test_a_taken_name_cannot_be_registered_by_another_class():
    with pytest.raises(TypeError, match="'image_noise' of .*Impostor is taken by brevetti_core.augment.noise"):
        class Impostor(Invert):
            name = "image_noise"
    assert registered_parts()["image_noise"] is ImageNoise


def test_two_parts_drawing_the_same_parameter_are_refused():
    augmenter = ImageAugmenter(parts=[Invert(), Invert()])
    with pytest.raises(ValueError, match="Invert draws parameter 'invert', which Invert draws too"):
        augmenter.sample_params(ParamStreams(1, 1001, 0), 4)


# -- labels and outputs --------------------------------------------------------------------------
def test_labels_pass_photometric_parts_unchanged():
    mask = np.zeros((6, 6, 1), np.float32)
    mask[1:3, 2:5] = 1
    augmenter = ImageAugmenter(parts=[Invert(chance=1.0), {"name": "image_noise", "chance": 1.0},
                                      {"name": "image_filter", "chance": 1.0}])
    out = augmenter({"img": mask, "segmentation": mask}, row(augmenter))
    np.testing.assert_array_equal(out["segmentation"], mask)
    assert not np.array_equal(out["img"], mask)


def test_labels_follow_listed_geometric_parts_with_nearest_interpolation():
    mask = (np.random.default_rng(2).random((12, 10, 2)) > 0.5).astype(np.float32)
    transformer = {"name": "random_transformer", "chance": 1.0, "rotate_chance": 1.0}
    augmenter = ImageAugmenter(parts=[transformer, "test_roll", {"name": "image_noise", "chance": 1.0}])
    for slot in range(8):
        params = row(augmenter, slot)
        label = augmenter({"img": mask, "annotation": mask}, params)["annotation"]
        moved = np.roll(RandomTransformer(**{k: v for k, v in transformer.items() if k != "name"}).apply_label(
            mask, params), 1, axis=1)
        np.testing.assert_array_equal(label, moved)
        assert set(np.unique(label)) <= {0.0, 1.0}


def test_a_geometric_part_must_define_how_labels_move():
    with pytest.raises(TypeError, match="declared geometric but defines no apply_label"):
        class Shift(Invert):
            geometric = True


def test_a_photometric_part_may_not_touch_labels():
    with pytest.raises(TypeError, match="defines apply_label but is not declared geometric"):
        class Tint(Invert):
            def apply_label(self, label, params):
                return label + 1


def test_a_kernel_that_breaks_its_declared_output_is_named():
    class Crop(Invert):
        def apply(self, image, params):
            return image[1:]

    class Widen(Invert):
        def apply(self, image, params):
            return image.astype(np.float64)

    image = np.zeros((4, 4, 3), np.float32)
    with pytest.raises(ValueError, match=r"'Crop' turned shape \(4, 4, 3\) into \(3, 4, 3\)"):
        ImageAugmenter(parts=[Crop()]).augment_image(image, {"invert": False})
    with pytest.raises(ValueError, match="'Widen' returned float64 but declares dtype 'float32'"):
        ImageAugmenter(parts=[Widen()]).augment_image(image, {"invert": False})


def test_a_part_that_declares_a_new_shape_may_change_it():
    class Crop(Invert):
        output = OutputSpec(keeps_shape=False)

        def apply(self, image, params):
            return image[1:]

    out = ImageAugmenter(parts=[Crop()]).augment_image(np.zeros((4, 4, 3), np.float32), {"invert": False})
    assert out.shape == (3, 4, 3)
