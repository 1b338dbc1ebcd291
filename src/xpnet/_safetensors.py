"""Safetensors files, read and written with care: the layer under model files and checkpoints.

A safetensors file (https://github.com/huggingface/safetensors) is a JSON
header, then raw little-endian arrays: reading one cannot run code, unlike
pickle (DESIGN.md rule 7). :func:`write_tensors` writes atomically;
:func:`read_tensors` checks the header before trusting it and turns every
failure into a :class:`~xpnet.errors.DataFileError` naming the file. This
module knows nothing of models: it imports NumPy and xpnet's errors only.
safetensors is an optional extra: ``pip install 'xpnet[save]'``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import tempfile
from typing import Any, Mapping

import numpy as np

from .errors import DataFileError

#: The longest safetensors header xpnet reads, in bytes (safetensors' own limit). The
#: first 8 bytes of a file give the header's length: a corrupt one must not be trusted.
MAX_HEADER_BYTES = 100_000_000

#: safetensors dtypes NumPy can hold, and their sizes in bytes.
_ITEMSIZES = {
    "BOOL": 1, "U8": 1, "I8": 1, "U16": 2, "I16": 2, "F16": 2, "U32": 4, "I32": 4, "F32": 4,
    "U64": 8, "I64": 8, "F64": 8, "C64": 8,
}


def _safetensors():
    """The safetensors module, or a DataFileError that says how to install it."""
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as exc:
        raise DataFileError(
            "saving and loading models needs safetensors, which is not installed: "
            "pip install 'xpnet[save]'"
        ) from exc
    return safetensors


# -- the generic primitives ----------------------------------------------------------


def write_tensors(
    path: str | os.PathLike, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]
) -> None:
    """Write NumPy arrays ``tensors`` (any shapes) and text ``metadata`` to a safetensors file.

    Atomic: the bytes go to a temporary file in the same folder, reach the disk
    (fsync), and only then replace ``path`` in one rename. A crash or an error
    leaves either the old file or the new one, never half of one. An exception
    leaves no temporary file behind; a killed process (SIGKILL, power loss) may
    leave one ``.NAME.*.tmp``, which nothing reads. Raises :class:`DataFileError` when the file cannot
    be written (missing folder, no permission, full disk).
    """
    st = _safetensors()
    path = _path(path)
    # safetensors copies each array's memory from its data pointer as it lies:
    # a strided view (a transposed W) would be written as the wrong numbers.
    arrays = {name: _c_contiguous(a) for name, a in tensors.items()}
    try:
        data = st.numpy.save(arrays, metadata=dict(metadata))
    except (TypeError, ValueError, st.SafetensorError) as exc:
        raise DataFileError(f"cannot write {path}: the tensors or metadata cannot be serialized: {exc}") from exc

    # The same folder, so that os.replace is a rename within one file system.
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise DataFileError(f"cannot write {path}: the folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as exc:
        raise DataFileError(f"cannot write {path}: {_reason(exc)}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file readable by its owner only; give it the
        # permissions the file had, or those a newly created file gets.
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException as exc:  # KeyboardInterrupt too: never leave the temporary file
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise DataFileError(f"cannot write {path}: {_reason(exc)}") from exc
        raise
    _fsync_folder(folder)


def read_tensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The NumPy arrays and the text metadata of a safetensors file.

    Returns ``(tensors, metadata)``; ``metadata`` is ``{}`` where the file has
    none. Reads data only, never runs code. Any failure (missing file, not a
    safetensors file, truncated, garbage header) raises :class:`DataFileError`
    naming the file and what is wrong.

    The header is checked before safetensors reads the file: its length (at
    most :data:`MAX_HEADER_BYTES`, and within the file), its JSON (an object,
    no name twice), and each tensor's dtype, shape and data offsets (inside the
    file, the size the dtype and shape need, no two tensors overlapping).
    """
    st = _safetensors()
    path = _path(path)
    try:
        kind = os.stat(path).st_mode
    except FileNotFoundError as exc:
        raise DataFileError(f"{path}: no such file") from exc
    except OSError as exc:
        raise DataFileError(f"cannot read {path}: {_reason(exc)}") from exc
    if stat.S_ISDIR(kind):
        raise DataFileError(f"{path} is a folder, not a safetensors file")
    if not stat.S_ISREG(kind):
        # A named pipe or a device would block the read, or never end it.
        raise DataFileError(f"{path} is not a regular file (a pipe, socket or device): "
                            "give the path of a safetensors file")
    try:
        _check_header(path)
        with st.safe_open(path, framework="numpy") as f:
            metadata = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except DataFileError:
        raise
    except FileNotFoundError as exc:
        raise DataFileError(f"{path}: no such file") from exc
    except OSError as exc:
        raise DataFileError(f"cannot read {path}: {_reason(exc)}") from exc
    except Exception as exc:  # SafetensorError, MemoryError, whatever a broken file leads to
        raise DataFileError(f"{path} is not a valid safetensors file (truncated or corrupt?): {exc}") from exc
    return tensors, dict(metadata)


