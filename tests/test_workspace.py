"""The in-place route of a training step (xpnet._workspace): the pure route's numbers, bit for
bit, with no parameter-sized array allocated per step."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import xpnet
from xpnet import _backend, losses, network, optimizers
from xpnet._random import TrainingRandom
from xpnet._workspace import Workspace
from xpnet.activations import get as activation
from xpnet.training import Examples, Hooks, Model, Plan, TrainState, train

from conftest import asarray, to_numpy


def _problem(xp, *, l2=0.0, layers=(5, 4, 3, 2), m=7):
    rng = np.random.RandomState(0)
    arch = network.Architecture(tuple(layers), tuple(activation("relu") for _ in layers[1:-1]),
                                losses.get("softmax"), l2=l2)
    params = tuple((asarray(rng.randn(n, n_prev), xp), asarray(rng.randn(n, 1), xp))
                   for n_prev, n in zip(layers[:-1], layers[1:]))
    X = asarray(rng.randn(layers[0], m), xp)
    Y = asarray(np.eye(layers[-1])[:, rng.randint(0, layers[-1], m)], xp)
    return arch, params, X, Y


@pytest.mark.parametrize("l2", [0.0, 0.7])
def test_backward_into_a_workspace_equals_the_pure_backward_bit_for_bit(xp, l2):
    if not _backend.supports_inplace(xp):
        pytest.skip("jax arrays are immutable: the in-place route does not run there")
    arch, params, X, Y = _problem(xp, l2=l2)
    workspace = Workspace(params, xp=xp)
    _, caches = network.forward(params, X, arch, xp=xp)
    pure = network.backward(params, caches, Y, arch, xp=xp)
    _, caches = network.forward(params, X, arch, xp=xp)
    written = network.backward(params, caches, Y, arch, xp=xp, out=workspace)
    for (dW, db), (dW_in, db_in), (dW_buffer, db_buffer) in zip(pure, written, workspace.grads):
        assert dW_in is dW_buffer and db_in is db_buffer
        np.testing.assert_array_equal(to_numpy(dW), to_numpy(dW_in))
        np.testing.assert_array_equal(to_numpy(db), to_numpy(db_in))


def test_scratch_views_are_shaped_like_the_parameter_and_share_one_buffer():
    xp = _backend.namespace_by_name("numpy")
    params = ((np.zeros((4, 3)), np.zeros((4, 1))), (np.zeros((2, 4)), np.zeros((2, 1))))
    workspace = Workspace(params, xp=xp)
    big, small = workspace.like(params[0][0]), workspace.like(params[1][1])
    assert big.shape == (4, 3) and small.shape == (2, 1)
    assert np.shares_memory(big, small)


def _step_excess(*, inplace: bool, optimizer: str, l2: float = 0.0) -> tuple[int, int]:
    """(the most a training step allocated above what it started with, in bytes; the bytes
    of the smallest parameter-sized array) over the steady steps of one epoch on NumPy."""
    layers, batch, m = (300, 200, 100, 3), 8, 8 * 24
    xp = _backend.namespace_by_name("numpy")
    rng = np.random.RandomState(0)
    X = np.asfortranarray(rng.randn(layers[0], m))
    Y = np.ascontiguousarray(np.eye(3)[:, rng.randint(0, 3, m)]).T.copy().T
    arch = network.Architecture(layers, (activation("relu"),) * 2, losses.get("softmax"), l2=l2)
    params = tuple(tuple(pair) for pair in xpnet.initializers.initialize(layers, "he", seed=1,
                                                                         dtype="float64"))
    opt = optimizers.get(optimizer, 0.01)
    state = TrainState(params, opt.init(params, xp=xp))
    excess, seen = [], []

    def on_update(_m):
        current, peak = tracemalloc.get_traced_memory()
        if len(seen) >= 2:  # the first steps set up what the later ones reuse
            excess.append(peak - seen[-1])
        seen.append(current)
        tracemalloc.reset_peak()

    tracemalloc.start()
    try:
        train(state, Examples(X, Y), Plan(epochs=1, batch_size=batch),
              model=Model(arch, opt, xp, inplace=inplace), random=TrainingRandom(0, xp=xp),
              hooks=Hooks(on_update=on_update))
    finally:
        tracemalloc.stop()
    assert len(excess) == m // batch - 2
    smallest_weight = min(n * n_prev for n_prev, n in zip(layers[:-1], layers[1:])
                          if n * n_prev > layers[0] * batch) * 8
    return max(excess), smallest_weight


@pytest.mark.parametrize("optimizer", optimizers.NAMES)
def test_an_in_place_step_allocates_no_parameter_sized_array(optimizer):
    excess, parameter_sized = _step_excess(inplace=True, optimizer=optimizer, l2=0.1)
    assert excess < parameter_sized, (excess, parameter_sized)


def test_a_pure_step_allocates_parameter_sized_arrays():
    # What the in-place test would see without the workspace: it can fail.
    excess, parameter_sized = _step_excess(inplace=False, optimizer="adam")
    assert excess > 2 * parameter_sized


def test_l2_penalty_in_a_workspace_equals_the_pure_penalty_bit_for_bit(xp):
    if not _backend.supports_inplace(xp):
        pytest.skip("jax arrays are immutable: the in-place route does not run there")
    arch, params, _, _ = _problem(xp, l2=0.3)
    pure = network.l2_penalty(params, arch, 7, xp=xp)
    written = network.l2_penalty(params, arch, 7, xp=xp, out=Workspace(params, xp=xp))
    assert float(pure) == float(written)


@pytest.mark.parametrize("hidden", ["relu", "tanh"])
def test_forward_with_a_workspace_equals_the_pure_forward_bit_for_bit(xp, hidden):
    if not _backend.supports_inplace(xp):
        pytest.skip("jax arrays are immutable: the in-place route does not run there")
    arch, params, X, _ = _problem(xp)
    arch = network.Architecture(arch.layer_dims, (activation(hidden),) * 2, arch.output)
    A_pure, caches_pure = network.forward(params, X, arch, xp=xp)
    A_work, caches_work = network.forward(params, X, arch, xp=xp, work=Workspace(params, xp=xp))
    np.testing.assert_array_equal(to_numpy(A_pure), to_numpy(A_work))
    for pure, work in zip(caches_pure, caches_work):
        np.testing.assert_array_equal(to_numpy(pure.A), to_numpy(work.A))
    np.testing.assert_array_equal(to_numpy(caches_pure[-1].Z), to_numpy(caches_work[-1].Z))
