"""`--help` on `brevetti` and every subcommand: a description, and each option's meaning, type and default."""
import argparse

import pytest

from brevetti_core.cli.main import _parsers, build_parser, main


def commands():
    """The argv of every subcommand ("samples", "job create", ...), the demo's included."""
    found = []
    for parser in _parsers(build_parser())[1:]:
        words = parser.prog.split()[1:]
        if not any(isinstance(action, argparse._SubParsersAction) for action in parser._actions):
            found.append(words)
    return found


def test_every_subcommand_is_listed():
    assert {" ".join(c) for c in commands()} >= {"samples", "fingerprint", "report", "job create", "job run",
                                                  "job show", "job list", "demo"}


@pytest.mark.parametrize("command", commands(), ids=" ".join)
def test_help_describes_the_command_and_every_option(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: brevetti {' '.join(command)}")
    parser = next(p for p in _parsers(build_parser()) if p.prog.split()[1:] == command)
    assert parser.description, f"brevetti {' '.join(command)} has no description"
    for action in parser._actions:
        assert action.help, f"brevetti {' '.join(command)}: {action.dest} has no help"


def test_options_show_their_type_and_default(capsys):
    with pytest.raises(SystemExit):
        main(["fingerprint", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--workers WORKERS torch DataLoader workers / tf parallel calls (fingerprints must not depend on it) " \
           "(int; default: 0)" in text
    assert "--purpose PURPOSE samples of this purpose ('all': every sample) (default: train)" in text


def test_fingerprint_help_documents_the_config_file_format(capsys):
    with pytest.raises(SystemExit):
        main(["fingerprint", "--help"])
    text = capsys.readouterr().out
    assert "config file: a JSON object holding a DataSettings block, e.g.\n  {\n    \"datasets\": [" in text
    assert "  split.seed  int | None  (default: 0)\n      Random seed; -1 or None draws one from the OS\n" in text
    assert "  batch_size  int  (default: 32)\n      Samples per batch\n" in text
