"""The `gridwatch` command: the top-level group, with every command group's module registered."""

from __future__ import annotations

import importlib
from typing import Any

import click

from server.settings import SettingsError

# Each command's module is imported only when that command runs: `gridwatch ingest` restarting after
# a crash should not first load pandas and geopandas for `export` (docs/deploy.md, recovery).
COMMANDS = {
    "serve": "server.cli.serve:serve",
    "ingest": "server.cli.serve:ingest",
    "db": "server.cli.db:db",
    "synth": "server.cli.data:synth",
    "load": "server.cli.data:load",
    "route": "server.cli.route:route",
    "token": "server.cli.tokens:token",
    "simulate": "server.cli.field:simulate",
    "mqtt-acl": "server.cli.field:mqtt_acl",
    "console": "server.cli.console:console",
    "demo": "server.cli.console:demo",
    "import": "server.cli.boundaries:import_boundaries",
    "export": "server.cli.boundaries:export",
    "sweep": "server.cli.sweep:sweep",
    "report": "server.cli.report:report",
    "backup": "server.cli.backup:backup",
    "restore": "server.cli.backup:restore",
}


class GridwatchCommands(click.Group):
    """Every command reads its settings when it needs them; one that cannot be used stops it with
    the variable's name, whichever command it is. Commands are loaded by name, on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name = COMMANDS[cmd_name].split(":")
        command: click.Command = getattr(importlib.import_module(module), name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=GridwatchCommands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gridwatch")
def main() -> None:
    """Gridwatch: township grid management and comprehensive administrative enforcement."""
