"""``nocturna config reset`` on the local files: what it did, in plain sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocturna.cli.main import main
from nocturna.configserver.runner import start_in_thread
from nocturna.core.config import Config


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text("name: reset-unit\n")
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_reset_of_a_saved_key_says_where_the_value_now_comes_from(capsys, site_file):
    run(capsys, "--config", str(site_file), "config", "set", "site.latitude", "40 deg")
    code, out, _ = run(capsys, "--config", str(site_file), "config", "reset", "site.latitude")
    local = site_file.with_name("site_local.yaml")
    assert code == 0
    assert out.splitlines() == [
        f"removed site.latitude from {local}; its value now comes from the built-in defaults:",
        "19.54 deg",
    ]


def test_reset_of_a_key_that_was_not_saved_says_so(capsys, site_file):
    code, out, _ = run(capsys, "--config", str(site_file), "config", "reset", "name")
    local = site_file.with_name("site_local.yaml")
    assert code == 0
    assert out.splitlines() == [
        f"name was not saved in {local}; its value comes from {site_file}:", "reset-unit"]


def test_reset_without_a_key_asks_for_one(capsys, site_file):
    code, _, err = run(capsys, "--config", str(site_file), "config", "reset")
    assert code == 2
    assert "name the KEY whose saved value should be removed" in err


def test_reset_over_url_says_what_was_undone(capsys, site_file):
    with start_in_thread(Config.load(site_file, environ={}), save=False) as service:
        run(capsys, "config", "set", "name", "remote", "--url", service.url)
        code, out, _ = run(capsys, "config", "reset", "name", "--url", service.url)
        assert code == 0 and out.strip() == "name: run-time value undone"
        code, out, _ = run(capsys, "config", "reset", "--url", service.url)
        assert code == 0 and out.strip() == "all run-time values undone"
