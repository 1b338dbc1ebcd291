"""What the tests of xpnet.bench share: tiny workloads, the keys of a report's row,
a way to hide a library from the benchmarks, a reader of Markdown tables (tests
compare a table's cells, never its padding), and short GEMM timings.

Not a conftest.py: tests/ has one, and ``from conftest import ...`` in the
tests beside it must keep finding that one.
"""

from __future__ import annotations

import importlib
import importlib.util

import pytest

from xpnet import bench

TINY = (
    bench.Workload("tiny-fit", (8, 4, 1), "fit", 16, output="sigmoid", iterations=3),
    bench.Workload("tiny-epoch", (8, 5, 3), "epoch", 20, batch_size=8),
    bench.Workload("tiny-step", (8, 4, 3), "step", 16),
)

ROW_KEYS = {"workload", "title", "layers", "kind", "m", "batch_size", "updates", "output",
            "learning_rate", "optimizer", "layout", "gemms_per_update", "flops_per_update", "flops",
            "seconds", "cpu_seconds", "ratios", "gemm_fraction", "gflops_per_s", "notes", "memory"}
IMPLEMENTATIONS = {"xpnet", "torch", "jax", "sklearn", "gemm"}
#: A tiny sweep of two networks, and the keys of a sweep's row and of its times.
TINY_SWEEP = bench.Workload("tiny-sweep", (8, 4, 1), "sweep", 16, output="sigmoid",
                            iterations=3, networks=2)
SWEEP_ROW_KEYS = {"workload", "title", "layers", "kind", "networks", "m", "updates", "output",
                  "optimizer", "learning_rates", "seeds", "outcomes", "flops", "seconds",
                  "cpu_seconds", "compile_seconds", "ratios", "gflops_per_s", "notes", "memory"}
SWEEP_IMPLEMENTATIONS = {"sweep", "one_fit", "separate_fits", "torch_vmap", "jax_vmap"}
#: The columns of the times table and of the memory table of ``bench.tables``.
TIMES_COLUMNS = ["workload", "xpnet", "torch", "jax", "sklearn", "GEMM", "xpnet/torch",
                 "xpnet/jax", "xpnet/sklearn", "xpnet/GEMM", "GEMM share", "xpnet GFLOP/s"]
MEMORY_COLUMNS = ["workload", "network", "training", "batch", "updates", "GFLOP / update",
                  "step peak", "model bytes", "peak / model"]
SWEEP_COLUMNS = ["workload", "K", "xpnet sweep", "one fit", "K separate fits", "torch vmap",
                 "jax vmap", "sweep/one fit", "sweep/separate", "sweep/torch vmap",
                 "sweep/jax vmap", "jax compile", "sweep GFLOP/s"]


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


def cells(line: str) -> list[str]:
    """The cells of one Markdown table row, stripped: "| a |  b |" -> ["a", "b"]."""
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def markdown_tables(text: str) -> list[dict[str, dict[str, str]]]:
    """Every Markdown table in ``text``, in order, as {first cell: {column: cell}} by row."""
    found, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("|") or (i and lines[i - 1].startswith("|")):
            continue  # not the header of a table
        header, table = cells(line), {}
        for row in lines[i + 2:]:
            if not row.startswith("|"):
                break
            values = cells(row)
            assert len(values) == len(header), row
            table[values[0]] = dict(zip(header, values))
        found.append(table)
    return found


@pytest.fixture(autouse=True)
def short_gemm_timings(monkeypatch):
    """Bare GEMM timings that repeat for 0.1 ms, not 50: these tests count, never time.
    Autouse in every test module that imports it."""
    from xpnet.bench import runner_gemm

    monkeypatch.setattr(runner_gemm, "GEMM_MIN_SECONDS", 1e-4)
