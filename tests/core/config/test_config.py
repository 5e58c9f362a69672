"""Layered configuration: precedence, validation, set/reset, local-override saving."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import pytest

from nocturna.core.config import Config, local_path_for
from nocturna.core.errors import ConfigError, ConfigKeyError

SITE = """\
# Site file of the test observatory -- hand-written, must never be rewritten.
name: test-unit   # the unit
site:
  name: Test Site
  latitude: 40 deg
  horizon:
    default: 25 deg   # trees to the north
cameras:
  - name: cam0
    model: zwo
  - name: cam1
    model: canon_gphoto2
"""


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(SITE)
    return path


def load(site_file: Path | None = None, **kw) -> Config:
    kw.setdefault("environ", {})
    return Config.load(site_file, **kw)


def test_built_in_defaults_load_and_validate(tmp_path):
    config = load(overrides={"data_dir": str(tmp_path)})
    assert config.get("site.horizon.default") == 30 * u.deg
    assert config.get("config_server.host") == "127.0.0.1"
    assert config.local_path == tmp_path / "nocturna_local.yaml"


def test_site_file_overrides_defaults_and_keeps_the_rest(site_file):
    config = load(site_file)
    assert config.get("name") == "test-unit"
    assert config.get("site.latitude") == 40 * u.deg
    assert config.get("site.longitude") == -155.58 * u.deg  # from the defaults
    assert config.source_of("site.latitude") == str(site_file)
    assert config.source_of("site.longitude") == "built-in defaults"


def test_precedence_is_defaults_site_local_environment_command_line(site_file):
    local_path_for(site_file).write_text(
        "site:\n  horizon:\n    default: 20 deg\n  elevation: 100 m\n  timezone: UTC\n"
    )
    environ = {"NOCTURNA_SITE__ELEVATION": "200 m", "NOCTURNA_SITE__TIMEZONE": "Europe/Berlin"}
    config = load(site_file, environ=environ, overrides={"site.timezone": "Asia/Tokyo"})
    assert config.get("site.latitude") == 40 * u.deg          # site file
    assert config.get("site.horizon.default") == 20 * u.deg   # local beats site
    assert config.get("site.elevation") == 200 * u.m          # environment beats local
    assert config.get("site.timezone") == "Asia/Tokyo"        # command line beats environment
    config.set("site.timezone", "UTC")
    assert config.get("site.timezone") == "UTC"               # run-time set beats everything


def test_local_overrides_can_be_ignored(site_file):
    local_path_for(site_file).write_text("name: from-local\n")
    assert load(site_file).get("name") == "from-local"
    assert load(site_file, load_local=False).get("name") == "test-unit"


def test_environment_variables_address_nested_keys_and_list_items(site_file):
    environ = {"NOCTURNA_CAMERAS__1__MODEL": "qhy", "NOCTURNA_CLOCK__SPEED": "600",
               "NOCTURNA_TEST_PG": "postgresql://ignored", "HOME": "/root"}
    config = load(site_file, environ=environ)
    assert config.get("cameras[1].model") == "qhy"
    assert config.get("clock.speed") == 600.0


def test_environment_variable_for_an_unknown_section_is_an_error_naming_it(site_file):
    with pytest.raises(ConfigError, match="NOCTURNA_STIE__LATITUDE: unknown section 'stie'"):
        load(site_file, environ={"NOCTURNA_STIE__LATITUDE": "3 deg"})


def test_dotted_keys_with_indices_read_nested_values(site_file):
    config = load(site_file)
    assert config.get("cameras[1].model") == "canon_gphoto2"
    assert config.get("cameras[0]")["name"] == "cam0"
    assert config.get("nope", default=42) == 42
    with pytest.raises(ConfigKeyError, match="cameras\\[7\\]"):
        config.get("cameras[7].model")


def test_units_are_parsed_into_quantities(site_file):
    config = load(site_file)
    assert config.get("site.elevation").unit == u.m
    config.set("cameras[0].pixel_scale", "1.2 arcsec")  # a driver option (extra key)
    assert config.get("cameras[0].pixel_scale") == 1.2 * u.arcsec
    config.set("site.horizon.default", {"value": 42, "unit": "deg"})
    assert config.get("site.horizon.default") == 42 * u.deg


def test_plain_numbers_take_the_documented_unit(site_file):
    config = load(site_file)
    config.set("site.elevation", 1200)
    assert config.get("site.elevation") == 1200 * u.m


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("site:\n  latitude: north\n", "site.latitude = 'north'"),
        ("site:\n  latitude: 95 deg\n", "from -90 to 90 deg"),
        ("site:\n  elevation: 3 s\n", "s is not a unit of a length"),
        ("clock:\n  mode: fast\n", "expected 'real' or 'simulated'"),
        ("site:\n  lattitude: 3 deg\n", "site.lattitude: unknown key"),
        ("site:\n  timezone: Mars/Olympus\n", "IANA time zone"),
        ("config_server:\n  port: 70000\n", "config_server.port = 70000"),
        ("cameras:\n  - driver: sim\n", "cameras[0].name: missing"),
    ],
)
def test_bad_value_fails_at_load_naming_key_value_and_expectation(tmp_path, text, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert fragment in str(caught.value)


def test_error_names_the_file_the_bad_value_came_from(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("site:\n  latitude: north\n")
    with pytest.raises(ConfigError, match=f"from {path}"):
        load(path)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("site:\n  latitude: [1, 2\n")
    with pytest.raises(ConfigError, match=r"broken.yaml: line \d+"):
        load(path)


def test_missing_site_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path / "absent.yaml")


def test_invalid_set_leaves_the_configuration_unchanged(site_file):
    config = load(site_file)
    with pytest.raises(ConfigError, match=r"site\.latitude = 'abc'"):
        config.set("site.latitude", "abc")
    assert config.get("site.latitude") == 40 * u.deg


def test_reset_restores_the_layered_value(site_file):
    config = load(site_file)
    config.set("site.horizon.default", "50 deg")
    config.set("name", "other")
    config.reset("site.horizon.default")
    assert config.get("site.horizon.default") == 25 * u.deg
    assert config.get("name") == "other"
    config.reset()
    assert config.get("name") == "test-unit"


def test_setting_a_parent_then_a_child_applies_in_order(site_file):
    config = load(site_file)
    config.set("site.horizon.default", "40 deg")
    config.set("site.horizon", {"default": "45 deg", "obstructions": []})
    config.set("site.horizon.default", "50 deg")
    assert config.get("site.horizon.default") == 50 * u.deg


def test_saving_writes_the_local_file_never_the_site_file(site_file):
    original = site_file.read_bytes()
    config = load(site_file)
    config.set("site.horizon.default", "35 deg", save=True)
    assert site_file.read_bytes() == original
    local = local_path_for(site_file)
    assert "default: 35 deg" in local.read_text()
    assert load(site_file).get("site.horizon.default") == 35 * u.deg


def test_saving_keeps_comments_already_in_the_local_file(site_file):
    local = local_path_for(site_file)
    local.write_text("# operator notes: keep me\nname: night-unit  # renamed in 2026\n")
    config = load(site_file)
    config.set("site.horizon.default", "33 deg", save=True)
    text = local.read_text()
    assert "# operator notes: keep me" in text
    assert "name: night-unit  # renamed in 2026" in text
    assert "default: 33 deg" in text


def test_saving_an_item_of_a_list_stores_the_whole_list(site_file):
    config = load(site_file)
    config.set("cameras[1].model", "qhy600", save=True)
    reloaded = load(site_file)
    assert reloaded.get("cameras[1].model") == "qhy600"
    assert reloaded.get("cameras[0].model") == "zwo"


def test_forget_saved_removes_the_key_from_the_local_file(site_file):
    config = load(site_file)
    config.set("site.horizon.default", "35 deg", save=True)
    config.reset("site.horizon.default", forget_saved=True)
    assert config.get("site.horizon.default") == 25 * u.deg
    assert "horizon" not in local_path_for(site_file).read_text()
    assert load(site_file).get("site.horizon.default") == 25 * u.deg


def test_a_broken_local_file_is_not_overwritten(site_file):
    local = local_path_for(site_file)
    local.write_text("site: [unclosed\n")
    with pytest.raises(ConfigError):
        load(site_file)
    config = load(site_file, load_local=False)
    config.local_path = local
    with pytest.raises(ConfigError, match="not overwriting"):
        config.set("name", "x", save=True)
    assert local.read_text() == "site: [unclosed\n"


def test_typed_model_is_available(site_file):
    config = load(site_file)
    assert config.model.site.latitude == 40 * u.deg
    assert config.model.cameras[1].model == "canon_gphoto2"


def test_a_refused_url_is_named_without_its_password(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text("name: pan001\n")
    (tmp_path / "site_local.yaml").write_text(
        'network:\n  broker: "http://pan001:s3cret@broker.example.org:1883"\n')
    with pytest.raises(ConfigError) as caught:
        Config.load(site, environ={})
    text = str(caught.value)
    assert "network.broker = 'http://pan001:***@broker.example.org:1883'" in text
    assert "s3cret" not in text
