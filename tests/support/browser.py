"""Headless Debian chromium driven by Playwright for the browser tests, with a guard that fails a
test on any request that leaves the machine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Route, sync_playwright

# Debian's package; `scripts/ensure-venv test` installs it when missing. Never a downloaded one.
CHROMIUM = Path("/usr/bin/chromium")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
# A phone-sized window: the scanner app is made for a handheld.
HANDHELD = {"width": 412, "height": 860}


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless chromium; a missing browser fails the test, it is never skipped."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-venv test as root to install it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class OffMachine:
    """Requests a page tried to send to a host other than this machine (refused unsent)."""

    urls: list[str] = field(default_factory=list)

    def guard(self, context: BrowserContext) -> BrowserContext:
        context.route("**/*", self._route)
        return context

    def _route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and (
            urlsplit(url).hostname not in LOCAL_HOSTS
        ):
            self.urls.append(url)
            route.abort("blockedbyclient")
            return
        route.continue_()

    def assert_none(self) -> None:
        assert self.urls == [], f"requests outside 127.0.0.1: {self.urls}"


def local_context(browser: Browser, off_machine: OffMachine, **options: object) -> BrowserContext:
    """A fresh browser profile whose every request outside 127.0.0.1 is refused and recorded."""
    return off_machine.guard(browser.new_context(**options))  # type: ignore[arg-type]
