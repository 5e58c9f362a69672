"""``nocturna run --simulate`` in a subprocess serves its API on a free port and prints
it; ``nocturna status``, ``park``, ``resume``, ``observe``, ``components`` and
``end-night`` from another process talk to it; the run ends when told to."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
from api_helpers import OPERATOR, TOKENS, VIEWER

from nocturna.cli.main import main
from unit_helpers import MIDNIGHT, unit_config

URL_LINE = re.compile(r"API and dashboard: (http://127\.0\.0\.1:\d+)/")


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def running(tmp_path):
    unit_config(tmp_path, api={"tokens": TOKENS})
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "nocturna.cli.main", "--config", str(tmp_path / "site.yaml"),
             "run", "--simulate", "--start", MIDNIGHT, "--until", "2026-12-15T14:00Z",
             "--speed", "200", "--api-port", "0"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"})
    try:
        url = None
        for _ in range(1200):  # the URL is printed before the night starts
            found = URL_LINE.search(log.read_text())
            if found or process.poll() is not None:
                url = found and found[1]
                break
            time.sleep(0.1)
        assert url, log.read_text()
        yield process, url, log
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(120)


def _until_answers(capsys, url: str) -> str:
    """The status printed once the unit answers with its components (its first
    snapshot, before the unit has started, has none yet)."""
    from nocturna.api.client import UnitClient, UnitUnreachableError

    for _ in range(1200):
        try:
            if UnitClient(url, VIEWER).status()["components"]:
                break
        except UnitUnreachableError:
            pass
        time.sleep(0.1)
    code, out, err = _cli(capsys, "status", "--url", url, "--token", VIEWER)
    assert code == 0, err
    return out


def test_status_park_resume_observe_and_end_night_from_the_command_line(
        running, capsys, monkeypatch):
    process, url, log = running
    out = _until_answers(capsys, url)
    assert "state" in out and "safety" in out and "component" in out
    code, _, err = _cli(capsys, "park", "--url", url)
    assert code == 1 and "401" in err and "--token" in err
    code, _, err = _cli(capsys, "park", "--url", url, "--token", VIEWER)
    assert code == 1 and "403" in err
    monkeypatch.setenv("NOCTURNA_TOKEN", OPERATOR)
    code, out, err = _cli(capsys, "park", "--url", url)
    assert code == 0 and "park: accepted" in out, err
    code, out, err = _cli(capsys, "components", "--url", url)
    assert code == 0 and f"the unit running at {url}" in out and "mount0" in out, err
    code, out, err = _cli(capsys, "resume", "--url", url)
    assert code == 0 and "resume: accepted" in out, err
    code, out, err = _cli(capsys, "observe", "TOO-CLI", "--ra", "05:35:17", "--dec", "-05:23:28",
                          "--count", "1", "--url", url)
    assert (code == 0 and "observe: accepted" in out) or (code == 1 and "refused" in err), err
    code, out, err = _cli(capsys, "end-night", "--url", url)
    assert code == 0 and "end-night: accepted" in out, err
    assert process.wait(300) == 0, log.read_text()
    text = log.read_text()
    assert "Night summary" in text
    code, _, err = _cli(capsys, "status", "--url", url, "--token", VIEWER)
    assert code == 1 and f"no unit answers at {url}" in err  # the API stopped with the night
