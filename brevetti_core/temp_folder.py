"""A job's automatic temp folder, named for its owner process so that folders of dead jobs can be cleaned.

The folder is ``<system temp>/brevetti-job-<job id>-<pid>@<host>-<random>``. The job removes it on every
exit path it controls (completion, failure, interruption, interpreter exit); a process killed outright
(SIGKILL, power loss) cannot, so each new start removes the folders whose process on this host is gone.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile

from .liveness import owner_gone, owner_tag

log = logging.getLogger(__name__)

PREFIX = "brevetti-job-"
_OWNED = re.compile(r"^brevetti-job-.*-(?P<pid>\d+)@(?P<host>[A-Za-z0-9.-]+)-[a-z0-9_]+$")


def make_temp_folder(job_id: str) -> str:
    """A new temp folder for job `job_id`, named with this process's pid and host."""
    return tempfile.mkdtemp(prefix=f"{PREFIX}{job_id}-{owner_tag()}-")


def remove_stale_temp_folders(root: str | None = None) -> list[str]:
    """Remove the job temp folders in `root` (default: the system temp folder) of dead processes on this host.

    Returns the removed folders. Folders of other hosts, of live processes, or not named by this module are kept.
    """
    root = root or tempfile.gettempdir()
    try:
        names = os.listdir(root)
    except OSError:
        return []
    removed = []
    for name in names:
        owner = _OWNED.match(name)
        if owner is None or not owner_gone(owner):
            continue
        path = os.path.join(root, name)
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.exists(path):
            log.info("Removed the temp folder %s of a job whose process %s is gone", path, owner["pid"])
            removed.append(path)
    return removed
