"""FITS write throughput against the raw disk speed, measured in the same run.

Run: ``python bench/fits_write.py [--dir DIR] [--repeats N]``

For a 2048×2048 and a 6000×4000 ``uint16`` frame with realistic content (Poisson
noise around a sky level, plus a few thousand Gaussian stars; Rice compression
depends on content, so zeros would flatter it):

* **raw**: the reference, the same number of bytes as the plain FITS file written
  with ``os.write`` and ``fsync`` to a new file in the same directory;
* **plain** and **Rice**: ``nocturna.images.fits.write_fits`` (serialising with
  CHECKSUM/DATASUM, SHA-256 of the file, temporary file, ``fsync``, rename, directory
  ``fsync``), and ``encode`` alone (the in-memory part, no disk);
* **read**: ``read_fits`` of each file (checksums verified; from the page cache).

Throughput is image megabytes (the frame's pixel bytes, 10^6 bytes) per second of
wall time, median of the repeats (the operations run in turn, round after round, so
a busy machine slows them alike), and its fraction of the raw speed. The Rice ratio
is plain file size / Rice file size. Targets (ours): plain write ≥ 50 % of raw
disk speed; a 6000×4000 frame written in < 1 s either way (a camera reading out
every second never waits for the disk). Exit status 0 whether or not they are met.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nocturna.images.fits import encode_fits, read_fits, write_fits

FRAMES = {"2048x2048": (2048, 2048), "6000x4000": (4000, 6000)}  # name: (rows, columns)
PLAIN_TARGET = 0.5
FRAME_TARGET_S = 1.0


def realistic_frame(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Sky (bias 500 + sky 800 ADU, Poisson) with Gaussian stars, clipped to 16 bits."""
    rng = np.random.default_rng(seed)
    height, width = shape
    image = np.full(shape, 800.0, dtype=np.float32)
    count = height * width // 4000
    sigma = 1.8
    reach = 8
    offsets = np.arange(-reach, reach + 1)
    xs = rng.uniform(reach, width - reach - 1, count)
    ys = rng.uniform(reach, height - reach - 1, count)
    fluxes = 10 ** rng.uniform(3.0, 6.0, count)  # many faint, few bright
    for x, y, flux in zip(xs, ys, fluxes, strict=True):
        xi, yi = int(x), int(y)
        gx = np.exp(-((offsets + xi - x) ** 2) / (2 * sigma**2))
        gy = np.exp(-((offsets + yi - y) ** 2) / (2 * sigma**2))
        stamp = np.outer(gy, gx) * (flux / (2 * math.pi * sigma**2))
        image[yi - reach : yi + reach + 1, xi - reach : xi + reach + 1] += stamp
    counts = rng.poisson(image) + 500
    return np.clip(counts, 0, 65535).astype(np.uint16)


def raw_write(path: Path, payload: memoryview) -> None:
    """The reference: write the bytes to a new file and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        offset = 0
        while offset < len(payload):
            offset += os.write(fd, payload[offset:])
        os.fsync(fd)
    finally:
        os.close(fd)


def interleaved(actions: dict[str, Callable[[int], object]], repeats: int,
                cleanup: Callable[[], None]) -> dict[str, float]:
    """Median wall time of each action, run in turn (one warm-up round, then
    ``repeats`` rounds), so that a busy machine slows them all alike."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for round_ in range(-1, repeats):
        for name, action in actions.items():
            start = time.perf_counter()
            action(round_)
            elapsed = time.perf_counter() - start
            cleanup()
            if round_ >= 0:
                times[name].append(elapsed)
    return {name: statistics.median(values) for name, values in times.items()}


@dataclass
class Row:
    frame: str
    what: str
    seconds: float
    image_mb: float
    raw_s: float | None = None
    file_mb: float | None = None

    @property
    def mb_s(self) -> float:
        return self.image_mb / self.seconds


def clear(directory: Path) -> Callable[[], None]:
    def run() -> None:
        for entry in directory.iterdir():
            entry.unlink()

    return run


