"""The `gridwatch` command: one entry point, composed here from the adapters."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import click
from sqlmodel import Session

from geodata.catalog_files import default_catalog_bytes
from geodata.dataset import DatasetError, write_dataset
from geodata.dataset import load_dataset as load_dataset_folder
from geodata.synth import SIZES, synthesize
from server.auth import Role, ScopeError, create_token
from server.cli.backup import backup, restore
from server.cli.boundaries import export, import_boundaries
from server.cli.report import report
from server.cli.sweep import sweep
from server.db import migrate as db_migrate
from server.incidents.batch import route_lines
from server.reference.service import first_county_code, has_data, load_dataset
from server.runtime import Runtime, runtime_from
from server.settings import Settings, SettingsError, get_settings
from sync.broker import BrokerAddress


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
        dataset = synthesize(seed) if data is None else load_dataset_folder(data)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from None
    out = sys.stdout.buffer
    for line in route_lines(sys.stdin.buffer, dataset, now=dt.datetime.now(dt.UTC)):
        out.write(line + b"\n")
        out.flush()


def _settings() -> Settings:
    settings = get_settings()
    settings.broker()  # a bad GRIDWATCH_MQTT_URL is said now, not when the broker is first needed
    return settings


def _runtime() -> Runtime:
    return runtime_from(_settings())


@main.command()
@click.option("--host", default=None, help="Default: GRIDWATCH_HOST or 127.0.0.1.")
@click.option("--port", type=int, default=None, help="Default: GRIDWATCH_PORT or 8000.")
@click.option(
    "--demo",
    is_flag=True,
    help="Load the synthetic demo county if no cells are loaded, and print an admin token.",
)
@click.option(
    "--migrate/--no-migrate", default=True, show_default=True, help="Bring the schema up to date first."
)
@click.option(
    "--field/--no-field",
    default=True,
    show_default=True,
    help="Take MQTT reports here too (and relay events); without GRIDWATCH_MQTT_URL on an embedded broker.",
)
def serve(host: str | None, port: int | None, demo: bool, migrate: bool, field: bool) -> None:
    """Run the HTTP API (Litestar on uvicorn) on the embedded defaults or GRIDWATCH_* settings."""
    import logging
    import signal

    import uvicorn

    from server.api.app import create_app
    from server.field.side import FieldSide
    from server.ops.logs import configure_logging

    runtime = _runtime()
    settings = runtime.settings
    configure_logging(settings, "serve")
    log = logging.getLogger("gridwatch.serve")
    if migrate:
        db_migrate.upgrade(runtime.engine)
    elif db_migrate.current(runtime.engine) != db_migrate.head():
        raise click.ClickException("the database schema is not current; run `gridwatch db upgrade`")
    if demo:
        with Session(runtime.engine) as session:
            if not has_data(session):
                load_dataset(session, synthesize(1))
                session.commit()
                click.echo("loaded the synthetic demo county (seed 1)")
            token = create_token(session, Role.ADMIN, f"county:{first_county_code(session)}", label="demo")
        click.echo(f"demo admin token: {token}")
    side = FieldSide(runtime, settings.broker(), settings.ingest_client_id)
    if field:
        try:
            broker = side.start()
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        log.info(
            "taking MQTT reports from the %s at %s", "embedded broker" if side.broker else "broker", broker
        )
    # On SIGTERM uvicorn stops taking connections and lets open requests finish (live streams are
    # cut after the grace period), then raises the signal again for the handler it found: this one,
    # so that the field side below still finishes and acks its batch before the process ends.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: None)
    try:
        uvicorn.run(
            create_app(runtime),
            host=host or settings.host,
            port=port or settings.port,
            log_config=None,
            timeout_graceful_shutdown=settings.shutdown_seconds,
        )
    finally:
        side.stop(settings.shutdown_seconds)
        log.info("stopped")


@main.group()
def db() -> None:
    """Database schema migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema (default: to the newest revision)."""
    runtime = _runtime()
    db_migrate.upgrade(runtime.engine, revision)
    click.echo(f"schema at {db_migrate.current(runtime.engine)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION ("base" removes every table)."""
    runtime = _runtime()
    db_migrate.downgrade(runtime.engine, revision)
    click.echo(f"schema at {db_migrate.current(runtime.engine) or 'base'}")


