"""The edges of ``xpnet``: what each command refuses, and the exact first line it says.

Each command checks what it can before it loads or trains (output folders,
optional libraries, plots the data allows, option combinations, the data
against the model), and every failure is one line on stderr with exit code 2.
Mistyped options get the command's usage and the nearest option; a config file's
values go through the command line's checks; messages name command-line options.
Most cases run ``xpnet.cli.main`` in this process: they stop before any work.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import xpnet
from xpnet import cli
from xpnet._cli_options import parse
from xpnet._cli_parser import commands, in_options, parser


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``xpnet ARGV``, run in this process."""
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *argv: str) -> str:
    """The one line ``xpnet ARGV`` refuses it with, having done no work (nothing on stdout)."""
    code, out, err = run(capsys, *argv)
    assert code == 2, out + err
    assert out == "", out
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


def subprocess_xpnet(*argv: str, code: str | None = None) -> subprocess.CompletedProcess:
    """``xpnet ARGV`` in a fresh interpreter; ``code`` runs before it (to hide a library)."""
    script = f"{code or ''}\nimport sys; from xpnet.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A fresh working folder: messages name relative paths as typed."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def spiral_model(tmp_path_factory) -> Path:
    """A 3-class model of the 2-D spiral set."""
    path = tmp_path_factory.mktemp("models") / "spiral.safetensors"
    pytest.importorskip("safetensors")
    assert cli.main(["train", "--data", "spiral", "--epochs", "5", "--batch-size", "64",
                     "--optimizer", "adam", "--learning-rate", "0.02", "--save", str(path),
                     "--no-progress"]) == 0
    return path


def wide_npz(path: Path, n_x: int = 5, m: int = 40) -> Path:
    rng = np.random.RandomState(0)
    np.savez(path, X=rng.randn(n_x, m), Y=rng.randint(0, 2, size=(1, m)))
    return path


# -- checks before the work: output folders, libraries, plots the data allows ---------


@pytest.mark.parametrize("argv, line", [
    (["train", "--plot", "nodir/curves.png"],
     "--plot nodir/curves.png: the folder nodir does not exist; create it first (mkdir -p nodir)"),
    (["train", "--plot-boundary", "nodir/regions.png"],
     "--plot-boundary nodir/regions.png: the folder nodir does not exist; create it first "
     "(mkdir -p nodir)"),
    (["train", "--save", "nodir/model.safetensors"],
     "--save nodir/model.safetensors: the folder nodir does not exist; create it first "
     "(mkdir -p nodir)"),
    (["train", "--checkpoint", "nodir/run.ckpt"],
     "--checkpoint nodir/run.ckpt: the folder nodir does not exist; create it first "
     "(mkdir -p nodir)"),
    (["predict", "model.safetensors", "new.npz", "--out", "nodir/p.npz"],
     "--out nodir/p.npz: the folder nodir does not exist; create it first (mkdir -p nodir)"),
    (["bench", "--workloads", "digits-epoch", "--json", "nodir/bench.json"],
     "--json nodir/bench.json: the folder nodir does not exist; create it first (mkdir -p nodir)"),
])
def test_an_output_in_a_missing_folder_is_refused_before_any_work(capsys, here, argv, line):
    if "--plot" in argv[1] or "--plot-boundary" in argv:
        pytest.importorskip("matplotlib")
    assert refused(capsys, *argv) == f"xpnet: error: {line}"


def test_an_output_that_is_a_folder_or_under_a_file_is_refused(capsys, here):
    (here / "afile").write_text("")
    assert refused(capsys, "train", "--save", ".") == \
        "xpnet: error: --save . is a folder: give a file name in it"
    assert refused(capsys, "train", "--save", "afile/model.safetensors") == \
        "xpnet: error: --save afile/model.safetensors: afile is not a folder"


def test_two_outputs_to_one_file_are_refused(capsys, here):
    assert refused(capsys, "train", "--save", "run.st", "--checkpoint", "./run.st") == \
        "xpnet: error: --save and --checkpoint name the same file, run.st: give each its own"


def test_a_plot_format_matplotlib_does_not_write_is_refused_before_training(capsys, here):
    pytest.importorskip("matplotlib")
    line = refused(capsys, "train", "--plot", "curves.xyz")
    assert line.startswith("xpnet: error: --plot curves.xyz: matplotlib cannot write .xyz files; "
                           "use one of the suffixes ")