def _path(path) -> str:
    """``path`` as a str, or a DataFileError for what is no file name (None, a number, NUL)."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise DataFileError(f"a file path must be a str or os.PathLike, got {path!r}")
    path = os.fsdecode(os.fspath(path))
    if "\0" in path:
        raise DataFileError(f"{path!r} holds a NUL character, which no file name can")
    return path


class _DuplicateName(ValueError):
    pass


def _no_duplicates(pairs: list) -> dict:
    """A JSON object as a dict, refusing a name given twice (json keeps the last one silently)."""
    result = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateName(key)
        result[key] = value
    return result


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_header(path: str) -> None:
    """Refuse a safetensors file whose header is absurd, before safetensors trusts it.

    Raises :class:`DataFileError` (or the OSError of opening the file).
    """

    def bad(problem: str) -> DataFileError:
        return DataFileError(f"{path} is not a valid safetensors file: {problem}")

    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        prefix = f.read(8)
        if len(prefix) < 8:
            raise bad(f"it holds {size} bytes, fewer than the 8 that give the header's length (empty or truncated?)")
        n = int.from_bytes(prefix, "little")
        if n > MAX_HEADER_BYTES:
            raise bad(
                f"its first 8 bytes give a header length of {n} bytes, more than the "
                f"{MAX_HEADER_BYTES} xpnet reads (corrupt, or not a safetensors file)"
            )
        if n > size - 8:
            raise bad(
                f"its first 8 bytes give a header length of {n} bytes, longer than the file "
                f"({size - 8} bytes follow them; truncated?)"
            )
        raw = f.read(n)
    data_size = size - 8 - n
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except _DuplicateName as exc:
        raise bad(f"its header names {str(exc)!r} twice") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad(f"its header is not valid JSON ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(header, dict):
        raise bad(f"its header is a JSON {type(header).__name__}, not an object")
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                raise bad("its __metadata__ is not an object of text values")
            continue
        if not isinstance(info, dict):
            raise bad(f"tensor {name!r} is described by a JSON {type(info).__name__}, not an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in _ITEMSIZES:
            raise bad(f"tensor {name!r} has dtype {dtype!r}, which NumPy cannot hold")
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            raise bad(f"tensor {name!r} has shape {shape!r}, not a list of sizes >= 0")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)
                and offsets[0] <= offsets[1]):
            raise bad(f"tensor {name!r} has data_offsets {offsets!r}, not [begin, end] with begin <= end")
        begin, end = offsets
        if end > data_size:
            raise bad(
                f"tensor {name!r} has data_offsets [{begin}, {end}], past the end of the "
                f"{data_size} bytes of data the file holds (truncated?)"
            )
        nbytes = math.prod(shape) * _ITEMSIZES[dtype]
        if end - begin != nbytes:
            raise bad(
                f"tensor {name!r} of shape {shape} and dtype {dtype} needs {nbytes} bytes, "
                f"its data_offsets [{begin}, {end}] give {end - begin}"
            )
        spans.append((begin, end, name))
    spans.sort()
    for (_, end, first), (begin, _, second) in zip(spans, spans[1:]):
        if begin < end:
            raise bad(f"tensors {first!r} and {second!r} overlap in the file's data")


# -- helpers -------------------------------------------------------------------------


def _c_contiguous(a: Any) -> np.ndarray:
    a = np.asarray(a)
    return a if a.flags.c_contiguous else np.array(a, order="C")  # keeps 0-d arrays 0-d


def _file_mode(path: str) -> int:
    """The permission bits for ``path``: those of the file it replaces, or 0o666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        pass
    # The one portable way to read the umask is to set it and put it back.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable, where the OS lets a folder be opened (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
