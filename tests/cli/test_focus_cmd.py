"""``nocturna focus`` on the simulated unit."""

from __future__ import annotations

from datetime import UTC, datetime

from nocturna.cli.main import main
from nocturna.cli.night_start import simulated_start
from nocturna.core.astro import site_location
from nocturna.core.config import Config
from nocturna.core.storage import Storage
from nocturna.observatory.sun import SunAltitudes

NIGHT = "2026-12-15T10:00Z"  # observing day 2026-12-14 in Hawaii
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_focus_coarse_simulate_focuses_plots_and_records(capsys, tmp_path):
    code, out, err = run_cli(capsys, "--data", str(tmp_path), "--set",
                             "focusers[0].position=27000", "focus", "--coarse", "--simulate",
                             "--start", NIGHT, "--speed", "500")
    assert code == 0, err
    with Storage.open(data_dir=tmp_path) as storage:
        rows = storage.list_telemetry("focus")
        current = storage.get_current("focus")
    assert len(rows) == 1 and rows[0].source == "foc0"
    record = rows[0].data
    assert record["success"] and record["kind"] == "coarse"
    assert record["start_position"] == 27000
    assert abs(record["best_position"] - 30000) <= 50
    assert current is not None and current.data["best_position"] == record["best_position"]
    best_line = next(line for line in out.splitlines() if " best " in line)
    assert str(record["best_position"]) in best_line
    assert f"{record['best_position'] - 27000:+d}" in out  # the change
    plots = sorted((tmp_path / "focus" / "20261214").glob("focus_*.png"))
    assert [p.name.rsplit("_", 1)[1] for p in plots] == ["coarse.png", "fine.png"]
    assert sorted(record["plot_paths"]) == [str(p) for p in plots]
    for plot in plots:
        assert plot.read_bytes()[:8] == PNG_SIGNATURE
        assert plot.name in out


def test_a_fine_focus_from_the_default_position_finds_focus_or_suggests_coarse(capsys,
                                                                            tmp_path):
    # The demo focuser starts at 28000, 2000 steps below best focus: its fine sweep
    # sees no significant peak under this sky, and says so (it used to report a fit to
    # noise as "ok", or a best point at the sweep's end without a way forward).
    code, out, _ = run_cli(capsys, "--data", str(tmp_path), "--set",
                             "cameras[0].noise_seed=1", "focus", "--simulate", "--start",
                             NIGHT, "--speed", "500")
    with Storage.open(data_dir=tmp_path) as storage:
        [row] = storage.list_telemetry("focus")
    record = row.data
    if record["success"]:
        assert code == 0 and abs(record["best_position"] - 30000) <= 50
    else:
        assert code == 1 and "no significant peak" in record["reason"]
        assert record["best_position"] == 28000
        assert "--coarse" in out


def test_no_plot_writes_no_plot(capsys, tmp_path):
    code, out, err = run_cli(capsys, "--data", str(tmp_path), "focus", "--simulate", "--coarse",
                             "--no-plot", "--start", NIGHT, "--speed", "500")
    assert code == 0, err
    assert not list(tmp_path.rglob("*.png"))
    plots_line = next(line for line in out.splitlines() if " plots " in line)
    assert "none" in plots_line


def test_bad_options_exit_2_naming_the_option(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "focus", "--step", "0",
                           "--simulate")
    assert code == 2 and "--step" in err
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "focus", "--range", "60",
                           "--simulate")
    assert code == 2 and "--range" in err and "fine_range" in err
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "focus", "--coarse", "--step",
                           "5000", "--simulate")
    assert code == 2 and "--step" in err and "coarse_step" in err
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "focus", "--ra", "5",
                           "--simulate")
    assert code == 2 and "--dec" in err


def test_a_camera_without_a_focuser_is_a_clear_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "--set", "cameras[0].focuser=null",
                           "focus", "--simulate", "--start", NIGHT, "--speed", "500")
    assert code == 1
    assert "camera 'cam0' has no focuser" in err
    assert err.count("\n") == 1  # one line, no traceback


def test_the_simulated_start_is_at_night():
    config = Config.load(environ={})
    start = simulated_start(config.model.site, datetime.now(UTC)).instant
    sun = SunAltitudes(site_location(config.model.site)).at(start)
    assert sun <= config.model.site.twilight.observe.to_value("deg") + 0.1
