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
            "learning_rate", "gemms_per_update", "flops_per_update", "flops", "seconds",
            "ratios", "gemm_fraction", "gflops_per_s", "notes", "memory"}


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
    assert bench.model_bytes([3, 4, 2], 5, itemsize=4) == 4 * (2 * 26 + 60 + 25)
    assert bench.model_bytes([3, 4, 2], 5, itemsize=8, optimizer_slots=2) == 8 * (4 * 26 + 60 + 25)


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
    fit, epoch, step = rows
    assert fit["updates"] == 3 and epoch["updates"] == 3 and step["updates"] == 1
    assert fit["seconds"]["sklearn"] is None and "epoch only" in fit["notes"]["sklearn"]
    if installed("sklearn"):
        assert epoch["seconds"]["sklearn"] > 0
    text = bench.tables(report)
    assert "| tiny-epoch |" in text and "| workload |" in text


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
    inputs = itemsize * (bench.parameter_count(w.layers) + (50 + 10) * 64)
    assert mem["step_allocated_peak_bytes"] > 0
    assert mem["peak_bytes"] == inputs + mem["step_allocated_peak_bytes"]
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


@pytest.mark.parametrize("command", [["-m", "xpnet.cli", "bench", "--help"],
                                     ["-m", "xpnet.bench", "--help"]])
def test_help_in_a_subprocess(command):
    done = subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for option in ("--backend", "--dtype", "--workloads", "--iterations", "--repeat", "--json",
                   "--markdown"):
        assert option in done.stdout