def measure(name: str, shape: tuple[int, int], directory: Path, repeats: int) -> list[Row]:
    data = realistic_frame(shape)
    image_mb = data.nbytes / 1e6
    plain_bytes, _ = encode_fits(data)
    rice_bytes, _ = encode_fits(data, compress=True)
    payload = memoryview(bytes(plain_bytes))
    empty = clear(directory)

    writes = interleaved({
        "raw": lambda i: raw_write(directory / f"raw{i}.bin", payload),
        "plain": lambda i: write_fits(directory / f"p{i}.fits", data),
        "rice": lambda i: write_fits(directory / f"r{i}.fits.fz", data, compress=True),
        "encode plain": lambda i: encode_fits(data),
        "encode rice": lambda i: encode_fits(data, compress=True),
    }, repeats, empty)
    raw_s = writes["raw"]

    write_fits(directory / "keep.fits", data)
    write_fits(directory / "keep.fits.fz", data, compress=True)
    for path in (directory / "keep.fits", directory / "keep.fits.fz"):
        read, _ = read_fits(path)
        assert np.array_equal(read, data), f"{path} did not round-trip"
    reads = interleaved({
        "plain": lambda i: read_fits(directory / "keep.fits"),
        "rice": lambda i: read_fits(directory / "keep.fits.fz"),
    }, repeats, lambda: None)
    empty()

    plain_mb, rice_mb = len(plain_bytes) / 1e6, len(rice_bytes) / 1e6
    return [
        Row(name, "raw write+fsync (reference)", raw_s, image_mb, raw_s, plain_mb),
        Row(name, "write_fits plain", writes["plain"], image_mb, raw_s, plain_mb),
        Row(name, "write_fits Rice", writes["rice"], image_mb, raw_s, rice_mb),
        Row(name, "encode only, plain (memory)", writes["encode plain"], image_mb, raw_s,
            plain_mb),
        Row(name, "encode only, Rice (memory)", writes["encode rice"], image_mb, raw_s,
            rice_mb),
        Row(name, "read_fits plain (verified)", reads["plain"], image_mb, None, plain_mb),
        Row(name, "read_fits Rice (verified)", reads["rice"], image_mb, None, rice_mb),
    ]


def report(rows: list[Row]) -> None:
    header = (f"{'frame':<10} {'operation':<29} {'file MB':>8} {'time ms':>9} "
              f"{'image MB/s':>11} {'× raw':>7}")
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = f"{row.raw_s / row.seconds:7.2f}" if row.raw_s else f"{'':>7}"
        print(f"{row.frame:<10} {row.what:<29} {row.file_mb or 0:8.1f} "
              f"{row.seconds * 1000:9.1f} {row.mb_s:11.0f} {ratio}")
    print()
    for frame in dict.fromkeys(row.frame for row in rows):
        by = {row.what: row for row in rows if row.frame == frame}
        raw, plain = by["raw write+fsync (reference)"], by["write_fits plain"]
        rice = by["write_fits Rice"]
        ratio = (plain.file_mb or 0) / (rice.file_mb or 1)
        plain_share = raw.seconds / plain.seconds
        print(f"{frame}: Rice compression ratio {ratio:.2f}; plain write at "
              f"{plain_share:.0%} of raw disk speed (target ≥ {PLAIN_TARGET:.0%}: "
              f"{'met' if plain_share >= PLAIN_TARGET else 'MISSED'}); Rice write at "
              f"{raw.seconds / rice.seconds:.0%} of raw disk speed")
        if frame == "6000x4000":
            worst = max(plain.seconds, rice.seconds)
            print(f"{frame}: slowest write {worst:.2f} s (target < {FRAME_TARGET_S:.0f} s: "
                  f"{'met' if worst < FRAME_TARGET_S else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / ".cache",
                        help="directory on the disk to measure (default: bench/.cache)")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per figure")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="fits_write.", dir=args.dir))
    try:
        print(f"directory: {directory} ({shutil.disk_usage(directory).free / 1e9:.0f} GB "
              f"free); median of {args.repeats} interleaved rounds after a warm-up round; "
              "MB = 10^6 bytes\n")
        started = time.perf_counter()
        rows = [row for name, shape in FRAMES.items()
                for row in measure(name, shape, directory, args.repeats)]
        report(rows)
        print(f"\nbenchmark wall time {time.perf_counter() - started:.1f} s")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
