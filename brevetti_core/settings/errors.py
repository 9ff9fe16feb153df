"""SettingsError and the wording of its messages: the setting, what it expects, the value given and its source."""
from __future__ import annotations

from pydantic_core import ErrorDetails


class SettingsError(ValueError):
    """A setting is unknown or has a value of the wrong type; the message names it and its source."""


# pydantic's error types as what the setting expects; any other type is worded with pydantic's own message.
EXPECTED = {
    "float_parsing": "a float", "float_type": "a float", "finite_number": "a finite number",
    "int_parsing": "an integer", "int_type": "an integer", "int_from_float": "an integer",
    "bool_parsing": "a boolean (true/false/1/0/yes/no)", "bool_type": "a boolean (true/false/1/0/yes/no)",
    "string_type": "a string", "dict_type": "a dict (JSON object)", "list_type": "a list (JSON array)",
    "tuple_type": "a tuple (JSON array)", "set_type": "a set (JSON array)",
    "model_type": "an object (JSON object)", "model_attributes_type": "an object (JSON object)",
    "dataclass_type": "an object (JSON object)", "literal_error": "one of the allowed values",
    "enum": "one of the allowed values",
}


def describe(error: ErrorDetails, path: str, source: str) -> str:
    """One pydantic error about setting `path` as "setting 'a.b' expects a float, got 'fast' (from --a.b)"."""
    if error["type"] == "missing":
        return f"setting '{path}' is required: set it in the job definition's settings or with --{path} VALUE"
    expected = EXPECTED.get(error["type"])
    if error["type"] in ("literal_error", "enum") and "expected" in error.get("ctx", {}):
        expected = f"one of {error['ctx']['expected']}"
    got = error.get("input")
    if expected:
        return f"setting '{path}' expects {expected}, got {got!r} (from {source})"
    if error["type"] == "value_error":
        # A validator's own message already says what is wrong and what would be right.
        return f"setting '{path}' is invalid: {error['ctx']['error']} (from {source})"
    return f"setting '{path}' is invalid: {error['msg']}, got {got!r} (from {source})"
