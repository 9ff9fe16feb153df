"""Command-line tokens: a script's own argv, and its job arguments (--job_id, --api_key, --info_file) apart from
the setting overrides."""
from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Sequence

from .errors import SettingsError

JOB_ARGUMENTS = ("job_id", "api_key", "info_file")


@dataclasses.dataclass(frozen=True)
class Override:
    """One setting from argv: its dotted path, its text (None for a bare flag) and the flag as typed."""

    path: str
    text: str | None
    flag: str


def parse_argv(argv: Sequence[str]) -> tuple[dict[str, str], list[Override]]:
    """Split argv into job arguments ({job_id, api_key, info_file}) and setting overrides.

    Accepts ``--name VALUE`` and ``--name=VALUE``; a flag followed by another flag (or by nothing) has no text.
    Dashes in a name mean underscores.
    """
    job_args: dict[str, str] = {}
    overrides: list[Override] = []
    tokens = list(argv)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token.startswith("--") or len(token) == 2 or token.startswith("--="):
            raise SettingsError(f"unexpected argument {token!r}: give settings as --name VALUE or --name=VALUE")
        name, has_value, given = token[2:].partition("=")
        text: str | None = given if has_value else None
        if not has_value and i < len(tokens) and not tokens[i].startswith("--"):
            text = tokens[i]
            i += 1
        flag = f"--{name}"
        path = name.replace("-", "_")
        if path in JOB_ARGUMENTS:
            if text is None:
                raise SettingsError(f"{flag} needs a value")
            job_args[path] = text
        else:
            overrides.append(Override(path, text, flag))
    return job_args, overrides


def script_name(default: str) -> str:
    """How the running script is started: ``python -m package.module``, the script's file name, else `default`."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name:
        return f"python -m {spec.name.removesuffix('.__main__')}"
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else default


def script_argv() -> list[str]:
    """sys.argv[1:], without the connection-file argument a Jupyter/Colab kernel is started with."""
    argv = sys.argv[1:]
    launcher = os.path.basename(sys.argv[0] if sys.argv else "")
    if not launcher.startswith(("ipykernel_launcher", "colab_kernel_launcher")):
        return argv
    kept, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token == "-f":
            skip = True
        elif not token.startswith("--f="):
            kept.append(token)
    return kept
