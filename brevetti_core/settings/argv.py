"""Command-line tokens: the job arguments (--job_id, --api_key, --info_file) apart from the setting overrides."""
from __future__ import annotations

import dataclasses
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
