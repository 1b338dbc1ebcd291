"""An .npz file as what it is, a zip archive of .npy members, read without pickle and bounded.

The archive's directory is checked before anything is decompressed (total
size, compression ratio, methods, names), every member's .npy header before
any data is read, and a large array is read in chunks of
``_limits.NPZ_CHUNK_BYTES``. :mod:`._npz` makes a data set of the members.
"""

from __future__ import annotations

import contextlib
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataFileError
from . import _limits
from ._inputs import regular_file

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member first; an empty archive


@dataclass(frozen=True)
class NpyMember:
    """One .npz member's .npy header, checked against the member's size."""

    key: str
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    offset: int  # bytes of header before the data


@contextlib.contextmanager
def npz_archive(path: Path):
    """The .npz at ``path`` open as a zip archive, or a DataFileError saying what the file is instead.

    ``path`` is checked with ``os.stat`` first: a named pipe, socket or device
    is refused without being opened.
    """
    path = regular_file(path, "an .npz file", "check the path of the .npz file")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as exc:
        raise DataFileError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    if magic == b"\x93NUMPY":  # a .npy file: one bare array, no names
        raise DataFileError(
            f"{path} holds a single array (.npy format), not named arrays: save it with "
            "numpy.savez(path, X_train=..., Y_train=..., X_test=..., Y_test=...) or numpy.savez(path, X=..., Y=...)"
        )
    how = "write it with numpy.savez or numpy.savez_compressed"
    if magic[:4] not in _ZIP_MAGIC:
        raise DataFileError(f"{path} is not a readable .npz file (it is not a zip archive): {how}")
    try:
        archive = zipfile.ZipFile(path)
    except Exception as exc:  # BadZipFile, OSError, ValueError, EOFError, ...
        raise DataFileError(f"{path} is not a readable .npz file ({exc}): {how}") from exc
    with archive:
        yield archive


@contextlib.contextmanager
def npz_reading(path: Path, key: str):
    """Turn what a damaged member makes zipfile, zlib or numpy raise into a DataFileError naming it."""
    try:
        yield
    except DataFileError:
        raise
    except Exception as exc:  # BadZipFile (CRC), zlib.error, EOFError, ValueError, ...
        raise DataFileError(f"{path}: {key} cannot be read ({exc}): write the file again") from exc


def npz_headers(path: Path, archive: zipfile.ZipFile, max_bytes: int, used: frozenset[str]) -> dict[str, NpyMember]:
    """The header of every .npy member by array name, all read and checked before any data.

    The archive's directory is checked before anything is decompressed: at
    most ``max_bytes`` uncompressed in all, no member compressed more than
    :data:`MAX_NPZ_RATIO` to 1 (above :data:`NPZ_RATIO_MIN_BYTES`), stored or
    deflated as numpy writes them, each name once. Each array's .npy header
    must agree with the member's size and hold no Python objects. A member
    that is no .npy array is skipped, unless its name is one of ``used``.
    """
    headers = {}
    for key, info in _npz_members(path, archive, max_bytes).items():
        with npz_reading(path, key):
            header = _npz_header(path, archive, key, info, used)
        if header is not None:
            headers[key] = header
    return headers


