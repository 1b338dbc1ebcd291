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


def test_train_runs_a_backend_on_the_device_asked_for():
    pytest.importorskip("torch")
    run = xpnet("train", "--iterations", "20", "--backend", "torch", "--device", "cpu")
    assert run.returncode == 0, run.stderr
    assert "on torch (cpu)" in run.stdout


def test_a_gpu_asked_of_a_cpu_only_backend_is_one_line():
    run = xpnet("train", "--iterations", "20", "--backend", "numpy", "--device", "gpu")
    assert run.returncode == 2
    assert run.stderr == ("xpnet: error: numpy runs on the CPU only: "
                          "for a GPU, train on cupy, torch or jax\n")


def test_a_gpu_asked_of_torch_without_one_is_one_line():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("torch has a CUDA device here")
    run = xpnet("train", "--iterations", "20", "--backend", "torch", "--device", "gpu")
    assert run.returncode == 2
    assert "torch sees no CUDA device" in run.stderr and "Traceback" not in run.stderr


def test_train_takes_tf32_precision_for_float32_only():
    run = xpnet("train", "--iterations", "20", "--precision", "tf32")
    assert run.returncode == 0, run.stderr
    refused = xpnet("train", "--iterations", "20", "--precision", "tf32", "--dtype", "float64")
    assert refused.returncode == 2
    assert refused.stderr == ("xpnet: error: --precision tf32 multiplies float32 numbers on TF32 "
                              "tensor cores: it needs --dtype float32, not --dtype float64\n")


def test_train_on_the_cat_data():
    pytest.importorskip("h5py", reason="the cat data is read with h5py (xpnet[h5])")
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


def test_train_on_spiral_picks_softmax_and_runs_mini_batch_adam():
    run = xpnet("train", "--data", "spiral", "--epochs", "40", "--batch-size", "32",
                "--optimizer", "adam", "--learning-rate", "0.02", "--layers", "32")
    assert run.returncode == 0, run.stderr
    assert "output='softmax'" in run.stdout and "epoch    40" in run.stdout
    assert accuracy(run.stdout, "train") > 80.0


def test_train_reads_options_from_a_config_file_and_the_command_line_wins(tmp_path):
    config = tmp_path / "run.json"
    config.write_text('{"iterations": 30, "print-every": 10, "optimizer": "momentum", "layers": [3]}')
    run = xpnet("train", "--config", str(config), "--iterations", "20")
    assert run.returncode == 0, run.stderr
    assert "[2, 3, 1]" in run.stdout
    assert re.findall(r"^iteration\s+(\d+):", run.stdout, re.M) == ["0", "10", "19"]


def test_a_config_file_with_an_unknown_option_is_one_line(tmp_path):
    config = tmp_path / "run.json"
    config.write_text('{"iterashuns": 30}')
    run = xpnet("train", "--config", str(config))
    assert run.returncode == 2 and "iterashuns" in run.stderr and "Traceback" not in run.stderr


def test_saved_model_can_be_evaluated_inspected_and_used_to_predict(tmp_path):
    pytest.importorskip("safetensors", reason="--save writes safetensors files (xpnet[save])")
    model = tmp_path / "flower.safetensors"
    run = xpnet("train", "--iterations", "3000", "--print-every", "1000", "--save", str(model))
    assert run.returncode == 0, run.stderr
    trained_accuracy = accuracy(run.stdout, "train")

    evaluated = xpnet("evaluate", str(model))
    assert evaluated.returncode == 0, evaluated.stderr
    assert accuracy(evaluated.stdout, "train") == trained_accuracy
    assert "test cost:" in evaluated.stdout

    info = xpnet("info", str(model))
    assert info.returncode == 0 and "[2, 4, 1]" in info.stdout and "xpnet.model" in info.stdout

    import numpy as np

    from xpnet.data import planar_flower

    X, _ = planar_flower(10, seed=5)
    np.savez(tmp_path / "new.npz", X=X)
    out = tmp_path / "predictions.npz"
    predicted = xpnet("predict", str(model), str(tmp_path / "new.npz"), "--out", str(out))
    assert predicted.returncode == 0, predicted.stderr
    with np.load(out) as f:
        assert f["predictions"].shape == (1, 10) and f["probabilities"].shape == (1, 10)
        probabilities = f["probabilities"]

    elsewhere = tmp_path / "elsewhere.npz"
    predicted = xpnet("predict", str(model), str(tmp_path / "new.npz"), "--out", str(elsewhere),
                      "--backend", "array_api_strict", "--device", "cpu")
    assert predicted.returncode == 0, predicted.stderr
    with np.load(elsewhere) as f:
        np.testing.assert_array_equal(f["probabilities"], probabilities)


