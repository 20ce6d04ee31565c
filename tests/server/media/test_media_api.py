"""Media uploads: real file types, limits, content-hash storage, and reports that carry the URL."""

from __future__ import annotations

import hashlib

import pytest

from tests.support.api import Api

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def upload(
    api: Api, content: bytes, who: str = "worker_a1", field: str = "file", filename: str = "x.jpg"
) -> object:
    return api.client.post("/media", files={field: (filename, content, "image/jpeg")}, headers=api.auth(who))


@pytest.mark.parametrize(
    ("content", "mime", "extension"),
    [
        (JPEG, "image/jpeg", "jpg"),
        (PNG, "image/png", "png"),
        (MP4, "video/mp4", "mp4"),
        (WEBP, "image/webp", "webp"),
    ],
)
def test_upload_and_download(api: Api, content: bytes, mime: str, extension: str) -> None:
    done = upload(api, content)
    assert done.status_code == 201, done.text  # type: ignore[attr-defined]
    body = done.json()  # type: ignore[attr-defined]
    digest = hashlib.sha256(content).hexdigest()
    assert body == {
        "url": f"/media/{digest}.{extension}",
        "name": f"{digest}.{extension}",
        "content_type": mime,
        "size": len(content),
    }
    fetched = api.client.get(body["url"], headers=api.auth("duty_a"))
    assert fetched.status_code == 200
    assert fetched.content == content
    assert fetched.headers["content-type"].startswith(mime)


def test_same_file_is_stored_once(api: Api) -> None:
    first = upload(api, JPEG).json()  # type: ignore[attr-defined]
    second = upload(api, JPEG, who="duty_a", filename="other-name.png").json()  # type: ignore[attr-defined]
    assert first["name"] == second["name"]
    stored = list(api.runtime.settings.media_dir.rglob("*.jpg"))
    assert len(stored) == 1


def test_report_carries_the_media_url(api: Api) -> None:
    url = upload(api, JPEG).json()["url"]  # type: ignore[attr-defined]
    incident = api.report(media=[url]).json()["incident"]
    assert incident["media"] == [url]


@pytest.mark.parametrize(
    ("content", "field", "status", "mentions"),
    [
        (b"GIF89a" + b"\x00" * 20, "file", 422, "only JPEG"),
        (b"#!/bin/sh\nrm -rf /\n", "file", 422, "only JPEG"),
        (b"", "file", 422, "empty"),
        (JPEG, "photo", 400, "named 'file'"),
        (b"\xff\xd8\xff" + b"\x00" * 300_000, "file", 422, "larger than"),
    ],
)
def test_bad_uploads_refused_nothing_stored(
    api: Api, content: bytes, field: str, status: int, mentions: str
) -> None:
    done = upload(api, content, field=field)
    assert done.status_code == status, done.text  # type: ignore[attr-defined]
    assert mentions in done.text  # type: ignore[attr-defined]
    assert not api.runtime.settings.media_dir.exists() or not list(
        api.runtime.settings.media_dir.rglob("*.*")
    )


def test_upload_roles_and_bad_names(api: Api) -> None:
    assert upload(api, JPEG, who="anon").status_code == 401  # type: ignore[attr-defined]
    # A unit officer sends photos of the handling (docs/field-app.md).
    assert upload(api, JPEG, who="unit_a").status_code == 201  # type: ignore[attr-defined]
    assert upload(api, JPEG, who="device").status_code == 201  # type: ignore[attr-defined]
    for name in ("../../etc/passwd", "abc.jpg", "0" * 64 + ".jpg"):
        answer = api.client.get(f"/media/{name}", headers=api.auth("admin"))
        assert answer.status_code in (404, 422), name
    assert api.client.get(f"/media/{'0' * 64}.jpg", headers=api.auth("device")).status_code == 403
    assert (
        api.client.post(
            "/media", content=b"not multipart", headers=api.auth("worker_a1") | {"content-type": "text/plain"}
        ).status_code
        == 400
    )
