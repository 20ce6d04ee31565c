"""`gridwatch serve` and `gridwatch ingest`: the HTTP API, and the MQTT intake on its own."""

from __future__ import annotations

import click

from server.cli import context
from server.db import migrate as db_migrate
from sync.acl import platform_client_id


def _client_id(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    try:
        return None if value is None else platform_client_id(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
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
    help="Take MQTT reports here too (and relay events), as GRIDWATCH_SERVE_CLIENT_ID; without "
    "GRIDWATCH_MQTT_URL on an embedded broker. Off where `gridwatch ingest` workers run: both would "
    "take every report.",
)
def serve(host: str | None, port: int | None, demo: bool, migrate: bool, field: bool) -> None:
    """Run the HTTP API (Litestar on uvicorn) on the embedded defaults or GRIDWATCH_* settings."""
    import logging
    import signal

    import uvicorn

    from server.api.app import create_app
    from server.field.side import FieldSide
    from server.ops.logs import configure_logging

    runtime = context.runtime()
    settings = runtime.settings
    configure_logging(settings, "serve")
    log = logging.getLogger("gridwatch.serve")
    if migrate:
        db_migrate.upgrade(runtime.engine)
    elif db_migrate.current(runtime.engine) != db_migrate.head():
        raise click.ClickException("the database schema is not current; run `gridwatch db upgrade`")
    if demo:
        token, loaded = context.demo_county(runtime)
        if loaded:
            click.echo("loaded the synthetic demo county (seed 1)")
        click.echo(f"demo admin token: {token}")
    side = FieldSide(runtime, settings.broker(), settings.serve_client_id)
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


@click.command()
@click.option(
    "--url",
    default=None,
    help="Default: GRIDWATCH_MQTT_URL, else the embedded broker of `serve` on loopback.",
)
@click.option(
    "--client-id",
    default=None,
    callback=_client_id,
    help="Default: GRIDWATCH_INGEST_CLIENT_ID; gridwatch-…, fixed per worker and never shared.",
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

    runtime = context.runtime()
    settings = runtime.settings
    broker = context.broker(url, settings)
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
