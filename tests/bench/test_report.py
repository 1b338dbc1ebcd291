"""xpnet.bench.report: a report's tables, read cell by cell (never by their padding)."""

from __future__ import annotations

from _bench_cases import MEMORY_COLUMNS, SWEEP_COLUMNS, TIMES_COLUMNS, markdown_tables

from xpnet import bench

ENVIRONMENT = {
    "backend": "numpy", "device": "cpu", "peer_device": "cpu", "dtype": "float32", "repeat": 3,
    "python": "3.12.0", "cpus": 2, "platform": "Linux", "numpy": "2.0", "numpy_blas": "openblas",
    "torch": None, "jax": "0.4", "sklearn": None, "threads": 1,
    "blas": [{"library": "numpy", "internal_api": "openblas", "num_threads": 1}],
    "load_average_start": [1.0, 0.5, 0.25], "load_average_end": None,
}


def _row(name, xpnet, torch, *, memory=True, notes=None):
    seconds = {"xpnet": xpnet, "torch": torch, "jax": None, "sklearn": None, "gemm": xpnet / 2}
    return {
        "workload": name, "layers": [3, 4, 2], "output": "softmax", "kind": "epoch", "m": 10,
        "batch_size": 4, "updates": 3, "optimizer": "adam", "layout": "column-major",
        "flops_per_update": 2e9, "seconds": seconds,
        "cpu_seconds": {k: None if v is None else v / 2 for k, v in seconds.items()},
        "ratios": {"xpnet/torch": None if torch is None else xpnet / torch, "xpnet/jax": None,
                   "xpnet/sklearn": None, "xpnet/gemm": 2.0},
        "gemm_fraction": 0.5, "gflops_per_s": 12.34,
        "notes": notes or {"data": "random"},
        "memory": {"batch": 4, "peak_bytes": 3 * 2**20, "model_bytes": 2 * 2**20,
                   "peak_over_model": 1.5, "method": "tracemalloc"} if memory else None,
    }


def test_the_tables_hold_each_cell_in_its_column():
    report = {"environment": ENVIRONMENT,
              "workloads": [_row("a", 1.5, 0.5), _row("b", 0.02, None, memory=False)]}
    times, memory = markdown_tables(bench.tables(report))
    assert list(times["a"]) == TIMES_COLUMNS and list(memory["a"]) == MEMORY_COLUMNS
    assert times["a"]["xpnet"] == "1.500 (CPU 0.750)"
    assert times["a"]["torch"] == "0.500 (CPU 0.250)"
    assert times["a"]["jax"] == "n/a" and times["a"]["xpnet/jax"] == "n/a"
    assert times["a"]["xpnet/torch"] == "3.00×" and times["a"]["xpnet/GEMM"] == "2.00×"
    assert times["a"]["GEMM share"] == "50 %" and times["a"]["xpnet GFLOP/s"] == "12.3"
    assert times["b"]["xpnet"] == "20.00 ms (CPU 10.00 ms)"
    assert memory["a"] == {"workload": "a", "network": "[3, 4, 2] softmax",
                           "training": "adam, m = 10, X column-major", "batch": "4",
                           "updates": "3", "GFLOP / update": "2.000", "step peak": "3.0",
                           "model bytes": "2.0", "peak / model": "1.50"}
    assert memory["b"]["batch"] == "4" and memory["b"]["step peak"] == "n/a"


def test_the_header_and_the_notes():
    report = {"environment": ENVIRONMENT,
              "workloads": [_row("a", 1.0, None), _row("b", 1.0, None, notes={"data": "digits"})]}
    lines = bench.tables(report).splitlines()
    assert "- python 3.12.0, 2 CPUs, Linux" in lines
    assert ("- threads: --threads 1; in force: BLAS numpy's openblas 1; torch n/a; "
            "jax its own (not limited)") in lines
    assert "- load average (1, 5, 15 min): 1.00 0.50 0.25 at the start, n/a at the end" in lines
    assert "- data (a): random" in lines and "- data (b): digits" in lines
    assert "- memory (all workloads): tracemalloc" in lines


def test_the_formats_of_a_cell():
    assert bench.format_seconds(None) == "n/a"
    assert bench.format_seconds(1.23456) == "1.235"
    assert bench.format_seconds(1.23456, " s") == "1.235 s"
    assert bench.format_seconds(0.0123, " s") == "12.30 ms"
    assert bench.format_ratio(None) == "n/a" and bench.format_ratio(2) == "2.00×"
    assert bench.format_load(None) == "n/a" and bench.format_load([1, 2.5, 3]) == "1.00 2.50 3.00"
    assert bench.ratio(1.0, None) is None and bench.ratio(None, 1.0) is None
    assert bench.ratio(1.0, 0.0) is None and bench.ratio(3.0, 2.0) == 1.5


def _sweep_row(name, K, *, jax=0.5):
    seconds = {"sweep": 2.0, "one_fit": 1.0, "separate_fits": 4.0, "torch_vmap": None,
               "jax_vmap": jax}
    return {
        "workload": name, "kind": "sweep", "networks": K, "layers": [3, 4, 1],
        "seconds": seconds,
        "cpu_seconds": {k: None if v is None else v / 2 for k, v in seconds.items()},
        "compile_seconds": {} if jax is None else {"jax_vmap": 0.25},
        "ratios": {f"sweep/{k}": None if v is None else 2.0 / v
                   for k, v in seconds.items() if k != "sweep"},
        "gflops_per_s": 5.55, "notes": {"data": "random", "torch_vmap": "not asked for"},
        "memory": None,
    }


def test_the_sweep_table_holds_each_cell_in_its_column():
    report = {"environment": ENVIRONMENT,
              "workloads": [_sweep_row("s4", 4), _sweep_row("s1", 1, jax=None)]}
    (sweeps,) = markdown_tables(bench.tables(report))  # no table of the other workloads
    assert list(sweeps) == ["s4", "s1"] and list(sweeps["s4"]) == SWEEP_COLUMNS
    assert sweeps["s4"] == {
        "workload": "s4", "K": "4", "xpnet sweep": "2.000 (CPU 1.000)",
        "one fit": "1.000 (CPU 0.500)", "K separate fits": "4.000 (CPU 2.000)",
        "torch vmap": "n/a", "jax vmap": "0.500 (CPU 0.250)", "sweep/one fit": "2.00×",
        "sweep/separate": "0.50×", "sweep/torch vmap": "n/a", "sweep/jax vmap": "4.00×",
        "jax compile": "0.250", "sweep GFLOP/s": "5.5"}
    assert sweeps["s1"]["jax vmap"] == sweeps["s1"]["jax compile"] == "n/a"


def test_a_report_of_sweeps_and_other_workloads_has_every_table_and_all_notes():
    report = {"environment": ENVIRONMENT, "workloads": [_row("a", 1.0, None), _sweep_row("s", 4)]}
    text = bench.tables(report)
    times, memory, sweeps = markdown_tables(text)
    assert list(times) == list(memory) == ["a"] and list(sweeps) == ["s"]
    assert "- data (all workloads): random" in text.splitlines()
    assert "- torch_vmap (s): not asked for" in text.splitlines()
