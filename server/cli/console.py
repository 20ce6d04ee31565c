"""`gridwatch console` and `gridwatch demo`: the duty officers' console, alone or with everything
behind it on one machine. The only module of the server that imports the console package."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

import click

from server.cli import context
from server.db import migrate as db_migrate


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


@click.command()
@click.option("--url", default=None, help="The server. Default: http://GRIDWATCH_HOST:GRIDWATCH_PORT.")
@click.option(
    "--token",
    envvar="GRIDWATCH_TOKEN",
    show_envvar=True,
    required=True,
    help="A duty officer's token; when not given, read from the GRIDWATCH_TOKEN environment variable.",
)
@_console_options
def console(url: str | None, token: str, lang: str | None, web: bool, web_port: int) -> None:
    """The duty officers' live console; it talks to the server over HTTP and the live stream only."""
    settings = context.settings()
    _run_console(url or f"http://{settings.host}:{settings.port}", token, lang, web, web_port)


def _run_console(
    url: str, token: str, lang: str | None, web: bool, web_port: int, notice: str | None = None
) -> None:
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

    app = GridwatchConsole(ServerClient(url, token), cast("Lang", chosen), notice=notice)
    app.run()
    if app.return_code:  # the console crashed (Textual printed why): say so to the shell
        sys.exit(app.return_code)


@click.command()
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
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="The demo's history (built once, on the first start) and its live field and units follow it.",
)
@_console_options
def demo(
    port: int | None, rate: float, log_path: Path, seed: int, lang: str | None, web: bool, web_port: int
) -> None:
    """Everything on one machine: the server with the demo county (and a year of its history) and
    an embedded broker, a field simulator feeding it, simulated units that sign and handle what is
    dispatched to them, and the console in front. Quitting the console stops them all."""
    import logging
    import subprocess
    import threading
    import time

    import httpx
    from sqlmodel import Session

    from server.demo.ports import refusal
    from server.demo.units import UnitDesk, demo_phones, retire_phones, retire_unit_tokens, unit_tokens
    from server.reference.service import first_county_code

    runtime = context.runtime()
    settings = runtime.settings
    api_port = port or settings.port
    ports = {"api": api_port}
    if settings.broker() is None:  # else the county's own broker, already running
        ports["broker"] = settings.embedded_mqtt_port
    if web:
        ports["web"] = web_port
    refused = refusal(ports)
    if refused:
        raise click.ClickException(refused)
    db_migrate.upgrade(runtime.engine)
    token, loaded = context.demo_county(runtime, seed, past=False)
    url = f"http://127.0.0.1:{api_port}"
    with Session(runtime.engine) as session:
        county = first_county_code(session)
        phones = demo_phones(session, county, runtime.clock, settings.public_url or url)
        # The paired unit's work is left to the person holding its phone.
        left = [p.ident for p in phones]
        tokens = unit_tokens(session, county, runtime.clock(), left_to_people=left)
    me = [sys.executable, "-m", "server.cli"]
    off_duty = threading.Event()
    with log_path.open("ab") as log:
        children = [
            subprocess.Popen([*me, "serve", "--no-migrate", "--port", str(api_port)], stdout=log, stderr=log)
        ]
        try:
            if loaded:  # the first start: the past is written while the server starts
                click.echo(
                    "building the demo county's past, once / 正在生成演示县的历史数据（仅首次）", err=True
                )
                context.demo_past(runtime, seed)
            runtime.engine.dispose()
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
                "--seed",
                str(seed),
                # Every worker of the county: the field spreads over every township and village.
                "--workers",
                "1000000",
            ]
            children.append(subprocess.Popen([*me, *simulate_args], stdout=log, stderr=log))
            logging.getLogger("httpx").setLevel(logging.WARNING)  # the units' requests stay off the screen
            desk = UnitDesk(httpx.Client(base_url=url, timeout=10), token, tokens, runtime.clock, seed=seed)
            threading.Thread(target=desk.run, args=(off_duty,), daemon=True, name="units").start()
            click.echo(f"server at {url}, field simulator at {rate}/s; logs in {log_path}", err=True)
            lines = []
            for phone in phones:
                who = "grid worker / 网格员" if phone.role.value == "worker" else "unit officer / 单位"
                lines.append(
                    f"field app / 现场端 — {who} {phone.name} ({phone.ident}): {phone.link}  code {phone.code}"
                )
            for line in lines:
                click.echo(line, err=True)
            # Also on the console's screen, which covers the terminal these lines went to.
            _run_console(url, token, lang, web, web_port, notice="\n".join(lines))
        finally:
            off_duty.set()
            with Session(runtime.engine) as session:
                retire_unit_tokens(session, tokens)
                retire_phones(session, phones, runtime.clock)
            for child in reversed(children):
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()
