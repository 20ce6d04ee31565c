"""Importing a province's cells from a GeoPackage against a bare read of the same file, in one run.

    uv run python -m bench.import                # ~300,000 cells (the synthetic province)
    uv run python -m bench.import --size county  # a quick look

The province is synthesized once into --work (reused when present) and its cells written to a
GeoPackage in EPSG:4490 (CGCS2000) by GDAL through pyogrio; its counties, townships and villages are
loaded into a fresh SQLite database, untimed. Then, each in a process of its own so peak memory
is its own:

* bare:   pyogrio.read_dataframe(cells.gpkg)
* import: `gridwatch import cell cells.gpkg`: read and reproject, validate (codes, geometries,
          overlaps, gaps, village and township crossings), upsert 300,000 rows keeping the previous
          version, bump the index version.

It prints both times, the ratio import / bare (the target is <= 3) and each side's peak memory
(the target is < 4 GiB for the import).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pyogrio
from sqlmodel import Session

from geodata.boundary_files import write_features
from geodata.synth import SIZES, synthesize
from geodata.validation import Level
from server.db import migrate
from server.db.engine import make_engine
from server.reference.boundaries import Boundaries, BoundaryBatch
from server.reference.service import load_counties
from server.runtime import utc_now


def prepare(work: Path, size: str) -> tuple[Path, Path]:
    """The cells file and a database holding everything above the cells."""
    work.mkdir(parents=True, exist_ok=True)
    cells = work / f"{size}-cells.gpkg"
    database = work / f"{size}.db"
    database.unlink(missing_ok=True)
    province = synthesize(1, size)
    if not cells.exists():
        records = province.cells.records
        write_features(
            cells,
            "网格",
            province.cells.shapes,
            {"网格编码": [c.code for c in records], "网格名称": [c.name for c in records]},
        )
    engine = make_engine(f"sqlite:///{database}")
    migrate.upgrade(engine)
    with Session(engine) as session:
        load_counties(session, province)
        for level, layer in ((Level.TOWNSHIP, province.townships), (Level.VILLAGE, province.villages)):
            batch = BoundaryBatch(
                level, [r.code for r in layer.records], [r.name for r in layer.records], list(layer.shapes)
            )
            Boundaries(session, utc_now).write(batch, "bench", "bench")
    engine.dispose()
    return cells, database


def phase(name: str, cells: Path, database: Path) -> dict[str, float]:
    """Run one side in this process and report its time and this process's peak memory."""
    start = time.perf_counter()
    if name == "bare":
        frame = pyogrio.read_dataframe(cells)
        count = len(frame)
    else:
        from click.testing import CliRunner

        from server.cli import main

        done = CliRunner().invoke(
            main,
            ["import", "cell", str(cells), "--json"],
            env={"GRIDWATCH_DATABASE_URL": f"sqlite:///{database}"},
        )
        report = json.loads(done.output)
        if done.exit_code != 0 or report["written"] is None:
            raise SystemExit(f"import refused: {report['findings'][:5]}")
        count = report["written"]["written"]
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_gib": peak_kib / 1024**2, "features": count}


def run(name: str, cells: Path, database: Path) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.import",
            "--phase",
            name,
            "--cells",
            str(cells),
            "--database",
            str(database),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=list(SIZES), default="province")
    parser.add_argument("--work", type=Path, default=Path("/tmp/gridwatch-bench-import"))
    parser.add_argument("--phase", choices=["bare", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--cells", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.cells, args.database)))
        return
    print(f"preparing the {args.size} in {args.work} …", flush=True)
    cells, database = prepare(args.work, args.size)
    bare = run("bare", cells, database)
    ours = run("import", cells, database)
    print(f"cells                 {int(ours['features']):>10,}")
    print(f"bare read_dataframe   {bare['seconds']:>9.2f} s   peak {bare['peak_gib']:.2f} GiB")
    print(f"gridwatch import      {ours['seconds']:>9.2f} s   peak {ours['peak_gib']:.2f} GiB")
    print(f"ratio import / bare   {ours['seconds'] / bare['seconds']:>9.1f}×  (target ≤ 3×, < 4 GiB)")


if __name__ == "__main__":
    main()
