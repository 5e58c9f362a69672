"""Images: FITS files, headers, WCS, compression, previews, focus metrics, cutouts.

Importing this package imports nothing heavy; each module brings its own dependencies
(astropy, Pillow, scipy) when it is imported:

* :mod:`~nocturna.images.fits`: ``write_fits`` / ``write_fits_async`` (atomic, with
  CHECKSUM/DATASUM, optionally Rice-compressed ``.fits.fz``), ``read_fits``,
  ``verify_fits``.
* :mod:`~nocturna.images.header`: ``build_header`` from typed sections (exposure, site,
  camera, mount, filter, focuser, observation, WCS) plus extra cards.
* :mod:`~nocturna.images.cards`: ``HeaderCards``, header cards laid out as text the way
  astropy does, without building astropy cards.
* :mod:`~nocturna.images.wcs`: the TAN WCS of a camera on a telescope.
* :mod:`~nocturna.images.preview`: JPEG/PNG previews with an astronomical stretch.
* :mod:`~nocturna.images.metrics`: Vollath F4, star detection, half-flux radius, FWHM.
* :mod:`~nocturna.images.cutout`: cutouts around a pixel or a sky position.
"""
