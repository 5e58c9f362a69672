"""Every number and quantity key has a sane range: an absurd value is refused with
exit 2 and one line naming the key, the value, the layer and the allowed range."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nocturna.cli.main import main
from nocturna.core.config import Config
from nocturna.core.errors import ConfigError

# (key, value, the allowed range as the message gives it)
OUT_OF_RANGE = [
    ("observatory.safety.check_interval", "0 s", "above 0 s and at most 3600 s"),
    ("observatory.heartbeat_interval", "0 s", "above 0 s and at most 3600 s"),
    ("observatory.status_interval", "2 h", "above 0 s and at most 3600 s"),
    ("site.elevation", "1e308 m", "from -500 to 9000 m"),
    ("site.elevation", "-600 m", "from -500 to 9000 m"),
    ("site.latitude", "91 deg", "a latitude from -90 to 90 deg"),
    ("site.longitude", "400 deg", "a longitude from -180 to 360 deg"),
    ("site.horizon.default", "-5 deg", "from 0 to 90 deg"),
    ("site.twilight.observe", "-40 deg", "from -30 to 10 deg"),
    ("clock.speed", 1e9, "from 0 to 1e+06"),
    ("logging.backups", 10**6, "from 0 to 1000"),
    ("logging.max_bytes", 10, "from 1024 to 1.09951e+12"),
    ("config_server.port", 0, "from 1 to 65535"),
    ("config_server.port", 70000, "from 1 to 65535"),
    ("azcam.port", 0, "from 1 to 65535"),
    ("azcam.imageserver_port", 65536, "from 1 to 65535"),
    ("azcam.sendimage.port", -1, "from 1 to 65535"),
    ("observatory.calibrations.bias", 10**9, "from 0 to 1000"),
    ("observatory.calibrations.darks", -1, "from 0 to 1000"),
    ("observatory.calibrations.twilight_flats.count", 0, "from 1 to 100"),
    ("observatory.calibrations.twilight_flats.max_exptime", "2 h", "above 0 s and at most 3600 s"),
    ("observatory.calibrations.twilight_flats.min_exptime", "0 s", "above 0 s and at most 3600 s"),
    ("observatory.calibrations.twilight_flats.target_adu", 1e9, "above 0 and at most 1e+06"),
    ("observatory.calibrations.dome_flats.brightness", 0, "above 0 and at most 100"),
    ("observatory.safety.max_wind_m_s", "nan", "above 0 and at most 100"),
    ("observatory.safety.max_dome_offset", "200 deg", "from 0 to 180 deg"),
    ("observatory.safety.min_free_disk_mb", -1, "from 0 to 1e+08"),
    ("observatory.meridian.flip_after", "90 deg", "from 0 to 45 deg"),
    ("observatory.pointing.exposure", "0 s", "above 0 s and at most 3600 s"),
    ("observatory.pointing.tolerance", "0 arcsec", "above 0 arcsec and at most 3600 arcsec"),
    ("observatory.pointing.max_iterations", 1000, "from 1 to 20"),
    ("observatory.pointing.solver.timeout", "0 s", "above 0 s and at most 3600 s"),
    ("observatory.pointing.solver.search_radius", "0 deg", "above 0 deg and at most 180 deg"),
    ("observatory.autofocus.coarse_step", 0, "from 1 to 1e+06"),
    ("observatory.autofocus.cutout", 8, "from 32 to 16384"),
    ("observatory.autofocus.temperature_change", "100 K", "from 0 to 50 K"),
    ("observatory.autofocus.interval", "-1 s", "a duration at least 0 s"),
    ("observatory.tracking.max_correction", "2 deg", "above 0 arcsec and at most 3600 arcsec"),
    ("observatory.fault_recovery.first_retry", "0 s", "above 0 s and at most 86400 s"),
    ("scheduler.time_step", "0.5 s", "from 1 to 3600 s"),
    ("scheduler.slew_rate", "0 deg / s", "above 0 deg / s and at most 100 deg / s"),
    ("scheduler.settle_time", "1 d", "from 0 to 3600 s"),
    ("scheduler.weights.moon", -1, "from 0 to 1000"),
    ("azcam.tempcon.set_point_c", -300, "from -200 to 50"),
    ("azcam.focus.number_exposures", 10**6, "from 1 to 100"),
    ("azcam.exposure.sequence_digits", 12, "from 1 to 9"),
    ("mount.device_number", 10**6, "from 0 to 1000"),
]


def nested(key: str, value: object) -> dict:
    tree: dict = {}
    node = tree
    *parents, last = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return tree


def site_with(tmp_path: Path, key: str, value: object) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(json.dumps(nested(key, value)))  # JSON is YAML
    return path


@pytest.mark.parametrize(("key", "value", "allowed"), OUT_OF_RANGE)
def test_out_of_range_value_in_the_site_file_exits_2_naming_all(capsys, tmp_path, key, value,
                                                                allowed):
    site = site_with(tmp_path, key, value)
    code = main(["--config", str(site), "config", "check"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert f"{key} = {value!r} (from {site}): expected " in err
    assert allowed in err


@pytest.mark.parametrize(("key", "value", "allowed"), OUT_OF_RANGE[:12])
def test_out_of_range_value_set_at_run_time_is_refused_and_changes_nothing(tmp_path, key, value,
                                                                           allowed):
    config = Config.load(overrides={"data_dir": str(tmp_path)}, environ={})
    before = config.get(key)
    with pytest.raises(ConfigError, match="a value set at run time") as refused:
        config.set(key, value)
    assert allowed in str(refused.value)
    assert config.get(key) == before


@pytest.mark.parametrize(("key", "value"), [
    ("site.elevation", "-500 m"), ("site.elevation", "9000 m"), ("config_server.port", 65535),
    ("observatory.calibrations.bias", 1000), ("observatory.autofocus.interval", "0 s"),
    ("observatory.safety.check_interval", "1 h"), ("clock.speed", 0),
])
def test_values_at_the_ends_of_a_range_are_accepted(tmp_path, key, value):
    assert Config.load(site_with(tmp_path, key, value), environ={}).get(key) is not None


def test_the_cli_set_of_an_out_of_range_value_exits_2_and_saves_nothing(capsys, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text("name: ranged\n")
    code = main(["--config", str(site), "config", "set", "observatory.calibrations.bias", "1e9"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "observatory.calibrations.bias" in err and "from 0 to 1000" in err
    assert not (tmp_path / "site_local.yaml").exists()


def test_a_long_value_is_cut_in_the_message(tmp_path):
    config = Config.load(overrides={"data_dir": str(tmp_path)}, environ={})
    with pytest.raises(ConfigError) as refused:
        config.set("observatory.autofocus.cutout", "9" * 100_000)
    assert len(str(refused.value)) < 400 and "100,002 characters" in str(refused.value)
