"""VialsJob's settings, split and bookkeeping, without a framework (training runs in tests/torch and tests/tf)."""
import shutil
import sys

import pytest

from brevetti_core import adapters
from brevetti_core.adapters import FrameworkUnavailable
from brevetti_core.settings import SettingsError, load_settings, parse_argv
from brevetti_demo import generate_vials
from brevetti_demo.job import (
    ITEM_ID,
    SeenBatches,
    VialsSettings,
    check_classes,
    image_size,
    split_counts,
    training_module,
)
from brevetti_demo.vials import CLASSES


@pytest.fixture(scope="module")
def vials(tmp_path_factory):
    return generate_vials(tmp_path_factory.mktemp("vials") / "vials", items_per_class=5, duplicates=2)


def settings_from(argv):
    return load_settings(VialsSettings, [], parse_argv(argv)[1])


def test_defaults_train_the_three_vial_classes_at_64_pixels_split_by_vial():
    settings = VialsSettings()
    assert settings.framework == "torch" and not settings.augment
    assert settings.data.classes == list(CLASSES)
    assert settings.data.image["target_size"] == [64, 64]
    assert settings.data.split.uniqueness == ITEM_ID and settings.data.split.stratification == ["folder"]


def test_command_line_overrides_epochs_batch_size_and_framework():
    settings = settings_from(["--epochs", "3", "--data.batch_size", "8", "--framework", "tf"])
    assert (settings.epochs, settings.data.batch_size, settings.framework) == (3, 8, "tf")
    assert settings.data.classes == list(CLASSES)  # the rest of the data block keeps the demo's defaults


def test_unknown_framework_is_refused_naming_the_setting():
    with pytest.raises(SettingsError, match=r"setting 'framework' expects one of 'torch' or 'tf', got 'jax'"):
        settings_from(["--framework", "jax"])


def test_every_shot_of_a_vial_gets_one_purpose_and_unknown_is_left_out(vials, tmp_path):
    settings = settings_from(["--data.datasets", f'["{vials}"]'])
    samples = settings.data.samples(id_path=str(tmp_path / "ids.csv"))
    assert set(samples["folder"]) == set(CLASSES)
    item = samples["path"].str.extract(ITEM_ID)[0]
    assert samples.groupby(item)["purpose"].nunique().max() == 1
    assert (tmp_path / "ids.csv").exists()


def test_split_counts_give_samples_per_purpose_and_class(vials):
    samples = settings_from(["--data.datasets", f'["{vials}"]']).data.samples()
    counts = split_counts(samples)
    assert set(counts) == {"train", "devel"}
    assert sum(n for per_class in counts.values() for n in per_class.values()) == len(samples)
    assert counts["devel"] == samples[samples["purpose"] == "devel"]["folder"].value_counts().to_dict()


def test_image_size_is_the_pipelines_target_size(vials):
    settings = settings_from(["--data.datasets", f'["{vials}"]', "--data.image", '{"target_size": [48, 40]}'])
    generator = settings.data.generator(settings.data.samples(), "numpy")
    assert image_size(generator) == (48, 40)


def test_image_settings_without_a_target_size_are_refused(vials):
    settings = settings_from(["--data.datasets", f'["{vials}"]', "--data.image", "{}"])
    generator = settings.data.generator(settings.data.samples(), "numpy")
    with pytest.raises(ValueError, match="data.image needs a target_size"):
        image_size(generator)


def test_seen_batches_are_numbered_per_purpose_and_epoch():
    seen = SeenBatches()
    for purpose, epoch, digest in [("train", 0, "a"), ("train", 0, "b"), ("devel", 0, "c"), ("train", 1, "d")]:
        seen(purpose, epoch, digest)
    assert seen.batches == {"train": [[0, 0, "a"], [0, 1, "b"], [1, 0, "d"]], "devel": [[0, 0, "c"]]}


def test_the_digest_changes_with_any_batch():
    first, second = SeenBatches(), SeenBatches()
    first("train", 0, "a")
    second("train", 0, "b")
    assert first.digest() != second.digest()
    second.batches["train"][0][2] = "a"
    assert first.digest() == second.digest()


def test_a_missing_framework_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "brevetti_tf", None)  # what an environment without tensorflow looks like
    monkeypatch.setattr(adapters, "_loaded", {})
    with pytest.raises(FrameworkUnavailable, match=r'pip install -c constraints.txt -e "\.\[tf\]"'):
        training_module("tf")


def test_datasets_without_the_classes_are_refused_with_the_setting_to_change(tmp_path):
    generate_vials(tmp_path / "other", items_per_class=1, duplicates=0, annotations=False)
    for name in CLASSES:
        shutil.rmtree(tmp_path / "other" / name)  # only unknown/ is left
    settings = settings_from(["--data.datasets", f'["{tmp_path / "other"}"]'])
    samples = settings.data.samples()
    with pytest.raises(ValueError, match=r"no images of the classes \['good', 'missing_cap', 'failed_cap'\] "
                                         r"in .*other: set data.classes to your class folder names"):
        check_classes(samples, settings.data.class_names(samples), settings.data)


def test_a_class_without_images_is_warned_about(vials, caplog):
    settings = settings_from(["--data.datasets", f'["{vials}"]', "--data.classes", '["good", "cracked"]'])
    samples = settings.data.samples()
    check_classes(samples, settings.data.class_names(samples), settings.data)
    assert "Class 'cracked' has no images" in caplog.text
