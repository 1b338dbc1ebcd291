"""A stack of K networks (issue 17): the functional core's math with a leading axis.

A stack of K networks of one shape holds W[l] as (K, n[l], n[l-1]) and b[l] as
(K, n[l], 1); X (n_x, m) and Y (n[L], m) are shared, and every A[l], Z[l],
dZ[l] is (K, n[l], m). This module specifies that each function of the core
treats a stack as K independent networks: network k of the stack gives what
network k gives alone, with its own λ, dropout masks and learning rate.

- network.forward / backward / cost / l2_penalty / predict_proba, and
  losses' costs and correct_count: each network's own numbers (float64, within
  1e-12 relative: a stack's products with X run as one GEMM of K·n rows, whose
  sums may round differently from K separate ones), one per network ((K,)).
- the optimizers with one learning rate (or schedule) per network: each
  network's own update, bit for bit (elementwise rules: nothing to reorder);
  a list of rates of another length than K is refused.
- the in-place route (Workspace, Scratch.row_blocks, update_inplace): the pure
  route's numbers on a stack, bit for bit, whichever way the blocks cut it.
- _backend.stacked_matmul: the folded product (one GEMM) equals the broadcast
  ``@`` it replaces.

Every test runs on each installed backend (the ``xp`` fixture); the in-place
ones skip where arrays are immutable (JAX).
"""

from __future__ import annotations

import math

import array_api_compat
import numpy as np
import pytest

from xpnet import _backend, _workspace, losses, network, optimizers
from xpnet._workspace import Scratch, Workspace
from xpnet.activations import get as activation
from xpnet.errors import ConfigError

from conftest import asarray, assert_in_namespace, to_numpy

K = 3  # networks in a stack
M = 9  # examples
LAYERS = {"sigmoid": (4, 6, 5, 1), "softmax": (4, 6, 5, 3), "linear": (4, 6, 5, 2)}
LAMBDAS = (0.0, 0.3, 1.7)  # one L2 strength per network of the stack
KEEP_PROB = 0.8
RATES = [0.1, 0.01, 0.05]  # one learning rate per network of the stack


# -- helpers ------------------------------------------------------------------------------


def _arch(output, l2=0.0):
    """The 3-layer shape of ``output`` (hidden relu then tanh), with L2 strength ``l2``."""
    return network.Architecture(LAYERS[output], (activation("relu"), activation("tanh")),
                                losses.get(output), l2=l2)


def _networks(output, *, seed=0, k=K):
    """``k`` networks' parameters, each a tuple of NumPy float64 (W, b) pairs."""
    rng = np.random.RandomState(seed)
    dims = LAYERS[output]
    pairs = list(zip(dims[:-1], dims[1:]))
    return [tuple((rng.randn(n, n_prev), rng.randn(n, 1)) for n_prev, n in pairs) for _ in range(k)]


def _stack(nets, xp):
    """The networks' (W, b) pairs stacked on a leading axis, as arrays of ``xp``."""
    return tuple(tuple(asarray(np.stack([net[l][i] for net in nets]), xp) for i in (0, 1))
                 for l in range(len(nets[0])))


def _one(net, xp):
    """One network's (W, b) pairs as arrays of ``xp``."""
    return tuple((asarray(W, xp), asarray(b, xp)) for W, b in net)


def _data(output, *, seed=1, m=M):
    """Shared (X, Y) as NumPy: Y is 0/1 for sigmoid, one-hot for softmax, values for linear."""
    rng = np.random.RandomState(seed)
    dims = LAYERS[output]
    X = rng.randn(dims[0], m)
    if output == "sigmoid":
        Y = (rng.rand(dims[-1], m) > 0.5).astype(np.float64)
    elif output == "softmax":
        Y = np.eye(dims[-1])[:, rng.randint(0, dims[-1], m)]
    else:
        Y = rng.randn(dims[-1], m)
    return X, Y


def _masks(output, *, seed=2):
    """Dropout masks for a stack: one (K, n[l], m) array of 0 and 1/keep_prob per hidden layer."""
    rng = np.random.RandomState(seed)
    return [(rng.rand(K, n, M) < KEEP_PROB) / KEEP_PROB for n in LAYERS[output][1:-1]]


def _assert_close(actual, expected):
    """Equal within 1e-12 relative (and a negligible absolute slack for zeros)."""
    np.testing.assert_allclose(to_numpy(actual), to_numpy(expected), rtol=1e-12, atol=1e-15)


