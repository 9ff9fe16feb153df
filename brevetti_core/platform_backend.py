"""Where a job lives: the data root and host of brevettiai 0.10's ``PlatformBackend``, for the local platform.

``PlatformBackend(data_bucket=DIR)`` is how brevettiai 0.10 ran a job without the web platform; here it is
simply the data root a job's folder and info.json live under (``<data_bucket>/<job id>``), so the 0.10
call form ``Job(backend=PlatformBackend(data_bucket=DIR))`` (or ``Job.init(..., backend=...)``) and
``BREVETTI_DATA_BUCKET=DIR`` mean the same thing. There is no platform to ask for tags or credentials.
"""
from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import jobstore
from .io_tools import is_remote, join

HOST_NAME_ENV = "BREVETTI_HOST_NAME"


class PlatformBackend(BaseModel):
    """The data root jobs live under (default: BREVETTI_DATA_BUCKET, see `jobstore.data_root`) and its host name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_bucket: str = Field(default_factory=jobstore.data_root,
                             description="Folder or s3:// URI holding <job id>/info.json and <job id>/artifacts/")
    host: str = Field(default="", description="Address for links and relative job URLs; "
                                              "default BREVETTI_HOST_NAME, else the data root as a URL")

    @field_validator("data_bucket", mode="before")
    @classmethod
    def _normalised_root(cls, value: object) -> object:
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str) or not value:
            raise ValueError(f"data_bucket must be a folder or an s3:// URI, got {value!r}")
        return value.rstrip("/") if is_remote(value) else os.path.abspath(os.path.expanduser(value))

    @model_validator(mode="after")
    def _default_host(self) -> PlatformBackend:
        if not self.host:
            # There is no web platform locally, so links point at where the job's files are.
            root = self.data_bucket
            object.__setattr__(self, "host", os.environ.get(HOST_NAME_ENV) or
                               (root if is_remote(root) else f"file://{root}"))
        return self

    def resource_path(self, resource_id: str) -> str:
        """`<data_bucket>/<resource_id>`: the folder of a job (or another resource) under the data root."""
        return join(self.data_bucket, jobstore.check_job_id(str(resource_id)))

    def get_root_tags(self, job_id: str, api_key: object = None) -> dict:
        """Dataset tags by dataset; a local data root has no tag tree, so none."""
        return {}
