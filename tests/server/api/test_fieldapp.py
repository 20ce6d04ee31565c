"""The field app's files as the server sends them (server/api/fieldapp.py): from `/`, without a token,
revalidated on every load, and gzipped, while the API's own answers are never compressed."""

from __future__ import annotations

import re

from server.api.fieldapp import FIELD_APP_DIR
from tests.support.api import Api


def test_the_front_door_is_the_field_app_and_needs_no_token(api: Api) -> None:
    landed = api.client.get("/", follow_redirects=False)
    assert landed.status_code == 302 and landed.headers["location"] == "/field/"
    page = api.client.get("/field/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"


def test_every_file_the_page_names_is_served(api: Api) -> None:
    page = api.client.get("/field/").text
    named = set(re.findall(r'(?:src|href)="(/field/[^"]+)"', page))
    assert named, "the page names none of its files"
    for path in named:
        assert api.client.get(path).status_code == 200, path
    assert api.client.get("/field/no-such-file.js").status_code == 404


def test_scripts_are_gzipped_and_the_api_is_not(api: Api) -> None:
    gzip = {"accept-encoding": "gzip"}
    script = api.client.get("/field/js/app.js", headers=gzip)
    assert script.headers.get("content-encoding") == "gzip"
    assert script.content == (FIELD_APP_DIR / "js" / "app.js").read_bytes()  # decoded by the client
    listing = api.client.get("/incidents", headers=gzip | api.auth("admin"))
    assert listing.status_code == 200 and "content-encoding" not in listing.headers
