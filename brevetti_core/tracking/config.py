"""Which trackers a job gets: an MLflow run when a tracking URI is set, a TensorBoard log when tensorboard is installed.

Read when each job starts. ``enable(...)`` / ``disable()`` (this process) win over the environment:

- ``MLFLOW_TRACKING_URI`` (MLflow's own variable): ``http(s)://`` server, ``sqlite:///...`` or a
  ``file:`` / folder store. Set: every job is an MLflow run there. Unset: no MLflow.
- ``MLFLOW_EXPERIMENT_NAME`` (MLflow's own): the experiment; default the job's class name.
- ``BREVETTI_TENSORBOARD``: ``0``/``false``/``off`` or ``1``/``true``/``on``; default on when the
  ``tensorboard`` package is installed.
"""
from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass, replace

log = logging.getLogger(__name__)

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT_ENV = "MLFLOW_EXPERIMENT_NAME"
TENSORBOARD_ENV = "BREVETTI_TENSORBOARD"
INSTALL_HINT = "pip install -c constraints.txt -e \".[tracking]\""
_SWITCH = {"1": True, "true": True, "on": True, "yes": True, "0": False, "false": False, "off": False, "no": False}


@dataclass(frozen=True)
class TrackingConfig:
    """What a starting job records: MLflow at `mlflow_uri` (None: no run) in `experiment`, and/or TensorBoard."""

    mlflow_uri: str | None = None
    experiment: str | None = None
    tensorboard: bool = False

    @property
    def active(self) -> bool:
        """Whether any tracker is on."""
        return bool(self.mlflow_uri) or self.tensorboard


_chosen: dict = {}
"""What enable() / disable() set, over the environment."""


def enable(mlflow_uri: str | None = None, *, experiment: str | None = None, tensorboard: bool | None = None) -> None:
    """Track the jobs this process starts from now on; arguments left None come from the environment.

    ``enable("http://127.0.0.1:5000")`` makes each job an MLflow run on that server (as
    ``MLFLOW_TRACKING_URI`` would); ``enable(tensorboard=False)`` stops the TensorBoard logs.
    Replaces earlier enable()/disable() calls.
    """
    _chosen.clear()
    _chosen.update({key: value for key, value in
                    {"mlflow_uri": mlflow_uri, "experiment": experiment, "tensorboard": tensorboard}.items()
                    if value is not None})


def disable() -> None:
    """Track no job this process starts from now on (neither MLflow nor TensorBoard), whatever the environment says."""
    _chosen.clear()
    _chosen.update(mlflow_uri="", tensorboard=False)


def current() -> TrackingConfig:
    """The trackers a job starting now gets."""
    config = TrackingConfig(mlflow_uri=os.environ.get(TRACKING_URI_ENV) or None,
                            experiment=os.environ.get(EXPERIMENT_ENV) or None,
                            tensorboard=_tensorboard_from_env())
    config = replace(config, **_chosen)
    if config.mlflow_uri and importlib.util.find_spec("mlflow") is None:
        log.warning("MLflow tracking is set (%s) but the mlflow package is not installed: %s",
                    TRACKING_URI_ENV, INSTALL_HINT)
        config = replace(config, mlflow_uri=None)
    if config.tensorboard and not tensorboard_installed():
        if TENSORBOARD_ENV in os.environ or "tensorboard" in _chosen:
            log.warning("TensorBoard logs are on but the tensorboard package is not installed: %s", INSTALL_HINT)
        config = replace(config, tensorboard=False)
    return replace(config, mlflow_uri=config.mlflow_uri or None)


def tensorboard_installed() -> bool:
    """Whether the tensorboard package can be imported (looked up, not imported)."""
    return importlib.util.find_spec("tensorboard") is not None


def _tensorboard_from_env() -> bool:
    text = os.environ.get(TENSORBOARD_ENV, "").strip().lower()
    if not text:
        return tensorboard_installed()
    if text not in _SWITCH:
        log.warning("%s=%r is not one of %s; TensorBoard logs stay on when tensorboard is installed",
                    TENSORBOARD_ENV, text, "/".join(_SWITCH))
        return tensorboard_installed()
    return _SWITCH[text]
