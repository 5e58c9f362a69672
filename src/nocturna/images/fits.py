"""Writing and reading FITS image files: atomic, checksummed, optionally Rice-compressed.

* Every HDU written carries FITS ``CHECKSUM``/``DATASUM`` cards, and :func:`read_fits`
  verifies them: a damaged or truncated file raises :class:`CorruptImageError`.
* Files are published atomically (:mod:`nocturna.core.atomic`): the final path holds
  a complete file or nothing, and temporary files are named ``.<name>.<hex>.tmp``.
* ``uint16`` pixels are stored as the standard says (``BITPIX = 16``,
  ``BZERO = 32768``, ``BSCALE = 1``) and read back as ``uint16``, bit for bit.
* ``compress=True`` writes a tile-compressed ``.fits.fz`` (Rice, as ``fpack`` does) in
  process: an empty primary HDU and the image in a ``CompImageHDU``. Rice is lossless
  for integer pixels, which are the only ones it is used for.

Plain files are serialised here: astropy lays out the header (or, for a
:class:`~nocturna.images.cards.HeaderCards`, this module does, card by card as astropy
would), then the pixels are converted once, straight into the output buffer, and the
checksums are computed with numpy (astropy's writer makes several copies, which cost
more than the disk). Reading checks the checksums the way the convention defines them
(the ones' complement sum of each HDU is -0) and decodes the layouts nocturna writes
directly; anything else (tile compression, scaled or BLANK-flagged data) goes through
astropy. The times in the checksum comments come from the nocturna clock.

The functions block (serialising, hashing, disk I/O); async code calls
:func:`write_fits_async` / :func:`read_fits_async`, which run them in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import math
import re
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyError, VerifyWarning

from nocturna.core.atomic import atomic_write_bytes, is_temporary_file
from nocturna.core.clock import get_clock
from nocturna.core.errors import InvalidValueError, StorageError
from nocturna.images.cards import CARD_LENGTH, HeaderCards, card_image

log = logging.getLogger(__name__)

COMPRESSED_SUFFIX = ".fz"
FITS_BLOCK = 2880
# Keywords that describe the data layout, not the exposure: the writer sets them.
_STRUCTURAL = {"SIMPLE", "XTENSION", "BITPIX", "NAXIS", "EXTEND", "PCOUNT", "GCOUNT",
               "BZERO", "BSCALE", "BLANK", "CHECKSUM", "DATASUM", "ZHECKSUM", "ZDATASUM",
               "ZIMAGE", "ZSIMPLE", "ZTENSION", "ZBITPIX", "ZNAXIS", "ZEXTEND", "ZPCOUNT",
               "ZGCOUNT", "ZCMPTYPE", "ZQUANTIZ", "ZDITHER0", "ZBLANK", "ZSCALE", "ZZERO",
               "ZBLOCKED", "EXTNAME", "TFIELDS"}
_LAYOUT_KEYWORD = re.compile(  # those, and the numbered ones
    rf"^(?:{'|'.join(sorted(_STRUCTURAL))}|(?:NAXIS|ZNAXIS|ZTILE|ZNAME|ZVAL|TTYPE|TFORM)\d+)$")


class CorruptImageError(StorageError):
    """An image file is damaged: unreadable, truncated, or failing CHECKSUM/DATASUM."""


@dataclass(frozen=True)
class WrittenImage:
    """What :func:`write_fits` wrote: where, how big, its SHA-256, and the image header."""

    path: Path
    size_bytes: int
    checksum: str  # SHA-256 of the whole file, hex
    header: fits.Header | HeaderCards  # the image HDU's header as written (the kind given)
    compressed: bool


def is_compressed_name(path: str | PathLike[str]) -> bool:
    """True for ``*.fz`` names (tile-compressed FITS, the fpack convention)."""
    return Path(path).name.endswith(COMPRESSED_SUFFIX)


def _check_data(data: object, compress: bool) -> np.ndarray:
    array = np.asarray(data)
    if array.ndim not in (2, 3) or 0 in array.shape:
        raise InvalidValueError(
            f"image data must be a non-empty 2-D or 3-D array, got shape {array.shape}")
    kind, size = array.dtype.kind, array.dtype.itemsize
    storable = kind in "ui" or (kind == "f" and size in (4, 8))
    if not storable:
        raise InvalidValueError(
            f"image data type {array.dtype} cannot be stored in FITS: use an integer type, "
            "float32 or float64")
    if compress and (kind == "f" or size > 4):
        raise InvalidValueError(
            f"Rice compression is lossless only for integers of up to 32 bits, got "
            f"{array.dtype}: write it uncompressed")
    return array


def _is_layout(keyword: str) -> bool:
    return _LAYOUT_KEYWORD.match(keyword) is not None


def _image_header(header: fits.Header | HeaderCards | None) -> fits.Header | HeaderCards:
    """``header`` (or a copy) without the layout keywords the writer sets itself."""
    if header is None:
        return fits.Header()
    if isinstance(header, HeaderCards):
        layout = [keyword for keyword in header if _is_layout(keyword)]
    elif isinstance(header, fits.Header):
        layout = [keyword for keyword in {card.keyword for card in header.cards}
                  if _is_layout(keyword)]
    else:
        raise InvalidValueError(f"header must be an astropy.io.fits.Header or HeaderCards, "
                                f"got {header!r}")
    if not layout:
        return header  # the HDU the writer builds takes a copy of it
    clean = header.copy() if isinstance(header, HeaderCards) else header.copy(strip=False)
    for keyword in layout:
        del clean[keyword]
    return clean


def _check_path(path: Path, compress: bool, overwrite: bool) -> None:
    if is_compressed_name(path) != compress:
        wanted = "ends with .fz" if compress else "does not end with .fz"
        raise InvalidValueError(
            f"{path}: with compress={compress} the file name must be one that {wanted}")
    if is_temporary_file(path):
        raise InvalidValueError(f"{path}: that name is reserved for temporary files")
    if path.exists() and not overwrite:
        raise InvalidValueError(f"{path} already exists; pass overwrite=True to replace it")


# --- FITS checksums (the "Checksum Keyword Convention", as astropy verifies them) ---------

_CHECKSUM_EXCLUDE = (0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x40,
                     0x5B, 0x5C, 0x5D, 0x5E, 0x5F, 0x60)  # punctuation kept out of the text
_WORDS_PER_SUM = 1 << 30  # uint64 partial sums of uint32 words cannot overflow


def _ones_complement_add(a: int, b: int) -> int:
    total = a + b
    while total >> 32:
        total = (total & 0xFFFFFFFF) + (total >> 32)
    return total


def fits_sum32(buffer: bytes | bytearray | memoryview, start: int = 0,
               length: int | None = None, sum32: int = 0) -> int:
    """The 32-bit ones' complement sum of big-endian words (length a multiple of 4)."""
    words = np.frombuffer(buffer, dtype=">u4", offset=start,
                          count=-1 if length is None else length // 4)
    total = sum32
    for first in range(0, words.size, _WORDS_PER_SUM):
        total = _ones_complement_add(total,
                                     int(words[first : first + _WORDS_PER_SUM].sum(dtype="u8")))
    return total


def encode_checksum(value: int) -> str:
    """The 16-character ASCII form of a checksum (the convention's A.7.2 encoding)."""
    value &= 0xFFFFFFFF
    text = bytearray(16)
    for i in range(4):
        byte = (value >> (24 - 8 * i)) & 0xFF
        quotient, remainder = byte // 4 + ord("0"), byte % 4
        chars = [quotient + remainder, quotient, quotient, quotient]
        changed = True
        while changed:
            changed = False
            for excluded in _CHECKSUM_EXCLUDE:
                for j in (0, 2):
                    if excluded in (chars[j], chars[j + 1]):
                        chars[j] += 1
                        chars[j + 1] -= 1
                        changed = True
        for j in range(4):
            text[4 * j + i] = chars[j]
    return bytes(text[15:] + text[:15]).decode("ascii")  # rotated right by one


# --- encoding -------------------------------------------------------------------------

# dtype (kind, itemsize) → (BITPIX, BZERO or None); unsigned ints are stored signed.
_LAYOUT = {("u", 1): (8, None), ("i", 1): (8, -128), ("i", 2): (16, None),
           ("u", 2): (16, 1 << 15), ("i", 4): (32, None), ("u", 4): (32, 1 << 31),
           ("i", 8): (64, None), ("u", 8): (64, 1 << 63), ("f", 4): (-32, None),
           ("f", 8): (-64, None)}


def _store(array: np.ndarray, buffer: memoryview, offset: int) -> None:
    """Write ``array`` into ``buffer`` at ``offset`` as FITS stores it (big-endian;
    value − BZERO for unsigned types and int8, which is a flip of the sign bit)."""
    kind, size = array.dtype.kind, array.dtype.itemsize
    stored = np.dtype(f">u{size}") if kind == "u" or size == 1 else array.dtype.newbyteorder(">")
    target = np.frombuffer(buffer, dtype=stored, count=array.size, offset=offset)
    target = target.reshape(array.shape)
    if kind == "u" and size > 1:
        np.bitwise_xor(array, array.dtype.type(1 << (8 * size - 1)), out=target)
    elif kind == "i" and size == 1:
        np.bitwise_xor(array.view(np.uint8), np.uint8(0x80), out=target)
    else:
        target[...] = array


def _check_header(hdu: fits.PrimaryHDU | fits.CompImageHDU) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", VerifyWarning)
            hdu.verify("exception")
    except (VerifyError, VerifyWarning, ValueError) as exc:
        raise InvalidValueError(f"the header cannot be written as FITS: {exc}") from exc


class _BufferCache:
    """One reusable output buffer for :func:`write_fits`, which never lets it escape.

    A fresh 48 MB buffer costs ~20 ms of page faults before a byte is written, as
    much as the disk write itself; reusing one avoids that. One writer at a time gets
    the cached buffer; a concurrent writer gets a fresh one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buffer = bytearray()

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Callable[[int], memoryview]]:
        if not self._lock.acquire(blocking=False):
            yield lambda size: memoryview(bytearray(size))
            return
        try:
            def allocate(size: int) -> memoryview:
                if len(self._buffer) < size:
                    self._buffer = bytearray()  # release the old one before allocating
                    self._buffer = bytearray(size)
                return memoryview(self._buffer)[:size]

            yield allocate
        finally:
            self._lock.release()


_buffers = _BufferCache()


def _encode_plain(array: np.ndarray, header: fits.Header,
                  allocate: Callable[[int], memoryview] | None = None, *,
                  check_header: bool = True) -> tuple[memoryview, fits.Header]:
    """One primary HDU, serialised here (one pass over the pixels, no astropy copies)."""
    hdu = fits.PrimaryHDU(array, header)
    if check_header:
        _check_header(hdu)
    written = hdu.header
    bitpix, bzero = _LAYOUT[(array.dtype.kind, array.dtype.itemsize)]
    if written["BITPIX"] != bitpix or written.get("BZERO") != bzero:
        raise RuntimeError(f"astropy laid out {array.dtype} unexpectedly: "
                           f"BITPIX {written['BITPIX']}, BZERO {written.get('BZERO')}")
    stamp = _iso_now()
    checksum_comment = f"HDU checksum updated {stamp}"
    datasum_comment = f"data unit checksum updated {stamp}"
    written["CHECKSUM"] = ("0" * 16, checksum_comment)
    written["DATASUM"] = ("0", datasum_comment)
    text = written.tostring()  # formatted once; the two sums are spliced in below
    header_size = len(text)
    data_size = -(-array.nbytes // FITS_BLOCK) * FITS_BLOCK
    total = header_size + data_size
    buffer = memoryview(bytearray(total)) if allocate is None else allocate(total)
    _store(array, buffer, header_size)
    buffer[header_size + array.nbytes :] = bytes(data_size - array.nbytes)  # zero padding
    datasum = fits_sum32(buffer, header_size, data_size)
    text = _splice_card(text, fits.Card("DATASUM", str(datasum), datasum_comment))
    header_sum = fits_sum32(text.encode("ascii"))
    checksum = encode_checksum(~_ones_complement_add(header_sum, datasum))
    text = _splice_card(text, fits.Card("CHECKSUM", checksum, checksum_comment))
    written["DATASUM"] = str(datasum)
    written["CHECKSUM"] = checksum
    buffer[:header_size] = text.encode("ascii")
    return buffer, written


def _encode_cards(array: np.ndarray, cards: HeaderCards,
                  allocate: Callable[[int], memoryview] | None = None
                  ) -> tuple[memoryview, HeaderCards]:
    """One primary HDU of ``cards`` laid out as :func:`_encode_plain` lays out the same
    cards through astropy, without building astropy cards."""
    bitpix, bzero = _LAYOUT[(array.dtype.kind, array.dtype.itemsize)]
    written = HeaderCards([("SIMPLE", True, "conforms to FITS standard"),
                           ("BITPIX", bitpix, "array data type"),
                           ("NAXIS", array.ndim, "number of array dimensions")])
    for axis, length in enumerate(reversed(array.shape), start=1):
        written.set(f"NAXIS{axis}", length, "")
    written.update(cards)
    if bzero is not None:
        written.set("BSCALE", 1, "")
        written.set("BZERO", bzero, "")
    stamp = _iso_now()
    checksum_comment = f"HDU checksum updated {stamp}"
    datasum_comment = f"data unit checksum updated {stamp}"
    body = "".join(written.images())
    header_size = -(-(len(body) + 3 * CARD_LENGTH) // FITS_BLOCK) * FITS_BLOCK  # + 3 cards
    data_size = -(-array.nbytes // FITS_BLOCK) * FITS_BLOCK
    total = header_size + data_size
    buffer = memoryview(bytearray(total)) if allocate is None else allocate(total)
    _store(array, buffer, header_size)
    buffer[header_size + array.nbytes :] = bytes(data_size - array.nbytes)  # zero padding
    datasum = str(fits_sum32(buffer, header_size, data_size))

    datasum_card = card_image("DATASUM", datasum, datasum_comment)
    end_width = header_size - len(body) - 2 * CARD_LENGTH  # END, then blanks to the block

    def header_text(checksum: str) -> bytes:
        checksum_card = card_image("CHECKSUM", checksum, checksum_comment)
        return f"{body}{checksum_card}{datasum_card}{'END':{end_width}}".encode("ascii")

    checksum = encode_checksum(~_ones_complement_add(fits_sum32(header_text("0" * 16)),
                                                     int(datasum)))
    buffer[:header_size] = header_text(checksum)
    written.set("CHECKSUM", checksum, checksum_comment)
    written.set("DATASUM", datasum, datasum_comment)
    return buffer, written


def _splice_card(text: str, card: fits.Card) -> str:
    """``text`` (a serialised header) with the one-line card of ``card.keyword`` replaced."""
    prefix = f"{card.keyword:<8}="
    image = card.image
    if len(image) != CARD_LENGTH:
        raise RuntimeError(f"{card.keyword} does not fit on one card")
    for start in range(0, len(text), CARD_LENGTH):
        if text.startswith(prefix, start):
            return text[:start] + image + text[start + CARD_LENGTH:]
    raise RuntimeError(f"{card.keyword} is missing from the header being written")


def _encode_rice(array: np.ndarray, header: fits.Header) -> tuple[memoryview, fits.Header]:
    """An empty primary HDU and the image Rice-compressed (astropy's tile codec)."""
    image = fits.CompImageHDU(array, header, compression_type="RICE_1")
    _check_header(image)
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), image]).writeto(buffer, checksum=True)
    return buffer.getbuffer(), image.header.copy()


