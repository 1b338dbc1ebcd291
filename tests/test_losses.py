import numpy as np
import pytest

from xpnet import losses
from xpnet.errors import ConfigError

from conftest import asarray, assert_in_namespace, to_numpy

rng = np.random.RandomState(0)


def naive_cost(name, Z, Y):
    """The textbook formulas, computed from A, for moderate Z."""
    m = Z.shape[1]
    if name == "sigmoid":
        A = 1 / (1 + np.exp(-Z))
        return -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
    if name == "softmax":
        A = np.exp(Z) / np.sum(np.exp(Z), axis=0, keepdims=True)
        return -np.sum(Y * np.log(A)) / m
    return np.sum((Z - Y) ** 2) / (2 * m)


def labels(name, K, m):
    if name == "sigmoid":
        return rng.randint(0, 2, size=(K, m)).astype(float)
    if name == "softmax":
        return np.eye(K)[:, rng.randint(0, K, size=m)]
    return rng.randn(K, m)


@pytest.mark.parametrize("name", list(losses.OUTPUTS))
def test_cost_equals_the_textbook_formula(name, xp):
    K = 1 if name == "sigmoid" else 3
    Z_np, Y_np = rng.randn(K, 8) * 3, labels(name, K, 8)
    out = losses.get(name)
    J = out.cost(asarray(Z_np, xp), asarray(Y_np, xp), xp=xp)
    assert_in_namespace(J, xp)
    assert J.shape == ()
    np.testing.assert_allclose(float(J), naive_cost(name, Z_np, Y_np), rtol=1e-12)


@pytest.mark.parametrize("name", ["sigmoid", "softmax"])
def test_cost_is_finite_for_huge_logits_in_float32(name, xp):
    K = 1 if name == "sigmoid" else 3
    Z_np = np.array([[1e4, -1e4, 1e4, -1e4]] * K, dtype=np.float32)
    Z_np[0] *= -1
    Y_np = labels(name, K, 4).astype(np.float32)
    J = losses.get(name).cost(asarray(Z_np, xp), asarray(Y_np, xp), xp=xp)
    assert J.dtype == xp.float32
    assert np.isfinite(float(J)) and float(J) >= 0


def test_confident_wrong_sigmoid_prediction_costs_its_logit(xp):
    Z = asarray(np.array([[1e4]], dtype=np.float32), xp)
    Y = asarray(np.array([[0.0]], dtype=np.float32), xp)
    assert float(losses.get("sigmoid").cost(Z, Y, xp=xp)) == pytest.approx(1e4)


def test_softmax_columns_sum_to_one_and_ignore_shifts(xp):
    Z_np = rng.randn(4, 6) * 50
    A = losses.softmax(asarray(Z_np, xp), xp=xp)
    A_shifted = losses.softmax(asarray(Z_np + 1000.0, xp), xp=xp)
    np.testing.assert_allclose(to_numpy(xp.sum(A, axis=0)), np.ones(6), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(A), to_numpy(A_shifted), rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("name", list(losses.OUTPUTS))
def test_dZ_of_the_cost_is_A_minus_Y_over_m(name, xp):
    """Central differences of J(Z) equal (A − Y)/m: the fused pair is consistent."""
    K = 1 if name == "sigmoid" else 3
    m = 5
    Z_np, Y_np = rng.randn(K, m), labels(name, K, m)
    out = losses.get(name)
    Y = asarray(Y_np, xp)
    A = out.g(asarray(Z_np, xp), xp=xp)
    analytic = to_numpy(losses.dZ_output(A, Y)) / m
    numeric = np.zeros_like(Z_np)
    h = 1e-6
    for idx in np.ndindex(Z_np.shape):
        Zp, Zm = Z_np.copy(), Z_np.copy()
        Zp[idx] += h
        Zm[idx] -= h
        numeric[idx] = (float(out.cost(asarray(Zp, xp), Y, xp=xp))
                        - float(out.cost(asarray(Zm, xp), Y, xp=xp))) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_unknown_output_names_the_choices():
    with pytest.raises(ConfigError, match="unknown output 'hinge'.*softmax"):
        losses.get("hinge")
