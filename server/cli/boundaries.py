"""`gridwatch import` and `gridwatch export`: boundary files in, validated; GIS files out."""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import msgspec
from sqlmodel import Session

from geodata.boundary_files import (
    BoundaryFileError,
    BoundaryLayer,
    FieldMap,
    Hint,
    read_boundaries,
    write_features,
)
from geodata.coords import Crs
from geodata.validation import Finding, Level, repair
from grid.errors import InvalidCode
from grid.places import TOWNSHIP_DIGITS, check_code
from grid.workcalendar import DEFAULT_TZ
from server.reference import exports
from server.reference.boundaries import (
    Boundaries,
    BoundaryBatch,
    BoundaryRefused,
    BoundaryWrite,
    NothingToRollBack,
)
from server.reference.exports import ExportWindow
from server.runtime import migrated_runtime


def _report_lines(layer: BoundaryLayer, level: Level, findings: list[Finding]) -> list[str]:
    fields = ", ".join(
        f"{what} field {name}"
        for what, name in (("code", layer.code_field), ("name", layer.name_field))
        if name
    )
    lines = [
        f"{layer.path} (layer {layer.layer}, {layer.source_crs} → WGS-84): "
        f"{len(layer.codes)} {level}s{', ' + fields if fields else ''}"
    ]
    blocking = [f for f in findings if f.blocking]
    if findings:
        lines.append(f"findings: {len(blocking)} blocking, {len(findings) - len(blocking)} warnings")
    for finding in sorted(findings, key=lambda f: (not f.blocking, f.kind, f.cells)):
        mark = "✗" if finding.blocking else "!"
        lines.append(f"  {mark} {finding.kind:<17} {', '.join(finding.cells)}: {finding.detail}")
    return lines


WEB_CRS_NAMES = {Crs.GCJ02: "GCJ-02", Crs.BD09: "BD-09"}


def _offset_hint(crs: Crs) -> Hint:
    name = WEB_CRS_NAMES[crs]
    return Hint(
        f"the polygons lie off their parents the way lon/lat from a Chinese web map ({name}) do when "
        f"read as WGS-84, and as {name} they fit; import again with --crs {crs.value}",
        f"多边形整体偏离其上级边界，按国内网络地图的 {name} 坐标读入则吻合；请加 --crs {crs.value} 重新导入",
    )


@click.group("import")
def import_boundaries() -> None:
    """Import townships, villages or cells from a GeoJSON, GeoPackage or Shapefile in any CRS, or
    undo the latest import."""


def _import_command(level: Level) -> click.Command:
    """`gridwatch import LEVEL FILE`: the same command for every level."""

    @click.command(
        level.value,
        short_help=f"Import {level}s from a boundary file.",
        help=f"""Import {level}s from FILE, a GeoJSON, GeoPackage or Shapefile in any CRS.

        The file is validated as a whole against what is in the database (codes, geometries, overlaps,
        gaps, crossings); on any blocking finding nothing is written and the exit status is 1. Otherwise
        every polygon is upserted by code in one transaction and the index version is bumped;
        `gridwatch import rollback` undoes it.""",
    )
    @click.argument("path", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False))
    @click.option(
        "--layer", default=None, help="The layer of a GeoPackage (default: its only or first layer)."
    )
    @click.option(
        "--crs",
        "web_crs",
        type=click.Choice([Crs.GCJ02.value, Crs.BD09.value]),
        default=None,
        help="The lon/lat are GCJ-02 or BD-09 (exported from a Chinese web map).",
    )
    @click.option(
        "--source-crs",
        default=None,
        help="The file's CRS when it does not say (a Shapefile without .prj), e.g. EPSG:4549.",
    )
    @click.option(
        "--encoding", default=None, help="The text encoding when the file does not say (old Shapefiles: GBK)."
    )
    @click.option("--code-field", default=None, help="The field holding codes (default: code, 网格编码, …).")
    @click.option("--name-field", default=None, help="The field holding names (default: name, 网格名称, …).")
    @click.option(
        "--fix", is_flag=True, help="Make invalid polygons valid (GEOS make_valid) instead of refusing them."
    )
    @click.option(
        "--code-cells", is_flag=True, help="Number cells without a code within the village they lie in."
    )
    @click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
    @click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
    def import_file(
        path: Path,
        layer: str | None,
        web_crs: str | None,
        source_crs: str | None,
        encoding: str | None,
        code_field: str | None,
        name_field: str | None,
        fix: bool,
        code_cells: bool,
        dry_run: bool,
        as_json: bool,
    ) -> None:
        runtime = migrated_runtime()
        with Session(runtime.engine) as session:
            boundaries = Boundaries(session, runtime.clock)
            try:
                read = read_boundaries(
                    path,
                    layer,
                    FieldMap(code_field, name_field),
                    source_crs,
                    Crs(web_crs) if web_crs else None,
                    encoding,
                )
            except BoundaryFileError as exc:
                raise click.ClickException(str(exc)) from None
            shapes, fixed = repair(read.codes, list(read.shapes)) if fix else (list(read.shapes), [])
            batch = BoundaryBatch(level, list(read.codes), read.names, shapes)
            if code_cells:
                if batch.level is not Level.CELL:
                    raise click.UsageError("--code-cells numbers cells only")
                try:
                    batch = boundaries.number_cells(batch)
                except InvalidCode as exc:
                    raise click.ClickException(f"cannot number the cells: {exc.message_en}") from None
            summary = {
                "file": str(path),
                "layer": read.layer,
                "source_crs": read.source_crs,
                "features": len(read.codes),
            }
            written: BoundaryWrite | None = None
            try:
                if dry_run:
                    findings = fixed + boundaries.check(batch)
                else:
                    written = boundaries.write(batch, f"{path}:{read.layer}", f"cli:{getpass.getuser()}")
                    findings = fixed + written.findings
            except BoundaryRefused as exc:
                findings = fixed + exc.findings
            refused = any(f.blocking for f in findings)
            hints = list(read.hints)
            if refused and web_crs is None and read.geographic:
                offset = boundaries.web_crs_hint(batch, findings)
                if offset is not None:
                    hints.append(_offset_hint(offset))
            lines = _report_lines(read, batch.level, findings)
            lines += [f"hint: {h.en}\n提示：{h.zh}" for h in hints]
            if written is not None:
                lines.append(
                    f"wrote {written.written} {level}s ({written.added} new, {written.replaced} replaced) as "
                    f"import #{written.import_id}; index version {written.index_version}. "
                    "Undo: gridwatch import rollback"
                )
            elif refused:
                lines.append(
                    "nothing written: correct the file (or --fix invalid geometries) and import again"
                )
            else:
                lines.append("dry run: nothing written")
            report = summary | {
                "findings": msgspec.to_builtins(findings),
                "hints": msgspec.to_builtins(hints),
                "written": None
                if written is None
                else {
                    "import_id": written.import_id,
                    "written": written.written,
                    "added": written.added,
                    "replaced": written.replaced,
                    "index_version": written.index_version,
                },
            }
            _emit(as_json, report, lines)
            if refused:
                raise SystemExit(1)

    return import_file


