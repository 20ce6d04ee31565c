"""The field app's queue after coming back online, against a bare HTTP client in the same run.

    uv run python bench/field.py                 # 200 reports with one photo each
    uv run python bench/field.py --reports 50    # a quick look

A grid worker's phone (headless Debian Chromium, the field app paired as the worker) files one
report online, then N reports with one camera photo each (1600×1200, shrunk by the app) while
offline; they wait in its IndexedDB queue. The time runs from the moment the phone is online again
until every queue item shows `accepted` (each photo uploaded with POST /media, then the report with
POST /incidents, acked by the platform; the app sends a few items at once).
Baseline: bare httpx clients send the same reports with the same photo bytes (the ones the app
shrank and uploaded): POST /media, then POST /incidents; in 1, 3 and 6 lanes, each on a fresh copy
of the same database, after the same one report to warm up. For reference, not in the ratio: the
same requests by fetch() from a page of the same Chromium, without the app. All servers are `gridwatch
serve --no-field` on SQLite (WAL), one uvicorn worker. The ratio is the fastest baseline's seconds /
the app's seconds (1.0: as fast as the bare client).

Zero loss is checked: every queued report is one incident, with its photo.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import sync_playwright
from sqlmodel import Session, select

from bench.county import load_county
from server.auth import Role, create_token
from server.db.engine import make_engine
from server.db.tables import IncidentRow
from server.media.store import DiskMediaStore
from tests.support.browser import FieldPhone, Fix, camera_photo, launch
from tests.support.field_server import FieldServer

# The bare client one request after another and in several lanes (the app sends a few items at once;
# Chromium opens at most 6 connections to a server): the ratio is taken against the fastest.
LANES = (1, 3, 6)
FETCH_LANES = 6


def stored(url: str, worker: str) -> list[IncidentRow]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = list(session.exec(select(IncidentRow).where(IncidentRow.reporter == worker)).all())
    engine.dispose()
    return rows


def app_run(server: FieldServer, admin: str, worker: str, fix: Fix, photos: list[Path]) -> float:
    """One report online (the server warmed up as for the baseline), then the others queued offline
    in the app; seconds from online until all are accepted."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        phone = FieldPhone.open(browser, server.url, fix)
        phone.pair(str(server.pair(admin, worker=worker)["link"]))
        phone.wait_states({phone.file_report("0501", "warm-up", [photos[0]]): "accepted"})
        phone.offline(True)
        queued = [phone.file_report("0501", f"bench {n}", [photo]) for n, photo in enumerate(photos[1:])]
        phone.go("queue")
        assert all(phone.shown_queue()[c]["state"] == "waiting" for c in queued)
        start = time.perf_counter()
        phone.offline(False)
        phone.page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=queue-item][data-state=accepted]').length >= n",
            arg=len(photos),
            timeout=30 * 60_000,
            polling=50,
        )
        elapsed = time.perf_counter() - start
        phone.check()
        browser.close()
    return elapsed


def send(client: httpx.Client, body: dict[str, Any], photo: bytes) -> None:
    uploaded = client.post("/media", files={"file": ("photo.jpg", photo, "image/jpeg")})
    assert uploaded.status_code in (200, 201), uploaded.text
    report = client.post("/incidents", json={**body, "media": [uploaded.json()["url"]]})
    assert report.status_code == 201, report.text


def bare_run(
    server: FieldServer, token: str, reports: list[tuple[dict[str, Any], bytes]], lanes: int
) -> float:
    """The first report to warm up, then the others from httpx clients in `lanes` threads, each
    report after another on its lane; seconds."""
    headers = {"Authorization": f"Bearer {token}"}
    clients = [httpx.Client(base_url=server.url, headers=headers, timeout=60) for _ in range(lanes)]
    send(clients[0], *reports[0])
    todo = iter(reports[1:])
    lock = threading.Lock()

    def lane(client: httpx.Client) -> None:
        while True:
            with lock:
                item = next(todo, None)
            if item is None:
                return
            send(client, *item)

    start = time.perf_counter()
    with ThreadPoolExecutor(lanes) as pool:
        list(pool.map(lane, clients))
    elapsed = time.perf_counter() - start
    for client in clients:
        client.close()
    return elapsed


