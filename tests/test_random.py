"""Seeded randomness for training: host draws on the CPU, counter-based masks on a GPU."""

import numpy as np
import pytest

import xpnet
from xpnet import _backend
from xpnet._random import TrainingRandom, counter_masks
from xpnet.data import planar_flower

from conftest import asarray, assert_in_namespace, to_numpy


def masks(xp, step=0, sizes=(6, 4), m=50, keep_prob=0.7, key=12345, columns=None, dtype="float64"):
    return counter_masks(key, step, sizes, m, keep_prob, xp=xp, columns=columns,
                         dtype=_backend.dtype_by_name(xp, dtype))


def test_counter_masks_are_the_same_on_every_backend(xp):
    expected = [to_numpy(D) for D in masks(_backend.namespace_by_name("numpy"))]
    for D, D_numpy in zip(masks(xp), expected):
        assert_in_namespace(D, xp)
        np.testing.assert_array_equal(to_numpy(D), D_numpy)


def test_counter_masks_are_zero_or_one_over_keep_prob_and_keep_about_keep_prob():
    np_xp = _backend.namespace_by_name("numpy")
    (D,) = masks(np_xp, sizes=(400,), m=1000, keep_prob=0.8)
    assert set(np.unique(D)) == {0.0, 1 / 0.8}
    assert abs(np.mean(D > 0) - 0.8) < 0.005  # 400 000 draws: 0.005 is 8 standard deviations


def test_counter_masks_change_with_step_layer_and_key_and_repeat_otherwise():
    np_xp = _backend.namespace_by_name("numpy")
    first, second = masks(np_xp, step=3)
    assert np.array_equal(first, masks(np_xp, step=3)[0])
    assert not np.array_equal(first, masks(np_xp, step=4)[0])
    assert not np.array_equal(first[:4], second)  # the layers differ
    assert not np.array_equal(first, masks(np_xp, step=3, key=54321)[0])
    # Unit i and example k are decorrelated from unit k and example i.
    (D,) = masks(np_xp, sizes=(50,), m=50)
    assert not np.array_equal(D, D.T)


def test_counter_masks_of_some_columns_are_those_columns_of_the_whole_batch(xp):
    whole = masks(xp, m=40)
    columns = np.array([3, 17, 18, 39])
    part = masks(xp, m=40, columns=asarray(columns, xp))
    for D_part, D_whole in zip(part, whole):
        np.testing.assert_array_equal(to_numpy(D_part), to_numpy(D_whole)[:, columns])


def test_the_masks_key_comes_from_the_seed_alone():
    np_xp = _backend.namespace_by_name("numpy")
    a, b = TrainingRandom(7, xp=np_xp), TrainingRandom(7, xp=np_xp)
    a.permutation(10)  # drawing from the generator leaves the key alone
    assert a.key == b.key != TrainingRandom(8, xp=np_xp).key


@pytest.fixture
def on_a_gpu(monkeypatch):
    """fit takes the GPU's route for dropout masks, here on NumPy."""
    monkeypatch.setattr(_backend, "on_accelerator", lambda xp, device: True)


def test_fit_on_a_gpu_takes_its_masks_from_counters(on_a_gpu, monkeypatch):
    from xpnet import _random

    steps = []
    counted = _random.counter_masks

    def counting(key, step, *args, **kwargs):
        steps.append(step)
        return counted(key, step, *args, **kwargs)

    monkeypatch.setattr(_random, "counter_masks", counting)
    X, Y = planar_flower(200, seed=0)
    net = xpnet.Network([2, 6, 1], hidden="relu", seed=0, dtype="float64", keep_prob=0.5)
    net.fit(X, Y, epochs=2, batch_size=100)
    assert steps == [0, 1, 2, 3]


def test_device_masks_of_a_processs_columns_are_those_of_the_whole_batch(monkeypatch):
    np_xp = _backend.namespace_by_name("numpy")
    random = TrainingRandom(3, xp=np_xp, masks_on_device=True)
    columns = np.array([1, 4, 5])
    moved = []
    to_device = _backend.from_host
    monkeypatch.setattr(_backend, "from_host",
                        lambda a, xp, device=None: moved.append(1) or to_device(a, xp, device))
    for step in (0, 1):  # full-batch steps: the same columns each time, moved once
        (part,) = random.dropout_masks([4], 6, 0.5, step=step, columns=columns)
        (whole,) = random.dropout_masks([4], 6, 0.5, step=step)
        np.testing.assert_array_equal(part, whole[:, columns])
    assert len(moved) == 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_counter_masks_of_a_stack_are_each_networks_own(xp, dtype):
    keep_probs = (0.9, 0.5, 1.0)
    stacked = masks(xp, keep_prob=keep_probs, dtype=dtype)
    for k, p in enumerate(keep_probs):
        for D_stack, D_own in zip(stacked, masks(xp, keep_prob=p, dtype=dtype)):
            assert tuple(D_stack.shape) == (3, *D_own.shape)
            np.testing.assert_array_equal(to_numpy(D_stack)[k], to_numpy(D_own))


@pytest.mark.parametrize("on_device", [False, True])
def test_training_random_gives_each_network_of_a_stack_its_own_fits_masks(on_device):
    np_xp = _backend.namespace_by_name("numpy")
    keep_probs = (0.8, 0.6)

    def draw(keep_prob):
        random = TrainingRandom(7, xp=np_xp, masks_on_device=on_device)
        return [random.dropout_masks((5, 3), 40, keep_prob, step=s) for s in range(3)]

    stacked = draw(keep_probs)
    for k, p in enumerate(keep_probs):
        for step_stack, step_own in zip(stacked, draw(p)):
            for D_stack, D_own in zip(step_stack, step_own):
                np.testing.assert_array_equal(D_stack[k], D_own)
