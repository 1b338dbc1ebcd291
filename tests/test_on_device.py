"""Training on an accelerator: the data stays on its device, and a step reads nothing back.

CI has no GPU. array-api-strict's second device stands in for one: its arrays refuse
to mix with the host's and to turn into NumPy arrays, so an array made on the wrong
device inside the math fails here as it would cost a transfer on a GPU. Counting the
values read back from it (``float(x)``, DLPack, ...) shows where the loop makes the
device wait: only where it records a cost or writes a checkpoint, never per step.
"""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet import _backend, checkpoint
from xpnet.data import planar_flower

strict = pytest.importorskip("array_api_strict")
from array_api_strict._array_object import Array  # noqa: E402  (after the skip)

DEVICE = strict.Device("device1")

# Every way an array's values reach the host.
_READ_BACKS = ("__float__", "__int__", "__bool__", "__index__", "__complex__", "__dlpack__",
               "__array__", "to_device")


@pytest.fixture
def read_backs(monkeypatch) -> list[str]:
    """The read-backs of arrays on DEVICE so far, by method name, in order."""
    seen = []
    for name in _READ_BACKS:
        def counting(self, *args, _original=getattr(Array, name), _name=name, **kwargs):
            leaving = _name != "to_device" or args[0] != self.device
            if self.device == DEVICE and leaving:
                seen.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Array, name, counting)
    return seen


@pytest.fixture
def moved_to_device(monkeypatch) -> list[tuple]:
    """The shapes of the host arrays moved to DEVICE so far."""
    moved = []
    from_host = _backend.from_host

    def counting(a, xp, device=None):
        if device == DEVICE:
            moved.append(a.shape)
        return from_host(a, xp, device)

    monkeypatch.setattr(_backend, "from_host", counting)
    return moved


@pytest.fixture(scope="module")
def flower():
    X, Y = planar_flower(200, seed=0)
    return strict.asarray(X, device=DEVICE), strict.asarray(Y, device=DEVICE)


def make_net(**kwargs):
    settings = dict(hidden="relu", seed=0, dtype="float64", keep_prob=0.8, l2=0.01)
    settings.update(kwargs)
    return xpnet.Network([2, 6, 4, 1], **settings)


def test_the_stand_in_device_counts_as_an_accelerator():
    assert _backend.on_accelerator(strict, DEVICE)


def test_fit_trains_and_predicts_on_the_device_of_its_data(flower):
    X, Y = flower
    net = make_net()
    history = net.fit(X, Y, epochs=3, batch_size=32, optimizer="adam", validation_split=0.2,
                      early_stopping=5)
    assert all(W.device == DEVICE and b.device == DEVICE for W, b in net.params)
    assert net.predict(X).device == DEVICE
    assert net.predict_proba(X).device == DEVICE
    assert all(np.isfinite(history.costs)) and len(history) == 3


def test_a_full_batch_step_reads_nothing_back(flower, read_backs):
    def count(iterations, record_every):
        read_backs.clear()
        make_net().fit(*flower, iterations=iterations, record_every=record_every,
                       optimizer="adam", validation_split=0.2)
        return len(read_backs)

    # Records at the first and the last update only: as many read-backs for 40 steps as for 20.
    assert count(40, record_every=1000) == count(20, record_every=1000)
    # The count sees a record's read-backs: a record at every step has more of them.
    assert count(20, record_every=1) > count(20, record_every=1000)


def test_a_mini_batch_step_reads_nothing_back(flower, read_backs):
    def count(batch_size):
        read_backs.clear()
        make_net().fit(*flower, epochs=2, batch_size=batch_size, optimizer="momentum")
        return len(read_backs)

    # 10 steps an epoch, or 4: the read-backs are those of the two epochs' records alone.
    assert count(20) == count(50) > 0


def test_a_step_moves_nothing_to_the_device(flower, moved_to_device):
    """Per epoch: one transfer of the shuffled order; per step (10 an epoch here): none."""
    def count(**run):
        moved_to_device.clear()
        make_net(keep_prob=0.5).fit(*flower, optimizer="adam", **run)
        return len(moved_to_device)

    assert count(epochs=3, batch_size=20) - count(epochs=1, batch_size=20) == 2
    assert count(iterations=40) == count(iterations=20)


def test_checkpoints_read_back_only_when_they_write(flower, read_backs, monkeypatch, tmp_path):
    pytest.importorskip("safetensors", reason="checkpoints and model files need safetensors (xpnet[save])")
    run = dict(iterations=40, record_every=1000, optimizer="adam")
    make_net().fit(*flower, **run)
    without_checkpoints = len(read_backs)

    read_backs.clear()
    writes = []
    save = checkpoint.save

    def counting_save(*args, **kwargs):
        before = len(read_backs)
        save(*args, **kwargs)
        writes.append(len(read_backs) - before)

    monkeypatch.setattr(checkpoint, "save", counting_save)
    make_net().fit(*flower, **run, checkpoint=tmp_path / "run.ckpt", checkpoint_every=10)
    assert len(writes) == 5  # at updates 10, 20, 30, 40 and at the end
    assert all(n > 0 for n in writes)  # each write copies the parameters to the host
    assert len(read_backs) - sum(writes) == without_checkpoints


def test_a_model_trained_on_the_device_saves_and_loads(flower, tmp_path):
    pytest.importorskip("safetensors", reason="checkpoints and model files need safetensors (xpnet[save])")
    X, Y = flower
    net = make_net()
    net.fit(X, Y, iterations=30)
    net.save(tmp_path / "model.safetensors")
    loaded = xpnet.load(tmp_path / "model.safetensors")
    expected = _backend.to_host(net.predict_proba(X))
    np.testing.assert_array_equal(_backend.to_host(loaded.predict_proba(X)), expected)


def test_fit_on_a_backend_moves_host_data_to_its_device_once(monkeypatch, moved_to_device):
    """fit(X_numpy, Y_numpy, backend=...) on a GPU: each array crosses once, then stays."""
    monkeypatch.setattr(_backend, "resolve_target", lambda backend, device="auto", local_rank=0:
                        _backend.Target(backend, strict, DEVICE, "gpu", "device1 (a stand-in GPU)"))
    X, Y = planar_flower(200, seed=0)
    net = make_net()
    net.fit(X, Y, epochs=3, batch_size=50, backend="array_api_strict")
    assert all(W.device == DEVICE for W, _ in net.params)
    assert moved_to_device.count(X.shape) == 1 and moved_to_device.count(Y.shape) == 1


def test_a_model_trained_on_the_device_pickles_through_the_host(flower):
    import copy
    import pickle

    X, Y = flower
    net = make_net()
    net.fit(X, Y, iterations=30)
    expected = _backend.to_host(net.predict_proba(X))
    for clone in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        np.testing.assert_array_equal(_backend.to_host(clone.predict_proba(X)), expected)
