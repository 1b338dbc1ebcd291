"""The comparison machinery of ``xpnet bench`` on tiny workloads: it runs, it counts
right, it writes its files, and a missing library is "n/a", not an error.

Speed itself is measured in benchmarks/, never asserted here.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from xpnet import _backend, bench
from xpnet.errors import ConfigError

TINY = (
    bench.Workload("tiny-fit", (8, 4, 1), "fit", 16, output="sigmoid", iterations=3),
    bench.Workload("tiny-epoch", (8, 5, 3), "epoch", 20, batch_size=8),
    bench.Workload("tiny-step", (8, 4, 3), "step", 16),
)

ROW_KEYS = {"workload", "title", "layers", "kind", "m", "batch_size", "updates", "output",
            "learning_rate", "optimizer", "layout", "gemms_per_update", "flops_per_update", "flops",
            "seconds", "cpu_seconds", "ratios", "gemm_fraction", "gflops_per_s", "notes", "memory"}
IMPLEMENTATIONS = {"xpnet", "torch", "jax", "sklearn", "gemm"}


@pytest.fixture(autouse=True)
def short_gemm_timings(monkeypatch):
    monkeypatch.setattr(bench, "GEMM_MIN_SECONDS", 1e-4)


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def hide(monkeypatch, *names: str) -> None:
    """Make ``xpnet.bench``'s imports of these libraries (and their submodules) fail."""
    real = importlib.import_module

    def import_module(name, package=None):
        if name.split(".")[0] in names:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", import_module)


# -- counting -----------------------------------------------------------------------


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
    # params 4·3+4 + 2·4+2 = 26, twice (gradients); Z and A: 2·(4+2)·5 = 60; X and Y: (3+2)·5 = 25
    # parameters 26, gradients 26, A[1] and A[2] 4·5 + 2·5, X and Y 3·5 + 2·5
    assert bench.model_bytes([3, 4, 2], 5, itemsize=4) == 4 * (2 * 26 + 30 + 25)
    assert bench.model_bytes([3, 4, 2], 5, itemsize=8, optimizer_slots=2) == 8 * (4 * 26 + 30 + 25)


# -- running -------------------------------------------------------------------------


def test_tiny_run_gives_rows_with_positive_times():
    report = bench.run([], extra=TINY, backend="numpy", dtype="float32", repeat=1)
    env = report["environment"]
    assert env["backend"] == "numpy" and env["dtype"] == "float32" and env["repeat"] == 1
    rows = report["workloads"]
    assert [r["workload"] for r in rows] == ["tiny-fit", "tiny-epoch", "tiny-step"]
    for row in rows:
        assert set(row) == ROW_KEYS
        seconds = row["seconds"]
        assert set(seconds) == {"xpnet", "torch", "jax", "sklearn", "gemm"}
        assert seconds["xpnet"] > 0 and seconds["gemm"] > 0
        assert row["ratios"]["xpnet/gemm"] == pytest.approx(seconds["xpnet"] / seconds["gemm"])
        assert row["gemm_fraction"] == pytest.approx(seconds["gemm"] / seconds["xpnet"])
        assert row["gflops_per_s"] > 0
        for peer, library in (("torch", "torch"), ("jax", "jax")):
            if installed(library):
                assert seconds[peer] > 0
                assert row["ratios"][f"xpnet/{peer}"] == pytest.approx(seconds["xpnet"] / seconds[peer])
        mem = row["memory"]
        assert mem["model_bytes"] > 0 and mem["peak_bytes"] > 0
        assert mem["peak_over_model"] == pytest.approx(mem["peak_bytes"] / mem["model_bytes"])
        assert set(row["cpu_seconds"]) == IMPLEMENTATIONS
        for name, wall in seconds.items():
            cpu = row["cpu_seconds"][name]
            assert (cpu is None) == (wall is None)
            assert cpu is None or cpu >= 0
    fit, epoch, step = rows
    assert fit["updates"] == 3 and epoch["updates"] == 3 and step["updates"] == 1
    assert fit["seconds"]["sklearn"] is None and "epoch only" in fit["notes"]["sklearn"]
    if installed("sklearn"):
        assert epoch["seconds"]["sklearn"] > 0
    text = bench.tables(report)
    assert "| tiny-epoch |" in text and "| workload |" in text


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


