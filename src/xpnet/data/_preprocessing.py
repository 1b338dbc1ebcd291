"""Preparing arrays: images flattened to columns, a seeded train/test split,
per-feature standardization, class ids one-hot encoded."""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import _backend, _validation
from .._checks import check_int, is_real
from ..errors import ConfigError, DataError, NotFittedError, ShapeError
from ._dataset import Dataset, float_dtype


def flatten_images(images: np.ndarray, *, dtype: str = "float32") -> np.ndarray:
    """Images (m, height, width, channels) of uint8 as X (height·width·channels, m) in [0, 1].

    X is in ``dtype``, each example contiguous (Fortran order). The pixels are
    divided by 255 straight into ``dtype``, with no float64 copy on the way: a
    float32 x/255 is correctly rounded, so it equals the float64 x/255.0
    rounded to float32.
    """
    dt = float_dtype(dtype)
    images = np.asarray(images)
    m = images.shape[0]
    pixels = images.reshape(m, -1).T  # a view where images is C-contiguous: each image one column
    X = np.empty(pixels.shape, dtype=dt, order="F")
    np.divide(pixels, dt.type(255), out=X, dtype=dt)
    return X


def check_test_fraction(test_fraction) -> None:
    if not (is_real(test_fraction, numpy=True) and 0 < test_fraction < 1):
        raise ConfigError(
            f"test_fraction must be a number strictly between 0 and 1 (e.g. 0.2 holds out a fifth "
            f"of the examples), got {test_fraction!r}"
        )


def held_out(m: int, test_fraction: float) -> int:
    """How many of m examples to hold out: at least one, and at least one left to train on."""
    return min(max(round(m * test_fraction), 1), m - 1)


def train_test_split(X, Y, *, test_fraction: float = 0.2, seed: int = 0):
    """Split the columns (examples) of X (n_x, m) and Y (n_y, m) or (m,) at random.

    A seeded permutation of the m columns: the first round(m·test_fraction)
    (at least 1, at most m − 1) go to the test set. Returns
    (X_train, Y_train, X_test, Y_test), each keeping its input's number of rows.
    """
    check_test_fraction(test_fraction)
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
    n_test = held_out(m, test_fraction)
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

    K defaults to max(ids) + 1. Whole-number floats are accepted as ids. The
    ids are checked here, with messages about ids; the encoding is the one
    ``fit`` uses (:func:`xpnet._validation.one_hot`), on NumPy.
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
    xp = _backend.namespace_by_name("numpy")
    return _validation.one_hot(xp.reshape(ids, (1, -1)), K, xp=xp, dtype=xp.float64)
