"""benchmarks/gpu_targets.py, the GPU report's measurements, runs end to end on a CPU.

GPU machines are lent rarely and briefly: a script that broke since its last run
would waste one. Its dry run (CPU-sized shapes on NumPy) goes through every
measurement and the report's table; the GPU-only rows read n/a.

Here in tests/, not in benchmarks/: it checks that the script works, it times
nothing, so the test suite (``python -m pytest``) runs it on every change, and
the GPU check's benchmark run (``pytest benchmarks -k "cupy or torch or jax"``)
does not spend device time on it.
"""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import gpu_targets  # noqa: E402


def test_the_dry_run_reports_every_target(tmp_path, capsys):
    pytest.importorskip("h5py", reason="the targets' cat fits read the course's h5 files (xpnet[h5])")
    assert gpu_targets.main(["--small", "--backend", "numpy", "--repeat", "1",
                             "--iterations", "3", "--json", str(tmp_path / "targets.json")]) == 0
    report = capsys.readouterr().out
    for target in ("wide step ≤ 1.15× bare GEMMs (float32)", "wide step ≤ 1.0× PyTorch eager",
                   "wide step with TF32 ≥ 3× faster than float32",
                   "cat fit (3 its) faster than NumPy on this machine's CPU"):
        assert target in report
    results = json.loads((tmp_path / "targets.json").read_text())
    assert results["wide"]["full"]["gemm"] > 0 and results["wide"]["gemm bf16"] is None


def test_bfloat16_gemms_are_timed_on_torch():
    pytest.importorskip("torch")
    from xpnet import bench

    seconds = gpu_targets.bf16_gemms((64, 32, 32, 1), 16, bench.resolve_target("torch", "cpu"), 1)
    assert seconds > 0


def test_an_h100_is_known_by_its_form_or_taken_for_the_sxm():
    assert gpu_targets.peak("NVIDIA H100 PCIe") == gpu_targets.PEAKS["H100 PCIe"]
    assert gpu_targets.peak("NVIDIA H100 80GB HBM3") == gpu_targets.PEAKS["H100 SXM"]
    assert gpu_targets.peak("NVIDIA H200") == gpu_targets.PEAKS["H200"]
    assert gpu_targets.peak("Tesla T4") is None
