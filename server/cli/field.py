"""`gridwatch simulate` and `gridwatch mqtt-acl`: a simulated field on the broker, and the broker's
accounts for the real one."""

from __future__ import annotations

from pathlib import Path

import click
from sqlmodel import Session

from server.cli import context
from server.reference.service import first_county_code, has_data


@click.command()
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
@click.option(
    "--resend-seconds",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Send a report again when its ack has not come this long after it was sent.",
)
def simulate(
    workers: int,
    rate: float,
    duration: float,
    bad_share: float,
    seed: int,
    url: str | None,
    resend_seconds: float,
) -> None:
    """Publish realistic reports, pings and alerts (and some garbage) from the loaded county's
    workers and cameras, and print what was acknowledged. Like a phone, it keeps each report and
    alert until the platform's ack and sends it again until the ack comes. For the embedded broker
    or an open test broker: it speaks for every worker, which a broker with the generated ACL
    refuses."""
    import json

    from paho.mqtt.enums import MQTTProtocolVersion

    from server.field.service import FieldService
    from sync.simulator import FieldSimulator

    runtime = context.runtime()
    broker = context.broker(url, runtime.settings)
    embedded = url is None and runtime.settings.broker() is None
    with Session(runtime.engine) as session:
        if not has_data(session):
            raise click.ClickException(
                "no county loaded: run `gridwatch serve --demo` or `gridwatch load` first"
            )
        county = first_county_code(session)
        field_workers, cameras = FieldService(session).simulated(workers)
    try:
        simulator = FieldSimulator(
            county,
            field_workers,
            cameras,
            broker,
            seed=seed,
            bad_share=bad_share,
            resend_seconds=resend_seconds,
            protocol=MQTTProtocolVersion.MQTTv311 if embedded else MQTTProtocolVersion.MQTTv5,
        )
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


@click.command("mqtt-acl")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
def mqtt_acl(out: Path) -> None:
    """Write Mosquitto's password and ACL files from the worker and device roster.

    Every worker and device gets a new random password (credentials.csv, for provisioning) in
    `passwords`, for the phones' listener; each may publish only under its own gw/{c}/up/{id}/ and
    read only its own gw/{c}/down/{id}/. The platform's own account, alone in `platform-passwords`
    for the platform's listener, is the user and password of GRIDWATCH_MQTT_URL when it has them
    (else gridwatch-ingest with a new password). Only their owner may read the files; run as root,
    the broker's files go to Mosquitto's own user, which Mosquitto started as root runs as.
    """
    from server.field.service import FieldService
    from sync.acl import BROKER_USER, INGEST_USER, hand_to_broker_user, write_broker_files

    runtime = context.runtime()
    platform = runtime.settings.broker()
    user = platform.username if platform and platform.username else INGEST_USER
    with Session(runtime.engine) as session:
        senders = FieldService(session).senders()
    try:
        credentials = write_broker_files(out, senders, user, platform.password if platform else None)
    except ValueError as exc:
        raise click.ClickException(f"nothing written: {exc}") from None
    click.echo(
        f"wrote {out}/passwords, {out}/platform-passwords, {out}/acl and {out}/credentials.csv "
        f"for {len(credentials)} accounts"
    )
    closed = hand_to_broker_user(out)
    if closed is not None:
        click.echo(
            f"warning: Mosquitto started as root runs as user {BROKER_USER!r}, which may not enter "
            f"{closed}: it cannot open {out}/passwords. Write the files to a folder it can reach, or "
            f"start Mosquitto as yourself, not as root.\n"
            f"警告：以 root 启动的 Mosquitto 以用户 {BROKER_USER!r} 运行，该用户无权进入 {closed}，"
            f"无法打开 {out}/passwords。请把文件写到该用户可进入的目录，或以普通用户（非 root）启动 Mosquitto。",
            err=True,
        )
