"""An :class:`Instrument` from a unit's configuration and its built devices."""

from __future__ import annotations

from typing import Any

from nocturna.core.config import Config
from nocturna.devices.factory import DeviceSet
from nocturna.instrument.frame import FrameContext, Optics
from nocturna.instrument.instrument import Instrument


def build_instrument(devices: DeviceSet, config: Config, storage: Any, *,
                     camera: str | None = None, **options: Any) -> Instrument:
    """The instrument of ``camera`` (default: the primary camera).

    Its filter wheel, focuser and spectrograph are the ones the camera's configuration
    entry names; the mount, site and optics complete the frame headers. ``options`` go
    to :class:`Instrument` (``compress``, ``writer_depth``…).
    """
    model = config.model
    cam = devices.camera(camera)
    cfg = next((c for c in model.cameras if c.name == cam.name), None)
    extra = (cfg.model_extra or {}) if cfg is not None else {}
    context = FrameContext(
        camera=cam, site=model.site, optics=Optics.from_config(cfg), mount=devices.mount,
        focuser=devices.focusers.get(extra.get("focuser") or ""),
        filterwheel=devices.filterwheels.get(extra.get("filterwheel") or ""),
        unit_name=model.name)
    spectrograph_name = getattr(devices, "camera_spectrographs", {}).get(cam.name)
    spectrograph = getattr(devices, "spectrographs", {}).get(spectrograph_name or "")
    return Instrument(cam, storage=storage, data_dir=config.data_dir, context=context,
                      spectrograph=spectrograph, timezone=model.site.timezone, **options)
