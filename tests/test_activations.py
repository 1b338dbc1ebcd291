import math

import numpy as np
import pytest

from xpnet import activations
from xpnet.errors import ConfigError

from conftest import asarray, assert_in_namespace, to_numpy

Z_VALUES = np.array([[-3.0, -0.5, 0.0, 0.25, 2.0], [10.0, -10.0, 1e-3, -1e-3, 0.7]])

REFERENCE = {
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z: np.where(z > 0, 1.0, 0.01)),
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
}


@pytest.mark.parametrize("name", activations.NAMES)
def test_activation_and_derivative_match_their_formulas(name, xp):
    act = activations.get(name)
    Z = asarray(Z_VALUES, xp)
    A = act.g(Z, xp=xp)
    dA_dZ = act.g_prime(Z, A, xp=xp)
    assert_in_namespace(A, xp)
    assert_in_namespace(dA_dZ, xp)
    g, g_prime = REFERENCE[name]
    np.testing.assert_allclose(to_numpy(A), g(Z_VALUES), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(to_numpy(dA_dZ), g_prime(Z_VALUES), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", activations.NAMES)
def test_backward_is_dA_times_g_prime(name, xp):
    act = activations.get(name, slope=0.05)
    Z = asarray(Z_VALUES, xp)
    A = act.g(Z, xp=xp)
    dA = asarray(np.arange(10.0).reshape(2, 5) - 4.5, xp)
    dZ = act.backward(dA, Z, A, xp=xp)
    assert_in_namespace(dZ, xp)
    assert dZ.dtype == Z.dtype
    np.testing.assert_allclose(to_numpy(dZ), to_numpy(dA * act.g_prime(Z, A, xp=xp)), rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_smooth_derivatives_equal_central_differences(name, xp):
    act = activations.get(name)
    h = 1e-6
    Z = asarray(Z_VALUES, xp)
    numeric = (to_numpy(act.g(Z + h, xp=xp)) - to_numpy(act.g(Z - h, xp=xp))) / (2 * h)
    np.testing.assert_allclose(to_numpy(act.g_prime(Z, act.g(Z, xp=xp), xp=xp)), numeric,
                               rtol=1e-6, atol=1e-10)


def test_sigmoid_is_finite_and_in_range_at_extremes(xp):
    Z = asarray(np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]], dtype=np.float32), xp)
    A = to_numpy(activations.sigmoid(Z, xp=xp))
    assert np.all(np.isfinite(A))
    np.testing.assert_array_equal(A, [[0.0, 0.0, 0.5, 1.0, 1.0]])


def test_activations_keep_float32(xp):
    Z = asarray(Z_VALUES.astype(np.float32), xp)
    for name in activations.NAMES:
        act = activations.get(name)
        A = act.g(Z, xp=xp)
        assert A.dtype == xp.float32, name
        assert act.g_prime(Z, A, xp=xp).dtype == xp.float32, name
        assert act.backward(Z, Z, A, xp=xp).dtype == xp.float32, name


def test_leaky_relu_slope_is_settable(xp):
    act = activations.get("leaky_relu", slope=0.2)
    Z = asarray([[-2.0, 3.0]], xp)
    np.testing.assert_allclose(to_numpy(act.g(Z, xp=xp)), [[-0.4, 3.0]])
    np.testing.assert_allclose(to_numpy(act.g_prime(Z, act.g(Z, xp=xp), xp=xp)), [[0.2, 1.0]])
    assert act.slope == 0.2


def test_leaky_relu_default_slope_is_one_hundredth():
    assert math.isclose(activations.get("leaky_relu").slope, 0.01)


def test_unknown_activation_names_the_choices():
    with pytest.raises(ConfigError, match="unknown activation 'swish'.*relu"):
        activations.get("swish")
