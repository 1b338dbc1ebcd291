"""What the package's public functions are given, checked once: paths, arrays, class ids, sizes.

- :func:`as_path`, :func:`file_kind`, :func:`regular_file`, :func:`folder`:
  a path given as text or ``os.PathLike`` (not None, an int, empty, or with a
  NUL byte), and what is there, found by ``os.stat`` before anything is
  opened: a named pipe (FIFO), socket or device is refused unopened (reading
  a pipe blocks until someone writes to it).
- :func:`host_array`: ``numpy.asarray`` of what a caller passed, or a DataError
  saying it is no array of numbers (ragged lists, say).
- :func:`check_class_ids`: labels that become int64 class ids are whole
  numbers in [0, :data:`MAX_CLASSES`): checked before the conversion, which
  would wrap 1e300 or a uint64 2**64 − 1 to a negative id.
- :func:`memory_error`: what a MemoryError becomes where the machine's memory
  seemed enough (sizes beyond it are refused before allocating, by
  :func:`xpnet._checks.check_memory`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np

from .._checks import count
from ..errors import ConfigError, DataError, DataFileError
from . import _limits

#: What :func:`file_kind` answers.
MISSING, FOLDER, REGULAR, OTHER = "missing", "folder", "regular", "other"


def as_path(value, name: str = "path") -> Path:
    """``value`` as a Path: text (or bytes) or ``os.PathLike``, not empty, without a NUL byte."""
    try:
        raw = os.fspath(value)
    except TypeError:
        raw = None
    if isinstance(raw, bytes):
        raw = os.fsdecode(raw)
    if isinstance(raw, str) and raw and "\0" not in raw:
        return Path(raw)
    why = ("it is empty" if raw == "" else "it holds a NUL byte" if isinstance(raw, str)
           else f"a {type(value).__name__} is no path")
    raise DataFileError(
        f"{name} must be the path of a file or folder (a str or pathlib.Path), got {value!r} ({why}): "
        "pass the path as text"
    )


def file_kind(path: Path) -> str:
    """What is at ``path`` (following links): MISSING, FOLDER, REGULAR or OTHER (a pipe, socket, device).

    Found with ``os.stat``, which opens nothing. A path the system cannot even
    look up (no permission on a folder above, a name too long) is a DataFileError.
    """
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return MISSING
    except OSError as exc:
        raise DataFileError(f"{path} cannot be looked up ({exc.strerror or exc}): check the path") from exc
    except ValueError as exc:  # a name the file system cannot encode
        raise DataFileError(f"{path} is no path this system can look up ({exc}): check the path") from exc
    if stat.S_ISDIR(mode):
        return FOLDER
    return REGULAR if stat.S_ISREG(mode) else OTHER


def not_regular(path: Path, what: str) -> DataFileError:
    return DataFileError(
        f"{path} is not a regular file (a named pipe, socket or device): xpnet reads {what} only from "
        "regular files and does not open anything else (reading a pipe can block forever); "
        "copy the data to a file"
    )


def regular_file(value, what: str, fix: str, *, name: str = "path") -> Path:
    """The path ``value`` names, if a regular file is there; otherwise a DataFileError saying what is.

    ``what`` is what the file should hold ("the .npz file"); ``fix`` says what to do
    if nothing is there.
    """
    path = as_path(value, name)
    kind = file_kind(path)
    if kind == MISSING:
        raise DataFileError(f"{path} does not exist: {fix}")
    if kind == FOLDER:
        raise DataFileError(f"{path} is a folder, not {what}: {fix}")
    if kind == OTHER:
        raise not_regular(path, what)
    return path


def folder(value, fix: str, *, name: str = "path") -> Path:
    """The path ``value`` names, if it is a folder; otherwise a DataFileError ending in ``fix``."""
    path = as_path(value, name)
    if file_kind(path) != FOLDER:
        raise DataFileError(f"{path} is not a folder: {fix}")
    return path


def listing(path: Path) -> list[Path]:
    """The entries of the folder ``path``, or a DataFileError if it cannot be listed."""
    try:
        return list(path.iterdir())
    except OSError as exc:
        raise DataFileError(f"{path} cannot be listed ({exc.strerror or exc}): check its permissions") from exc


def host_array(value, name: str, *, error: type[Exception] = DataError) -> np.ndarray:
    """``numpy.asarray(value)``, or ``error`` naming ``name`` where NumPy cannot make one array of it."""
    try:
        return np.asarray(value)
    except Exception as exc:  # ragged lists (ValueError), a GPU tensor (TypeError), ...
        raise error(
            f"{name} cannot be made into one NumPy array ({type(exc).__name__}: {exc}): pass a NumPy "
            "array, or lists of numbers of one length per row"
        ) from exc


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _at(index: tuple[int, ...]) -> str:
    return f"column {index[-1]}" if len(index) <= 1 or index[0] == 0 and len(index) == 2 else f"index {index}"


def check_class_ids(Y: np.ndarray, where: str, *, error: type[Exception] = DataError) -> None:
    """Refuse class ids that are no whole numbers in [0, :data:`MAX_CLASSES`), naming one.

    ``Y`` holds bools, integers or floats; ``where`` names it in the message
    ("Y_train", "{file}: Y"). Checked before anything converts them to int64.
    """
    if Y.size == 0 or Y.dtype.kind == "b":
        return
    if Y.dtype.kind == "f" and Y.dtype.itemsize < 8:
        Y = Y.astype(np.float64)  # float16 cannot even hold the bound: comparing with it would overflow
    if Y.dtype.kind == "f":
        bad = ~np.isfinite(Y) | (Y != np.round(Y))
        if bad.any():
            index = _first(bad)
            raise error(
                f"{where} holds {Y[index].item()!r} at {_at(index)}, which is no class id: class ids are "
                "whole numbers 0..K-1; relabel the classes"
            )
    if Y.dtype.kind in "if" and Y.min() < 0:
        index = _first(Y < 0)
        raise error(
            f"{where} holds class id {Y[index].item()!r} at {_at(index)}: class ids are whole numbers 0..K-1; "
            "relabel the classes (numpy.unique(Y, return_inverse=True) gives ids 0..K-1)"
        )
    bound = _limits.MAX_CLASSES
    if Y.max() >= bound:
        index = _first(Y >= bound)
        raise error(
            f"{where} holds class id {Y[index].item()!r} at {_at(index)}, beyond the {bound:,} classes xpnet "
            f"takes (ids 0..{bound - 1:,}; a wrapped or mistyped label?): relabel the classes 0..K-1 "
            "(numpy.unique(Y, return_inverse=True) does), or raise xpnet.data.MAX_CLASSES if there really "
            "are that many"
        )


def memory_error(need: int, what: str, fix: str, *, error: type[Exception] = ConfigError) -> Exception:
    """The error for a MemoryError that came though ``need`` fitted the machine's memory."""
    return error(f"{what} needs {count(need)} bytes, more than this machine could allocate now: {fix}")
