"""Job settings: a typed tree (pydantic v2) filled from class defaults < the job definition < argv.

Settings are read from ``--name VALUE``, ``--a.b VALUE`` or ``--a.b=VALUE``; the target field's
type decides how the text is read: JSON for dict/list/tuple/set and nested-model fields,
true/false/1/0/yes/no for booleans, the raw text for everything else (pydantic then parses
numbers). A boolean flag given without a value means true.

Why a small parser of our own rather than pydantic-settings' CLI source (tried, 2.16): that source
is built for ``BaseSettings`` (it also reads environment variables), its unknown-flag error is
argparse's (no close matches), and its type errors name the field but not the flag or the file
a value came from. Layering the job definition between class defaults and argv would also need
its own source machinery; here it is one merge.

Unlike the reference there is no ``extra`` bucket: an unknown setting at any depth (even below a
nested model that would ignore it) is an error naming its dotted path and close matches.
A partial nested value (``--optimizer.lr 0.1``) keeps the other sub-settings of the class
default, not of the nested class.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import types
import typing
import warnings
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.warnings import PydanticDeprecatedSince20

# The reference's idiom `Field(..., advanced=False)` (used by the seeds) must keep working
# quietly; pydantic still accepts the extra keyword and puts it in the JSON schema.
warnings.filterwarnings("ignore", message="Using extra keyword arguments on `Field`", category=PydanticDeprecatedSince20)

JOB_ARGUMENTS = ("job_id", "api_key", "info_file")
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_JSON_CONTAINERS = (dict, list, tuple, set, frozenset)
_MISSING = dataclasses.MISSING


class SettingsError(ValueError):
    """A setting is unknown or has a value of the wrong type; the message names it and its source."""


class JobSettings(BaseModel):
    """Base class of a job's settings: subclass it with typed fields (nested models and dataclasses welcome)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_settings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            problems = list(unknown_settings(cls, data))
            if problems:
                raise ValueError("; ".join(problems))
        return data

    @classmethod
    def platform_schema(cls) -> dict:
        """A flat UI description of the settings: {"fields": [{model, label, type, default, help, required, visible}]}.

        Nested models become a "label" entry followed by their fields with dotted names. A field is
        visible unless declared with ``Field(..., advanced=True)``.
        """
        schema = cls.model_json_schema()
        return {"fields": list(_ui_fields(schema, schema.get("$defs", {}), ""))}


@dataclasses.dataclass(frozen=True)
class Override:
    """One setting from argv: its dotted path, its text (None for a bare flag) and the flag as typed."""

    path: str
    text: str | None
    flag: str


def parse_argv(argv: Sequence[str]) -> tuple[dict[str, str], list[Override]]:
    """Split argv into job arguments ({job_id, api_key, info_file}) and setting overrides."""
    job_args: dict[str, str] = {}
    overrides: list[Override] = []
    tokens = list(argv)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token.startswith("--") or len(token) == 2 or token.startswith("--="):
            raise SettingsError(f"unexpected argument {token!r}: give settings as --name VALUE or --name=VALUE")
        name, has_value, text = token[2:].partition("=")
        if not has_value:
            if i < len(tokens) and not tokens[i].startswith("--"):
                text = tokens[i]
                i += 1
            else:
                text = None
        flag = f"--{name}"
        path = name.replace("-", "_")
        if path in JOB_ARGUMENTS:
            if text is None:
                raise SettingsError(f"{flag} needs a value")
            job_args[path] = text
        else:
            overrides.append(Override(path, text, flag))
    return job_args, overrides


def load_settings(
    settings_cls: type[JobSettings],
    layers: Sequence[tuple[dict | None, str]] = (),
    overrides: Sequence[Override] = (),
) -> JobSettings:
    """`settings_cls` from its defaults, then each (settings dict, source name) layer, then argv overrides.

    Raises SettingsError naming the dotted setting, the value and its source (the file or the flag).
    """
    for defined, source in layers:
        if defined is not None and not isinstance(defined, dict):
            raise SettingsError(f"settings must be a JSON object, got {type(defined).__name__} (from {source})")
    merged: dict = {}
    sources: dict[str, str] = {}
    steps = [(defined or {}, source) for defined, source in layers]
    steps += [(_override_as_tree(settings_cls, o), o.flag) for o in overrides]
    for layer, source in steps:
        problems = list(unknown_settings(settings_cls, layer, source=source))
        if problems:
            raise SettingsError("\n".join(problems))
        _merge(settings_cls, merged, layer, source, sources, "")
    try:
        return settings_cls.model_validate(merged)
    except ValidationError as error:
        raise SettingsError("\n".join(_describe(e, merged, sources) for e in error.errors())) from None


