"""The embedded MQTT broker: the one-machine default. A county's deployment runs Mosquitto instead."""

from __future__ import annotations

import asyncio
import threading


class EmbeddedBroker:
    """amqtt in its own thread and event loop, bound to loopback: the one-machine default. It speaks
    MQTT 3.1.1 and keeps sessions in memory; a county's deployment uses Mosquitto (deploy/)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="amqtt", daemon=True)
        self._stop: asyncio.Event | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        from amqtt.broker import Broker  # type: ignore[import-untyped]

        broker = Broker(
            {
                "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
                "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
            }
        )
        self._stop = asyncio.Event()
        try:
            await broker.start()
        except BaseException as exc:  # the port is taken, most likely: say so to the caller
            self.failed = exc
            self.ready.set()
            return
        self.ready.set()
        await self._stop.wait()
        await broker.shutdown()

    def start(self) -> None:
        self._thread.start()
        self.ready.wait(30)
        if self.failed is not None:
            raise RuntimeError(
                f"the embedded MQTT broker could not start on 127.0.0.1:{self.port}: {self.failed}"
            )

    def stop(self) -> None:
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=10)
