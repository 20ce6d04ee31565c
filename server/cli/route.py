"""`gridwatch route`: incidents routed offline, JSON lines in and out."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from geodata.dataset import DatasetError
from geodata.dataset import load_dataset as load_dataset_folder
from geodata.synth import synthesize
from server.incidents.batch import route_lines


@click.command()
@click.option(
    "--data",
    "data",
    type=click.Path(path_type=Path),
    help="A data folder (default: the synthetic demo county, made in memory).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the default demo county.")
def route(data: Path | None, seed: int) -> None:
    """Route incidents read as JSON lines on stdin; one decision (or error) per line on stdout.

    Each line: {"id", "lon", "lat", "category", optional "crs" (wgs84|gcj02|bd09), "ts", "acc"}.
    """
    try:
        dataset = synthesize(seed) if data is None else load_dataset_folder(data)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from None
    out = sys.stdout.buffer
    for line in route_lines(sys.stdin.buffer, dataset, now=dt.datetime.now(dt.UTC)):
        out.write(line + b"\n")
        out.flush()
