"""Every `lytter` command and sub-command answers --help with its own description."""

import click
import typer
from typer.testing import CliRunner

from streams.cli import app


def commands(group: click.Command, path=()):
    yield path, group
    if hasattr(group, "list_commands"):
        ctx = type(group).context_class(group) if hasattr(group, "context_class") else click.Context(group)
        for name in group.list_commands(ctx):
            yield from commands(group.get_command(ctx, name), (*path, name))


def test_every_command_has_help():
    root = typer.main.get_command(app)
    seen = list(commands(root))
    assert len(seen) > 20  # services, ingest, model, search, alerts, bench, ...
    runner = CliRunner()
    for path, command in seen:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output, path
        assert (command.help or command.short_help or "").strip(), f"lytter {' '.join(path)} has no description"
