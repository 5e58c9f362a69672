"""``nocturna plan``: the night's plan as a table, a PNG chart, one-line errors."""

from __future__ import annotations

import pytest

from nocturna.cli.main import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def fields_file(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "fields.yaml"
    path.write_text("""
fields:
  - {name: Orion, position: M42, priority: 3, exptime: 60 s, filter: [R, G], min_nexp: 4,
     exp_set_size: 2}
  - {name: Andromeda, ra: 00h42m44.3s, dec: +41d16m09s, exptime: 120, min_nexp: 3,
     exp_set_size: 3}
  - {name: Whirlpool, position: M51, exptime: 90, min_nexp: 4, exp_set_size: 2}
""")
    return path


def test_plan_prints_the_night_and_a_table_of_blocks(capsys, tmp_path, fields_file):
    code, out, err = run_cli(capsys, "--data", str(tmp_path), "plan", "--fields",
                             str(fields_file), "--night", "2026-12-14")
    assert code == 0, err
    assert "night of 2026-12-14 (US/Hawaii)" in out and "05:04" in out and "15:30" in out
    assert "times UTC (local time zone US/Hawaii)" in out
    for column in ("start", "end", "field", "frames", "slew", "point", "focus", "score"):
        assert column in out
    for name in ("Orion", "Andromeda", "Whirlpool"):
        assert name in out
    assert "3 blocks, 11 frames" in out


def test_plan_writes_a_png_chart(capsys, tmp_path, fields_file):
    chart = tmp_path / "night.png"
    code, out, err = run_cli(capsys, "--data", str(tmp_path), "plan", "--fields",
                             str(fields_file), "--night", "2026-12-15T09:00Z",
                             "--chart", str(chart))
    assert code == 0, err
    assert chart.read_bytes()[:8] == PNG_SIGNATURE and chart.stat().st_size > 10_000
    assert f"chart written to {chart}" in out


def test_plan_defaults_to_the_demo_fields(capsys, tmp_path):
    code, out, err = run_cli(capsys, "--data", str(tmp_path), "plan", "--night", "2026-12-14")
    assert code == 0, err
    assert "M42" in out and "M31" in out


def test_a_bad_fields_file_is_one_line_exit_2(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {name: a, ra: 10, dec: 20, priority: -1}\n")
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "plan", "--fields", str(bad),
                           "--night", "2026-12-14")
    assert code == 2 and err.count("\n") == 1
    assert "bad.yaml: fields[0].priority: must be > 0, got -1" in err


def test_a_missing_fields_file_is_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "plan", "--fields",
                           str(tmp_path / "nope.yaml"))
    assert code == 2 and "nope.yaml" in err and err.count("\n") == 1


def test_a_bad_night_is_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "plan", "--night", "tomorrow")
    assert code == 2 and "--night" in err and "2026-12-14" in err


def test_an_unwritable_chart_is_exit_2(capsys, tmp_path, fields_file):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "plan", "--fields",
                           str(fields_file), "--night", "2026-12-14", "--chart",
                           str(tmp_path / "no" / "such" / "dir" / "c.png"))
    assert code == 2 and "--chart" in err and err.count("\n") == 1
