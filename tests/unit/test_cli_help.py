"""Every command's --help as an operator reads it on an 80-column terminal, and tables that never cut a value."""

from __future__ import annotations

import io
import re
from typing import Any

import typer
from rich.console import Console
from typer.testing import CliRunner

from email_engine import cli
from email_engine.cli_support import whole_table


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path under ``group`` (Typer builds its groups on its own copy of click)."""
    found = [path]
    commands = getattr(group, "commands", None)
    if commands:
        for name, command in sorted(commands.items()):
            found.extend(_commands(command, (*path, name)))
    return found


def test_every_help_page_keeps_its_brackets_and_shows_no_type_for_flags() -> None:
    cli._register_domains()
    root = typer.main.get_command(cli.app)
    runner = CliRunner()
    paths = _commands(root)
    assert len(paths) > 50
    for path in paths:
        result = runner.invoke(cli.app, [*path, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
        assert result.exit_code == 0, (path, result.output)
        text = result.output
        assert "<bool>" not in text, path  # a flag takes no value
        assert not re.search(r"\(\s*\)", text), (path, text)  # "name ()": rich markup ate a [a-z] bracket
        assert "[a-z0-9-]" in text or "a-z0-9" not in text, path


def test_ips_add_help_shows_the_vmta_name_alphabet() -> None:
    result = CliRunner().invoke(cli.app, ["ips", "add", "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert "virtual-MTA name ([a-z0-9-])" in " ".join(result.output.split()).replace("│", "").replace(
        "  ", " "
    )


def test_whole_tables_never_cut_an_address_at_80_columns() -> None:
    table = whole_table(
        "id",
        "address",
        "hostname",
        "purpose",
        "state",
        "vmta_name",
        "pool_id",
        "mailwizz_server_id",
        whole=("id", "address"),
    )
    addresses = ["203.0.113.250", "2001:db8:ffff:ffff:ffff:ffff:ffff:fff1"]
    for n, address in enumerate(addresses, 1):
        table.add_row(
            str(n),
            address,
            "mta1.mail.example.com",
            "marketing",
            "warming",
            "vmta-mta1-mail-example-com",
            "12",
            "4711",
        )
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(table)
    text = out.getvalue()
    assert "…" not in text
    for address in addresses:
        assert address in text, text
