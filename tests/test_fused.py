"""The fused CuPy route (xpnet._fused) against the array-API route it replaces.

On a GPU the kernels run for real and must give the array-API route's bits.
Without one, their CUDA C++ is compiled for the host CPU (tests/_compiled_kernels.py)
and must give the same bits there: the formulas, the order of their operations
and which scalar goes to which parameter, checked by running the kernels' own
text. nvcc, where installed, builds that text for a GPU, and its instructions
show that the GPU rounds as the host does.
"""

from __future__ import annotations

import re
import shutil
import types

import numpy as np
import pytest

import xpnet
from xpnet import _backend, _fused, activations, optimizers
from xpnet.data import planar_flower

import _compiled_kernels
from conftest import _cuda_available

ACTIVATIONS = ["relu", "leaky_relu", "tanh", "sigmoid"]
OPTIMIZERS = {
    "sgd": {},
    "momentum": {"beta": 0.8},
    "rmsprop": {"beta": 0.95, "epsilon": 1e-7},
    "adam": {"beta1": 0.85, "beta2": 0.99, "epsilon": 1e-6},
}


@pytest.fixture(scope="module")
def host_kernels(tmp_path_factory):
    if _compiled_kernels.host_compiler() is None:
        pytest.skip("compiling the kernels for the host needs a C++ compiler")
    return _compiled_kernels.host_kernels(_fused.define, tmp_path_factory.mktemp("kernels"))


@pytest.fixture
def on_host(host_kernels, monkeypatch):
    """The fused route on NumPy, its kernels compiled for the CPU."""
    monkeypatch.setattr(_fused, "_kernels", lambda: host_kernels)
    monkeypatch.setattr(_fused, "enabled", lambda xp: True)
    return _backend.namespace_by_name("numpy")


@pytest.fixture
def on_gpu(monkeypatch):
    """The fused route on CuPy, for real."""
    if not _cuda_available():
        pytest.skip("the fused kernels need cupy and a CUDA device")
    monkeypatch.setenv("XPNET_FUSED", "1")
    return _backend.namespace_by_name("cupy")


@pytest.fixture(params=["on_host", "on_gpu"])
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


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_counter_masks_give_the_array_api_routes_bits(route, dtype, monkeypatch):
    from xpnet._random import counter_masks

    xp, dtype = route, _backend.dtype_by_name(route, dtype)
    fused = counter_masks(99, 7, (30, 20), 500, 0.75, xp=xp, dtype=dtype)
    monkeypatch.setattr(_fused, "enabled", lambda xp: False)
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


def test_the_fused_kernels_build_for_a_hopper_gpu_rounding_as_the_host_does(tmp_path):
    if shutil.which("nvcc") is None:
        pytest.skip("building the kernels for a GPU needs nvcc")
    ptx = _compiled_kernels.ptx_for_gpu(_fused.define, tmp_path, "sm_90")
    instructions = set(re.findall(r"^\s+([a-z]+(?:\.[a-z0-9]+)+)", ptx, flags=re.M))
    assert not {i for i in instructions if i.startswith("fma.")}  # --fmad=false: a·b + c rounded twice
    assert not {i for i in instructions if ".approx" in i}
    # correctly rounded, as IEEE 754 (and the host) has them
    assert {"div.rn.f32", "div.rn.f64", "sqrt.rn.f32", "sqrt.rn.f64"} <= instructions