@pytest.mark.parametrize("hidden, argv, line", [
    ("matplotlib", ["train", "--plot", "curves.png"],
     "--plot needs matplotlib, which is not installed: pip install 'xpnet[plot]'"),
    ("safetensors", ["train", "--save", "model.safetensors"],
     "--save needs safetensors, which is not installed: pip install 'xpnet[save]'"),
    ("safetensors", ["train", "--checkpoint", "run.ckpt"],
     "--checkpoint needs safetensors, which is not installed: pip install 'xpnet[save]'"),
])
def test_a_missing_library_is_refused_before_training(here, hidden, argv, line):
    done = subprocess_xpnet(*argv, code=f"import sys; sys.modules[{hidden!r}] = None")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert done.stderr == f"xpnet: error: {line}\n"


def test_decision_regions_of_data_that_is_not_2_d_are_refused_before_training(capsys, here):
    pytest.importorskip("matplotlib")
    wide_npz(here / "wide.npz")
    assert refused(capsys, "train", "--data", "wide.npz", "--plot-boundary", "regions.png") == \
        "xpnet: error: --plot-boundary draws 2-D data, but --data wide.npz has 5 features: " \
        "leave --plot-boundary out"


def test_an_os_error_is_one_line(capsys, monkeypatch):
    def unreadable(args):
        raise PermissionError(13, "Permission denied", args.model)

    monkeypatch.setattr(cli, "info", unreadable)
    code, out, err = run(capsys, "info", "model.safetensors")
    assert code == 2 and err == "xpnet: error: model.safetensors: Permission denied\n"


# -- conflicting and ignored options ----------------------------------------------------


@pytest.mark.parametrize("argv, line", [
    (["--epochs", "3", "--iterations", "10"],
     "give --iterations or --epochs, not both: --iterations counts full-batch updates, --epochs "
     "passes over the data"),
    (["--batch-size", "32"],
     "--batch-size needs --epochs: mini-batches are counted in epochs (--iterations counts "
     "full-batch updates)"),
    (["--epochs", "2", "--print-every", "10"],
     "--print-every counts iterations, but --epochs records every epoch: leave out one of them"),
    (["--epochs", "2", "--early-stopping", "3"],
     "--early-stopping watches the validation cost: give --validation-split too (the fraction of "
     "the training data held out)"),
    (["--resume"], "--resume goes on from --checkpoint PATH: give both"),
    (["--precision", "tf32", "--dtype", "float64"],
     "--precision tf32 multiplies float32 numbers on TF32 tensor cores: it needs --dtype float32, "
     "not --dtype float64"),
    (["--layers", "5", "3", "--hidden", "relu", "tanh", "sigmoid"],
     "--hidden relu tanh sigmoid names 3 activations for 2 hidden layers (--layers 5 3): give one "
     "for all of them, or one per layer"),
    (["--data", "spiral", "--output", "sigmoid"],
     "--output sigmoid separates 2 classes, but --data spiral has 3: use --output softmax (or auto)"),
    (["--validation-split", "0.001"],
     "--validation-split 0.001 holds out 0 of the 400 training examples of --data flower, leaving "
     "400 to train on: choose a fraction that keeps both non-empty"),
])
def test_conflicting_options_are_refused_naming_both(capsys, argv, line):
    assert refused(capsys, "train", *argv) == f"xpnet: error: {line}"


def test_a_conflict_with_the_config_file_names_the_file(capsys, here):
    (here / "run.json").write_text('{"batch_size": 32}')
    assert refused(capsys, "train", "--config", "run.json") == \
        "xpnet: error: --batch-size (from run.json) needs --epochs: mini-batches are counted in " \
        "epochs (--iterations counts full-batch updates)"


# -- the command line over the config file, for every option ---------------------------