for lv in Level:
    import_boundaries.add_command(_import_command(lv))


@import_boundaries.command("rollback")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
def rollback(as_json: bool) -> None:
    """Undo the latest boundary import.

    The codes it added are removed and the polygons it replaced restored, in one transaction; the
    index version is bumped.
    """
    runtime = migrated_runtime()
    with Session(runtime.engine) as session:
        try:
            undone = Boundaries(session, runtime.clock).rollback()
        except NothingToRollBack as exc:
            raise click.ClickException(str(exc)) from None
        except BoundaryRefused as exc:
            raise click.ClickException(exc.findings[0].detail) from None
        _emit(
            as_json,
            msgspec.to_builtins(undone),
            [
                f"rolled back import #{undone.import_id} ({undone.level}s from {undone.source}): "
                f"{undone.removed} removed, {undone.restored} restored; index version {undone.index_version}"
            ],
        )


def _emit(as_json: bool, report: object, lines: list[str]) -> None:
    if as_json:
        click.echo(msgspec.json.encode(report).decode())
    else:
        click.echo("\n".join(lines))


EXPORTS = ("townships", "villages", "cells", "incidents", "counts")


def _local_midnight(day: dt.datetime | None) -> dt.datetime | None:
    """A date on the command line is a day in the county (Asia/Shanghai), from its midnight."""
    return None if day is None else day.replace(tzinfo=ZoneInfo(DEFAULT_TZ))


@click.command("export")
@click.argument("what", type=click.Choice(EXPORTS))
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="FILE.gpkg or FILE.geojson",
)
@click.option("--township", default=None, help="Only this township's (9-digit code).")
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Incidents reported from this day."
)
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="… and before this day.")
def export(
    what: str, out: Path, township: str | None, since: dt.datetime | None, until: dt.datetime | None
) -> None:
    """Write boundaries, incidents (points) or incident counts per cell to a GeoPackage or GeoJSON."""
    if township is not None:
        try:
            check_code(township, TOWNSHIP_DIGITS, "township code")
        except InvalidCode as exc:
            raise click.BadParameter(exc.message_en, param_hint="--township") from None
    window = ExportWindow(_local_midnight(since), _local_midnight(until))
    runtime = migrated_runtime()
    with Session(runtime.engine) as session:
        if what == "incidents":
            table = exports.incidents(session, window, township)
        elif what == "counts":
            table = exports.cell_counts(session, window, runtime.clock(), township)
        else:
            table = exports.boundaries(session, Level(what.removesuffix("s")), township)
    try:
        write_features(out, table.layer, table.shapes, table.fields)
    except BoundaryFileError as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None
    click.echo(f"wrote {len(table.shapes)} {table.layer} to {out}")
