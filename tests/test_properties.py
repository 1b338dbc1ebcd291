"""Property tests (hypothesis) of the activations, the softmax and the costs.

The arrays are drawn by hypothesis's array-API strategies over array_api_strict,
the namespace that holds xpnet to the standard and nothing else; the activations
are also run on NumPy, PyTorch and JAX, whose elementwise kernels differ. Every
draw mixes the extremes (0, subnormals, ±1e4, ±3e38, the largest finite float)
into otherwise arbitrary finite floats. JAX (XLA on the CPU) flushes subnormals to
zero inside its kernels; where a value is compared exactly, subnormals count as 0 there.

What each property promises, and the tolerance it is held to, is said next to it;
tolerances are tied to the dtype's machine epsilon and to the size of the inputs,
never picked to make a failure go away.
"""

from __future__ import annotations

import importlib.util
import math

import array_api_strict
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.array_api import make_strategies_namespace

from xpnet import _backend, activations, losses

from conftest import asarray, to_numpy

xps = make_strategies_namespace(array_api_strict)
sx = array_api_strict

SETTINGS = settings(derandomize=True, deadline=None, max_examples=60,
                    suppress_health_check=[HealthCheck.too_slow])

DTYPES = {"float32": sx.float32, "float64": sx.float64}
EPS = {"float32": float(np.finfo(np.float32).eps), "float64": float(np.finfo(np.float64).eps)}
MAX = {"float32": float(np.finfo(np.float32).max), "float64": float(np.finfo(np.float64).max)}
TINY = {"float32": float(np.finfo(np.float32).smallest_subnormal),
        "float64": float(np.finfo(np.float64).smallest_subnormal)}


def extremes(dtype: str) -> list[float]:
    """0, the smallest subnormal, ±1e4, ±3e38, the largest finite float and values between,
    each rounded to ``dtype`` (hypothesis refuses elements the dtype cannot hold)."""
    values = [0.0, TINY[dtype], 1e-30, 0.5, 1.0, 20.0, 88.8, 1e4, 3e38, MAX[dtype]]
    to_dtype = np.dtype(dtype).type
    return [float(to_dtype(s * v)) for v in values for s in (1.0, -1.0)]


def finite(dtype: str, bound: float | None = None):
    """Finite floats of ``dtype`` (within ±bound), with the extremes drawn often."""
    width = 32 if dtype == "float32" else 64
    floats = st.floats(min_value=None if bound is None else -bound,
                       max_value=None if bound is None else bound,
                       allow_nan=False, allow_infinity=False, width=width)
    special = [v for v in extremes(dtype) if bound is None or abs(v) <= bound]
    return st.one_of(st.sampled_from(special), floats)


SHAPES = st.tuples(st.integers(1, 5), st.integers(1, 7))


def matrices(dtype: str, bound: float | None = None, shape=SHAPES):
    return xps.arrays(DTYPES[dtype], shape, elements=finite(dtype, bound))


def host(x) -> np.ndarray:
    return np.asarray(to_numpy(x), dtype=np.float64)


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


BACKENDS = [pytest.param(name, marks=() if installed(name) else pytest.mark.skip(reason=f"{name} is not installed"))
            for name in ("array_api_strict", "numpy", "torch", "jax")]


# -- activations ---------------------------------------------------------------------

# name: (range of g, range of g'), closed intervals; None where unbounded. leaky_relu's
# slope is 0.01 rounded to Z's dtype (0.0099999998 in float32).
PROMISES = {
    "sigmoid": ((0.0, 1.0), (0.0, 0.25)),
    "tanh": ((-1.0, 1.0), (0.0, 1.0)),
    "relu": ((0.0, None), (0.0, 1.0)),
    "leaky_relu": ((None, None), ("slope", 1.0)),
    "linear": ((None, None), (1.0, 1.0)),
}


def check_within(values: np.ndarray, bounds, what: str, dtype: str) -> None:
    low, high = (float(np.dtype(dtype).type(0.01)) if b == "slope" else b for b in bounds)
    if low is not None:
        assert values.min() >= low, f"{what} = {values.min()!r} < {low}"
    if high is not None:
        assert values.max() <= high, f"{what} = {values.max()!r} > {high}"


def flushes_subnormals(xp) -> bool:
    """XLA on the CPU flushes subnormal floats to zero in its kernels (JAX): relu(5e-324)
    is 0, 5e-324 > 0 is False, and 1.0 * 5e-324 is 0 (while linear's g = Z returns Z itself)."""
    return _backend.backend_name(xp) == "jax"


