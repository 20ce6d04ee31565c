"""The ingest worker's own small HTTP endpoint, for operations: `/health` (public, for the
orchestrator's health check: is the worker subscribed to the broker?) and `/metrics` (Prometheus,
for an admin's token, as the API's /metrics is). Everything else is 404."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

from server.auth import Role, TokenRejected, authenticate
from server.runtime import Runtime
from sync.ingest import MqttIngest

StartResponse = Callable[..., Any]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # scrapes every few seconds: not news
        pass


def _json(start: StartResponse, status: int, body: dict[str, Any], kind: str) -> Iterable[bytes]:
    reasons = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 503: "Service Unavailable"}
    start(f"{status} {reasons[status]}", [("Content-Type", kind)])
    return [json.dumps(body, ensure_ascii=False).encode()]


def _problem(start: StartResponse, status: int, path: str, detail: str, detail_zh: str) -> Iterable[bytes]:
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}[status]
    body: dict[str, Any] = {
        "type": f"https://gridwatch.example/problems/{code}",
        "title": code.replace("_", " "),
    }
    body |= {"status": status, "detail": detail, "detail_zh": detail_zh, "instance": path, "code": code}
    return _json(start, status, body, "application/problem+json")


def ingest_app(
    runtime: Runtime, ingest: MqttIngest
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    metrics = make_wsgi_app(runtime.metrics.registry)

    def app(environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/health":
            up = ingest.connected.is_set()
            stalled = ingest.stalled()
            ok = up and stalled is None
            body = {
                "status": "ok" if ok else "unavailable",
                "broker": "connected" if up else "disconnected",
                "intake": stalled or "taking messages",
                "handled": ingest.handled,
            }
            return _json(start, 200 if ok else 503, body, "application/json")
        if path != "/metrics":
            return _problem(start, 404, path, f"no such path: {path}", f"没有这个路径：{path}")
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _problem(
                start, 401, path, "a bearer token is required (Authorization: Bearer gw_...)", "需要令牌"
            )
        try:
            principal = authenticate(runtime.engine, token.strip(), runtime.clock())
        except TokenRejected as exc:
            return _problem(start, 401, path, str(exc), "令牌无效或已过期")
        if principal.role is not Role.ADMIN:
            return _problem(start, 403, path, "metrics are for admins", "只有管理员可以读取指标")
        return metrics(environ, start)  # type: ignore[no-any-return]

    return app


def serve_ingest_endpoint(runtime: Runtime, ingest: MqttIngest, host: str, port: int) -> WSGIServer:
    """Serve in a daemon thread; the caller shuts it down."""
    server = make_server(host, port, ingest_app(runtime, ingest), _Server, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="ingest-endpoint", daemon=True).start()
    return server
