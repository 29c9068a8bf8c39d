"""`python flashcards.py --help`: every option says what it does, the default model and the exit
codes are named, and an option standing for a setting shows that setting's default."""
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli.main import EXIT_CODES, SETTING_OF, build_parser, models_parser, setting_default
from generator.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def run_help(*args):
    proc = subprocess.run([sys.executable, "flashcards.py"] + list(args) + ["--help"], cwd=str(ROOT),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return " ".join(proc.stdout.split())  # argparse wraps lines at the terminal's width


@pytest.mark.parametrize("parser", [build_parser, models_parser])
def test_every_option_has_help_text(parser):
    for action in parser()._actions:
        assert action.help and action.help.strip(), action.option_strings or action.dest


def test_help_names_the_default_model_and_every_exit_code():
    text = run_help()
    assert "(default %s)" % Settings().model in text
    assert "exit codes:" in text
    for code, meaning in EXIT_CODES:
        assert "%d %s" % (code, " ".join(meaning.split())) in text


def test_the_exit_codes_are_the_ones_the_cli_returns():
    from generator.cli import main

    returned = {main.EXIT_OK, main.EXIT_PARTIAL, main.EXIT_USAGE, main.EXIT_SERVER, main.EXIT_WRITE,
                main.EXIT_ABORTED}
    assert {code for code, _ in EXIT_CODES} == returned


def test_options_for_a_setting_show_its_default():
    text = run_help()
    settings = Settings().to_dict()
    dests = {a.dest for a in build_parser()._actions}
    for dest, key in SETTING_OF.items():
        assert dest in dests, dest
        assert key in settings, key
        assert "(default: %s, the setting %s)" % (setting_default(key), key) in text, key


def test_models_help_shows_the_server_defaults():
    text = run_help("models")
    assert "(default: %s, the setting url)" % Settings().url in text
