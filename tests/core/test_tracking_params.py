"""Tracking names and values: settings as dot-named params without secrets within MLflow's limits, paired metrics,
and which trackers a job gets."""
import logging

import pytest

from brevetti_core import tracking
from brevetti_core.tracking.config import current
from brevetti_core.tracking.metrics import epoch_metrics, mlflow_name, tensorboard_tag
from brevetti_core.tracking.params import KEY_LIMIT, PARAM_VALUE_LIMIT, fitted, flatten, safe_name, settings_params


@pytest.fixture(autouse=True)
def no_chosen_trackers():
    """Each test starts from the environment alone, and leaves no enable()/disable() behind."""
    tracking.enable()
    yield
    tracking.enable()


def test_nested_settings_become_command_line_dot_names():
    settings = {"epochs": 3, "data": {"batch_size": 16, "image": {"target_size": [64, 64]}}, "empty": {}}
    assert flatten(settings) == {"epochs": 3, "data.batch_size": 16, "data.image.target_size": [64, 64], "empty": {}}


def test_non_string_values_are_json_text_in_mlflow():
    values, changed = fitted({"augment": True, "size": [64, 64], "seed": None, "name": "vials"}, PARAM_VALUE_LIMIT)
    assert values == {"augment": "true", "size": "[64, 64]", "seed": "null", "name": "vials"}
    assert changed == []


def test_settings_named_like_credentials_are_masked():
    params = settings_params({"storage": {"api_key": "k-123", "password": "hunter2", "aws_secret": "s3cr3t"},
                              "lr": 0.1})
    assert params == {"storage.api_key": "***", "storage.password": "***", "storage.aws_secret": "***", "lr": 0.1}


def test_credentials_inside_values_and_the_api_key_are_redacted():
    params = settings_params({"source": "https://bob:pa55word@example.com/data?token=abc123&page=2",
                              "note": "trained with key zq-77-secret", "urls": ["s3://u:pw@bucket/x"]},
                             secret="zq-77-secret")
    text = repr(params)
    for leaked in ("pa55word", "abc123", "zq-77-secret", ":pw@"):
        assert leaked not in text
    assert params["source"].startswith("https://bob:***@example.com/data?token=***")


def test_an_overlong_value_is_cut_and_ends_in_a_hash_of_the_whole():
    long_a, long_b = "a" * 7000, "a" * 6999 + "b"
    values, changed = fitted({"x": long_a, "y": long_b}, PARAM_VALUE_LIMIT)
    assert len(values["x"]) == PARAM_VALUE_LIMIT and values["x"][-9] == "~"
    assert values["x"] != values["y"]
    assert changed == ["x", "y"]


def test_overlong_and_invalid_names_are_made_safe():
    assert safe_name("classes.ok?/bad") == "classes.ok__bad"
    assert safe_name("..hidden") == "_..hidden"
    long_name = "data." + "n" * 300
    assert len(safe_name(long_name)) == KEY_LIMIT and safe_name(long_name) != safe_name(long_name + "x")


def test_keras_and_torch_hook_names_meet_as_one_train_devel_pair():
    keras = epoch_metrics({"loss": 0.5, "val_loss": 0.7, "accuracy": 0.8, "val_accuracy": 0.75})
    torch = epoch_metrics({"train_loss": 0.5, "devel_loss": 0.7, "train_accuracy": 0.8, "devel_accuracy": 0.75})
    assert keras == torch == {("loss", "train"): 0.5, ("loss", "devel"): 0.7, ("accuracy", "train"): 0.8,
                              ("accuracy", "devel"): 0.75}
    assert [mlflow_name(*key) for key in keras] == ["train_loss", "devel_loss", "train_accuracy", "devel_accuracy"]
    assert [tensorboard_tag(*key) for key in keras] == ["loss/train", "loss/devel", "accuracy/train",
                                                        "accuracy/devel"]


def test_epoch_logs_keep_numbers_only():
    import numpy as np

    logs = {"epoch": 3, "time": "2026-01-01", "loss": np.float32(0.25), "steps": 10, "converged": True,
            "name": "x", "history": [1, 2]}
    assert epoch_metrics(logs) == {("loss", "train"): 0.25, ("steps", "train"): 10.0}


def test_mlflow_follows_the_tracking_uri_variable(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "vials")
    config = current()
    assert (config.mlflow_uri, config.experiment) == ("http://127.0.0.1:5000", "vials")


def test_no_tracking_uri_means_no_mlflow(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert current().mlflow_uri is None


def test_tensorboard_is_on_when_installed_and_off_by_the_variable(monkeypatch):
    monkeypatch.delenv("BREVETTI_TENSORBOARD", raising=False)
    assert current().tensorboard is True
    monkeypatch.setenv("BREVETTI_TENSORBOARD", "off")
    assert current().tensorboard is False


def test_an_unreadable_tensorboard_switch_is_named_in_a_warning(monkeypatch, caplog):
    monkeypatch.setenv("BREVETTI_TENSORBOARD", "maybe")
    with caplog.at_level(logging.WARNING, logger="brevetti_core.tracking"):
        assert current().tensorboard is True
    assert "BREVETTI_TENSORBOARD='maybe'" in caplog.text


def test_enable_and_disable_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    tracking.disable()
    assert not current().active
    tracking.enable("sqlite:///runs.db", experiment="mine", tensorboard=False)
    assert current() == tracking.TrackingConfig("sqlite:///runs.db", "mine", False)
