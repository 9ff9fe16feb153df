"""Datasets: a named folder or bucket of images (local path or s3:// URI)."""
from __future__ import annotations

import os
import uuid

from pydantic import BaseModel, ConfigDict, Field


class Dataset(BaseModel):
    """A dataset of a job: `Dataset(id, name, bucket)`, where bucket is a local folder or an s3:// URI."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), description="Dataset id")
    name: str = Field(default="", description="Human-readable name")
    bucket: str = Field(description="Folder or URI holding the dataset's files")

    def __init__(self, id: str | None = None, name: str | None = None, bucket: str | os.PathLike | None = None, **data):
        if id is not None:
            data["id"] = str(id)
        if bucket is not None:
            data["bucket"] = str(bucket)
        if name is not None:
            data["name"] = name
        elif "bucket" in data and not data.get("name"):
            data["name"] = os.path.basename(str(data["bucket"]).rstrip("/"))
        super().__init__(**data)
