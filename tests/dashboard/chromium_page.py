"""Headless Chromium for the dashboard tests: Debian's ``chromium`` driven by Playwright
(which cannot download a browser of its own here), and a page that records every
request it makes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, Playwright

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def chromium_path() -> str:
    """The system's Chromium; an AssertionError saying how to install it if there is none."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("no Chromium on PATH: the dashboard tests need Debian's chromium "
                         "(apt-get install -y chromium)")


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True)


class RecordingPage:
    """A page in a fresh context, recording the URL of every request and the page's
    errors (uncaught exceptions and console errors)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def hosts(self) -> set[str]:
        """The hosts every request went to (``data:`` and ``blob:`` URLs have none)."""
        return {urlsplit(url).hostname for url in self.requests
                if urlsplit(url).scheme in ("http", "https", "ws", "wss")}


@contextmanager
def open_page(browser: Browser, *, viewport: dict[str, int] | None = None,
              token: str | None = None, scale: float = 1) -> Iterator[RecordingPage]:
    """A recording page; ``token`` is put in local storage before any script runs, as
    the token dialog would keep it."""
    context = browser.new_context(viewport=viewport or DESKTOP, device_scale_factor=scale)
    if token is not None:
        context.add_init_script(f"localStorage.setItem('nocturna.token', {token!r});")
    try:
        yield RecordingPage(context.new_page())
    finally:
        context.close()
