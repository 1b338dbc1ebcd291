"""Optimizers: pure (init, update) pairs, checked against updates computed by hand."""

import math

import numpy as np
import pytest

import xpnet
from xpnet import optimizers
from xpnet.errors import ConfigError

from conftest import asarray, assert_in_namespace, to_numpy

W0, b0 = np.array([[1.0, -2.0]]), np.array([[0.5]])
G1 = (np.array([[0.1, -0.4]]), np.array([[0.2]]))
G2 = (np.array([[-0.3, 0.2]]), np.array([[0.1]]))


def two_steps(opt, xp):
    params = ((asarray(W0, xp), asarray(b0, xp)),)
    state = opt.init(params, xp=xp)
    for dW, db in (G1, G2):
        params, state = opt.update(params, ((asarray(dW, xp), asarray(db, xp)),), state, xp=xp)
    return params, state


def test_gradient_descent_steps_against_the_gradient(xp):
    (W, b), = two_steps(optimizers.gradient_descent(0.1), xp)[0]
    assert_in_namespace(W, xp)
    np.testing.assert_allclose(to_numpy(W), W0 - 0.1 * G1[0] - 0.1 * G2[0], rtol=1e-15)
    np.testing.assert_allclose(to_numpy(b), b0 - 0.1 * G1[1] - 0.1 * G2[1], rtol=1e-15)


def test_momentum_matches_two_steps_by_hand(xp):
    alpha, beta = 0.1, 0.9
    v1 = (1 - beta) * G1[0]
    v2 = beta * v1 + (1 - beta) * G2[0]
    expected = W0 - alpha * v1 - alpha * v2
    params, state = two_steps(optimizers.momentum(alpha, beta=beta), xp)
    np.testing.assert_allclose(to_numpy(params[0][0]), expected, rtol=1e-14)
    np.testing.assert_allclose(to_numpy(state["slots"]["v"][0][0]), v2, rtol=1e-14)
    assert state["count"] == 2


def test_adam_matches_two_steps_by_hand(xp):
    alpha, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    W, v, s = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for t, (dW, _) in enumerate((G1, G2), start=1):
        v = b1 * v + (1 - b1) * dW
        s = b2 * s + (1 - b2) * dW**2
        W = W - alpha * (v / (1 - b1**t)) / (np.sqrt(s / (1 - b2**t)) + eps)
    params, state = two_steps(optimizers.adam(alpha), xp)
    np.testing.assert_allclose(to_numpy(params[0][0]), W, rtol=1e-14)
    np.testing.assert_allclose(to_numpy(state["slots"]["s"][0][0]), s, rtol=1e-14)


def test_adam_first_step_moves_each_weight_by_about_alpha(xp):
    """Bias correction makes the first step ±α whatever the gradient's scale."""
    params, _ = two_steps(optimizers.adam(0.01), xp)  # noqa: F841
    opt = optimizers.adam(0.01)
    p = ((asarray(W0, xp), asarray(b0, xp)),)
    p1, _ = opt.update(p, ((asarray(G1[0] * 1e3, xp), asarray(G1[1], xp)),), opt.init(p, xp=xp), xp=xp)
    np.testing.assert_allclose(to_numpy(p1[0][0]) - W0, -0.01 * np.sign(G1[0]), rtol=1e-6)


def test_rmsprop_matches_one_step_by_hand(xp):
    alpha, beta, eps = 0.01, 0.9, 1e-8
    opt = optimizers.rmsprop(alpha, beta=beta)
    p = ((asarray(W0, xp), asarray(b0, xp)),)
    p1, _ = opt.update(p, ((asarray(G1[0], xp), asarray(G1[1], xp)),), opt.init(p, xp=xp), xp=xp)
    s = (1 - beta) * G1[0] ** 2
    np.testing.assert_allclose(to_numpy(p1[0][0]), W0 - alpha * G1[0] / (np.sqrt(s) + eps), rtol=1e-14)


def test_update_is_pure():
    opt = optimizers.adam(0.1)
    params = ((W0.copy(), b0.copy()),)
    state = opt.init(params, xp=xpnet._backend.namespace_by_name("numpy"))
    opt.update(params, (G1,), state, xp=xpnet._backend.namespace_by_name("numpy"))
    np.testing.assert_array_equal(params[0][0], W0)
    assert state["count"] == 0 and not state["slots"]["v"][0][0].any()


def test_step_decay_drops_by_factor_every_n_updates():
    schedule = optimizers.step_decay(0.1, factor=0.5, every=10)
    assert [schedule(t) for t in (0, 9, 10, 25)] == [0.1, 0.1, 0.05, 0.025]


def test_exponential_decay_is_smooth():
    schedule = optimizers.exponential_decay(1.0, rate=0.5, every=100)
    assert schedule(0) == 1.0
    assert math.isclose(schedule(50), 0.5**0.5)
    assert math.isclose(schedule(200), 0.25)


def test_schedule_sets_each_steps_learning_rate():
    opt = optimizers.gradient_descent(optimizers.step_decay(1.0, factor=0.1, every=1))
    params, _ = two_steps(opt, xpnet._backend.namespace_by_name("numpy"))
    np.testing.assert_allclose(params[0][0], W0 - 1.0 * G1[0] - 0.1 * G2[0])


