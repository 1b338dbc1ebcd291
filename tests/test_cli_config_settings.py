"""Any value of any type in a config file (xpnet train --config) either trains or exits 2
with one line on stderr that names the option: never a traceback (property tests)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xpnet import cli

#: JSON values of every kind a user might write by mistake.
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 5), st.integers(10**6, 10**30),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6),
    st.lists(st.integers(-2, 8), max_size=3), st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.sampled_from(["relu", "adam", "float64", "flower", "spiral", "jax", "torch", 1e308]),
)
#: The options that say how much to train, and values for them that keep a run short.
COUNTS = ("iterations", "epochs", "batch_size", "print_every", "early_stopping")
SMALL = st.one_of(st.none(), st.booleans(), st.integers(-3, 4), st.floats(-2, 4),
                  st.text(max_size=4), st.lists(st.integers(0, 3), max_size=2))
#: train's options a config file may hold; --data and the output paths are left out
#: (data names load sets; paths would write files: test_cli_errors.py covers those).
KEYS = ["backend", "batch_size", "device", "dtype", "early_stopping", "epochs", "hidden", "init",
        "iterations", "keep_prob", "l2", "layers", "learning_rate", "optimizer", "output",
        "precision", "print_every", "seed", "data_seed", "threads", "validation_split", "progress"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("key", KEYS)
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_config_value_of_any_kind_trains_or_exits_2_with_one_line(key, data, tmp_path, capsys):
    # Counts of work stay small (a huge one is a valid, long run); everything else is anything.
    value = data.draw(SMALL if key in COUNTS else VALUES, label=key)
    config = tmp_path / "run.json"
    config.write_text(json.dumps({key: value}))
    # Short runs whatever the file says: the command line wins over it.
    short = [] if key in COUNTS else ["--iterations", "3"]
    with np.errstate(all="ignore"):
        code = cli.main(["train", "--config", str(config), *short])
    err = capsys.readouterr().err
    assert code in (0, 2), (code, err)
    if code == 2:
        first = err.splitlines()[0]
        assert first.startswith("xpnet: error: "), err
        assert "Traceback" not in err
