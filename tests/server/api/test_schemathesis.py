"""Schemathesis against the project's own OpenAPI document: generated requests never get a 5xx.

Bounded (a few examples per operation, SQLite) so it stays inside CI's time; the live stream is
left out because it never ends by design. Schemathesis is driven directly (its pytest plugin reads
a pytest internal that pytest 9 removed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from server.api.app import create_app
from tests.support.api import Template, database_for_test, open_api

EXAMPLES_PER_OPERATION = 25


def test_no_server_errors(sqlite_template: Template, tmp_path: Path) -> None:
    handle, _ = open_api(
        sqlite_template, database_for_test(sqlite_template, tmp_path, None), media_dir=tmp_path / "media"
    )
    headers = {"Authorization": f"Bearer {sqlite_template.tokens['admin']}"}
    failures: list[str] = []
    tried = 0
    # Schemathesis drives the bare app through its own ASGI transport.
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", create_app(handle.runtime))
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/events/stream":
            continue
        tried += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case: Any) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
                )

        call()
    handle.runtime.engine.dispose()
    assert tried >= 20  # every operation but the stream was exercised
    assert failures == []
