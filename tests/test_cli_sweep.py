"""``xpnet sweep``: train's options, with --learning-rate, --l2, --keep-prob and --seeds
taking one value or more; every combination trained in one pass, ranked on validation
data (the test set, or --validation-split), the table printed best first.

Most cases run ``xpnet.cli.main`` in this process on small generated data and few
iterations; the refusals stop before any work.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpnet
from xpnet import cli
from xpnet._cli_options import parse

from test_cli_errors import refused, run

README = Path(__file__).resolve().parents[1] / "README.md"

#: A quick sweep: 2 × 2 networks on the moons set.
QUICK = ["sweep", "--data", "moons", "--learning-rate", "0.1", "1", "--seeds", "0", "1",
         "--iterations", "60", "--print-every", "20", "--no-progress"]


def table(out: str) -> list[dict[str, str]]:
    """The rows of the table ``sweep`` printed, as {column: cell}."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["network"])
    header = lines[start].split()
    rows = []
    for line in lines[start + 1:]:
        cells = line.split()
        if not cells or not cells[0].isdigit():
            break
        rows.append(dict(zip(header, cells[:len(header) - 1] + [" ".join(cells[len(header) - 1:])])))
    return rows


def final_figures(out: str) -> dict[str, float]:
    return {name: float(value) for name, value in
            re.findall(r"^(train cost|test cost|train accuracy|test accuracy):\s+([\d.]+)", out, re.M)}


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A fresh working folder: messages name relative paths as typed."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- what it trains and prints ------------------------------------------------------


def test_sweep_trains_every_combination_and_prints_the_table_best_first(capsys):
    code, out, err = run(capsys, *QUICK, "--l2", "0", "0.1")
    assert code == 0, err
    rows = table(out)
    assert len(rows) == 8
    assert sorted((r["learning_rate"], r["l2"], r["seed"]) for r in rows) == sorted(
        (rate, l2, seed) for rate in ("0.1", "1") for l2 in ("0", "0.1") for seed in ("0", "1"))
    accuracies = [float(r["val_accuracy"]) for r in rows]
    assert accuracies == sorted(accuracies, reverse=True)
    assert "every combination of --learning-rate 0.1 1 × --l2 0 0.1 × --keep-prob 1 × --seeds 0 1" \
        in out.splitlines()


def test_sweep_prints_one_line_per_record_over_the_networks(capsys):
    code, out, err = run(capsys, *QUICK)
    assert code == 0, err
    assert re.findall(r"^iteration\s+(\d+):\s+4 networks, cost ", out, re.M) == ["0", "20", "40", "59"]


def test_sweep_ranks_on_the_test_set_by_default(capsys):
    code, out, err = run(capsys, *QUICK)
    assert code == 0, err
    assert "validation: the test set (400 examples) ranks the networks" in out.splitlines()
    assert "(the test set chose it: its test figures are optimistic)" in out


def test_a_validation_split_ranks_on_held_out_training_examples_instead(capsys):
    code, out, err = run(capsys, *QUICK, "--validation-split", "0.25")
    assert code == 0, err
    assert ("validation: 0.25 of the training examples held out (--validation-split 0.25) rank "
            "the networks") in out.splitlines()
    assert "optimistic" not in out


def test_the_best_networks_final_figures_are_those_train_gives_for_its_settings(capsys):
    # The best row's settings, trained alone by `xpnet train`, end with the same figures.
    code, out, err = run(capsys, *QUICK, "--dtype", "float64")
    assert code == 0, err
    best = table(out)[0]
    code, alone, err = run(capsys, "train", "--data", "moons", "--learning-rate",
                           best["learning_rate"], "--seed", best["seed"], "--iterations", "60",
                           "--dtype", "float64", "--no-progress")
    assert code == 0, err
    assert final_figures(out) == pytest.approx(final_figures(alone), abs=1e-6)
    assert len(final_figures(out)) == 4


def test_seed_is_another_name_of_seeds():
    assert parse(["sweep", "--seed", "3", "4"]).seed == parse(["sweep", "--seeds", "3", "4"]).seed \
        == [3, 4]


def test_the_settings_default_to_trains():
    args = parse(["sweep"])
    assert (args.learning_rate, args.l2, args.keep_prob, args.seed) == (None, [0.0], [1.0], [1])


def test_sweep_by_epochs_stops_each_network_early_on_the_test_set(capsys):
    code, out, err = run(capsys, "sweep", "--data", "spiral", "--epochs", "30", "--batch-size",
                         "64", "--optimizer", "adam", "--learning-rate", "0.01", "0.5",
                         "--early-stopping", "2", "--no-progress")
    assert code == 0, err
    rows = table(out)
    assert {r["outcome"] for r in rows} <= {"trained", "stopped early"}
    assert any(r["outcome"] == "stopped early" for r in rows)
    assert re.search(r"^epoch\s+1:\s+2 networks, cost", out, re.M)


