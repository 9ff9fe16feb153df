"""The platform's settings form: a settings class's JSON schema as a flat list of UI fields with dotted names."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

_WIDGETS: dict[Any, str] = {"integer": "number", "number": "number", "boolean": "checkbox", "string": "text"}


def platform_fields(schema: dict, defs: dict, prefix: str) -> Iterator[dict]:
    """One UI field per property of `schema` ($refs resolved in `defs`); a nested model as a label then its fields."""
    required = set(schema.get("required", ()))
    for name, declared in schema.get("properties", {}).items():
        prop = _resolve(declared, defs)
        model = f"{prefix}{name}"
        if prop.get("type") == "object" and "properties" in prop:
            yield {"model": model, "type": "label", "label": prop.get("title", name)}
            yield from platform_fields(prop, defs, f"{model}.")
            continue
        kind = prop.get("type")
        field = {
            "model": model,
            "label": prop.get("title", name),
            "type": _WIDGETS.get(kind, "json"),
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
