"""MNIST's IDX files (and those of Fashion-MNIST, KMNIST, ...), raw or gzipped, every header checked first."""

from __future__ import annotations

import gzip
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._checks import check_int, check_memory
from ..errors import DataFileError
from . import _limits
from ._dataset import Dataset, float_dtype
from ._inputs import OTHER, REGULAR, file_kind, not_regular
from ._inputs import folder as as_folder
from ._npz_archive import read_exactly
from ._preprocessing import flatten_images

#: The four files of an IDX data set (MNIST, Fashion-MNIST, ...) by split: (images, labels).
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
#: The most a deflate stream expands (a bound of the format): a gzip file that
#: declares more data than this many times its size is damaged, and refused
#: before anything is allocated.
_GZIP_MAX_RATIO = 1032
#: IDX type codes (the magic number's third byte), for saying what a file holds.
_IDX_TYPES = {0x08: "unsigned bytes", 0x09: "signed bytes", 0x0B: "16-bit integers",
              0x0C: "32-bit integers", 0x0D: "32-bit floats", 0x0E: "64-bit floats"}
_IDX_FIX = "download it again (MNIST's files: train-images-idx3-ubyte.gz and so on)"


def _idx_spellings(name: str) -> tuple[str, ...]:
    """The names one IDX file goes by, raw first, then gzipped.

    MNIST's own spelling, and the one with a dot before ``idx`` some mirrors use.
    """
    dotted = name.replace("-idx", ".idx")
    return name, dotted, name + ".gz", dotted + ".gz"


def _find_idx_file(folder: Path, name: str) -> Path | None:
    """The file in ``folder`` by one of ``name``'s spellings (raw before gzipped, as torchvision leaves both).

    Found by ``os.stat``: one that is a named pipe, socket or device is refused, unopened.
    """
    for n in _idx_spellings(name):
        kind = file_kind(folder / n)
        if kind == OTHER:
            raise not_regular(folder / n, "IDX data")
        if kind == REGULAR:
            return folder / n
    return None


def is_idx_folder(folder: Path) -> bool:
    return any(_find_idx_file(folder, name) for names in IDX_FILES.values() for name in names)


def _idx_error(file: Path, problem: str, fix: str = _IDX_FIX) -> DataFileError:
    return DataFileError(f"{file} is not a readable IDX file: {problem}: {fix}")


@dataclass(frozen=True)
class _IdxFile:
    """One IDX file whose header was read and checked: the array's shape and where its data starts."""

    path: Path
    shape: tuple[int, ...]
    offset: int

    @property
    def gzipped(self) -> bool:
        return self.path.suffix == ".gz"

    def open(self):
        return _idx_open(self.path)


def _idx_open(file: Path):
    """``file`` open for reading its bytes, through gzip where its name ends in ``.gz``."""
    return gzip.open(file, "rb") if file.suffix == ".gz" else open(file, "rb")