def _iso_now() -> str:
    return get_clock().now().strftime("%Y-%m-%dT%H:%M:%S")


def _encode(array: np.ndarray, header: fits.Header | HeaderCards, compress: bool,
            allocate: Callable[[int], memoryview] | None = None, check_header: bool = True
            ) -> tuple[memoryview, fits.Header | HeaderCards]:
    if isinstance(header, HeaderCards):
        if not compress:
            return _encode_cards(array, header, allocate)
        header = header.to_fits()
    return _encode_rice(array, header) if compress else \
        _encode_plain(array, header, allocate, check_header=check_header)


def encode_fits(
    data: np.ndarray, header: fits.Header | HeaderCards | None = None, *,
    compress: bool = False
) -> tuple[memoryview, fits.Header | HeaderCards]:
    """The bytes of a FITS file (with CHECKSUM/DATASUM) and the image header written
    (a :class:`HeaderCards` if ``header`` is one and the file is not compressed)."""
    array = _check_data(data, compress)
    return _encode(array, _image_header(header), compress)


class _Sha256:
    """SHA-256 of a buffer, computed in a helper thread when the buffer is large."""

    THREAD_FROM_BYTES = 4 << 20

    def __init__(self, data: memoryview) -> None:
        self._hex = ""
        self._thread: threading.Thread | None = None
        if len(data) < self.THREAD_FROM_BYTES:
            self._run(data)
        else:
            self._thread = threading.Thread(target=self._run, args=(data,), daemon=True,
                                            name="nocturna-fits-sha256")
            self._thread.start()

    def _run(self, data: memoryview) -> None:
        self._hex = hashlib.sha256(data).hexdigest()

    def hexdigest(self) -> str:
        if self._thread is not None:
            self._thread.join()
        return self._hex


