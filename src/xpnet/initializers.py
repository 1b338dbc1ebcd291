"""Initial weights, drawn on the host.

The array API standard has no random numbers, so every draw comes from
``numpy.random.RandomState(seed).randn``, layer by layer in order (W[1], W[2],
..., each (n[l], n[l-1])), and only then moves to the device. The same seed
therefore gives the same starting weights on every backend, and the course's
published runs (``np.random.seed(1)`` then ``randn`` per layer) are reproduced
draw for draw. Biases start at zero.

| name     | W[l]                                   |
|----------|----------------------------------------|
| zeros    | 0 (no draw; fine for logistic regression, not for hidden layers) |
| normal   | randn · init_scale (default 0.01)      |
| xavier   | randn / √n[l−1]  (the course's L-layer initialization) |
| he       | randn · √(2 / n[l−1])                  |
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .errors import ConfigError

NAMES = ("zeros", "normal", "xavier", "he")


def _draw(rng: np.random.RandomState, n: int, n_prev: int, method: str, init_scale: float) -> np.ndarray:
    # Written as the course writes each one: W / √n is not bit-equal to W · (1/√n).
    if method == "zeros":
        return np.zeros((n, n_prev))
    W = rng.randn(n, n_prev)
    if method == "normal":
        return W * init_scale
    if method == "xavier":
        return W / np.sqrt(n_prev)
    return W * np.sqrt(2.0 / n_prev)  # he


def initialize(
    layer_dims: Sequence[int],
    method: str = "xavier",
    *,
    seed: int | None = None,
    init_scale: float = 0.01,
    dtype: str = "float64",
) -> list[tuple[np.ndarray, np.ndarray]]:
    """NumPy parameters [(W[1], b[1]), ..., (W[L], b[L])] for ``layer_dims`` = [n[0], ..., n[L]].

    W[l] is (n[l], n[l-1]) and b[l] is (n[l], 1), both of ``dtype``. The draws
    are made in float64 and then cast, so float32 weights are the rounded
    float64 ones.
    """
    if method not in NAMES:
        raise ConfigError(f"unknown init {method!r}: choose one of {', '.join(NAMES)}")
    rng = np.random.RandomState(seed)
    params = []
    for n_prev, n in zip(layer_dims[:-1], layer_dims[1:]):
        W = _draw(rng, n, n_prev, method, init_scale)
        params.append((W.astype(dtype), np.zeros((n, 1), dtype=dtype)))
    return params
