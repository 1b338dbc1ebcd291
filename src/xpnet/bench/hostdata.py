"""A workload's data and initial weights on the host, and their way to a device.

Every implementation compared starts from the same arrays: the data of
:func:`host_data` and xpnet's initial weights (:func:`initial_params`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .. import initializers
from .._backend import Target
from ..errors import ConfigError, XpnetError
from .available import Unavailable, optional
from .workload import Workload


@dataclass
class HostData:
    """A workload's data on the host: X (n_x, m) float64 (float32 for "pixels", a third of
    a GiB fewer at m = 60,000), class ids (m,), Y as xpnet takes it."""

    X: np.ndarray
    labels: np.ndarray
    Y: np.ndarray
    source: str


def _cat_images(cat_dir: str | os.PathLike | None):
    """(X, labels, source) of the course's cat training images in ``cat_dir``, else in
    $XPNET_DATA; (None, None, why not) where they cannot be read."""
    from ..data import find_catvnoncat, load_catvnoncat

    try:
        folder = find_catvnoncat(cat_dir)
        data = load_catvnoncat(folder, dtype="float64")  # HostData is float64
    except XpnetError as exc:
        return None, None, f"random (the course's cat images: {exc})"
    return data.X_train, data.Y_train[0], f"the course's cat images ({folder})"


def host_data(w: Workload, seed: int = 0, cat_dir: str | os.PathLike | None = None) -> HostData:
    """The data of workload ``w``: real where asked for and found, else random of its shape.

    The cat images come from ``cat_dir``, else from the folder $XPNET_DATA names;
    where neither holds them, ``source`` says so and the data are random.
    """
    n_x, K = w.layers[0], w.layers[-1]
    n_classes = 2 if w.output == "sigmoid" else K
    X = labels = None
    source = "random"
    if w.data == "cat":
        X, labels, source = _cat_images(cat_dir)
    elif w.data == "digits":
        try:
            datasets = optional("sklearn.datasets")
            digits = datasets.load_digits()
            from ..data import Standardizer

            X = Standardizer().fit_transform(digits.data.T)
            labels, source = digits.target.astype(np.int64), "scikit-learn's digits, standardized"
        except Unavailable as exc:
            source = f"random ({exc})"
    if X is not None and (X.shape != (n_x, w.m) or labels.max() >= n_classes):
        raise ConfigError(f"{w.name}: its {w.data} data has X {X.shape}, the workload wants "
                          f"({n_x}, {w.m}) and {n_classes} classes")
    if w.data == "pixels":
        rng = np.random.default_rng(seed)
        X = rng.random((n_x, w.m), dtype=np.float32)
        labels = rng.integers(0, n_classes, size=w.m, dtype=np.int64)
        source = "random pixels in [0, 1) and random labels (seeded)"
    if X is None:
        rng = np.random.RandomState(seed)
        X = rng.rand(n_x, w.m) if w.data == "cat" else rng.randn(n_x, w.m)
        labels = rng.randint(0, n_classes, size=w.m).astype(np.int64)
    if w.output == "sigmoid":
        Y = labels.reshape(1, -1).astype(np.float64)
    else:
        Y = np.zeros((K, w.m))
        Y[labels, np.arange(w.m)] = 1.0
    return HostData(X, labels, Y, source)


def initial_params(w: Workload, dtype: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """xpnet's initial weights for ``w`` (xavier, seed 1) on the host; every peer starts from them."""
    return initializers.initialize(w.layers, "xavier", seed=1, dtype=dtype)


def sweep_initial_params(w: Workload, dtype: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The initial weights of a sweep's K networks on the host, stacked as ``xpnet.Sweep``
    stacks them: [(W[l] (K, n[l], n[l-1]), b[l] (K, n[l], 1)), ...], network k drawn as
    xpnet draws a network with seed ``w.seeds[k]`` (xavier); every peer starts from them."""
    drawn = [initializers.initialize(w.layers, "xavier", seed=seed, dtype=dtype)
             for seed in w.seeds]
    return [(np.stack([p[l][0] for p in drawn]), np.stack([p[l][1] for p in drawn]))
            for l in range(len(w.layers) - 1)]


def to_target(a: np.ndarray, target: Target, dtype: str):
    """A host array on ``target`` in ``dtype``, C order."""
    return target.put(np.ascontiguousarray(a, dtype=dtype))


def x_in_layout(X: np.ndarray, target: Target, dtype: str, layout: str):
    """X (n_x, m) on ``target``: row-major for "C", column-major (each example contiguous)
    for "F" where the backend has strides; a backend without them takes it as it takes it."""
    if layout == "C":
        return to_target(X, target, dtype)
    rows = target.put(np.ascontiguousarray(X.T, dtype=dtype))  # (m, n_x), C order
    return target.xp.matrix_transpose(rows)  # a view where the backend has them
