"""DataSettings checks its dict-valued settings (ImagePipeline and ImageAugmenter keywords) when the job is made."""
import os

import pytest
from pydantic import Field

from brevetti_core.data_settings import DataSettings
from brevetti_core.job import Job
from brevetti_core.settings import JobSettings, SettingsError


class ImageSettings(JobSettings):
    data: DataSettings = Field(default_factory=DataSettings)


class ImageJob(Job):
    settings: ImageSettings


@pytest.mark.parametrize("flag, value, message", [
    ("--data.image", '{"target_sise": [64, 64]}',
     "ImagePipeline has no setting 'target_sise'; did you mean 'target_size'?"),
    ("--data.image", '{"target_size": [64]}', "target_size must be (height, width) with positive integers"),
    ("--data.image", '{"rescale": "imagenett"}', "rescale must be None, 'imagenet'"),
    ("--data.image", '{"color_mode": "cmyk"}', "color_mode must be one of ['bayer', 'greyscale', 'rgb']"),
    ("--data.augmentation", '{"random_transformer": {"rotaton": 3}}',
     "random_transformer has no setting 'rotaton'; did you mean 'rotate' or 'rotate_chance'?"),
    ("--data.augmentation", '{"flip_lr": true}',
     "ImageAugmenter has no setting 'flip_lr'; ImageAugmenter takes image_keys, label_keys"),
    ("--data.augmentation", '{"parts": [{"name": "random_transfomer"}]}',
     "unknown augmentation part 'random_transfomer' (did you mean 'random_transformer'?)"),
    ("--data.augmentation", '{"parts": [{"name": "image_noise", "stdev": 0.1}]}',
     "parts[0] (image_noise) has no setting 'stdev'; did you mean 'stddev'?"),
])
def test_a_wrong_dict_setting_is_refused_at_init_naming_the_flag(data_root, flag, value, message):
    with pytest.raises(SettingsError) as raised:
        ImageJob.init(argv=[flag, value])
    assert message in str(raised.value) and f"(from {flag})" in str(raised.value)
    assert f"setting '{flag[2:]}' is invalid" in str(raised.value)


def test_a_refused_dict_setting_creates_no_job(data_root):
    with pytest.raises(SettingsError):
        ImageJob.init(argv=["--data.image", '{"target_sise": [64, 64]}'])
    assert os.listdir(data_root) == []


def test_a_wrong_dict_setting_in_the_job_definition_names_the_file(data_root, tmp_path):
    info = tmp_path / "info.json"
    info.write_text('{"settings": {"data": {"image": {"antialis": true}}}}')
    with pytest.raises(SettingsError, match=rf"did you mean 'antialias'\? \(from {info}\)"):
        ImageJob.init(info_file=str(info), argv=[])


def test_valid_dict_settings_are_kept_as_given(data_root):
    job = ImageJob.init(argv=["--data.image", '{"target_size": [32, 48], "rescale": "unit"}',
                              "--data.augmentation", '{"parts": [{"name": "image_noise", "stddev": 0.02}]}'])
    assert job.settings.data.image == {"target_size": [32, 48], "rescale": "unit"}
    assert job.settings.data.augmentation == {"parts": [{"name": "image_noise", "stddev": 0.02}]}


def test_no_augmentation_is_allowed():
    assert DataSettings(augmentation=None).augmentation is None
