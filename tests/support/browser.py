"""The field app in Debian's Chromium, headless, driven by Playwright as a phone: 360×740 at scale 2,
touch, Chinese, with an emulated GPS fix. Elements are found by the `data-testid` hooks of
docs/field-app.md#test-hooks. Never downloads a browser: `/usr/bin/chromium` or nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Geolocation,
    Locator,
    Page,
    Playwright,
    ViewportSize,
)

CHROMIUM = Path("/usr/bin/chromium")
# Quiet and offline-clean: no sandbox (root in containers), no GPU, nothing fetched by Chromium
# itself (updates, sync, QUIC probes) that would show up as traffic or as console noise.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Signed in and on a screen: who the phone is shown, the pairing screen gone, a tab current.
SIGNED_IN = """() => Boolean(document.querySelector('[data-testid=whoami]')?.dataset.actor
    && !document.querySelector('[data-testid=signed-out]')
    && document.querySelector('[data-testid^=nav-][aria-current=page]'))"""
SCREEN: ViewportSize = {"width": 360, "height": 740}
TIMEOUT_MS = 15_000


def launch(playwright: Playwright) -> Browser:
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: apt-get install chromium")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)


@dataclass
class Fix:
    """A GPS fix, WGS-84, with its accuracy in metres."""

    lon: float
    lat: float
    acc: float = 5.0

    def geolocation(self) -> Geolocation:
        return {"longitude": self.lon, "latitude": self.lat, "accuracy": self.acc}


@dataclass
class FieldPhone:
    """One phone: its own browser context (storage, IndexedDB, service worker) and one page."""

    context: BrowserContext
    page: Page
    base: str
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, browser: Browser, base: str, fix: Fix, locale: str = "zh-CN") -> FieldPhone:
        context = browser.new_context(
            viewport=SCREEN,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale=locale,
            timezone_id="Asia/Shanghai",  # the county's: the app shows deadlines in the phone's time
            permissions=["geolocation"],
            geolocation=fix.geolocation(),
        )
        context.set_default_timeout(TIMEOUT_MS)
        phone = cls(context, context.new_page(), base)
        phone.page.on("pageerror", lambda error: phone.page_errors.append(str(error)))
        phone.page.on("console", phone._console)
        return phone

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def close(self) -> None:
        self.context.close()

    def hook(self, testid: str, **attributes: str) -> Locator:
        selector = f'[data-testid="{testid}"]' + "".join(f'[data-{k}="{v}"]' for k, v in attributes.items())
        return self.page.locator(selector)

    def move(self, fix: Fix) -> None:
        self.context.set_geolocation(fix.geolocation())

    def offline(self, offline: bool) -> None:
        self.context.set_offline(offline)

    def pair(self, link: str) -> None:
        """Open the pairing link as the QR code gives it, and wait until the phone knows who it is."""
        self.page.goto(link)
        self.page.wait_for_function(SIGNED_IN)

    def go(self, screen: str) -> None:
        """Tap a screen's tab (the current one takes no taps); return once it is the current one."""
        current = self.page.locator(f'[data-testid="nav-{screen}"][aria-current="page"]')
        if not current.count():
            self.hook(f"nav-{screen}").click()
        current.wait_for()
        wide = self.page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= SCREEN["width"], f"#/{screen} is {wide} px wide on a {SCREEN['width']} px phone"

    def file_report(
        self, category: str, text: str = "", photos: list[Path] | None = None, confirm: bool = False
    ) -> str:
        """Fill and send a report on the report screen; the client id of the queue item it made."""
        before = set(self.queue())
        self.fill_report(category, text, photos)
        if confirm:
            self.hook("gps-confirm").click()
        return self.submit_report(before)

    def fill_report(self, category: str, text: str = "", photos: list[Path] | None = None) -> None:
        self.go("report")
        self.choose_category(category)
        if text:
            self.hook("report-text").fill(text)
        if photos:
            self.add_photos(photos)
        self.hook("gps-accuracy").wait_for()

    def submit_report(self, before: set[str]) -> str:
        """Send the report on screen; the client id of the one new queue item (`before`: the ids
        queued until now)."""
        self.hook("report-submit").click()
        self.go("queue")
        return self.wait_new(before)

    def wait_new(self, before: set[str]) -> str:
        """The client id of the one queue item not in `before` (the queue screen showing)."""
        made = wait_for(lambda: set(self.shown_queue()) - before, "a new queue item")
        assert len(made) == 1, made
        return str(made.pop())

    def choose_category(self, code: str) -> None:
        self.hook("category-search").fill(code)
        self.hook("category-option", code=code).first.click()

    def add_photos(self, photos: list[Path]) -> None:
        """Pick photos; wait until each is shrunk and stored (its item shows the stored size)."""
        shown = self.hook("photo-item").count()
        self.hook("photo-input").set_input_files([str(p) for p in photos])
        self.page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=photo-item][data-bytes]').length >= n",
            arg=shown + len(photos),
            timeout=60_000,
        )

    def queue(self) -> dict[str, dict[str, Any]]:
        """The queue screen as shown: client id → state, kind, incident and reason."""
        self.go("queue")
        return self.shown_queue()

    def shown_queue(self) -> dict[str, dict[str, Any]]:
        items: list[dict[str, Any]] = self.page.evaluate(
            """() => [...document.querySelectorAll('[data-testid=queue-item]')].map(e => ({
                id: e.dataset.clientId, state: e.dataset.state, kind: e.dataset.kind,
                incident: e.dataset.incident || null,
                reason: e.querySelector('[data-testid=queue-reason]')?.textContent || null}))"""
        )
        return {str(i["id"]): i for i in items}

    def wait_states(self, states: dict[str, str], timeout_ms: int = 60_000) -> None:
        """Wait until each of these queue items shows its state (the queue screen must be showing)."""
        self.page.wait_for_function(
            """want => Object.entries(want).every(([id, state]) => [...document.querySelectorAll(
                '[data-testid=queue-item]')].some(e => e.dataset.clientId === id && e.dataset.state === state))""",
            arg=states,
            timeout=timeout_ms,
        )

    def check(self) -> None:
        """No uncaught error in the page (console errors are kept for the failure message)."""
        assert not self.page_errors, (
            f"uncaught errors in the page: {self.page_errors}; console: {self.console_errors}"
        )


def camera_photo(path: Path, width: int, height: int, seed: int, quality: int = 90) -> Path:
    """A JPEG as a phone's camera makes one: a gradient under sensor noise, which compresses about
    as badly as a real scene (4000×3000 is about 8 MB). Each seed gives other bytes."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    scene = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], axis=-1)
    pixels = np.clip(scene + rng.normal(0, 40, (height, width, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, "JPEG", quality=quality)
    return path


def wait_for(found: Any, what: str, timeout: float = 15.0) -> Any:
    """Poll `found()` until it gives something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")
