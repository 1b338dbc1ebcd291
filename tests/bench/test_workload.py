"""xpnet.bench.workload: the workloads, the GEMMs of an update and what they cost, counted
by hand."""

from __future__ import annotations

import pytest

from xpnet import bench
from xpnet.errors import ConfigError


def test_step_gemms_and_flops_counted_by_hand():
    # [3, 4, 2] at m = 5. Forward: W1 (4×3)·X (3×5), W2 (2×4)·A1 (4×5).
    # Backward: dW2 = dZ2 (2×5)·A1ᵀ (5×4), dA1 = W2ᵀ (4×2)·dZ2 (2×5), dW1 = dZ1 (4×5)·Xᵀ (5×3).
    gemms = bench.step_gemms([3, 4, 2], 5)
    assert [(g.name, g.rows, g.inner, g.cols) for g in gemms] == [
        ("W[1]·A[0]", 4, 3, 5),
        ("W[2]·A[1]", 2, 4, 5),
        ("dZ[2]·A[1]ᵀ", 2, 5, 4),
        ("W[2]ᵀ·dZ[2]", 4, 2, 5),
        ("dZ[1]·A[0]ᵀ", 4, 5, 3),
    ]
    # 2·4·3·5 + 2·2·4·5 + 2·2·5·4 + 2·4·2·5 + 2·4·5·3 = 120 + 80 + 80 + 80 + 120
    assert [g.flops for g in gemms] == [120, 80, 80, 80, 120]
    assert bench.step_flops([3, 4, 2], 5) == 480


def test_cat_step_flops_counted_by_hand():
    # Σ n[l]·n[l-1] = 12288·20 + 20·7 + 7·5 + 5·1 = 245940; the dA products skip layer 1: 180.
    assert bench.step_flops(bench.CAT_LAYERS, 209) == 2 * 209 * (2 * 245940 + 180)


def test_workload_flops_sum_uneven_batches():
    w = bench.Workload("w", (3, 4, 2), "epoch", 12, batch_size=5)
    assert w.batch_sizes == [5, 5, 2]
    assert w.updates == 3
    assert w.flops == 96 * (5 + 5 + 2)  # one update on m examples: 2·m·(2·20 + 8) = 96·m
    fit = bench.Workload("f", (3, 4, 2), "fit", 5, iterations=7)
    assert fit.flops == 7 * 480


def test_model_bytes_counted_by_hand():
    # parameters 4·3+4 + 2·4+2 = 26, gradients 26, A[1] and A[2] 4·5 + 2·5, X and Y 3·5 + 2·5
    assert bench.model_bytes([3, 4, 2], 5, itemsize=4) == 4 * (2 * 26 + 30 + 25)
    assert bench.model_bytes([3, 4, 2], 5, itemsize=8, optimizer_slots=2) == 8 * (4 * 26 + 30 + 25)


def test_mnist_workloads_are_the_mnist_shaped_adam_epoch_in_two_layouts():
    standard = bench.workloads()
    row_major, col_major = (standard[name] for name in bench.MNIST_WORKLOADS)
    for w in (row_major, col_major):
        assert w.layers == (784, 256, 128, 10) and w.output == "softmax"
        assert w.kind == "epoch" and w.m == 60_000 and w.batch_size == 128
        assert w.optimizer == "adam" and w.learning_rate == 1e-3 and w.data == "pixels"
        assert w.updates == 469 and w.batch_sizes[-1] == 60_000 - 468 * 128
    assert (row_major.layout, col_major.layout) == ("C", "F")
    small = bench.workloads(mnist_m=7500)["mnist-epoch-colmajor"]
    assert small.m == 7500 and small.updates == 59 and small.layout == "F"
    assert set(bench.MNIST_WORKLOADS) <= set(bench.ALL_WORKLOADS)
    assert not set(bench.MNIST_WORKLOADS) & set(bench.WORKLOAD_NAMES)  # asked for by name


def test_every_workload_the_options_name_exists():
    assert set(bench.workloads()) == set(bench.ALL_WORKLOADS)
    assert bench.workloads(iterations=7)["cat-fit"].iterations == 7


def test_workload_settings_are_checked():
    with pytest.raises(ConfigError, match="optimizer"):
        bench.Workload("w", (2, 1), "epoch", 4, optimizer="lbfgs")
    with pytest.raises(ConfigError, match="layout"):
        bench.Workload("w", (2, 1), "epoch", 4, layout="K")
    with pytest.raises(ConfigError, match="sgd"):
        bench.Workload("w", (2, 1), "step", 4, optimizer="adam")
    with pytest.raises(ConfigError, match="kind"):
        bench.Workload("w", (2, 1), "train", 4)


def test_sweep_workloads_are_the_two_cat_networks_at_each_K():
    sweeps = bench.sweep_workloads(iterations=7)
    assert list(sweeps) == list(bench.SWEEP_WORKLOADS) == [
        f"sweep-{n}-{K}" for n in ("2layer", "4layer") for K in (1, 4, 16, 64)]
    for name, w in sweeps.items():
        network, K = name.split("-")[1], int(name.split("-")[2])
        assert w.layers == {"2layer": (12288, 7, 1), "4layer": (12288, 20, 7, 5, 1)}[network]
        assert (w.kind, w.networks, w.m, w.iterations) == ("sweep", K, 209, 7)
        assert (w.output, w.optimizer, w.data, w.learning_rate) == ("sigmoid", "sgd", "cat", 0.0075)


def test_sweeps_are_asked_for_by_name_and_take_the_iterations():
    assert set(bench.SWEEP_WORKLOADS) <= set(bench.ALL_WORKLOADS)
    assert not set(bench.SWEEP_WORKLOADS) & set(bench.WORKLOAD_NAMES)
    assert bench.workloads(iterations=3)["sweep-4layer-16"].iterations == 3


def test_a_sweep_has_a_learning_rate_a_decade_down_and_a_seed_per_network():
    w = bench.Workload("s", (4, 3, 1), "sweep", 8, output="sigmoid", learning_rate=0.1,
                       networks=4)
    assert w.seeds == (1, 2, 3, 4)
    assert w.learning_rates == pytest.approx([0.1, 0.1 * 10**-0.25, 0.1 * 10**-0.5,
                                              0.1 * 10**-0.75], rel=1e-15)
    one = bench.Workload("s", (4, 3, 1), "sweep", 8, output="sigmoid", learning_rate=0.1)
    assert one.learning_rates == (0.1,) and one.seeds == (1,)


def test_a_sweeps_flops_count_every_network():
    w = bench.Workload("s", (3, 4, 2), "sweep", 5, output="sigmoid", iterations=7, networks=3)
    assert w.updates == 7 and w.batch_sizes == [5] * 7
    assert w.flops == 3 * 7 * 480  # K · iterations · one update of [3, 4, 2] at m = 5


def test_sweep_workload_settings_are_checked():
    with pytest.raises(ConfigError, match="networks"):
        bench.Workload("s", (2, 1), "sweep", 4, output="sigmoid", networks=0)
    with pytest.raises(ConfigError, match="a fit workload trains one network"):
        bench.Workload("w", (2, 1), "fit", 4, networks=2)
    with pytest.raises(ConfigError, match="optimizer sgd, output sigmoid"):
        bench.Workload("s", (2, 1), "sweep", 4, output="sigmoid", optimizer="adam")
    with pytest.raises(ConfigError, match="optimizer sgd, output sigmoid"):
        bench.Workload("s", (2, 2), "sweep", 4, output="softmax")
