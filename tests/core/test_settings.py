"""JobSettings: nested types, argv overrides, layering precedence, and the errors for bad input."""
import dataclasses
import subprocess
import sys
from typing import Literal

import pytest
from pydantic import BaseModel, Field, ValidationError
from pydantic.dataclasses import dataclass as pydantic_dataclass

from brevetti_core.settings import JobSettings, SettingsError, load_settings, parse_argv


class Optimizer(BaseModel):
    lr: float = 0.1
    name: str = "sgd"


@dataclasses.dataclass
class Flips:
    horizontal: bool = False
    probability: float = 0.5


@pydantic_dataclass
class Schedule:
    epochs: int = 10


class Settings(JobSettings):
    x: int = Field(default=1, description="an integer", advanced=False)
    optimizer: Optimizer = Optimizer(name="adam")
    flips: Flips = Flips()
    schedule: Schedule = Schedule()
    verbose: bool = False
    mapping: dict[str, int] = Field(default_factory=dict)
    classes: list[str] = Field(default_factory=list)
    size: tuple[int, int] = (64, 64)
    threshold: float | None = None
    advanced_knob: int = Field(default=0, advanced=True)
    workers: Literal[1, 2, 4] = 1
    seed: int | str = 0
    patience: int = Field(default=5, gt=0)


def from_argv(argv, *layers):
    _, overrides = parse_argv(argv)
    return load_settings(Settings, list(layers), overrides)


def test_defaults_when_nothing_is_given():
    s = from_argv([])
    assert s == Settings()
    assert s.optimizer == Optimizer(lr=0.1, name="adam")


def test_space_and_equals_forms_set_top_level_and_nested_values():
    s = from_argv(["--x", "3", "--optimizer.lr=0.5", "--schedule.epochs", "7", "--flips.horizontal", "yes"])
    assert (s.x, s.optimizer.lr, s.schedule.epochs, s.flips.horizontal) == (3, 0.5, 7, True)


def test_partial_nested_override_keeps_the_class_defaults_other_sub_settings():
    assert from_argv(["--optimizer.lr", "0.01"]).optimizer == Optimizer(lr=0.01, name="adam")


def test_json_values_for_dict_list_tuple_and_nested_model_fields():
    s = from_argv(["--mapping", '{"a": 1}', "--classes", '["cat", "dog"]', "--size=[32, 16]",
                   "--optimizer", '{"lr": 2}'])
    assert s.mapping == {"a": 1} and s.classes == ["cat", "dog"] and s.size == (32, 16)
    assert s.optimizer == Optimizer(lr=2, name="adam")


@pytest.mark.parametrize("text, expected", [("true", True), ("1", True), ("yes", True), ("false", False),
                                            ("0", False), ("no", False), ("No", False),
                                            ("on", True), ("off", False)])
def test_boolean_words(text, expected):
    assert from_argv(["--verbose", text]).verbose is expected


def test_bare_boolean_flag_means_true():
    assert from_argv(["--verbose", "--x", "2"]).verbose is True


def test_numeric_literal_is_read_as_its_json_value():
    assert from_argv(["--workers", "4"]).workers == 4


@pytest.mark.parametrize("text, expected", [("3", 3), ("abc", "abc"), ('"3"', "3")])
def test_union_setting_reads_json_first_then_the_text(text, expected):
    assert from_argv(["--seed", text]).seed == expected


def test_null_clears_an_optional_setting():
    assert from_argv(["--threshold", "null"], ({"threshold": 0.5}, "info.json")).threshold is None


def test_precedence_is_defaults_then_definition_then_argv():
    s = from_argv(["--x", "3"], ({"x": 2, "optimizer": {"lr": 0.2}, "verbose": True}, "info.json"))
    assert (s.x, s.optimizer.lr, s.optimizer.name, s.verbose) == (3, 0.2, "adam", True)


def test_job_arguments_are_split_from_settings():
    job_args, overrides = parse_argv(["--job_id", "abc", "--api_key=k", "--info_file", "/i.json", "--x", "1"])
    assert job_args == {"job_id": "abc", "api_key": "k", "info_file": "/i.json"}
    assert [o.path for o in overrides] == ["x"]


def test_dashes_in_flag_names_mean_underscores():
    assert from_argv(["--advanced-knob", "4"]).advanced_knob == 4


def test_wrong_type_from_argv_names_path_value_and_flag():
    with pytest.raises(SettingsError) as error:
        from_argv(["--optimizer.lr", "fast"])
    assert str(error.value) == "setting 'optimizer.lr' expects a float, got 'fast' (from --optimizer.lr)"


def test_wrong_type_from_definition_names_the_file():
    with pytest.raises(SettingsError) as error:
        from_argv([], ({"schedule": {"epochs": "many"}}, "/jobs/1/info.json"))
    assert str(error.value) == "setting 'schedule.epochs' expects an integer, got 'many' (from /jobs/1/info.json)"