def flush(x: np.ndarray, dtype: str) -> np.ndarray:
    """``x`` with its subnormal entries made 0: what a backend that flushes them computes."""
    return np.where(np.abs(x) < np.finfo(dtype).tiny, 0.0, x)


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name", activations.NAMES)
@settings(SETTINGS, max_examples=60)
@given(data=st.data())
def test_activation_g_g_prime_and_backward_are_finite_and_keep_their_ranges(name, dtype, data):
    """For every finite Z: g(Z), g'(Z) and backward(dA, Z, A) = dA·g'(Z) are finite, of Z's
    shape and dtype; g and g' stay in the function's range (sigmoid in [0, 1] with
    g' in [0, 0.25], tanh in [−1, 1] with g' in [0, 1], relu ≥ 0 with g' in {0, 1},
    leaky_relu's g' in {slope, 1}, linear's g = Z and g' = 1); g is nondecreasing.
    On array_api_strict, over shapes (1..5, 1..7)."""
    check_activation(name, dtype, "array_api_strict", data, SHAPES)


@pytest.mark.parametrize("backend", BACKENDS[1:])
@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name", activations.NAMES)
@settings(SETTINGS, max_examples=20)
@given(data=st.data())
def test_activation_properties_hold_on_every_backend(name, dtype, backend, data):
    """The same properties with NumPy's, PyTorch's and JAX's kernels, on one shape (JAX
    compiles each operation per shape)."""
    check_activation(name, dtype, backend, data, st.just((3, 8)))


def check_activation(name, dtype, backend, data, shape):
    xp = _backend.namespace_by_name(backend)
    if backend == "jax":
        _backend.enable_jax_x64()  # the tests' process: float64 runs on JAX too
    act = activations.get(name)
    Z_strict = data.draw(matrices(dtype, shape=shape), label="Z")
    dA_strict = data.draw(xps.arrays(DTYPES[dtype], Z_strict.shape, elements=finite(dtype)), label="dA")
    Z = asarray(to_numpy(Z_strict), xp)
    dA = asarray(to_numpy(dA_strict), xp)
    # NumPy's kernels (and array_api_strict's): an overflow, a division by zero or an
    # invalid operation is a failure; underflow to 0 (e^−|Z|, slope·tiny) is correct.
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        A = act.g(Z, xp=xp)
        G = act.g_prime(Z, A, xp=xp)
        dZ = act.backward(dA, Z, A, xp=xp)
    z = host(Z)
    for what, x in (("g", A), ("g'", G), ("backward", dZ)):
        assert tuple(x.shape) == tuple(Z.shape), what
        assert x.dtype == Z.dtype, what
        assert np.isfinite(host(x)).all(), f"{name} {what} is not finite at Z = {z[~np.isfinite(host(x))]}"
    a, g = host(A), host(G)
    g_range, g_prime_range = PROMISES[name]
    check_within(a, g_range, f"{name}(Z)", dtype)
    check_within(g, g_prime_range, f"{name}'(Z)", dtype)
    # g is nondecreasing: sorted inputs give sorted outputs.
    order = np.argsort(z, axis=None, kind="stable")
    assert (np.diff(a.ravel()[order]) >= 0).all(), f"{name} decreases somewhere on {z.ravel()[order]}"
    # Exact values. Where the backend flushes subnormals to zero, it sees those inputs as
    # 0 and may return 0 for a subnormal result: compare with subnormals made 0 there.
    seen = (lambda x: flush(x, dtype)) if flushes_subnormals(xp) else (lambda x: x)
    z_seen = seen(z)
    # backward is dA·g' as one function: the same numbers.
    np.testing.assert_array_equal(seen(host(dZ)), seen(host(dA * G)))
    # Whether Z > 0 holds for a subnormal Z depends on the device where subnormals
    # flush (JAX on the CPU: False; JAX on a GPU, seen on an H200: True): either
    # answer is right there, so g' is compared on the other entries only.
    decided = ~((np.abs(z) < np.finfo(dtype).tiny) & (z != 0)) if flushes_subnormals(xp) \
        else np.ones(z.shape, dtype=bool)
    if name == "relu":
        assert set(np.unique(g)) <= {0.0, 1.0}
        np.testing.assert_array_equal(seen(a), np.maximum(z_seen, 0.0))
        np.testing.assert_array_equal(g[decided], np.where(z > 0, 1.0, 0.0)[decided])
    elif name == "leaky_relu":
        slope = float(np.dtype(dtype).type(0.01))
        np.testing.assert_array_equal(g[decided], np.where(z > 0, 1.0, slope)[decided])
        assert (np.sign(a) * np.sign(z) >= 0).all() and (np.abs(a) <= np.abs(z)).all()
    elif name == "linear":
        np.testing.assert_array_equal(a, z)
        np.testing.assert_array_equal(g, 1.0)


