"""What every loader hands back: a :class:`Dataset`, X in the model's dtype, examples contiguous."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, DataError

#: What the loaders' ``dtype=`` takes: the dtypes a model trains in.
DTYPES = ("float32", "float64")


def float_dtype(dtype) -> np.dtype:
    """``dtype`` ("float32" or "float64") as a NumPy dtype, or a ConfigError naming the choices."""
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ConfigError(
            f"dtype must be one of {', '.join(repr(d) for d in DTYPES)} (the dtype the model trains in), "
            f"got {dtype!r}"
        )
    return np.dtype(dtype)


def as_columns(X: np.ndarray, dtype: np.dtype) -> np.ndarray:
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

    def __post_init__(self) -> None:
        """Class names, where given, name every class id Y holds: one name per id 0..K-1."""
        if not isinstance(self.classes, tuple) or not all(isinstance(c, str) for c in self.classes):
            raise ConfigError(f"classes must be a tuple of class names (str), got {self.classes!r}")
        if not self.classes:
            return
        for key in ("Y_train", "Y_test"):
            Y = getattr(self, key)
            if isinstance(Y, np.ndarray) and Y.dtype.kind in "iu" and Y.ndim == 2 and Y.shape[0] == 1 and Y.size:
                top = Y.max()
                if top >= len(self.classes):
                    raise DataError(
                        f"{key} holds class id {top} but classes names only {len(self.classes)} "
                        f"({', '.join(map(repr, self.classes[:5]))}{', ...' if len(self.classes) > 5 else ''}): "
                        f"give one name per class id 0..{top}"
                    )