def write_fits(
    path: str | PathLike[str],
    data: np.ndarray,
    header: fits.Header | HeaderCards | None = None,
    *,
    compress: bool = False,
    overwrite: bool = False,
    check_header: bool = True,
) -> WrittenImage:
    """Write ``data`` with ``header`` to ``path`` atomically; see the module notes.

    ``compress=True`` needs a ``.fz`` name and integer data. Without ``overwrite`` an
    existing file is refused (:class:`InvalidValueError` naming it) and left alone.
    Layout keywords in ``header`` (BITPIX, NAXISn, BZERO...) are replaced by the
    writer's; ``header`` itself is not modified. ``check_header=False`` skips the FITS
    verification of every card (about 2 ms) for headers made by
    :func:`nocturna.images.header.build_header`, which checks each value itself.

    A :class:`~nocturna.images.cards.HeaderCards` header (its cards are checked as
    they are made) is laid out without astropy in a plain file, the same bytes as the
    equivalent ``fits.Header`` gives; :attr:`WrittenImage.header` is then a
    ``HeaderCards`` too.
    """
    path = Path(path)
    _check_path(path, compress, overwrite)
    array = _check_data(data, compress)
    clean = _image_header(header)
    with _buffers.borrow() as allocate:
        encoded, written_header = _encode(array, clean, compress, allocate, check_header)
        sha256 = _Sha256(encoded)  # hashes while the disk writes (both release the GIL)
        try:
            atomic_write_bytes(path, encoded, overwrite=overwrite)
        except OSError as exc:
            raise StorageError(f"{path}: could not write the image: {exc}") from exc
        finally:
            checksum = sha256.hexdigest()
        size = len(encoded)
        encoded.release()
    log.debug("wrote %s (%d bytes, compressed=%s)", path, size, compress)
    return WrittenImage(path=path, size_bytes=size, checksum=checksum,
                        header=written_header, compressed=compress)