def test_train_draws_learning_curves_and_decision_regions(tmp_path):
    pytest.importorskip("matplotlib")
    curves, regions = tmp_path / "curves.png", tmp_path / "regions.png"
    run = xpnet("train", "--iterations", "200", "--plot", str(curves), "--plot-boundary", str(regions))
    assert run.returncode == 0, run.stderr
    for png in (curves, regions):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_progress_bar_replaces_the_record_lines():
    pytest.importorskip("tqdm", reason="the progress bar is tqdm's (xpnet[progress])")
    run = xpnet("train", "--iterations", "300", "--progress")
    assert run.returncode == 0, run.stderr
    assert "iteration      0: cost" not in run.stdout
    assert "300/300" in run.stderr


def test_train_resumes_from_its_checkpoint(tmp_path):
    pytest.importorskip("safetensors", reason="checkpoints are safetensors files (xpnet[save])")
    ckpt = tmp_path / "run.ckpt"
    first = xpnet("train", "--iterations", "400", "--checkpoint", str(ckpt), "--resume")
    again = xpnet("train", "--iterations", "400", "--checkpoint", str(ckpt), "--resume")
    assert first.returncode == again.returncode == 0, again.stderr
    # The second run starts from the finished checkpoint: same history, no new updates.
    assert accuracy(again.stdout, "train") == accuracy(first.stdout, "train")


def test_gradcheck_passes_for_every_activation_and_output():
    run = xpnet("gradcheck")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count(" ok") == 15 and "FAIL" not in run.stdout


def test_evaluating_a_file_that_is_not_a_model_is_one_line(tmp_path):
    bogus = tmp_path / "bogus.safetensors"
    bogus.write_bytes(b"\x00" * 64)
    run = xpnet("evaluate", str(bogus))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.startswith("xpnet: error:")


# -- --threads: the thread counts of NumPy's BLAS and torch for one command ----------


def _blas_threads() -> dict:
    from threadpoolctl import threadpool_info

    return {d["filepath"]: d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"}


def test_limit_threads_holds_inside_and_restores_after():
    from xpnet._threads import limit_threads

    before = _blas_threads()
    assert before, "threadpoolctl finds NumPy's BLAS"
    with limit_threads(1):
        assert set(_blas_threads().values()) == {1}
        with limit_threads(2):  # nested: the inner one holds, then the outer one again
            assert set(_blas_threads().values()) == {2}
        assert set(_blas_threads().values()) == {1}
    assert _blas_threads() == before
    with limit_threads(None):
        assert _blas_threads() == before


def test_limit_threads_restores_torch_even_on_an_error():
    torch = pytest.importorskip("torch")
    from xpnet._threads import limit_threads

    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="inside"):
        with limit_threads(1, torch=True):
            assert torch.get_num_threads() == 1
            assert set(_blas_threads().values()) == {1}
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before


def test_limit_threads_leaves_torch_unimported_unless_asked():
    code = ("import sys; from xpnet._threads import limit_threads\n"
            "with limit_threads(1): assert 'torch' not in sys.modules")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("n", [0, -1, 1.5, True, 2**31])
def test_limit_threads_refuses_what_is_not_a_positive_integer(n):
    from xpnet._threads import limit_threads
    from xpnet.errors import ConfigError

    with pytest.raises(ConfigError, match="threads must be an integer from 1 to 4096"):
        with limit_threads(n):
            pass


def test_train_runs_under_the_thread_limit_and_restores_it(monkeypatch, capsys):
    from xpnet import cli
    from xpnet.models import Network

    seen = []
    fit = Network.fit

    def recording_fit(self, *args, **kwargs):
        seen.append(_blas_threads())
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(Network, "fit", recording_fit)
    before = _blas_threads()
    assert cli.main(["train", "--iterations", "20", "--print-every", "10", "--threads", "1"]) == 0
    assert len(seen) == 1 and set(seen[0].values()) == {1}
    assert _blas_threads() == before
    assert "train accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["train"], ["evaluate", "model.safetensors"],
                                     ["predict", "model.safetensors", "new.npz"],
                                     ["bench", "--workloads", "digits-epoch"]])
def test_threads_below_one_are_one_line_and_exit_code_2(command):
    run = xpnet(*command, "--threads", "0")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr == "xpnet: error: --threads must be an integer from 1 to 4096 (or left " \
                         "out for the libraries' defaults), got 0\n"


def test_evaluate_and_predict_take_threads(tmp_path):
    pytest.importorskip("safetensors", reason="--save writes safetensors files (xpnet[save])")
    import numpy as np

    from xpnet.data import planar_flower

    model = tmp_path / "flower.safetensors"
    assert xpnet("train", "--iterations", "50", "--save", str(model), "--threads", "1").returncode == 0
    evaluated = xpnet("evaluate", str(model), "--threads", "1")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "test cost:" in evaluated.stdout
    X, _ = planar_flower(5, seed=5)
    np.savez(tmp_path / "new.npz", X=X)
    predicted = xpnet("predict", str(model), str(tmp_path / "new.npz"), "--threads", "2",
                      "--backend", "torch")
    if predicted.returncode == 2 and "torch" in predicted.stderr:
        pytest.skip("torch is not installed")
    assert predicted.returncode == 0, predicted.stderr
    assert len(predicted.stdout.split()) == X.shape[1]