@db.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the newest one this code knows."""
    runtime = _runtime()
    click.echo(f"database {db_migrate.current(runtime.engine) or 'empty'}, code {db_migrate.head()}")


@main.command("load")
@click.option("--data", "data", type=click.Path(path_type=Path), required=True, help="A data folder.")
def load(data: Path) -> None:
    """Load a data folder into the database (upsert by code; every process rebuilds its index)."""
    try:
        dataset = load_dataset_folder(data)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from None
    runtime = _runtime()
    db_migrate.upgrade(runtime.engine)
    with Session(runtime.engine) as session:
        load_dataset(session, dataset)
        session.commit()
    click.echo(f"loaded {len(dataset.cells.records)} cells, {len(dataset.units)} units from {data}")


@main.group()
def token() -> None:
    """API tokens (bearer); only a digest is stored, so the token is shown once."""


@token.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--scope", required=True, help="county:CODE, township:CODE, unit:ID, worker:ID or device:ID.")
@click.option("--label", default="", help="Who or what the token is for.")
@click.option("--days", type=click.IntRange(min=1), default=None, help="Expire after this many days.")
def token_create(role: str, scope: str, label: str, days: int | None) -> None:
    """Create a token and print it."""
    runtime = _runtime()
    now = runtime.clock()
    expires = now + dt.timedelta(days=days) if days else None
    with Session(runtime.engine) as session:
        try:
            secret = create_token(session, Role(role), scope, label=label, expires=expires, now=now)
        except ScopeError as exc:
            raise click.BadParameter(str(exc), param_hint="--scope") from None
    click.echo(secret)


def _broker(url: str | None, settings: Settings) -> BrokerAddress:
    """--url, else GRIDWATCH_MQTT_URL, else the embedded broker of `serve` on loopback."""
    if url is None:
        return settings.broker() or BrokerAddress("127.0.0.1", settings.embedded_mqtt_port)
    try:
        return BrokerAddress.parse(url, settings.mqtt_ca_file)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--url") from None


@main.command()
@click.option(
    "--url",
    default=None,
    help="Default: GRIDWATCH_MQTT_URL, else the embedded broker of `serve` on loopback.",
)
@click.option(
    "--client-id", default=None, help="Default: GRIDWATCH_INGEST_CLIENT_ID; keep it fixed per worker."
)
@click.option("--shared", is_flag=True, help="Join the $share/gridwatch group (several workers, scale-out).")
def ingest(url: str | None, client_id: str | None, shared: bool) -> None:
    """Take reports, alerts and pings from MQTT; ack each after its commit; relay events and tasks."""
    import logging
    import signal
    import threading

    from server.field.endpoint import serve_ingest_endpoint
    from server.field.side import FieldSide
    from server.ops.logs import configure_logging

    runtime = _runtime()
    settings = runtime.settings
    broker = _broker(url, settings)
    configure_logging(settings, "ingest")
    log = logging.getLogger("gridwatch.ingest")
    side = FieldSide(runtime, broker, client_id or settings.ingest_client_id, shared=shared)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        side.start()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    assert side.ingest is not None
    endpoint = None
    if settings.metrics_port:
        try:
            endpoint = serve_ingest_endpoint(runtime, side.ingest, settings.host, settings.metrics_port)
        except OSError as exc:
            side.stop()
            raise click.ClickException(
                f"cannot serve /health and /metrics on {settings.host}:{settings.metrics_port}: {exc}"
            ) from None
    log.info("ingesting from %s as %s", broker, side.client_id)
    stop.wait()
    log.info("stopping: finishing the batch in hand")
    side.stop(settings.shutdown_seconds)
    if endpoint is not None:
        endpoint.shutdown()
    log.info("stopped after %d messages", side.ingest.handled)


@main.command()
@click.option("--workers", type=click.IntRange(min=1), default=20, show_default=True)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1, max=100_000),
    default=10.0,
    show_default=True,
    help="Messages per second.",
)
@click.option("--duration", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds.")
@click.option("--bad-share", type=click.FloatRange(min=0, max=1), default=0.03, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--url", default=None, help="Default: GRIDWATCH_MQTT_URL, else the embedded broker on loopback."
)
def simulate(
    workers: int, rate: float, duration: float, bad_share: float, seed: int, url: str | None
) -> None:
    """Publish realistic reports, pings and alerts (and some garbage) from the loaded county's
    workers and cameras, and print what was acknowledged. For the embedded broker or an open test
    broker: it speaks for every worker, which a broker with the generated ACL refuses."""
    import json

    import shapely
    from sqlmodel import col, select

    from server.db.tables import CellRow, DeviceRow, WorkerRow
    from server.field.store import to_device
    from sync.simulator import FieldSimulator, FieldWorker

    runtime = _runtime()
    broker = _broker(url, runtime.settings)
    with Session(runtime.engine) as session:
        if not has_data(session):
            raise click.ClickException(
                "no county loaded: run `gridwatch serve --demo` or `gridwatch load` first"
            )
        county = first_county_code(session)
        rows = session.exec(select(WorkerRow).order_by(col(WorkerRow.id))).all()
        chosen = [w for w in rows if w.cells][:workers]
        wanted = {c for w in chosen for c in w.cells}
        shapes = {
            c.code: shapely.from_geojson(c.geometry)
            for c in session.exec(select(CellRow).where(col(CellRow.code).in_(wanted))).all()
        }
        townships = {w.township for w in chosen}
        cameras = [
            to_device(d)
            for d in session.exec(select(DeviceRow).where(col(DeviceRow.township).in_(townships))).all()
            if d.categories
        ]
    field_workers = [FieldWorker(w.id, [shapes[c] for c in w.cells if c in shapes]) for w in chosen]
    try:
        simulator = FieldSimulator(county, field_workers, cameras, broker, seed=seed, bad_share=bad_share)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot simulate against {broker}: {exc}") from None
    click.echo(
        f"{len(field_workers)} workers and {len(cameras)} cameras at {rate}/s for {duration}s on {broker}",
        err=True,
    )
    simulator.run(rate, duration)
    simulator.settle(timeout=30)
    simulator.close()
    click.echo(json.dumps(simulator.tally.summary(), ensure_ascii=False))


def _console_options(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(
        [
            click.option(
                "--lang", type=click.Choice(["zh", "en"]), default=None, help="Default: from the locale."
            ),
            click.option(
                "--web", is_flag=True, help="Serve the console to a browser (textual-serve) instead."
            ),
            click.option("--web-port", type=int, default=8010, show_default=True),
        ]
    ):
        command = option(command)
    return command


@main.command()
@click.option("--url", default=None, help="The server. Default: http://GRIDWATCH_HOST:GRIDWATCH_PORT.")
@click.option(
    "--token", envvar="GRIDWATCH_TOKEN", required=True, help="A duty officer's token (or GRIDWATCH_TOKEN)."
)
@_console_options
def console(url: str | None, token: str, lang: str | None, web: bool, web_port: int) -> None:
    """The duty officers' live console; it talks to the server over HTTP and the live stream only."""
    settings = _settings()
    _run_console(url or f"http://{settings.host}:{settings.port}", token, lang, web, web_port)