def unknown_settings(tp: Any, data: dict, prefix: str = "", source: str | None = None) -> Iterator[str]:
    """A message for every key of `data` (at any depth) that `tp` does not declare."""
    fields = _fields(_strip(tp)[0])
    if fields is None or _allows_extra(_strip(tp)[0]):
        return
    for key, value in data.items():
        if key not in fields:
            yield _unknown_message(prefix, str(key), fields, source)
            continue
        yield from _unknown_below(fields[key][0], value, f"{prefix}{key}.", source)


def _unknown_below(annotation: Any, value: Any, prefix: str, source: str | None) -> Iterator[str]:
    tp = _strip(annotation)[0]
    if isinstance(value, dict) and _fields(tp) is not None:
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


def _unknown_message(prefix: str, key: str, fields: dict, source: str | None = None) -> str:
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


def _override_as_tree(settings_cls: type, override: Override) -> dict:
    """`--a.b 42` as {"a": {"b": <42 read by the type of a.b>}}."""
    parts = override.path.split(".")
    tp: Any = settings_cls
    for depth, part in enumerate(parts):
        fields = _fields(_strip(tp)[0])
        parent = ".".join(parts[:depth])
        if fields is None:
            raise SettingsError(
                f"setting '{parent}' has no sub-setting '{part}' (from {override.flag}); "
                f"give its whole value as JSON: --{parent} '...'"
            )
        if part not in fields:
            raise SettingsError(_unknown_message(f"{parent}." if parent else "", part, fields, override.flag))
        tp = fields[part][0]
    value: Any = _read_text(tp, override)
    for part in reversed(parts):
        value = {part: value}
    return value


def _read_text(annotation: Any, override: Override) -> Any:
    tp, optional = _strip(annotation)
    text = override.text
    if text is None:
        if tp is bool:
            return True
        raise SettingsError(f"setting '{override.path}' needs a value (from {override.flag})")
    if optional and text.lower() in ("null", "none"):
        return None
    if tp is bool:
        if text.lower() not in _BOOLEANS:
            raise SettingsError(
                f"setting '{override.path}' expects a boolean (true/false/1/0/yes/no), "
                f"got {text!r} (from {override.flag})"
            )
        return _BOOLEANS[text.lower()]
    if tp in _JSON_CONTAINERS or get_origin(tp) in _JSON_CONTAINERS or _fields(tp) is not None:
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise SettingsError(
                f"setting '{override.path}' expects JSON, got {text!r} (from {override.flag}): "
                f"{error.msg} at column {error.colno}"
            ) from None
    if tp is Any or get_origin(tp) in (Union, types.UnionType):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    if get_origin(tp) is Literal and not all(isinstance(v, str) for v in get_args(tp)):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def _merge(tp: Any, merged: dict, layer: dict, source: str, sources: dict[str, str], prefix: str) -> None:
    fields = _fields(_strip(tp)[0]) or {}
    for key, value in layer.items():
        annotation, default = fields.get(key, (Any, _MISSING))
        child = _strip(annotation)[0]
        path = f"{prefix}{key}"
        if isinstance(value, dict) and _fields(child) is not None:
            base = merged.get(key)
            if not isinstance(base, dict):
                # Start from the class default so that sub-settings this layer leaves out keep their values.
                base = _as_dict(merged[key] if key in merged else default)
                merged[key] = base
            _merge(child, base, value, source, sources, f"{path}.")
        else:
            merged[key] = value
            sources[path] = source


def _as_dict(value: Any) -> dict:
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return {}