async def write_fits_async(
    path: str | PathLike[str],
    data: np.ndarray,
    header: fits.Header | None = None,
    *,
    compress: bool = False,
    overwrite: bool = False,
) -> WrittenImage:
    """:func:`write_fits` in a worker thread, so the event loop never blocks.

    Cancelling the awaiting task does not stop a write already under way; the file is
    then still complete or absent, never partial.
    """
    return await asyncio.to_thread(write_fits, path, data, header, compress=compress,
                                   overwrite=overwrite)


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise StorageError(f"{path}: no such image file") from None
    except OSError as exc:
        raise StorageError(f"{path}: could not read the image: {exc}") from exc
    if not raw or len(raw) % FITS_BLOCK:
        raise CorruptImageError(
            f"{path}: truncated or not FITS ({len(raw)} bytes, not a multiple of {FITS_BLOCK})")
    return raw


@dataclass(frozen=True)
class _Hdu:
    """Where one HDU lies in the file, and its header as stored."""

    header: fits.Header
    header_start: int
    data_start: int
    data_span: int  # bytes, padding included


def _layout(path: Path, raw: bytes) -> list[_Hdu]:
    """Every HDU's header and byte span (headers parsed by astropy, data not read)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # truncation is checked below, exactly
            with fits.open(io.BytesIO(raw), disable_image_compression=True, memmap=False,
                           lazy_load_hdus=False) as hdus:
                spans = []
                for index, hdu in enumerate(hdus):
                    info = hdus.fileinfo(index)
                    spans.append(_Hdu(hdu.header.copy(), info["hdrLoc"], info["datLoc"],
                                      info["datSpan"]))
    except Exception as exc:  # astropy raises many kinds on damaged files
        raise CorruptImageError(f"{path}: not a readable FITS file: {exc}") from exc
    if not spans:
        raise CorruptImageError(f"{path}: holds no HDU")
    end = spans[-1].data_start + spans[-1].data_span
    if end > len(raw):
        raise CorruptImageError(f"{path}: truncated ({len(raw)} bytes, the HDUs need {end})")
    return spans


def _verify_layout(path: Path, raw: bytes, spans: list[_Hdu], require_checksum: bool) -> None:
    """Each HDU's DATASUM, and CHECKSUM: the ones' complement sum of the whole HDU is -0."""
    for index, hdu in enumerate(spans):
        for keyword in ("CHECKSUM", "DATASUM"):
            if keyword not in hdu.header and require_checksum:
                raise CorruptImageError(f"{path}: HDU {index} has no {keyword}")
        if "CHECKSUM" not in hdu.header and "DATASUM" not in hdu.header:
            continue
        datasum = fits_sum32(raw, hdu.data_start, hdu.data_span)
        if "DATASUM" in hdu.header and str(hdu.header["DATASUM"]).strip() != str(datasum):
            raise CorruptImageError(f"{path}: HDU {index} fails its DATASUM")
        if "CHECKSUM" in hdu.header:
            total = fits_sum32(raw, hdu.header_start, hdu.data_start - hdu.header_start,
                               datasum)
            if total != 0xFFFFFFFF:
                raise CorruptImageError(f"{path}: HDU {index} fails its CHECKSUM")


def verify_fits(path: str | PathLike[str], *, require_checksum: bool = False) -> None:
    """Raise :class:`CorruptImageError` unless ``path`` is whole and its checksums match.

    HDUs without CHECKSUM/DATASUM (files from elsewhere) pass unless
    ``require_checksum``; nocturna always writes them.
    """
    path = Path(path)
    raw = _read_bytes(path)
    _verify_layout(path, raw, _layout(path, raw), require_checksum)


_BITPIX_DTYPE = {8: ">u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}


def _decode_image(raw: bytes, hdu: _Hdu) -> np.ndarray | None:
    """The pixels of a plain image HDU in the layouts nocturna writes (None: others)."""
    header = hdu.header
    bitpix, naxis = header.get("BITPIX"), header.get("NAXIS", 0)
    if bitpix not in _BITPIX_DTYPE or not naxis or "BLANK" in header:
        return None
    if header.get("BSCALE", 1) != 1:
        return None
    shape = tuple(int(header[f"NAXIS{axis}"]) for axis in range(naxis, 0, -1))
    stored = np.frombuffer(raw, dtype=_BITPIX_DTYPE[bitpix], count=math.prod(shape),
                           offset=hdu.data_start).reshape(shape)
    bzero = header.get("BZERO", 0)
    if not bzero:
        return stored.astype(stored.dtype.newbyteorder("="))  # a fresh, writable copy
    unsigned = {(8, -128): np.int8, (16, 1 << 15): np.uint16, (32, 1 << 31): np.uint32,
                (64, 1 << 63): np.uint64}.get((bitpix, bzero))
    if unsigned is None:
        return None
    bits = np.dtype(f"u{np.dtype(unsigned).itemsize}")  # value = stored bits, sign flipped
    out = np.empty(shape, dtype=unsigned)
    np.bitwise_xor(stored.view(bits.newbyteorder(">")), bits.type(1 << (8 * bits.itemsize - 1)),
                   out=out.view(bits))
    return out


def _decode_with_astropy(raw: bytes) -> tuple[np.ndarray, fits.Header] | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(io.BytesIO(raw), memmap=False) as hdus:
            for hdu in hdus:
                if isinstance(hdu, fits.PrimaryHDU | fits.ImageHDU) and hdu.data is not None:
                    data = np.asarray(hdu.data)
                    return data.astype(data.dtype.newbyteorder("=")), hdu.header.copy()
    return None


def read_fits(
    path: str | PathLike[str], *, require_checksum: bool = False
) -> tuple[np.ndarray, fits.Header]:
    """The pixels (native byte order, a fresh array) and header of the first image.

    Plain and tile-compressed (``.fits.fz``) files alike; checksums are verified first
    (see :func:`verify_fits`).
    """
    path = Path(path)
    raw = _read_bytes(path)
    spans = _layout(path, raw)
    _verify_layout(path, raw, spans, require_checksum)
    try:
        for hdu in spans:
            if hdu.header.get("NAXIS", 0) and hdu.header.get("XTENSION", "IMAGE") == "IMAGE":
                data = _decode_image(raw, hdu)
                if data is not None:
                    return data, hdu.header
                break
        decoded = _decode_with_astropy(raw)  # compressed, scaled, or with BLANK
    except Exception as exc:  # astropy raises many kinds on damaged files
        raise CorruptImageError(f"{path}: could not decode the image: {exc}") from exc
    if decoded is None:
        raise CorruptImageError(f"{path}: holds no image data")
    return decoded


async def read_fits_async(
    path: str | PathLike[str], *, require_checksum: bool = False
) -> tuple[np.ndarray, fits.Header]:
    """:func:`read_fits` in a worker thread."""
    return await asyncio.to_thread(read_fits, path, require_checksum=require_checksum)
