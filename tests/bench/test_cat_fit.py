"""benchmarks/cat_fit.py, the cat-fit timings of the GPU report, runs end to end on a CPU
with xpnet.bench's runners, and prints its table.

In tests/ for the reason test_gpu_targets.py is: it checks a script, it times nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from _bench_cases import markdown_tables
from conftest import CAT_DATA

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import cat_fit  # noqa: E402


def test_the_table_has_a_row_per_run_with_the_same_final_cost(capsys):
    if not (CAT_DATA / "train_catvnoncat.h5").is_file():
        pytest.skip(f"the course's cat files are not in {CAT_DATA}")
    pytest.importorskip("h5py")
    pytest.importorskip("torch")
    cat_fit.main(["--data", str(CAT_DATA), "--iterations", "3", "--dtype", "float64",
                  "--xpnet", "numpy", "--torch", "cpu"])
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "four-layer cat fit [12288, 20, 7, 5, 1], 3 iterations, float64"
    (table,) = markdown_tables(out)
    assert list(table) == ["xpnet on numpy", "pytorch autograd + SGD on cpu"]
    xpnet, torch = table.values()
    assert list(xpnet) == ["run", "seconds", "final cost", "time / pytorch autograd + SGD on cpu"]
    assert float(xpnet["final cost"]) == pytest.approx(float(torch["final cost"]), abs=2e-6)
    assert float(xpnet["final cost"]) > 0 and torch["time / pytorch autograd + SGD on cpu"] == "1.00"


def test_without_the_cat_files_it_says_so(tmp_path):
    with pytest.raises(SystemExit, match="cat_fit.py: no cat data: random"):
        cat_fit.main(["--data", str(tmp_path), "--iterations", "1", "--torch"])