#: A value for each of train's options in the config file, and another on the command line.
PRECEDENCE = [
    ("data", "moons", ["--data", "spiral"], "spiral"),
    ("data_seed", 3, ["--data-seed", "4"], 4),
    ("backend", "array_api_strict", ["--backend", "numpy"], "numpy"),
    ("device", "gpu", ["--device", "cpu"], "cpu"),
    ("threads", 2, ["--threads", "1"], 1),
    ("layers", [3], ["--layers", "5", "2"], [5, 2]),
    ("hidden", ["relu"], ["--hidden", "tanh"], ["tanh"]),
    ("output", "linear", ["--output", "auto"], "auto"),
    ("init", "zeros", ["--init", "he"], "he"),
    ("l2", 0.5, ["--l2", "0.1"], 0.1),
    ("keep_prob", 0.5, ["--keep-prob", "0.8"], 0.8),
    ("seed", 3, ["--seed", "4"], 4),
    ("dtype", "float64", ["--dtype", "float32"], "float32"),
    ("precision", "tf32", ["--precision", "full"], "full"),
    ("iterations", 30, ["--iterations", "20"], 20),
    ("epochs", 3, ["--epochs", "2"], 2),
    ("optimizer", "adam", ["--optimizer", "momentum"], "momentum"),
    ("learning_rate", 0.5, ["--learning-rate", "0.1"], 0.1),
    ("validation_split", 0.5, ["--validation-split", "0.2"], 0.2),
    ("print_every", 10, ["--print-every", "5"], 5),
    ("progress", True, ["--no-progress"], False),
    ("save", "a.safetensors", ["--save", "b.safetensors"], "b.safetensors"),
    ("plot", "a.png", ["--plot", "b.png"], "b.png"),
    ("plot_boundary", "a.png", ["--plot-boundary", "b.png"], "b.png"),
    ("checkpoint", "a.ckpt", ["--checkpoint", "b.ckpt"], "b.ckpt"),
    ("resume", True, ["--no-resume"], False),
]


def test_every_option_of_train_is_in_the_precedence_table():
    train = commands(parser())["train"]
    options = {a.dest for a in train._actions if a.option_strings} - {"help", "config"}
    assert options == {dest for dest, *_ in PRECEDENCE} | {"batch_size", "early_stopping"}


@pytest.mark.parametrize("dest, in_file, argv, wins", PRECEDENCE, ids=[p[0] for p in PRECEDENCE])
def test_the_command_line_wins_over_the_config_file(here, dest, in_file, argv, wins):
    config = {dest: in_file, "checkpoint": "c.ckpt"} if dest == "resume" else {dest: in_file}
    (here / "run.json").write_text(json.dumps(config))
    args = parse(["train", "--config", "run.json", *argv])
    assert getattr(args, dest) == wins
    file_only = parse(["train", "--config", "run.json"])
    assert getattr(file_only, dest) == in_file


def test_iterations_on_the_command_line_replace_the_config_files_epochs(capsys, here):
    (here / "run.json").write_text('{"epochs": 3, "batch_size": 100}')
    code, out, err = run(capsys, "train", "--config", "run.json", "--iterations", "20",
                         "--print-every", "10", "--no-progress")
    assert code == 0, err
    assert re.findall(r"^iteration\s+(\d+):", out, re.M) == ["0", "10", "19"]


def test_epochs_on_the_command_line_replace_the_config_files_iterations(capsys, here):
    (here / "run.json").write_text('{"iterations": 30, "print_every": 10, "layers": [3]}')
    code, out, err = run(capsys, "train", "--config", "run.json", "--epochs", "2", "--no-progress")
    assert code == 0, err
    assert re.findall(r"^epoch\s+(\d+):", out, re.M) == ["1", "2"] and "[2, 3, 1]" in out


# -- a config file's values go through the command line's checks ---------------------


@pytest.mark.parametrize("text, line", [
    ('{"layers": 5}', "'layers' must be a list of integers, e.g. [20, 7, 5], got 5"),
    ('{"layers": [5, 0]}', "'layers' must be an integer ≥ 1, got 0"),
    ('{"layers": [true]}', "'layers' must be a list of integers, e.g. [20, 7, 5], got [true]"),
    ('{"l2": null}', "'l2' must be a number, got null"),
    ('{"l2": NaN}', "'l2' must be a finite number ≥ 0, got nan"),
    ('{"learning_rate": "0.1"}', "'learning_rate' must be a number, got \"0.1\""),
    ('{"save": 5}', "'save' must be a string, got 5"),
    ('{"progress": "yes"}', "'progress' must be true or false, got \"yes\""),
    ('{"iterations": 2.5}', "'iterations' must be an integer, got 2.5"),
    ('{"seed": -1}', "'seed' must be an integer from 0 to 4294967295, got -1"),
    ('{"optimizer": "adamw"}',
     "'optimizer': adamw is not one of sgd, momentum, rmsprop, adam: did you mean adam?"),
    ('{"hidden": ["relu", "tnah"]}',
     "'hidden': tnah is not one of sigmoid, tanh, relu, leaky_relu, linear: did you mean tanh?"),
    ('{"data": {"nested": [1]}}', "'data' must be a string, got {\"nested\": [1]}"),
])
def test_a_config_value_of_the_wrong_type_or_range_is_one_line(capsys, here, text, line):
    (here / "run.json").write_text(text)
    assert refused(capsys, "train", "--config", "run.json") == \
        f"xpnet: error: config file run.json: {line}"


