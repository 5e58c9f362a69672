"""Screenshots of the dashboard in the middle of a simulated night, for the README.

Runs ``nocturna run --simulate`` (the demo unit, a night with rain from 23:00 to 01:00
site time) with its API on a free port of 127.0.0.1, opens the dashboard in headless
Chromium as an operator once the night is past the rain and observing again, and saves
the page at desktop width (whole page) and phone width (the first screen):

    python scripts/dashboard_screenshots.py [--out docs] [--at 2026-12-15T12:40:00Z]

Needs Debian's chromium and Playwright's Python package (the test extra).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "dashboard"), str(ROOT / "tests")]

from chromium_page import DESKTOP, PHONE, launch, open_page  # noqa: E402
from night_server import start_night  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

START = "2026-12-15T03:30:00Z"  # 17:30 in Hawaii, before the evening twilight
AT = "2026-12-15T12:40:00Z"  # 02:40: observing again after the rain
WAIT_MS = 600_000


def unit_time(status: dict) -> datetime:
    return datetime.fromisoformat(status["time"].replace("Z", "+00:00"))


def early_in_a_set(night, at: datetime) -> bool:
    """Observing after ``at`` with two frames or more to go (time to load the page)."""
    status = night.get("status")
    observation = status["observation"] or {}
    return (unit_time(status) >= at and status["state"] == "observing"
            and bool(observation.get("frame")) and observation["frame"] <= observation["of"] - 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs")
    parser.add_argument("--at", default=AT, help="the unit's time to wait for (ISO, UTC)")
    parser.add_argument("--speed", type=float, default=200.0, help="virtual seconds per second")
    options = parser.parse_args()
    at = datetime.fromisoformat(options.at.replace("Z", "+00:00"))
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nocturna-shots-") as folder:
        night = start_night(Path(folder), "--weather", "rain", "--seed", "3",
                            speed=options.speed, start=START, small=False)
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                shots = [("desktop", DESKTOP, 1, True), ("phone", PHONE, 2, False)]
                for name, viewport, scale, whole in shots:
                    night.wait_for(lambda: early_in_a_set(night, at),
                                   f"a set begun after {options.at}", timeout_s=WAIT_MS / 1000)
                    with open_page(browser, viewport=viewport, token=night.operator,
                                   scale=scale) as recording:
                        page = recording.page
                        page.goto(f"{night.url}/")
                        expect(page.locator("#conn-text")).to_have_text("live",
                                                                        timeout=WAIT_MS)
                        expect(page.locator("#state")).to_have_attribute(
                            "data-state", "observing", timeout=WAIT_MS)
                        expect(page.locator("#frame-caption")).to_contain_text(
                            "object", timeout=WAIT_MS)  # a science frame, not an ACQ
                        expect(page.locator("#weather svg")).to_have_count(1, timeout=WAIT_MS)
                        path = options.out / f"dashboard-{name}.png"
                        page.screenshot(path=str(path), full_page=whole)
                        print(f"{path} ({viewport['width']}×{viewport['height']}, "
                              f"unit time {night.get('status')['time']})")
                browser.close()
        finally:
            night.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
