"""Epoch logs as train/devel pairs, so every framework's names meet on one chart.

Keras' ``loss`` / ``val_loss`` and the torch hooks' ``train_loss`` / ``devel_loss`` are the same
two curves: a ``val_`` or ``devel_`` prefix marks the devel role, ``train_`` or none the train
role. MLflow gets ``train_loss`` / ``devel_loss`` (the names output.json uses), TensorBoard the tags
``loss/train`` / ``loss/devel`` (its charts group tags by the part before the slash).
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

DEVEL_PREFIXES = ("val_", "devel_")
TRAIN_PREFIX = "train_"
NOT_METRICS = ("epoch", "time")


def epoch_metrics(logs: Mapping[str, Any]) -> dict[tuple[str, str], float]:
    """{(metric, "train" | "devel"): value} of the numeric entries of one epoch's logs."""
    metrics = {}
    for key, value in logs.items():
        number = number_of(value)
        if key in NOT_METRICS or number is None:
            continue
        metrics[role_of(str(key))] = number
    return metrics


def role_of(key: str) -> tuple[str, str]:
    """(metric, role) of a log key: ``val_loss`` -> ("loss", "devel"), ``loss`` -> ("loss", "train")."""
    for prefix in DEVEL_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            return key[len(prefix):], "devel"
    if key.startswith(TRAIN_PREFIX) and len(key) > len(TRAIN_PREFIX):
        return key[len(TRAIN_PREFIX):], "train"
    return key, "train"


def mlflow_name(metric: str, role: str) -> str:
    """The MLflow metric of a pair: ``train_loss``, ``devel_loss``."""
    return f"{role}_{metric}"


def tensorboard_tag(metric: str, role: str) -> str:
    """The TensorBoard tag of a pair: ``loss/train``, ``loss/devel``."""
    return f"{metric}/{role}"


def number_of(value: Any) -> float | None:
    """`value` as a float when it is a real number (numpy scalars included, booleans not); else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)
