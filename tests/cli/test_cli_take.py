"""``nocturna take …`` and ``nocturna components`` on the simulated unit."""

from __future__ import annotations

from nocturna.cli.main import main
from nocturna.core.storage import Storage
from nocturna.images.fits import read_fits

NIGHT = "2026-12-15T10:00Z"  # observing day 2026-12-14 in Hawaii


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_take_bias_writes_frames_with_exposure_ids(capsys, tmp_path):
    code, out, err = run_cli(capsys, "--data", str(tmp_path), "take", "bias", "--n", "3",
                             "--simulate", "--start", NIGHT, "--speed", "200")
    assert code == 0, err
    ids = [2026121400001, 2026121400002, 2026121400003]
    for exposure_id in ids:
        assert str(exposure_id) in out
    with Storage.open(data_dir=tmp_path) as storage:
        records = storage.list_exposures()
    assert sorted(r.header["EXPID"] for r in records) == ids
    assert {r.image_type for r in records} == {"BIAS"}


def test_take_object_with_filter_and_reason(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "take", "object", "--exptime",
                             "30", "--n", "2", "--filter", "r", "--reason", "test",
                             "--simulate", "--start", NIGHT, "--speed", "500")
    assert code == 0, err
    with Storage.open(data_dir=tmp_path) as storage:
        records = storage.list_exposures()
    assert len(records) == 2
    header = read_fits(records[0].path)[1]
    assert (header["IMAGETYP"], header["FILTER"], header["REASON"], header["EXPTIME"]) == (
        "OBJECT", "R", "test", 30.0)
    assert records[0].header["GROUPID"] == records[1].header["GROUPID"]


def test_take_refuses_an_unknown_filter_before_exposing(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "take", "object", "--exptime", "1",
                           "--filter", "Z", "--simulate", "--start", NIGHT)
    assert code == 2
    assert "no filter named 'Z'" in err
    with Storage.open(data_dir=tmp_path) as storage:
        assert storage.list_exposures() == []


def test_take_needs_an_exposure_time(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "take", "dark", "--simulate")
    assert code == 2 and "--exptime is required" in err


def test_components_shows_every_component_enabled(capsys, tmp_path):
    code, out, err = run_cli(capsys, "--data", str(tmp_path), "components", "--simulate",
                             "--start", NIGHT, "--speed", "50")
    assert code == 0, err
    for name in ("cam0", "fw0", "foc0", "mount0", "dome0", "weather0", "safety0"):
        assert name in out
    assert out.count("ENABLED") >= 10
    assert "never" not in out


def test_take_names_the_object_and_writes_the_configured_fits_fz(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "--set",
                           "instrument.image_format=fits.fz", "--set",
                           "site.telescope=Test Scope", "take", "object", "--exptime", "5",
                           "--n", "2", "--object", "NGC 1976", "--simulate", "--start", NIGHT,
                           "--speed", "500")
    assert code == 0, err
    with Storage.open(data_dir=tmp_path) as storage:
        records = storage.list_exposures()
    assert len(records) == 2
    for record in records:
        assert record.path.endswith(".fits.fz")
        data, header = read_fits(record.path, require_checksum=True)
        assert data.dtype.kind == "u" and header["OBJECT"] == "NGC 1976"
        assert (header["TELESCOP"], header["INSTRUME"]) == ("Test Scope",
                                                            "nocturna demo imager")
