"""Preparing arrays: images flattened to columns, a seeded train/test split,
per-feature standardization, class ids one-hot encoded."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .. import _backend, _validation
from .._checks import check_int, check_memory, check_seed, count, is_real
from ..errors import ConfigError, DataError, NotFittedError, ShapeError
from ._dataset import Dataset, float_dtype
from ._inputs import host_array, memory_error


def flatten_images(images: np.ndarray, *, dtype: str = "float32") -> np.ndarray:
    """Images (m, height, width, channels) of uint8 as X (height·width·channels, m) in [0, 1].

    X is in ``dtype``, each example contiguous (Fortran order). The pixels are
    divided by 255 straight into ``dtype``, with no float64 copy on the way: a
    float32 x/255 is correctly rounded, so it equals the float64 x/255.0
    rounded to float32. Pixels of another type (bool, integers, floats) must
    lie in 0..255; anything else is refused rather than scaled out of [0, 1].
    """
    dt = float_dtype(dtype)
    images = host_array(images, "images")
    if images.ndim < 2:
        raise ShapeError(
            f"images has shape {images.shape}; it must be (m, height, width, channels), one image per "
            "first index"
        )
    if images.dtype.kind not in "biuf":
        raise DataError(f"images has dtype {images.dtype}; flatten_images takes pixel values 0..255 (uint8)")
    if images.dtype != np.uint8 and images.size:
        low, high = images.min(), images.max()
        if not (0 <= low and high <= 255):  # NaN fails both
            bad = ~((images >= 0) & (images <= 255))
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise DataError(
                f"images holds {images[index].item()!r} at {index}; pixel values lie in 0..255: "
                "scale the images to 0..255 (or pass uint8) before flattening"
            )
    m, n = images.shape[0], math.prod(images.shape[1:])
    check_memory(m * n * dt.itemsize, f"flattening images of shape {images.shape} into X ({n}, {m}) {dt}",
                 "flatten fewer images at a time, or use dtype='float32'", error=DataError)
    pixels = images.reshape(m, n).T  # a view where images is C-contiguous: each image one column
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
    check_seed(seed)
    X, Y = host_array(X, "X"), host_array(Y, "Y")
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

    NaN and ±inf are refused (a DataError naming where). Finite values of any
    size give finite results: each row is scaled by a power of two to about 1
    before its sums and squares are taken (1e308 would overflow them), and
    transform scales the same way. A power of two scales exactly, so for
    ordinary data the results are, bit for bit, those of the plain formula;
    a value so far from the training data that its standardized value
    overflows the dtype is refused.
    """

    #: A std this small relative to |mean| is the rounding error of a constant
    #: feature (np.std of 1000 copies of 0.1 is 1.4e-17, not 0), not a spread.
    CONSTANT_RTOL = 1e3 * np.finfo(np.float64).eps

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    @staticmethod
    def _matrix(X) -> np.ndarray:
        X = host_array(X, "X")
        if X.ndim != 2:
            raise ShapeError(
                f"X has shape {X.shape}; it must be (n_x, m), one example per column "
                "(for a single feature pass X.reshape(1, -1))"
            )
        if X.dtype.kind not in "biuf":
            raise DataError(f"X has dtype {X.dtype}; standardizing needs real numbers")
        X = X if X.dtype == np.float32 else X.astype(np.float64, copy=False)
        if X.size and not (np.isfinite(X.min()) and np.isfinite(X.max())):  # NaN makes both NaN
            index = tuple(int(i) for i in np.argwhere(~np.isfinite(X))[0])
            raise DataError(
                f"X holds {X[index].item()!r} at row (feature) {index[0]}, column {index[1]}: standardizing "
                "needs finite numbers; remove or impute NaN and inf first"
            )
        return X

    @staticmethod
    def _scale(magnitude: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """Per row, the power of two 2**-e that brings ``magnitude`` (≥ 0, finite) into [0.5, 1).

        Clipped to powers of two that ``dtype`` holds; 1 for a magnitude of 0.
        """
        info = np.finfo(dtype)
        _, e = np.frexp(magnitude)
        lowest = info.minexp - info.nmant  # the smallest subnormal's exponent
        return np.ldexp(1.0, np.clip(-e, lowest, info.maxexp - 1))

    def fit(self, X) -> Standardizer:
        """Learn mean and std (n_x, 1) of each row of X (n_x, m). Returns self."""
        X = self._matrix(X)
        if X.shape[1] == 0:
            raise DataError("X has no examples (m = 0): there is nothing to take a mean over")
        magnitude = np.maximum(X.max(axis=1, keepdims=True), -X.min(axis=1, keepdims=True)).astype(np.float64)
        s = self._scale(magnitude, np.dtype(np.float64))
        try:
            # In float64, each row about 1 at most: np.mean and np.std's sums and squares, in one
            # array made once (centred and squared in place), bit for bit np.std on unscaled data.
            scaled = np.multiply(X, s, dtype=np.float64)
            mean = scaled.mean(axis=1, keepdims=True)
            scaled -= mean
            np.multiply(scaled, scaled, out=scaled)
            std = np.sqrt(scaled.sum(axis=1, keepdims=True) / X.shape[1])
        except MemoryError as exc:
            raise memory_error(X.shape[0] * X.shape[1] * 8, f"standardizing X of shape {X.shape}",
                               "fit on fewer examples", error=DataError) from exc
        del scaled
        constant = std <= self.CONSTANT_RTOL * np.abs(mean)
        self.mean, self.std = mean / s, np.where(constant, 1.0, std / s)
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
        # (X·s − mean·s) / (std·s), s a power of two per row: (X − mean) / std exactly, without
        # overflowing X − mean where X and mean are both near the dtype's largest number.
        s = self._scale(np.maximum(np.abs(self.mean), self.std), X.dtype)
        try:
            # Overflow is refused below, with a message; np.errstate holds for this thread only.
            with np.errstate(over="ignore", invalid="ignore"):
                out = self._standardized(X, s)
        except MemoryError as exc:
            raise memory_error(X.size * X.itemsize, f"standardizing X of shape {X.shape}",
                               "transform fewer examples at a time", error=DataError) from exc
        if out.size and not (np.isfinite(out.min()) and np.isfinite(out.max())):
            index = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
            row = index[0]
            raise DataError(
                f"X holds {X[index].item()!r} at row (feature) {row}, column {index[1]}, so far from the "
                f"training data (mean {self.mean[row, 0]:.6g}, std {self.std[row, 0]:.6g}) that standardized "
                f"it overflows {X.dtype}: check that value, or standardize float64 X"
            )
        return out

    def _standardized(self, X: np.ndarray, s: np.ndarray) -> np.ndarray:
        out = np.multiply(X, s.astype(X.dtype))  # a new array in X's layout
        out -= (self.mean * s).astype(X.dtype)
        out /= (self.std * s).astype(X.dtype)
        return out

    def fit_transform(self, X) -> np.ndarray:
        """Fit on X (n_x, m) and return it standardized."""
        return self.fit(X).transform(X)


def standardize(data: Dataset) -> Dataset:
    """``data`` with X_train and X_test standardized by a :class:`Standardizer` fit on X_train."""
    if not isinstance(data, Dataset):
        raise ConfigError(
            f"standardize takes a Dataset (what xpnet.data's loaders return), got {type(data).__name__}: "
            "for arrays use Standardizer().fit(X_train) and its transform"
        )
    scaler = Standardizer().fit(data.X_train)
    return dataclasses.replace(
        data, X_train=scaler.transform(data.X_train), X_test=scaler.transform(data.X_test)
    )


def one_hot(ids, K: int | None = None) -> np.ndarray:
    """Class ids (m,) or (1, m) in [0, K) as one-hot columns (K, m) float64.

    K defaults to max(ids) + 1. Whole-number floats are accepted as ids. The
    ids are checked here, with messages about ids, before anything is
    converted (a float 1e300 or a uint64 2**64 − 1 would wrap to a negative
    int64) or allocated (K × m float64 beyond this machine's memory is
    refused, naming the bytes); the encoding is the one ``fit`` uses
    (:func:`xpnet._validation.one_hot`), on NumPy.
    """
    ids = host_array(ids, "ids")
    if ids.ndim == 2 and ids.shape[0] == 1:
        ids = ids[0]
    if ids.ndim != 1:
        raise ShapeError(f"ids has shape {ids.shape}; pass class ids as (m,) or (1, m)")
    if ids.dtype.kind not in "biuf":
        raise DataError(f"ids must be whole-number class ids 0..K-1, got dtype {ids.dtype} with values like {ids[:5]}")
    if ids.dtype.kind == "f":
        ids = ids.astype(np.float64, copy=False)  # float16 cannot hold K: comparing with it would overflow
        fractional = ~np.isfinite(ids) | (ids != np.round(ids))
        if fractional.any():
            column = int(np.flatnonzero(fractional)[0])
            raise DataError(
                f"ids must be whole-number class ids 0..K-1; ids holds {ids[column].item()!r} at column {column}: "
                "relabel the classes 0..K-1"
            )
    m = ids.size
    if K is None:
        if m == 0:
            raise DataError("cannot tell the number of classes from no ids: pass K")
        top = int(np.argmax(ids))
        K = max(int(ids[top]) + 1, 1)
        what, fix = f"ids holds class id {ids[top].item()!r} at column {top}, so", "relabel the classes 0..K-1"
        error = DataError
    else:
        K = check_int(K, "K", numpy=True, must="a positive integer (the number of classes)")
        what, fix, error = f"K = {K}:", "pass the number of classes the ids use", ConfigError
    # The (K, m) float64 array, and what making it takes: arange(K) and a (K, m) comparison.
    check_memory(K * m * 9 + K * 8,
                 f"{what} the one-hot array of {count(K)} classes × {m:,} examples in float64 "
                 f"({count(K * m * 8)} bytes) and its making", fix, error=error)
    outside = (ids < 0) | (ids >= K)
    if outside.any():
        column = int(np.flatnonzero(outside)[0])
        raise DataError(
            f"class ids must lie in [0, {K}); {int(outside.sum())} do not, e.g. {ids[column].item()!r} at "
            f"column {column}: relabel the classes 0..K-1, or pass the right K"
        )
    ids = ids.astype(np.int64)  # exact: whole numbers in [0, K), K within memory
    xp = _backend.namespace_by_name("numpy")
    try:
        return _validation.one_hot(xp.reshape(ids, (1, -1)), K, xp=xp, dtype=xp.float64)
    except MemoryError as exc:
        raise memory_error(K * m * 9 + K * 8, f"one_hot of {K:,} classes × {m:,} examples", fix, error=error) from exc