# The same requests from fetch() in a page of the same browser: what the browser itself
# costs, without the app's queue (IndexedDB, state, screens). Timed inside the page.
FETCH_RUN = """async ([reports, token, lanes]) => {
  const blobs = await Promise.all(reports.map((_, i) => fetch(`/bench-photo/${i}`).then((r) => r.blob())));
  const headers = { Authorization: `Bearer ${token}` };
  const send = async (i) => {
    const form = new FormData();
    form.append('file', blobs[i], 'photo.jpg');
    const media = await (await fetch('/media', { method: 'POST', body: form, headers })).json();
    const body = JSON.stringify({ ...reports[i], media: [media.url] });
    const made = await fetch('/incidents', {
      method: 'POST', body, headers: { ...headers, 'Content-Type': 'application/json' } });
    if (made.status !== 201) throw new Error(await made.text());
  };
  await send(0);
  let next = 1;
  const lane = async () => { while (next < reports.length) await send(next++); };
  const start = performance.now();
  await Promise.all(Array.from({ length: lanes }, lane));
  return (performance.now() - start) / 1000;
}"""


def fetch_run(server: FieldServer, token: str, reports: list[tuple[dict[str, Any], bytes]]) -> float:
    """The reports sent by fetch() from a page of the server's origin; seconds."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.route(
            "**/bench-photo/*",
            lambda route: route.fulfill(body=reports[int(route.request.url.rsplit("/", 1)[1])][1]),
        )
        page.goto(f"{server.url}/health")
        seconds = float(page.evaluate(FETCH_RUN, [[body for body, _ in reports], token, FETCH_LANES]))
        browser.close()
    return seconds


def claim(server: FieldServer, admin: str, worker: str) -> str:
    """A worker's own token, as a phone gets it: a pairing claimed over HTTP."""
    code = server.pair(admin, worker=worker)["code"]
    claimed = server.http.post("/pairings/claim", json={"code": code, "device": "bench"})
    assert claimed.status_code == 201, claimed.text
    return str(claimed.json()["token"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gridwatch-bench-field-"))
    runs = ["app", "fetch", *(f"bare-{lanes}" for lanes in LANES)]
    for run in runs:
        (folder / run).mkdir()
    url = {run: f"sqlite:///{folder / run / 'gw.db'}" for run in runs}
    county = load_county(url["app"])
    engine = make_engine(url["app"])
    with Session(engine) as session:
        admin = create_token(session, Role.ADMIN, f"county:{county.counties.records[0].code}", label="bench")
    engine.dispose()
    for run in runs[1:]:
        shutil.copy(folder / "app" / "gw.db", folder / run / "gw.db")  # the same county and admin token
    worker = county.workers[0]
    shape = county.cells.shapes[[c.code for c in county.cells.records].index(worker.cells[0])]
    point = shape.representative_point()
    fix = Fix(point.x, point.y, 5.0)
    # One more than measured: the first report warms each server up (its first intake, first upload).
    photos = [
        camera_photo(folder / f"photo-{n}.jpg", 1600, 1200, seed=n, quality=85)
        for n in range(args.reports + 1)
    ]

    with FieldServer(url["app"], folder / "app") as server:
        app_seconds = app_run(server, admin, worker.id, fix, photos)
    rows = stored(url["app"], worker.id)
    assert len(rows) == len(photos) and len({r.client_id for r in rows}) == len(photos), len(rows)
    assert all(len(r.media) == 1 for r in rows), "a report lost its photo"
    media = DiskMediaStore(folder / "app" / "media")
    reports = [
        (
            {
                "client_id": f"bare-{r.client_id}",
                "category": r.category,
                "lon": r.lon,
                "lat": r.lat,
                "acc": r.accuracy,
                "text": r.text,
            },
            media.path(r.media[0].removeprefix("/media/")).read_bytes(),
        )
        for r in sorted(rows, key=lambda r: r.reported_at)
    ]
    bare: dict[int, float] = {}
    for lanes in LANES:
        run = f"bare-{lanes}"
        with FieldServer(url[run], folder / run) as server:
            bare[lanes] = bare_run(server, claim(server, admin, worker.id), reports, lanes)
        assert len(stored(url[run], worker.id)) == len(photos)
    with FieldServer(url["fetch"], folder / "fetch") as server:
        fetched = fetch_run(server, claim(server, admin, worker.id), reports)
    assert len(stored(url["fetch"], worker.id)) == len(photos)

    size = sum(len(photo) for _, photo in reports) / len(reports) / 1024
    n = args.reports
    print(f"{n} reports, one photo each (mean {size:.0f} KB as the app stored it), SQLite (WAL)")

    def line(label: str, seconds: float, note: str = "") -> None:
        print(f"  {label:<30} {seconds:6.2f} s  {n / seconds:5.1f} reports/s{note}")

    line("field app queue", app_seconds)
    for lanes, seconds in bare.items():
        line(f"bare httpx, {lanes} lane{'s' if lanes > 1 else ''}", seconds)
    line(f"fetch() in Chromium, {FETCH_LANES} lanes", fetched, "  (no app; for reference)")
    best = min(bare.values())
    print(f"  ratio bare/app {best / app_seconds:.2f} (against the fastest bare client)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