def _npz_members(path: Path, archive: zipfile.ZipFile, max_bytes: int) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by array name, once their directory entries are checked."""
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in archive.infolist():
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if key in members:
            raise DataFileError(f"{path} holds {key} twice: write the file again with numpy.savez")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise DataFileError(
                f"{path}: {key} is compressed with zip method {info.compress_type}; xpnet reads members "
                "stored or deflated, as numpy.savez and numpy.savez_compressed write them"
            )
        if info.flag_bits & 0x1:
            raise DataFileError(f"{path}: {key} is encrypted; xpnet reads unencrypted .npz files")
        total += info.file_size
        if total > max_bytes:
            raise DataFileError(
                f"{path} expands to more than {max_bytes} bytes uncompressed (a zip bomb?): xpnet refuses "
                "it before decompressing; pass max_bytes= (or raise xpnet.data.MAX_NPZ_BYTES) if the data "
                "really is that large"
            )
        ratio_limit = _limits.MAX_NPZ_RATIO * max(info.compress_size, 1)
        if info.file_size > _limits.NPZ_RATIO_MIN_BYTES and info.file_size > ratio_limit:
            raise DataFileError(
                f"{path}: {key} expands from {info.compress_size} to {info.file_size} bytes, more than "
                f"{_limits.MAX_NPZ_RATIO} to 1 (a zip bomb?): xpnet refuses it before decompressing"
            )
        members[key] = info
    return members


def _npz_header(
    path: Path, archive: zipfile.ZipFile, key: str, info: zipfile.ZipInfo, used: frozenset[str]
) -> NpyMember | None:
    """The .npy header of one member; None for a member that is no .npy array and not one of ``used``."""
    fmt = np.lib.format
    with archive.open(info) as f:
        if f.read(len(fmt.MAGIC_PREFIX)) != fmt.MAGIC_PREFIX:
            if key in used:
                raise DataFileError(f"{path}: {key} is not a NumPy array (.npy): save it with numpy.savez")
            return None
    with archive.open(info) as f:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, fortran_order, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran_order, dtype = fmt.read_array_header_2_0(f)
        else:
            raise DataFileError(f"{path}: {key} is a .npy array of format version {version}, which xpnet does not read")
        header_size = f.tell()
    if dtype.hasobject:
        # Refused from the header: numpy would have to unpickle the data to read it.
        raise DataFileError(
            f"{path}: {key} is an array of Python objects, which xpnet does not load "
            f"(reading it would mean unpickling): save {key} as a numeric array, "
            f"e.g. numpy.asarray({key}, dtype=float)"
        )
    nbytes = math.prod(shape) * dtype.itemsize
    if header_size + nbytes != info.file_size:
        raise DataFileError(
            f"{path}: {key} declares shape {shape} of {dtype} ({nbytes} bytes), but its member holds "
            f"{info.file_size - header_size} bytes after the header: the file is damaged, write it again"
        )
    return NpyMember(key, info, tuple(shape), bool(fortran_order), dtype, header_size)


def npz_read(path: Path, archive: zipfile.ZipFile, member: NpyMember) -> np.ndarray:
    """A whole (small) member as it is stored: Y, classes."""
    with npz_reading(path, member.key), archive.open(member.info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def read_exactly(f, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise EOFError(f"the data ends after {len(data)} of {n} bytes")
    return data


def npz_X_blocks(path: Path, archive: zipfile.ZipFile, member: NpyMember):
    """X's data in chunks of about :data:`NPZ_CHUNK_BYTES`, in the file's order and dtype.

    Yields (rows, columns, block) with block = X[rows, columns], a view of the
    bytes just read. A C-ordered X is stored row after row (feature after
    feature), so a chunk is a block of rows; a Fortran-ordered one column
    after column, so a chunk is a block of examples. A line longer than a
    chunk is read in pieces.
    """
    n_x, m = member.shape
    lines, line_length = (m, n_x) if member.fortran_order else (n_x, m)
    if lines == 0 or line_length == 0:
        return
    itemsize = member.dtype.itemsize
    per_chunk = max(_limits.NPZ_CHUNK_BYTES // itemsize, 1)  # elements
    if line_length <= per_chunk:
        step = per_chunk // line_length
        spans = ((a, min(a + step, lines), 0, line_length) for a in range(0, lines, step))
    else:
        spans = ((a, a + 1, s, min(s + per_chunk, line_length))
                 for a in range(lines) for s in range(0, line_length, per_chunk))
    with npz_reading(path, member.key), archive.open(member.info) as f:
        read_exactly(f, member.offset)  # the header, read and checked before
        for a, b, s, t in spans:
            raw = read_exactly(f, (b - a) * (t - s) * itemsize)
            block = np.frombuffer(raw, dtype=member.dtype).reshape(b - a, t - s)
            if member.fortran_order:
                yield slice(s, t), slice(a, b), block.T
            else:
                yield slice(a, b), slice(s, t), block
