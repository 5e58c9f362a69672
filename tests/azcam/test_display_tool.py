"""The azcam display tool: latest.fits and latest.png in the display folder, ds9 if any."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from nocturna.azcam.remote import remote_methods
from nocturna.azcam.tools.display import DisplayTool, assemble
from nocturna.core.atomic import temporary_files
from nocturna.core.errors import InvalidOperationError, InvalidValueError


@pytest.fixture(autouse=True)
def no_ds9(monkeypatch, tmp_path):
    """No xpaset on PATH unless a test installs a fake one."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def star_field(seed: int, shape=(120, 160)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.normal(1000.0, 10.0, shape).astype(np.float32)
    data[40:43, 50:53] += 20_000.0
    return data


def write_simple(path: Path, seed: int) -> Path:
    fits.PrimaryHDU(star_field(seed)).writeto(path)
    return path


def write_mef(path: Path) -> Path:
    """Two amplifiers, each 20 prescan columns + 80 data columns, the right one flipped."""
    hdus = [fits.PrimaryHDU()]
    for amp, (detsec, value) in enumerate([("[1:80,1:50]", 100.0), ("[160:81,1:50]", 5000.0)]):
        data = np.full((50, 100), -1.0, dtype=np.float32)  # prescan
        data[:, 20:] = value
        data[:, 20] = value + 1  # the first data column, next to the prescan
        hdu = fits.ImageHDU(data, name=f"AMP{amp}")
        hdu.header["DATASEC"] = "[21:100,1:50]"
        hdu.header["DETSEC"] = detsec
        hdus.append(hdu)
    fits.HDUList(hdus).writeto(path)
    return path


async def test_the_azcam_methods_are_remote(tmp_path):
    tool = DisplayTool(tmp_path / "display")
    assert {"display", "get_display_file"} <= set(remote_methods(tool))
    assert "show" not in remote_methods(tool)
    assert tool.name == "display"


async def test_show_writes_latest_fits_and_png(tmp_path):
    tool = DisplayTool(tmp_path / "display")
    image = write_simple(tmp_path / "a.fits", 1)
    result = await tool.show(image)
    assert result == tmp_path / "display" / "latest.fits"
    assert tool.get_display_file() == str(result)
    assert result.read_bytes() == image.read_bytes()
    with Image.open(tmp_path / "display" / "latest.png") as png:
        assert png.format == "PNG" and png.size == (160, 120) and png.mode == "L"
        pixels = np.asarray(png)
    # The star is white, the sky dark; FITS row 0 is the PNG's bottom row.
    assert (pixels[120 - 43:120 - 40, 50:53] == 255).all()
    assert np.median(pixels) < 128


async def test_a_new_image_replaces_the_old_atomically(tmp_path):
    folder = tmp_path / "display"
    tool = DisplayTool(folder)
    first, second = write_simple(tmp_path / "a.fits", 1), write_simple(tmp_path / "b.fits", 2)
    await tool.show(first)
    old = (folder / "latest.fits").stat().st_ino, (folder / "latest.png").stat().st_ino
    await tool.show(second)
    assert (folder / "latest.fits").read_bytes() == second.read_bytes()
    new = (folder / "latest.fits").stat().st_ino, (folder / "latest.png").stat().st_ino
    assert old[0] != new[0] and old[1] != new[1]  # renamed into place, not rewritten
    assert list(temporary_files(folder)) == []
    assert sorted(p.name for p in folder.iterdir()) == ["latest.fits", "latest.png"]
    # The source files are untouched, even though latest.fits may share one's inode.
    assert first.read_bytes() != second.read_bytes()
    fits.getdata(first)


async def test_display_without_a_name_shows_the_latest_again(tmp_path):
    folder = tmp_path / "display"
    tool = DisplayTool(folder)
    with pytest.raises(InvalidOperationError, match="no image has been displayed"):
        await tool.display()
    image = write_simple(tmp_path / "a.fits", 1)
    await tool.display(str(image))
    (folder / "latest.png").unlink()
    await tool.display()
    assert (folder / "latest.png").exists()


