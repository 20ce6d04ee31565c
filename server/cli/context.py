"""What several `gridwatch` commands share: their settings, their runtime, the broker they talk to
and the demo county."""

from __future__ import annotations

import click
from sqlmodel import Session

from geodata.synth import synthesize
from server.auth import Role, create_token
from server.reference.service import first_county_code, has_data, load_dataset
from server.runtime import Runtime, runtime_from
from server.settings import Settings, get_settings
from sync.broker import BrokerAddress


def settings() -> Settings:
    chosen = get_settings()
    chosen.broker()  # a bad GRIDWATCH_MQTT_URL is said now, not when the broker is first needed
    return chosen


def runtime() -> Runtime:
    return runtime_from(settings())


def broker(url: str | None, settings: Settings) -> BrokerAddress:
    """--url, else GRIDWATCH_MQTT_URL, else the embedded broker of `serve` on loopback."""
    if url is None:
        return settings.broker() or BrokerAddress("127.0.0.1", settings.embedded_mqtt_port)
    try:
        return BrokerAddress.parse(url, settings.mqtt_ca_file)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--url") from None


def demo_county(runtime: Runtime, seed: int = 1, *, past: bool = True) -> tuple[str, bool]:
    """An admin token for the county, after loading the synthetic demo county (seed 1) and, unless
    `past` is False (the caller builds it with `demo_past`), its past from `seed` if no cells are
    loaded; and whether it was loaded now."""
    with Session(runtime.engine) as session:
        loaded = not has_data(session)
        if loaded:
            load_dataset(session, synthesize(1))
            session.commit()
        token = create_token(session, Role.ADMIN, f"county:{first_county_code(session)}", label="demo")
    if loaded and past:
        demo_past(runtime, seed)
    return token, loaded


def demo_past(runtime: Runtime, seed: int) -> None:
    """The demo county's past from `seed`, built once: a year of incidents, whistles and patrols,
    and the last Tuesday sweeps."""
    from server.demo.history import build_history  # numpy and the simulator's tables: demo only
    from server.demo.sweeps import past_sweeps

    with Session(runtime.engine) as session:
        build_history(session, runtime.domains(session), seed, runtime.clock())
        past_sweeps(session, runtime, seed)
