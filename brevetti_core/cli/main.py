"""Entry point of the `brevetti` command.

Every module in this package that defines ``register(subparsers)`` adds a subcommand, and so does
every ``register`` function of the ``brevetti.commands`` entry-point group (``brevetti demo``
comes from the demo package that way); the subcommand's parser sets ``func(args) -> int``. Errors a user can fix
(bad input, missing files, and storage that cannot be used: a missing bucket, refused credentials, an endpoint that
cannot be reached) exit with status 2 and a one-line message, no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from importlib.metadata import entry_points
from typing import Any

from .. import cli
from ..storage_errors import StorageError

COMMANDS_GROUP = "brevetti.commands"
OWN_PACKAGES = ("brevetti_core", "brevetti_torch", "brevetti_tf", "brevetti_demo")


class UsageError(Exception):
    """A problem with the command's input that the user can fix; printed without a traceback."""


class OptionsFormatter(argparse.HelpFormatter):
    """Help that gives each option's type and default after its description: "(int; default: 4)"."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "%(default)" in text or action.help == argparse.SUPPRESS or not action.option_strings:
            return action.help
        facts = [action.type.__name__] if isinstance(action.type, type) else []
        shown = action.nargs != 0 and not any(action.default is nothing for nothing in (None, False, argparse.SUPPRESS))
        facts += [f"default: {action.default}".replace("%", "%%")] if shown else []
        return f"{text} ({'; '.join(facts)})" if facts else action.help


class RawOptionsFormatter(OptionsFormatter, argparse.RawDescriptionHelpFormatter):
    """OptionsFormatter keeping the description's own line breaks."""


FORMATTERS: dict[Any, Any] = {argparse.HelpFormatter: OptionsFormatter,
                                argparse.RawDescriptionHelpFormatter: RawOptionsFormatter}


def build_parser() -> argparse.ArgumentParser:
    """The `brevetti` parser with every subcommand; each subcommand's help gives its options' types and defaults."""
    parser = argparse.ArgumentParser(prog="brevetti",
                                     description="Reproducible vision training jobs in PyTorch or TensorFlow.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_info in sorted(pkgutil.iter_modules(cli.__path__), key=lambda m: m.name):
        if module_info.name == "main":
            continue
        module = importlib.import_module(f"{cli.__name__}.{module_info.name}")
        if hasattr(module, "register"):
            module.register(subparsers)
    for point in sorted(entry_points(group=COMMANDS_GROUP), key=lambda p: p.name):
        point.load()(subparsers)
    for command in _parsers(parser):
        command.formatter_class = FORMATTERS.get(command.formatter_class, command.formatter_class)
    return parser


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """`parser` and every subcommand parser below it."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found += _parsers(child)
    return found


def configure_logging(verbose: bool) -> None:
    """Our packages' progress at INFO, other libraries' only from WARNING (their INFO chatter is noise here); all
    at DEBUG with --verbose."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s:%(name)s:%(message)s")
    if not verbose:
        for package in OWN_PACKAGES:
            logging.getLogger(package).setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "accepts_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    configure_logging(args.verbose)
    try:
        return int(args.func(args) or 0)
    except (UsageError, FileNotFoundError, ValueError, PermissionError, StorageError) as error:
        print(f"brevetti {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"brevetti {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
