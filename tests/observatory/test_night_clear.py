"""A whole simulated night on the demo site, run as the README's main command does.

One run (module fixture) of ``nocturna run --simulate --start 2026-12-15T04:00:00Z
--until 2026-12-15T19:00:00Z`` with an obstruction added to the horizon; the tests
check what it left behind, the closed loops it ran by default included.
"""

from __future__ import annotations

import contextlib
import io
import re
from datetime import timedelta
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import AltAz, get_sun
from astropy.io import fits
from astropy.time import Time
from ruamel.yaml import YAML

from nocturna.cli.main import main
from nocturna.core.astro import site_location
from nocturna.core.config import Config
from nocturna.core.storage import Storage
from nocturna.devices.sim.filterwheel import DEFAULT_FOCUS_OFFSETS
from nocturna.scheduler.horizon import Horizon

# Until two hours after sunrise: housekeeping (bias, dome flats, then darks) ends near
# 18:00 in simulated time, later when a loaded machine lets the clock run on.
START, UNTIL = "2026-12-15T04:00:00Z", "2026-12-15T19:00:00Z"
OBSTRUCTION = [[50, 60], [50, 120]]  # a wall 50° high from east-north-east to east-south-east


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    root = tmp_path_factory.mktemp("night")
    site = root / "site.yaml"
    YAML(typ="safe", pure=True).dump(
        {"site": {"horizon": {"default": "30 deg", "obstructions": [OBSTRUCTION]}}}, site)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["--config", str(site), "--data", str(root / "data"), "run", "--simulate",
                     "--no-api", "--start", START, "--until", UNTIL])
    (root / "summary.txt").write_text(printed.getvalue())
    config = Config.load(site, overrides={"data_dir": str(root / "data")}, environ={})
    storage = Storage.open(data_dir=root / "data")
    yield code, config, storage, root / "data"
    storage.close()


def test_the_night_exits_0_parked_and_closed(night):
    code, _, storage, _ = night
    assert code == 0
    status = storage.get_current("unit.status").data
    assert status["at_park"] is True and status["shutter"] == "closed"
    last = storage.list_transitions(limit=1)[0]
    assert last.time.isoformat() <= UNTIL.replace("Z", "+00:00")


def test_every_fits_file_has_a_row_and_a_valid_checksum(night):
    _, _, storage, data = night
    rows = storage.list_exposures()
    files = sorted((data / "images").rglob("*.fits"))
    assert len(files) == len(rows) > 100
    assert {Path(r.path).resolve() for r in rows} == {f.resolve() for f in files}
    for path in files:
        with fits.open(path, checksum=True) as hdul:
            assert hdul[0].verify_checksum() == 1 and hdul[0].verify_datasum() == 1, path


def test_the_night_has_bias_darks_and_evening_and_morning_flats(night):
    _, _, storage, _ = night
    rows = storage.list_exposures()
    kinds = {r.image_type for r in rows}
    assert {"BIAS", "DARK", "FLAT", "OBJECT"} <= kinds
    notes = {r.header.get("NOTE") for r in rows if r.image_type == "FLAT"}
    assert {"evening", "morning"} <= notes
    assert any(r.header.get("REASON") == "dome flat" for r in rows)


def test_no_light_frame_with_the_sun_above_minus_12(night):
    _, config, storage, _ = night
    location = site_location(config.model.site)
    lights = [r for r in storage.list_exposures() if r.image_type == "OBJECT"]
    ends = Time([r.start_time + timedelta(seconds=r.exposure_time_s) for r in lights])
    starts = Time([r.start_time for r in lights])
    for times in (starts, ends):
        sun = get_sun(times).transform_to(AltAz(obstime=times, location=location))
        assert float(np.max(sun.alt.to_value(u.deg))) < -12.0


def test_the_mount_never_points_below_the_horizon_polygon(night):
    _, config, storage, _ = night
    horizon = Horizon.from_site(config.model.site)
    lights = [r for r in storage.list_exposures() if r.image_type == "OBJECT"]
    for row in lights:
        alt, az = row.header["OBJCTALT"], row.header["OBJCTAZ"]
        assert horizon.is_above(alt, az), (row.image_id, alt, az)
    samples = [t.data for t in storage.list_telemetry("unit.status")]
    tracking = [s for s in samples if s.get("tracking") and not s.get("slewing")
                and s.get("state") in ("tracking", "observing", "analyzing")]
    assert len(tracking) > 50
    for sample in tracking:
        assert horizon.is_above(sample["mount_alt_deg"], sample["mount_az_deg"]), sample


def test_every_transition_is_recorded_with_a_reason(night):
    _, _, storage, _ = night
    transitions = storage.list_transitions()
    assert len(transitions) > 20
    assert all(t.reason for t in transitions)
    states = {t.to_state for t in transitions}
    assert {"ready", "flats", "scheduling", "slewing", "tracking", "observing", "analyzing",
            "parking", "parked", "housekeeping"} <= states


def test_pointing_and_autofocus_run_by_default_and_the_summary_reports_them(night):
    _, _, storage, data = night
    pointing = [row.data for row in storage.list_telemetry("pointing")]
    assert len(pointing) >= 10  # one per slew to a field
    assert all(p["success"] and p["final_error_arcsec"] <= 30.0 for p in pointing)
    first = min(pointing, key=lambda p: p["started"])
    assert first["initial_error_arcsec"] > 600  # the simulated mount's 0.25° before any sync
    focus = sorted((row.data for row in storage.list_telemetry("focus")),
                   key=lambda f: f["started"])
    assert focus and focus[0]["kind"] == "coarse" and focus[0]["success"]
    # The focuser starts at 28000 and moves with the filters' focus offsets (best focus too).
    offset = focus[0]["start_position"] - 28000
    assert offset in DEFAULT_FOCUS_OFFSETS.values()
    assert abs(focus[0]["best_position"] - (30000 + offset)) <= 50
    assert all(Path(path).is_file() for path in focus[0]["plot_paths"])
    printed = (data.parent / "summary.txt").read_text()
    assert f"pointing: {len(pointing)} corrections ({len(pointing)} within tolerance" in printed
    assert "error after slew median" in printed
    start = focus[0]["start_position"]
    assert re.search(rf"focus \d\d:\d\dZ coarse\+fine: {start} → \d+ \(start of the night\) ok",
                     printed), printed
    transitions = storage.list_transitions()
    assert {"pointing", "focusing"} <= {t.to_state for t in transitions}
    assert len(storage.list_exposures(image_type="ACQ")) >= len(pointing)


def test_piped_output_shows_the_progress_of_each_sequence(night):
    """Not a terminal: besides the transitions, a line per frame of the flats and the
    calibrations, so a long state shows it is moving."""
    _, _, storage, data = night
    printed = (data.parent / "summary.txt").read_text()
    flats = re.findall(r"^\S+ \S+Z  flats (\S+): (\d+) of (\d+)$", printed, re.M)
    assert flats and {f for f, _, _ in flats} == {
        r.header["FILTER"] for r in storage.list_exposures(image_type="FLAT")}
    for filter_name in {f for f, _, _ in flats}:
        counts = [int(done) for f, done, _ in flats if f == filter_name]
        assert counts[:3] == [1, 2, 3], (filter_name, counts)
    assert re.search(r"^\S+ \S+Z  bias: \d+ of \d+$", printed, re.M), printed[-2000:]
    assert re.search(r"^\S+ \S+Z  \S+ → \S+: ", printed, re.M)