# -- softmax -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", list(DTYPES))
@SETTINGS
@given(data=st.data())
def test_softmax_columns_are_distributions(dtype, data):
    """For any finite Z, even with columns whose spread overflows the dtype: every A is
    in [0, 1] and every column sums to 1 within (n + 2)·eps."""
    Z = data.draw(matrices(dtype), label="Z")
    with np.errstate(over="ignore"):  # Z − max Z may overflow to −inf: e^−inf = 0 is right
        A = losses.softmax(Z, xp=sx)
    a = host(A)
    assert A.dtype == Z.dtype and A.shape == Z.shape
    assert np.isfinite(a).all() and (a >= 0).all() and (a <= 1).all()
    n = Z.shape[0]
    np.testing.assert_allclose(a.sum(axis=0), 1.0, rtol=0, atol=(n + 2) * EPS[dtype])


@pytest.mark.parametrize("dtype", list(DTYPES))
@SETTINGS
@given(data=st.data())
def test_softmax_is_shift_invariant(dtype, data):
    """softmax(Z + c) = softmax(Z) for a per-column shift c. Z + c rounds, which moves
    each entry by up to eps·(|Z| + |c|) and a probability by at most twice that, so
    the tolerance is 4·eps·(max|Z| + max|c|) plus the rounding of the softmax itself."""
    Z = data.draw(matrices(dtype, bound=1e4), label="Z")
    c = data.draw(xps.arrays(DTYPES[dtype], (1, Z.shape[1]), elements=finite(dtype, 1e4)), label="c")
    A, A_shifted = host(losses.softmax(Z, xp=sx)), host(losses.softmax(Z + c, xp=sx))
    eps = EPS[dtype]
    atol = 4 * eps * (np.abs(host(Z)).max() + np.abs(host(c)).max()) + (Z.shape[0] + 4) * eps
    np.testing.assert_allclose(A_shifted, A, rtol=0, atol=atol)


@pytest.mark.parametrize("dtype", list(DTYPES))
@SETTINGS
@given(data=st.data())
def test_softmax_is_exactly_shift_invariant_when_the_shift_is_exact(dtype, data):
    """On a grid where Z + c and Z − max Z are exact (multiples of 2⁻⁸ below 2¹²), the
    softmax only ever sees Z − max Z: shifting gives the same bits."""
    grid = st.integers(-(2**20), 2**20).map(lambda k: k / 256.0)
    Z = data.draw(xps.arrays(DTYPES[dtype], SHAPES, elements=grid), label="Z")
    c = data.draw(xps.arrays(DTYPES[dtype], (1, Z.shape[1]), elements=grid), label="c")
    np.testing.assert_array_equal(host(losses.softmax(Z + c, xp=sx)), host(losses.softmax(Z, xp=sx)))


# -- costs ---------------------------------------------------------------------------


def binary_labels(shape):
    return xps.arrays(sx.float64, shape, elements=st.sampled_from([0.0, 1.0]))


@st.composite
def one_hot(draw, shape):
    n, m = shape
    classes = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    Y = np.zeros((n, m))
    Y[classes, np.arange(m)] = 1.0
    return Y


@st.composite
def problem(draw, output: str, dtype: str, bound: float):
    """(Z, Y) of one shape, Z's entries within ±bound, Y valid labels for ``output``."""
    Z = draw(matrices(dtype, bound=bound), label="Z")
    if output == "sigmoid":
        Y = to_numpy(draw(binary_labels(Z.shape), label="Y"))
    elif output == "softmax":
        Y = draw(one_hot(tuple(Z.shape)), label="Y")
    else:
        Y = to_numpy(draw(xps.arrays(sx.float64, Z.shape, elements=finite("float64", bound)), label="Y"))
    return Z, sx.asarray(Y.astype(dtype))


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("output", list(losses.OUTPUTS))
@SETTINGS
@given(data=st.data())
def test_costs_are_nonnegative_and_finite_for_large_Z(output, dtype, data):
    """Every cost is a finite 0-d array ≥ 0 of Z's dtype for |Z| ≤ 1e4 and valid labels
    (0/1, one-hot, real values within ±1e4), the README's promise."""
    Z, Y = data.draw(problem(output, dtype, bound=1e4))
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        J = losses.get(output).cost(Z, Y, xp=sx)
    assert J.shape == () and J.dtype == Z.dtype
    j = float(J)
    assert math.isfinite(j) and j >= 0.0, f"{output} cost {j!r}"


