"""A small simulated instrument for the instrument tests (small sensor, seeded noise)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nocturna.core.config import Config
from nocturna.core.storage import Storage
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.devices.sim.filterwheel import SimFilterWheel
from nocturna.devices.sim.focuser import SimFocuser
from nocturna.devices.sim.mount import SimMount
from nocturna.devices.sim.spectrograph import SimSpectrograph
from nocturna.images.fits import read_fits
from nocturna.instrument.frame import FrameContext, Optics
from nocturna.instrument.instrument import Instrument

NIGHT = "2026-12-15T10:00Z"  # midnight in Hawaii: observing day 2026-12-14
DAY_OBS = 20261214
SMALL = SimCameraModel(width=256, height=192, readout_s=0.5, noise_seed=3)


@dataclass
class Rig:
    instrument: Instrument
    camera: SimCamera
    mount: SimMount
    focuser: SimFocuser
    wheel: SimFilterWheel
    spectrograph: SimSpectrograph | None
    storage: Storage
    data_dir: Path


async def make_rig(tmp_path: Path, *, storage: Storage | None = None,
                   model: SimCameraModel = SMALL, spectrograph: bool = False,
                   wheel: bool = True, **options: Any) -> Rig:
    site = Config.load(environ={}).model.site
    mount = SimMount(latitude_deg=19.54, longitude_deg=-155.58, elevation_m=3400)
    focuser = SimFocuser(position=30_000)
    filters = SimFilterWheel("fw0")
    spec = SimSpectrograph("spec0") if spectrograph else None
    camera = SimCamera("cam0", model=model, site=site, mount=mount, focuser=focuser,
                       filterwheel=filters if wheel else None)
    for device in (mount, focuser, filters, camera, *([spec] if spec else [])):
        await device.connect()
    await mount.unpark()
    await mount.set_tracking(True)
    storage = storage or Storage.open(data_dir=tmp_path / "data")
    context = FrameContext(camera=camera, site=site, optics=Optics(), mount=mount,
                           focuser=focuser, filterwheel=filters if wheel else None,
                           unit_name="test-unit")
    instrument = Instrument(camera, storage=storage, data_dir=tmp_path / "data",
                            context=context, spectrograph=spec, timezone=site.timezone,
                            **options)
    return Rig(instrument, camera, mount, focuser, filters, spec, storage, tmp_path / "data")


def header_of(rig: Rig, exposure_id: int) -> Any:
    record = rig.storage.get_exposure(f"{rig.instrument.name}_{exposure_id}")
    assert record is not None, f"no database row for {exposure_id}"
    return read_fits(record.path)[1]
