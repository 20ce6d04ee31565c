"""The `gridwatch` command: one entry point, composed here from the adapters."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from geodata.catalog_files import default_catalog_bytes
from geodata.dataset import DatasetError, load_dataset, write_dataset
from geodata.synth import SIZES, synthesize
from server.route_batch import route_lines


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gridwatch")
def main() -> None:
    """Gridwatch: township grid management and comprehensive administrative enforcement."""


@main.command()
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same county.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--size", type=click.Choice(list(SIZES)), default="county", show_default=True)
def synth(seed: int, out: Path, size: str) -> None:
    """Write a synthetic demo county (or province) as a data folder."""
    if out.exists() and any(out.iterdir()):
        raise click.UsageError(f"{out} is not empty; choose a new folder")
    dataset = synthesize(seed, size)
    write_dataset(dataset, out, default_catalog_bytes())
    click.echo(
        f"wrote {out}: {len(dataset.counties.records)} county(ies), {len(dataset.townships.records)} townships, "
        f"{len(dataset.villages.records)} villages, {len(dataset.cells.records)} cells, "
        f"{len(dataset.units)} units, {len(dataset.workers)} workers, {len(dataset.officers)} officers"
    )


@main.command()
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
        dataset = synthesize(seed) if data is None else load_dataset(data)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from None
    out = sys.stdout.buffer
    for line in route_lines(sys.stdin.buffer, dataset, now=dt.datetime.now(dt.UTC)):
        out.write(line + b"\n")
        out.flush()


if __name__ == "__main__":
    main()
