"""``--help`` of a job script: every setting as its flag, type, default and description, nested ones dotted."""
from __future__ import annotations

import dataclasses
import json
import textwrap
import types
import typing
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from .argv import JOB_ARGUMENTS
from .schema import MISSING

_JOB_ARGUMENT_HELP = {
    "job_id": "run the job defined in <data root>/<ID>/info.json (default: a new local job from these defaults)",
    "api_key": "the platform's api key (used for requests, never written to a file or log)",
    "info_file": "read the job definition from this file instead",
}


def settings_help(settings_cls: type, script: str, job_name: str) -> str:
    """The help text of a job script whose job has settings `settings_cls`."""
    lines = [f"usage: {script} [--job_id ID] [--api_key KEY] [--info_file PATH] [--SETTING VALUE ...]", "",
             settings_listing(settings_cls, argv_heading(job_name))]
    lines += ["", "job arguments:"]
    lines += [f"  --{name}  {_JOB_ARGUMENT_HELP[name]}" for name in JOB_ARGUMENTS]
    lines += ["  -h, --help  show this message and exit (no job is created)", ""]
    return "\n".join(lines)


def argv_heading(job_name: str) -> str:
    """The heading of a job's settings given on the command line."""
    return (f"{job_name} settings (--name VALUE or --name=VALUE; nested settings as --a.b VALUE; dicts and lists as "
            "JSON; a dict[...] setting is replaced whole, not merged):")


def settings_listing(settings_cls: type, heading: str, prefix: str = "--") -> str:
    """`heading`, then the settings of `settings_cls` (dotted names after `prefix`), one a line with its type and
    default, its description below."""
    lines = [heading]
    for flag, kind, default, description in _entries(settings_cls, _instance_defaults(settings_cls), ""):
        lines.append(f"  {prefix}{flag}  {kind}" + ("" if default is MISSING else f"  (default: {_shown(default)})"))
        if description:
            lines += textwrap.wrap(description, width=100, initial_indent=" " * 6, subsequent_indent=" " * 6)
    return "\n".join(lines)


def _entries(tp: type, defaults: Any, prefix: str) -> Iterator[tuple[str, str, Any, str]]:
    """(dotted name, type, default, description) of each leaf setting of a model or dataclass `tp`."""
    for name, annotation, default, description in _fields(tp):
        value = getattr(defaults, name, default) if defaults is not None else default
        nested = _structured(annotation)
        if nested is not None and (value is MISSING or isinstance(value, nested)):
            yield from _entries(nested, None if value is MISSING else value, f"{prefix}{name}.")
            continue
        yield f"{prefix}{name}", type_name(annotation), value, description


def _fields(tp: Any) -> Iterator[tuple[str, Any, Any, str]]:
    if issubclass(tp, BaseModel):
        for name, info in tp.model_fields.items():
            default = MISSING if info.is_required() else info.get_default(call_default_factory=True)
            yield name, info.annotation, default, info.description or ""
        return
    pydantic_fields = getattr(tp, "__pydantic_fields__", {})
    hints = typing.get_type_hints(tp, include_extras=True)
    for field in dataclasses.fields(tp):
        if field.default is not MISSING:
            default = field.default
        elif field.default_factory is not MISSING:
            default = field.default_factory()
        else:
            default = MISSING
        description = getattr(pydantic_fields.get(field.name), "description", None)
        yield field.name, hints.get(field.name, field.type), default, description or ""


def _instance_defaults(settings_cls: type) -> Any:
    """An instance of the defaults when every setting has one (its nested defaults are the effective ones)."""
    try:
        return settings_cls()
    except (TypeError, ValueError):
        return None


def _structured(annotation: Any) -> type | None:
    """The model or dataclass type an annotation holds (Optional and Annotated unwrapped), else None."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            return None
        annotation = members[0]
    if isinstance(annotation, type) and (issubclass(annotation, BaseModel) or dataclasses.is_dataclass(annotation)):
        return annotation
    return None


def type_name(annotation: Any) -> str:
    """A short readable type: ``int``, ``list[str] | None``, ``'torch' | 'tf'``."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return type_name(args[0])
    if origin is Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is not None:
        inner = ", ".join("..." if a is Ellipsis else type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if annotation is type(None):
        return "None"
    if annotation is Any:
        return "any"
    return getattr(annotation, "__name__", str(annotation))


def _shown(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
