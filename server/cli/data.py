"""`gridwatch synth` and `gridwatch load`: data folders written and loaded."""

from __future__ import annotations

from pathlib import Path

import click
from sqlmodel import Session

from geodata.catalog_files import default_catalog_bytes
from geodata.dataset import DatasetError, write_dataset
from geodata.dataset import load_dataset as load_dataset_folder
from geodata.synth import SIZES, synthesize
from server.cli import context
from server.db import migrate as db_migrate
from server.reference.service import load_dataset


@click.command()
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same county.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--size", type=click.Choice(list(SIZES)), default="county", show_default=True)
def synth(seed: int, out: Path, size: str) -> None:
    """Write a synthetic demo county (or province) as a data folder."""
    if out.exists() and any(out.iterdir()):
        raise click.UsageError(
            f"{out} is not empty; choose a new folder\n{out} 不是空文件夹，请换一个新文件夹"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)  # before the work, so a bad folder fails at once
        dataset = synthesize(seed, size)
        write_dataset(dataset, out, default_catalog_bytes())
    except OSError as exc:
        raise click.ClickException(
            f"cannot write to {out}: {exc.strerror or exc}; choose a folder you may write to\n"
            f"无法写入 {out}：{exc.strerror or exc}；请换一个可写的文件夹"
        ) from None
    click.echo(
        f"wrote {out}: {len(dataset.counties.records)} county(ies), {len(dataset.townships.records)} townships, "
        f"{len(dataset.villages.records)} villages, {len(dataset.cells.records)} cells, "
        f"{len(dataset.units)} units, {len(dataset.workers)} workers, {len(dataset.officers)} officers"
    )


@click.command("load")
@click.option("--data", "data", type=click.Path(path_type=Path), required=True, help="A data folder.")
def load(data: Path) -> None:
    """Load a data folder into the database (upsert by code; every process rebuilds its index)."""
    try:
        dataset = load_dataset_folder(data)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from None
    runtime = context.runtime()
    db_migrate.upgrade(runtime.engine)
    with Session(runtime.engine) as session:
        load_dataset(session, dataset)
        session.commit()
    click.echo(f"loaded {len(dataset.cells.records)} cells, {len(dataset.units)} units from {data}")