@pytest.mark.parametrize("content, line", [
    (b'{"iterashuns": 30}', "config file run.json has an unknown option 'iterashuns': did you "
                            "mean iterations?"),
    (b'{"learning-rat": 0.1}', "config file run.json has an unknown option 'learning-rat': did "
                               "you mean learning-rate?"),
    (b'{"config": "other.json"}', "config file run.json names another config file: it holds "
                                  "options only"),
    (b'[20, 7, 5]', "config file run.json must hold an object of option names and values, e.g. "
                    "{\"layers\": [20, 7, 5]}; it holds a JSON list"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "config file run.json is not text (UTF-8): it must hold a JSON "
                                   "object of options, e.g. {\"layers\": [20, 7, 5]}"),
    (b"[" * 100_000 + b"]" * 100_000,
     "config file run.json is nested too deeply to be a file of options"),
    (b" " * (2**20 + 1), f"config file run.json holds {2**20 + 1} bytes, more than the {2**20} a "
                         "file of options may: is it the right file?"),
])
def test_a_config_file_that_is_no_object_of_known_options_is_one_line(capsys, here, content, line):
    (here / "run.json").write_bytes(content)
    assert refused(capsys, "train", "--config", "run.json") == f"xpnet: error: {line}"


def test_a_toml_config_file_is_checked_alike(capsys, here):
    (here / "run.toml").write_text('layers = 5\n')
    assert refused(capsys, "train", "--config", "run.toml") == \
        "xpnet: error: config file run.toml: 'layers' must be a list of integers, e.g. " \
        "[20, 7, 5], got 5"


# -- seeds ------------------------------------------------------------------------


@pytest.mark.parametrize("argv, line", [
    (["train", "--seed", "-1"], "--seed must be an integer from 0 to 4294967295, got -1"),
    (["train", "--seed", "4294967296"],
     "--seed must be an integer from 0 to 4294967295, got 4294967296"),
    (["train", "--data-seed", "-1"], "--data-seed must be an integer from 0 to 4294966295, got -1"),
    (["evaluate", "m.safetensors", "--data-seed", "-1"],
     "--data-seed must be an integer from 0 to 4294966295, got -1"),
    (["gradcheck", "--seed", "-1"], "--seed must be an integer from 0 to 4294967295, got -1"),
    (["train", "--iterations", "0"], "--iterations must be an integer ≥ 1, got 0"),
    (["train", "--learning-rate", "nan"], "--learning-rate must be a finite number > 0, got nan"),
    (["train", "--validation-split", "1"],
     "--validation-split must be a number between 0 and 1 (both excluded), got 1"),
])
def test_values_out_of_range_are_one_line(capsys, argv, line):
    assert refused(capsys, *argv) == f"xpnet: error: {line}"


# -- typos -------------------------------------------------------------------------


@pytest.mark.parametrize("argv, line, usage", [
    (["train", "--learnig-rate", "0.1"],
     "xpnet train has no option --learnig-rate: did you mean --learning-rate?", "xpnet train"),
    (["train", "--learning-rat", "0.1"],
     "xpnet train has no option --learning-rat: did you mean --learning-rate?", "xpnet train"),
    (["train", "--learning-rat=0.1"],
     "xpnet train has no option --learning-rat: did you mean --learning-rate?", "xpnet train"),
    (["train", "spiral"], "xpnet train takes no argument 'spiral': did you mean --data spiral?",
     "xpnet train"),
    (["evaluate", "m.safetensors", "--dta", "spiral"],
     "xpnet evaluate has no option --dta: did you mean --data?", "xpnet evaluate"),
    (["bench", "--rep", "2"], "xpnet bench has no option --rep: did you mean --repeat?",
     "xpnet bench"),
    (["trian"], "xpnet has no command 'trian': did you mean train? (commands: train, sweep, "
                "evaluate, predict, info, gradcheck, bench)", "xpnet"),
    (["--learnig-rate", "0.1", "train"],
     "xpnet has no option --learnig-rate: a command's options go after it (xpnet train "
     "--learning-rate ...)", "xpnet"),
    (["predict", "m.safetensors"], "xpnet predict needs input", "xpnet predict"),
])
def test_a_typo_gets_the_commands_usage_and_the_nearest_name(capsys, argv, line, usage):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"xpnet: error: {line}"
    assert lines[1].startswith(f"usage: {usage} ")


