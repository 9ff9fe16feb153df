"""JobSettings: the pydantic base class of a job's settings, refusing unknown settings at any depth."""
from __future__ import annotations

import warnings
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.warnings import PydanticDeprecatedSince20

from .form import platform_fields
from .schema import unknown_settings

# The reference's idiom `Field(..., advanced=False)` (used by the seeds) must keep working
# quietly; pydantic still accepts the extra keyword and puts it in the JSON schema.
warnings.filterwarnings(
    "ignore", message="Using extra keyword arguments on `Field`", category=PydanticDeprecatedSince20
)


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
        return {"fields": list(platform_fields(schema, schema.get("$defs", {}), ""))}
