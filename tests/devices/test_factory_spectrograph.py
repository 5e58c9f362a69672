"""Building spectrographs from configuration, and cameras that name one."""

from __future__ import annotations

import pytest

from nocturna.core.config import Config
from nocturna.core.errors import ConfigError
from nocturna.devices.factory import DRIVERS, build_devices
from nocturna.devices.sim.spectrograph import SimSpectrograph


def load(tmp_path, **overrides):
    return Config.load(environ={}, load_local=False,
                       overrides={"data_dir": str(tmp_path), **overrides})


def test_the_simulator_is_registered():
    assert DRIVERS[("spectrographs", "sim")] == \
        "nocturna.devices.sim.spectrograph:SimSpectrograph"


def test_no_spectrographs_by_default(tmp_path):
    devices = build_devices(load(tmp_path))
    assert devices.spectrographs == {} and devices.camera_spectrographs == {}


async def test_spectrographs_are_built_with_their_options(tmp_path):
    config = load(tmp_path, spectrographs=[
        {"name": "spec0", "driver": "sim", "stage_position_mm": "5 cm",
         "gratings": ["empty", "holo4_003"]},
        {"name": "spec1"},
    ], **{"cameras[0].spectrograph": "spec0",
          "cameras[1]": {"name": "cam1", "driver": "sim", "spectrograph": "spec1"}})
    devices = build_devices(config)
    assert list(devices.spectrographs) == ["spec0", "spec1"]
    spec0 = devices.spectrographs["spec0"]
    assert isinstance(spec0, SimSpectrograph)
    assert devices.get("spec1") is devices.spectrographs["spec1"]
    await spec0.connect()
    assert (await spec0.info()).gratings == ["empty", "holo4_003"]
    assert (await spec0.state()).stage_position_mm == 50.0


def test_spectrographs_come_before_cameras_when_iterating(tmp_path):
    devices = build_devices(load(tmp_path, spectrographs=[{"name": "spec0"}]))
    names = [device.name for device in devices]
    assert names.index("spec0") < names.index("cam0")


def test_simulate_builds_the_simulator_for_other_drivers(tmp_path):
    config = load(tmp_path, spectrographs=[{"name": "spec0", "driver": "alpaca"}])
    with pytest.raises(ConfigError, match=r"spec0.*driver 'alpaca'"):
        build_devices(config)
    assert isinstance(build_devices(config, simulate=True).spectrographs["spec0"],
                      SimSpectrograph)


def test_a_camera_names_its_spectrograph(tmp_path):
    config = load(tmp_path, spectrographs=[{"name": "spec0"}],
                  **{"cameras[0].spectrograph": "spec0"})
    devices = build_devices(config)
    assert devices.camera_spectrographs == {"cam0": "spec0"}
    assert "cam0" in devices.cameras
    # the link stays in the configuration; only the camera driver does not see it
    assert config.model.cameras[0].model_extra["spectrograph"] == "spec0"


def test_the_only_spectrograph_goes_with_the_only_camera(tmp_path):
    devices = build_devices(load(tmp_path, spectrographs=[{"name": "spec0"}]))
    assert devices.camera_spectrographs == {"cam0": "spec0"}


def test_no_spectrograph_no_link(tmp_path):
    assert build_devices(load(tmp_path)).camera_spectrographs == {}


def test_a_second_camera_needs_the_link_named(tmp_path):
    config = load(tmp_path, spectrographs=[{"name": "spec0"}],
                  **{"cameras[1]": {"name": "cam1", "driver": "sim"}})
    with pytest.raises(ConfigError, match=r"spectrograph 'spec0' is linked to no camera: set "
                                          r"cameras\[0\]\.spectrograph \(cam0\) or "
                                          r"cameras\[1\]\.spectrograph \(cam1\) to 'spec0'"):
        build_devices(config)
    config = load(tmp_path, spectrographs=[{"name": "spec0"}],
                  **{"cameras[1]": {"name": "cam1", "driver": "sim", "spectrograph": "spec0"}})
    assert build_devices(config).camera_spectrographs == {"cam1": "spec0"}


def test_a_second_spectrograph_no_camera_names_is_an_error(tmp_path):
    config = load(tmp_path, spectrographs=[{"name": "spec0"}, {"name": "spec1"}],
                  **{"cameras[0].spectrograph": "spec0", "cameras[1]": {"name": "cam1"}})
    with pytest.raises(ConfigError, match=r"spectrograph 'spec1' is linked to no camera: "
                                          r"set cameras\[1\]\.spectrograph \(cam1\) to "
                                          r"'spec1'"):
        build_devices(config)


def test_an_unlinked_spectrograph_is_allowed_once_every_camera_says(tmp_path):
    config = load(tmp_path, spectrographs=[{"name": "spec0"}, {"name": "spec1"}],
                  **{"cameras[0].spectrograph": "spec0"})
    assert build_devices(config).camera_spectrographs == {"cam0": "spec0"}


def test_unknown_spectrograph_reference_is_a_config_error(tmp_path):
    config = load(tmp_path, spectrographs=[{"name": "spec0"}],
                  **{"cameras[0].spectrograph": "spec9"})
    with pytest.raises(ConfigError, match=r"cam0\.spectrograph = 'spec9': no such device "
                                          r"\(known: spec0\)"):
        build_devices(config)


def test_reference_without_any_spectrograph_is_a_config_error(tmp_path):
    config = load(tmp_path, **{"cameras[0].spectrograph": "spec0"})
    with pytest.raises(ConfigError, match=r"known: none"):
        build_devices(config)


def test_duplicate_spectrograph_names_are_refused(tmp_path):
    config = load(tmp_path, spectrographs=[{"name": "spec0"}, {"name": "spec0"}])
    with pytest.raises(ConfigError, match="spectrographs: two devices are named 'spec0'"):
        build_devices(config)


def test_a_spectrograph_may_not_share_a_name_with_another_device(tmp_path):
    config = load(tmp_path, spectrographs=[{"name": "fw0"}])
    with pytest.raises(ConfigError, match="repeated: fw0"):
        build_devices(config)


def test_bad_spectrograph_options_are_config_errors(tmp_path):
    config = load(tmp_path, spectrographs=[{"name": "spec0", "stage_limits_mm": [0]}])
    with pytest.raises(ConfigError, match=r"spec0\.stage_limits_mm"):
        build_devices(config)


def test_a_null_spectrograph_link_is_no_link(tmp_path):
    config = load(tmp_path, spectrographs=[{"name": "spec0"}],
                  **{"cameras[0].spectrograph": None})
    devices = build_devices(config)
    assert devices.camera_spectrographs == {} and "cam0" in devices.cameras
