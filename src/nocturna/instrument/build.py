"""An :class:`Instrument` (and the frame context of any camera) from configuration."""

from __future__ import annotations

from typing import Any

from nocturna.core.config import Config
from nocturna.devices.factory import DeviceSet
from nocturna.instrument.instrument import Instrument
from nocturna.instrument.pipeline import FrameContext, Optics


def frame_context(devices: DeviceSet, config: Config, camera: str | None = None) -> FrameContext:
    """What the headers of ``camera``'s frames describe (default: the primary camera).

    Its filter wheel and focuser are the ones the camera's configuration entry names;
    the mount, the first weather station, the site, the optics and the configured
    names of the telescope and the instrument complete it.
    """
    model = config.model
    cam = devices.camera(camera)
    cfg = next((c for c in model.cameras if c.name == cam.name), None)
    extra = (cfg.model_extra or {}) if cfg is not None else {}
    return FrameContext(
        camera=cam, site=model.site, optics=Optics.from_config(cfg), mount=devices.mount,
        focuser=devices.focusers.get(extra.get("focuser") or ""),
        filterwheel=devices.filterwheels.get(extra.get("filterwheel") or ""),
        unit_name=model.name, weather=next(iter(devices.weather.values()), None),
        telescope_name=model.site.telescope, instrument_name=model.instrument.name)


def build_instrument(devices: DeviceSet, config: Config, storage: Any, *,
                     camera: str | None = None, **options: Any) -> Instrument:
    """The instrument of ``camera`` (default: the primary camera), writing images in the
    configured format. ``options`` go to :class:`Instrument` (``writer_depth``…).

    Every camera of the unit draws its exposure numbers from one stream, the primary
    camera's: frames of two cameras never share an exposure id (their image ids still
    start with their own camera's name)."""
    model = config.model
    context = frame_context(devices, config, camera)
    cam = context.camera
    spectrograph_name = getattr(devices, "camera_spectrographs", {}).get(cam.name)
    spectrograph = getattr(devices, "spectrographs", {}).get(spectrograph_name or "")
    options.setdefault("image_format", model.instrument.image_format)
    options.setdefault("exposure_stream", devices.primary_camera)
    return Instrument(cam, storage=storage, data_dir=config.data_dir, context=context,
                      spectrograph=spectrograph, timezone=model.site.timezone, **options)