def test_workload_settings_are_checked():
    with pytest.raises(ConfigError, match="optimizer"):
        bench.Workload("w", (2, 1), "epoch", 4, optimizer="lbfgs")
    with pytest.raises(ConfigError, match="layout"):
        bench.Workload("w", (2, 1), "epoch", 4, layout="K")
    with pytest.raises(ConfigError, match="sgd"):
        bench.Workload("w", (2, 1), "step", 4, optimizer="adam")


def test_pixel_data_is_seeded_float32_in_the_unit_interval():
    w = bench.workloads(mnist_m=300)["mnist-epoch"]
    data = bench.host_data(w)
    assert data.X.shape == (784, 300) and data.X.dtype == np.float32
    assert data.X.min() >= 0 and data.X.max() < 1
    assert data.labels.shape == (300,) and set(np.unique(data.labels)) <= set(range(10))
    assert data.Y.shape == (10, 300) and (data.Y.sum(axis=0) == 1).all()
    np.testing.assert_array_equal(bench.host_data(w).X, data.X)
    assert "random pixels" in data.source


def test_x_layouts_on_numpy_and_torch():
    X = np.arange(12.0).reshape(3, 4)
    numpy = bench.resolve_target("numpy")
    row = bench._x_in_layout(X, numpy, "float32", "C")
    col = bench._x_in_layout(X, numpy, "float32", "F")
    assert row.flags["C_CONTIGUOUS"] and col.flags["F_CONTIGUOUS"] and not col.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(col, X)
    if installed("torch"):
        col = bench._x_in_layout(X, bench.resolve_target("torch", "cpu"), "float32", "F")
        assert tuple(col.shape) == (3, 4) and col.stride() == (1, 3)  # each example contiguous
        np.testing.assert_array_equal(col.numpy(), X)


@pytest.mark.parametrize("layout", ["C", "F"])
def test_xpnet_torch_and_jax_train_the_same_adam_epoch(layout):
    # The same initial weights, the same batches (one permutation), the same Adam:
    # in float64 the peers end where xpnet ends.
    w = bench.Workload("tiny-adam", (12, 9, 7, 4), "epoch", 100, learning_rate=1e-3,
                       batch_size=16, optimizer="adam", data="pixels", layout=layout)
    data = bench.host_data(w)
    runners = {"xpnet": bench.xpnet_runner(w, data, bench.resolve_target("numpy"), "float64")}
    for peer in ("torch", "jax"):
        if installed(peer):
            runners[peer] = bench.PEER_RUNNERS[peer](w, data, "cpu", "float64")
    trained = {}
    for name, runner in runners.items():
        runner.setup()
        runner.run()
        trained[name] = runner.params()
    start = bench.initial_params(w, "float64")
    assert np.abs(trained["xpnet"][0][0] - start[0][0]).max() > 1e-4  # it trained
    for name, params in trained.items():
        for (W, b), (W_x, b_x) in zip(params, trained["xpnet"]):
            assert W.shape == W_x.shape and b.shape == b_x.shape
            np.testing.assert_allclose(W, W_x, rtol=0, atol=1e-10, err_msg=name)
            np.testing.assert_allclose(b, b_x, rtol=0, atol=1e-10, err_msg=name)


