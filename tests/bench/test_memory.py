"""xpnet.bench.memory: the peak of one update, and n/a where it cannot be traced."""

from __future__ import annotations

import pytest

from xpnet import bench


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
    pytest.importorskip("jax")
    w = bench.Workload("mem", (6, 4, 2), "step", 8)
    mem = bench.step_memory(w, bench.resolve_target("jax", "cpu"), "float32")
    assert mem["peak_bytes"] is None and mem["method"].startswith("n/a")
