"""The hand-derived backward pass against central differences and torch.autograd."""

import itertools

import numpy as np
import pytest

import xpnet
from xpnet import activations, losses

from conftest import asarray, assert_in_namespace, to_numpy

LAYERS = [4, 5, 3]  # n_x, two hidden layers, then the output units are appended
M = 7


def make_problem(hidden, output, seed=0):
    rng = np.random.RandomState(seed)
    K = 1 if output == "sigmoid" else 3
    X = rng.randn(LAYERS[0], M)
    if output == "sigmoid":
        Y = rng.randint(0, 2, size=(1, M)).astype(float)
    elif output == "softmax":
        Y = np.eye(K)[:, rng.randint(0, K, size=M)]
    else:
        Y = rng.randn(K, M)
    net = xpnet.Network([*LAYERS, K], hidden=hidden, output=output, init="normal",
                        init_scale=0.8, seed=seed, dtype="float64")
    # Non-zero biases, so their gradients are exercised away from the origin.
    net.params = [(W, rng.randn(*b.shape) * 0.3) for W, b in net.params]
    return net, X, Y


def numeric_gradients(net, X, Y, h=1e-6):
    """dJ/dθ by central differences, entry by entry, in float64."""
    params = [(W.copy(), b.copy()) for W, b in net.params]
    grads = []
    for layer in range(len(params)):
        pair = []
        for k in (0, 1):
            theta = params[layer][k]
            d = np.zeros_like(theta)
            for idx in np.ndindex(theta.shape):
                saved = theta[idx]
                theta[idx] = saved + h
                net.params = params
                J_plus = net.cost(X, Y)
                theta[idx] = saved - h
                net.params = params
                J_minus = net.cost(X, Y)
                theta[idx] = saved
                d[idx] = (J_plus - J_minus) / (2 * h)
            pair.append(d)
        grads.append(tuple(pair))
    net.params = params
    return grads


def flatten(grads):
    return np.concatenate([to_numpy(g).ravel() for pair in grads for g in pair])


@pytest.mark.parametrize(
    "hidden, output", list(itertools.product(activations.NAMES, losses.OUTPUTS))
)
def test_backprop_equals_central_differences(hidden, output):
    net, X, Y = make_problem(hidden, output)
    analytic = flatten(net.gradients(X, Y))
    numeric = flatten(numeric_gradients(net, X, Y))
    relative_error = np.linalg.norm(analytic - numeric) / (
        np.linalg.norm(analytic) + np.linalg.norm(numeric)
    )
    assert relative_error <= 1e-7


@pytest.mark.parametrize("output", list(losses.OUTPUTS))
def test_gradients_agree_across_backends(output, xp):
    net, X, Y = make_problem("tanh", output)
    reference = net.gradients(X, Y)
    grads = net.gradients(asarray(X, xp), asarray(Y, xp))
    for (dW, db), (dW_ref, db_ref) in zip(grads, reference):
        assert_in_namespace(dW, xp)
        assert_in_namespace(db, xp)
        assert dW.shape == dW_ref.shape and db.shape == db_ref.shape
        np.testing.assert_allclose(to_numpy(dW), dW_ref, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(to_numpy(db), db_ref, rtol=1e-12, atol=1e-15)


def torch_autograd_gradients(net, X, Y):
    """The same network's gradients from torch.autograd, written independently of xpnet."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    g = {
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, 0.01), "linear": lambda z: z,
    }
    params = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
              for W, b in net.params]
    A = torch.tensor(X)
    Yt = torch.tensor(Y)
    for l, (W, b) in enumerate(params):
        Z = W @ A + b
        A = g[net.hidden[l].name](Z) if l < len(params) - 1 else Z
    m = X.shape[1]
    if net.output.name == "sigmoid":
        J = F.binary_cross_entropy_with_logits(A, Yt, reduction="sum") / m
    elif net.output.name == "softmax":
        J = F.cross_entropy(A.T, Yt.argmax(dim=0), reduction="sum") / m
    else:
        J = 0.5 * torch.sum((A - Yt) ** 2) / m
    J.backward()
    return [(W.grad.numpy(), b.grad.numpy()) for W, b in params]


@pytest.mark.parametrize(
    "hidden, output", list(itertools.product(activations.NAMES, losses.OUTPUTS))
)
def test_backprop_equals_torch_autograd(hidden, output):
    net, X, Y = make_problem(hidden, output, seed=3)
    expected = torch_autograd_gradients(net, X, Y)
    for (dW, db), (dW_t, db_t) in zip(net.gradients(X, Y), expected):
        np.testing.assert_allclose(dW, dW_t, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(db, db_t, rtol=1e-10, atol=1e-14)


def test_gradient_check_tool_passes_a_correct_network():
    from xpnet.gradcheck import gradient_check

    net, X, Y = make_problem("tanh", "softmax")
    assert gradient_check(net, X, Y) <= 1e-7


def test_gradient_check_tool_catches_a_wrong_derivative():
    from dataclasses import replace

    from xpnet.gradcheck import gradient_check

    net, X, Y = make_problem("tanh", "sigmoid")
    wrong = replace(net.hidden[0], backward=lambda dA, Z, A, *, xp: dA * (1.0 - A))  # not 1 − A²
    net.hidden = (wrong,) * len(net.hidden)
    assert gradient_check(net, X, Y) > 1e-3
