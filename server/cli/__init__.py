"""The `gridwatch` command: the top-level group, with every command group's module registered."""

from __future__ import annotations

from typing import Any

import click

from server.cli.backup import backup, restore
from server.cli.boundaries import export, import_boundaries
from server.cli.console import console, demo
from server.cli.data import load, synth
from server.cli.db import db
from server.cli.field import mqtt_acl, simulate
from server.cli.report import report
from server.cli.route import route
from server.cli.serve import ingest, serve
from server.cli.sweep import sweep
from server.cli.tokens import token
from server.settings import SettingsError


class GridwatchCommands(click.Group):
    """Every command reads its settings when it needs them; one that cannot be used stops it with
    the variable's name, whichever command it is."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=GridwatchCommands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gridwatch")
def main() -> None:
    """Gridwatch: township grid management and comprehensive administrative enforcement."""


for command in (
    serve,
    ingest,
    db,
    synth,
    load,
    route,
    token,
    simulate,
    mqtt_acl,
    console,
    demo,
    import_boundaries,
    export,
    sweep,
    report,
    backup,
    restore,
):
    main.add_command(command)
