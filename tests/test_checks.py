"""The small checks of settings (xpnet._checks): what each takes, and what it says when it refuses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from xpnet import _checks
from xpnet.errors import ConfigError


@pytest.mark.parametrize("value, plain, with_numpy", [
    (3, True, True), (0, True, True), (-2, True, True), (10**400, True, True),
    (True, False, False), (False, False, False), (np.bool_(True), False, False),
    (np.int64(3), False, True), (np.uint8(3), False, True),
    (3.0, False, False), (np.float64(3.0), False, False), ("3", False, False), (None, False, False),
])
def test_is_int_refuses_bools_and_takes_numpy_integers_only_when_asked(value, plain, with_numpy):
    assert _checks.is_int(value) is plain
    assert _checks.is_int(value, numpy=True) is with_numpy


@pytest.mark.parametrize("value, plain, with_numpy", [
    (3, True, True), (0.5, True, True), (math.inf, True, True), (math.nan, True, True),
    (True, False, False), (np.float32(0.5), False, True), (np.int64(3), False, True),
    (np.float64(0.5), True, True),  # a subclass of float
    ("0.5", False, False), (1j, False, False), (None, False, False),
])
def test_is_real_refuses_bools_and_takes_numpy_scalars_only_when_asked(value, plain, with_numpy):
    assert _checks.is_real(value) is plain
    assert _checks.is_real(value, numpy=True) is with_numpy


@pytest.mark.parametrize("value, finite", [
    (1, True), (-0.5, True), (math.inf, False), (-math.inf, False), (math.nan, False),
    (10**400, False), (True, False), ("1", False),
])
def test_is_finite_is_a_real_number_that_is_a_finite_float(value, finite):
    assert _checks.is_finite(value) is finite


def test_check_int_returns_the_int_and_names_the_setting_when_it_refuses():
    assert _checks.check_int(5, "epochs") == 5
    assert type(_checks.check_int(np.int64(5), "epochs", numpy=True)) is int
    with pytest.raises(ConfigError, match=r"^epochs must be an integer ≥ 1, got 0$"):
        _checks.check_int(0, "epochs")
    with pytest.raises(ConfigError, match=r"^epochs must be an integer ≥ 1, got True$"):
        _checks.check_int(True, "epochs")
    with pytest.raises(ConfigError, match=r"^resolution must be an integer ≥ 2, got 1$"):
        _checks.check_int(1, "resolution", low=2)
    with pytest.raises(ConfigError, match=r"got np.int64\(5\)|got 5"):
        _checks.check_int(np.int64(5), "epochs")  # NumPy's integers only with numpy=True


def test_check_int_says_what_the_caller_asks_and_raises_its_error():
    with pytest.raises(ValueError, match=r"^max_iter must be positive integers, got 2.5$"):
        _checks.check_int(2.5, "max_iter", must="positive integers", error=ValueError)


def test_check_finite_returns_a_float_of_what_float_takes():
    assert _checks.check_finite(1, "h", above=0) == 1.0
    assert _checks.check_finite(np.float32(0.5), "h", above=0) == 0.5
    assert _checks.check_finite(np.array(0.25), "h", above=0) == 0.25
    assert _checks.check_finite(0, "l2", at_least=0) == 0.0


@pytest.mark.parametrize("value", [0, -1e-9, math.inf, math.nan, True, "0.1", None, [0.1], 10**400])
def test_check_finite_refuses_with_the_bound_in_the_message(value):
    with pytest.raises(ConfigError, match=r"^h must be a finite number > 0, got "):
        _checks.check_finite(value, "h", above=0)


def test_check_finite_says_at_least():
    with pytest.raises(ConfigError, match=r"^l2 must be a finite number ≥ 0, got -1$"):
        _checks.check_finite(-1, "l2", at_least=0)


@pytest.mark.parametrize("h", [0, -1e-6, math.nan, "1e-6"])
def test_gradient_check_refuses_a_step_that_is_no_finite_positive_number(h):
    from xpnet.gradcheck import gradient_check
    from xpnet.models import Network

    net = Network([2, 1], output="sigmoid", dtype="float64")
    X, Y = np.ones((2, 3)), np.ones((1, 3))
    with pytest.raises(ConfigError, match="h must be a finite number > 0"):
        gradient_check(net, X, Y, h=h)


@pytest.mark.parametrize("seed", [0, 7, 2**32 - 1, np.int64(3), np.uint32(2**32 - 1)])
def test_check_seed_takes_what_numpys_randomstate_takes(seed):
    assert _checks.check_seed(seed) == int(seed)
    np.random.RandomState(_checks.check_seed(seed))


@pytest.mark.parametrize("seed", [-1, 2**32, 1.0, "1", None, True, [1], np.float64(1)])
def test_check_seed_refuses_what_randomstate_would_refuse_or_misread_naming_it(seed):
    with pytest.raises(ConfigError, match=r"^seed must be an integer from 0 to 4294967295 \(the seeds NumPy's "
                                          r"RandomState takes\), got .*: pass a seed in that range$"):
        _checks.check_seed(seed)


def test_check_seed_leaves_room_for_a_second_draw_at_an_offset():
    assert _checks.check_seed(2**32 - 1001, offset=1000) == 2**32 - 1001
    with pytest.raises(ConfigError, match=r"^shuffle_seed must be an integer from 0 to 4294966295 .*seed \+ 1000 "
                                          r"seeds another draw\), got 4294966296"):
        _checks.check_seed(2**32 - 1000, "shuffle_seed", offset=1000)


def test_machine_memory_is_the_physical_memory_or_none_without_sysconf(monkeypatch):
    import os

    memory = _checks.machine_memory()
    assert memory is None or memory > 2**20
    monkeypatch.delattr(os, "sysconf")
    assert _checks.machine_memory() is None


def test_check_memory_refuses_more_than_the_machine_holds_naming_the_bytes(monkeypatch):
    monkeypatch.setattr(_checks, "machine_memory", lambda: 1000)
    _checks.check_memory(1000, "X", "ask for less")
    with pytest.raises(ConfigError, match=r"^X would need 1,001 bytes, more than this machine's 1,000 bytes of memory: "
                                          r"ask for less$"):
        _checks.check_memory(1001, "X", "ask for less")
    with pytest.raises(ValueError, match=r"would need about 1.0e\+300 bytes"):
        _checks.check_memory(10**300, "X", "ask for less", error=ValueError)
    monkeypatch.setattr(_checks, "machine_memory", lambda: None)
    _checks.check_memory(10**300, "X", "nothing to go by: the allocation answers")
