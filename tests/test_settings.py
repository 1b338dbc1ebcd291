"""Any value of any type given to the estimators' settings either works or raises an
XpnetError that names the setting: never a raw TypeError, ValueError or MemoryError from
inside xpnet (property tests, hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpnet
from xpnet.data import planar_flower

#: Values of every kind a user might pass by mistake.
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4), st.binary(max_size=2), st.lists(st.integers(-1, 3), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.sampled_from([np.float32, np.float64(0.5), np.int64(2), np.array([0.1]), object(), len,
                     "relu", "sigmoid", "softmax", "float64", "numpy", "adam", 1e300]),
)

NETWORK_SETTINGS = ["hidden", "output", "init", "seed", "dtype", "init_scale", "leaky_slope",
                    "l2", "keep_prob", "precision"]
FIT_SETTINGS = ["iterations", "epochs", "batch_size", "learning_rate", "optimizer",
                "record_every", "validation_split", "early_stopping", "shuffle_seed",
                "on_record", "backend", "device", "checkpoint", "checkpoint_every", "resume"]

X, Y = planar_flower(40, seed=0)
TRIES = settings(max_examples=60, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])


def _works_or_says_so(call, name):
    try:
        call()
    except xpnet.XpnetError as exc:
        assert str(exc), f"{name}: an empty message"
    except Exception as exc:  # noqa: BLE001 - the point: nothing else may escape
        pytest.fail(f"{name}: {type(exc).__name__} escaped: {exc}")


@pytest.mark.parametrize("name", NETWORK_SETTINGS)
@TRIES
@given(value=ODD)
def test_a_network_setting_of_any_value_works_or_is_refused_with_an_xpnet_error(name, value):
    _works_or_says_so(lambda: xpnet.Network([2, 3, 1], **{name: value}), name)


@TRIES
@given(dims=st.one_of(ODD, st.lists(st.one_of(st.integers(-2, 40), st.integers(10**7, 10**13),
                                               ODD), max_size=4)))
def test_layer_dims_of_any_value_work_or_are_refused_before_allocating(dims):
    _works_or_says_so(lambda: xpnet.Network(dims), "layer_dims")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", FIT_SETTINGS)
@TRIES
@given(value=ODD)
def test_a_fit_setting_of_any_value_works_or_is_refused_with_an_xpnet_error(name, value, tmp_path_factory):
    if name == "on_record" and callable(value):
        return  # the user's own function: what it raises is theirs to see
    if name in ("checkpoint", "resume") and isinstance(value, str):
        value = str(tmp_path_factory.mktemp("ckpt") / (value or "x"))  # never the cwd
    kwargs = {name: value}
    if name not in ("iterations", "epochs"):
        kwargs.setdefault("iterations", 2) if name != "batch_size" else kwargs.setdefault("epochs", 1)
    net = xpnet.Network([2, 3, 1], seed=1)
    _works_or_says_so(lambda: net.fit(X, Y, **kwargs), name)
