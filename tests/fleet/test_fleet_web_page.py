"""The fleet page in headless Chromium, served by a real ``nocturna fleet serve`` process
from PostgreSQL: it shows every unit, opens a unit's details, links a unit's own
dashboard, and no request leaves 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from fleet_web_rows import DASHBOARD, fill
from playwright.sync_api import expect, sync_playwright

from dashboard.chromium_page import launch, open_page
from nocturna.fleet.migrations import migrate_fleet
from nocturna.fleet.store import open_fleet_engine


@pytest.fixture
def served(db_url: str) -> Iterator[str]:
    """``nocturna fleet serve`` on a free port over a filled database; yields its URL."""
    engine = open_fleet_engine(db_url)
    migrate_fleet(engine)
    fill(engine)
    engine.dispose()
    process = subprocess.Popen(
        [sys.executable, "-m", "nocturna", "fleet", "serve", "--db", db_url, "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "fleet page on http://127.0.0.1:" in line, line or process.stderr.read()
    try:
        yield line.split(" on ")[1].split(";")[0]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert "fleet page stopped" in process.stdout.read()


def test_the_page_shows_every_unit_and_stays_on_loopback(served):
    with sync_playwright() as playwright:
        browser = launch(playwright)
        with open_page(browser) as recording:
            page = recording.page
            page.goto(served)
            rows = page.locator("#units tbody tr")
            expect(rows).to_have_count(2)
            one, two = page.locator("tr[data-unit=pan001]"), page.locator("tr[data-unit=pan002]")
            expect(one).to_contain_text("online")
            expect(one).to_contain_text("observing")
            expect(one).to_contain_text("safe")
            expect(one).to_contain_text("3 (2026-12-15)")
            expect(one.get_by_role("link", name="pan001")).to_have_attribute("href", DASHBOARD)
            expect(two).to_contain_text("offline")
            expect(two).to_contain_text("parked")
            expect(two).to_contain_text("unsafe")
            expect(two.get_by_role("link", name="pan002")).to_have_count(0)  # no dashboard
            expect(page.locator("#ingests")).to_contain_text("nocturna-ingest")
            expect(page.locator("#counts")).to_contain_text("2 units, 1 online")

            two.get_by_role("link", name="details").click()
            detail = page.locator("#detail")
            expect(detail).to_be_visible()
            expect(detail).to_contain_text("Unit pan002")
            expect(detail.locator("#detail-transitions li")).to_have_count(1)
            expect(detail).to_contain_text("unsafe: rain 2.1 mm/h > 0")
            page.locator("#detail-close").click()
            expect(detail).to_be_hidden()
            assert recording.hosts() == {"127.0.0.1"}
            assert recording.errors == []
        browser.close()
