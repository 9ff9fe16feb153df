"""One command-line setting's text as a value of the type its dotted path declares.

Structured types (nested models and dataclasses, dict/list/tuple/set) are read as JSON and kept as plain data, so
that unknown keys are refused and a partial nested value merges with the class default before the whole tree is
validated. For every other type pydantic decides: the text stays text where it reads as the type
(``TypeAdapter.validate_strings``: numbers, booleans as true/false/1/0/yes/no/on/off, enums, dates, paths) and becomes
the value it spells in JSON where only that reads (``validate_json``: numeric literals). For Any and unions JSON comes
first, so that ``--x 3`` is a number and ``--x '["a"]'`` a list, as they would be in a definition file.
"""
from __future__ import annotations

import json
import types
from collections.abc import Callable
from typing import Any, Union, get_origin

from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json

from .argv import Override
from .errors import SettingsError
from .schema import declared_fields, unknown_message, unwrap

_STRUCTURED = (dict, list, tuple, set, frozenset)
_NULLS = ("null", "none")


def override_tree(settings_cls: type, override: Override) -> dict:
    """`--a.b 42` as {"a": {"b": <42 read by the type of a.b>}}; unknown paths are refused with close matches."""
    parts = override.path.split(".")
    annotation: Any = settings_cls
    for depth, part in enumerate(parts):
        fields = declared_fields(unwrap(annotation)[0])
        parent = ".".join(parts[:depth])
        if fields is None:
            raise SettingsError(
                f"setting '{parent}' has no sub-setting '{part}' (from {override.flag}); "
                f"give its whole value as JSON: --{parent} '...'"
            )
        if part not in fields:
            raise SettingsError(unknown_message(f"{parent}." if parent else "", part, fields, override.flag))
        annotation = fields[part][0]
    value: Any = read_value(annotation, override)
    for part in reversed(parts):
        value = {part: value}
    return value


def read_value(annotation: Any, override: Override) -> Any:
    """The override's text as a value of `annotation`; a bare flag means true for a boolean."""
    tp, optional = unwrap(annotation)
    text = override.text
    if text is None:
        if tp is bool:
            return True
        raise SettingsError(f"setting '{override.path}' needs a value (from {override.flag})")
    if optional and text.lower() in _NULLS:
        return None
    if tp in _STRUCTURED or get_origin(tp) in _STRUCTURED or declared_fields(tp) is not None:
        return _read_json(text, override)
    return _read_scalar(annotation, text, json_first=_is_choice(tp))


def _read_json(text: str, override: Override) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(
            f"setting '{override.path}' expects JSON, got {text!r} (from {override.flag}): "
            f"{error.msg} at column {error.colno}"
        ) from None


def _read_scalar(annotation: Any, text: str, json_first: bool) -> Any:
    """The text, or the value it spells in JSON, whichever pydantic reads as `annotation` (JSON first for a choice).

    Only the form is chosen here; validating the whole tree converts it, so that validators run once and a text
    that fits neither form is reported (naming its flag) together with every other wrong value of every layer.
    """
    adapter = TypeAdapter(annotation)
    if _reads(adapter.validate_json, text) and (json_first or not _reads(adapter.validate_strings, text)):
        return from_json(text)
    return text


def _reads(reading: Callable[[str], Any], text: str) -> bool:
    try:
        reading(text)
    except ValidationError:
        return False
    return True


def _is_choice(tp: Any) -> bool:
    """Whether the text's JSON form decides what the value is: Any and unions of several types."""
    return tp is Any or get_origin(tp) in (Union, types.UnionType)
