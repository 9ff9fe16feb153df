"""What a settings type declares: its fields by name (models and dataclasses), and an error for every key it does not.

Unlike the reference there is no ``extra`` bucket: an unknown setting at any depth (even below a nested model that
would ignore it) is an error naming its dotted path and close matches.
"""
from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Iterator
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

MISSING = dataclasses.MISSING


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without Annotated/Optional wrappers, and whether None is allowed."""
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            optional = optional or len(members) < len(get_args(annotation))
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation, optional


def declared_fields(tp: Any) -> dict[str, tuple[Any, Any]] | None:
    """{name: (annotation, default)} of a model or dataclass type (aliases included); None for other types.

    A required field's default is MISSING.
    """
    if not isinstance(tp, type):
        return None
    declared: dict[str, FieldInfo] | None
    if issubclass(tp, BaseModel):
        declared = tp.model_fields
    elif dataclasses.is_dataclass(tp):
        declared = getattr(tp, "__pydantic_fields__", None)
        if declared is None:
            hints = typing.get_type_hints(tp, include_extras=True)
            return {f.name: (hints.get(f.name, Any), _dataclass_default(f)) for f in dataclasses.fields(tp)}
    else:
        return None
    out = {}
    for name, info in declared.items():
        default = MISSING if info.is_required() else info.get_default(call_default_factory=True)
        out[name] = (info.annotation, default)
        if isinstance(info.alias, str):
            out[info.alias] = out[name]
    return out


def unknown_settings(tp: Any, data: dict, prefix: str = "", source: str | None = None) -> Iterator[str]:
    """A message for every key of `data` (at any depth) that `tp` does not declare."""
    fields = declared_fields(unwrap(tp)[0])
    if fields is None or _allows_extra(unwrap(tp)[0]):
        return
    for key, value in data.items():
        if key not in fields:
            yield unknown_message(prefix, str(key), fields, source)
            continue
        yield from _unknown_below(fields[key][0], value, f"{prefix}{key}.", source)


def unknown_message(prefix: str, key: str, fields: dict, source: str | None = None) -> str:
    """"unknown setting 'a.b' (from SOURCE); did you mean ...?" with up to three close matches among `fields`."""
    names = [f"{prefix}{name}" for name in fields]
    close = [f"{prefix}{name}" for name in difflib.get_close_matches(key, list(fields), n=3, cutoff=0.6)]
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    elif names:
        hint = "known settings here: " + ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    else:
        hint = "this settings class declares no settings"
    origin = f" (from {source})" if source else ""
    return f"unknown setting '{prefix}{key}'{origin}; {hint}"


def _unknown_below(annotation: Any, value: Any, prefix: str, source: str | None) -> Iterator[str]:
    """Unknown keys inside `value`: through nested models, dict values and list/tuple/set elements."""
    tp = unwrap(annotation)[0]
    if isinstance(value, dict) and declared_fields(tp) is not None:
        yield from unknown_settings(tp, value, prefix, source)
        return
    origin, args = get_origin(tp), get_args(tp)
    if isinstance(value, dict) and origin is dict and len(args) == 2:
        for key, item in value.items():
            yield from _unknown_below(args[1], item, f"{prefix}{key}.", source)
    elif isinstance(value, (list, tuple)) and origin in (list, set, frozenset, tuple) and args:
        if origin is tuple and (len(args) != 2 or args[1] is not Ellipsis):
            element_types = list(args)
        else:
            element_types = [args[0]] * len(value)
        for index, (element_type, item) in enumerate(zip(element_types, value)):
            yield from _unknown_below(element_type, item, f"{prefix}{index}.", source)


def _dataclass_default(field: dataclasses.Field) -> Any:
    if field.default is not MISSING:
        return field.default
    if field.default_factory is not MISSING:
        return field.default_factory()
    return MISSING


def _allows_extra(tp: Any) -> bool:
    config = getattr(tp, "model_config", None) or getattr(tp, "__pydantic_config__", None) or {}
    return config.get("extra") == "allow"
