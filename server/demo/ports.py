"""The demo's ports, checked before it starts anything: a port another program holds would leave the
console showing that program's board, or the broker and simulator failing only in the log."""

from __future__ import annotations

import socket


def taken(host: str, port: int) -> bool:
    """Whether something on this machine already holds (host, port) or it cannot be had."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers do: a port left in TIME_WAIT by a demo that just ended is free again.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def refusal(ports: dict[str, int], host: str = "127.0.0.1") -> str | None:
    """The reason, in English and Chinese, that the demo cannot start on these ports (by purpose:
    api, broker, web), or None when all are free."""
    busy = [(what, port) for what, port in ports.items() if taken(host, port)]
    if not busy:
        return None
    names_en = {"api": "the API", "broker": "the MQTT broker", "web": "the web console"}
    names_zh = {"api": "接口服务", "broker": "MQTT 代理", "web": "网页控制台"}
    en = ", ".join(f"{port} ({names_en.get(what, what)})" for what, port in busy)
    zh = "、".join(f"{port}（{names_zh.get(what, what)}）" for what, port in busy)
    return (
        f"port {en} already in use on {host}: stop what holds it or choose other ports "
        f"(--port, GRIDWATCH_EMBEDDED_MQTT_PORT, --web-port); nothing was started\n"
        f"端口 {zh} 已被占用：请先停止占用它的程序或改用其他端口（--port、GRIDWATCH_EMBEDDED_MQTT_PORT、--web-port）；未启动任何服务"
    )
