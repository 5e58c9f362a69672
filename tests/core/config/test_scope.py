"""A set validates only the model holding the key, and gives the same result as
validating the whole tree: invalid values are still refused, cross-key rules hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import astropy.units as u
import pytest
from pydantic import BaseModel, ValidationInfo, field_validator, model_validator

from nocturna.core.config import Config, parse_key
from nocturna.core.config.models import NocturnaConfig, validate_tree
from nocturna.core.config.scope import validation_scope
from nocturna.core.errors import ConfigError
from nocturna.core.units import parse_tree


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config.load(overrides={"data_dir": str(tmp_path)}, environ={})


@pytest.mark.parametrize(("key", "scope", "model"), [
    ("site.horizon.default", "site.horizon", "Horizon"),
    ("site.horizon.obstructions[0]", "site.horizon", "Horizon"),
    ("site.timezone", "site", "Site"),
    ("cameras[0].focal_length_mm", "cameras[0]", "DeviceConfig"),
    ("cameras[0]", "", "NocturnaConfig"),
    ("mount.name", "mount", "DeviceConfig"),
    ("azcam.detector.amps", "azcam", "AzcamConfig"),
    ("observatory.fault_recovery.first_retry", "observatory.fault_recovery",
     "FaultRecoveryConfig"),
    ("name", "", "NocturnaConfig"),
    ("site.nope.deeper", "site", "Site"),
])
def test_the_smallest_model_holding_the_key_is_validated(key, scope, model):
    path, found = validation_scope(NocturnaConfig, parse_key(key))
    assert path == parse_key(scope) and found.__name__ == model


class Inner(BaseModel):
    a: int = 0
    b: int = 0


class Watched(BaseModel):
    """``later`` has a validator that reads ``earlier`` (declared before it)."""

    earlier: Inner = Inner()
    later: Inner = Inner()

    @field_validator("later")
    @classmethod
    def _not_below_earlier(cls, value: Inner, info: ValidationInfo) -> Inner:
        return value


class CrossSection(BaseModel):
    """A model validator across two sections."""

    left: Inner = Inner()
    right: Watched = Watched()

    @model_validator(mode="after")
    def _sum(self) -> Any:
        return self


class Plain(BaseModel):
    left: Inner = Inner()
    right: Watched = Watched()


def test_a_model_validator_across_sections_widens_the_scope_to_its_model():
    assert validation_scope(CrossSection, ("left", "a")) == ((), CrossSection)
    assert validation_scope(CrossSection, ("right", "later", "b")) == ((), CrossSection)


def test_a_field_validator_sees_its_field_and_the_fields_before_it():
    # Watched's validator on "later" can read "earlier" through info.data
    assert validation_scope(Plain, ("right", "earlier", "a")) == (("right",), Watched)
    assert validation_scope(Plain, ("right", "later", "a")) == (("right",), Watched)
    assert validation_scope(Plain, ("left", "a")) == (("left",), Inner)


def assert_same_as_whole_tree(config: Config) -> None:
    whole = validate_tree(config._tree)
    assert whole == config.model
    assert parse_tree(whole.model_dump(mode="python")) == config.as_dict()


def test_sets_in_many_places_give_what_validating_the_whole_tree_gives(config):
    for key, value in [
        ("site.horizon.default", "35 deg"), ("site.elevation", "100 m"),
        ("cameras[0].focal_length_mm", 135), ("mount.name", "mount9"),
        ("observatory.fault_recovery.max_retry", "20 min"),
        ("site.horizon.obstructions", [[[10, 0], [20, 90]]]),
        ("scheduler.weights", {"altitude": 2, "moon": 1, "priority": 1, "visited": 0}),
        ("name", "whole-tree"),
    ]:
        config.set(key, value)
        assert_same_as_whole_tree(config)
    assert config.get("cameras")[0]["focal_length_mm"] == 135
    assert config.model.site.horizon.default == 35 * u.deg


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("site.horizon.default", "95 deg", "site.horizon.default = '95 deg'"),
    ("site.horizon.obstructions", [[[100, 0], [20, 90]]], "obstruction point [100, 0]"),
    ("site.horizon.surprise", 1, "site.horizon.surprise: unknown key"),
    ("cameras[0].device_number", -1, "cameras[0].device_number = -1"),
    ("scheduler.weights", {"altitude": -1}, "scheduler.weights.altitude = -1"),
])
def test_an_invalid_value_in_a_subtree_is_refused_and_changes_nothing(config, key, value,
                                                                      problem):
    before = config.as_dict()
    with pytest.raises(ConfigError) as refused:
        config.set(key, value)
    assert problem in str(refused.value)
    assert config.as_dict() == before
    assert_same_as_whole_tree(config)


def test_cross_key_rules_still_hold(config):
    config.set("observatory.fault_recovery.max_retry", "5 min")
    with pytest.raises(ConfigError, match=r"max_retry = '5 min'.*at least first_retry \(3600 s\)"):
        config.set("observatory.fault_recovery.first_retry", "1 h")
    with pytest.raises(ConfigError, match="at least first_retry"):
        config.set("observatory.fault_recovery.max_retry", "10 s")
    assert config.get("observatory.fault_recovery.first_retry") == 30 * u.s
    config.set("observatory.fault_recovery.first_retry", "1 min")  # below max_retry: fine
    assert_same_as_whole_tree(config)
