"""Tokens (docs/domain.md#roles-and-scopes): a scope names what is loaded here, an admin lists and
revokes its own county's tokens, a revoked token is refused on its next request, and a county
department's unit officer filters its listings by township."""

from __future__ import annotations

import pytest
import shapely
import shapely.geometry
from sqlmodel import Session, select

from server.auth import Role, ScopeError, authenticate, create_token, digest
from server.db.tables import CountyRow, TokenRow
from tests.support.api import START, Api, stored

NEIGHBOUR = "339922"  # a county that is not loaded here


def token_id(api: Api, label: str) -> int:
    with Session(api.runtime.engine) as session:
        found: int = session.exec(select(TokenRow.id).where(TokenRow.label == label)).one()
    return found


def test_a_revoked_token_is_refused_at_once(api: Api) -> None:
    duty_a = token_id(api, "duty_a")
    assert api.client.get("/incidents", headers=api.auth("duty_a")).status_code == 200
    listed = api.client.get("/tokens", headers=api.auth("admin")).json()
    assert {t["label"] for t in listed["items"]} == {*api.template.tokens} - {"expired"} | {""}
    assert all(
        set(t) == {"id", "role", "scope", "label", "created_at", "expires_at", "revoked"}
        for t in listed["items"]
    )
    done = api.client.post(f"/tokens/{duty_a}/revoke", headers=api.auth("admin"))
    assert done.status_code == 200, done.text
    assert (done.json()["label"], done.json()["revoked"]) == ("duty_a", True)
    refused = api.client.get("/incidents", headers=api.auth("duty_a"))
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    key = api.template.tokens["duty_a"]
    assert api.client.get(f"/open311/v2/services.json?api_key={key}").status_code == 403
    # Again is no change; the other tokens go on working.
    assert api.client.post(f"/tokens/{duty_a}/revoke", headers=api.auth("admin")).json()["revoked"] is True
    assert api.client.get("/incidents", headers=api.auth("duty_b")).status_code == 200
    missing = api.client.post("/tokens/999999/revoke", headers=api.auth("admin"))
    assert missing.status_code == 404
    assert (missing.json()["detail"], missing.json()["detail_zh"]) == ("no token 999999", "没有令牌 999999")


def test_an_admin_lists_and_revokes_its_own_countys_tokens_only(api: Api) -> None:
    with Session(api.runtime.engine) as session:
        box = shapely.geometry.box(120.0, 30.0, 120.1, 30.1)
        session.add(
            CountyRow(
                code=NEIGHBOUR,
                name="邻县",
                geometry=shapely.to_geojson(box),
                minx=120.0,
                miny=30.0,
                maxx=120.1,
                maxy=30.1,
            )
        )
        session.commit()
        neighbour = create_token(session, Role.ADMIN, f"county:{NEIGHBOUR}", label="neighbour", now=START)
    theirs = {"Authorization": f"Bearer {neighbour}"}
    listed = api.client.get("/tokens", headers=theirs).json()
    assert [t["label"] for t in listed["items"]] == ["neighbour"]
    assert "neighbour" not in {
        t["label"] for t in api.client.get("/tokens", headers=api.auth("admin")).json()["items"]
    }
    before = stored(api)
    refused = api.client.post(f"/tokens/{token_id(api, 'duty_a')}/revoke", headers=theirs)
    assert refused.status_code == 403
    assert stored(api) == before
    assert api.client.get("/incidents", headers=api.auth("duty_a")).status_code == 200


@pytest.mark.parametrize(
    ("role", "scope", "said"),
    [
        (Role.ADMIN, f"county:{NEIGHBOUR}", f"no county {NEIGHBOUR} is loaded here"),
        (Role.DUTY, f"county:{NEIGHBOUR}", f"no county {NEIGHBOUR} is loaded here"),
        (Role.DUTY, "township:339921999", "no township 339921999 is loaded here"),
        (Role.UNIT, "unit:339921.dept.nobody", "no unit '339921.dept.nobody'"),
        (Role.WORKER, "worker:w-nobody", "no worker 'w-nobody'"),
        (Role.DEVICE, "device:cam-nowhere", "no device 'cam-nowhere'"),
    ],
)
def test_a_scope_must_name_what_is_loaded_here(api: Api, role: Role, scope: str, said: str) -> None:
    with Session(api.runtime.engine) as session:
        with pytest.raises(ScopeError, match=said) as caught:
            create_token(session, role, scope)
        assert scope.split(":", 1)[1] in caught.value.message_zh
        assert caught.value.message_zh.startswith(("本系统未载入", "没有"))
        # A token made before its place went (or written by hand) is refused as soon as it is used.
        session.add(TokenRow(digest=digest("gw_orphan"), role=role.value, scope=scope, created_at=START))
        session.commit()
    refused = api.client.get("/incidents", headers={"Authorization": "Bearer gw_orphan"})
    assert refused.status_code == 401
    assert said in refused.json()["detail"]


def test_a_device_sits_in_its_township(api: Api) -> None:
    device = api.template.county.devices[0]
    principal = authenticate(api.runtime.engine, api.template.tokens["device"], START)
    assert (principal.township, principal.county) == (device.cell[:9], device.cell[:6])


LISTINGS = [
    "/incidents",
    "/villages",
    "/cells",
    "/workers",
    "/subjects",
    "/power-lists",
    "/duties",
    "/whistles",
]


def test_a_department_unit_filters_its_listings_by_township(api: Api) -> None:
    """A county department's unit reads the whole county, so it may name any township of it, and
    no township elsewhere."""
    a = api.template.township_a
    got = {path: api.client.get(f"{path}?township={a}", headers=api.auth("unit_dept")) for path in LISTINGS}
    assert {path: done.status_code for path, done in got.items()} == dict.fromkeys(LISTINGS, 200)
    villages = got["/villages"].json()
    everywhere = api.client.get("/villages", headers=api.auth("unit_dept")).json()
    assert 0 < villages["total"] < everywhere["total"]
    assert {v["code"][:9] for v in villages["items"]} == {a}
    elsewhere = {
        path: api.client.get(f"{path}?township={NEIGHBOUR}101", headers=api.auth("unit_dept")).status_code
        for path in LISTINGS
    }
    assert elsewhere == dict.fromkeys(LISTINGS, 403)
    # A township's own office stays within its township.
    office = api.client.get(f"/villages?township={api.template.township_b}", headers=api.auth("unit_a"))
    assert office.status_code == 403
