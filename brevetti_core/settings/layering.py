"""Layering: a settings class's defaults < each settings dict (the job definition, init(settings=...)) < argv.

Every value remembers the source that set it (a file, a flag), so that a wrong value is reported with it. A partial
nested value (``--optimizer.lr 0.1``) keeps the other sub-settings of the class default, not of the nested class.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .argv import Override
from .errors import SettingsError, describe
from .job_settings import JobSettings
from .schema import MISSING, declared_fields, unknown_settings, unwrap
from .values import override_tree

SettingsT = TypeVar("SettingsT", bound=JobSettings)


def load_settings(
    settings_cls: type[SettingsT],
    layers: Sequence[tuple[dict | None, str]] = (),
    overrides: Sequence[Override] = (),
) -> SettingsT:
    """`settings_cls` from its defaults, then each (settings dict, source name) layer, then argv overrides.

    Raises SettingsError naming the dotted setting, the value and its source (the file or the flag).
    """
    for defined, source in layers:
        if defined is not None and not isinstance(defined, dict):
            raise SettingsError(f"settings must be a JSON object, got {type(defined).__name__} (from {source})")
    merged: dict = {}
    sources: dict[str, str] = {}
    steps = [(defined or {}, source) for defined, source in layers]
    steps += [(override_tree(settings_cls, o), o.flag) for o in overrides]
    for layer, source in steps:
        problems = list(unknown_settings(settings_cls, layer, source=source))
        if problems:
            raise SettingsError("\n".join(problems))
        _merge(settings_cls, merged, layer, source, sources, "")
    try:
        return settings_cls.model_validate(merged)
    except ValidationError as error:
        raise SettingsError("\n".join(_describe(e, merged, sources) for e in error.errors())) from None


def _merge(tp: Any, merged: dict, layer: dict, source: str, sources: dict[str, str], prefix: str) -> None:
    """Merge `layer` into `merged` in place, recording `source` for every dotted path it sets."""
    fields = declared_fields(unwrap(tp)[0]) or {}
    for key, value in layer.items():
        annotation, default = fields.get(key, (Any, MISSING))
        child = unwrap(annotation)[0]
        path = f"{prefix}{key}"
        if isinstance(value, dict) and declared_fields(child) is not None:
            base = merged.get(key)
            if not isinstance(base, dict):
                # Start from the class default so that sub-settings this layer leaves out keep their values.
                base = _as_dict(merged.get(key, default))
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


def _describe(error: ErrorDetails, merged: dict, sources: dict[str, str]) -> str:
    """One pydantic error about the merged tree, with the source of the setting (or of its nearest parent)."""
    path = _error_path(error, merged)
    source = next((sources[p] for p in _prefixes(path) if p in sources), "the settings class default")
    return describe(error, path, source)


def _error_path(error: ErrorDetails, merged: dict) -> str:
    """The dotted setting an error is about; a missing setting's own name included."""
    parts, node = [], merged
    for part in error["loc"]:
        # Union validators add the member type to loc; keep only parts that index the data.
        if not _indexes(node, part):
            if error["type"] == "missing":
                parts.append(str(part))
            break
        node = node[part]
        parts.append(str(part))
    return ".".join(parts)


def _indexes(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, (list, tuple)) and isinstance(part, int) and part < len(node)


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]