def xor():
    X = np.array([[0, 0, 1, 1], [0, 1, 0, 1]], dtype=float)
    return np.tile(X, 8), np.tile(np.array([[0, 1, 1, 0]]), 8)


@pytest.mark.parametrize("name, learning_rate", [("sgd", 1.0), ("momentum", 1.0),
                                                 ("rmsprop", 0.01), ("adam", 0.02)])
def test_every_optimizer_solves_xor(name, learning_rate):
    X, Y = xor()
    net = xpnet.Network([2, 8, 1], hidden="tanh", init="xavier", seed=0, dtype="float64")
    net.fit(X, Y, epochs=500, batch_size=8, optimizer=name, learning_rate=learning_rate)
    assert net.score(X, Y) == 1.0


@pytest.mark.parametrize("name", optimizers.NAMES)
def test_every_optimizer_reduces_a_convex_cost(name):
    rng = np.random.RandomState(0)
    X = rng.randn(5, 200)
    Y = (np.array([[1.0, -2.0, 0.5, 0.0, 1.5]]) @ X + 0.3 * rng.randn(1, 200) > 0).astype(int)
    lr = xpnet.LogisticRegression(dtype="float64")
    hist = lr.fit(X, Y, iterations=200, optimizer=name, learning_rate=0.05, record_every=50)
    assert all(later < earlier for earlier, later in zip(hist.costs, hist.costs[1:]))
    assert lr.score(X, Y) > 0.9


def test_unknown_optimizer_names_the_choices():
    with pytest.raises(ConfigError, match="unknown optimizer 'lbfgs'.*adam"):
        optimizers.get("lbfgs", 0.1)


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan")])
def test_nonsense_learning_rates_are_refused(bad):
    with pytest.raises(ConfigError, match="learning_rate"):
        optimizers.adam(bad)


@pytest.mark.parametrize("name", optimizers.NAMES)
def test_inplace_route_equals_the_pure_route_bit_for_bit(name, xp):
    if not xpnet._backend.supports_inplace(xp):
        pytest.skip(f"{xp.__name__} arrays are immutable: only the pure route runs there")
    rng = np.random.RandomState(1)
    shapes = [((3, 4), (3, 1)), ((2, 3), (2, 1))]
    start = [(rng.randn(*w), rng.randn(*b)) for w, b in shapes]
    steps = [[(rng.randn(*w), rng.randn(*b)) for w, b in shapes] for _ in range(3)]
    on = lambda pairs: tuple((asarray(W, xp), asarray(b, xp)) for W, b in pairs)  # noqa: E731
    opt = optimizers.get(name, optimizers.step_decay(0.05, factor=0.5, every=2))
    results = []
    for update in (opt.update, opt.update_inplace):
        params = on(start)
        state = opt.init(params, xp=xp)
        for grads in steps:
            params, state = update(params, on(grads), state, xp=xp)
        results.append((params, state))
    (pure, pure_state), (inplace, inplace_state) = results
    for (W, b), (W_in, b_in) in zip(pure, inplace):
        np.testing.assert_array_equal(to_numpy(W), to_numpy(W_in))
        np.testing.assert_array_equal(to_numpy(b), to_numpy(b_in))
    assert pure_state["count"] == inplace_state["count"] == 3
    for slot, pairs in pure_state["slots"].items():
        for (vW, vb), (vW_in, vb_in) in zip(pairs, inplace_state["slots"][slot]):
            np.testing.assert_array_equal(to_numpy(vW), to_numpy(vW_in))
            np.testing.assert_array_equal(to_numpy(vb), to_numpy(vb_in))


def test_inplace_route_writes_into_the_parameters_it_is_given():
    xp = xpnet._backend.namespace_by_name("numpy")
    W, b = W0.copy(), b0.copy()
    opt = optimizers.gradient_descent(0.1)
    (W_new, b_new), = opt.update_inplace(((W, b),), ((G1[0].copy(), G1[1].copy()),),
                                         opt.init(((W, b),), xp=xp), xp=xp)[0]
    assert W_new is W and b_new is b
    np.testing.assert_allclose(W, W0 - 0.1 * G1[0])


@pytest.mark.parametrize("bad", [True, "0.1", None, [], [0.1, "fast"], float("inf")])
def test_a_learning_rate_that_is_no_number_is_refused(bad):
    with pytest.raises(ConfigError, match="learning_rate|learning rate"):
        optimizers.get("sgd", bad)


def test_a_list_of_learning_rates_is_refused_for_a_single_network():
    xp = xpnet._backend.namespace_by_name("numpy")
    opt = optimizers.gradient_descent([0.1, 0.2])
    params = ((W0.copy(), b0.copy()),)
    with pytest.raises(ConfigError, match="one per network of a stack"):
        opt.update(params, (G1,), opt.init(params, xp=xp), xp=xp)


@pytest.mark.parametrize("gives", [-0.1, float("nan"), "0.1", True])
def test_a_schedule_that_gives_no_rate_is_refused_at_that_update(gives):
    xp = xpnet._backend.namespace_by_name("numpy")
    opt = optimizers.gradient_descent(lambda t: gives)
    params = ((np.ones((2, 2)), np.ones((2, 1))),)
    with pytest.raises(ConfigError, match="schedule gave"):
        opt.update(params, params, opt.init(params, xp=xp), xp=xp)
