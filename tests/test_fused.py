"""The fused CuPy route (xpnet._fused) against the array-API route it replaces.

On a GPU the kernels run for real and must give the array-API route's bits.
On the CPU the same kernel definitions run through an emulator that executes
their operation strings with NumPy, which checks what the CPU can: the
formulas, the order of their operations, and which scalar goes to which
parameter, bit for bit against the reference route.
"""

from __future__ import annotations

import re
import sys
import types

import numpy as np
import pytest

import xpnet
from xpnet import _backend, _fused, activations, optimizers
from xpnet.data import planar_flower

from conftest import _cuda_available

ACTIVATIONS = ["relu", "leaky_relu", "tanh", "sigmoid"]
OPTIMIZERS = {
    "sgd": {},
    "momentum": {"beta": 0.8},
    "rmsprop": {"beta": 0.95, "epsilon": 1e-7},
    "adam": {"beta1": 0.85, "beta2": 0.99, "epsilon": 1e-6},
}


class EmulatedKernel:
    """A cupy.ElementwiseKernel whose operation runs as Python on NumPy arrays."""

    def __init__(self, inputs, outputs, operation, name, options=()):
        self.inputs = [p.split()[1] for p in inputs.split(",")]
        self.outputs = [p.split()[1] for p in outputs.split(",")]
        code = operation.replace("(T)", "@").replace("sqrt(", "np.sqrt(")  # @1 is (T)1, a cast
        code = re.sub(r"\(([^()?]+)\?([^():]+):([^()]+)\)", r"np.where(\1, \2, \3)", code)
        code = re.sub(r"@(\w+)", r"T(\1)", code)
        self.code = "\n".join(s.strip() for s in code.split(";") if s.strip())

    def __call__(self, *args):
        n = len(self.inputs)
        inputs, outputs = args[:n], list(args[n:])
        first = next(a for a in inputs if isinstance(a, np.ndarray))
        if not outputs:
            outputs = [np.empty_like(first) for _ in self.outputs]
        scope = dict(zip(self.inputs, inputs), np=np, T=first.dtype.type)
        scope.update(zip(self.outputs, outputs))
        exec(self.code, scope)
        for name, out in zip(self.outputs, outputs):
            out[...] = scope[name]
        return outputs[0] if len(outputs) == 1 else outputs


@pytest.fixture
def emulated(monkeypatch):
    """The fused route on NumPy, its kernels emulated."""
    fake_cupy = types.ModuleType("cupy")
    fake_cupy.ElementwiseKernel = EmulatedKernel
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "cupy", fake_cupy)
        _fused._kernels.cache_clear()
        kernels = _fused._kernels()
        _fused._kernels.cache_clear()  # the emulated kernels stay out of the real cache
    monkeypatch.setattr(_fused, "_kernels", lambda: kernels)
    monkeypatch.setattr(_fused, "enabled", lambda xp: True)
    return _backend.namespace_by_name("numpy")


@pytest.fixture
def on_gpu(monkeypatch):
    """The fused route on CuPy, for real."""
    if not _cuda_available():
        pytest.skip("the fused kernels need cupy and a CUDA device")
    monkeypatch.setenv("XPNET_FUSED", "1")
    return _backend.namespace_by_name("cupy")


@pytest.fixture(params=["emulated", "on_gpu"])
def route(request):
    return request.getfixturevalue(request.param)


