"""Output structures: which values of a sample (or batch) dict a dataset yields, and in what shape.

The reference's semantics: ``None`` is the whole dict, a key is that value, a tuple or list of
structures is a tuple, and a dict of structures is a dict of the same shape. ``"__default__"``
stands for the generator's ``output_structure`` and is resolved before selection.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT = "__default__"

Structure = None | str | tuple | list | dict


def check_structure(structure: Structure) -> Structure:
    """`structure` itself when it is made of keys, tuples, lists and dicts; TypeError otherwise."""
    if structure is None or isinstance(structure, str):
        return structure
    if isinstance(structure, (tuple, list)):
        for item in structure:
            _check_inner(item, structure)
        return structure
    if isinstance(structure, Mapping):
        for item in structure.values():
            _check_inner(item, structure)
        return structure
    raise TypeError(f"structure must be None, a key, a tuple/list or a dict of keys, got {structure!r}")


def _check_inner(item: Any, whole: Structure) -> None:
    if item is None:
        raise TypeError(f"structure {whole!r} contains None; only the whole structure may be None")
    check_structure(item)


def resolve_structure(structure: Structure, default: Structure) -> Structure:
    """`default` for ``"__default__"``, else `structure` (checked)."""
    return check_structure(default if structure == DEFAULT else structure)


def select_structure(values: Mapping[str, Any], structure: Structure) -> Any:
    """The values named by `structure`, packed in its shape; KeyError naming a missing key and the available ones."""
    if structure is None:
        return values
    if isinstance(structure, str):
        try:
            return values[structure]
        except KeyError:
            available = sorted(values)
            raise KeyError(f"structure key {structure!r} is not in the output; available keys: {available}") from None
    if isinstance(structure, Mapping):
        return {name: select_structure(values, item) for name, item in structure.items()}
    return tuple(select_structure(values, item) for item in structure)
