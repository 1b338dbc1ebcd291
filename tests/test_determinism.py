"""Determinism: the same seed gives the same parameters, bit for bit on NumPy, and every
backend follows NumPy to 1e-12 in float64.

Shuffles and initial weights are drawn on the host from seeded NumPy generators
(xpnet._random, xpnet.initializers); dropout masks too on the CPU, and from a counter
hash on an accelerator, so a run depends on nothing but its seeds and where it runs;
and the math is one code path, so the backends differ only by the rounding of their
kernels (BLAS summation order, fused operations).
"""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet import _backend
from xpnet.data import planar_flower

from conftest import asarray, assert_in_namespace, to_numpy

OPTIMIZERS = {"sgd": 0.5, "momentum": 0.5, "rmsprop": 0.01, "adam": 0.01}  # name: learning rate

# Training with dropout and L2 on, so the masks and the penalty take part.
ITERATION_RUN = dict(iterations=60, record_every=10)
EPOCH_RUN = dict(epochs=4, batch_size=48)  # 400 / 48: 8 full batches and one of 16

RTOL, ATOL = 1e-12, 1e-14


@pytest.fixture(scope="module")
def flower():
    return planar_flower(400, seed=1)


def make_net(seed=2, **kwargs):
    settings = dict(hidden=["relu", "tanh"], init="he", seed=seed, dtype="float64",
                    keep_prob=0.85, l2=0.05)
    settings.update(kwargs)
    return xpnet.Network([2, 8, 6, 1], **settings)


def fit(X, Y, optimizer, run, seed=2, **net_kwargs):
    net = make_net(seed, **net_kwargs)
    history = net.fit(X, Y, **run, optimizer=optimizer, learning_rate=OPTIMIZERS[optimizer])
    return net.params, history


def host(params):
    return [(to_numpy(W), to_numpy(b)) for W, b in params]


@pytest.mark.parametrize("run", [ITERATION_RUN, EPOCH_RUN], ids=["iterations", "epochs"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_same_seed_same_parameters_bit_for_bit_on_numpy(optimizer, run, flower):
    first, first_history = fit(*flower, optimizer, run)
    second, second_history = fit(*flower, optimizer, run)
    for (W, b), (W2, b2) in zip(first, second):
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(b, b2)
    assert first_history.costs == second_history.costs
    assert first_history.iterations == second_history.iterations
    assert first_history["accuracy"] == second_history["accuracy"]
    # Not vacuously: the parameters moved, and another seed (other weights, shuffles
    # and masks) gives other parameters.
    start = host(make_net().params)
    assert not all(np.array_equal(W, W0) for (W, _), (W0, _) in zip(first, start))
    other, _ = fit(*flower, optimizer, run, seed=3)
    assert not np.array_equal(other[0][0], first[0][0])


@pytest.mark.parametrize("run", [ITERATION_RUN, EPOCH_RUN], ids=["iterations", "epochs"])
def test_training_leaves_the_data_and_a_fresh_model_alone(run, flower):
    """A fit reads X and Y only, and a fresh model with the seed starts where the first did:
    nothing carries over from one run to the next through shared state."""
    X, Y = (a.copy() for a in flower)
    fit(X, Y, "adam", run)
    np.testing.assert_array_equal(X, flower[0])
    np.testing.assert_array_equal(Y, flower[1])
    for (W, b), (W0, b0) in zip(host(make_net().params), host(make_net().params)):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_every_backend_follows_numpy_for_100_iterations(xp, optimizer, flower, monkeypatch):
    run = dict(iterations=100, record_every=10)
    X, Y = (asarray(a, xp) for a in flower)
    # On an accelerator the masks come from counters: the NumPy reference takes them too.
    on_accelerator = _backend.on_accelerator(xp, _backend.device(X))
    with monkeypatch.context() as patch:
        patch.setattr(_backend, "on_accelerator", lambda xp, device: on_accelerator)
        reference, reference_history = fit(*flower, optimizer, run)
    params, history = fit(X, Y, optimizer, run)
    for l, ((W, b), (W_ref, b_ref)) in enumerate(zip(params, reference), start=1):
        assert_in_namespace(W, xp)
        assert_in_namespace(b, xp)
        np.testing.assert_allclose(to_numpy(W), W_ref, rtol=RTOL, atol=ATOL, err_msg=f"W{l}")
        np.testing.assert_allclose(to_numpy(b), b_ref, rtol=RTOL, atol=ATOL, err_msg=f"b{l}")
    np.testing.assert_allclose(history.costs, reference_history.costs, rtol=RTOL, atol=ATOL)
    assert history.iterations == reference_history.iterations
    assert history["accuracy"] == reference_history["accuracy"]