def data(xp, shape, seed, dtype="float32", positive=False):
    a = np.random.RandomState(seed).randn(*shape).astype(dtype)
    a[0, :3] = 0.0  # the kink of relu and leaky_relu
    if positive:
        a = np.abs(a)
    return _backend.from_host(a, xp)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_a_fused_activation_backward_gives_the_array_api_routes_bits(route, name, dtype):
    xp = route
    reference = activations.get(name, slope=0.03)
    fused = _fused.architecture(xpnet.Network([3, 5, 1], hidden=name, leaky_slope=0.03)
                                .architecture).hidden[0]
    dA, Z = data(xp, (5, 40), 0, dtype), data(xp, (5, 40), 1, dtype)
    A = reference.g(Z, xp=xp)
    expected = _backend.to_host(reference.backward(dA, Z, A, xp=xp))
    np.testing.assert_array_equal(_backend.to_host(fused.backward(dA, Z, A, xp=xp)), expected)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_fused_optimizer_update_gives_the_in_place_routes_bits(route, name, dtype):
    xp = route
    reference = optimizers.get(name, optimizers.exponential_decay(0.05, every=2), **OPTIMIZERS[name])
    fused = _fused.optimizer(reference)

    def run(update):
        params = (data(xp, (4, 3), 2, dtype), data(xp, (4, 1), 3, dtype))
        params = (params,)
        state = reference.init(params, xp=xp)
        for step in range(3):
            grads = [(data(xp, (4, 3), 10 + step, dtype), data(xp, (4, 1), 20 + step, dtype))]
            params, state = update(params, grads, state, xp=xp)
        return params, state

    (params, state), (params_ref, state_ref) = run(fused.update_inplace), run(reference.update_inplace)
    assert state["count"] == state_ref["count"] == 3
    for got, expected in zip(params[0], params_ref[0]):
        np.testing.assert_array_equal(_backend.to_host(got), _backend.to_host(expected))
    for slot in state["slots"]:
        for got, expected in zip(state["slots"][slot][0], state_ref["slots"][slot][0]):
            np.testing.assert_array_equal(_backend.to_host(got), _backend.to_host(expected))


def test_a_fit_on_the_fused_route_equals_the_array_api_route(route, monkeypatch):
    xp = route
    X, Y = planar_flower(300, seed=0)
    X, Y = _backend.from_host(X.astype("float32"), xp), _backend.from_host(Y.astype("float32"), xp)

    def fit():
        net = xpnet.Network([2, 8, 6, 1], hidden=["tanh", "relu"], seed=2)
        net.fit(X, Y, epochs=3, batch_size=64, optimizer="adam", learning_rate=0.01)
        return [_backend.to_host(W) for W, _ in net.params]

    fused = fit()
    monkeypatch.setattr(_fused, "enabled", lambda xp: False)
    for got, expected in zip(fused, fit()):
        np.testing.assert_array_equal(got, expected)


def test_fused_counter_masks_give_the_array_api_routes_bits(on_gpu):
    from xpnet._random import counter_masks

    xp, dtype = on_gpu, _backend.dtype_by_name(on_gpu, "float32")
    fused = counter_masks(99, 7, (30, 20), 500, 0.75, xp=xp, dtype=dtype)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XPNET_FUSED", "0")
        expected = counter_masks(99, 7, (30, 20), 500, 0.75, xp=xp, dtype=dtype)
    for got, want in zip(fused, expected):
        np.testing.assert_array_equal(_backend.to_host(got), _backend.to_host(want))


def test_the_fused_route_is_for_cupy_with_xpnet_fused_set(monkeypatch):
    numpy = _backend.namespace_by_name("numpy")
    monkeypatch.setenv("XPNET_FUSED", "1")
    assert not _fused.enabled(numpy)
    monkeypatch.delenv("XPNET_FUSED")
    cupy_like = types.SimpleNamespace(__name__="array_api_compat.cupy")
    monkeypatch.setattr(_backend, "backend_name", lambda xp: "cupy")
    assert not _fused.enabled(cupy_like)
    monkeypatch.setenv("XPNET_FUSED", "1")
    assert _fused.enabled(cupy_like)


def test_an_optimizer_of_ones_own_keeps_its_update():
    own = optimizers.Optimizer(lambda params, *, xp: {}, lambda p, g, s, *, xp: (p, s), name="mine")
    assert _fused.optimizer(own) is own
