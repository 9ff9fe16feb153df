"""The numpy batch: loaded samples collated into one, its spec, an empty one, and its fingerprint.

Every pipeline (numpy, torch, tf) yields batches made by ``collate`` here, so their values have
one representation per type (see ``collate``); the framework adapters only move them into their
containers. ``batch_spec`` describes a batch's shapes and dtypes for pipelines that declare them
up front (tf.data's element_spec, an empty batch for a rank whose slice is empty), and
``fingerprint`` digests a batch so that runs, processes and frameworks can be compared.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .actions import Action

Batch = dict[str, Any]


def _is_label_tuple(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and all(isinstance(item, str) for item in value)


def label_array(values: Sequence[Sequence[str]]) -> np.ndarray:
    """Tuples of labels (e.g. categories) as a 2-D str array (batch, longest tuple), padded with ""."""
    width = max((len(value) for value in values), default=0)
    longest = max((len(item) for value in values for item in value), default=1)
    out = np.full((len(values), width), "", dtype=f"<U{max(longest, 1)}")
    for row, value in enumerate(values):
        out[row, :len(value)] = value
    return out


def stack(key: Any, values: Sequence[Any]) -> Any:
    """The values of one key across a batch as one array (or a tuple/dict of arrays, mirroring the values)."""
    first = values[0]
    if isinstance(first, Mapping):
        return collate(values)
    if isinstance(first, np.ndarray):
        shapes = {value.shape for value in values}
        if len(shapes) > 1:
            raise ValueError(f"cannot batch {key!r}: samples have shapes {sorted(shapes)}; "
                             f"give a target_size or iterate with batch=False")
        return np.stack(values)
    if all(_is_label_tuple(value) for value in values):
        return label_array(values)
    if isinstance(first, (tuple, list)) and first and all(isinstance(item, np.ndarray) for item in first):
        return tuple(stack(f"{key}[{i}]", [value[i] for value in values]) for i in range(len(first)))
    if all(isinstance(value, str) for value in values):
        return np.array(values, dtype=str)
    if all(isinstance(value, (bool, int, float, np.generic)) for value in values):
        return np.asarray(values)
    if isinstance(first, (tuple, list)):
        try:
            return np.asarray(values)
        except ValueError as error:
            raise ValueError(f"cannot batch {key!r}: {error}") from None
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def collate(samples: Sequence[Mapping[Any, Any]]) -> dict[Any, Any]:
    """Loaded samples as one batch dict: arrays stacked, strings as str arrays, label tuples padded.

    Representation per value type: numpy arrays → stacked (B, ...); str → ``<U`` array (B,);
    numbers/bools → (B,) numeric array; tuples of str (categories) → ``label_array`` (B, L);
    tuples of arrays (``roi_mode=None``) → tuple of stacked arrays; dicts → dicts of the same;
    anything else → object array (B,).
    """
    if not samples:
        raise ValueError("cannot collate an empty batch")
    keys = list(samples[0])
    for sample in samples[1:]:
        if sample.keys() != samples[0].keys():
            raise ValueError(f"samples of one batch have different keys: {sorted(map(str, keys))} "
                             f"vs {sorted(map(str, sample))}")
    return {key: stack(key, [sample[key] for sample in samples]) for key in keys}


def as_numpy_sample(sample: Mapping[Any, Any]) -> dict[Any, Any]:
    """One unbatched sample in the batch representation: label tuples become 1-D str arrays."""
    return {key: np.array(value, dtype=str) if isinstance(value, (tuple, list)) and _is_label_tuple(value)
            else value for key, value in sample.items()}


def declared_shapes(actions: Sequence[Action]) -> dict[str, tuple]:
    """Per output key, the static per-sample shape an action declares (None for sizes that depend on the file)."""
    shapes: dict[str, tuple] = {}
    for action in actions:
        shape = getattr(action, "output_shape", None)
        key = getattr(action, "output_key", None)
        if isinstance(shape, tuple) and isinstance(key, str):
            shapes[key] = shape
            segmentation = getattr(action, "segmentation", None)
            if segmentation is not None and shape and not isinstance(shape[0], tuple):
                shapes[segmentation.output_key] = (*shape[:2], segmentation.channels)
    return shapes


class ArraySpec(NamedTuple):
    """The spec of one batched array: shape with a None batch dimension (None where sizes vary), dtype."""

    shape: tuple
    dtype: np.dtype


def batch_spec(example: Batch, declared: Mapping[str, tuple]) -> dict[str, Any]:
    """Per key of an example batch its ArraySpec (a tuple/dict of them for tuple/dict values, e.g. per-ROI images).

    Declared static shapes win over the example's.
    """
    return {key: _value_spec(value, declared.get(key)) for key, value in example.items()}


def _value_spec(value: Any, declared: tuple | None) -> Any:
    if isinstance(value, Mapping):
        return {key: _value_spec(item, None) for key, item in value.items()}
    if isinstance(value, tuple):
        per_part = declared if declared and len(declared) == len(value) and all(
            isinstance(part, tuple) for part in declared) else (None,) * len(value)
        return tuple(_value_spec(item, part) for item, part in zip(value, per_part))
    value = np.asarray(value)
    if value.dtype.kind in "US":
        return ArraySpec((None,) * value.ndim, value.dtype)  # label tuples vary in length from batch to batch
    if declared is not None and len(declared) == value.ndim - 1 and not any(isinstance(d, tuple) for d in declared):
        return ArraySpec((None, *declared), value.dtype)
    return ArraySpec((None, *value.shape[1:]), value.dtype)


def zero_sample(spec: Mapping[Any, Any]) -> dict[Any, Any]:
    """One sample of zeros matching a batch `spec`: arrays of the per-sample shape (unknown sizes 0), scalars 0,
    strings "" and label tuples () (the stand-in for a sample that failed, when no sample of its batch loaded)."""
    return {key: _zero_value(item) for key, item in spec.items()}


def _zero_value(spec: Any) -> Any:
    if isinstance(spec, Mapping):
        return zero_sample(spec)
    if isinstance(spec, tuple) and not isinstance(spec, ArraySpec):
        return tuple(_zero_value(item) for item in spec)
    if spec.dtype.kind in "US":
        return "" if len(spec.shape) == 1 else ()
    if len(spec.shape) == 1:
        return spec.dtype.type(0)
    return np.zeros([size or 0 for size in spec.shape[1:]], dtype=spec.dtype)


def empty_batch(spec: Any) -> Any:
    """A batch of zero samples matching `spec` (ArraySpecs, possibly nested); unknown sizes become 0."""
    if isinstance(spec, ArraySpec):
        return np.zeros((0, *[size or 0 for size in spec.shape[1:]]), dtype=spec.dtype)
    if isinstance(spec, Mapping):
        return {key: empty_batch(item) for key, item in spec.items()}
    return tuple(empty_batch(item) for item in spec)


def fingerprint(batch: Any) -> str:
    """SHA-256 over every value of a batch (nested structures in order): dtype, shape and bytes; strings as UTF-8."""
    digest = hashlib.sha256()
    _feed(digest, batch)
    return digest.hexdigest()


def _feed(digest, value: Any) -> None:
    if isinstance(value, Mapping):
        for key in sorted(value, key=str):
            digest.update(f"<{key}>".encode())
            _feed(digest, value[key])
    elif isinstance(value, (tuple, list)) and not (value and isinstance(value[0], str)):
        for item in value:
            _feed(digest, item)
    else:
        array = np.asarray(value)
        if array.dtype.kind in "USO":  # strings hash by content, whatever their array itemsize
            digest.update(f"str{array.shape}".encode())
            for item in array.ravel().tolist():
                data = str(item).encode("utf-8")
                digest.update(len(data).to_bytes(8, "little") + data)
            return
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
