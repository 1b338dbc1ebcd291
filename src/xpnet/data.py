"""Data sets, on the host, in the course's layout: X (n_x, m), Y (1, m).

Loaders return NumPy arrays; the model moves them to the chosen backend once.
They hand X over as training wants it: in the model's dtype (``dtype=``,
float32 by default, float64 for the course's reproductions) and with each
example contiguous (Fortran order), so gathering a mini-batch of columns copies
whole runs of memory. Large X is never staged through a float64 copy.

- generated: :func:`planar_flower`, :func:`spiral`, :func:`moons`, :func:`blobs`
- files: :func:`load_catvnoncat` (the course's h5), :func:`load_npz`,
  :func:`load_idx` (MNIST's format), :func:`load_image_folder`;
  :func:`load_dataset` picks one from a ``--data`` spec
- preparation: :func:`train_test_split`, :class:`Standardizer`, :func:`one_hot`
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import math
import numbers
import os
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._checks import check_int, is_int, is_real
from .errors import ConfigError, DataError, DataFileError, NotFittedError, ShapeError

#: Environment variable naming the folder that holds the course's h5 files.
DATA_ENV = "XPNET_DATA"

CATVNONCAT_FILES = ("train_catvnoncat.h5", "test_catvnoncat.h5")

#: The most bytes a .npz file may expand to (all members together, uncompressed),
#: unless ``load_npz(..., max_bytes=)`` says otherwise: a zip bomb is refused
#: before anything is decompressed.
MAX_NPZ_BYTES = 8 * 2**30
#: The highest compression ratio (uncompressed / compressed) of an .npz member
#: larger than :data:`NPZ_RATIO_MIN_BYTES`.
MAX_NPZ_RATIO = 1000
NPZ_RATIO_MIN_BYTES = 4 * 2**20
#: Bytes of an .npz member's data read at a time: X is converted chunk by chunk
#: into its destination, so no full-size copy of it in the file's dtype exists.
NPZ_CHUNK_BYTES = 2**20
#: The most bytes the arrays of one cat h5 file may hold (HDF5 compresses too).
MAX_H5_BYTES = 8 * 2**30
#: The most pixels (width × height) of one image in an image folder: larger
#: ones are refused as possible decompression bombs, before they are decoded.
MAX_IMAGE_PIXELS = 89_478_485  # Pillow's default (2**30 bytes of RGBA / 4 / 3)
#: The most bytes the four IDX files of a folder may declare (their data, uncompressed),
#: unless ``load_idx(..., max_bytes=)`` says otherwise: checked before anything is read.
MAX_IDX_BYTES = 8 * 2**30

#: What the loaders' ``dtype=`` takes: the dtypes a model trains in.
DTYPES = ("float32", "float64")


def _float_dtype(dtype) -> np.dtype:
    """``dtype`` ("float32" or "float64") as a NumPy dtype, or a ConfigError naming the choices."""
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ConfigError(
            f"dtype must be one of {', '.join(repr(d) for d in DTYPES)} (the dtype the model trains in), "
            f"got {dtype!r}"
        )
    return np.dtype(dtype)


def _as_columns(X: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """X (n_x, m) in ``dtype`` with each example contiguous (Fortran order); X itself if it already is."""
    return np.asarray(X, dtype=dtype, order="F")


@dataclass(frozen=True)
class Dataset:
    """A train/test split: X_* (n_x, m), Y_* (1, m) int64 class ids, class names.

    X_* is in the dtype the loader was given (``dtype="float32"`` by default,
    or ``"float64"``), each example contiguous in memory (Fortran order, the
    layout ``images.reshape(m, -1).T`` has): training gathers columns. A
    regression set read from a ``.npz`` file has Y_* (n_y, m) in that dtype too,
    and no class names.
    """

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    classes: tuple[str, ...]
    name: str


def planar_flower(m: int = 400, *, seed: int = 1, noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """The course's planar "flower": two classes of m/2 points each in 2-D.

    For class j the angle t runs evenly over [3.12·j, 3.12·(j+1)] plus
    Gaussian noise, the radius is r = 4·sin(4t) plus Gaussian noise, and the
    point is (r·sin t, r·cos t). Returns X (2, m) float64 and Y (1, m) int64.
    """
    rng = np.random.RandomState(seed)
    per_class = m // 2
    X = np.zeros((2, 2 * per_class))
    Y = np.zeros((1, 2 * per_class), dtype=np.int64)
    for j in (0, 1):
        ix = slice(per_class * j, per_class * (j + 1))
        t = np.linspace(3.12 * j, 3.12 * (j + 1), per_class) + rng.randn(per_class) * noise
        r = 4.0 * np.sin(4.0 * t) + rng.randn(per_class) * noise
        X[0, ix] = r * np.sin(t)
        X[1, ix] = r * np.cos(t)
        Y[0, ix] = j
    return X, Y


def flower_dataset(m: int = 400, *, seed: int = 1, dtype: str = "float32") -> Dataset:
    """The flower set to train on (the course's draw, ``seed``) and a fresh draw to test on.

    The points are drawn in float64, as :func:`planar_flower` returns them, and
    handed over as X (2, m) in ``dtype``, each example contiguous.
    """
    dt = _float_dtype(dtype)
    X_train, Y_train = planar_flower(m, seed=seed)
    X_test, Y_test = planar_flower(m, seed=seed + 1000)
    return Dataset(_as_columns(X_train, dt), Y_train, _as_columns(X_test, dt), Y_test, ("red", "blue"), "flower")


def find_catvnoncat(path: str | os.PathLike | None = None) -> Path:
    """The folder holding the cat h5 files: ``path``, else ``$XPNET_DATA``."""
    if path is None:
        path = os.environ.get(DATA_ENV)
        if path is None:
            raise DataFileError(
                f"no data folder given: pass --data DIR (or set {DATA_ENV}) to the folder "
                f"holding {' and '.join(CATVNONCAT_FILES)}"
            )
    folder = Path(path)
    missing = [f for f in CATVNONCAT_FILES if not (folder / f).is_file()]
    if missing:
        raise DataFileError(
            f"{folder} does not hold {' and '.join(missing)}: point --data (or {DATA_ENV}) "
            "at the folder with the course's cat files"
        )
    return folder


def flatten_images(images: np.ndarray, *, dtype: str = "float32") -> np.ndarray:
    """Images (m, height, width, channels) of uint8 as X (height·width·channels, m) in [0, 1].

    X is in ``dtype``, each example contiguous (Fortran order). The pixels are
    divided by 255 straight into ``dtype``, with no float64 copy on the way: a
    float32 x/255 is correctly rounded, so it equals the float64 x/255.0
    rounded to float32.
    """
    dt = _float_dtype(dtype)
    images = np.asarray(images)
    m = images.shape[0]
    pixels = images.reshape(m, -1).T  # a view where images is C-contiguous: each image one column
    X = np.empty(pixels.shape, dtype=dt, order="F")
    np.divide(pixels, dt.type(255), out=X, dtype=dt)
    return X


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
    _float_dtype(dtype)
    try:
        import h5py
    except ImportError as exc:
        raise DataFileError(
            "reading the cat data needs h5py: pip install 'xpnet[h5]'"
        ) from exc
    folder = find_catvnoncat(path)
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
    if nbytes > MAX_H5_BYTES:
        raise bad(f"its arrays hold {nbytes} bytes, more than the {MAX_H5_BYTES} xpnet reads (xpnet.data.MAX_H5_BYTES)")
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


# -- generated sets ----------------------------------------------------------------


def _check_generated(m, classes: int, **non_negative: float) -> None:
    check_int(classes, "classes", low=2, numpy=True, must="an integer >= 2")
    check_int(m, "m", low=classes, numpy=True, must=f"an integer >= the number of classes ({classes})")
    for name, value in non_negative.items():
        if not isinstance(value, numbers.Real) or not value >= 0:
            raise ConfigError(f"{name} must be a number >= 0, got {value!r}")


def _class_sizes(m: int, classes: int) -> list[int]:
    """m examples over ``classes`` classes, as evenly as m allows (the first get the remainder)."""
    return [m // classes + (1 if k < m % classes else 0) for k in range(classes)]


def _labels(sizes: list[int]) -> np.ndarray:
    """Y (1, m) int64: class k repeated sizes[k] times, classes in order."""
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes).reshape(1, -1)


def spiral(m: int = 300, *, classes: int = 3, seed: int = 0, noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` spiral arms around the origin (the CS231n toy set), m points in all.

    Along arm k the radius grows evenly from 0 to 1 while the angle runs over
    [4k, 4(k+1)] radians plus Gaussian noise of standard deviation ``noise``;
    the point is (r·sin t, r·cos t). Not linearly separable for any noise.
    Classes are in order, as balanced as m allows. Returns X (2, m) float64 and
    Y (1, m) int64.
    """
    _check_generated(m, classes, noise=noise)
    rng = np.random.RandomState(seed)
    sizes = _class_sizes(m, classes)
    X = np.empty((2, m))
    start = 0
    for k, n in enumerate(sizes):
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(4.0 * k, 4.0 * (k + 1), n) + rng.randn(n) * noise
        X[0, start:start + n] = r * np.sin(t)
        X[1, start:start + n] = r * np.cos(t)
        start += n
    return X, _labels(sizes)


def moons(m: int = 400, *, seed: int = 0, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles of radius 1, m points in all.

    Class 0 is the upper half circle around (0, 0), class 1 the lower one around
    (1, 0.5), each point moved by Gaussian noise of standard deviation ``noise``
    in both coordinates. Returns X (2, m) float64 and Y (1, m) int64.
    """
    _check_generated(m, 2, noise=noise)
    rng = np.random.RandomState(seed)
    n_upper, n_lower = _class_sizes(m, 2)
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    X = np.concatenate(
        [np.stack([np.cos(t_upper), np.sin(t_upper)]),
         np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)])],
        axis=1,
    )
    X += rng.randn(2, m) * noise
    return X, _labels([n_upper, n_lower])


def blob_centers(classes: int = 3) -> np.ndarray:
    """The centers :func:`blobs` draws around, (2, classes): evenly on a circle, neighbours 6 apart.

    Six apart is six standard deviations at the default spread of 1, so the
    blobs barely touch and any sensible classifier separates them.
    """
    radius = 3.0 / math.sin(math.pi / classes)
    angles = 2.0 * np.pi * np.arange(classes) / classes
    return radius * np.stack([np.cos(angles), np.sin(angles)])


def blobs(m: int = 300, *, classes: int = 3, seed: int = 0, spread: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs of standard deviation ``spread`` around :func:`blob_centers`, m points in all.

    Classes are in order, as balanced as m allows. Returns X (2, m) float64 and
    Y (1, m) int64.
    """
    _check_generated(m, classes, spread=spread)
    rng = np.random.RandomState(seed)
    sizes = _class_sizes(m, classes)
    Y = _labels(sizes)
    X = blob_centers(classes)[:, Y[0]] + rng.randn(2, m) * spread
    return X, Y


# -- preparing arrays ---------------------------------------------------------------


def _check_test_fraction(test_fraction) -> None:
    if not (is_real(test_fraction, numpy=True) and 0 < test_fraction < 1):
        raise ConfigError(
            f"test_fraction must be a number strictly between 0 and 1 (e.g. 0.2 holds out a fifth "
            f"of the examples), got {test_fraction!r}"
        )


def _n_test(m: int, test_fraction: float) -> int:
    """How many of m examples to hold out: at least one, and at least one left to train on."""
    return min(max(round(m * test_fraction), 1), m - 1)


def train_test_split(X, Y, *, test_fraction: float = 0.2, seed: int = 0):
    """Split the columns (examples) of X (n_x, m) and Y (n_y, m) or (m,) at random.

    A seeded permutation of the m columns: the first round(m·test_fraction)
    (at least 1, at most m − 1) go to the test set. Returns
    (X_train, Y_train, X_test, Y_test), each keeping its input's number of rows.
    """
    _check_test_fraction(test_fraction)
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2:
        raise ShapeError(
            f"X has shape {X.shape}; it must be (n_x, m), one example per column "
            "(for a single feature pass X.reshape(1, -1))"
        )
    m = X.shape[1]
    if Y.ndim not in (1, 2) or Y.shape[-1] != m:
        hint = " (X looks like (m, n_x): pass X.T)" if Y.ndim in (1, 2) and X.shape[0] == Y.shape[-1] else ""
        raise ShapeError(
            f"X has {m} examples (columns) but Y has shape {Y.shape}: Y must be (n_y, {m}) or ({m},){hint}"
        )
    if m < 2:
        raise DataError(f"cannot split {m} example(s) into a train and a test set: at least 2 are needed")
    order = np.random.RandomState(seed).permutation(m)
    n_test = _n_test(m, test_fraction)
    test, train = order[:n_test], order[n_test:]
    return X[:, train], Y[..., train], X[:, test], Y[..., test]


class Standardizer:
    """Per-feature standardization, fit on the training set: (X − mean) / std.

    ``mean`` and ``std`` are (n_x, 1): one per row (feature) of X (n_x, m),
    taken over the m examples. A feature that is constant on the training set
    has std 0; it is divided by 1 instead, so it becomes 0 rather than NaN.
    Fit on X_train only and transform X_test with the same statistics, so the
    test set tells nothing to the model it should not know. The statistics are
    taken in float64; a float32 X stays float32 (and keeps its memory layout).
    """

    #: A std this small relative to |mean| is the rounding error of a constant
    #: feature (np.std of 1000 copies of 0.1 is 1.4e-17, not 0), not a spread.
    CONSTANT_RTOL = 1e3 * np.finfo(np.float64).eps

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    @staticmethod
    def _matrix(X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ShapeError(
                f"X has shape {X.shape}; it must be (n_x, m), one example per column "
                "(for a single feature pass X.reshape(1, -1))"
            )
        if X.dtype.kind not in "biuf":
            raise DataError(f"X has dtype {X.dtype}; standardizing needs real numbers")
        return X if X.dtype == np.float32 else X.astype(np.float64, copy=False)

    def fit(self, X) -> Standardizer:
        """Learn mean and std (n_x, 1) of each row of X (n_x, m). Returns self."""
        X = self._matrix(X)
        if X.shape[1] == 0:
            raise DataError("X has no examples (m = 0): there is nothing to take a mean over")
        mean = X.mean(axis=1, keepdims=True, dtype=np.float64)
        std = X.std(axis=1, keepdims=True, dtype=np.float64)
        constant = std <= self.CONSTANT_RTOL * np.abs(mean)
        self.mean, self.std = mean, np.where(constant, 1.0, std)
        return self

    def transform(self, X) -> np.ndarray:
        """X (n_x, m) standardized with the fitted statistics, as a new array (float32 for float32 X, else float64)."""
        if self.mean is None:
            raise NotFittedError("this Standardizer is not fitted yet: call fit(X_train) first")
        X = self._matrix(X)
        if X.shape[0] != self.mean.shape[0]:
            raise ShapeError(
                f"X has {X.shape[0]} features (rows) but the Standardizer was fit on "
                f"{self.mean.shape[0]}: pass X as (n_x, m) with the training set's features"
            )
        return (X - self.mean.astype(X.dtype)) / self.std.astype(X.dtype)

    def fit_transform(self, X) -> np.ndarray:
        """Fit on X (n_x, m) and return it standardized."""
        return self.fit(X).transform(X)


def standardize(data: Dataset) -> Dataset:
    """``data`` with X_train and X_test standardized by a :class:`Standardizer` fit on X_train."""
    scaler = Standardizer().fit(data.X_train)
    return dataclasses.replace(
        data, X_train=scaler.transform(data.X_train), X_test=scaler.transform(data.X_test)
    )


def one_hot(ids, K: int | None = None) -> np.ndarray:
    """Class ids (m,) or (1, m) in [0, K) as one-hot columns (K, m) float64.

    K defaults to max(ids) + 1. Whole-number floats are accepted as ids.
    """
    ids = np.asarray(ids)
    if ids.ndim == 2 and ids.shape[0] == 1:
        ids = ids[0]
    if ids.ndim != 1:
        raise ShapeError(f"ids has shape {ids.shape}; pass class ids as (m,) or (1, m)")
    if ids.dtype.kind == "f" and np.all(np.isfinite(ids)) and np.all(ids == np.round(ids)):
        ids = ids.astype(np.int64)
    if ids.dtype.kind not in "biu":
        raise DataError(f"ids must be whole-number class ids 0..K-1, got dtype {ids.dtype} with values like {ids[:5]}")
    ids = ids.astype(np.int64)
    if K is None:
        if ids.size == 0:
            raise DataError("cannot tell the number of classes from no ids: pass K")
        K = max(int(ids.max()) + 1, 1)
    else:
        K = check_int(K, "K", numpy=True, must="a positive integer (the number of classes)")
    outside = (ids < 0) | (ids >= K)
    if outside.any():
        columns = np.flatnonzero(outside)
        raise DataError(
            f"class ids must lie in [0, {K}); {columns.size} do not, e.g. {ids[columns[0]]} at "
            f"column {columns[0]}: relabel the classes 0..K-1, or pass the right K"
        )
    Y = np.zeros((K, ids.size))
    Y[ids, np.arange(ids.size)] = 1.0
    return Y


# -- files --------------------------------------------------------------------------

NPZ_SPLIT_KEYS = ("X_train", "Y_train", "X_test", "Y_test")
NPZ_WHOLE_KEYS = ("X", "Y")


#: The names whose arrays :func:`load_npz` uses.
_NPZ_USED_KEYS = frozenset(NPZ_SPLIT_KEYS + NPZ_WHOLE_KEYS + ("classes",))
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member first; an empty archive


@dataclass(frozen=True)
class _NpyMember:
    """One .npz member's .npy header, checked against the member's size."""

    key: str
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    offset: int  # bytes of header before the data


@contextlib.contextmanager
def _npz_archive(path: Path):
    """The .npz at ``path`` open as a zip archive, or a DataFileError saying what the file is instead."""
    if not path.is_file():
        raise DataFileError(f"{path} does not exist: check the path of the .npz file")
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
def _npz_reading(path: Path, key: str):
    """Turn what a damaged member makes zipfile, zlib or numpy raise into a DataFileError naming it."""
    try:
        yield
    except DataFileError:
        raise
    except Exception as exc:  # BadZipFile (CRC), zlib.error, EOFError, ValueError, ...
        raise DataFileError(f"{path}: {key} cannot be read ({exc}): write the file again") from exc


def _npz_headers(path: Path, archive: zipfile.ZipFile, max_bytes: int) -> dict[str, _NpyMember]:
    """The header of every .npy member by array name, all read and checked before any data.

    The archive's directory is checked before anything is decompressed: at
    most ``max_bytes`` uncompressed in all, no member compressed more than
    :data:`MAX_NPZ_RATIO` to 1 (above :data:`NPZ_RATIO_MIN_BYTES`), stored or
    deflated as numpy writes them, each name once. Each array's .npy header
    must agree with the member's size and hold no Python objects. A member
    that is no .npy array is skipped, unless xpnet uses its name.
    """
    headers = {}
    for key, info in _npz_members(path, archive, max_bytes).items():
        with _npz_reading(path, key):
            header = _npz_header(path, archive, key, info)
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
        if info.file_size > NPZ_RATIO_MIN_BYTES and info.file_size > MAX_NPZ_RATIO * max(info.compress_size, 1):
            raise DataFileError(
                f"{path}: {key} expands from {info.compress_size} to {info.file_size} bytes, more than "
                f"{MAX_NPZ_RATIO} to 1 (a zip bomb?): xpnet refuses it before decompressing"
            )
        members[key] = info
    return members


def _npz_header(path: Path, archive: zipfile.ZipFile, key: str, info: zipfile.ZipInfo) -> _NpyMember | None:
    """The .npy header of one member; None for a member that is no .npy array and that xpnet does not use."""
    fmt = np.lib.format
    with archive.open(info) as f:
        if f.read(len(fmt.MAGIC_PREFIX)) != fmt.MAGIC_PREFIX:
            if key in _NPZ_USED_KEYS:
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
    return _NpyMember(key, info, tuple(shape), bool(fortran_order), dtype, header_size)


def _npz_read(path: Path, archive: zipfile.ZipFile, member: _NpyMember) -> np.ndarray:
    """A whole (small) member as it is stored: Y, classes."""
    with _npz_reading(path, member.key), archive.open(member.info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _npz_check_kind(path: Path, key: str, dtype: np.dtype) -> None:
    if dtype.kind not in "biuf":
        raise DataFileError(f"{path}: {key} has dtype {dtype}; xpnet needs real numbers (bool, integer or float)")


def _npz_numeric(path: Path, key: str, a: np.ndarray) -> np.ndarray:
    _npz_check_kind(path, key, a.dtype)
    if a.size and a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise _npz_not_finite(path, key)
    return a


def _npz_not_finite(path: Path, key: str) -> DataFileError:
    return DataFileError(f"{path}: {key} contains NaN or inf: remove or impute them before saving")


def _npz_check_X(path: Path, member: _NpyMember) -> None:
    """X's header: real numbers of shape (n_x, m), m > 0 (its values are checked as they are read)."""
    key, shape = member.key, member.shape
    _npz_check_kind(path, key, member.dtype)
    if len(shape) != 2:
        raise DataFileError(
            f"{path}: {key} has shape {shape}; it must be (n_x, m), one example per column "
            f"(for a single feature save {key}.reshape(1, -1))"
        )
    if shape[1] == 0:
        raise DataFileError(f"{path}: {key} has no examples (m = 0)")


def _npz_Y(path: Path, key: str, a: np.ndarray) -> np.ndarray:
    a = _npz_numeric(path, key, a)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise DataFileError(f"{path}: {key} has shape {a.shape}; it must be (m,), (1, m) or (n_y, m)")
    return a


def _empty_columns(path: Path, key: str, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """An uninitialized (n_x, m) array of ``dtype`` in Fortran order, or a DataFileError if it does not fit."""
    try:
        return np.empty(shape, dtype=dtype, order="F")
    except MemoryError as exc:
        smaller = "load it with dtype='float32', " if dtype == np.float64 else ""
        raise DataFileError(
            f"{path}: {key} of shape {shape} needs {math.prod(shape) * dtype.itemsize} bytes as {dtype}, "
            f"more than this machine can allocate: {smaller}free memory, or use a machine with more"
        ) from exc


def _read_exactly(f, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise EOFError(f"the data ends after {len(data)} of {n} bytes")
    return data


def _npz_X_blocks(path: Path, archive: zipfile.ZipFile, member: _NpyMember):
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
    per_chunk = max(NPZ_CHUNK_BYTES // itemsize, 1)  # elements
    if line_length <= per_chunk:
        step = per_chunk // line_length
        spans = ((a, min(a + step, lines), 0, line_length) for a in range(0, lines, step))
    else:
        spans = ((a, a + 1, s, min(s + per_chunk, line_length))
                 for a in range(lines) for s in range(0, line_length, per_chunk))
    with _npz_reading(path, member.key), archive.open(member.info) as f:
        _read_exactly(f, member.offset)  # the header, read and checked before
        for a, b, s, t in spans:
            raw = _read_exactly(f, (b - a) * (t - s) * itemsize)
            block = np.frombuffer(raw, dtype=member.dtype).reshape(b - a, t - s)
            if member.fortran_order:
                yield slice(s, t), slice(a, b), block.T
            else:
                yield slice(a, b), slice(s, t), block


def _npz_read_X(
    path: Path, archive: zipfile.ZipFile, member: _NpyMember, dtype: np.dtype, split=None
) -> list[np.ndarray]:
    """X converted to ``dtype`` chunk by chunk, straight into Fortran-ordered destinations.

    ``split`` None gives [X]; ``split`` = (order, n_test) gives [X_train,
    X_test] as :func:`train_test_split` makes them from the permutation
    ``order``: X_test[:, p] = X[:, order[p]], X_train[:, p] = X[:, order[n_test + p]].
    No full-size copy of X exists on the way, in the file's dtype or any other.
    NaN and inf are refused chunk by chunk.
    """
    n_x, m = member.shape
    if split is None:
        X = _empty_columns(path, member.key, (n_x, m), dtype)
        outputs = [X]

        def put(rows, columns, block):
            X[rows, columns] = block
    else:
        order, n_test = split
        place = np.empty(m, dtype=np.intp)  # X[:, j] goes to column place[j] of test, then train
        place[order] = np.arange(m, dtype=np.intp)
        X_train = _empty_columns(path, "X_train", (n_x, m - n_test), dtype)
        X_test = _empty_columns(path, "X_test", (n_x, n_test), dtype)
        outputs = [X_train, X_test]

        def put(rows, columns, block):
            at = place[columns]
            to_test = at < n_test
            X_test[rows, at[to_test]] = block[:, to_test]
            to_train = ~to_test
            X_train[rows, at[to_train] - n_test] = block[:, to_train]

    finite = member.dtype.kind == "f"
    for rows, columns, block in _npz_X_blocks(path, archive, member):
        if finite and not np.isfinite(block).all():
            raise _npz_not_finite(path, member.key)
        put(rows, columns, block)
    return outputs


def _is_labels(Y: np.ndarray) -> bool:
    """One row of whole numbers >= 0: class ids, not regression values."""
    if Y.shape[0] != 1:
        return False
    if Y.dtype.kind in "bu":
        return True
    return bool(np.all(Y == np.round(Y)) and Y.min() >= 0)


def _check_same_m(path: Path, x_key: str, x_shape: tuple, y_key: str, y_shape: tuple) -> None:
    if x_shape[1] != y_shape[1]:
        hint = (
            f" ({x_key} looks like (m, n_x): save {x_key}.T)" if x_shape[0] == y_shape[1]
            else f": each column of {x_key} is one example and needs one column of {y_key}"
        )
        raise DataFileError(
            f"{path}: {x_key} has {x_shape[1]} examples (columns), shape {x_shape}, but {y_key} has "
            f"{y_shape[1]}, shape {y_shape}{hint}"
        )


def load_npz(
    path: str | os.PathLike, *, test_fraction: float = 0.2, seed: int = 0, max_bytes: int | None = None,
    dtype: str = "float32",
) -> Dataset:
    """A data set from a NumPy ``.npz`` file, read without pickle.

    The file holds either ``X_train, Y_train, X_test, Y_test`` or just ``X, Y``,
    which are then split as :func:`train_test_split` splits them
    (``test_fraction``, ``seed``). Each X is (n_x, m): one example per column,
    as everywhere in xpnet, of bool, integers or floats; it comes back in
    ``dtype`` ("float32" or "float64"), each example contiguous (Fortran
    order). Each Y is (m,) or (1, m) of class ids 0..K-1 (0/1 for two
    classes), which become int64, or (n_y, m) of values (regression), which
    come back in ``dtype``. An optional ``classes`` array of strings names the
    classes. The data set's name is the file's stem.

    Reading never unpickles and is bounded: a file that would expand to more
    than ``max_bytes`` (default :data:`MAX_NPZ_BYTES`) uncompressed, or a member
    compressed suspiciously well, is refused before it is decompressed. Every
    header is checked before any data is read. X is read in chunks of
    :data:`NPZ_CHUNK_BYTES` straight into the arrays returned (X_train and
    X_test directly, when the file is split here), so the peak memory is the
    returned arrays plus a few chunks, whatever the file's dtype and order.
    Any problem raises :class:`DataFileError` naming the file.
    """
    dt = _float_dtype(dtype)
    if max_bytes is None:
        max_bytes = MAX_NPZ_BYTES
    max_bytes = check_int(max_bytes, "max_bytes", numpy=True, must="a positive whole number of bytes")
    _check_test_fraction(test_fraction)
    path = Path(path)
    with _npz_archive(path) as archive:
        headers = _npz_headers(path, archive, max_bytes)
        split_present = [k for k in NPZ_SPLIT_KEYS if k in headers]
        if split_present and len(split_present) < len(NPZ_SPLIT_KEYS):
            missing = [k for k in NPZ_SPLIT_KEYS if k not in headers]
            raise DataFileError(
                f"{path} holds {', '.join(split_present)} but not {', '.join(missing)}: save all four, or "
                "just X and Y for xpnet to split"
            )
        if not split_present and not all(k in headers for k in NPZ_WHOLE_KEYS):
            raise DataFileError(
                f"{path} holds {', '.join(headers) or 'no arrays'}; xpnet reads X_train, Y_train, X_test, "
                "Y_test, or just X and Y: save them with numpy.savez(path, X=X, Y=Y), X of shape (n_x, m)"
            )
        keys = NPZ_SPLIT_KEYS if split_present else NPZ_WHOLE_KEYS
        x_members = [headers[k] for k in keys[0::2]]
        for member in x_members:
            _npz_check_X(path, member)
        Ys = [_npz_Y(path, k, _npz_read(path, archive, headers[k])) for k in keys[1::2]]
        for member, y_key, Y in zip(x_members, keys[1::2], Ys):
            _check_same_m(path, member.key, member.shape, y_key, Y.shape)
        if split_present:
            (train_shape, test_shape), (Y_train, Y_test) = (x.shape for x in x_members), Ys
            if train_shape[0] != test_shape[0]:
                raise DataFileError(
                    f"{path}: X_train has {train_shape[0]} features (rows) but X_test has {test_shape[0]}: "
                    "both must be (n_x, m) with the same n_x"
                )
            if Y_train.shape[0] != Y_test.shape[0]:
                raise DataFileError(
                    f"{path}: Y_train has {Y_train.shape[0]} rows but Y_test has {Y_test.shape[0]}: "
                    "both must be (n_y, m) with the same n_y"
                )
        else:
            m = x_members[0].shape[1]
            if m < 2:
                raise DataFileError(
                    f"{path}: X holds {m} example: xpnet cannot split it into a train and a test set; "
                    "save at least 2 examples"
                )
            # The permutation train_test_split draws, applied as X is read.
            order = np.random.RandomState(seed).permutation(m)
            n_test = _n_test(m, test_fraction)
            Y_train, Y_test = Ys[0][..., order[n_test:]], Ys[0][..., order[:n_test]]
        del Ys

        names = _npz_read(path, archive, headers["classes"]) if "classes" in headers else None
        if names is not None and (names.ndim != 1 or names.dtype.kind not in "US"):
            raise DataFileError(
                f"{path}: classes must be a 1-D array of strings, got dtype {names.dtype}, shape {names.shape}"
            )

        if split_present:
            (X_train,), (X_test,) = (_npz_read_X(path, archive, member, dt) for member in x_members)
        else:
            X_train, X_test = _npz_read_X(path, archive, x_members[0], dt, split=(order, n_test))
            del order

    classes: tuple[str, ...] = ()
    # Train and test decide together, so both Ys get the same dtype.
    if _is_labels(Y_train) and _is_labels(Y_test):
        Y_train, Y_test = Y_train.astype(np.int64, copy=False), Y_test.astype(np.int64, copy=False)
        K = int(max(Y_train.max(), Y_test.max())) + 1
        classes = tuple(str(k) for k in range(K))
    else:
        Y_train, Y_test = _as_columns(Y_train, dt), _as_columns(Y_test, dt)
    if names is not None:
        classes = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names.tolist())
    return Dataset(X_train, Y_train, X_test, Y_test, classes, path.stem)


def _image_size(size) -> tuple[int, int]:
    pair = (size, size) if is_int(size, numpy=True) else tuple(size) if isinstance(size, (tuple, list)) else ()
    if len(pair) != 2 or not all(is_int(n, numpy=True) and n > 0 for n in pair):
        raise ConfigError(f"size must be (height, width) in pixels, two positive integers, got {size!r}")
    return int(pair[0]), int(pair[1])


def _visible_subfolders(folder: Path) -> list[Path]:
    """Subfolders, without hidden ones (.git, .ipynb_checkpoints), sorted by name."""
    return sorted((d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")), key=lambda d: d.name)


def _stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test): each class with 2+ examples gives about test_fraction of them to test."""
    rng = np.random.RandomState(seed)
    train, test = [], []
    for k in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == k))
        n_test = _n_test(members.size, test_fraction) if members.size >= 2 else 0
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def load_image_folder(
    path: str | os.PathLike, *, size=(64, 64), test_fraction: float = 0.2, seed: int = 0,
    dtype: str = "float32",
) -> Dataset:
    """Images sorted into one subfolder per class, as a data set; needs Pillow.

    The classes are the subfolders' names in sorted order, ids 0..K-1. Every
    file Pillow can open by its extension is converted to RGB, resized to
    ``size`` = (height, width) (an int means square), and flattened as
    :func:`flatten_images` does: X (height·width·3, m) in [0, 1] in ``dtype``,
    each example contiguous (Fortran order); Y (1, m) int64. Each class gives
    about ``test_fraction`` of its images to the test set (seeded). Hidden
    files and folders are skipped, as are files of other types.
    """
    _check_test_fraction(test_fraction)
    _float_dtype(dtype)
    height, width = _image_size(size)
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:
        raise DataFileError("reading a folder of images needs Pillow: pip install 'xpnet[images]'") from exc
    folder = Path(path)
    if not folder.is_dir():
        raise DataFileError(f"{folder} is not a folder: point it at a folder with one subfolder of images per class")
    class_folders = _visible_subfolders(folder)
    if len(class_folders) < 2:
        found = f"only {class_folders[0].name!r}" if class_folders else "none"
        raise DataFileError(
            f"{folder} needs one subfolder per class, at least two (e.g. {folder}/cat and {folder}/dog), "
            f"found {found}"
        )
    readable = {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}
    files, ids = [], []
    for k, class_folder in enumerate(class_folders):
        images = sorted(
            p for p in class_folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in readable
        )
        if not images:
            raise DataFileError(
                f"class folder {class_folder} holds no images (.png, .jpg, ...): add some, or remove the folder"
            )
        files += images
        ids += [k] * len(images)

    labels = np.asarray(ids, dtype=np.int64)
    train, test = _stratified_split(labels, test_fraction, seed)
    # Each image goes straight to its place in the split, train first: X_train and
    # X_test are flattened from two slices of one array of pixels, not gathered from X.
    slot = np.empty(len(files), dtype=np.intp)
    slot[np.concatenate([train, test])] = np.arange(len(files))
    pixels = np.empty((len(files), height, width, 3), dtype=np.uint8)
    with _bounded_pillow(Image):
        for i, file in enumerate(files):  # in the files' order, so the first bad one is named
            pixels[slot[i]] = _read_image(file, width, height, Image, ImageOps)

    if test.size == 0:
        raise DataFileError(
            f"{folder} has too few images to hold out a test set: put at least two images in each class folder"
        )
    return Dataset(
        flatten_images(pixels[:train.size], dtype=dtype), labels[train].reshape(1, -1),
        flatten_images(pixels[train.size:], dtype=dtype), labels[test].reshape(1, -1),
        tuple(d.name for d in class_folders), folder.resolve().name,
    )


@contextlib.contextmanager
def _bounded_pillow(Image):
    """Pillow set to refuse what it would otherwise read silently wrong or without bound.

    For the duration: decompression bombs (more than :data:`MAX_IMAGE_PIXELS`,
    or Pillow's own limit if lower) raise instead of warning, and truncated
    images raise even where ``ImageFile.LOAD_TRUNCATED_IMAGES`` was switched on.
    """
    from PIL import ImageFile

    saved_pixels, saved_truncated = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    limit = MAX_IMAGE_PIXELS if saved_pixels is None else min(MAX_IMAGE_PIXELS, saved_pixels)
    try:
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = limit, False
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = saved_pixels, saved_truncated


def _read_image(file: Path, width: int, height: int, Image, ImageOps) -> np.ndarray:
    """One image file as (height, width, 3) uint8, or a DataFileError naming the file."""
    try:
        with Image.open(file) as image:
            if image.width * image.height > Image.MAX_IMAGE_PIXELS:  # formats Pillow does not check
                raise DataFileError(
                    f"{file} is {image.width}×{image.height} pixels, more than the {Image.MAX_IMAGE_PIXELS} "
                    "xpnet reads (a decompression bomb?): shrink it, or raise xpnet.data.MAX_IMAGE_PIXELS"
                )
            # Cameras store the orientation apart from the pixels; apply it so photos stand upright.
            upright = ImageOps.exif_transpose(image).convert("RGB")
            return np.asarray(upright.resize((width, height), Image.Resampling.BILINEAR))
    except DataFileError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataFileError(
            f"{file} is not a readable image: it is larger than the {Image.MAX_IMAGE_PIXELS} pixels xpnet "
            f"reads (a decompression bomb?): {exc}"
        ) from exc
    except Exception as exc:  # OSError, SyntaxError, EOFError, struct.error, ... from a damaged file
        raise DataFileError(
            f"{file} is not a readable image ({exc}): remove it or replace it with a working copy"
        ) from exc


# -- MNIST's IDX files --------------------------------------------------------------

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
    """The file in ``folder`` by one of ``name``'s spellings (raw before gzipped, as torchvision leaves both)."""
    return next((folder / n for n in _idx_spellings(name) if (folder / n).is_file()), None)


def _is_idx_folder(folder: Path) -> bool:
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
            _read_exactly(f, idx.offset)
            done = 0
            while done < n:
                got = f.readinto(view[done:done + NPZ_CHUNK_BYTES])
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
    dt = _float_dtype(dtype)
    if max_bytes is None:
        max_bytes = MAX_IDX_BYTES
    max_bytes = check_int(max_bytes, "max_bytes", numpy=True, must="a positive whole number of bytes")
    folder = Path(path)
    if not folder.is_dir():
        raise DataFileError(f"{folder} is not a folder: point it at the folder holding MNIST's four IDX files")
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

    arrays = {}
    for split, (images, labels) in headers.items():
        X = flatten_images(_idx_data(images, "images"), dtype=dt.name)
        arrays[split] = X, _idx_data(labels, "labels").astype(np.int64).reshape(1, -1)
    (X_train, Y_train), (X_test, Y_test) = arrays["train"], arrays["test"]
    K = int(max(Y_train.max(), Y_test.max())) + 1
    return Dataset(X_train, Y_train, X_test, Y_test, tuple(str(k) for k in range(K)), folder.resolve().name)


# -- the --data spec ----------------------------------------------------------------

#: Generated sets by name: (the draw, its class names). Train and test are independent draws.
GENERATED = {
    "spiral": (spiral, ("0", "1", "2")),
    "moons": (moons, ("upper", "lower")),
    "blobs": (blobs, ("0", "1", "2")),
}

DATA_SPECS = (
    "a generated set (flower, spiral, moons, blobs); a .npz file holding X_train, Y_train, X_test, "
    f"Y_test (or X and Y); a folder holding {' and '.join(CATVNONCAT_FILES)}; a folder holding "
    f"MNIST's IDX files ({', '.join(name for pair in IDX_FILES.values() for name in pair)}, raw or .gz); "
    "or a folder with one subfolder of images per class"
)


def load_dataset(
    spec: str | os.PathLike, *, seed: int = 1, test_fraction: float = 0.2, image_size=(64, 64),
    dtype: str = "float32",
) -> Dataset:
    """The data set a ``--data SPEC`` names, X in ``dtype`` ("float32" or "float64").

    - ``flower``, ``spiral``, ``moons``, ``blobs``: generated, trained on the
      draw ``seed`` and tested on the draw ``seed + 1000``, as the flower set is.
      The points are drawn in float64 and handed over in ``dtype``.
      The names win over a folder of the same name; write ``./spiral`` for that.
    - a path ending in ``.npz``: :func:`load_npz` (``test_fraction``, ``seed``).
    - a folder holding the course's cat h5 files: :func:`load_catvnoncat`.
    - a folder holding MNIST's IDX files: :func:`load_idx`.
    - a folder of class subfolders of images: :func:`load_image_folder`
      (``image_size`` = (height, width), ``test_fraction``, ``seed``).

    Whichever it is, X (n_x, m) comes back in ``dtype`` with each example
    contiguous (Fortran order). ``Dataset.name`` says which: the set's name,
    ``catvnoncat``, or the file's or folder's name.
    """
    dt = _float_dtype(dtype)
    _check_test_fraction(test_fraction)
    if isinstance(spec, str) and spec == "flower":
        return flower_dataset(seed=seed, dtype=dtype)
    if isinstance(spec, str) and spec in GENERATED:
        draw, classes = GENERATED[spec]
        X_train, Y_train = draw(seed=seed)
        X_test, Y_test = draw(seed=seed + 1000)
        return Dataset(_as_columns(X_train, dt), Y_train, _as_columns(X_test, dt), Y_test, classes, spec)
    try:
        path = Path(spec)
    except TypeError as exc:
        raise DataFileError(f"--data must be a name or a path, got {spec!r}; it takes {DATA_SPECS}") from exc
    if path.suffix.lower() == ".npz":
        return load_npz(path, test_fraction=test_fraction, seed=seed, dtype=dtype)
    if path.is_dir():
        if any((path / f).is_file() for f in CATVNONCAT_FILES):
            return load_catvnoncat(path, dtype=dtype)  # which says what is missing if only one file is there
        if _is_idx_folder(path):
            return load_idx(path, dtype=dtype)  # which says what is missing if not all four are there
        if _visible_subfolders(path):
            return load_image_folder(path, size=image_size, test_fraction=test_fraction, seed=seed, dtype=dtype)
        raise DataFileError(
            f"{path} holds no cat h5 files, no IDX files and no class subfolders; --data takes {DATA_SPECS}"
        )
    if not path.exists():
        raise DataFileError(f"{spec} is no known data set name and no existing path; --data takes {DATA_SPECS}")
    raise DataFileError(f"{path} is a file xpnet does not read; --data takes {DATA_SPECS}")
