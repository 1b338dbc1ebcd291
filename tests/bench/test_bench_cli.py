"""xpnet.bench.cli and xpnet.bench.options: ``python -m xpnet.bench`` and ``xpnet bench``
take the same options, write their files, refuse bad options in one line, and
``xpnet``'s other commands never load the benchmark harness."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from _bench_cases import (  # noqa: F401 (short_gemm_timings: an autouse fixture)
    installed,
    markdown_tables,
    short_gemm_timings,
)

from xpnet import bench


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
    tables = markdown_tables(markdown)
    assert [list(table) for table in tables] == [["digits-epoch"], ["digits-epoch"]]  # times, memory
    printed = markdown_tables(capsys.readouterr().out)
    assert [list(table) for table in printed] == [["digits-epoch"], ["digits-epoch"]]


def test_main_reports_bad_options_in_one_line(capsys, tmp_path):
    assert bench.main(["--workloads", "digits-epoch", "--repeat", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xpnet bench: error: repeat must be")
    assert bench.main(["--workloads", "digits-epoch", "--threads", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xpnet bench: error: threads must be") and err.count("\n") == 1
    assert bench.main(["--workloads", "cat-fit", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"xpnet bench: error: {tmp_path} does not hold") and err.count("\n") == 1


def test_main_takes_threads_and_mnist_m(tmp_path):
    json_path = tmp_path / "bench.json"
    status = bench.main(["--workloads", "mnist-epoch", "--mnist-m", "200", "--repeat", "1",
                         "--peers", "--no-memory", "--threads", "1", "--json", str(json_path)])
    assert status == 0
    report = json.loads(json_path.read_text())
    assert report["environment"]["threads"] == 1
    (row,) = report["workloads"]
    assert row["m"] == 200 and row["cpu_seconds"]["xpnet"] > 0


def test_a_float64_command_runs_jax_in_float64(tmp_path):
    # The command owns its process and switches JAX's 64-bit types on; the library does not.
    pytest.importorskip("jax")
    json_path = tmp_path / "bench.json"
    status = bench.main(["--workloads", "mnist-epoch", "--mnist-m", "200", "--repeat", "1",
                         "--dtype", "float64", "--peers", "jax", "--no-memory",
                         "--json", str(json_path)])
    assert status == 0
    (row,) = json.loads(json_path.read_text())["workloads"]
    assert row["seconds"]["jax"] > 0 and "jax" not in row["notes"]


def test_main_runs_a_sweep_without_its_separate_fits(tmp_path, capsys):
    json_path = tmp_path / "bench.json"
    status = bench.main(["--workloads", "sweep-2layer-4", "--iterations", "1", "--repeat", "1",
                         "--peers", "--no-separate", "--json", str(json_path)])
    assert status == 0
    (row,) = json.loads(json_path.read_text())["workloads"]
    assert row["workload"] == "sweep-2layer-4" and row["networks"] == 4 and row["updates"] == 1
    assert row["seconds"]["sweep"] > 0 and row["seconds"]["separate_fits"] is None
    (sweeps,) = markdown_tables(capsys.readouterr().out)
    assert sweeps["sweep-2layer-4"]["K separate fits"] == "n/a"


@pytest.mark.parametrize("command", [["-m", "xpnet.cli", "bench", "--help"],
                                     ["-m", "xpnet.bench", "--help"]])
def test_help_in_a_subprocess(command):
    done = subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for option in ("--backend", "--dtype", "--workloads", "--iterations", "--repeat", "--json",
                   "--markdown", "--threads", "--mnist-m", "--data", "--no-separate",
                   "sweep-2layer-16"):
        assert option in done.stdout


#: Prints the xpnet.bench modules and the peer libraries loaded once xpnet's parser is built.
LOADED = """
import sys
import xpnet.cli
xpnet.cli._parser()
print(" ".join(sorted(m for m in sys.modules
                      if m.startswith("xpnet.bench") or m.split(".")[0] in ("torch", "jax", "sklearn"))))
"""


def test_building_the_parser_loads_the_bench_options_and_nothing_else():
    done = subprocess.run([sys.executable, "-c", LOADED], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["xpnet.bench", "xpnet.bench.options"]


@pytest.mark.parametrize("command", [["--help"], ["train", "--help"]])
def test_xpnet_help_loads_no_runner(command):
    code = ("import runpy, sys\n"
            f"sys.argv = ['xpnet', *{command!r}]\n"
            "try:\n    runpy.run_module('xpnet.cli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('loaded:', ' '.join(sorted(m for m in sys.modules if m.startswith('xpnet.bench'))))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.rsplit("loaded:", 1)[1].split()
    assert loaded == ["xpnet.bench", "xpnet.bench.options"]
