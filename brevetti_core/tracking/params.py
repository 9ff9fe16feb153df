"""A job's settings as tracker parameters: dot names as on the command line, no secrets, within MLflow's limits.

``{"data": {"batch_size": 16}}`` becomes ``data.batch_size = 16``, the name ``--data.batch_size``
sets. Lists stay one value (JSON text in MLflow). A setting named like a credential (``api_key``,
``password``, ``token``...) is logged as ``***``, and credentials inside values (``user:password@``
in URLs, ``?token=`` query parameters, the job's api key) are redacted. Names and values too long
for MLflow are cut and end in a short hash of the whole, so distinct values stay distinct.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from ..redaction import REDACTED, redact_values

KEY_LIMIT = 250
"""MLflow's longest parameter, metric and tag name."""
PARAM_VALUE_LIMIT = 6000
"""MLflow's longest parameter value."""
TAG_VALUE_LIMIT = 8000
"""MLflow's longest tag value."""
SECRET_NAME = re.compile(r"api[_-]?key|password|passwd|secret|token|credential", re.IGNORECASE)
_NOT_IN_NAMES = re.compile(r"[^\w.\- :]")
"""MLflow names allow word characters, '.', '-', ' ', ':' and '/' ('/' left out: it must not make a path)."""


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{dot name: value} of nested mappings; lists, strings and numbers are leaves."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def settings_params(settings: Mapping[str, Any], secret: str | None = None) -> dict[str, Any]:
    """The flattened settings with credentials removed: values of secret-named settings, URL credentials, `secret`."""
    flat = flatten(settings)
    return {name: REDACTED if SECRET_NAME.search(name.rsplit(".", 1)[-1]) else redact_values(value, secret)
            for name, value in flat.items()}


def text(value: Any) -> str:
    """A value as parameter text: strings as they are, anything else as JSON (``true``, ``[64, 64]``, ``null``)."""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def safe_name(name: str) -> str:
    """`name` in the characters MLflow allows, at most KEY_LIMIT long; other characters become '_'."""
    cleaned = _NOT_IN_NAMES.sub("_", name).strip() or "_"
    if cleaned in (".", "..") or cleaned.startswith(".."):
        cleaned = "_" + cleaned
    return shortened(cleaned, KEY_LIMIT) if len(cleaned) > KEY_LIMIT else cleaned


def shortened(value: str, limit: int) -> str:
    """`value` cut to `limit` characters ending in ``~`` and 8 hex digits of the SHA-256 of the whole."""
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]
    return f"{value[:limit - 9]}~{digest}"


def fitted(values: Mapping[str, Any], value_limit: int) -> tuple[dict[str, str], list[str]]:
    """{safe name: text within `value_limit`} of `values`, and the original names that had to change."""
    fitted_values: dict[str, str] = {}
    changed = []
    for name, value in values.items():
        key, content = safe_name(str(name)), text(value)
        if key != name or len(content) > value_limit:
            changed.append(str(name))
        fitted_values[key] = shortened(content, value_limit)
    return fitted_values, changed