def test_a_tiny_mnist_run_gives_every_cell_its_cpu_time_and_the_load():
    report = bench.run(list(bench.MNIST_WORKLOADS), mnist_m=300, repeat=1,
                       peers=("torch", "sklearn"))
    env = report["environment"]
    for key in ("load_average_start", "load_average_end"):
        assert env[key] is None or (len(env[key]) == 3 and all(x >= 0 for x in env[key]))
    assert env["threads"] is None
    rows = report["workloads"]
    assert [r["workload"] for r in rows] == list(bench.MNIST_WORKLOADS)
    assert [r["layout"] for r in rows] == ["row-major", "column-major"]
    for row in rows:
        assert set(row) == ROW_KEYS
        assert row["m"] == 300 and row["updates"] == 3 and row["optimizer"] == "adam"
        expected = {"xpnet", "gemm"} | {p for p in ("torch", "sklearn") if installed(p)}
        for name in expected:
            assert row["seconds"][name] > 0 and row["cpu_seconds"][name] > 0, name
        assert row["seconds"]["jax"] is None and row["notes"]["jax"] == "not asked for"
        assert row["memory"]["peak_bytes"] > 0 and row["memory"]["batch"] == 128
    text = bench.tables(report)
    assert "load average (1, 5, 15 min)" in text and "threads: the libraries' defaults" in text
    line = next(x for x in text.splitlines() if x.startswith("| mnist-epoch-colmajor |"))
    assert "(CPU " in line
    assert "adam, m = 300, X column-major" in text


def test_a_thread_limit_holds_for_the_run_and_is_undone_after():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas():
        return {d["filepath"]: d["num_threads"] for d in threadpoolctl.threadpool_info()
                if d["user_api"] == "blas"}

    before = blas()
    torch_before = importlib.import_module("torch").get_num_threads() if installed("torch") else None
    report = bench.run([], extra=TINY[2:], repeat=1, peers=(), memory=False, threads=1)
    env = report["environment"]
    assert env["threads"] == 1
    assert env["blas"] and all(b["num_threads"] == 1 for b in env["blas"])
    assert "--threads 1" in bench.tables(report)
    after = blas()  # the run may load more (SciPy's, with scikit-learn): they keep theirs too
    assert {path: after[path] for path in before} == before
    if torch_before is not None:
        assert env["torch_threads"] == 1
        assert importlib.import_module("torch").get_num_threads() == torch_before


def test_missing_libraries_are_n_a(monkeypatch):
    hide(monkeypatch, "torch", "sklearn")
    report = bench.run([], extra=TINY[1:2], backend="numpy", repeat=1, memory=False)
    (row,) = report["workloads"]
    assert row["seconds"]["torch"] is None and row["seconds"]["sklearn"] is None
    assert row["ratios"]["xpnet/torch"] is None and row["ratios"]["xpnet/sklearn"] is None
    assert row["notes"]["torch"] == "torch is not installed"
    assert row["notes"]["sklearn"] == "sklearn is not installed"
    assert report["environment"]["torch"] is None
    assert row["seconds"]["xpnet"] > 0 and row["memory"] is None
    table_row = next(line for line in bench.tables(report).splitlines()
                     if line.startswith("| tiny-epoch | ") and "n/a" in line)
    cells = [c.strip() for c in table_row.strip("|").split("|")]
    assert cells[2] == "n/a" and cells[4] == "n/a"  # torch, sklearn


def test_peers_left_out_are_not_run():
    report = bench.run([], extra=TINY[2:], repeat=1, peers=(), memory=False)
    (row,) = report["workloads"]
    assert all(row["seconds"][p] is None for p in bench.PEERS)
    assert row["notes"]["jax"] == "not asked for"


def test_step_memory_on_numpy_counts_more_than_the_inputs():
    w = bench.Workload("mem", (50, 30, 10), "step", 64)
    mem = bench.step_memory(w, bench.resolve_target("numpy"), "float64")
    itemsize = 8
    inputs = itemsize * (bench.parameter_count(w.layers) + (50 + 10) * 64)  # parameters, X, Y
    assert mem["step_allocated_peak_bytes"] > 0
    assert mem["workspace_bytes"] >= itemsize * bench.parameter_count(w.layers)  # the gradients
    assert mem["peak_bytes"] == inputs + mem["workspace_bytes"] + mem["step_allocated_peak_bytes"]
    assert mem["model_bytes"] == bench.model_bytes(w.layers, 64, itemsize)
    assert mem["peak_over_model"] > 0.5