def _assert_float64_in(x, xp):
    assert_in_namespace(x, xp)
    assert x.dtype == xp.float64, x.dtype


def _skip_without_inplace(xp):
    if not _backend.supports_inplace(xp):
        pytest.skip("jax arrays are immutable: the in-place route does not run there")


def _copy(params, xp):
    """A fresh copy of nested (W, b) pairs, for routes that write into what they are given."""
    return tuple(tuple(xp.asarray(a, copy=True) for a in pair) for pair in params)


# -- forward, backward, costs -------------------------------------------------------------


@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_forward_of_a_stack_is_each_networks_own_forward(xp, output):
    nets, (X, _) = _networks(output), _data(output)
    A_stack, _ = network.forward(_stack(nets, xp), asarray(X, xp), _arch(output), xp=xp)
    _assert_float64_in(A_stack, xp)
    assert A_stack.shape == (K, LAYERS[output][-1], M)
    for k, net in enumerate(nets):
        A_k, _ = network.forward(_one(net, xp), asarray(X, xp), _arch(output), xp=xp)
        _assert_close(to_numpy(A_stack)[k], A_k)


@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_backward_of_a_stack_with_its_own_lambdas_and_masks_is_each_networks_backward(xp, output):
    nets, (X, Y), masks = _networks(output), _data(output), _masks(output)
    X, Y = asarray(X, xp), asarray(Y, xp)
    lambdas = asarray(np.array(LAMBDAS).reshape(K, 1, 1), xp)
    params = _stack(nets, xp)
    _, caches = network.forward(params, X, _arch(output), xp=xp,
                                masks=[asarray(D, xp) for D in masks])
    grads = network.backward(params, caches, Y, _arch(output, l2=lambdas), xp=xp)
    for k, net in enumerate(nets):
        own = _one(net, xp)
        _, caches_k = network.forward(own, X, _arch(output), xp=xp,
                                      masks=[asarray(D[k], xp) for D in masks])
        grads_k = network.backward(own, caches_k, Y, _arch(output, l2=LAMBDAS[k]), xp=xp)
        for (dW, db), (dW_k, db_k) in zip(grads, grads_k):
            _assert_float64_in(dW, xp)
            _assert_close(to_numpy(dW)[k], dW_k)
            _assert_close(to_numpy(db)[k], db_k)


@pytest.mark.parametrize("block", [None, 4])
@pytest.mark.parametrize("output", ["sigmoid", "softmax", "linear"])
def test_cost_of_a_stack_is_one_per_network_each_its_own_cost(xp, output, block):
    nets, (X, Y) = _networks(output), _data(output)
    X, Y = asarray(X, xp), asarray(Y, xp)
    lambdas = asarray(np.array(LAMBDAS).reshape(K, 1, 1), xp)
    J = network.cost(_stack(nets, xp), X, Y, _arch(output, l2=lambdas), xp=xp, block=block)
    _assert_float64_in(J, xp)
    assert J.shape == (K,)
    for k, net in enumerate(nets):
        J_k = network.cost(_one(net, xp), X, Y, _arch(output, l2=LAMBDAS[k]), xp=xp, block=block)
        _assert_close(to_numpy(J)[k], J_k)


def test_l2_penalty_of_a_stack_is_one_per_network_each_with_its_own_lambda(xp):
    nets = _networks("softmax")
    lambdas = asarray(np.array(LAMBDAS).reshape(K, 1, 1), xp)
    penalty = network.l2_penalty(_stack(nets, xp), _arch("softmax", l2=lambdas), M, xp=xp)
    _assert_float64_in(penalty, xp)
    assert penalty.shape == (K,)
    for k, net in enumerate(nets):
        expected = LAMBDAS[k] / (2 * M) * sum(np.sum(W * W) for W, _ in net)
        _assert_close(to_numpy(penalty)[k], expected)


@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_stacked_z_gives_each_networks_own_loss(xp, output):
    rng = np.random.RandomState(5)
    _, Y = _data(output)
    Z = rng.randn(K, LAYERS[output][-1], M) * 3
    cost, Y = losses.get(output).cost, asarray(Y, xp)
    J = cost(asarray(Z, xp), Y, xp=xp)
    _assert_float64_in(J, xp)
    assert J.shape == (K,)
    for k in range(K):
        _assert_close(to_numpy(J)[k], cost(asarray(Z[k], xp), Y, xp=xp))