def test_wrong_values_from_every_source_are_reported_together():
    with pytest.raises(SettingsError) as error:
        from_argv(["--x", "three"], ({"optimizer": {"lr": "fast"}}, "/jobs/1/info.json"))
    assert str(error.value).splitlines() == [
        "setting 'x' expects an integer, got 'three' (from --x)",
        "setting 'optimizer.lr' expects a float, got 'fast' (from /jobs/1/info.json)",
    ]


def test_constraint_violation_gives_pydantics_reason_and_the_flag():
    with pytest.raises(SettingsError) as error:
        from_argv(["--patience", "-1"])
    assert str(error.value) == (
        "setting 'patience' is invalid: Input should be greater than 0, got '-1' (from --patience)"
    )


def test_bad_boolean_names_the_accepted_words():
    expected = r"setting 'verbose' expects a boolean \(true/false/1/0/yes/no\), got 'maybe' \(from --verbose\)"
    with pytest.raises(SettingsError, match=expected):
        from_argv(["--verbose", "maybe"])


def test_malformed_json_names_the_flag():
    with pytest.raises(SettingsError, match=r"setting 'mapping' expects JSON, got '\{a: 1\}' \(from --mapping\)"):
        from_argv(["--mapping", "{a: 1}"])


def test_unknown_setting_suggests_close_matches():
    with pytest.raises(SettingsError) as error:
        from_argv(["--optimiser.lr", "1"])
    assert str(error.value) == "unknown setting 'optimiser' (from --optimiser.lr); did you mean 'optimizer'?"


def test_unknown_nested_key_in_definition_is_an_error_not_dropped():
    with pytest.raises(SettingsError) as error:
        from_argv([], ({"optimizer": {"lr": 1, "momentun": 0.9}}, "/jobs/1/info.json"))
    assert str(error.value) == (
        "unknown setting 'optimizer.momentun' (from /jobs/1/info.json); "
        "known settings here: optimizer.lr, optimizer.name"
    )


def test_unknown_key_inside_a_json_value_is_an_error():
    expected = r"unknown setting 'optimizer.lrr' \(from --optimizer\); did you mean 'optimizer.lr'\?"
    with pytest.raises(SettingsError, match=expected):
        from_argv(["--optimizer", '{"lrr": 1}'])


def test_sub_setting_of_a_plain_value_is_refused():
    with pytest.raises(SettingsError, match=r"setting 'x' has no sub-setting 'y' \(from --x.y\)"):
        from_argv(["--x.y", "1"])


def test_stray_positional_argument_is_refused():
    with pytest.raises(SettingsError, match="unexpected argument 'oops'"):
        parse_argv(["oops"])


def test_flag_without_value_for_a_non_boolean_is_refused():
    with pytest.raises(SettingsError, match=r"setting 'x' needs a value \(from --x\)"):
        from_argv(["--x"])


def test_missing_required_setting_says_how_to_set_it():
    class Required(JobSettings):
        epochs: int

    with pytest.raises(SettingsError, match=r"setting 'epochs' is required: .* --epochs VALUE"):
        load_settings(Required)


def test_direct_construction_refuses_unknown_nested_keys():
    with pytest.raises(ValidationError, match=r"unknown setting 'optimizer.lrr'; did you mean 'optimizer.lr'\?"):
        Settings(optimizer={"lrr": 1})


def test_field_with_extra_keywords_is_accepted_without_deprecation_noise():
    # The seeds declare settings with `Field(..., advanced=False)`; even with deprecation warnings
    # turned into errors that must work and keep `advanced` in the schema.
    code = (
        "from pydantic import Field\n"
        "from brevetti_core import JobSettings\n"
        "class Seed(JobSettings):\n"
        "    my_custom_int_setting: int = Field(default=25, description='My own custom integer setting',\n"
        "                                       advanced=False)\n"
        "schema = Seed.model_json_schema()\n"
        "print(Seed().my_custom_int_setting, schema['properties']['my_custom_int_setting']['advanced'])\n"
    )
    done = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["25", "False"]
    assert done.stderr == ""


def test_platform_schema_lists_fields_with_dotted_names_and_visibility():
    fields = {f["model"]: f for f in Settings.platform_schema()["fields"]}
    assert fields["x"] == {"model": "x", "label": "X", "type": "number", "default": 1, "help": "an integer",
                           "required": False, "visible": True, "step": 1}
    assert fields["optimizer"]["type"] == "label"
    assert fields["optimizer.lr"]["type"] == "number" and fields["flips.horizontal"]["type"] == "checkbox"
    assert fields["mapping"]["type"] == "json" and fields["optimizer.name"]["type"] == "text"
    assert fields["advanced_knob"]["visible"] is False
