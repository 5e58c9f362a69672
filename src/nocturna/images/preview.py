"""JPEG and PNG previews of an image, for people (dashboard, notes), not for science.

The stretch (:func:`stretch`), by default ``"asinh"``: the black point sits just below
the sky (median − 2.8 robust sigmas), the white point at the 99.95th percentile, and an
asinh curve is softened until the sky lands at a quarter of full brightness, which
shows faint detail without burning star cores (the idea of PixInsight's automatic
screen stretch, with an asinh curve). ``"zscale"`` is the IRAF range, linear, as DS9
shows by default. NaNs become black; a constant image becomes uniform mid-grey. Row 0
of a FITS image is its bottom row, so previews are flipped to look as DS9 shows them.

Downscaling averages blocks of pixels (never drops them) before a final Lanczos resize
to at most ``max_size`` pixels on the longer side. A colour sensor's Bayer mosaic
(``bayer``: its pattern) is shown in colour, one pixel per 2 × 2 cell.
"""

from __future__ import annotations

import io
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from nocturna.core.atomic import atomic_write_bytes
from nocturna.core.errors import InvalidValueError, StorageError

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

StretchMethod = Literal["asinh", "zscale"]
_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}
_SAMPLE = 100_000  # pixels used to find the clip range


def _finite_sample(data: np.ndarray) -> np.ndarray:
    """Up to ~``_SAMPLE`` finite pixels on a regular grid (enough for the clip range)."""
    step = max(1, int(np.sqrt(data.size / _SAMPLE)))
    sample = np.asarray(data[::step, ::step], dtype=np.float64).ravel()
    return sample[np.isfinite(sample)]


def zscale_limits(sample: np.ndarray, *, contrast: float = 0.25, max_reject: float = 0.5,
                  krej: float = 2.5, iterations: int = 5) -> tuple[float, float]:
    """The IRAF zscale range of ``sample`` (1-D, finite): a line fitted to the sorted
    pixels with iterative rejection, its slope divided by ``contrast``."""
    values = np.sort(sample)
    n = values.size
    if n < 2:
        value = float(values[0]) if n else 0.0
        return value, value
    x = np.arange(n, dtype=np.float64)
    keep = np.ones(n, dtype=bool)
    min_keep = max(5, int(n * (1.0 - max_reject)))
    slope, intercept = 0.0, float(np.median(values))
    for _ in range(iterations):
        if keep.sum() < min_keep:
            break
        slope, intercept = np.polyfit(x[keep], values[keep], 1)
        residuals = values - (slope * x + intercept)
        sigma = residuals[keep].std()
        new_keep = np.abs(residuals) <= krej * sigma if sigma > 0 else keep
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
    median = float(np.median(values))
    centre = (n - 1) / 2.0
    slope = slope / contrast if contrast > 0 else slope
    low = max(float(values[0]), median - slope * centre)
    high = min(float(values[-1]), median + slope * (n - 1 - centre))
    return low, high


def _asinh(x: np.ndarray | float, a: float) -> np.ndarray | float:
    """``asinh(x / a) / asinh(1 / a)``: 0 → 0, 1 → 1, steeper near 0 for small ``a``."""
    return np.arcsinh(np.divide(x, a)) / np.arcsinh(1.0 / a)


def asinh_softening(x_background: float, target: float) -> float | None:
    """The ``a`` for which the asinh curve maps ``x_background`` to ``target``.

    None when no brightening is needed (the background is already at or above the
    target): the curve is then linear.
    """
    if not 0.0 < x_background < target < 1.0:
        return None
    low, high = -12.0, 6.0  # log10(a): the curve tends to linear as a grows
    for _ in range(60):  # bisection; y(x_background) falls as a grows
        middle = (low + high) / 2.0
        if _asinh(x_background, 10.0**middle) > target:
            low = middle
        else:
            high = middle
    return 10.0 ** ((low + high) / 2.0)


def stretch_limits(data: np.ndarray, *, method: StretchMethod = "asinh",
                   background_level: float = 0.25) -> tuple[float, float, float | None]:
    """``(low, high, a)``: the clip range and the asinh softening (None: linear)."""
    sample = _finite_sample(data)
    if sample.size == 0:
        return 0.0, 0.0, None
    median = float(np.median(sample))
    if method == "zscale":
        low, high = zscale_limits(sample)
    else:
        sigma = 1.4826 * float(np.median(np.abs(sample - median)))
        low = max(float(sample.min()), median - 2.8 * sigma)
        high = float(np.percentile(sample, 99.95))
    if not high > low:  # nearly constant: fall back to the full range
        low, high = float(sample.min()), float(sample.max())
    softening = None
    if method == "asinh" and high > low:
        softening = asinh_softening((median - low) / (high - low), background_level)
    return low, high, softening