def test_a_network_that_diverges_is_listed_last_and_the_others_go_on(capsys):
    code, out, err = run(capsys, "sweep", "--data", "moons", "--learning-rate", "0.1", "1e4",
                         "--iterations", "300", "--no-progress")
    assert code == 0, err
    rows = table(out)
    assert [r["outcome"] for r in rows] == ["trained", "diverged"]
    assert re.search(r"^network 1 diverged: the cost became nan at iteration \d+$", out, re.M)
    assert "best: network 0 (--learning-rate 0.1, " in out


def test_a_sweep_whose_every_network_diverged_prints_the_table_and_exits_2(capsys):
    code, out, err = run(capsys, "sweep", "--data", "moons", "--learning-rate", "1e4", "3e4",
                         "--iterations", "300", "--no-progress")
    assert code == 2
    assert [r["outcome"] for r in table(out)] == ["diverged", "diverged"]
    assert err == ("xpnet: error: every network of the sweep diverged: try smaller values of "
                   "--learning-rate than 10000 30000 (or standardize X)\n")


# -- what it writes ----------------------------------------------------------------


def test_save_writes_the_best_network(capsys, here):
    pytest.importorskip("safetensors")
    code, out, err = run(capsys, *QUICK, "--l2", "0", "0.1", "--save", "best.safetensors")
    assert code == 0, err
    assert "best network saved to best.safetensors" in out
    best = table(out)[0]
    net = xpnet.load("best.safetensors")
    assert (net.seed, net.l2) == (int(best["seed"]), float(best["l2"]))
    data = xpnet.data.load_dataset("moons")
    assert 100 * net.score(data.X_test, data.Y_test) == pytest.approx(
        final_figures(out)["test accuracy"], abs=0.005)


def test_a_sweep_resumed_from_its_checkpoint_ends_as_an_uninterrupted_one(capsys, here):
    pytest.importorskip("safetensors")
    code, whole, err = run(capsys, *QUICK, "--iterations", "40")
    assert code == 0, err
    code, _, err = run(capsys, *QUICK, "--iterations", "40", "--checkpoint", "run.ckpt",
                       "--print-every", "10")
    assert code == 0, err
    code, out, err = run(capsys, *QUICK, "--iterations", "40", "--checkpoint", "run.ckpt",
                         "--print-every", "10", "--resume")
    assert code == 0, err
    assert "resuming from run.ckpt" in out
    assert table(out) == table(whole)


def test_resume_without_checkpoint_is_refused(capsys):
    assert refused(capsys, *QUICK, "--resume") == (
        "xpnet: error: --resume goes on from --checkpoint PATH: give both")


def test_json_writes_the_table_best_first(capsys, here):
    code, out, err = run(capsys, *QUICK, "--json", "table.json")
    assert code == 0, err
    written = json.loads((here / "table.json").read_text())
    assert written["data"] == "moons" and written["ranked_by"] == "test set"
    assert [str(row["network"]) for row in written["rows"]] == [r["network"] for r in table(out)]
    assert {"learning_rate", "l2", "keep_prob", "seed", "val_accuracy", "outcome"} <= set(
        written["rows"][0])


def test_plot_draws_the_learning_curves(capsys, here):
    pytest.importorskip("matplotlib")
    code, out, err = run(capsys, *QUICK, "--plot", "curves.png")
    assert code == 0, err
    assert "learning curves drawn to curves.png" in out
    assert (here / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- a config file ----------------------------------------------------------------


def test_a_config_file_gives_a_setting_one_value_or_a_list(capsys, here):
    (here / "run.json").write_text('{"learning_rate": 0.5, "seeds": [1, 2], "keep-prob": [1],'
                                   ' "iterations": 10, "layers": [3]}')
    args = parse(["sweep", "--config", "run.json"])
    assert (args.learning_rate, args.seed, args.keep_prob) == ([0.5], [1, 2], [1.0])
    assert parse(["sweep", "--config", "run.json", "--seeds", "7"]).seed == [7]


@pytest.mark.parametrize("text, line", [
    ('{"learning_rate": "0.1"}',
     "config file run.json: 'learning_rate' must be a number or a list of numbers, got \"0.1\""),
    ('{"seeds": [1, -1]}',
     "config file run.json: 'seeds' must be an integer from 0 to 4294967295, got -1"),
    ('{"seeds": [1], "seed": [2]}', "config file run.json gives 'seed' twice (as seeds and seed)"),
    ('{"plot_boundary": "regions.png"}',
     "config file run.json has an unknown option 'plot_boundary'"),
])
def test_a_config_value_a_sweep_cannot_take_is_one_line(capsys, here, text, line):
    (here / "run.json").write_text(text)
    assert refused(capsys, "sweep", "--config", "run.json") == f"xpnet: error: {line}"


#: JSON values of every kind, for a sweep's settings in a config file.
CONFIG_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 5), st.floats(allow_nan=False),
    st.text(max_size=4), st.lists(st.one_of(st.integers(-2, 3), st.floats(-1, 2), st.booleans(),
                                            st.text(max_size=2)), max_size=3),
    st.lists(st.lists(st.integers(0, 2), max_size=2), max_size=2),
)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("key", ["learning_rate", "l2", "keep_prob", "seeds"])
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(value=CONFIG_VALUES)
def test_a_config_value_of_any_kind_sweeps_or_exits_2_with_one_line(key, value, tmp_path, capsys):
    config = tmp_path / "run.json"
    config.write_text(json.dumps({key: value}))
    code, out, err = run(capsys, "sweep", "--config", str(config), "--iterations", "3",
                         "--layers", "2", "--no-progress")
    assert code in (0, 2), (code, err)
    if code == 2:
        assert err.startswith("xpnet: error: ") and err.count("\n") == 1, err


