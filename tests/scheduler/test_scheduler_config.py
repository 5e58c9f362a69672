"""The ``scheduler:`` configuration section and where the fields come from."""

from __future__ import annotations

import pytest

from nocturna.core.config import Config
from nocturna.core.errors import ConfigError
from nocturna.scheduler import Scheduler, configured_fields, default_config, demo_fields_path


def test_defaults_are_in_the_configuration_tree(config):
    section = config.scheduler
    assert section.fields_file is None
    assert section.time_step.to_value("s") == 60
    assert section.min_moon_separation.to_value("deg") == 20
    assert section.slew_rate.to_value("deg / s") == 3
    assert section.overhead.to_value("s") == 0  # beyond a simulated camera's readout
    assert default_config() == section


@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("scheduler.slew_rate", "-1 deg / s", "scheduler.slew_rate"),
    ("scheduler.slew_rate", "3 m", "scheduler.slew_rate"),
    ("scheduler.time_step", "0.1 s", "scheduler.time_step"),
    ("scheduler.min_moon_separation", "200 deg", "scheduler.min_moon_separation"),
    ("scheduler.weights.altitude", -1, "scheduler.weights.altitude"),
    ("scheduler.colour", "red", "scheduler.colour"),
    ("scheduler.weights.sky", 1, "scheduler.weights.sky"),
])
def test_bad_values_and_unknown_keys_are_errors(key, value, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")):
        Config.load(None, load_local=False, environ={}, overrides={key: value})


def test_fields_come_from_the_configured_file_else_the_demo(tmp_path, make_config):
    assert [f.name for f in configured_fields(None)] == [
        f.name for f in configured_fields(make_config().scheduler)]
    assert demo_fields_path().is_file()
    path = tmp_path / "mine.yaml"
    path.write_text("- {name: M42}\n- {name: M31}\n")
    config = make_config({"scheduler.fields_file": str(path)})
    scheduler = Scheduler.from_config(config)
    assert [f.name for f in scheduler.fields] == ["M42", "M31"]


def test_units_may_be_given_in_other_units(make_config):
    config = make_config({"scheduler.time_step": "2 min", "scheduler.slew_rate": "120 deg / min"})
    assert config.scheduler.time_step.to_value("s") == 120
    assert config.scheduler.slew_rate.to_value("deg / s") == pytest.approx(2)
