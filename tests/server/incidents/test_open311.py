"""Open311 GeoReport v2 as an Open311 client uses it: api_key, form-encoded requests, spec errors."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest

from tests.support.api import CST, Api, stored

BASE = "/open311/v2"


def key(api: Api, who: str = "duty_county") -> str:
    return api.template.tokens[who]


def post_request(api: Api, who: str = "duty_county", **form: Any) -> Any:
    lon, lat = api.point_in(api.template.township_a)
    body = {
        "api_key": key(api, who),
        "service_code": "0501",
        "lat": str(lat),
        "long": str(lon),
        "description": "门口占道",
    } | form
    return api.client.post(f"{BASE}/requests.json", data={k: v for k, v in body.items() if v is not None})


def test_services(api: Api) -> None:
    services = api.client.get(f"{BASE}/services.json?api_key={key(api)}").json()
    assert len(services) == len(api.template.county.catalog.categories)
    vending = next(s for s in services if s["service_code"] == "0501")
    assert vending["service_name"] == "占道经营"
    assert vending["group"] == "街面秩序"
    assert vending["type"] == "realtime"
    definition = api.client.get(f"{BASE}/services/0501.json?api_key={key(api)}").json()
    assert definition == {"service_code": "0501", "attributes": []}


def test_post_and_read_a_request(api: Api) -> None:
    created = post_request(api, media_url="https://example.org/p.jpg")
    assert created.status_code == 201, created.text
    [answer] = created.json()
    request_id = answer["service_request_id"]
    assert "占道" in answer["service_notice"] or answer["service_notice"]
    [found] = api.client.get(f"{BASE}/requests/{request_id}.json?api_key={key(api)}").json()
    assert found["status"] == "open"
    assert found["service_code"] == "0501"
    assert found["agency_responsible"].endswith("综合行政执法办公室")
    assert found["media_url"] == "https://example.org/p.jpg"
    assert dt.datetime.fromisoformat(found["expected_datetime"]) == dt.datetime(2026, 6, 16, 10, tzinfo=CST)
    # The incident is an ordinary incident, from the Open311 source.
    detail = api.client.get(f"/incidents/{request_id}", headers=api.auth("duty_a")).json()
    assert detail["incident"]["source"] == "open311"
    api.act(request_id, "reject", reason="重复举报")
    listed = api.client.get(f"{BASE}/requests.json?status=closed&api_key={key(api)}").json()
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert api.client.get(f"{BASE}/requests.json?status=open&api_key={key(api)}").json() == []
    by_id = api.client.get(f"{BASE}/requests.json?service_request_id={request_id}&api_key={key(api)}").json()
    assert by_id[0]["status"] == "closed"


def test_bearer_header_works_too(api: Api) -> None:
    assert api.client.get(f"{BASE}/services.json", headers=api.auth("worker_a1")).status_code == 200


def test_requests_are_scoped(api: Api) -> None:
    [mine] = post_request(api, who="worker_a1").json()
    [other] = post_request(api, who="worker_a2").json()
    seen = api.client.get(f"{BASE}/requests.json?api_key={key(api, 'worker_a1')}").json()
    assert [r["service_request_id"] for r in seen] == [mine["service_request_id"]]
    refused = api.client.get(
        f"{BASE}/requests/{other['service_request_id']}.json?api_key={key(api, 'worker_a1')}"
    )
    assert refused.status_code == 403
    assert api.client.get(f"{BASE}/requests.json?api_key={key(api, 'duty_b')}").json() == []


@pytest.mark.parametrize(
    ("form", "status", "mentions"),
    [
        ({"api_key": None}, 403, "api_key is required"),
        ({"api_key": "gw_nope"}, 403, "api_key refused"),
        ({"service_code": None}, 400, "service_code"),
        ({"service_code": "9999"}, 400, "unknown category"),
        ({"lat": "north"}, 400, "lat must be a number"),
        ({"long": None}, 400, "lat and long are required"),
        ({"lat": "nan"}, 400, "finite"),
        ({"lat": "30.0", "long": "100.0"}, 400, "outside the county"),
    ],
)
def test_bad_requests_get_spec_errors(api: Api, form: dict[str, Any], status: int, mentions: str) -> None:
    done = post_request(api, **form)
    assert done.status_code == status, done.text
    [error] = done.json()
    assert error["code"] == status
    assert mentions in error["description"]
    assert error["description_zh"]
    assert api.client.get("/incidents", headers=api.auth("admin")).json()["total"] == 0


def test_open311_refusals(api: Api) -> None:
    assert api.client.get(f"{BASE}/services.json").status_code == 403
    assert post_request(api, who="device").status_code == 403
    assert post_request(api, who="unit_a").status_code == 403
    missing = api.client.get(f"{BASE}/requests/nope.json?api_key={key(api)}")
    assert missing.status_code == 404
    assert missing.json()[0]["code"] == 404
    assert api.client.get(f"{BASE}/services/0000.json?api_key={key(api)}").status_code == 404
    assert api.client.get(f"{BASE}/requests.json?status=lost&api_key={key(api)}").status_code == 400


@pytest.mark.parametrize(
    ("form", "en", "zh"),
    [
        (b"&description=%FF%FE", "not valid UTF-8", "不是有效的 UTF-8"),
        (b"&description=\xe5\x8d", "not valid UTF-8", "不是有效的 UTF-8"),
        (b"&description=a%00b", "NUL", "空字符"),
        (b"&client_id=c%00", "NUL", "空字符"),
    ],
    ids=["percent-encoded bad UTF-8", "raw bad UTF-8", "NUL in the text", "NUL in the client id"],
)
def test_unreadable_forms_get_spec_errors_in_both_languages(api: Api, form: bytes, en: str, zh: str) -> None:
    lon, lat = api.point_in(api.template.township_a)
    body = f"api_key={key(api)}&service_code=0501&lat={lat}&long={lon}".encode() + form
    before = stored(api)
    done = api.client.post(
        f"{BASE}/requests.json",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 400, done.text
    [error] = done.json()
    assert error["code"] == 400
    assert en in error["description"]
    assert zh in error["description_zh"]
    assert stored(api) == before


def test_an_unexpected_error_is_logged_without_the_key(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(*_: Any) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(api.runtime.intake, "submit", fail)
    with caplog.at_level(logging.ERROR, logger="gridwatch.api"):
        done = post_request(api)
    assert done.status_code == 500
    assert done.json() == [
        {
            "code": 500,
            "description": "the server failed; the error was logged",
            "description_zh": "服务器出错，错误已记录",
        }
    ]
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.getMessage() == f"unhandled error on POST {BASE}/requests.json"
    assert "the disk is on fire" in caplog.text
    assert key(api) not in caplog.text
