"""On start, make the image files under ``<data_dir>/images`` and the exposure rows agree.

A frame is written to disk first and recorded in the database second
(the frame pipeline, :mod:`nocturna.instrument.pipeline`), so a process killed in between leaves a
complete file without a row, and one killed during the write leaves a temporary file.
:func:`reconcile_images` finds and repairs what a crash (or a damaged disk) left:

* a FITS file (``*.fits``, ``*.fits.fz``) without a row gets its row, read from its
  header, if its CHECKSUM/DATASUM verify; a file that fails is moved to
  ``<data_dir>/quarantine/<day>/<name>``, its place in the image tree (data is
  never deleted);
* temporary files of interrupted atomic writes (:mod:`nocturna.core.atomic`) are removed:
  they were never published;
* a row whose file is gone is reported, never deleted; a row's file whose size differs
  from the row (or, with ``verify_all``, fails verification) is quarantined.

Only rows whose path lies under ``<data_dir>/images`` are checked (a shared PostgreSQL
database also holds other units' rows). Run it before anything writes images, e.g. at
start under the unit lock: a temporary file being written would be removed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astropy.io import fits

from nocturna.core.atomic import is_temporary_file
from nocturna.core.errors import InvalidValueError
from nocturna.core.storage import ExposureRecord, Storage
from nocturna.images.fits import verify_fits
from nocturna.instrument.pipeline.record import row_values

log = logging.getLogger(__name__)

IMAGES_DIR = "images"
QUARANTINE_DIR = "quarantine"
FITS_SUFFIXES = (".fits", ".fits.fz")


@dataclass(frozen=True)
class QuarantinedFile:
    """A file moved out of the image tree (or, report only, that would be)."""

    path: Path
    destination: Path
    reason: str


@dataclass(frozen=True)
class UnresolvedFile:
    """A file left as it is that needs a person: why it could not be reconciled."""

    path: Path
    reason: str


@dataclass
class ReconcileReport:
    """What :func:`reconcile_images` found and, unless ``repaired`` is False, did."""

    repaired: bool = True
    files_checked: int = 0
    rows_checked: int = 0
    recovered: list[str] = field(default_factory=list)  # image ids given a new row
    quarantined: list[QuarantinedFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # image ids of rows without a file
    temporaries_removed: list[Path] = field(default_factory=list)
    unresolved: list[UnresolvedFile] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """True when files and rows agreed and nothing was left over."""
        return not (self.recovered or self.quarantined or self.missing
                    or self.temporaries_removed or self.unresolved)

    def __str__(self) -> str:
        checked = f"{self.files_checked} image files, {self.rows_checked} rows"
        if self.clean:
            return f"images reconciled: {checked}, all in agreement"
        done = self.repaired
        counts = [
            (len(self.recovered), "recovered" if done else "to recover"),
            (len(self.quarantined), "quarantined" if done else "to quarantine"),
            (len(self.missing), "missing their file"),
            (len(self.temporaries_removed),
             "temporary files removed" if done else "temporary files to remove"),
            (len(self.unresolved), "unresolved"),
        ]
        found = ", ".join(f"{count} {what}" for count, what in counts if count)
        return f"images reconciled: {checked}; {found}" + ("" if done else " (report only)")


@dataclass
class _Scan:
    """The FITS and temporary files under the image directory."""

    images: list[Path] = field(default_factory=list)
    temporaries: list[Path] = field(default_factory=list)
    errors: list[UnresolvedFile] = field(default_factory=list)


@dataclass
class _Known:
    """Every row by image id, every image id recorded or recovered (with its path),
    and the image ids whose file the scan found."""

    by_id: dict[str, ExposureRecord]
    claimed: dict[str, str]
    seen: set[str] = field(default_factory=set)


class _Unrecoverable(Exception):
    """A verified file whose header lacks what its row needs."""


def reconcile_images(storage: Storage, data_dir: Path, *, repair: bool = True,
                     verify_all: bool = False) -> ReconcileReport:
    """Reconcile ``<data_dir>/images`` with the exposure rows; see the module notes.

    ``repair=False`` only reports. Files with a row of the same size are not read
    unless ``verify_all`` (then their checksums and SHA-256 are checked too). One bad
    file never stops the scan: it is reported. Database failures listing the rows raise
    :class:`~nocturna.core.errors.StorageError`.
    """
    data_dir = Path(data_dir)
    root = data_dir / IMAGES_DIR
    report = ReconcileReport(repaired=repair)
    scan = _scan(root)
    report.unresolved.extend(scan.errors)
    _remove_temporaries(scan.temporaries, report)
    every_row = storage.list_exposures()
    rows = _rows_under(every_row, root)
    report.files_checked, report.rows_checked = len(scan.images), len(rows)
    by_path = {_key(row.path): row for row in rows}
    known = _Known(by_id={row.image_id: row for row in every_row},
                   claimed={row.image_id: row.path for row in every_row})
    for path in scan.images:
        row = by_path.get(_key(path))
        if row is None:
            _check_unrecorded(storage, path, known, data_dir, verify_all, report)
        else:
            known.seen.add(row.image_id)
            _check_recorded(path, row, data_dir, verify_all, report)
    for row in rows:
        if row.image_id not in known.seen:
            _check_row_elsewhere(row, data_dir, verify_all, report)
    _log_summary(report)
    return report


# --- scanning ------------------------------------------------------------------------


def _scan(root: Path) -> _Scan:
    """Every FITS and temporary file under ``root`` (symbolic links not followed)."""
    scan = _Scan()
    if not root.is_dir():
        return scan

    def unreadable(error: OSError) -> None:
        where = Path(error.filename) if error.filename else root
        scan.errors.append(UnresolvedFile(where, f"cannot list the directory: {error}"))

    for directory, subdirectories, names in os.walk(root, onerror=unreadable):
        subdirectories.sort()
        for name in sorted(names):
            path = Path(directory) / name
            if is_temporary_file(name):
                scan.temporaries.append(path)
            elif name.endswith(FITS_SUFFIXES):
                scan.images.append(path)
    return scan


def _key(path: str | os.PathLike[str]) -> str:
    """A path in a form that compares equal however it was spelt (absolute, normalised)."""
    return os.path.abspath(path)


def _rows_under(rows: Iterable[ExposureRecord], root: Path) -> list[ExposureRecord]:
    """The rows whose file lies under ``root``."""
    prefix = _key(root) + os.sep
    return [row for row in rows if _key(row.path).startswith(prefix)]


def _image_id(path: Path, header: fits.Header) -> str:
    """The image id the pipeline records: IMAGEID, else the name before its first dot."""
    image_id = header.get("IMAGEID")
    if isinstance(image_id, str) and image_id.strip():
        return image_id
    return path.name.split(".")[0]


# --- temporary files -----------------------------------------------------------------


def _remove_temporaries(temporaries: list[Path], report: ReconcileReport) -> None:
    for path in temporaries:
        try:
            if report.repaired:
                path.unlink(missing_ok=True)
        except OSError as exc:
            report.unresolved.append(UnresolvedFile(path, f"cannot remove: {exc}"))
        else:
            report.temporaries_removed.append(path)
            log.debug("removed the temporary file %s", path)


# --- files with a row ----------------------------------------------------------------


def _check_recorded(path: Path, row: ExposureRecord, data_dir: Path, verify_all: bool,
                    report: ReconcileReport) -> None:
    """Quarantine the file of ``row`` if it differs from the row or fails verification."""
    try:
        problem = _recorded_problem(path, row, verify_all)
    except Exception as exc:  # one bad file must not stop the scan
        report.unresolved.append(UnresolvedFile(path, f"cannot check: {exc}"))
        return
    if problem is not None:
        _quarantine(path, data_dir, f"{row.image_id}: {problem}", report)


def _recorded_problem(path: Path, row: ExposureRecord, verify_all: bool) -> str | None:
    """Why the file of ``row`` is not the one recorded, or None."""
    size = path.stat().st_size
    if row.size_bytes is not None and size != row.size_bytes:
        return f"{size} bytes, the row says {row.size_bytes}"
    if not verify_all and row.size_bytes is not None:
        return None
    failure = _verification_failure(path)
    if failure is not None:
        return failure
    if verify_all and _is_sha256(row.checksum) and _sha256(path) != row.checksum:
        return "its SHA-256 differs from the row's"
    return None


def _check_row_elsewhere(row: ExposureRecord, data_dir: Path, verify_all: bool,
                         report: ReconcileReport) -> None:
    """A row not matched by the scan: its file is missing (or not named like FITS)."""
    path = Path(row.path)
    if path.is_file():
        _check_recorded(path, row, data_dir, verify_all, report)
    else:
        report.missing.append(row.image_id)
        log.debug("%s: the file %s is missing", row.image_id, path)


# --- files without a row -------------------------------------------------------------


def _check_unrecorded(storage: Storage, path: Path, known: _Known, data_dir: Path,
                      verify_all: bool, report: ReconcileReport) -> None:
    """Record a verified file without a row; quarantine one that fails verification."""
    try:
        failure = _verification_failure(path)
        if failure is not None:
            _quarantine(path, data_dir, failure, report)
            return
        header = _image_header(path)
        image_id = _image_id(path, header)
        row = known.by_id.get(image_id)
        if row is not None and _same_file(path, row.path):  # the row spells the path apart
            known.seen.add(image_id)
            _check_recorded(path, row, data_dir, verify_all, report)
            return
        if image_id in known.claimed:
            report.unresolved.append(UnresolvedFile(
                path, f"image id {image_id!r} is already recorded for {known.claimed[image_id]}"))
            return
        values = _row_values(path, header)
        row_id = values["observation_id"]
        if row_id is not None and storage.get_observation(row_id) is None:
            values["observation_id"] = None  # the observation's row is gone too
        if report.repaired:
            storage.add_exposure(image_id, **values)
        known.claimed[image_id] = str(path)
        report.recovered.append(image_id)
        log.debug("recorded %s for %s", image_id, path)
    except Exception as exc:  # one bad file must not stop the scan
        report.unresolved.append(UnresolvedFile(path, f"cannot recover: {exc}"))


def _row_values(path: Path, header: fits.Header) -> dict[str, Any]:
    """The row the frame pipeline would have added, but the image id: the same header
    fields (:func:`nocturna.instrument.pipeline.record.row_values`), the file's size and
    SHA-256."""
    try:
        return row_values(header, path=path, size_bytes=path.stat().st_size,
                          checksum=_sha256(path))
    except InvalidValueError as exc:
        raise _Unrecoverable(str(exc)) from None


def _image_header(path: Path) -> fits.Header:
    """The header of the image HDU as the pipeline recorded it (for ``.fits.fz``, the
    decompressed image's)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(path, memmap=False) as hdus:
            for hdu in hdus:
                if hdu.header.get("NAXIS", 0):
                    return hdu.header.copy()
            return hdus[0].header.copy()


def _same_file(path: Path, other: str) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


# --- verification and quarantine -----------------------------------------------------


def _verification_failure(path: Path) -> str | None:
    """Why ``path`` fails verification (checksums required), or None."""
    try:
        verify_fits(path, require_checksum=True)
    except Exception as exc:  # CorruptImageError, StorageError (unreadable), others
        return str(exc)
    return None


def _is_sha256(checksum: str | None) -> bool:
    return checksum is not None and len(checksum) == 64 and all(
        c in "0123456789abcdef" for c in checksum)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _quarantine(path: Path, data_dir: Path, reason: str, report: ReconcileReport) -> None:
    """Move ``path`` to the same place under ``<data_dir>/quarantine`` (a free name)."""
    try:
        destination = _free_destination(path, data_dir)
        if report.repaired:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, destination)
    except OSError as exc:
        report.unresolved.append(UnresolvedFile(path, f"{reason}; cannot quarantine: {exc}"))
        return
    report.quarantined.append(QuarantinedFile(path, destination, reason))
    log.warning("%s %s: %s", "quarantined" if report.repaired else "would quarantine",
                path, reason)


def _free_destination(path: Path, data_dir: Path) -> Path:
    """``<data_dir>/quarantine/<path relative to data_dir/images>``, numbered if taken."""
    relative = os.path.relpath(_key(path), _key(data_dir / IMAGES_DIR))
    destination = data_dir / QUARANTINE_DIR / relative
    stem, dot, extensions = destination.name.partition(".")
    number = 0
    while destination.exists():
        number += 1
        destination = destination.with_name(f"{stem}-{number}{dot}{extensions}")
    return destination


def _log_summary(report: ReconcileReport) -> None:
    log.log(logging.INFO if report.clean else logging.WARNING, "%s", report)