# -- refusals: one line, exit code 2, before any work --------------------------------


@pytest.mark.parametrize("argv, line", [
    (["--learning-rate", "0.1", "-1"], "--learning-rate must be a finite number > 0, got -1"),
    (["--l2", "0", "nan"], "--l2 must be a finite number ≥ 0, got nan"),
    (["--keep-prob", "1", "0"], "--keep-prob must be a number in (0, 1], got 0"),
    (["--seeds", "1", "4294967296"],
     "--seeds must be an integer from 0 to 4294967295, got 4294967296"),
    (["--seed", "-1"], "--seeds must be an integer from 0 to 4294967295, got -1"),
    (["--learning-rate", "0.1", "0.1"],
     "--learning-rate 0.1 0.1 gives 0.1 more than once: give each value once (the sweep trains "
     "every combination of the values given)"),
    (["--epochs", "3", "--iterations", "10"],
     "give --iterations or --epochs, not both: --iterations counts full-batch updates, --epochs "
     "passes over the data"),
    (["--batch-size", "32"],
     "--batch-size needs --epochs: mini-batches are counted in epochs (--iterations counts "
     "full-batch updates)"),
    (["--precision", "tf32", "--dtype", "float64"],
     "--precision tf32 multiplies float32 numbers on TF32 tensor cores: it needs --dtype float32, "
     "not --dtype float64"),
    (["--save", "run.st", "--json", "./run.st"],
     "--save and --json name the same file, run.st: give each its own"),
    (["--json", "nodir/table.json"],
     "--json nodir/table.json: the folder nodir does not exist; create it first (mkdir -p nodir)"),
    (["--data", "spiral", "--output", "sigmoid"],
     "--output sigmoid separates 2 classes, but --data spiral has 3: use --output softmax (or auto)"),
    (["--validation-split", "0.001"],
     "--validation-split 0.001 holds out 0 of the 400 training examples of --data flower, leaving "
     "400 to train on: choose a fraction that keeps both non-empty"),
    (["--backend", "numpy", "--device", "gpu"],
     "numpy runs on the CPU only: for a GPU, train on cupy, torch or jax"),
])
def test_a_bad_value_or_combination_is_refused_in_one_line(capsys, here, argv, line):
    assert refused(capsys, "sweep", *argv) == f"xpnet: error: {line}"


@pytest.mark.parametrize("argv, line", [
    (["--learnig-rate", "0.1"], "xpnet sweep has no option --learnig-rate: did you mean "
                                "--learning-rate?"),
    (["--seedz", "1"], "xpnet sweep has no option --seedz: did you mean --seed?"),
    (["--learning-rate"], "--learning-rate needs at least one value"),
    (["--plot-boundary", "regions.png"],
     "xpnet sweep has no option --plot-boundary: it is xpnet train's (train the best settings "
     "with it to draw their decision regions)"),
    (["moons"], "xpnet sweep takes no argument 'moons': did you mean --data moons?"),
])
def test_a_typo_gets_the_sweeps_usage_and_the_nearest_name(capsys, argv, line):
    code, out, err = run(capsys, "sweep", *argv)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"xpnet: error: {line}"
    assert lines[1].startswith("usage: xpnet sweep ")


def test_sweep_refuses_to_run_under_mpirun(capsys, monkeypatch):
    class Launched:
        rank, size = 0, 2

    monkeypatch.setattr(cli.distributed, "world", lambda: Launched())
    assert refused(capsys, *QUICK) == (
        "xpnet: error: xpnet sweep trains in one process, its networks as one stack: start it "
        "without mpirun (data-parallel training is xpnet train's)")


# -- the README ---------------------------------------------------------------------


def test_the_readmes_sweep_example_is_a_command_sweep_takes():
    example = ("xpnet sweep --data ../shared/data/catvnoncat --layers 7 --learning-rate 0.001 0.01 "
               "0.1 --seeds 0 1 2 --l2 0 0.1 --iterations 300")
    assert example in README.read_text()
    args = parse(example.split()[1:])
    assert (args.layers, args.learning_rate, args.seed, args.l2, args.iterations) == (
        [7], [0.001, 0.01, 0.1], [0, 1, 2], [0.0, 0.1], 300)