def _idx_header(file: Path, dims: int, what: str) -> _IdxFile:
    """The header of an IDX file of unsigned bytes in ``dims`` dimensions, checked against the file's size.

    The magic number is 0x00, 0x00, the type code (0x08: unsigned bytes), the
    number of dimensions; then each dimension's size as a big-endian 32-bit
    number; then the data, exactly the product of the sizes in bytes.
    """
    expected = 0x0800 | dims
    offset = 4 + 4 * dims
    try:
        with _idx_open(file) as f:
            header = f.read(offset)
    except OSError as exc:  # unreadable, or (BadGzipFile) a .gz that is not gzip
        raise _idx_error(file, f"it cannot be read ({exc.strerror or exc})") from exc
    except (EOFError, zlib.error) as exc:
        raise _idx_error(file, f"its gzip stream is damaged ({exc})") from exc
    if len(header) < 4:
        raise _idx_error(file, f"it holds {len(header)} bytes, not even the 4 of the magic number")
    magic = int.from_bytes(header[:4], "big")
    if magic != expected:
        if header[:2] != b"\0\0":
            detail = "not an IDX magic number (those start with two zero bytes)"
        else:
            kind = _IDX_TYPES.get(header[2], f"type code 0x{header[2]:02x}")
            like = {0x0801: ", as labels have", 0x0803: ", as images have"}.get(magic, "")
            detail = f"{kind} in {header[3]} dimension(s){like}"
        raise _idx_error(
            file, f"its magic number is 0x{magic:08x} ({detail}), but {what} have 0x{expected:08x} "
            f"(unsigned bytes in {dims} dimension(s))",
            f"check that the file is the one its name says, or {_IDX_FIX}",
        )
    if len(header) < offset:
        raise _idx_error(file, f"it ends inside its header ({len(header)} of {offset} bytes)")
    shape = tuple(int.from_bytes(header[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    nbytes = math.prod(shape)
    size = file.stat().st_size
    if file.suffix == ".gz":
        if offset + nbytes > _GZIP_MAX_RATIO * size:
            raise _idx_error(
                file, f"it declares {what} of shape {shape} ({nbytes} bytes), more than a gzip file of {size} "
                f"bytes can hold (deflate expands at most {_GZIP_MAX_RATIO} to 1): it is damaged or truncated",
            )
    elif size != offset + nbytes:
        raise _idx_error(
            file, f"its header declares {what} of shape {shape} ({nbytes} bytes of data), but it holds "
            f"{size - offset} bytes after the header ({'truncated' if size < offset + nbytes else 'too long'})",
        )
    return _IdxFile(file, shape, offset)


def _idx_data(idx: _IdxFile, what: str) -> np.ndarray:
    """The uint8 data of a checked IDX file in its declared shape, read in bounded pieces.

    A gzipped file is decompressed no further than its declared size and one
    byte more: a file with more data than its header declares is refused.
    """
    n = math.prod(idx.shape)
    out = np.empty(n, dtype=np.uint8)
    view = memoryview(out)
    try:
        with idx.open() as f:
            read_exactly(f, idx.offset)
            done = 0
            while done < n:
                got = f.readinto(view[done:done + _limits.NPZ_CHUNK_BYTES])
                if not got:
                    raise _idx_error(
                        idx.path, f"its data ends after {done} of the {n} bytes its header declares "
                        f"({what} of shape {idx.shape}): it is truncated",
                    )
                done += got
            if idx.gzipped and f.read(1):
                raise _idx_error(
                    idx.path, f"it decompresses to more than the {n} bytes its header declares "
                    f"({what} of shape {idx.shape})",
                )
    except DataFileError:
        raise
    except OSError as exc:  # unreadable; BadGzipFile for a wrong CRC or trailing garbage
        raise _idx_error(idx.path, f"it cannot be read ({exc.strerror or exc})") from exc
    except (EOFError, zlib.error) as exc:  # a gzip stream cut short or damaged
        raise _idx_error(idx.path, f"its gzip stream is damaged or cut short ({exc})") from exc
    return out.reshape(idx.shape)


def load_idx(
    path: str | os.PathLike, *, dtype: str = "float32", max_bytes: int | None = None
) -> Dataset:
    """MNIST (or a set in its IDX format: Fashion-MNIST, KMNIST, ...) from a folder of its four files.

    The folder holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each raw or
    gzipped (``.gz``), also spelled with a dot before ``idx``
    (``train-images.idx3-ubyte``). The t10k files are the test set.

    X (rows·cols, m): each image flattened row by row and divided by 255 in
    ``dtype`` ("float32" or "float64"), each example contiguous (Fortran
    order), as :func:`flatten_images` does. Y (1, m) int64: the labels, class
    ids; the classes are "0" to the largest label. The data set's name is the
    folder's.

    Every header is checked before any data is read: the magic numbers
    (0x00000803: unsigned bytes in 3 dimensions for images, 0x00000801:
    1 dimension for labels), the declared sizes against each file's length
    (a gzipped file is decompressed no further than its declared size), at
    most ``max_bytes`` (default :data:`MAX_IDX_BYTES`) declared in all, as
    many labels as images in each split, images of one size in both. Any
    problem raises :class:`DataFileError` naming the file.
    """
    dt = float_dtype(dtype)
    if max_bytes is None:
        max_bytes = _limits.MAX_IDX_BYTES
    max_bytes = check_int(max_bytes, "max_bytes", numpy=True, must="a positive whole number of bytes")
    folder = as_folder(path, "point it at the folder holding MNIST's four IDX files")
    names = [name for pair in IDX_FILES.values() for name in pair]
    found = {name: _find_idx_file(folder, name) for name in names}
    missing = [name for name in names if found[name] is None]
    if missing:
        raise DataFileError(
            f"{folder} does not hold {', '.join(missing)} (raw or .gz): put all four of MNIST's IDX files "
            f"({', '.join(names)}) in the folder"
        )

    headers = {}
    total = 0
    for split, (images_name, labels_name) in IDX_FILES.items():
        images = _idx_header(found[images_name], 3, "images")
        labels = _idx_header(found[labels_name], 1, "labels")
        for idx in (images, labels):
            total += math.prod(idx.shape)
            if total > max_bytes:
                raise _idx_error(
                    idx.path, f"with the files before it, its header declares more than the {max_bytes} bytes "
                    "xpnet reads (xpnet.data.MAX_IDX_BYTES)",
                    "pass max_bytes= if the data really is that large, or download the file again",
                )
        m, rows, columns = images.shape
        if m == 0 or rows == 0 or columns == 0:
            raise _idx_error(images.path, f"it holds no pixels (shape {images.shape})")
        if labels.shape[0] != m:
            raise DataFileError(
                f"{images.path} holds {m} images but {labels.path} holds {labels.shape[0]} labels: each image "
                "needs one label; check that both files are of one split, or download them again"
            )
        headers[split] = images, labels
    (train_images, _), (test_images, _) = headers["train"], headers["test"]
    if train_images.shape[1:] != test_images.shape[1:]:
        raise DataFileError(
            f"{train_images.path} holds images of {train_images.shape[1]}×{train_images.shape[2]} pixels but "
            f"{test_images.path} of {test_images.shape[1]}×{test_images.shape[2]}: train and test images must "
            "have one size; check that both come from the same data set"
        )

    check_memory(total * (1 + dt.itemsize), f"{folder}: the IDX files' {total:,} bytes, and X from them in {dt}",
                 "use dtype='float32', or a machine with more memory", error=DataFileError)
    arrays = {}
    for split, (images, labels) in headers.items():
        X = flatten_images(_idx_data(images, "images"), dtype=dt.name)
        arrays[split] = X, _idx_data(labels, "labels").astype(np.int64).reshape(1, -1)
    (X_train, Y_train), (X_test, Y_test) = arrays["train"], arrays["test"]
    K = int(max(Y_train.max(), Y_test.max())) + 1
    return Dataset(X_train, Y_train, X_test, Y_test, tuple(str(k) for k in range(K)), folder.resolve().name)
