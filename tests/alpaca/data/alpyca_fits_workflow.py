"""One exposure on an ASCOM Alpaca camera through alpyca, saved as a FITS file.

    python alpyca_fits_workflow.py --address 127.0.0.1:11111 --out frame.fits

What a user of alpyca's camera documentation does, written for nocturna's tests: it
connects, sets up a full-frame unbinned exposure, starts it, polls ``ImageReady``,
reads ``ImageArray`` and its ``ImageArrayInfo``, and writes the pixels with astropy.
Alpaca arrays are indexed ``[x][y]`` (``[x][y][plane]`` for colour) while FITS wants
the first numpy axis to be y (and the plane before both), so the array is transposed
before writing; integer images that fit the camera's MaxADU range go out as unsigned
16-bit (BITPIX 16 with BZERO 32768).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from alpaca.camera import Camera, ImageArrayElementTypes
from astropy.io import fits


def fits_pixels(image: list, element_type: int, rank: int, max_adu: int) -> np.ndarray:
    """The Alpaca array in FITS axis order, in the narrowest fitting numpy type."""
    if element_type == ImageArrayElementTypes.Double:
        dtype: type = np.float64
    elif max_adu <= 0xFFFF:
        dtype = np.uint16
    else:
        dtype = np.int32
    pixels = np.asarray(image, dtype=dtype)
    return pixels.T if rank == 2 else pixels.transpose(2, 1, 0)


def expose(address: str, device: int, seconds: float, light: bool) -> fits.PrimaryHDU:
    camera = Camera(address, device)
    camera.Connected = True
    try:
        camera.BinX = 1
        camera.BinY = 1
        camera.StartX = 0
        camera.StartY = 0
        camera.NumX = camera.CameraXSize // camera.BinX
        camera.NumY = camera.CameraYSize // camera.BinY
        camera.StartExposure(seconds, light)
        while not camera.ImageReady:
            print(f"exposing: {camera.PercentCompleted} %", flush=True)
            time.sleep(0.2)
        image = camera.ImageArray
        info = camera.ImageArrayInfo
        pixels = fits_pixels(image, info.ImageElementType, info.Rank, camera.MaxADU)
        header = fits.Header()
        header["DATE-OBS"] = (camera.LastExposureStartTime, "exposure start (UTC)")
        header["EXPTIME"] = (camera.LastExposureDuration, "exposure time [s]")
        header["IMAGETYP"] = "Light Frame" if light else "Dark Frame"
        header["XBINNING"] = camera.BinX
        header["YBINNING"] = camera.BinY
        header["XORGSUBF"] = (camera.StartX, "subframe origin, x")
        header["YORGSUBF"] = (camera.StartY, "subframe origin, y")
        header["INSTRUME"] = camera.SensorName
        header["GAIN"] = (camera.Gain, "camera gain setting")
        header["OFFSET"] = (camera.Offset, "camera offset setting")
        return fits.PrimaryHDU(pixels, header)
    finally:
        camera.Connected = False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True, help="the Alpaca server, host:port")
    parser.add_argument("--device", type=int, default=0, help="camera device number")
    parser.add_argument("--seconds", type=float, default=2.0, help="exposure time")
    parser.add_argument("--dark", action="store_true", help="keep the shutter closed")
    parser.add_argument("--out", type=Path, required=True, help="FITS file to write")
    args = parser.parse_args()
    hdu = expose(args.address, args.device, args.seconds, not args.dark)
    hdu.writeto(args.out)
    print(f"wrote {args.out}: {hdu.data.shape[::-1]} pixels (x, y), "
          f"{hdu.header['EXPTIME']} s")


if __name__ == "__main__":
    main()