async def test_mef_previews_the_assembled_detector(tmp_path):
    folder = tmp_path / "display"
    tool = DisplayTool(folder)
    await tool.show(write_mef(tmp_path / "mef.fits"))
    with Image.open(folder / "latest.png") as png:
        assert png.size == (160, 50)  # two 80-column data sections side by side
        pixels = np.asarray(png).astype(int)
    assert pixels[:, :80].mean() < pixels[:, 80:].mean()  # amp 0 dark, amp 1 bright


def test_assembly_places_and_flips_by_detsec(tmp_path):
    with fits.open(write_mef(tmp_path / "mef.fits")) as hdul:
        mosaic = assemble([(h.data, dict(h.header)) for h in hdul[1:]])
    assert mosaic is not None and mosaic.shape == (50, 160)
    assert mosaic[0, 0] == 101.0 and mosaic[0, 1] == 100.0  # no prescan, first column first
    assert mosaic[0, 159] == 5001.0 and mosaic[0, 80] == 5000.0  # amp 1 flipped in x


async def test_mef_without_sections_previews_the_first_extension(tmp_path):
    path = tmp_path / "plain-mef.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(star_field(1, (30, 40))),
                  fits.ImageHDU(star_field(2, (60, 70)))]).writeto(path)
    folder = tmp_path / "display"
    tool = DisplayTool(folder)
    await tool.show(path)
    with Image.open(folder / "latest.png") as png:
        assert png.size == (40, 30)
    await tool.display(str(path), extension_number=2)
    with Image.open(folder / "latest.png") as png:
        assert png.size == (70, 60)
    with pytest.raises(InvalidValueError, match=r"extension_number 0: HDU 0 .* has no image"):
        await tool.display(str(path), extension_number=0)
    with pytest.raises(InvalidValueError, match=r"extension_number 5: .* has HDUs 0\.\.2"):
        await tool.display(str(path), extension_number=5)


async def test_missing_or_non_fits_files_are_refused(tmp_path):
    tool = DisplayTool(tmp_path / "display")
    with pytest.raises(InvalidValueError, match="does not exist"):
        await tool.display(str(tmp_path / "nope.fits"))
    raw = tmp_path / "image.bin"
    raw.write_bytes(np.arange(100, dtype=np.uint16).tobytes())
    with pytest.raises(InvalidValueError, match="not a FITS file"):
        await tool.display(str(raw))
    assert not (tmp_path / "display" / "latest.fits").exists()


def fake_xpa(folder: Path, *, running: bool) -> Path:
    """xpaaccess answering yes/no and an xpaset recording its arguments."""
    folder.mkdir(exist_ok=True)
    log = folder / "xpaset.log"
    scripts = {
        "xpaaccess": f"#!/bin/sh\necho {'yes' if running else 'no'}\n",
        "xpaset": f'#!/bin/sh\necho "$@" >> "{log}"\n',
    }
    for name, text in scripts.items():
        script = folder / name
        script.write_text(text)
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return log


async def test_a_running_ds9_gets_the_image(tmp_path, monkeypatch):
    log = fake_xpa(tmp_path / "bin", running=True)
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ["PATH"])
    tool = DisplayTool(tmp_path / "display")
    image = write_simple(tmp_path / "a.fits", 1)
    await tool.show(image)
    mef = write_mef(tmp_path / "mef.fits")
    await tool.show(mef)
    assert log.read_text().splitlines() == [f"-p ds9 fits {image.resolve()}",
                                            f"-p ds9 mosaicimage iraf {mef.resolve()}"]


async def test_no_running_ds9_is_not_an_error(tmp_path, monkeypatch):
    log = fake_xpa(tmp_path / "bin", running=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ["PATH"])
    tool = DisplayTool(tmp_path / "display")
    await tool.show(write_simple(tmp_path / "a.fits", 1))
    assert not log.exists()
    assert (tmp_path / "display" / "latest.png").exists()


async def test_a_failing_xpaset_is_not_an_error(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    fake_xpa(folder, running=True)
    (folder / "xpaset").write_text("#!/bin/sh\necho 'XPA$ERROR no ds9' >&2\nexit 1\n")
    monkeypatch.setenv("PATH", str(folder) + os.pathsep + os.environ["PATH"])
    tool = DisplayTool(tmp_path / "display")
    await tool.show(write_simple(tmp_path / "a.fits", 1))
    assert (tmp_path / "display" / "latest.fits").exists()