def test_predict_proba_of_a_stack_in_blocks_is_each_networks_own_predictions(xp):
    nets, (X, _) = _networks("softmax"), _data("softmax")
    X = asarray(X, xp)
    A = network.predict_proba(_stack(nets, xp), X, _arch("softmax"), xp=xp, block=4)
    _assert_float64_in(A, xp)
    assert A.shape == (K, LAYERS["softmax"][-1], M)
    for k, net in enumerate(nets):
        A_k = network.predict_proba(_one(net, xp), X, _arch("softmax"), xp=xp)
        _assert_close(to_numpy(A)[k], A_k)


@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_correct_count_of_a_stacked_a_is_each_networks_count(xp, output):
    rng = np.random.RandomState(6)
    n_L = 2 if output == "sigmoid" else 3
    A = rng.rand(K, n_L, M)
    if output == "sigmoid":
        Y = (rng.rand(n_L, M) > 0.5).astype(np.float64)
        expected = [np.count_nonzero((A[k] > 0.5) == (Y > 0.5)) for k in range(K)]
    else:
        Y = np.eye(n_L)[:, rng.randint(0, n_L, M)]
        expected = [np.count_nonzero(A[k].argmax(axis=0) == Y.argmax(axis=0)) for k in range(K)]
    assert len(set(expected)) > 1  # the networks' counts differ: a mix-up would show
    counts = losses.correct_count(output, asarray(A, xp), asarray(Y, xp), xp=xp)
    assert_in_namespace(counts, xp)
    assert counts.shape == (K,)
    assert to_numpy(counts).tolist() == expected


# -- optimizers ---------------------------------------------------------------------------


def _gradient_steps(shapes, steps, *, seed=7):
    """``steps`` lists of NumPy (dW, db) pairs of a stack of the (W, b) ``shapes``."""
    rng = np.random.RandomState(seed)
    return [[tuple(rng.randn(*shape) for shape in pair) for pair in shapes] for _ in range(steps)]


def _train_stack(opt, params, steps, xp, *, inplace=False, work=None):
    """``params`` (NumPy, stacked) after ``opt``'s updates with each step's gradients (copies:
    the in-place route writes into the parameters and gradients it is given)."""
    params = tuple(tuple(asarray(a.copy(), xp) for a in pair) for pair in params)
    state = opt.init(params, xp=xp)
    for grads in steps:
        grads = tuple(tuple(asarray(a.copy(), xp) for a in pair) for pair in grads)
        if inplace:
            params, state = opt.update_inplace(params, grads, state, xp=xp, work=work)
        else:
            params, state = opt.update(params, grads, state, xp=xp)
    return params, state


#: A stack's (W, b) shapes: one whose networks each hold more than BLOCK entries (their rows
#: go in blocks), one of which two networks fill a block (the stack is cut between them),
#: and some of which the whole stack fits in one.
BIG_SHAPES = (((K, 300, 300), (K, 300, 1)), ((K, 100, 300), (K, 100, 1)), ((K, 7, 100), (K, 7, 1)))
SMALL_SHAPES = (((K, 6, 4), (K, 6, 1)), ((K, 2, 6), (K, 2, 1)))


def test_the_stack_shapes_run_both_ways_of_cutting_a_stack_into_blocks():
    per_network = [math.prod(W[1:]) for W, _ in BIG_SHAPES]
    assert per_network[0] > _workspace.BLOCK  # rows of one network at a time
    assert 1 < _workspace.BLOCK // per_network[1] < K  # whole networks, the stack cut
    assert _workspace.BLOCK // per_network[2] >= K  # the whole stack in one block


def _per_network_rates(kind):
    if kind == "numbers":
        return RATES
    return [optimizers.step_decay(rate, factor=0.5, every=2) for rate in RATES]


@pytest.mark.parametrize("rates", ["numbers", "schedules"])
@pytest.mark.parametrize("name", optimizers.NAMES)
def test_an_optimizer_with_a_rate_per_network_updates_each_network_as_its_own_would(xp, name,
                                                                                     rates):
    rng = np.random.RandomState(8)
    params = [tuple(rng.randn(*shape) for shape in pair) for pair in SMALL_SHAPES]
    steps = _gradient_steps(SMALL_SHAPES, 4)  # a step_decay of every=2 halves at the third
    stacked, state = _train_stack(optimizers.get(name, _per_network_rates(rates)), params, steps,
                                  xp)
    assert state["count"] == 4
    for k in range(K):
        own_params = [tuple(a[k] for a in pair) for pair in params]
        own_steps = [[tuple(a[k] for a in pair) for pair in grads] for grads in steps]
        own, _ = _train_stack(optimizers.get(name, _per_network_rates(rates)[k]), own_params,
                              own_steps, xp)
        for stacked_pair, own_pair in zip(stacked, own):
            for theta, theta_k in zip(stacked_pair, own_pair):
                assert_in_namespace(theta, xp)
                np.testing.assert_array_equal(to_numpy(theta)[k], to_numpy(theta_k))


