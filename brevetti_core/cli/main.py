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

from .. import cli
from ..storage_errors import StorageError

COMMANDS_GROUP = "brevetti.commands"
OWN_PACKAGES = ("brevetti_core", "brevetti_torch", "brevetti_tf", "brevetti_demo")


class UsageError(Exception):
    """A problem with the command's input that the user can fix; printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
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
    return parser


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
