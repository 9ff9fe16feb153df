"""Paths inside a job's folders (artifacts, temp): parts joined under a base and refused when they would leave it."""
from __future__ import annotations

import os
import re

from .io_tools import join, protocol_of


def confined_path(base: str, parts: tuple, make_dir: bool, what: str) -> str:
    """`base` joined with `parts`, refusing parts that leave `base` (symlinks included); local folders are created.

    `what` names the caller in errors ("artifact_path"). On local folders the joined path is resolved
    (``os.path.realpath``) before any folder is made, so a symlink inside `base` cannot lead a write out of it.
    """
    segments: list[str] = []
    for part in parts:
        text = os.fspath(part)
        if os.path.isabs(text) or text.startswith(("/", "\\")) or protocol_of(text) != "file":
            raise ValueError(f"{what}: part {text!r} is absolute; give parts relative to the folder")
        pieces = [p for p in re.split(r"[\\/]", text) if p not in ("", ".")]
        if ".." in pieces:
            raise ValueError(f"{what}: part {text!r} leaves the folder ('..' is not allowed)")
        segments += pieces
    path = join(base, *segments)
    if protocol_of(path) == "file":
        folder, target = os.path.realpath(base), os.path.realpath(path)
        if os.path.commonpath([folder, target]) != folder:
            raise ValueError(f"{what}: {path} resolves to {target}, outside {base} (a symlink inside the folder "
                             f"points out of it); write inside the folder")
        os.makedirs(path if make_dir else os.path.dirname(path), exist_ok=True)
    return path