@pytest.mark.parametrize("shapes", [BIG_SHAPES, SMALL_SHAPES], ids=["big", "small"])
@pytest.mark.parametrize("name", optimizers.NAMES)
def test_the_in_place_update_of_a_stack_equals_the_pure_update_bit_for_bit(xp, name, shapes):
    _skip_without_inplace(xp)
    rng = np.random.RandomState(9)
    params = [tuple(rng.randn(*shape) for shape in pair) for pair in shapes]
    steps = _gradient_steps(shapes, 2)
    rates = [optimizers.step_decay(rate, factor=0.5, every=1) for rate in RATES]
    pure, pure_state = _train_stack(optimizers.get(name, rates), params, steps, xp)
    work = Scratch(tuple(tuple(asarray(a, xp) for a in pair) for pair in params), xp=xp)
    written, written_state = _train_stack(optimizers.get(name, rates), params, steps, xp,
                                          inplace=True, work=work)
    for pure_pair, written_pair in zip(pure, written):
        for theta, theta_in in zip(pure_pair, written_pair):
            np.testing.assert_array_equal(to_numpy(theta_in), to_numpy(theta))
    for slot in optimizers.SLOTS[name]:
        pairs = zip(pure_state["slots"][slot], written_state["slots"][slot])
        for pure_pair, written_pair in pairs:
            for s, s_in in zip(pure_pair, written_pair):
                np.testing.assert_array_equal(to_numpy(s_in), to_numpy(s))


@pytest.mark.parametrize("shape", [W for W, _ in BIG_SHAPES], ids=str)
def test_row_blocks_of_a_stack_cover_it_once_each_block_with_its_networks_rate(shape):
    xp = _backend.namespace_by_name("numpy")
    theta = np.broadcast_to(np.arange(K, dtype=np.float64).reshape(K, 1, 1), shape).copy()
    seen = np.zeros(shape)
    rate = np.arange(K, dtype=np.float64).reshape(K, 1, 1)  # network k's rate is k
    for (view, seen_view), rate_block in Scratch(((theta, theta[..., :1]),), xp=xp).row_blocks(
            theta, seen, rate=rate):
        assert view.size <= _workspace.BLOCK
        np.testing.assert_array_equal(view - rate_block, 0.0)  # each entry's own network's α
        seen_view += 1
    np.testing.assert_array_equal(seen, 1.0)


@pytest.mark.parametrize("length", [K - 1, K + 1])
@pytest.mark.parametrize("route", ["update", "update_inplace"])
def test_a_list_of_learning_rates_of_another_length_than_the_stack_is_refused(xp, route, length):
    if route == "update_inplace":
        _skip_without_inplace(xp)
    opt = optimizers.adam([0.01] * length)
    params = _stack(_networks("softmax"), xp)
    grads = _copy(params, xp)
    with pytest.raises(ConfigError, match=f"{length} learning rates for a stack of {K}"):
        getattr(opt, route)(params, grads, opt.init(params, xp=xp), xp=xp)


# -- the in-place training route ----------------------------------------------------------


def _stack_problem(xp, *, output="softmax"):
    nets, (X, Y) = _networks(output), _data(output)
    lambdas = asarray(np.array(LAMBDAS).reshape(K, 1, 1), xp)
    return _stack(nets, xp), asarray(X, xp), asarray(Y, xp), _arch(output, l2=lambdas)


def test_forward_of_a_stack_with_a_workspace_equals_the_pure_forward_bit_for_bit(xp):
    _skip_without_inplace(xp)
    params, X, _, arch = _stack_problem(xp)
    A_pure, caches_pure = network.forward(params, X, arch, xp=xp)
    A_work, caches_work = network.forward(params, X, arch, xp=xp, work=Workspace(params, xp=xp))
    np.testing.assert_array_equal(to_numpy(A_work), to_numpy(A_pure))
    for pure, work in zip(caches_pure, caches_work):
        np.testing.assert_array_equal(to_numpy(work.A), to_numpy(pure.A))
    np.testing.assert_array_equal(to_numpy(caches_work[-1].Z), to_numpy(caches_pure[-1].Z))


