"""The field app as a grid worker uses it (docs/field-app.md): pairing, reports with photos and a GPS
fix, the offline queue through a reload and a server restart, refusals, the position gate and the
photo cap, in headless Chromium against a live `gridwatch serve`."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlmodel import Session, select

from server.db.engine import make_engine
from server.db.tables import IncidentRow
from tests.support.browser import FieldPhone, Fix, camera_photo
from tests.support.field_server import Live

pytestmark = pytest.mark.process

Phones = Callable[..., FieldPhone]
CAP_BYTES = 600 * 1024
LONG_EDGE = 1600


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Eight small camera photos, each with bytes of its own."""
    folder = tmp_path_factory.mktemp("photos")
    return [camera_photo(folder / f"p{n}.jpg", 800, 600, seed=n) for n in range(8)]


def stored_reports(live: Live, worker: str) -> dict[str, list[IncidentRow]]:
    """The worker's incidents in the database, by client id."""
    engine = make_engine(live.server.database_url)
    with Session(engine) as session:
        rows = session.exec(select(IncidentRow).where(IncidentRow.reporter == worker)).all()
    engine.dispose()
    found: dict[str, list[IncidentRow]] = {}
    for row in rows:
        found.setdefault(row.client_id, []).append(row)
    return found


def paired_worker(live: Live, phones: Phones, **fix: Any) -> tuple[FieldPhone, str]:
    worker = live.worker()
    phone = phones(live, live.fix_in(worker.cells[0], **fix))
    phone.pair(live.link(worker=worker.id))
    assert worker.name in phone.hook("whoami").text_content()  # type: ignore[operator]
    return phone, worker.id


def test_reports_are_kept_through_offline_reload_and_server_restart(
    live: Live, phones: Phones, photos: list[Path]
) -> None:
    phone, worker = paired_worker(live, phones)
    first = phone.file_report("0501", "占道经营，两张照片", photos[:2])
    phone.wait_states({first: "accepted"})

    # Offline, and the server gone as well: three more wait on the phone.
    phone.offline(True)
    live.server.kill()
    later = [phone.file_report("0501", f"离线上报 {n}", [photos[2 + n]]) for n in range(3)]
    assert all(phone.queue()[c]["state"] == "waiting" for c in later), phone.queue()
    # A reload with no network: the service worker serves the app, IndexedDB keeps the queue.
    phone.page.reload()
    phone.hook("nav-queue").wait_for()
    shown = phone.queue()
    assert {c: shown[c]["state"] for c in [first, *later]} == {
        first: "accepted",
        **dict.fromkeys(later, "waiting"),
    }
    live.server.start()
    phone.offline(False)
    phone.wait_states(dict.fromkeys(later, "accepted"))

    stored = stored_reports(live, worker)
    assert sorted(stored) == sorted([first, *later])
    assert all(len(rows) == 1 for rows in stored.values()), "a report was stored twice"
    assert [len(stored[c][0].media) for c in [first, *later]] == [2, 1, 1, 1]
    shown = phone.queue()
    assert {shown[c]["incident"] for c in stored} == {rows[0].id for rows in stored.values()}
    for rows in stored.values():
        for url in rows[0].media:
            photo = live.server.call("GET", url, live.token("admin"))
            assert photo.status_code == 200 and photo.content[:2] == b"\xff\xd8", url


def test_a_refused_report_shows_the_servers_reason(live_sqlite: Live, phones: Phones) -> None:
    phone, worker = paired_worker(live_sqlite, phones)
    phone.move(Fix(116.397, 39.909, 5))  # Beijing: outside the county
    refused = phone.file_report("0501", "县外")
    phone.wait_states({refused: "refused"})
    assert "坐标不在本县范围内" in str(phone.queue()[refused]["reason"])
    assert refused not in stored_reports(live_sqlite, worker)
    phone.page.once("dialog", lambda dialog: dialog.accept())  # "delete it?"
    phone.hook("queue-delete").first.click()
    phone.page.wait_for_function(
        "id => ![...document.querySelectorAll('[data-testid=queue-item]')].some(e => e.dataset.clientId === id)",
        arg=refused,
    )


def test_a_500_m_fix_asks_for_confirmation(live_sqlite: Live, phones: Phones) -> None:
    phone, worker = paired_worker(live_sqlite, phones, acc=500)
    phone.go("report")
    phone.choose_category("0501")
    gauge = phone.hook("gps-accuracy")
    gauge.wait_for()
    assert gauge.get_attribute("data-quality") == "bad"
    assert "500" in str(gauge.text_content())
    before = set(phone.queue())
    phone.go("report")
    phone.hook("report-submit").click()
    assert phone.hook("gps-confirm").is_visible()
    assert set(phone.queue()) == before, "sent without the worker confirming a 500 m fix"
    confirmed = phone.file_report("0501", "确认定位", confirm=True)
    phone.wait_states({confirmed: "accepted"})
    assert stored_reports(live_sqlite, worker)[confirmed][0].accuracy == 500


def test_a_large_photo_is_stored_under_the_cap(live_sqlite: Live, phones: Phones, tmp_path: Path) -> None:
    large = camera_photo(tmp_path / "camera.jpg", 4000, 3000, seed=99)
    assert large.stat().st_size > 7_000_000
    phone, worker = paired_worker(live_sqlite, phones)
    before = set(phone.queue())
    phone.fill_report("0501", "大照片", [large])
    kept = int(str(phone.hook("photo-item").get_attribute("data-bytes")))
    assert 0 < kept <= CAP_BYTES
    sent = phone.submit_report(before)
    phone.wait_states({sent: "accepted"})
    (row,) = stored_reports(live_sqlite, worker)[sent]
    (url,) = row.media
    stored = live_sqlite.server.call("GET", url, live_sqlite.token("admin"))
    assert len(stored.content) == kept
    with Image.open(io.BytesIO(stored.content)) as image:
        assert max(image.size) <= LONG_EDGE
        assert image.size[0] > image.size[1]  # landscape stays landscape
