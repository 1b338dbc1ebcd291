"""xpnet.bench's runners: xpnet, PyTorch and JAX do the same arithmetic, the bare GEMMs
take xpnet's operand layouts, and each runner reports the cost it read back."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from _bench_cases import installed, short_gemm_timings  # noqa: F401 (an autouse fixture)

from xpnet import _backend, bench


def _train(runners):
    trained, costs = {}, {}
    for name, runner in runners.items():
        runner.setup()
        runner.run()
        trained[name] = runner.params()
        costs[name] = runner.cost() if runner.cost else None
    return trained, costs


def _peer_runners(w, data):
    runners = {"xpnet": bench.xpnet_runner(w, data, bench.resolve_target("numpy"), "float64")}
    for peer in ("torch", "jax"):
        if installed(peer):
            if peer == "jax":
                _backend.enable_jax_x64()  # the tests' process: float64 runs on JAX too
            runners[peer] = bench.PEER_RUNNERS[peer](w, data, "cpu", "float64")
    return runners


@pytest.mark.parametrize("layout", ["C", "F"])
def test_xpnet_torch_and_jax_train_the_same_adam_epoch(layout):
    # The same initial weights, the same batches (one permutation), the same Adam:
    # in float64 the peers end where xpnet ends.
    w = bench.Workload("tiny-adam", (12, 9, 7, 4), "epoch", 100, learning_rate=1e-3,
                       batch_size=16, optimizer="adam", data="pixels", layout=layout)
    data = bench.host_data(w)
    trained, _ = _train(_peer_runners(w, data))
    start = bench.initial_params(w, "float64")
    assert np.abs(trained["xpnet"][0][0] - start[0][0]).max() > 1e-4  # it trained
    for name, params in trained.items():
        for (W, b), (W_x, b_x) in zip(params, trained["xpnet"]):
            assert W.shape == W_x.shape and b.shape == b_x.shape
            np.testing.assert_allclose(W, W_x, rtol=0, atol=1e-10, err_msg=name)
            np.testing.assert_allclose(b, b_x, rtol=0, atol=1e-10, err_msg=name)


def test_the_runners_of_a_fit_read_back_the_same_last_cost():
    # A sigmoid fit of 5 full-batch updates: each implementation's last cost read back is
    # that before the last update, and in float64 they agree.
    w = bench.Workload("tiny-fit", (8, 4, 1), "fit", 16, output="sigmoid", iterations=5,
                       learning_rate=0.1)
    trained, costs = _train(_peer_runners(w, bench.host_data(w)))
    assert costs["xpnet"] > 0
    for name, cost in costs.items():
        assert cost == pytest.approx(costs["xpnet"], rel=1e-10), name
        np.testing.assert_allclose(trained[name][0][0], trained["xpnet"][0][0], atol=1e-10)


def test_a_step_and_the_bare_gemms_read_back_no_cost():
    w = bench.Workload("tiny-step", (8, 4, 3), "step", 16)
    numpy = bench.resolve_target("numpy")
    assert bench.xpnet_runner(w, bench.host_data(w), numpy, "float32").cost is None
    assert bench.gemm_runner(bench.step_gemms(w.layers, 16), numpy, "float32").cost is None


def test_torch_without_a_gpu_is_unavailable_there():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    w = bench.Workload("tiny-step", (8, 4, 3), "step", 16)
    with pytest.raises(bench.Unavailable, match="no CUDA device"):
        bench.torch_runner(w, bench.host_data(w), "gpu", "float32")


def test_sklearn_is_compared_on_epochs_only():
    w = bench.Workload("tiny-step", (8, 4, 3), "step", 16)
    with pytest.raises(bench.Unavailable, match="epoch only"):
        bench.sklearn_runner(w, bench.host_data(w), "cpu", "float32")


def test_jax_in_float64_without_its_64_bit_types_is_unavailable_not_float32():
    pytest.importorskip("jax")
    code = ("import jax\n"
            "from xpnet import bench\n"
            "w = bench.Workload('w', (4, 3, 2), 'step', 8)\n"
            "try:\n"
            "    bench.jax_runner(w, bench.host_data(w), 'cpu', 'float64')\n"
            "except bench.Unavailable as exc:\n"
            "    print('unavailable:', exc)\n"
            "print('x64:', jax.config.jax_enable_x64)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "JAX_ENABLE_X64": "0"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "unavailable: jax's 64-bit types are off (JAX_ENABLE_X64=1 switches them on)",
        "x64: False"]


def test_gemm_operands_match_xpnet_layouts():
    target = bench.resolve_target("numpy")
    for g, (left, right) in zip(bench.step_gemms([3, 4, 2], 5),
                                bench.gemm_operands(bench.step_gemms([3, 4, 2], 5), target, "float32")):
        assert (left @ right).shape == (g.rows, g.cols)
        assert left.dtype == np.float32
        if g.kind == "dW":
            assert not right.flags["C_CONTIGUOUS"]  # dZ·A_prevᵀ: a transposed view, as in backward
        if g.kind == "dA":
            assert not left.flags["C_CONTIGUOUS"]


def test_step_gemm_timings_are_positive_and_count_every_batch():
    target = bench.resolve_target("numpy")
    one = bench.step_gemms_timing((8, 4, 3), 16, target, "float32", repeat=1)
    assert one.wall > 0 and one.cpu >= 0
    w = bench.Workload("w", (8, 4, 3), "epoch", 20, batch_size=8)  # batches 8, 8, 4
    assert bench.time_workload_gemms(w, target, "float32", repeat=1).wall > 0


def test_synchronize_returns_its_input(xp):
    x = xp.ones(3)
    assert _backend.synchronize(x) is x
    pair = [(x, xp.zeros(2))]
    assert _backend.synchronize(pair) is pair


# -- a sweep's runners ------------------------------------------------------------------

#: A tiny sweep: three networks of three layers, each its own learning rate and seed.
TINY_SWEEP = bench.Workload("tiny-sweep", (8, 5, 3, 1), "sweep", 16, output="sigmoid",
                            learning_rate=0.5, iterations=7, networks=3)
#: Each implementation of a sweep, by name: (workload, host data, dtype) -> Runner.
SWEEP_RUNNERS = {
    "sweep": lambda w, data, dtype: bench.sweep_runner(w, data, bench.resolve_target("numpy"),
                                                       dtype),
    "separate": lambda w, data, dtype: bench.separate_fits_runner(
        w, data, bench.resolve_target("numpy"), dtype),
    "torch": lambda w, data, dtype: bench.torch_vmap_runner(w, data, "cpu", dtype),
    "jax": lambda w, data, dtype: bench.jax_vmap_runner(w, data, "cpu", dtype),
}


def _sweep_runner(name, w=TINY_SWEEP, dtype="float64"):
    if name in ("torch", "jax"):
        pytest.importorskip(name)
        if name == "jax":
            _backend.enable_jax_x64()  # the tests' process: float64 runs on JAX too
    return SWEEP_RUNNERS[name](w, bench.host_data(w), dtype)


def _trained(runner):
    runner.setup()
    runner.run()
    return runner.params(), runner.costs()


@pytest.mark.parametrize("name", ["separate", "torch", "jax"])
def test_a_sweeps_peers_train_the_sweeps_networks_in_float64(name):
    # The same initial weights (each network's seed), learning rates and full-batch steps:
    # every implementation ends where xpnet.Sweep ends, and read back the same costs.
    params, costs = _trained(_sweep_runner(name))
    sweep_params, sweep_costs = _trained(_sweep_runner("sweep"))
    start = bench.sweep_initial_params(TINY_SWEEP, "float64")
    assert np.abs(sweep_params[0][0] - start[0][0]).max(axis=(1, 2)).min() > 1e-4  # each trained
    for (W, b), (W_s, b_s) in zip(params, sweep_params):
        assert W.shape == W_s.shape and b.shape == b_s.shape
        np.testing.assert_allclose(W, W_s, rtol=0, atol=1e-10)
        np.testing.assert_allclose(b, b_s, rtol=0, atol=1e-10)
    np.testing.assert_allclose(costs, sweep_costs, rtol=1e-10)


@pytest.mark.parametrize("name", list(SWEEP_RUNNERS))
def test_a_sweep_runner_gives_stacked_params_and_a_cost_per_network(name):
    runner = _sweep_runner(name, dtype="float32")
    params, costs = _trained(runner)
    K = TINY_SWEEP.networks
    assert [(W.shape, b.shape) for W, b in params] == [
        ((K, 5, 8), (K, 5, 1)), ((K, 3, 5), (K, 3, 1)), ((K, 1, 3), (K, 1, 1))]
    assert all(W.dtype == np.float32 for W, _ in params)
    assert len(costs) == K and all(c > 0 for c in costs)
    assert runner.cost() == costs[0]


def test_the_sweep_runner_says_every_network_trained():
    runner = _sweep_runner("sweep")
    _trained(runner)
    assert runner.outcomes() == ["trained"] * TINY_SWEEP.networks


def test_the_separate_fits_runner_fits_the_first_networks_asked_for():
    w = TINY_SWEEP
    one = bench.separate_fits_runner(w, bench.host_data(w), bench.resolve_target("numpy"),
                                     "float64", networks=1)
    params, costs = _trained(one)
    all_params, all_costs = _trained(_sweep_runner("separate"))
    assert params[0][0].shape == (1, 5, 8) and costs == all_costs[:1]
    np.testing.assert_array_equal(params[0][0][0], all_params[0][0][0])


def test_only_the_jax_vmap_runner_compiles_and_says_how_long():
    assert _sweep_runner("jax").compile_seconds > 0
    for name in ("sweep", "separate", "torch"):
        assert _sweep_runner(name).compile_seconds is None


def test_torch_vmap_without_a_gpu_is_unavailable_there():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    with pytest.raises(bench.Unavailable, match="no CUDA device"):
        bench.torch_vmap_runner(TINY_SWEEP, bench.host_data(TINY_SWEEP), "gpu", "float32")
