"""The page's own JavaScript, run in headless Chromium: the event-stream parser, the sky
chart's projection, the weather chart's unsafe periods, and what a refusal says."""

from __future__ import annotations

import pytest
from chromium_page import open_page


@pytest.fixture(scope="module")
def page(browser, static_url):
    with open_page(browser) as recording:
        recording.page.goto(f"{static_url}/static/icon.svg")  # an origin to import from
        yield recording.page
        assert not recording.errors


def run(page, module: str, body: str):
    """Import ``static/<module>`` as ``m`` and return what ``body`` returns."""
    return page.evaluate(f"async () => {{ const m = await import('/static/{module}'); {body} }}")


def test_sse_parser_joins_chunks_and_skips_comments(page):
    events = run(page, "sse.js", """
        const seen = [];
        const p = new m.SSEParser((type, data) => seen.push([type, data]));
        // a keep-alive comment, an event split mid-line and between CR and LF,
        // a two-line data field, and an event without a type
        for (const chunk of [": keep-alive\\r\\n\\r\\n", "event: unit.st", "ate\\r",
                             "\\ndata: {\\"a\\":", "1}\\r\\n\\r\\n", "data: x\\ndata: y\\n\\n",
                             "event: log\\ndata: tail"]) p.push(chunk);
        return seen;""")
    assert events == [["unit.state", '{"a":1}'], ["message", "x\ny"]]


def test_sky_chart_puts_north_up_and_east_left(page):
    points = run(page, "sky.js", """
        const round = ([x, y]) => [Math.round(x), Math.round(y)];
        return [m.project(90, 0), m.project(0, 0), m.project(0, 90), m.project(0, 180),
                m.project(45, 270), m.project(-5, 90)].map(round);""")
    zenith, north, east, south, west_45, east_below = points
    assert zenith == [0, 0]
    assert north == [0, -100]  # up (SVG y grows downwards)
    assert east == [-100, 0]   # left
    assert south == [0, 100]
    assert west_45 == [50, 0]
    assert east_below == east  # below the horizon: on the rim


def test_weather_unsafe_periods_follow_the_readings(page):
    periods = run(page, "charts.js", """
        const safe = [true, false, false, true, true, false];
        return m.unsafePeriods(safe.map((s, i) => ({ t: i * 60, safe: s })));""")
    assert periods == [[60, 180], [300, 300]]


def test_refusals_are_said_plainly(page):
    texts = run(page, "commands.js", """
        const { ApiError } = await import('/static/api.js');
        return [
          m.describeRefusal("Park", new ApiError(401, "missing token")),
          m.describeRefusal("Park", new ApiError(403, "role"), { name: "bob", role: "viewer" }),
          m.describeRefusal("Resume",
                            new ApiError(409, "refused: unsafe (rain 2.1 mm/h > 0)", "unsafe")),
        ];""")
    assert "not signed in" in texts[0] and "401" in texts[0]
    assert "'bob' is a viewer" in texts[1] and "operator token" in texts[1] and "403" in texts[1]
    assert texts[2] == "Resume refused (unsafe): refused: unsafe (rain 2.1 mm/h > 0)"


def test_parks_are_told_from_the_transitions(page):
    parks = run(page, "charts.js", """
        const at = (minute) => new Date(Date.UTC(2026, 11, 15, 9, minute)).toISOString();
        const tr = (minute, to_state, reason) => ({ time: at(minute), to_state, reason });
        const start = Date.UTC(2026, 11, 15, 9, 0);
        return m.parkPeriods([
          tr(0, "observing", "tracking"),
          tr(5, "parking", "unsafe: rain 2.1 mm/h"), tr(6, "parked", "parked and closed"),
          tr(40, "ready", "safe again"), tr(45, "observing", "tracking"),
          tr(50, "parking", "operator alice: park"),
        ]).map((p) => [(p.start - start) / 60e3, p.end === null ? null : (p.end - start) / 60e3,
                       p.reason]);""")
    assert parks == [[5, 40, "unsafe: rain 2.1 mm/h"], [50, None, "operator alice: park"]]
