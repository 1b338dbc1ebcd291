"""The course's cat vs non-cat images, from its two h5 files (needs h5py)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._checks import check_memory
from ..errors import DataFileError
from . import _limits
from ._dataset import Dataset, float_dtype
from ._inputs import FOLDER, MISSING, OTHER, as_path, file_kind, not_regular
from ._preprocessing import flatten_images

#: Environment variable naming the folder that holds the course's h5 files.
DATA_ENV = "XPNET_DATA"

CATVNONCAT_FILES = ("train_catvnoncat.h5", "test_catvnoncat.h5")


def find_catvnoncat(path: str | os.PathLike | None = None) -> Path:
    """The folder holding the cat h5 files: ``path``, else ``$XPNET_DATA``.

    Each file must be a regular file: one that is a named pipe, socket or device
    is refused by ``os.stat``, unopened.
    """
    name = "path"
    if path is None:
        path, name = os.environ.get(DATA_ENV), f"${DATA_ENV}"
        if path is None:
            raise DataFileError(
                f"no data folder given: pass --data DIR (or set {DATA_ENV}) to the folder "
                f"holding {' and '.join(CATVNONCAT_FILES)}"
            )
    folder = as_path(path, name)
    kinds = {f: file_kind(folder / f) for f in CATVNONCAT_FILES}
    missing = [f for f, kind in kinds.items() if kind in (MISSING, FOLDER)]
    if missing:
        raise DataFileError(
            f"{folder} does not hold {' and '.join(missing)}: point --data (or {DATA_ENV}) "
            "at the folder with the course's cat files"
        )
    for f, kind in kinds.items():
        if kind == OTHER:
            raise not_regular(folder / f, "the cat data")
    return folder


def load_catvnoncat(path: str | os.PathLike | None = None, *, dtype: str = "float32") -> Dataset:
    """The course's cat vs non-cat images, prepared as the course does.

    X_train (12288, 209), X_test (12288, 50): flattened 64×64×3 images / 255 in
    ``dtype`` ("float32", or "float64" as the course computes), each example
    contiguous (Fortran order). Y (1, m) int64: 1 = cat, 0 = non-cat.

    Raises :class:`DataFileError` naming the file and the problem when a file
    is missing or damaged, lacks ``{split}_set_x``, ``{split}_set_y`` or
    ``list_classes``, holds x of another shape than (m, 64, 64, 3) or other
    values than pixels 0..255, y of another shape than (m,) (or (1, m)) or
    labels other than 0 and 1, or arrays of more than :data:`MAX_H5_BYTES`.
    """
    float_dtype(dtype)
    folder = find_catvnoncat(path)  # a missing file is named before h5py is asked for
    try:
        import h5py
    except ImportError as exc:
        raise DataFileError(
            "reading the cat data needs h5py: pip install 'xpnet[h5]'"
        ) from exc
    arrays = {}
    classes: tuple[str, ...] = ()
    for split, filename in zip(("train", "test"), CATVNONCAT_FILES):
        file = folder / filename
        try:
            with h5py.File(file, "r") as f:
                arrays[split] = _cat_arrays(file, f, split, h5py)
                classes = _cat_classes(file, f, h5py)
        except DataFileError:
            raise
        except Exception as exc:  # OSError, KeyError, and whatever a damaged file makes h5py raise
            raise DataFileError(f"{file} is not a readable cat data file: {exc}") from exc
    (x_train, y_train), (x_test, y_test) = arrays["train"], arrays["test"]
    return Dataset(
        flatten_images(x_train, dtype=dtype),
        y_train.reshape(1, -1).astype(np.int64),
        flatten_images(x_test, dtype=dtype),
        y_test.reshape(1, -1).astype(np.int64),
        classes,
        "catvnoncat",
    )


def _h5_dataset(file: Path, f, key: str, h5py):
    if key not in f:
        raise DataFileError(f"{file} is not a readable cat data file: it has no {key!r} (it holds {', '.join(f.keys()) or 'nothing'})")
    dataset = f[key]
    if not isinstance(dataset, h5py.Dataset):
        raise DataFileError(f"{file} is not a readable cat data file: {key!r} is a group, not an array")
    return dataset


def _cat_arrays(file: Path, f, split: str, h5py) -> tuple[np.ndarray, np.ndarray]:
    """x (m, 64, 64, 3) uint8 and y (m,) of 0/1 from one cat file, checked before and after reading."""
    x_key, y_key = f"{split}_set_x", f"{split}_set_y"
    x, y = _h5_dataset(file, f, x_key, h5py), _h5_dataset(file, f, y_key, h5py)

    def bad(problem: str) -> DataFileError:
        return DataFileError(f"{file} is not a readable cat data file: {problem}")

    if len(x.shape) != 4 or tuple(x.shape[1:]) != (64, 64, 3):
        raise bad(f"{x_key} has shape {x.shape}, expected (m, 64, 64, 3): m images of 64×64 RGB pixels")
    if x.dtype.kind not in "iu":
        raise bad(f"{x_key} has dtype {x.dtype}, expected uint8 pixel values 0..255")
    if len(y.shape) not in (1, 2) or (len(y.shape) == 2 and y.shape[0] != 1):
        raise bad(f"{y_key} has shape {y.shape}, expected (m,): one 0/1 label per image")
    if y.dtype.kind not in "biuf":
        raise bad(f"{y_key} has dtype {y.dtype}, expected 0/1 labels")
    m = x.shape[0]
    if m == 0:
        raise bad(f"{x_key} holds no images (shape {x.shape})")
    if y.shape[-1] != m:
        raise bad(f"{x_key} holds {m} images but {y_key} holds {y.shape[-1]} labels")
    nbytes = x.size * x.dtype.itemsize + y.size * y.dtype.itemsize
    if nbytes > _limits.MAX_H5_BYTES:
        raise bad(f"its arrays hold {nbytes} bytes, more than the {_limits.MAX_H5_BYTES} xpnet reads (xpnet.data.MAX_H5_BYTES)")
    check_memory(nbytes + x.size * 8, f"{file}: its arrays, and X flattened from them",
                 "use a machine with more memory", error=DataFileError)
    x_values, y_values = np.asarray(x), np.asarray(y).reshape(-1)
    if x_values.dtype != np.uint8 and x_values.size and (x_values.min() < 0 or x_values.max() > 255):
        raise bad(f"{x_key} holds values outside 0..255 ({x_values.min()} to {x_values.max()})")
    outside = ~np.isin(y_values, (0, 1))
    if outside.any():
        raise bad(f"{y_key} holds labels other than 0 and 1, e.g. {y_values[np.flatnonzero(outside)[0]].item()!r}")
    return x_values.astype(np.uint8, copy=False), y_values


def _cat_classes(file: Path, f, h5py) -> tuple[str, ...]:
    names = np.asarray(_h5_dataset(file, f, "list_classes", h5py))
    if names.ndim != 1 or not all(isinstance(n, (bytes, str)) for n in names.tolist()):
        raise DataFileError(
            f"{file} is not a readable cat data file: list_classes is not a list of class names "
            f"(dtype {names.dtype}, shape {names.shape})"
        )
    try:
        return tuple(n.decode() if isinstance(n, bytes) else n for n in names.tolist())
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{file} is not a readable cat data file: list_classes is not text ({exc})") from exc
