"""The simulated sky: what a real camera would see at the mount's pointing and time.

* :mod:`.catalog`: Gaia DR3 + Hipparcos stars to G ≈ 10, cone selection, proper motion;
* :mod:`.background`: sky brightness (twilight, night, Moon) and photometry;
* :mod:`.render`: :func:`render_frame`, a pure function of a :class:`FrameSpec`.
"""

from nocturna.devices.sim.sky.background import (
    SkyConditions,
    sky_brightness,
    sky_conditions,
    sky_rate_e_per_s_per_px,
    star_rate_e_per_s,
)
from nocturna.devices.sim.sky.catalog import (
    CatalogError,
    StarCatalog,
    Stars,
    julian_year,
    load_catalog,
)
from nocturna.devices.sim.sky.render import (
    FrameSpec,
    PlacedStars,
    RenderedFrame,
    dark_current,
    defocus_fwhm,
    frame_wcs,
    read_out,
    render_frame,
    spec_wcs,
    stamp_stars,
    steps_per_px,
)

__all__ = [
    "CatalogError", "FrameSpec", "PlacedStars", "RenderedFrame", "SkyConditions",
    "StarCatalog", "Stars", "dark_current", "defocus_fwhm", "frame_wcs", "julian_year",
    "load_catalog", "read_out", "render_frame", "sky_brightness", "sky_conditions",
    "sky_rate_e_per_s_per_px", "spec_wcs", "stamp_stars", "star_rate_e_per_s",
    "steps_per_px",
]
