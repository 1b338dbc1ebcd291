"""``xpnet train`` end to end, in a subprocess, as a user runs it."""

import re
import subprocess
import sys

import pytest

from conftest import CAT_DATA


def xpnet(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "xpnet.cli", *args],
                          capture_output=True, text=True, timeout=timeout)


def accuracy(output, split):
    return float(re.search(rf"{split} accuracy:\s+([\d.]+) %", output).group(1))


def test_train_with_no_arguments_reaches_ninety_percent_on_the_flower():
    run = xpnet("train")
    assert run.returncode == 0, run.stderr
    assert "iteration      0: cost 0.69" in run.stdout
    assert accuracy(run.stdout, "train") >= 90.0
    assert accuracy(run.stdout, "test") >= 85.0


def test_train_prints_the_cost_every_n_iterations():
    run = xpnet("train", "--iterations", "300", "--print-every", "100")
    costs = re.findall(r"iteration\s+(\d+): cost", run.stdout)
    assert costs == ["0", "100", "200", "299"]


def test_train_takes_layers_activations_dtype_and_backend():
    run = xpnet("train", "--layers", "5", "3", "--hidden", "relu", "leaky_relu", "--init", "he",
                "--iterations", "50", "--learning-rate", "0.1", "--seed", "3",
                "--dtype", "float64", "--backend", "array_api_strict")
    assert run.returncode == 0, run.stderr
    assert "[2, 5, 3, 1]" in run.stdout and "'relu', 'leaky_relu'" in run.stdout
    assert "float64" in run.stdout and "array_api_strict" in run.stdout


def test_train_on_the_cat_data():
    if not CAT_DATA.is_dir():
        pytest.skip(f"cat data not found at {CAT_DATA}")
    run = xpnet("train", "--data", str(CAT_DATA), "--iterations", "3", "--print-every", "1")
    assert run.returncode == 0, run.stderr
    assert "X_train (12288, 209)" in run.stdout
    assert "iteration      0: cost 0.771749" in run.stdout


def test_a_bad_data_folder_is_one_line_and_exit_code_2(tmp_path):
    run = xpnet("train", "--data", str(tmp_path))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert "train_catvnoncat.h5" in run.stderr


def test_a_missing_backend_is_one_line(monkeypatch):
    run = subprocess.run(
        [sys.executable, "-c",
         "import sys; sys.modules['cupy'] = None; from xpnet.cli import main; sys.exit(main(['train', '--backend', 'cupy']))"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 2
    assert "cupy" in run.stderr and "Traceback" not in run.stderr


def test_help_shows_examples():
    run = xpnet("train", "--help")
    assert run.returncode == 0 and "examples:" in run.stdout
