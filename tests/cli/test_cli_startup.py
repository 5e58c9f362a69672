"""The command's start-up and its help: lazy command modules, readable help, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from nocturna.cli.main import COMMANDS, main

HEAVY = ("astropy", "numpy", "sqlalchemy", "pydantic", "ruamel.yaml")


def run_in_process(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def loaded_after(*args: str) -> dict[str, object]:
    """Run ``nocturna ARGS`` in a fresh interpreter; its output and the heavy modules
    (and command modules) it imported."""
    probe = ("import io, json, sys, contextlib; from nocturna.cli.main import main\n"
             "out = io.StringIO()\n"
             "with contextlib.redirect_stdout(out): code = main(sys.argv[1:])\n"
             f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
             "commands = sorted(m for m in sys.modules if m.endswith('_cmd'))\n"
             "print(json.dumps({'code': code, 'out': out.getvalue(), 'heavy': heavy, "
             "'commands': commands}))")
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                            text=True, check=True, timeout=120)
    return json.loads(result.stdout)


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_and_version_import_no_command_module_and_nothing_heavy(option):
    seen = loaded_after(option)
    assert seen["code"] == 0 and "nocturna" in seen["out"]
    assert seen["heavy"] == [] and seen["commands"] == []


def test_help_lists_every_command_with_its_help_line():
    out = loaded_after("--help")["out"]
    for name, spec in COMMANDS.items():
        assert name in out
        assert spec.help.split()[0] in out


def test_a_command_imports_only_its_own_module():
    seen = loaded_after("config", "--help")
    assert seen["code"] == 0 and "get" in seen["out"] and "check" in seen["out"]
    assert seen["commands"] == ["nocturna.cli.config_cmd"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_command_loads_and_answers_help(capsys, name):
    code, out, _ = run_in_process(capsys, name, "--help")
    assert code == 0 and f"nocturna {name}" in out


def test_help_shows_capital_placeholders_and_the_default_data_directory(capsys):
    code, out, _ = run_in_process(capsys, "--help")
    assert code == 0
    assert "Data directory [default: ./nocturna-data]" in out
    assert "<int>" not in out and "<bool>" not in out
    code, out, _ = run_in_process(capsys, "take", "stuttered", "--help")
    assert "INTEGER" in out and "FLOAT" in out and "TEXT" in out
    assert "Group id [default: new]" in out and "Camera name [primary]" in out
    assert "<" not in out.replace("<=", "")


def test_an_unknown_image_type_lists_the_valid_ones(capsys):
    code, _, err = run_in_process(capsys, "take", "bogus")
    assert code == 2 and err.count("\n") == 1
    assert "'bogus'" in err and "Did you mean" not in err
    assert "bias, dark, flat, object, engtest, focus, cwfs, acq, stuttered" in err


def test_an_unknown_command_lists_the_commands(capsys):
    code, _, err = run_in_process(capsys, "expose")
    assert code == 2 and "'expose'" in err and "camera" in err and "take" in err


def test_take_with_a_grating_and_no_spectrograph_fails_before_drawing(capsys, tmp_path):
    code, out, err = run_in_process(capsys, "--data", str(tmp_path), "take", "object",
                                    "--exptime", "1", "--grating", "g1", "--simulate",
                                    "--start", "2026-12-15T10:00Z")
    assert code == 2 and "no spectrograph" in err and err.count("\n") == 1
    assert "frames written" not in out and out.strip() == ""


@pytest.mark.parametrize("width", [80, 140])
def test_components_table_fits_the_terminal(tmp_path, width):
    result = subprocess.run(
        [sys.executable, "-m", "nocturna", "--data", str(tmp_path), "components", "--simulate",
         "--start", "2026-12-15T10:00Z", "--speed", "50"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "COLUMNS": str(width)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines and max(len(line) for line in lines) <= width
    for name in ("observingconditions", "covercalibrator", "cam0-instrument", "nocturna"):
        assert any(name in line for line in lines), name


# ------------------------------------------------------------------ bad input, exit 2
def test_a_data_directory_nothing_can_be_written_to_is_exit_2(capsys):
    # sysfs refuses new files to everyone, root included (a chmod'ed directory would not)
    code, out, err = run_in_process(capsys, "--data", "/sys/kernel", "take", "bias",
                                    "--simulate", "--start", "2026-12-15T10:00Z")
    assert code == 2 and err.count("\n") == 1 and out == ""
    assert "data directory '/sys/kernel' is not writable" in err and "unexpected" not in err


@pytest.mark.parametrize("below", ["", "sub"])
def test_a_data_directory_that_is_a_file_is_exit_2(capsys, tmp_path, below):
    blocker = tmp_path / "data"
    blocker.write_text("not a directory\n")
    data = blocker / below if below else blocker
    code, _, err = run_in_process(capsys, "--data", str(data), "take", "bias", "--simulate",
                                  "--start", "2026-12-15T10:00Z")
    assert code == 2 and err.count("\n") == 1 and "unexpected" not in err
    assert f"data directory '{data}'" in err
    assert blocker.read_text() == "not a directory\n"


@pytest.mark.parametrize("command", [["plan"], ["run", "--simulate", "--no-api"]])
def test_an_undecodable_fields_file_is_exit_2(capsys, tmp_path, command):
    fields = tmp_path / "fields.yaml"
    fields.write_bytes(b"- name: M42\n  note: \xcb\xff\xfe\n")
    code, _, err = run_in_process(capsys, "--data", str(tmp_path), *command,
                                  "--fields", str(fields))
    assert code == 2 and err.count("\n") == 1 and "unexpected" not in err
    assert f"fields file '{fields}': not UTF-8 text (byte 0xcb" in err


def test_a_huge_value_is_cut_in_the_error_line(capsys, tmp_path):
    note = "ab " * 40_000
    code, _, err = run_in_process(capsys, "--data", str(tmp_path), "take", "object",
                                  "--exptime", "1", f"--note={note}", "--simulate",
                                  "--start", "2026-12-15T10:00Z")
    assert code == 2 and err.count("\n") == 1 and "note" in err
    assert "(120000 characters)" in err and len(err) < 400


def test_a_huge_bad_option_value_is_cut_too(capsys):
    code, _, err = run_in_process(capsys, "run", "--simulate", "--speed", "9" * 50 + "x" * 5000)
    assert code == 2 and "--speed" in err and "(5050 characters)" in err and len(err) < 400


def test_clip_message_keeps_short_values_and_caps_the_line():
    from nocturna.cli.main import MESSAGE_LIMIT, clip_message

    assert clip_message("bad value 'short'\n  on two lines", ["short"]) == \
        "bad value 'short' on two lines"
    assert len(clip_message("x" * 50_000)) == MESSAGE_LIMIT
