"""network.py: forward, backward and predictions over a tuple of (W, b) layers.

The gradients themselves are checked against central differences and torch.autograd in
test_gradients.py, and the in-place route against the pure one in test_workspace.py.
"""

import numpy as np
import pytest

import xpnet
from xpnet import losses, network
from xpnet.activations import get as activation

from conftest import asarray, assert_in_namespace, to_numpy


def test_forward_keeps_z_for_the_output_layer_only():
    rng = np.random.RandomState(0)
    arch = network.Architecture((3, 4, 2), (activation("relu"),), losses.get("sigmoid"))
    params = ((rng.randn(4, 3), np.zeros((4, 1))), (rng.randn(2, 4), np.zeros((2, 1))))
    A_L, caches = network.forward(params, rng.randn(3, 5), arch, xp=xpnet._backend.namespace_by_name("numpy"))
    assert caches[0].Z is None and caches[-1].Z.shape == (2, 5)
    assert A_L is caches[-1].A


def test_predict_proba_in_blocks_equals_one_pass(xp):
    rng = np.random.RandomState(3)
    net = xpnet.Network([4, 6, 3], hidden="tanh", output="softmax", seed=2, dtype="float64")
    X = asarray(rng.randn(4, 11), xp)
    params = net._params_in(xp, xpnet._backend.device(X))
    whole = network.predict_proba(params, X, net.architecture, xp=xp)
    blocks = network.predict_proba(params, X, net.architecture, xp=xp, block=4)
    assert_in_namespace(blocks, xp)
    np.testing.assert_allclose(to_numpy(blocks), to_numpy(whole), rtol=0, atol=1e-15)


def test_the_cost_in_blocks_equals_one_pass(xp):
    rng = np.random.RandomState(4)
    arch = network.Architecture((3, 5, 4), (activation("tanh"),), losses.get("softmax"), l2=0.3)
    params = tuple((asarray(rng.randn(n, k), xp), asarray(rng.randn(n, 1), xp))
                   for k, n in ((3, 5), (5, 4)))
    X, Y = asarray(rng.randn(3, 11), xp), asarray(np.eye(4)[:, rng.randint(0, 4, 11)], xp)
    whole = float(network.cost(params, X, Y, arch, xp=xp))
    assert float(network.cost(params, X, Y, arch, xp=xp, block=4)) == pytest.approx(whole, rel=1e-12)