def test_a_wrong_choice_is_one_line_with_the_nearest_choice(capsys):
    assert refused(capsys, "train", "--optimizer", "adamw") == \
        "xpnet: error: --optimizer adamw is not one of sgd, momentum, rmsprop, adam: did you mean adam?"


def test_no_parser_takes_abbreviations():
    top = parser()
    assert top.allow_abbrev is False
    assert all(command.allow_abbrev is False for command in commands(top).values())


def test_python_m_xpnet_bench_takes_no_abbreviation_either(capsys):
    from xpnet import bench

    with pytest.raises(SystemExit) as exit_:
        bench.main(["--rep", "2"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --rep 2" in capsys.readouterr().err


def test_version():
    done = subprocess.run([sys.executable, "-m", "xpnet.cli", "--version"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout == f"xpnet {xpnet.__version__}\n"


# -- messages name the command line's options -------------------------------------------


def test_messages_of_the_python_api_name_the_options():
    train = commands(parser())["train"]
    assert in_options("early_stopping watches the validation cost: give validation_data or "
                      "validation_split", train) == \
        "--early-stopping watches the validation cost: give validation_data or --validation-split"
    assert in_options("threads must be an integer ≥ 1, got 0", train) == \
        "--threads must be an integer ≥ 1, got 0"
    assert in_options("diverged (learning_rate was 50.0)", train) == \
        "diverged (--learning-rate was 50.0)"
    assert in_options("record_every must be an integer ≥ 1, got 0", train) == \
        "--print-every must be an integer ≥ 1, got 0"
    # Paths and words that are no option stay as they are.
    assert in_options("cannot read /tmp/learning_rate/x.ckpt: the data is short", train) == \
        "cannot read /tmp/learning_rate/x.ckpt: the data is short"


def test_a_divergence_names_the_learning_rate_option(capsys):
    code, out, err = run(capsys, "train", "--hidden", "relu", "--layers", "16", "--init", "he",
                         "--learning-rate", "1e4", "--iterations", "300", "--print-every", "10",
                         "--no-progress")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("xpnet: error: training diverged") and "(--learning-rate was 10000.0)" in err


def test_a_checkpoint_of_a_shorter_run_says_what_differs_and_how_to_go_on(capsys, here):
    pytest.importorskip("safetensors")
    base = ["train", "--data", "spiral", "--batch-size", "100", "--checkpoint", "run.ckpt",
            "--no-progress"]
    assert run(capsys, *base, "--epochs", "2")[0] == 0
    assert refused(capsys, *base, "--epochs", "4", "--resume") == (
        "xpnet: error: cannot resume from run.ckpt: it was written by a run with --epochs 2, and "
        "this run has --epochs 4. A checkpoint goes on only with the settings that wrote it: to "
        "train for longer, start a new run with --epochs 4 and another --checkpoint file (or "
        "delete run.ckpt); to finish the run it holds, give --epochs 2")
    assert refused(capsys, *base, "--epochs", "2", "--optimizer", "adam", "--resume") == (
        "xpnet: error: cannot resume from run.ckpt: it was written by a run with --optimizer sgd, "
        "and this run has --optimizer adam. A checkpoint goes on only with the settings that "
        "wrote it: resume with --optimizer sgd, or start a new run with another --checkpoint file "
        "(or delete run.ckpt)")


# -- evaluate and predict: data that fits the model -------------------------------------


def test_evaluate_refuses_data_of_other_classes_than_the_models(capsys, spiral_model):
    assert refused(capsys, "evaluate", str(spiral_model)) == (
        f"xpnet: error: {spiral_model} tells 3 classes apart, but flower (the default --data) has "
        "2: evaluate it on the kind of data it was trained on (--data)")


def test_evaluate_refuses_data_of_other_features_than_the_models(capsys, here, spiral_model):
    wide_npz(here / "wide.npz")
    assert refused(capsys, "evaluate", str(spiral_model), "--data", "wide.npz") == (
        f"xpnet: error: {spiral_model} takes 2 features, but --data wide.npz has 5: evaluate it "
        "on the kind of data it was trained on (--data)")


def test_evaluate_takes_the_data_the_model_fits(capsys, spiral_model):
    code, out, err = run(capsys, "evaluate", str(spiral_model), "--data", "spiral")
    assert code == 0, err
    assert "train accuracy:" in out


def _huge_npz(path: Path) -> Path:
    """An .npz whose X claims (2, 5e10) float64 elements, 745 GiB, and holds 64 bytes."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (2, 50_000_000_000)})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", header.getvalue() + b"\0" * 64)
    return path


def test_predict_reads_its_input_bounded_and_checked(capsys, here, spiral_model):
    X = np.random.RandomState(0).randn(2, 5)
    np.save(here / "x.npy", X)
    np.savez(here / "three.npz", X=np.random.RandomState(0).randn(3, 5))
    np.savez(here / "transposed.npz", X=X.T.copy())
    np.savez(here / "other.npz", Z=X)
    _huge_npz(here / "huge.npz")
    model = str(spiral_model)
    assert refused(capsys, "predict", model, "x.npy") == (
        "xpnet: error: x.npy is a .npy file (one bare array); predict reads X from an .npz: "
        "numpy.savez('new.npz', X=X), X of shape (n_x, m)")
    assert refused(capsys, "predict", model, "huge.npz").startswith(
        "xpnet: error: huge.npz: X declares shape (2, 50000000000) of float64 (800000000000 "
        "bytes), but its member holds 64 bytes after the header")
    assert refused(capsys, "predict", model, "three.npz") == (
        "xpnet: error: three.npz: X has 3 features (rows), shape (3, 5), where 2 are expected")
    assert refused(capsys, "predict", model, "transposed.npz") == (
        "xpnet: error: transposed.npz: X has 5 features (rows), shape (5, 2), where 2 are "
        "expected (X looks like (m, n_x): save X.T)")
    assert refused(capsys, "predict", model, "other.npz") == (
        "xpnet: error: other.npz holds Z but no X: save it with numpy.savez(path, X=X), X of "
        "shape (n_x, m), one example per column")
    assert refused(capsys, "predict", model, "missing.npz") == (
        "xpnet: error: missing.npz does not exist: give the .npz file holding X")


def test_predict_out_prints_the_name_it_writes(capsys, here, spiral_model):
    np.savez(here / "new.npz", X=np.random.RandomState(0).randn(2, 5))
    code, out, err = run(capsys, "predict", str(spiral_model), "new.npz", "--out", "preds")
    assert code == 0, err
    assert out == "wrote predictions (1, 5) and probabilities (3, 5) to preds.npz\n"
    with np.load(here / "preds.npz") as f:
        assert f["predictions"].shape == (1, 5)


def test_read_npz_array_is_bounded(tmp_path, monkeypatch):
    from xpnet import data
    from xpnet.errors import DataFileError

    np.savez(tmp_path / "new.npz", X=np.arange(6.0).reshape(2, 3))
    X = data.read_npz_array(tmp_path / "new.npz", dtype="float64", n_x=2)
    assert X.dtype == np.float64 and X.flags.f_contiguous
    np.testing.assert_array_equal(X, np.arange(6.0).reshape(2, 3))
    monkeypatch.setattr(data, "MAX_NPZ_BYTES", 100)
    with pytest.raises(DataFileError, match="expands to more than 100 bytes"):
        data.read_npz_array(tmp_path / "new.npz")


# -- what training prints: current figures, where it resumed, what each figure is ------


def test_train_says_what_each_figure_is(capsys):
    code, out, err = run(capsys, "train", "--iterations", "300", "--print-every", "100",
                         "--no-progress")
    assert code == 0, err
    lines = out.splitlines()
    assert re.findall(r"^iteration\s+(\d+):", out, re.M) == ["0", "100", "200", "299"]
    start = lines.index("records: iteration i gives the cost and accuracy of the parameters after "
                        "i updates, before update i + 1 (iteration 0: the initial parameters)")
    assert lines[start + 1] == "below: the parameters after all 300 updates"
    assert [line.split(":")[0] for line in lines[start + 2:]] == [
        "train cost", "test cost", "train accuracy", "test accuracy"]


def test_train_by_epochs_says_what_each_figure_is(capsys):
    code, out, err = run(capsys, "train", "--data", "spiral", "--epochs", "3", "--batch-size", "100",
                         "--validation-split", "0.2", "--no-progress")
    assert code == 0, err
    assert ("records: an epoch's cost and accuracy are the means over its mini-batches, each "
            "measured before that mini-batch's update; val_cost and val_accuracy are measured "
            "after the epoch") in out.splitlines()
    assert ("below: the parameters after the last update (the end of epoch 3); train is the whole "
            "training set, the examples held out for validation included") in out.splitlines()


def test_a_run_stopped_early_says_which_parameters_it_kept(capsys):
    code, out, err = run(capsys, "train", "--data", "spiral", "--epochs", "50", "--batch-size",
                         "32", "--optimizer", "adam", "--learning-rate", "0.5",
                         "--validation-split", "0.2", "--early-stopping", "2", "--no-progress")
    assert code == 0, err
    lines = out.splitlines()
    assert "stopped early: val_cost had not improved for 2 records (--early-stopping 2)" in lines
    kept = [line for line in lines if line.startswith("below: ")]
    assert len(kept) == 1 and re.match(
        r"below: the parameters kept, those of the best record \(epoch \d+\); ", kept[0])


def test_a_resumed_run_says_where_it_resumed(capsys, here, monkeypatch):
    pytest.importorskip("safetensors")
    from xpnet import training

    record = training._Loop.record

    def interrupted(self, state, *args, iteration, **kwargs):
        if iteration == 200:
            raise KeyboardInterrupt
        return record(self, state, *args, iteration=iteration, **kwargs)

    argv = ["train", "--iterations", "400", "--print-every", "100", "--checkpoint", "run.ckpt",
            "--resume", "--no-progress"]
    with monkeypatch.context() as patch:
        patch.setattr(training._Loop, "record", interrupted)
        code, out, err = run(capsys, *argv)
    assert code == 130 and err == "xpnet: interrupted\n"
    assert out.splitlines()[0] == "no checkpoint at run.ckpt yet: training from the start"
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert out.splitlines()[0] == "resuming from run.ckpt at iteration 200 of 400"
    assert re.findall(r"^iteration\s+(\d+):", out, re.M) == ["200", "300", "399"]
    code, out, err = run(capsys, *argv)
    assert out.splitlines()[0] == ("resuming from run.ckpt at iteration 400 of 400 (its run is "
                                   "complete: nothing is left to train)")


def test_the_progress_bar_names_the_record_its_figures_belong_to(capsys):
    pytest.importorskip("tqdm")
    from xpnet.data import planar_flower

    X, Y = planar_flower(400, seed=1)
    net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1)
    net.fit(X, Y, iterations=200, record_every=100, learning_rate=1.0, verbose=True)
    err = capsys.readouterr().err
    assert "200/200" in err and "iteration 199: cost " in err
    net.fit(X, Y, epochs=2, batch_size=100, learning_rate=1.0, verbose=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "epoch 2: cost " in err


def test_the_progress_display_says_where_a_fit_resumed(capsys, tmp_path):
    pytest.importorskip("safetensors")
    from xpnet.data import planar_flower

    X, Y = planar_flower(400, seed=1)
    checkpoint = tmp_path / "run.ckpt"

    def stop(history):
        if history.iterations[-1] == 200:
            raise KeyboardInterrupt

    fit = dict(iterations=400, record_every=100, learning_rate=1.0, checkpoint=checkpoint)
    with pytest.raises(KeyboardInterrupt):
        xpnet.Network([2, 4, 1], seed=1).fit(X, Y, **fit, on_record=stop)
    capsys.readouterr()
    xpnet.Network([2, 4, 1], seed=1).fit(X, Y, **fit, resume=checkpoint, verbose=True)
    assert capsys.readouterr().err.startswith("resumed at iteration 200 of 400\n")


# -- the README --------------------------------------------------------------------


def test_the_readme_gives_a_laptop_sized_mpirun_and_the_thread_note():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "mpirun -n 2 xpnet train" in readme and "--oversubscribe" in readme
    assert "mpirun -n 4 xpnet" not in readme
    assert "`--threads 1`" in readme