def test_step_memory_elsewhere_is_n_a():
    if not installed("jax"):
        pytest.skip("jax is not installed")
    w = bench.Workload("mem", (6, 4, 2), "step", 8)
    mem = bench.step_memory(w, bench.resolve_target("jax", "cpu"), "float32")
    assert mem["peak_bytes"] is None and mem["method"].startswith("n/a")


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


def test_bad_options_are_refused():
    with pytest.raises(ConfigError, match="unknown workload"):
        bench.run(["no-such-workload"])
    with pytest.raises(ConfigError, match="repeat"):
        bench.run([], repeat=0)
    with pytest.raises(ConfigError, match="CPU only"):
        bench.resolve_target("numpy", "gpu")
    with pytest.raises(ConfigError, match="kind"):
        bench.Workload("w", (2, 1), "train", 4)
    with pytest.raises(ConfigError, match="precision"):
        bench.run([], precision="fp8")
    with pytest.raises(ConfigError, match="float32"):
        bench.run([], dtype="float64", precision="tf32")
    with pytest.raises(ConfigError, match="threads"):
        bench.run([], threads=0)
    with pytest.raises(ConfigError, match="mnist_m"):
        bench.run([], mnist_m=0)


def test_a_tf32_run_says_so_in_its_header():
    report = bench.run([], extra=TINY[2:], backend="numpy", repeat=1, peers=(), memory=False,
                       precision="tf32")
    assert report["environment"]["precision"] == "tf32"
    assert "with TF32 products" in bench.tables(report)


def test_synchronize_returns_its_input(xp):
    x = xp.ones(3)
    assert _backend.synchronize(x) is x
    pair = [(x, xp.zeros(2))]
    assert _backend.synchronize(pair) is pair


# -- files and commands ------------------------------------------------------------------


def test_main_writes_json_and_markdown(tmp_path, capsys):
    if not installed("sklearn"):
        pytest.skip("the digits come from scikit-learn")
    json_path, md_path = tmp_path / "bench.json", tmp_path / "bench.md"
    status = bench.main(["--workloads", "digits-epoch", "--repeat", "1", "--peers", "sklearn",
                         "--json", str(json_path), "--markdown", str(md_path)])
    assert status == 0
    report = json.loads(json_path.read_text())
    (row,) = report["workloads"]
    assert row["workload"] == "digits-epoch" and row["updates"] == 29
    assert row["seconds"]["xpnet"] > 0 and row["seconds"]["sklearn"] > 0
    assert row["notes"]["data"] == "scikit-learn's digits, standardized"
    markdown = md_path.read_text()
    assert markdown.startswith("# xpnet bench")
    table = [line for line in markdown.splitlines() if line.startswith("| digits-epoch |")]
    assert len(table) == 2  # the times and the memory tables
    assert "| digits-epoch |" in capsys.readouterr().out


def test_main_reports_bad_options_in_one_line(capsys):
    assert bench.main(["--workloads", "digits-epoch", "--repeat", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xpnet bench: error: repeat must be")
    assert bench.main(["--workloads", "digits-epoch", "--threads", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xpnet bench: error: threads must be") and err.count("\n") == 1


def test_main_takes_threads_and_mnist_m(tmp_path):
    json_path = tmp_path / "bench.json"
    status = bench.main(["--workloads", "mnist-epoch", "--mnist-m", "200", "--repeat", "1",
                         "--peers", "--no-memory", "--threads", "1", "--json", str(json_path)])
    assert status == 0
    report = json.loads(json_path.read_text())
    assert report["environment"]["threads"] == 1
    (row,) = report["workloads"]
    assert row["m"] == 200 and row["cpu_seconds"]["xpnet"] > 0


@pytest.mark.parametrize("command", [["-m", "xpnet.cli", "bench", "--help"],
                                     ["-m", "xpnet.bench", "--help"]])
def test_help_in_a_subprocess(command):
    done = subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for option in ("--backend", "--dtype", "--workloads", "--iterations", "--repeat", "--json",
                   "--markdown", "--threads", "--mnist-m"):
        assert option in done.stdout
