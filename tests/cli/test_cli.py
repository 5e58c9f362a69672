"""The ``nocturna`` command: options, config commands, one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import astropy.units as u
import pytest

from nocturna import __version__
from nocturna.cli.main import main
from nocturna.configserver.runner import start_in_thread
from nocturna.core.config import Config, local_path_for


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text("# keep this comment\nname: cli-unit\n")
    return path


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.strip() == f"nocturna {__version__}"


def test_no_arguments_prints_help(capsys):
    code, out, _ = run_cli(capsys)
    assert code == 0 and "config" in out and "run" in out


def test_unknown_option_is_one_line_exit_2_without_traceback():
    result = subprocess.run([sys.executable, "-m", "nocturna", "--frobnicate"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nocturna: error:")
    assert "--frobnicate" in lines[0] and "Traceback" not in result.stderr


def test_bad_option_value_is_one_line_exit_2(capsys):
    code, _, err = run_cli(capsys, "run", "--simulate", "--speed", "fast")
    assert code == 2 and err.count("\n") == 1 and "fast" in err


def test_bad_start_time_is_exit_2(capsys):
    code, _, err = run_cli(capsys, "run", "--simulate", "--start", "tomorrow")
    assert code == 2 and "ISO 8601" in err


def test_invalid_configuration_file_is_one_line_exit_2(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("site:\n  latitude: north\n")
    code, _, err = run_cli(capsys, "--config", str(bad), "config", "get", "name")
    assert code == 2
    assert err.count("\n") == 1 and "site.latitude = 'north'" in err


def test_bad_set_assignment_is_exit_2(capsys):
    code, _, err = run_cli(capsys, "--set", "no-equals-sign", "config", "get", "name")
    assert code == 2 and "KEY=VALUE" in err


def test_config_get_prints_values_from_the_layers(capsys, site_file):
    code, out, _ = run_cli(capsys, "--config", str(site_file), "config", "get", "name")
    assert code == 0 and out.strip() == "cli-unit"
    code, out, _ = run_cli(capsys, "--config", str(site_file), "config", "get",
                           "site.horizon.default")
    assert out.strip() == "30 deg"
    code, out, _ = run_cli(capsys, "--config", str(site_file), "--set", "name=from-cli",
                           "config", "get", "name")
    assert out.strip() == "from-cli"


def test_config_get_json(capsys, site_file):
    code, out, _ = run_cli(capsys, "--config", str(site_file), "config", "get", "site.elevation",
                           "--json")
    assert code == 0 and '"unit": "m"' in out


def test_config_get_unknown_key_is_a_one_line_error(capsys, site_file):
    code, _, err = run_cli(capsys, "--config", str(site_file), "config", "get", "site.nope")
    assert code == 2 and "site.nope" in err and err.count("\n") == 1


def test_config_set_writes_the_local_file_and_keeps_the_site_file(capsys, site_file):
    before = site_file.read_text()
    code, out, _ = run_cli(capsys, "--config", str(site_file), "config", "set",
                           "site.horizon.default", "35 deg")
    assert code == 0 and out.strip() == "35 deg"
    assert site_file.read_text() == before
    assert Config.load(site_file, environ={}).get("site.horizon.default") == 35 * u.deg


def test_config_set_invalid_value_is_exit_2_and_writes_nothing(capsys, site_file):
    code, _, err = run_cli(capsys, "--config", str(site_file), "config", "set",
                           "site.latitude", "north")
    assert code == 2 and "site.latitude = 'north'" in err
    assert not local_path_for(site_file).exists()


def test_config_reset_forgets_a_saved_value(capsys, site_file):
    run_cli(capsys, "--config", str(site_file), "config", "set", "name", "changed")
    code, out, _ = run_cli(capsys, "--config", str(site_file), "config", "reset", "name")
    assert code == 0 and "cli-unit" in out


def test_config_commands_through_a_running_service(capsys, site_file):
    config = Config.load(site_file, environ={})
    with start_in_thread(config) as service:
        code, out, _ = run_cli(capsys, "config", "set", "name", "remote", "--url", service.url,
                               "--no-save")
        assert code == 0 and out.strip() == "remote"
        code, out, _ = run_cli(capsys, "config", "get", "name", "--url", service.url)
        assert out.strip() == "remote"
        code, out, _ = run_cli(capsys, "config", "reset", "--url", service.url)
        code, out, _ = run_cli(capsys, "config", "get", "name", "--url", service.url)
        assert out.strip() == "cli-unit"


def test_unreachable_service_is_a_one_line_error(capsys):
    code, _, err = run_cli(capsys, "config", "get", "name", "--url", "http://127.0.0.1:9")
    assert code == 1 and "not reachable" in err


def test_config_check_names_the_files(capsys, site_file):
    code, out, _ = run_cli(capsys, "--config", str(site_file), "config", "check")
    assert code == 0 and "configuration valid" in out and str(site_file) in out


def test_config_serve_as_a_real_process(site_file, tmp_path):
    import socket
    import time

    from nocturna.configserver.client import ConfigClient

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "nocturna", "--config", str(site_file), "--data", str(tmp_path),
         "config", "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        client = ConfigClient(f"http://127.0.0.1:{port}", timeout=2)
        deadline = time.monotonic() + 30
        while not client.is_running() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.get("name") == "cli-unit"
        client.set("name", "served")
    finally:
        process.terminate()
        process.wait(30)
    assert "name: served" in local_path_for(site_file).read_text()


def test_run_with_a_missing_fields_file_is_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "run", "--simulate",
                           "--fields", str(tmp_path / "nowhere.yaml"))
    assert code == 2 and "--fields" in err and "nowhere.yaml" in err


def test_run_with_a_bad_until_is_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "run", "--simulate",
                           "--until", "dawn")
    assert code == 2 and "--until 'dawn'" in err and "morning" in err


def test_run_with_an_unknown_weather_scenario_is_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(tmp_path), "run", "--simulate",
                           "--weather", "drizzle")
    assert code == 2 and "drizzle" in err and "rain" in err


def test_run_simulate_observes_and_prints_the_summary(capsys, tmp_path):
    from nocturna.core.storage import Storage

    code, out, err = run_cli(capsys, "--data", str(tmp_path), "--set", "cameras[0].width=512",
                             "--set", "cameras[0].height=512", "run", "--simulate", "--no-api",
                             "--start", "2026-12-15T09:00Z", "--until", "2026-12-15T09:40Z",
                             "--speed", "300")
    assert code == 0, err
    assert "sleeping → ready" in out and "Night summary" in out
    assert "ended parked and closed" in out and "weather interruptions: none" in out
    assert (tmp_path / "logs" / "nocturna.log").exists()
    with Storage.open(data_dir=tmp_path) as storage:
        lights = [r for r in storage.list_exposures() if r.image_type == "OBJECT"]
        assert lights and all(r.start_time.isoformat() >= "2026-12-15T09:00" for r in lights)
        assert storage.list_transitions()[-1].reason == "start of the run"
