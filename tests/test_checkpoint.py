"""Checkpoints: an interrupted fit, resumed, ends where an uninterrupted one does."""

import json

import numpy as np
import pytest

import xpnet
from xpnet.data import planar_flower
from xpnet.errors import ConfigError, DataFileError

pytest.importorskip("safetensors")


class Interrupt(Exception):
    pass


def interrupt_after(records):
    def on_record(history):
        if len(history) == records:
            raise Interrupt

    return on_record


@pytest.fixture(scope="module")
def flower():
    return planar_flower(400, seed=1)


def net():
    return xpnet.Network([2, 8, 1], hidden="relu", init="he", seed=3, dtype="float64", keep_prob=0.8)


EPOCH_RUN = dict(epochs=6, batch_size=50, optimizer="adam", learning_rate=0.01)
ITERATION_RUN = dict(iterations=60, record_every=10, optimizer="momentum", learning_rate=0.5)


@pytest.fixture(params=["host masks", "counter masks"])
def masks_route(request, monkeypatch):
    """Dropout masks drawn on the host (CPU), or from counters (what a GPU uses; here on NumPy)."""
    if request.param == "counter masks":
        monkeypatch.setattr(xpnet._backend, "on_accelerator", lambda xp, device: True)


@pytest.mark.parametrize("settings", [EPOCH_RUN, ITERATION_RUN], ids=["epochs", "iterations"])
def test_resumed_fit_equals_uninterrupted_fit_bit_for_bit(settings, flower, tmp_path, masks_route):
    path = tmp_path / "run.ckpt"
    reference = net()
    reference_history = reference.fit(*flower, **settings)

    interrupted = net()
    with pytest.raises(Interrupt):
        interrupted.fit(*flower, **settings, checkpoint=path, on_record=interrupt_after(3))
    resumed = net()
    history = resumed.fit(*flower, **settings, checkpoint=path, resume=path)

    for (W, b), (W_ref, b_ref) in zip(resumed.params, reference.params):
        np.testing.assert_array_equal(W, W_ref)
        np.testing.assert_array_equal(b, b_ref)
    assert history.costs == reference_history.costs
    assert history.iterations == reference_history.iterations


def test_resume_keeps_early_stopping_state(flower, tmp_path):
    path = tmp_path / "run.ckpt"
    X_val, Y_val = planar_flower(100, seed=7)
    settings = dict(epochs=60, batch_size=400, optimizer="adam", learning_rate=0.3,
                    validation_data=(X_val, Y_val), early_stopping=3)
    reference = net()
    reference_history = reference.fit(*flower, **settings)
    with pytest.raises(Interrupt):
        net().fit(*flower, **settings, checkpoint=path, on_record=interrupt_after(5))
    resumed = net()
    history = resumed.fit(*flower, **settings, resume=path)
    assert history.best == reference_history.best
    assert history.stopped_early == reference_history.stopped_early
    np.testing.assert_array_equal(resumed.params[0][0], reference.params[0][0])


def test_checkpoint_records_position_and_settings(flower, tmp_path):
    from xpnet.io import read_tensors

    path = tmp_path / "run.ckpt"
    net().fit(*flower, epochs=2, batch_size=100, optimizer="adam", checkpoint=path)
    tensors, metadata = read_tensors(path)
    assert metadata["format"] == "xpnet.checkpoint" and metadata["optimizer"] == "adam"
    assert json.loads(metadata["position"]) == {"step": 8, "epoch": 2, "count": 8}
    assert {"W1", "b2", "opt.v.W1", "opt.s.b2"} <= set(tensors)


def test_resume_with_other_settings_is_refused(flower, tmp_path):
    path = tmp_path / "run.ckpt"
    net().fit(*flower, epochs=2, batch_size=100, optimizer="adam", checkpoint=path)
    with pytest.raises(ConfigError, match="another optimizer"):
        net().fit(*flower, epochs=2, batch_size=100, optimizer="rmsprop", resume=path)
    with pytest.raises(ConfigError, match="another training plan"):
        net().fit(*flower, epochs=2, batch_size=50, optimizer="adam", resume=path)
    with pytest.raises(ConfigError, match="another model"):
        xpnet.Network([2, 9, 1], seed=3, dtype="float64").fit(
            *flower, epochs=2, batch_size=100, optimizer="adam", resume=path)


def test_resume_from_a_model_file_is_refused(flower, tmp_path):
    model = net()
    model.fit(*flower, iterations=5)
    model.save(tmp_path / "model.safetensors")
    with pytest.raises(DataFileError, match="not an xpnet checkpoint"):
        net().fit(*flower, iterations=5, resume=tmp_path / "model.safetensors")


def test_checkpoint_every_needs_a_path(flower):
    with pytest.raises(ConfigError, match="checkpoint=PATH"):
        net().fit(*flower, iterations=5, checkpoint_every=2)
