"""Data sets, on the host, in the course's layout: X (n_x, m), Y (1, m).

Loaders return NumPy arrays; the model moves them to the chosen backend once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataFileError

#: Environment variable naming the folder that holds the course's h5 files.
DATA_ENV = "XPNET_DATA"

CATVNONCAT_FILES = ("train_catvnoncat.h5", "test_catvnoncat.h5")


@dataclass(frozen=True)
class Dataset:
    """A train/test split: X_* (n_x, m) float64, Y_* (1, m) int64, class names."""

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


def flower_dataset(m: int = 400, *, seed: int = 1) -> Dataset:
    """The flower set to train on (the course's draw, ``seed``) and a fresh draw to test on."""
    X_train, Y_train = planar_flower(m, seed=seed)
    X_test, Y_test = planar_flower(m, seed=seed + 1000)
    return Dataset(X_train, Y_train, X_test, Y_test, ("red", "blue"), "flower")


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


def flatten_images(images: np.ndarray) -> np.ndarray:
    """Images (m, height, width, channels) of uint8 as X (height·width·channels, m) in [0, 1]."""
    m = images.shape[0]
    return images.reshape(m, -1).T / 255.0


def load_catvnoncat(path: str | os.PathLike | None = None) -> Dataset:
    """The course's cat vs non-cat images, prepared as the course does.

    X_train (12288, 209), X_test (12288, 50): flattened 64×64×3 images / 255.
    Y (1, m): 1 = cat, 0 = non-cat.
    """
    try:
        import h5py
    except ImportError as exc:
        raise DataFileError(
            "reading the cat data needs h5py: pip install 'xpnet[h5]'"
        ) from exc
    folder = find_catvnoncat(path)
    arrays = {}
    for split, filename in zip(("train", "test"), CATVNONCAT_FILES):
        try:
            with h5py.File(folder / filename, "r") as f:
                arrays[split] = (np.asarray(f[f"{split}_set_x"]), np.asarray(f[f"{split}_set_y"]))
                classes = tuple(c.decode() for c in np.asarray(f["list_classes"]))
        except (OSError, KeyError) as exc:
            raise DataFileError(f"{folder / filename} is not a readable cat data file: {exc}") from exc
    (x_train, y_train), (x_test, y_test) = arrays["train"], arrays["test"]
    return Dataset(
        flatten_images(x_train),
        y_train.reshape(1, -1).astype(np.int64),
        flatten_images(x_test),
        y_test.reshape(1, -1).astype(np.int64),
        classes,
        "catvnoncat",
    )
