"""azcam's image file names: root, zero-padded sequence number, autoname, overwrite, test
images, azcam's parameter names."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocturna.azcam.filenames import PARAMETERS, FileNames
from nocturna.core.errors import InvalidOperationError, InvalidValueError


def test_root_and_zero_padded_sequence_number(tmp_path):
    names = FileNames(tmp_path, "night.", sequence_number=7)
    assert names.name("fits") == "night.0007.fits"
    assert names.path("bin") == tmp_path / "night.0007.bin"
    assert names.filename("fits") == (tmp_path / "night.0007.fits").as_posix()
    names.digits = 6
    names.root = "m31_"
    assert names.name("fits") == "m31_000007.fits"


def test_azcam_default_root_does_not_double_the_dot(tmp_path):
    assert FileNames(tmp_path).name("fits") == "a.0001.fits"
    assert FileNames(tmp_path, "a").name("fits") == "a0001.fits"


def test_autoname_and_no_sequence_number(tmp_path):
    names = FileNames(tmp_path, "run", sequence_number=12, autoname=True)
    assert names.name("fits", "flat") == "run.FLAT.0012.fits"
    names.include_sequence_number = False
    assert names.name("fits", "flat") == "run.FLAT.fits"
    names.autoname = False
    assert names.name("bin", "flat") == "run.bin"


def test_increment_only_when_auto_and_not_a_test_image(tmp_path):
    names = FileNames(tmp_path, "a.", sequence_number=3)
    names.increment()
    assert names.sequence_number == 4
    names.test_image = True
    names.increment()
    assert names.sequence_number == 4
    assert names.name("fits") == "test.fits"
    names.test_image = False
    names.auto_increment = False
    names.increment()
    assert names.sequence_number == 4


def test_overwrite_refusal(tmp_path):
    names = FileNames(tmp_path, "a.")
    path = names.path("fits")
    names.check_free(path)
    path.write_bytes(b"x")
    with pytest.raises(InvalidOperationError, match=r"a\.0001\.fits.*already exists"):
        names.check_free(path)
    names.overwrite = True
    names.check_free(path)
    names.overwrite = False
    names.test_image = True  # test images go to a temporary file: no collision
    names.check_free(path)


def test_set_filename_takes_folder_and_root(tmp_path):
    names = FileNames(tmp_path)
    names.set_filename(str(tmp_path / "sub" / "night.0007.fits"))
    assert names.folder == tmp_path / "sub" and names.root == "night"
    assert names.name("fits") == "night0001.fits"
    names.set_filename("plain")
    assert names.folder == Path(".") and names.root == "plain"
    with pytest.raises(InvalidValueError, match="no root"):
        names.set_filename(".hidden")


@pytest.mark.parametrize(("attribute", "value", "message"), [
    ("root", "a b", "image root"),
    ("root", "x/y", "image root"),
    ("root", "..", "image root"),
    ("sequence_number", -1, "sequence number"),
    ("sequence_number", "seven", "sequence number"),
    ("digits", 0, "digits"),
    ("digits", 10, "digits"),
    ("overwrite", 2, "overwrite"),
    ("test_image", "maybe", "test image"),
    ("folder", "", "image folder"),
])
def test_bad_values_name_what_was_wrong(tmp_path, attribute, value, message):
    names = FileNames(tmp_path)
    with pytest.raises(InvalidValueError, match=message):
        setattr(names, attribute, value)


def test_a_file_is_not_a_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidValueError, match="not a folder"):
        FileNames(tmp_path / "file")


def test_azcam_parameter_names(tmp_path):
    names = FileNames(tmp_path)
    names.set_par("imageroot", "obj.")
    names.set_par("imagesequencenumber", "42")
    names.set_par("imageoverwrite", "1")
    names.set_par("ImageFolder", str(tmp_path / "d"))
    assert names.get_par("imageroot") == "obj."
    assert names.get_par("imagesequencenumber") == 42
    assert names.get_par("imageoverwrite") == 1
    assert names.get_par("imagefolder") == (tmp_path / "d").as_posix()
    assert names.name("fits") == "obj.0042.fits"
    assert set(PARAMETERS) >= {"imagetest", "imageautoname", "imageincludesequencenumber",
                               "imageautoincrementsequencenumber"}
    with pytest.raises(InvalidValueError, match="unknown image parameter 'imagecolour'"):
        names.get_par("imagecolour")
    assert names.as_dict()["sequence_number"] == 42


def touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"x")


def test_a_new_file_names_object_continues_after_the_files_present(tmp_path):
    touch(tmp_path, "image.001.fits", "image.002.fits")
    names = FileNames(tmp_path, "image.", digits=3)
    assert names.name("fits") == "image.003.fits"
    names.check_free(names.path("fits"))  # the old "image.001.fits already exists" is gone


def test_gaps_are_not_filled_and_other_names_are_ignored(tmp_path):
    touch(tmp_path, "image.001.fits", "image.007.bin", "image.ZERO.009.fits",
          "other.050.fits", "image.notes.txt", "imagex.080.fits", "test.fits",
          ".image.090.fits.0123456789abcdef.tmp")  # an interrupted write's temporary file
    names = FileNames(tmp_path, "image.", digits=3)
    assert names.highest_sequence_number() == 9
    assert names.sequence_number == 10


def test_roots_without_a_dot_and_autonamed_files_count(tmp_path):
    touch(tmp_path, "a0004.fits", "a.FLAT.0006.fits", "ab.0099.fits")
    assert FileNames(tmp_path, "a").sequence_number == 7


def test_the_number_never_goes_down_and_an_explicit_one_is_kept(tmp_path):
    touch(tmp_path, "a.0002.fits")
    assert FileNames(tmp_path, sequence_number=40).sequence_number == 40
    names = FileNames(tmp_path)
    assert names.sequence_number == 3
    names.sequence_number = 2  # explicit: kept, and its clash is refused at exposure time
    assert names.sequence_number == 2
    with pytest.raises(InvalidOperationError, match=r"a\.0002\.fits.*already exists"):
        names.check_free(names.path("fits"))


def test_changing_folder_or_root_continues_that_series(tmp_path):
    touch(tmp_path / "night1", "obj.0012.fits")
    touch(tmp_path / "night2", "flat0020.fits")
    touch(tmp_path / "night3", "flat0005.fits")
    names = FileNames(tmp_path / "night1")
    assert names.sequence_number == 1  # root "a." has no files there
    names.root = "obj."
    assert names.name("fits") == "obj.0013.fits"
    names.set_filename(str(tmp_path / "night2" / "flat.fits"))
    assert names.name("fits") == "flat0021.fits"
    names.set_par("imagefolder", str(tmp_path / "night3"))
    assert names.sequence_number == 21  # its flat0005 is lower: never lowered
    names.set_par("imagefolder", str(tmp_path / "missing"))  # not there yet: unchanged
    assert names.sequence_number == 21