def bce_textbook_and_bound(Z, Y, dtype):
    """−(1/m) Σ [Y log A + (1 − Y) log(1 − A)] computed from A = σ(Z) in ``dtype``, and
    a bound on how far rounding can take it from the stable cost: σ has a relative
    error of a few eps, so log A is off by ~2 eps and log(1 − A) by ~3 eps/(1 − A)
    (1 − A loses digits as A nears 1); the stable form is off by ~eps·(1 + |Z|)."""
    A = activations.sigmoid(Z, xp=sx)
    m = Z.shape[1]
    textbook = -sx.sum(Y * sx.log(A) + (1.0 - Y) * sx.log(1.0 - A)) / m
    a, z = host(A), host(Z)
    per_entry = 8 + np.abs(z) + 3 / a + 3 / (1 - a) + np.abs(np.log(a)) + np.abs(np.log1p(-a))
    return float(textbook), 4 * EPS[dtype] * per_entry.sum() / m


def cce_textbook_and_bound(Z, Y, dtype):
    """−(1/m) Σ Y log A from A = softmax(Z) in ``dtype``, and a bound on the rounding:
    A is off by ~(n + 3) eps relatively, Z − max Z by eps·max|Z|."""
    A = losses.softmax(Z, xp=sx)
    m, n = Z.shape[1], Z.shape[0]
    textbook = -sx.sum(Y * sx.log(A)) / m
    a, z, y = host(A), host(Z), host(Y)
    per_column = (n + 6) + 2 * np.abs(z).max(axis=0) + np.abs((y * np.log(a)).sum(axis=0))
    return float(textbook), 4 * EPS[dtype] * per_column.sum() / m


def mse_textbook_and_bound(Z, Y, dtype):
    """(1/(2m)) Σ (A − Y)² with A = Z; the same operations as the cost, up to the sum's order."""
    A = activations.linear(Z, xp=sx)
    m = Z.shape[1]
    textbook = sx.sum((A - Y) ** 2) / (2 * m)
    return float(textbook), 4 * EPS[dtype] * Z.shape[0] * float(textbook)


TEXTBOOK = {"sigmoid": (bce_textbook_and_bound, 15.0, 8.0),  # (formula, |Z| bound in float64, float32)
            "softmax": (cce_textbook_and_bound, 20.0, 10.0),
            "linear": (mse_textbook_and_bound, 1e4, 1e4)}


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("output", list(losses.OUTPUTS))
@SETTINGS
@given(data=st.data())
def test_cost_from_Z_equals_the_textbook_formula_from_A_where_A_is_not_saturated(output, dtype, data):
    """The stable cost from Z[L] equals the course's formula evaluated on A[L] = g(Z[L]),
    where A[L] keeps its digits: |Z| ≤ 15 (float64) or 8 (float32) for the sigmoid,
    ≤ 20 or 10 for the softmax, any |Z| ≤ 1e4 for the linear output."""
    formula, bound64, bound32 = TEXTBOOK[output]
    Z, Y = data.draw(problem(output, dtype, bound=bound64 if dtype == "float64" else bound32))
    J = float(losses.get(output).cost(Z, Y, xp=sx))
    textbook, tolerance = formula(Z, Y, dtype)
    assert abs(J - textbook) <= tolerance, (
        f"{output} cost from Z {J!r} vs textbook from A {textbook!r}: "
        f"differ by {abs(J - textbook):.3g} > {tolerance:.3g}"
    )


# -- categorical cross-entropy beyond the promised range (found by this file) ---------


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_categorical_cross_entropy_stays_finite_when_a_column_spread_overflows(dtype):
    big = MAX[dtype] * 0.9
    Z = sx.asarray([[big, -big], [-big, big]], dtype=DTYPES[dtype])
    Y = sx.asarray([[1.0, 0.0], [0.0, 1.0]], dtype=DTYPES[dtype])  # the right class has max Z
    with np.errstate(over="ignore", invalid="ignore"):
        J = float(losses.categorical_cross_entropy(Z, Y, xp=sx))
    assert J == 0.0