def _run_console(url: str, token: str, lang: str | None, web: bool, web_port: int) -> None:
    from console.i18n import Lang, default_lang
    from console.remote.client import ServerClient

    chosen = lang or default_lang()
    if web:
        import os
        import shlex

        from textual_serve.server import Server

        os.environ["GRIDWATCH_TOKEN"] = (
            token  # each browser session's console reads it; not on a command line
        )
        command = shlex.join([sys.executable, "-m", "server.cli", "console", "--url", url, "--lang", chosen])
        Server(command, host="127.0.0.1", port=web_port, title="Gridwatch").serve()
        return
    from console.app import GridwatchConsole

    GridwatchConsole(ServerClient(url, token), cast("Lang", chosen)).run()


@main.command()
@click.option("--port", type=int, default=None, help="The API's port. Default: GRIDWATCH_PORT or 8000.")
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1, max=1000),
    default=2.0,
    show_default=True,
    help="Field messages per second.",
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("gridwatch-demo.log"),
    show_default=True,
)
@_console_options
def demo(port: int | None, rate: float, log_path: Path, lang: str | None, web: bool, web_port: int) -> None:
    """Everything on one machine: the server with the demo county and an embedded broker, a field
    simulator feeding it, and the console in front. Quitting the console stops them all."""
    import subprocess
    import time

    import httpx

    runtime = _runtime()
    settings = runtime.settings
    db_migrate.upgrade(runtime.engine)
    with Session(runtime.engine) as session:
        if not has_data(session):
            load_dataset(session, synthesize(1))
            session.commit()
        token = create_token(session, Role.ADMIN, f"county:{first_county_code(session)}", label="demo")
    runtime.engine.dispose()
    api_port = port or settings.port
    url = f"http://127.0.0.1:{api_port}"
    me = [sys.executable, "-m", "server.cli"]
    with log_path.open("ab") as log:
        children = [
            subprocess.Popen([*me, "serve", "--no-migrate", "--port", str(api_port)], stdout=log, stderr=log)
        ]
        try:
            deadline = time.monotonic() + 60
            while True:
                if children[0].poll() is not None:
                    raise click.ClickException(
                        f"the server stopped (exit {children[0].returncode}); see {log_path}"
                    )
                try:
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise click.ClickException(f"the server did not answer within 60 s; see {log_path}")
                time.sleep(0.3)
            simulate_args = [
                "simulate",
                "--rate",
                str(rate),
                "--duration",
                str(365 * 86400),
                "--bad-share",
                "0.01",
            ]
            children.append(subprocess.Popen([*me, *simulate_args], stdout=log, stderr=log))
            click.echo(f"server at {url}, field simulator at {rate}/s; logs in {log_path}", err=True)
            _run_console(url, token, lang, web, web_port)
        finally:
            for child in reversed(children):
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()


@main.command("mqtt-acl")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
def mqtt_acl(out: Path) -> None:
    """Write Mosquitto's password and ACL files from the worker and device roster.

    Every worker and device gets a new random password (credentials.csv, for provisioning); each may
    publish only under its own gw/{c}/up/{id}/ and read only its own gw/{c}/down/{id}/. The platform's
    own account is the user and password of GRIDWATCH_MQTT_URL when it has them (else
    gridwatch-ingest with a new password).
    """
    from sqlmodel import select

    from server.db.tables import DeviceRow, WorkerRow
    from sync.acl import INGEST_USER, write_broker_files

    runtime = _runtime()
    platform = runtime.settings.broker()
    user = platform.username if platform and platform.username else INGEST_USER
    with Session(runtime.engine) as session:
        senders = [*session.exec(select(WorkerRow.id)).all(), *session.exec(select(DeviceRow.id)).all()]
    credentials = write_broker_files(out, senders, user, platform.password if platform else None)
    click.echo(f"wrote {out}/passwords, {out}/acl and {out}/credentials.csv for {len(credentials)} accounts")


main.add_command(import_boundaries)
main.add_command(export)
main.add_command(sweep)
main.add_command(report)
main.add_command(backup)
main.add_command(restore)