def test_backward_of_a_stack_into_a_workspace_equals_the_pure_backward_bit_for_bit(xp):
    _skip_without_inplace(xp)
    params, X, Y, arch = _stack_problem(xp)
    masks = [asarray(D, xp) for D in _masks("softmax")]
    workspace = Workspace(params, xp=xp)
    _, caches = network.forward(params, X, arch, xp=xp, masks=masks)
    pure = network.backward(params, caches, Y, arch, xp=xp)
    _, caches = network.forward(params, X, arch, xp=xp, masks=masks, work=workspace)
    written = network.backward(params, caches, Y, arch, xp=xp, out=workspace)
    for (dW, db), (dW_in, db_in), (dW_buffer, db_buffer) in zip(pure, written, workspace.grads):
        assert dW_in is dW_buffer and db_in is db_buffer
        np.testing.assert_array_equal(to_numpy(dW_in), to_numpy(dW))
        np.testing.assert_array_equal(to_numpy(db_in), to_numpy(db))


def test_add_l2_gradient_of_a_stack_into_a_workspace_equals_the_pure_sum_bit_for_bit(xp):
    _skip_without_inplace(xp)
    params, _, _, arch = _stack_problem(xp)
    grads = _stack(_networks("softmax", seed=10), xp)
    pure = network.add_l2_gradient(list(grads), params, arch, M)
    workspace = Workspace(params, xp=xp)
    written = network.add_l2_gradient(list(_copy(grads, xp)), params, arch, M, out=workspace)
    for (dW, db), (dW_in, db_in) in zip(pure, written):
        np.testing.assert_array_equal(to_numpy(dW_in), to_numpy(dW))
        np.testing.assert_array_equal(to_numpy(db_in), to_numpy(db))
    # and the pure sum is each network's own dW + λ_k/m·W
    for k in range(K):
        for (dW, _), (G, _), (W, _) in zip(pure, grads, params):
            _assert_close(to_numpy(dW)[k], to_numpy(G)[k] + LAMBDAS[k] / M * to_numpy(W)[k])


def test_l2_penalty_of_a_stack_in_a_workspace_equals_the_pure_penalty_bit_for_bit(xp):
    _skip_without_inplace(xp)
    params, _, _, arch = _stack_problem(xp)
    pure = network.l2_penalty(params, arch, M, xp=xp)
    written = network.l2_penalty(params, arch, M, xp=xp, out=Workspace(params, xp=xp))
    assert written.shape == (K,)
    np.testing.assert_array_equal(to_numpy(written), to_numpy(pure))


# -- the folded product -------------------------------------------------------------------


def _stacked_operands(xp, *, n=7, k=5, m=11):
    rng = np.random.RandomState(11)
    return asarray(rng.randn(K, n, k), xp), asarray(rng.randn(k, m), xp)


def test_the_folded_stacked_product_equals_the_broadcast_product(xp):
    A, B = _stacked_operands(xp)
    folded = _backend.stacked_matmul(A, B, xp=xp, fold=True)
    broadcast = _backend.stacked_matmul(A, B, xp=xp, fold=False)
    _assert_float64_in(folded, xp)
    assert folded.shape == (K, 7, 11)
    _assert_close(folded, broadcast)
    _assert_close(broadcast, A @ B)


def test_the_folded_stacked_product_into_out_equals_the_broadcast_product(xp):
    _skip_without_inplace(xp)
    A, B = _stacked_operands(xp)
    kernels = _backend.Kernels(xp)
    into_folded = xp.empty((K, 7, 11), dtype=xp.float64, device=_backend.device(A))
    into_broadcast = xp.empty((K, 7, 11), dtype=xp.float64, device=_backend.device(A))
    assert _backend.stacked_matmul(A, B, xp=xp, out=into_folded, kernels=kernels,
                                   fold=True) is into_folded
    assert _backend.stacked_matmul(A, B, xp=xp, out=into_broadcast, kernels=kernels,
                                   fold=False) is into_broadcast
    _assert_close(into_folded, into_broadcast)
    _assert_close(into_broadcast, A @ B)


def test_a_stack_laid_out_column_major_still_multiplies_right(xp):
    A, B = _stacked_operands(xp)
    A_T = xp.matrix_transpose(xp.asarray(xp.matrix_transpose(A), copy=True))  # not row-major
    _assert_close(_backend.stacked_matmul(A_T, B, xp=xp, fold=True), A @ B)


def test_only_array_api_strict_keeps_the_broadcast_product(xp):
    strict = array_api_compat.is_array_api_strict_namespace(xp)
    assert _backend.folds_stacked_products(xp) is (not strict)
