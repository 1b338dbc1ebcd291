"""Generated sets: the course's planar flower, spiral arms, two moons, Gaussian blobs.

Each draw is seeded and returns X (2, m) float64 and Y (1, m) int64. As
``--data`` names (``flower`` and :data:`GENERATED`) a set trains on the draw
``seed`` and tests on the draw ``seed + 1000`` (:data:`TEST_SEED_OFFSET`).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from .._checks import check_finite, check_int, check_memory, check_seed
from ..errors import ConfigError
from . import _limits
from ._dataset import Dataset, as_columns, float_dtype
from ._inputs import memory_error

#: A named set trains on the draw ``seed`` and tests on the draw ``seed + TEST_SEED_OFFSET``.
TEST_SEED_OFFSET = 1000


def planar_flower(m: int = 400, *, seed: int = 1, noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """The course's planar "flower": two classes of m/2 points each in 2-D (the first takes
    the odd one where m is odd).

    For class j the angle t runs evenly over [3.12·j, 3.12·(j+1)] plus
    Gaussian noise, the radius is r = 4·sin(4t) plus Gaussian noise, and the
    point is (r·sin t, r·cos t). Returns X (2, m) float64 and Y (1, m) int64.
    """
    m, noise = _check_generated(m, 2, seed, "noise", noise)
    sizes = _class_sizes(m, 2)
    with _allocating(m):
        rng = np.random.RandomState(seed)
        X = np.zeros((2, m))
        start = 0
        for j, n in enumerate(sizes):
            ix = slice(start, start + n)
            t = np.linspace(3.12 * j, 3.12 * (j + 1), n) + rng.randn(n) * noise
            r = 4.0 * np.sin(4.0 * t) + rng.randn(n) * noise
            X[0, ix] = r * np.sin(t)
            X[1, ix] = r * np.cos(t)
            start += n
        return _finite(X, _labels(sizes), "noise", noise)


def flower_dataset(m: int = 400, *, seed: int = 1, dtype: str = "float32") -> Dataset:
    """The flower set to train on (the course's draw, ``seed``) and a fresh draw to test on (``seed + 1000``).

    The points are drawn in float64, as :func:`planar_flower` returns them, and
    handed over as X (2, m) in ``dtype``, each example contiguous.
    """
    dt = float_dtype(dtype)
    check_seed(seed, offset=TEST_SEED_OFFSET)
    X_train, Y_train = planar_flower(m, seed=seed)
    X_test, Y_test = planar_flower(m, seed=seed + TEST_SEED_OFFSET)
    return Dataset(as_columns(X_train, dt), Y_train, as_columns(X_test, dt), Y_test, ("red", "blue"), "flower")


#: Bytes per example a draw holds at once: X's two float64 coordinates, Y's int64,
#: and the draw's temporaries (noise, angles, radii) of about as much again.
_BYTES_PER_EXAMPLE = 48


def _check_generated(m, classes: int, seed, name: str, value) -> tuple[int, float]:
    """Refuse settings no draw can honour: m an integer ≥ classes (each class at least one example)
    and within memory, a seed RandomState takes, ``name`` (noise, spread) finite and ≥ 0.

    Returns m as an int and ``value`` as a float.
    """
    classes = check_int(classes, "classes", low=2, numpy=True, must="an integer >= 2 (the number of classes)")
    if classes > _limits.MAX_CLASSES:
        raise ConfigError(
            f"classes must be at most xpnet.data.MAX_CLASSES ({_limits.MAX_CLASSES:,}), got {classes!r}: "
            "ask for fewer classes"
        )
    m = check_int(m, "m", low=classes, numpy=True,
                  must=f"an integer >= the number of classes ({classes}), so each class gets an example")
    check_memory(m * _BYTES_PER_EXAMPLE, f"m = {m:,} examples", "ask for fewer examples")
    check_seed(seed)
    return m, check_finite(value, name, at_least=0)


def _finite(X: np.ndarray, Y: np.ndarray, name: str, value: float) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y), if every point is finite: a noise or spread near float64's largest (1e308) overflows."""
    if not np.isfinite(X).all():
        raise ConfigError(
            f"{name} = {value!r} is so large that points overflow float64 (inf): choose a smaller {name} "
            "(the points lie within a few units of the origin, so 10 is already a lot)"
        )
    return X, Y


@contextlib.contextmanager
def _allocating(m: int):
    """A MemoryError while drawing (m fitted the machine's memory, not what was free) as a ConfigError.

    NumPy's overflow warnings are off inside (np.errstate, which holds for this thread
    only): a draw that overflows is refused by :func:`_finite`, with a message that says why.
    """
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            yield
    except MemoryError as exc:
        raise memory_error(m * _BYTES_PER_EXAMPLE, f"m = {m:,} examples", "ask for fewer examples") from exc


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
    m, noise = _check_generated(m, classes, seed, "noise", noise)
    sizes = _class_sizes(m, int(classes))
    with _allocating(m):
        rng = np.random.RandomState(seed)
        X = np.empty((2, m))
        start = 0
        for k, n in enumerate(sizes):
            r = np.linspace(0.0, 1.0, n)
            t = np.linspace(4.0 * k, 4.0 * (k + 1), n) + rng.randn(n) * noise
            X[0, start:start + n] = r * np.sin(t)
            X[1, start:start + n] = r * np.cos(t)
            start += n
        return _finite(X, _labels(sizes), "noise", noise)


def moons(m: int = 400, *, seed: int = 0, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles of radius 1, m points in all.

    Class 0 is the upper half circle around (0, 0), class 1 the lower one around
    (1, 0.5), each point moved by Gaussian noise of standard deviation ``noise``
    in both coordinates. Returns X (2, m) float64 and Y (1, m) int64.
    """
    m, noise = _check_generated(m, 2, seed, "noise", noise)
    n_upper, n_lower = _class_sizes(m, 2)
    with _allocating(m):
        rng = np.random.RandomState(seed)
        t_upper = np.linspace(0.0, np.pi, n_upper)
        t_lower = np.linspace(0.0, np.pi, n_lower)
        X = np.concatenate(
            [np.stack([np.cos(t_upper), np.sin(t_upper)]),
             np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)])],
            axis=1,
        )
        X += rng.randn(2, m) * noise
        return _finite(X, _labels([n_upper, n_lower]), "noise", noise)


def blob_centers(classes: int = 3) -> np.ndarray:
    """The centers :func:`blobs` draws around, (2, classes): evenly on a circle, neighbours 6 apart.

    Six apart is six standard deviations at the default spread of 1, so the
    blobs barely touch and any sensible classifier separates them.
    """
    classes = check_int(classes, "classes", low=2, numpy=True, must="an integer >= 2 (the number of classes)")
    if classes > _limits.MAX_CLASSES:
        raise ConfigError(
            f"classes must be at most xpnet.data.MAX_CLASSES ({_limits.MAX_CLASSES:,}), got {classes!r}: "
            "ask for fewer classes"
        )
    radius = 3.0 / math.sin(math.pi / classes)
    angles = 2.0 * np.pi * np.arange(classes) / classes
    return radius * np.stack([np.cos(angles), np.sin(angles)])


def blobs(m: int = 300, *, classes: int = 3, seed: int = 0, spread: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs of standard deviation ``spread`` around :func:`blob_centers`, m points in all.

    Classes are in order, as balanced as m allows. Returns X (2, m) float64 and
    Y (1, m) int64.
    """
    m, spread = _check_generated(m, classes, seed, "spread", spread)
    sizes = _class_sizes(m, int(classes))
    with _allocating(m):
        rng = np.random.RandomState(seed)
        Y = _labels(sizes)
        X = blob_centers(classes)[:, Y[0]] + rng.randn(2, m) * spread
        return _finite(X, Y, "spread", spread)


#: Generated sets by name: (the draw, its class names). Train and test are independent draws.
GENERATED = {
    "spiral": (spiral, ("0", "1", "2")),
    "moons": (moons, ("upper", "lower")),
    "blobs": (blobs, ("0", "1", "2")),
}
