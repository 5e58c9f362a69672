"""The atomic writer images use (``nocturna.core.atomic``): names, refusal, permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nocturna.core import atomic
from nocturna.core.atomic import (
    atomic_write_bytes,
    atomic_write_text,
    is_temporary_file,
    temporary_files,
    temporary_name,
)
from nocturna.core.errors import InvalidValueError


def test_temporary_name_is_hidden_beside_the_final_file_and_ends_in_tmp(tmp_path):
    name = temporary_name(tmp_path / "frame.fits")
    assert name.parent == tmp_path
    assert name.name.startswith(".frame.fits.") and name.name.endswith(".tmp")
    assert is_temporary_file(name)


def test_temporary_names_are_unique(tmp_path):
    assert len({temporary_name(tmp_path / "a.fits") for _ in range(100)}) == 100


@pytest.mark.parametrize("name", ["frame.fits", "frame.fits.fz", ".hidden.fits",
                                  "frame.tmp", ".frame.fits.tmp"])
def test_ordinary_names_are_not_temporary(name):
    assert not is_temporary_file(Path(name))


def test_temporary_files_lists_only_temporaries(tmp_path):
    leftover = temporary_name(tmp_path / "a.fits")
    leftover.write_bytes(b"partial")
    (tmp_path / "a.fits").write_bytes(b"whole")
    assert list(temporary_files(tmp_path)) == [leftover]


def test_write_creates_parent_directories(tmp_path):
    path = atomic_write_bytes(tmp_path / "2026" / "12" / "a.bin", b"data")
    assert path.read_bytes() == b"data"


def test_refusal_of_an_existing_file_writes_nothing(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"old")
    with pytest.raises(InvalidValueError, match="overwrite=True"):
        atomic_write_bytes(tmp_path / "a.bin", b"new", overwrite=False)
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]
    assert (tmp_path / "a.bin").read_bytes() == b"old"


def test_a_file_appearing_during_the_write_is_not_replaced(tmp_path, monkeypatch):
    target = tmp_path / "a.bin"
    real_write_all = atomic._write_all

    def racing_write_all(fd, view):
        real_write_all(fd, view)
        target.write_bytes(b"someone else's")  # another writer wins the race

    monkeypatch.setattr(atomic, "_write_all", racing_write_all)
    with pytest.raises(InvalidValueError, match="already exists"):
        atomic_write_bytes(target, b"mine", overwrite=False)
    assert target.read_bytes() == b"someone else's"
    assert list(temporary_files(tmp_path)) == []


def test_large_writes_go_out_in_full(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_CHUNK_BYTES", 1000)
    data = os.urandom(10_500)
    assert atomic_write_bytes(tmp_path / "a.bin", data).read_bytes() == data


def test_replaced_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    path.chmod(0o640)
    atomic_write_bytes(path, b"new")
    assert path.stat().st_mode & 0o777 == 0o640


def test_new_text_file_is_private_by_default(tmp_path):
    path = atomic_write_text(tmp_path / "site_local.yaml", "a: 1\n")
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text(encoding="utf-8") == "a: 1\n"