def stretch(data: np.ndarray, *, method: StretchMethod = "asinh",
            background_level: float = 0.25) -> np.ndarray:
    """``data`` mapped to 0-255 ``uint8`` (same shape).

    ``"asinh"``: black point 2.8 robust sigmas below the median (the sky), white point
    at the 99.95th percentile, and an asinh curve softened so the sky lands at
    ``background_level`` (0-1), which shows faint detail without burning star cores.
    ``"zscale"``: the IRAF zscale range, linear (what DS9 shows by default).
    """
    array = np.asarray(data)
    if array.ndim != 2 or array.size == 0:
        raise InvalidValueError(f"a preview needs a non-empty 2-D image, got shape {array.shape}")
    if method not in ("asinh", "zscale"):
        raise InvalidValueError(f"stretch method must be 'asinh' or 'zscale', got {method!r}")
    if not 0.0 < background_level < 1.0:
        raise InvalidValueError(f"background_level must be between 0 and 1, got "
                                f"{background_level!r}")
    low, high, softening = stretch_limits(array, method=method,
                                          background_level=background_level)
    if not high > low:  # constant image (or no finite pixel): uniform mid-grey
        out = np.full(array.shape, 128, dtype=np.uint8)
        out[~np.isfinite(array)] = 0
        return out
    scaled = (np.asarray(array, dtype=np.float32) - np.float32(low)) / np.float32(high - low)
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=1.0, neginf=0.0)
    np.clip(scaled, 0.0, 1.0, out=scaled)
    if softening is not None:
        scaled = _asinh(scaled, softening)
    return np.round(np.asarray(scaled) * 255.0).astype(np.uint8)


def _block_mean(data: np.ndarray, factor: int) -> np.ndarray:
    """Average ``factor``×``factor`` blocks (edges trimmed), ignoring NaNs."""
    if factor <= 1:
        return data
    height, width = (data.shape[0] // factor) * factor, (data.shape[1] // factor) * factor
    blocks = np.asarray(data[:height, :width], dtype=np.float32).reshape(
        height // factor, factor, width // factor, factor)
    finite = np.isfinite(blocks)
    total = np.where(finite, blocks, 0.0).sum(axis=(1, 3))
    count = finite.sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def preview_image(data: np.ndarray, *, max_size: int | None = 1024,
                  method: StretchMethod = "asinh", bayer: str | None = None) -> PILImage:
    """A Pillow image of ``data``: binned, stretched, flipped, resized; greyscale, or
    colour for a Bayer mosaic whose pattern at pixel (0, 0) is ``bayer`` (each colour
    of the 2 × 2 cells stretched on its own, which also balances the colours)."""
    from PIL import Image

    array = np.asarray(data)
    if array.ndim != 2 or array.size == 0:
        raise InvalidValueError(f"a preview needs a non-empty 2-D image, got shape {array.shape}")
    if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int)
                                 or max_size < 1):
        raise InvalidValueError(f"max_size must be an integer >= 1 or None, got {max_size!r}")
    planes = [array]
    if bayer is not None:
        from nocturna.images.bayer import superpixels

        rgb = superpixels(array, bayer)
        planes = [rgb[..., channel] for channel in range(3)]
    longest = max(planes[0].shape)
    if max_size is not None and longest > max_size:
        planes = [_block_mean(plane, longest // max_size) for plane in planes]
    grey = [np.ascontiguousarray(np.flipud(stretch(plane, method=method))) for plane in planes]
    image = Image.fromarray(grey[0], mode="L") if len(grey) == 1 else \
        Image.fromarray(np.stack(grey, axis=-1), mode="RGB")
    if max_size is not None and max(image.size) > max_size:
        scale = max_size / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image


def preview_bytes(data: np.ndarray, *, format: Literal["JPEG", "PNG"] = "JPEG",
                  max_size: int | None = 1024, method: StretchMethod = "asinh",
                  quality: int = 90, bayer: str | None = None) -> bytes:
    """The encoded preview (JPEG or PNG) as bytes, e.g. to serve over HTTP."""
    if format not in ("JPEG", "PNG"):
        raise InvalidValueError(f"preview format must be 'JPEG' or 'PNG', got {format!r}")
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 95:
        raise InvalidValueError(f"JPEG quality must be an integer 1-95, got {quality!r}")
    image = preview_image(data, max_size=max_size, method=method, bayer=bayer)
    buffer = io.BytesIO()
    options = {"quality": quality, "optimize": True} if format == "JPEG" else {"optimize": True}
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def write_preview(path: str | PathLike[str], data: np.ndarray, *, max_size: int | None = 1024,
                  method: StretchMethod = "asinh", quality: int = 90,
                  overwrite: bool = False) -> Path:
    """Write a preview atomically; JPEG or PNG by the suffix (``.jpg``/``.jpeg``/``.png``)."""
    path = Path(path)
    format = _FORMATS.get(path.suffix.lower())
    if format is None:
        raise InvalidValueError(f"{path}: a preview name must end with .jpg, .jpeg or .png")
    encoded = preview_bytes(data, format=format,  # type: ignore[arg-type]
                            max_size=max_size, method=method, quality=quality)
    try:
        return atomic_write_bytes(path, encoded, overwrite=overwrite)
    except OSError as exc:
        raise StorageError(f"{path}: could not write the preview: {exc}") from exc
