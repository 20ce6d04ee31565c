"""The documentation pages work offline: they reference no host but the server's own, and the server
answers every script, style and icon they reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar.testing import TestClient

from tests.support.api import Template, database_for_test, open_api

PAGES = ["/schema", "/schema/swagger", "/schema/redoc"]
# Every URL a page names in an attribute, and any absolute URL anywhere in it (scripts included).
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
ABSOLUTE = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+""")
KIND = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture(scope="module")
def client(sqlite_template: Template, tmp_path_factory: pytest.TempPathFactory) -> TestClient:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("docs")
    handle, client = open_api(sqlite_template, database_for_test(sqlite_template, folder, None))
    with client:
        yield client
    handle.runtime.engine.dispose()


@pytest.mark.parametrize("page", PAGES)
def test_page_references_no_other_host(client: TestClient, page: str) -> None:  # type: ignore[type-arg]
    answer = client.get(page)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    # The page embeds the document, whose texts may name URLs as data: what the browser loads is
    # named in the head, and in src/href attributes anywhere.
    assert ABSOLUTE.findall(answer.text.split("</head>", 1)[0]) == []
    references = REFERENCE.findall(answer.text)
    assert any(r.endswith(".js") for r in references)
    for reference in references:
        assert reference.startswith("/schema/"), reference


@pytest.mark.parametrize("page", PAGES)
def test_page_assets_are_served(client: TestClient, page: str) -> None:  # type: ignore[type-arg]
    for reference in REFERENCE.findall(client.get(page).text):
        asset = client.get(reference)
        assert asset.status_code == 200, reference
        assert KIND[Path(reference).suffix] in asset.headers["content-type"], reference
        assert len(asset.content) > 100


def test_assets_need_no_token_and_stay_inside_their_folder(client: TestClient) -> None:  # type: ignore[type-arg]
    assert client.get("/schema/assets/redoc/redoc.standalone.js").status_code == 200
    assert client.get("/schema/assets/redoc/../../../pyproject.toml").status_code == 404
    assert client.get("/schema/assets/swagger-ui/nosuch.js").status_code == 404
