"""Every command has help text and is documented in the README (the sqlite-utils habit)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from scraper.cli import _register, cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")

_register()
COMMANDS = sorted(cli.commands)


def test_all_expected_commands_exist():
    assert set(COMMANDS) >= {"crawl", "history", "diff", "show", "search", "sql", "export",
                             "import", "backfill", "serve", "publish", "check", "demo",
                             "rebuild-fts"}


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_and_is_in_the_readme(name):
    command = cli.commands[name]
    assert command.help and len(command.help.strip()) > 20, name
    assert re.search(rf"`{re.escape(name)}[ `]", README), f"{name} missing from README"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{name} {param.opts[0]} has no help"


def test_every_exit_code_the_cli_uses_is_in_the_readme():
    from scraper import cli as cli_module

    codes = {v for k, v in vars(cli_module).items() if k.startswith("EXIT_")}
    table = README[README.index("### Exit codes"):]
    for code in codes:
        assert re.search(rf"^\| {code}\b|/ {code} \|", table, re.M), code
