"""The dashboard in headless Chromium, served by a real simulated night's API: it loads
with nothing leaving the machine, follows the night's states and frames, and parks the
unit for an operator (and says why not to anyone else)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from chromium_page import open_page
from night_server import Night, start_night
from playwright.sync_api import expect

WAIT_MS = 180_000  # a bound on waiting for the night, not a speed requirement


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> Iterator[Night]:
    running = start_night(tmp_path_factory.mktemp("dashboard-night"))
    yield running
    running.stop()


def shown_state(page) -> str:
    return page.locator("#state").get_attribute("data-state") or ""


def test_page_loads_with_no_request_leaving_the_machine(browser, night):
    with open_page(browser) as recording:
        page = recording.page
        page.goto(f"{night.url}/")
        expect(page.locator("#conn-text")).to_have_text("live", timeout=WAIT_MS)
        expect(page.locator("#state")).not_to_have_attribute("data-state", "", timeout=WAIT_MS)
        expect(page.locator("#sky svg .sky-horizon")).to_have_count(1, timeout=WAIT_MS)
        expect(page.locator("#components tbody tr")).not_to_have_count(0)
        expect(page.locator("#who")).to_have_text("anonymous · viewer")
        requested = list(recording.requests)
        assert requested, "the page made no request"
        assert recording.hosts() == {"127.0.0.1"}, sorted(set(requested))
        assert not recording.errors


def wait_for_a_new_transition(page, night) -> str:
    """Wait until the page shows a state entered after the one shown now (the state
    itself may be the same again: observing → … → observing); check the unit recorded
    that transition and the page lists it. The state shown then."""
    expect(page.locator("#state")).not_to_have_attribute("data-since", "", timeout=WAIT_MS)
    first = page.locator("#state").get_attribute("data-since")
    expect(page.locator("#state")).not_to_have_attribute("data-since", first, timeout=WAIT_MS)
    state, since = page.evaluate(
        "(() => { const b = document.getElementById('state');"
        " return [b.dataset.state, b.dataset.since]; })()")
    recorded = {(row["to_state"], row["time"][:19])
                for row in night.get("transitions?limit=10000")}
    assert (state, since[:19]) in recorded, (state, since, sorted(recorded)[-8:])
    listed = page.locator(f'#transitions li:has(time[datetime^="{since[:19]}"])')
    expect(listed.filter(has_text=state)).not_to_have_count(0, timeout=WAIT_MS)
    return state


def test_state_shown_follows_the_night(browser, night):
    with open_page(browser, token=night.viewer) as recording:
        page = recording.page
        page.goto(f"{night.url}/")
        expect(page.locator("#conn-text")).to_have_text("live", timeout=WAIT_MS)
        wait_for_a_new_transition(page, night)
        expect(page.locator("#who")).to_have_text("bob · viewer")
        assert not recording.errors


def test_a_new_frame_preview_appears(browser, night):
    with open_page(browser) as recording:
        page = recording.page
        page.goto(f"{night.url}/")
        expect(page.locator("#conn-text")).to_have_text("live", timeout=WAIT_MS)
        image = page.locator("#frame-img")
        before = image.get_attribute("data-image-id")
        if before is None:
            expect(image).to_have_attribute("data-image-id", re.compile(".+"), timeout=WAIT_MS)
            before = image.get_attribute("data-image-id")
        expect(image).not_to_have_attribute("data-image-id", before, timeout=WAIT_MS)
        shown = image.get_attribute("data-image-id")
        expect(image).to_be_visible()
        assert page.evaluate("document.getElementById('frame-img').naturalWidth") > 0
        frame = night.get(f"frames/{shown}")
        assert frame["image_id"] == shown
        assert frame["start_time"] > night.get(f"frames/{before}")["start_time"]
        expect(page.locator("#frame-caption")).to_contain_text(shown)
        assert not recording.errors


def test_without_the_event_stream_the_page_polls(browser, night):
    with open_page(browser) as recording:
        page = recording.page
        page.route("**/api/events", lambda route: route.abort())
        page.goto(f"{night.url}/")
        expect(page.locator("#conn-text")).to_have_text("polling", timeout=WAIT_MS)
        wait_for_a_new_transition(page, night)
        assert not recording.errors


def press_park(page) -> None:
    page.get_by_role("button", name="Park & close").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.locator("#confirm-ok").click()


def test_park_without_an_operator_token_is_refused_and_said(browser, night):
    with open_page(browser) as recording:
        page = recording.page
        page.goto(f"{night.url}/")
        expect(page.locator("#controls-hint")).to_contain_text("operator token",
                                                               timeout=WAIT_MS)
        # cancelling the confirmation sends nothing
        page.get_by_role("button", name="Park & close").click()
        page.get_by_role("button", name="Cancel").click()
        expect(page.locator("#command-result")).to_have_text("Park & close: cancelled.")
        press_park(page)
        result = page.locator("#command-result")
        expect(result).to_contain_text("401", timeout=WAIT_MS)
        expect(result).to_contain_text("operator token")
        expect(result).to_have_attribute("data-kind", "refused")
    with open_page(browser, token=night.viewer) as recording:
        page = recording.page
        page.goto(f"{night.url}/")
        expect(page.locator("#who")).to_have_text("bob · viewer", timeout=WAIT_MS)
        press_park(page)
        result = page.locator("#command-result")
        expect(result).to_contain_text("403", timeout=WAIT_MS)
        expect(result).to_contain_text("'bob' is a viewer")
    assert night.get("commands") == []  # nothing reached the unit
    assert night.get("status")["hold"] is None


def test_park_with_an_operator_token_parks_the_unit(browser, night):
    with open_page(browser, token=night.operator) as recording:
        page = recording.page
        page.goto(f"{night.url}/")
        expect(page.locator("#who")).to_have_text("alice · operator", timeout=WAIT_MS)
        expect(page.locator("#controls-hint")).to_have_text("Signed in as alice (operator).")
        press_park(page)
        expect(page.locator("#command-result")).to_contain_text("accepted", timeout=WAIT_MS)
        expect(page.locator("#state")).to_have_attribute("data-state", "parked",
                                                         timeout=WAIT_MS)
        status = night.get("status")
        assert status["state"] == "parked"
        assert status["mount"]["at_park"] is True
        assert status["dome"]["shutter"] == "closed"
        [command] = night.get("commands")
        assert (command["command"], command["accepted"]) == ("park", True)
        assert not recording.errors


def test_a_unit_without_open_viewing_asks_for_a_token(browser, tmp_path):
    closed = start_night(tmp_path, open_viewer=False)
    try:
        with open_page(browser) as recording:
            page = recording.page
            page.goto(f"{closed.url}/")
            dialog = page.locator("#token-dialog")
            expect(dialog).to_be_visible(timeout=WAIT_MS)
            expect(dialog).to_contain_text("needs a token")
            expect(page.locator("#conn-text")).to_have_text("token needed")
            page.locator("#token-input").fill(closed.viewer)
            page.locator("#token-save").click()
            expect(page.locator("#who")).to_have_text("bob · viewer", timeout=WAIT_MS)
            expect(page.locator("#conn-text")).to_have_text("live", timeout=WAIT_MS)
            expect(page.locator("#state")).not_to_have_attribute("data-state", "",
                                                                 timeout=WAIT_MS)
            # kept for the next visit
            page.reload()
            expect(page.locator("#who")).to_have_text("bob · viewer", timeout=WAIT_MS)
            expect(dialog).to_be_hidden()
    finally:
        closed.stop()
