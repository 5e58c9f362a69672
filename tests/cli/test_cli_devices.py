"""``nocturna devices list``, ``camera expose`` and ``mount slew`` on simulated devices."""

from __future__ import annotations

import numpy as np

from nocturna.cli.main import main
from nocturna.core.storage import Storage
from nocturna.images.fits import read_fits

NIGHT = "2026-12-15T10:00Z"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_devices_list_shows_every_configured_device(capsys, tmp_path):
    code, out, err = run_cli(capsys, "--data", str(tmp_path), "devices", "list", "--simulate")
    assert code == 0, err
    for name in ("mount0", "dome0", "cam0", "foc0", "fw0", "power0", "weather0", "safety0",
                 "flat0"):
        assert name in out


def test_camera_expose_writes_a_fits_file_and_a_database_row(capsys, tmp_path):
    out_file = tmp_path / "frame.fits"
    code, out, err = run_cli(
        capsys, "--data", str(tmp_path), "camera", "expose", "--exptime", "2", "--simulate",
        "--out", str(out_file), "--ra", "05:35:17", "--dec", "-05:23:28", "--start", NIGHT,
        "--speed", "500", "--bin", "2", "--filter", "R")
    assert code == 0, err
    assert "exposing" in out and "wrote" in out
    data, header = read_fits(out_file, require_checksum=True)
    assert data.shape == (1024, 1024) and data.dtype == np.uint16
    assert header["EXPTIME"] == 2.0 and header["FILTER"] == "R" and header["XBINNING"] == 2
    assert header["CTYPE1"] == "RA---TAN"
    with Storage.open(data_dir=tmp_path) as storage:
        assert storage.get_exposure("frame").path == str(out_file)


def test_camera_dark_frame_is_marked_dark(capsys, tmp_path):
    out_file = tmp_path / "dark.fits.fz"
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "camera", "expose", "--exptime",
                           "1", "--dark", "--simulate", "--out", str(out_file), "--speed", "100")
    assert code == 0, err
    _, header = read_fits(out_file)
    assert header["IMAGETYP"] == "DARK"


def test_camera_expose_refuses_half_a_target(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "camera", "expose", "--exptime",
                           "1", "--simulate", "--ra", "5h")
    assert code == 2 and "--ra and --dec" in err


def test_mount_slew_reports_where_it_arrived(capsys, tmp_path):
    code, out, err = run_cli(capsys, "--data", str(tmp_path), "mount", "slew", "--ra", "83.8d",
                             "--dec", "-5.39", "--simulate", "--start", NIGHT, "--speed", "500")
    assert code == 0, err
    assert "at RA 5.5867 h, Dec -5.3900" in out and "tracking" in out


def test_mount_slew_below_the_altitude_limit_is_refused(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "mount", "slew", "--ra", "12h",
                           "--dec", "-80", "--simulate", "--start", NIGHT, "--speed", "500")
    assert code == 2 and "below the limit" in err


def test_bad_coordinates_are_one_line_errors(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "mount", "slew", "--ra", "north",
                           "--dec", "0", "--simulate")
    assert code == 2 and "is not a right ascension" in err
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "mount", "slew", "--ra", "5",
                           "--dec", "95", "--simulate")
    assert code == 2 and "outside -90..90" in err


def test_camera_expose_refuses_a_taken_image_id_before_the_camera_exposes(capsys, tmp_path):
    first = tmp_path / "frame.fits"
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "camera", "expose", "--exptime",
                           "1", "--simulate", "--out", str(first), "--start", NIGHT,
                           "--speed", "500")
    assert code == 0, err
    again = tmp_path / "elsewhere" / "frame.fits.fz"  # another file, the same image id
    again.parent.mkdir()
    code, out, err = run_cli(capsys, "--data", str(tmp_path), "camera", "expose", "--exptime",
                             "1", "--simulate", "--out", str(again), "--start", NIGHT,
                             "--speed", "500")
    assert code == 2 and "an exposure with image id 'frame' already exists" in err
    assert "exposing" not in out  # refused before the camera started
    assert list(again.parent.iterdir()) == []
    with Storage.open(data_dir=tmp_path) as storage:
        assert [r.path for r in storage.list_exposures()] == [str(first)]


def test_camera_expose_stores_a_relative_out_as_an_absolute_path(capsys, tmp_path,
                                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "--data", "data", "camera", "expose", "--exptime", "1",
                           "--simulate", "--out", "rel.fits", "--object", "Orion Nebula",
                           "--start", NIGHT, "--speed", "500")
    assert code == 0, err
    with Storage.open(data_dir=tmp_path / "data") as storage:
        record = storage.get_exposure("rel")
    assert record.path == str(tmp_path / "rel.fits")
    assert read_fits(record.path)[1]["OBJECT"] == "Orion Nebula"
