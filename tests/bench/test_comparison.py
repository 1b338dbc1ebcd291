"""xpnet.bench.comparison on tiny workloads: it runs, it counts right, a missing library
is "n/a", not an error, and bad settings are refused before anything runs.

Speed itself is measured in benchmarks/, never asserted here.
"""

from __future__ import annotations

import dataclasses
import importlib

import pytest
from _bench_cases import (  # noqa: F401 (short_gemm_timings: an autouse fixture)
    IMPLEMENTATIONS,
    ROW_KEYS,
    SWEEP_IMPLEMENTATIONS,
    SWEEP_ROW_KEYS,
    TINY,
    TINY_SWEEP,
    hide,
    installed,
    markdown_tables,
    short_gemm_timings,
)

from xpnet import bench
from xpnet.errors import ConfigError, DataFileError


def test_tiny_run_gives_rows_with_positive_times():
    report = bench.run([], extra=TINY, backend="numpy", dtype="float32", repeat=1)
    env = report["environment"]
    assert env["backend"] == "numpy" and env["dtype"] == "float32" and env["repeat"] == 1
    rows = report["workloads"]
    assert [r["workload"] for r in rows] == ["tiny-fit", "tiny-epoch", "tiny-step"]
    for row in rows:
        assert set(row) == ROW_KEYS
        seconds = row["seconds"]
        assert set(seconds) == IMPLEMENTATIONS
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
    times, memory = markdown_tables(bench.tables(report))
    assert list(times) == list(memory) == ["tiny-fit", "tiny-epoch", "tiny-step"]
    assert times["tiny-fit"]["sklearn"] == "n/a"


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
    times, memory = markdown_tables(text)
    assert "(CPU " in times["mnist-epoch-colmajor"]["xpnet"]
    assert memory["mnist-epoch-colmajor"]["training"] == "adam, m = 300, X column-major"


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
    times, memory = markdown_tables(bench.tables(report))
    cells = times["tiny-epoch"]
    assert cells["torch"] == cells["sklearn"] == "n/a"
    assert cells["xpnet/torch"] == cells["xpnet/sklearn"] == "n/a"
    assert memory["tiny-epoch"]["step peak"] == "n/a"


def test_peers_left_out_are_not_run():
    report = bench.run([], extra=TINY[2:], repeat=1, peers=(), memory=False)
    (row,) = report["workloads"]
    assert all(row["seconds"][p] is None for p in bench.PEERS)
    assert row["notes"]["jax"] == "not asked for"


def test_bad_options_are_refused():
    with pytest.raises(ConfigError, match="unknown workload"):
        bench.run(["no-such-workload"])
    with pytest.raises(ConfigError, match="repeat"):
        bench.run([], repeat=0)
    with pytest.raises(ConfigError, match="CPU only"):
        bench.resolve_target("numpy", "gpu")
    with pytest.raises(ConfigError, match="precision"):
        bench.run([], precision="fp8")
    with pytest.raises(ConfigError, match="float32"):
        bench.run([], dtype="float64", precision="tf32")
    with pytest.raises(ConfigError, match="threads"):
        bench.run([], threads=0)
    with pytest.raises(ConfigError, match="mnist_m"):
        bench.run([], mnist_m=0)
    with pytest.raises(ConfigError, match="unknown peers"):
        bench.run([], peers=("tensorflow",))


def test_a_cat_folder_asked_for_must_hold_the_cat_files(tmp_path):
    with pytest.raises(DataFileError, match="does not hold train_catvnoncat.h5"):
        bench.run(["cat-fit"], iterations=1, cat_dir=tmp_path)


def test_a_tf32_run_says_so_in_its_header():
    report = bench.run([], extra=TINY[2:], backend="numpy", repeat=1, peers=(), memory=False,
                       precision="tf32")
    assert report["environment"]["precision"] == "tf32"
    assert "with TF32 products" in bench.tables(report)


# -- sweeps -------------------------------------------------------------------------------


def test_a_tiny_sweep_row_has_every_time_and_the_sweeps_ratio_to_each():
    report = bench.run([], extra=[TINY_SWEEP], repeat=1)
    (row,) = report["workloads"]
    assert set(row) == SWEEP_ROW_KEYS
    assert row["kind"] == "sweep" and row["networks"] == 2 and row["memory"] is None
    assert row["learning_rates"] == list(TINY_SWEEP.learning_rates) and row["seeds"] == [1, 2]
    assert row["outcomes"] == ["trained", "trained"]
    seconds = row["seconds"]
    assert set(seconds) == set(row["cpu_seconds"]) == SWEEP_IMPLEMENTATIONS
    expected = {"sweep", "one_fit", "separate_fits"} | {
        f"{peer}_vmap" for peer in ("torch", "jax") if installed(peer)}
    for name in SWEEP_IMPLEMENTATIONS:
        assert (seconds[name] is not None) == (name in expected), name
    for name in expected - {"sweep"}:
        assert seconds[name] > 0
        assert row["ratios"][f"sweep/{name}"] == pytest.approx(seconds["sweep"] / seconds[name])
    assert row["gflops_per_s"] == pytest.approx(TINY_SWEEP.flops / seconds["sweep"] / 1e9)


def test_a_sweep_row_keeps_jaxs_compile_time_apart():
    pytest.importorskip("jax")
    report = bench.run([], extra=[TINY_SWEEP], repeat=1, peers=("jax",))
    (row,) = report["workloads"]
    assert set(row["compile_seconds"]) == {"jax_vmap"} and row["compile_seconds"]["jax_vmap"] > 0


def test_a_sweep_of_one_network_is_its_own_separate_fit():
    one = dataclasses.replace(TINY_SWEEP, name="tiny-sweep-1", networks=1)
    (row,) = bench.run([], extra=[one], repeat=1, peers=())["workloads"]
    assert row["seconds"]["separate_fits"] == row["seconds"]["one_fit"] > 0


def test_without_separate_the_k_fits_are_left_out_and_said_so():
    (row,) = bench.run([], extra=[TINY_SWEEP], repeat=1, peers=(), separate=False)["workloads"]
    assert row["seconds"]["separate_fits"] is None and row["ratios"]["sweep/separate_fits"] is None
    assert row["notes"]["separate_fits"] == "not asked for (--no-separate)"
    assert row["seconds"]["one_fit"] > 0


def test_a_sweeps_peers_left_out_or_missing_are_n_a(monkeypatch):
    hide(monkeypatch, "torch")
    (row,) = bench.run([], extra=[TINY_SWEEP], repeat=1, peers=("torch",))["workloads"]
    assert row["seconds"]["torch_vmap"] is None
    assert row["notes"]["torch_vmap"] == "torch is not installed"
    assert row["seconds"]["jax_vmap"] is None and row["notes"]["jax_vmap"] == "not asked for"
    assert row["ratios"]["sweep/torch_vmap"] is None


def test_a_sweep_says_how_it_goes_as_it_runs():
    said = []
    bench.run([], extra=[TINY_SWEEP], repeat=1, peers=(), progress=said.append)
    assert said == ["tiny-sweep: sweep ...", "  xpnet sweep of 2 ...", "  xpnet one fit ...",
                    "  xpnet 2 separate fits ..."]