def _describe(error: dict, merged: dict, sources: dict[str, str]) -> str:
    """One pydantic error as "setting 'a.b' expects a float, got 'fast' (from --a.b)"."""
    parts, node = [], merged
    for part in error["loc"]:
        # Union validators add the member type to loc; keep only parts that index the data.
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            if error["type"] == "missing":
                parts.append(str(part))
            break
        parts.append(str(part))
    path = ".".join(parts)
    if error["type"] == "missing":
        return f"setting '{path}' is required: set it in the job definition's settings or with --{path} VALUE"
    source = next((sources[p] for p in _prefixes(path) if p in sources), "the settings class default")
    expected = _EXPECTED.get(error["type"])
    got = error.get("input")
    if expected:
        return f"setting '{path}' expects {expected}, got {got!r} (from {source})"
    return f"setting '{path}' is invalid: {error['msg']}, got {got!r} (from {source})"


_EXPECTED = {
    "float_parsing": "a float", "float_type": "a float", "finite_number": "a finite number",
    "int_parsing": "an integer", "int_type": "an integer", "int_from_float": "an integer",
    "bool_parsing": "a boolean (true/false/1/0/yes/no)", "bool_type": "a boolean (true/false/1/0/yes/no)",
    "string_type": "a string", "dict_type": "a dict (JSON object)", "list_type": "a list (JSON array)",
    "tuple_type": "a tuple (JSON array)", "set_type": "a set (JSON array)",
    "model_type": "an object (JSON object)", "model_attributes_type": "an object (JSON object)",
    "dataclass_type": "an object (JSON object)", "literal_error": "one of the allowed values",
    "enum": "one of the allowed values",
}


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def _strip(annotation: Any) -> tuple[Any, bool]:
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


def _fields(tp: Any) -> dict[str, tuple[Any, Any]] | None:
    """{name: (annotation, default)} of a model or dataclass type (aliases included); None for other types."""
    if not isinstance(tp, type):
        return None
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
        default = _MISSING if info.is_required() else info.get_default(call_default_factory=True)
        out[name] = (info.annotation, default)
        if isinstance(info.alias, str):
            out[info.alias] = (info.annotation, default)
    return out


def _dataclass_default(field: dataclasses.Field) -> Any:
    if field.default is not _MISSING:
        return field.default
    if field.default_factory is not _MISSING:
        return field.default_factory()
    return _MISSING


def _allows_extra(tp: Any) -> bool:
    config = getattr(tp, "model_config", None) or getattr(tp, "__pydantic_config__", None) or {}
    return config.get("extra") == "allow"


def _ui_fields(schema: dict, defs: dict, prefix: str) -> Iterator[dict]:
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        prop = _resolve(prop, defs)
        model = f"{prefix}{name}"
        if prop.get("type") == "object" and "properties" in prop:
            yield {"model": model, "type": "label", "label": prop.get("title", name)}
            yield from _ui_fields(prop, defs, f"{model}.")
            continue
        kind = prop.get("type")
        field = {
            "model": model,
            "label": prop.get("title", name),
            "type": {"integer": "number", "number": "number", "boolean": "checkbox", "string": "text"}.get(kind, "json"),
            "default": prop.get("default"),
            "help": prop.get("description", ""),
            "required": name in required,
            "visible": not prop.get("advanced", False),
        }
        if kind in ("integer", "number"):
            field["step"] = 1 if kind == "integer" else 0.1
            field.update({k: prop[k] for k in ("minimum", "maximum") if k in prop})
        if "enum" in prop:
            field.update(type="select", values=prop["enum"])
        yield field


def _resolve(prop: dict, defs: dict) -> dict:
    """A property schema with $ref / allOf / Optional's anyOf-with-null replaced by the referenced schema."""
    extra = {k: v for k, v in prop.items() if k not in ("$ref", "allOf", "anyOf")}
    if "$ref" in prop:
        return {**defs[prop["$ref"].split("/")[-1]], **extra}
    if len(prop.get("allOf", ())) == 1:
        return {**_resolve(prop["allOf"][0], defs), **extra}
    members = [m for m in prop.get("anyOf", ()) if m.get("type") != "null"]
    if len(members) == 1:
        return {**_resolve(members[0], defs), **extra}
    return prop
