"""Fixtures for the field app's browser tests: one headless Chromium per session, a live
`gridwatch serve` per test on a fresh copy of the loaded county, and phones (browser contexts)."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.support.api import Template, database_for_test
from tests.support.browser import CHROMIUM, FieldPhone, Fix, launch
from tests.support.field_server import FieldServer, Live


# Package scope: Playwright's sync API keeps an event loop on the main thread while it runs, which
# the asyncio tests of other packages (the console's) cannot share.
@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium; missing, it fails in CI and skips elsewhere, saying why."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found (apt-get install chromium; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


def _live(template: Template, url: str, folder: Path) -> Iterator[Live]:
    server = FieldServer(url, folder)
    with server:
        yield Live(server, template)


@pytest.fixture
def live(database: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    """`gridwatch serve` on a fresh copy of the county, on SQLite and on PostgreSQL."""
    backend = "postgres" if database.startswith("postgresql") else "sqlite"
    yield from _live(request.getfixturevalue(f"{backend}_template"), database, tmp_path)


@pytest.fixture(scope="module")
def module_live(sqlite_template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("live")
    yield from _live(sqlite_template, database_for_test(sqlite_template, folder, None), folder)


@pytest.fixture
def live_sqlite(module_live: Live) -> Live:
    """One server per test module on SQLite, for what does not depend on the database (a server
    takes seconds to start on a busy machine); each test pairs its own phone, and finds the server
    running even if the test before stopped it."""
    if module_live.server.process is None:
        module_live.server.start()
    return module_live


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Note a failed test on its item, so `phones` can keep what each phone showed."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def phones(
    chromium: Browser, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., FieldPhone]]:
    """Open phones on a server; each is checked for uncaught page errors and closed at the end. When
    the test failed, each phone's screen is kept as a PNG and its text printed."""
    opened: list[FieldPhone] = []

    def open_phone(live: Live, fix: Fix, locale: str = "zh-CN") -> FieldPhone:
        phone = FieldPhone.open(chromium, live.server.url, fix, locale)
        opened.append(phone)
        return phone

    yield open_phone
    if request.node.stash.get(FAILED, False):
        for n, phone in enumerate(opened):
            shot = tmp_path / f"phone-{n}.png"
            phone.page.screenshot(path=str(shot))
            print(f"phone {n} at {phone.page.url} ({shot}):\n{phone.page.inner_text('body')}")
    for phone in opened:
        phone.close()
    for phone in opened:
        phone.check()
