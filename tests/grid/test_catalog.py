"""The shipped catalog is data, complete enough for a county, and refused when inconsistent."""

from __future__ import annotations

import json

import msgspec
import pytest

from geodata.catalog_files import default_catalog_bytes, department_templates, parse_catalog
from grid.catalog import Catalog
from grid.errors import CatalogError, UnknownCategory


def test_catalog_size(catalog: Catalog) -> None:
    assert len(catalog.majors) >= 6
    assert len(catalog.categories) >= 40
    assert len(catalog.matters) >= 40
    departments = {m.department for m in catalog.matters}
    assert len(departments) >= 8
    assert departments <= {d.id for d in department_templates()}


def test_majors_follow_gb_t_30428(catalog: Catalog) -> None:
    assert [(m.code, m.name_zh) for m in catalog.majors] == [
        ("01", "市容环境"),
        ("02", "宣传广告"),
        ("03", "施工管理"),
        ("04", "突发事件"),
        ("05", "街面秩序"),
        ("06", "扩展事件"),
    ]


@pytest.mark.parametrize(
    "name",
    [
        "私搭乱建",
        "占道经营",
        "违法户外广告",
        "乱涂乱画",
        "露天焚烧秸秆",
        "渣土撒漏",
        "非法采砂",
        "违法占用耕地建房",
        "畜禽养殖污染",
    ],
)
def test_named_minor_categories_present(catalog: Catalog, name: str) -> None:
    assert any(c.name_zh == name for c in catalog.categories)


def test_every_category_is_complete(catalog: Catalog) -> None:
    for c in catalog.categories:
        assert c.name_en and c.accept_conditions and c.close_conditions, c.code
        assert c.matters, c.code
        assert 0 < c.alert_confidence <= 1
        assert c.limits.handle.value > 0
    for m in catalog.matters:
        assert m.legal_basis.strip() and m.name_en, m.code
    assert all(c.urgent for c in catalog.categories if c.major == "04")
    assert catalog.category("0501").name_zh == "占道经营"
    with pytest.raises(UnknownCategory):
        catalog.category("0000")


def _broken(mutate: object) -> bytes:
    data = json.loads(default_catalog_bytes())
    mutate(data)  # type: ignore[operator]
    return json.dumps(data, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["categories"].append(d["categories"][0]), "duplicate category code 0101"),
        (lambda d: d["matters"].append(d["matters"][0]), "duplicate matter code"),
        (lambda d: d["categories"][0].update(matters=["NOPE-1"]), "unknown matter NOPE-1"),
        (lambda d: d["categories"][0].update(matters=[]), "maps to no matter"),
        (lambda d: d["categories"][0].update(code="9901"), "no major category 99"),
        (lambda d: d["categories"][0].update(code="1"), "not 4 digits"),
        (lambda d: d["categories"][0].update(alert_confidence=1.5), "alert_confidence"),
        (lambda d: d["matters"][0].update(severity=9), "severity 9"),
    ],
)
def test_inconsistent_catalog_refused(mutate: object, message: str) -> None:
    with pytest.raises(CatalogError, match=message) as refused:
        parse_catalog(_broken(mutate))
    assert refused.value.message_zh.startswith("事件目录无效")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["categories"][0]["limits"].update(handle=[0, "work_hour"]), "positive"),
        (
            lambda d: d["categories"][0]["limits"].update(handle=[1, "fortnight"]),
            "Invalid enum value 'fortnight'",
        ),
        (lambda d: d["matters"][0].update(kind="smile"), "Invalid enum value 'smile'"),
        (lambda d: d["matters"][0].pop("legal_basis"), "missing required field `legal_basis`"),
    ],
)
def test_malformed_catalog_refused(mutate: object, message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        parse_catalog(_broken(mutate))
