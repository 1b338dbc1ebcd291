"""The training loop: mini-batches, regularization, validation, early stopping, progress."""

import numpy as np
import pytest

import xpnet
from xpnet import network
from xpnet._random import TrainingRandom
from xpnet.data import planar_flower
from xpnet.errors import ConfigError

from conftest import asarray, assert_in_namespace, to_numpy
from test_gradients import flatten, make_problem, numeric_gradients


@pytest.fixture(scope="module")
def flower():
    return planar_flower(400, seed=1)


def flower_net(**kwargs):
    return xpnet.Network([2, 6, 1], hidden="tanh", init="xavier", seed=1, dtype="float64", **kwargs)


def test_each_epoch_makes_one_update_per_mini_batch(flower):
    hist = flower_net().fit(*flower, epochs=3, batch_size=64, optimizer="adam", learning_rate=0.01)
    assert hist.epochs == [1, 2, 3]
    assert hist.iterations == [7, 14, 21]  # ⌈400 / 64⌉ = 7 updates per epoch


def test_epoch_cost_is_the_mean_over_the_batches(flower):
    """With one batch per epoch the epoch cost is the full-batch cost before the update."""
    epochs = flower_net().fit(*flower, epochs=3, learning_rate=0.5)
    iterations = flower_net().fit(*flower, iterations=3, record_every=1, learning_rate=0.5)
    np.testing.assert_allclose(epochs.costs, iterations.costs, rtol=1e-12)


def test_same_shuffle_seed_same_run_other_seed_other_run(flower):
    def run(seed):
        net = flower_net()
        net.fit(*flower, epochs=2, batch_size=50, optimizer="adam", learning_rate=0.01, shuffle_seed=seed)
        return net.params[0][0]

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


def test_mini_batch_adam_follows_numpy_on_every_backend(xp, flower):
    def run(X, Y):
        net = flower_net(l2=0.01)
        net.fit(X, Y, epochs=3, batch_size=32, optimizer="adam", learning_rate=0.01)
        return net.params

    reference = run(*flower)
    for (W, b), (W_ref, b_ref) in zip(run(*(asarray(a, xp) for a in flower)), reference):
        assert_in_namespace(W, xp)
        np.testing.assert_allclose(to_numpy(W), W_ref, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(to_numpy(b), b_ref, rtol=1e-10, atol=1e-12)


def test_history_records_training_accuracy(flower):
    net = flower_net()
    hist = net.fit(*flower, iterations=101, learning_rate=1.0)
    assert len(hist["accuracy"]) == len(hist.costs) == 2
    assert 0.0 <= hist["accuracy"][0] <= 1.0


@pytest.mark.parametrize("hidden, output", [("relu", "sigmoid"), ("tanh", "softmax"),
                                            ("leaky_relu", "linear")])
def test_backprop_with_l2_equals_central_differences(hidden, output):
    net, X, Y = make_problem(hidden, output)
    net.l2 = 0.7
    analytic = flatten(net.gradients(X, Y))
    numeric = flatten(numeric_gradients(net, X, Y))
    assert np.linalg.norm(analytic - numeric) / (np.linalg.norm(analytic) + np.linalg.norm(numeric)) <= 1e-7


def test_l2_adds_lambda_over_2m_times_the_squared_weights():
    net, X, Y = make_problem("tanh", "sigmoid")
    plain = net.cost(X, Y)
    net.l2 = 0.5
    squares = sum(np.sum(W**2) for W, _ in net.params)
    assert net.cost(X, Y) == pytest.approx(plain + 0.5 / (2 * X.shape[1]) * squares, rel=1e-12)


@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid"])
def test_backprop_through_fixed_dropout_masks_equals_central_differences(hidden):
    net, X, Y = make_problem(hidden, "sigmoid")
    net.keep_prob = 0.6
    arch, xp = net.architecture, xpnet._backend.namespace_by_name("numpy")
    masks = TrainingRandom(0, xp=xp, dtype="float64").dropout_masks(
        arch.layer_dims[1:-1], X.shape[1], 0.6, step=0)
    Y = Y.astype(float)
    params = [(W.copy(), b.copy()) for W, b in net.params]
    _, caches = network.forward(params, X, arch, xp=xp, masks=masks)
    analytic = network.backward(params, caches, Y, arch, xp=xp)
    h = 1e-6
    for (dW, _), (W, _) in zip(analytic, params):
        for idx in np.ndindex(W.shape):
            saved = W[idx]
            W[idx] = saved + h
            J_plus = float(network.cost(params, X, Y, arch, xp=xp, masks=masks))
            W[idx] = saved - h
            J_minus = float(network.cost(params, X, Y, arch, xp=xp, masks=masks))
            W[idx] = saved
            assert dW[idx] == pytest.approx((J_plus - J_minus) / (2 * h), rel=1e-6, abs=1e-9)


def test_dropout_masks_are_zero_or_one_over_keep_prob():
    xp = xpnet._backend.namespace_by_name("numpy")
    (D,) = TrainingRandom(0, xp=xp).dropout_masks([200], 500, keep_prob=0.8, step=0)
    assert set(np.unique(D)) == {0.0, 1 / 0.8}
    assert D.mean() == pytest.approx(1.0, abs=0.02)  # inverted dropout keeps the expected activation


def test_keep_prob_one_trains_exactly_as_without_dropout(flower):
    plain, dropout_off = flower_net(), flower_net(keep_prob=1.0)
    assert plain.fit(*flower, iterations=50).costs == dropout_off.fit(*flower, iterations=50).costs
    np.testing.assert_array_equal(plain.params[0][0], dropout_off.params[0][0])


def test_dropout_changes_training_and_is_seeded(flower):
    def run(seed):
        net = flower_net(keep_prob=0.5)
        return net.fit(*flower, iterations=20, record_every=1, shuffle_seed=seed).costs

    assert run(1) == run(1)
    assert run(1) != run(2)
    assert run(1) != flower_net().fit(*flower, iterations=20, record_every=1).costs


def test_validation_split_records_validation_metrics(flower):
    hist = flower_net().fit(*flower, epochs=4, batch_size=100, optimizer="adam",
                            learning_rate=0.01, validation_split=0.25)
    assert len(hist["val_cost"]) == len(hist["val_accuracy"]) == 4
    assert hist.iterations == [3, 6, 9, 12]  # 300 training examples left, batches of 100


def test_validation_data_records_its_cost(flower):
    X_val, Y_val = planar_flower(100, seed=7)
    net = flower_net()
    hist = net.fit(*flower, iterations=201, learning_rate=1.0, validation_data=(X_val, Y_val))
    assert hist.iterations == [0, 100, 200]
    assert hist["val_cost"][-1] < hist["val_cost"][0]


def test_early_stopping_stops_and_restores_the_best_parameters(flower):
    X_val, Y_val = planar_flower(100, seed=7)
    net = xpnet.Network([2, 50, 1], hidden="relu", init="he", seed=1, dtype="float64")
    hist = net.fit(*flower, epochs=300, batch_size=400, optimizer="adam", learning_rate=0.3,
                   validation_data=(X_val, Y_val), early_stopping=3)
    assert hist.stopped_early and len(hist) < 300
    best = hist.best
    assert hist["val_cost"][best] == min(hist["val_cost"])
    assert len(hist) == best + 1 + 3
    assert net.cost(X_val, Y_val) == pytest.approx(hist["val_cost"][best], rel=1e-12)


def assert_progress_of_200_iterations(err: str) -> None:
    """What a verbose fit of 200 iterations wrote to stderr: tqdm's bar, or a line per record."""
    import importlib.util

    assert "cost" in err
    if importlib.util.find_spec("tqdm") is not None:
        assert "200/200" in err  # the bar, at its end
    else:
        assert "iteration 199 of 200" in err  # a line per record, without tqdm


def test_verbose_shows_progress(flower, capsys):
    flower_net().fit(*flower, iterations=200, learning_rate=1.0, verbose=True)
    assert_progress_of_200_iterations(capsys.readouterr().err)


def test_quiet_by_default(flower, capsys):
    flower_net().fit(*flower, iterations=200, learning_rate=1.0)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("kwargs, message", [
    (dict(iterations=10, epochs=2), "not both"),
    (dict(iterations=10, batch_size=32), "give epochs"),
    (dict(epochs=2, batch_size=0), "batch_size"),
    (dict(epochs=2, validation_split=1.5), "validation_split"),
    (dict(epochs=2, early_stopping=3), "validation"),
    (dict(epochs=-1), "epochs"),
])
def test_nonsense_training_settings_are_refused(flower, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        flower_net().fit(*flower, **kwargs)


@pytest.mark.parametrize("keep_prob", [0.0, 1.5])
def test_keep_prob_outside_0_1_is_refused(keep_prob):
    with pytest.raises(ConfigError, match="keep_prob"):
        flower_net(keep_prob=keep_prob)


def test_validation_split_holds_out_a_random_subset_not_the_last_class():
    from xpnet.data import spiral

    X, Y = spiral(300, classes=3, seed=0)  # sorted by class: the last 20 % are all class 2
    net = xpnet.Network([2, 32, 3], hidden="relu", output="softmax", init="he", seed=0)
    hist = net.fit(X, Y, epochs=100, batch_size=32, optimizer="adam", learning_rate=0.02,
                   validation_split=0.2)
    assert hist["val_accuracy"][-1] > 0.9


def diverging_run(net, **kwargs):
    X, Y = planar_flower(400, seed=1)
    return net.fit(X * 1e3, Y, learning_rate=50.0, **kwargs)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
@pytest.mark.parametrize("mode", [dict(iterations=500, record_every=10),
                                  dict(epochs=50, batch_size=100)], ids=["iterations", "epochs"])
def test_divergence_stops_with_a_clear_error_and_keeps_finite_parameters(mode, capsys):
    net = xpnet.Network([2, 16, 1], hidden="relu", init="he", seed=1)
    with pytest.raises(xpnet.DivergenceError, match=r"diverged.*smaller learning rate.*50\.0") as info:
        diverging_run(net, **mode)
    assert info.value.iteration < 500
    assert all(np.isfinite(W).all() and np.isfinite(b).all() for W, b in net.params)
    assert all(np.isfinite(net.history.costs))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_divergence_keeps_the_parameters_of_the_last_finite_record():
    """Those parameters, evaluated again, give the last recorded cost."""
    X, Y = planar_flower(400, seed=1)
    net = xpnet.Network([2, 16, 1], hidden="relu", init="he", seed=1, dtype="float64")
    with pytest.raises(xpnet.DivergenceError):
        net.fit(X * 1e3, Y, iterations=500, record_every=1, learning_rate=50.0)
    assert net.cost(X * 1e3, Y) == pytest.approx(net.history.costs[-1], rel=1e-12)


def test_divergence_is_one_line_on_the_command_line():
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "xpnet.cli", "train", "--hidden", "relu",
                          "--layers", "16", "--init", "he", "--learning-rate", "1e4",
                          "--iterations", "300", "--print-every", "10", "--no-progress"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    error_lines = [line for line in run.stderr.splitlines() if line.startswith("xpnet: error:")]
    assert error_lines == run.stderr.splitlines()  # nothing but the one line
    assert len(error_lines) == 1 and "diverged" in error_lines[0]


def test_fit_on_a_named_backend_trains_there_as_on_its_arrays(xp, flower):
    """fit(X_numpy, Y_numpy, backend=...) moves the data once and equals a fit on the
    backend's own arrays."""
    from xpnet import _backend

    name = _backend.backend_name(xp)
    run = dict(epochs=2, batch_size=100, optimizer="adam", learning_rate=0.01)
    moved = flower_net()
    moved.fit(*flower, **run, validation_data=flower, backend=name)
    target = _backend.resolve_target(name)
    on_arrays = flower_net()
    X, Y = (target.put(a) for a in flower)
    on_arrays.fit(X, Y, **run, validation_data=(X, Y))
    for (W, b), (W_ref, b_ref) in zip(moved.params, on_arrays.params):
        assert_in_namespace(W, target.xp, target.device)
        np.testing.assert_array_equal(to_numpy(W), to_numpy(W_ref))
        np.testing.assert_array_equal(to_numpy(b), to_numpy(b_ref))
    assert moved.history.metrics == on_arrays.history.metrics


def test_a_device_without_a_backend_is_refused(flower):
    with pytest.raises(ConfigError, match="give a backend too"):
        flower_net().fit(*flower, iterations=1, device="cpu")


def test_a_gpu_is_refused_for_a_cpu_only_backend(flower):
    with pytest.raises(ConfigError, match="numpy runs on the CPU only"):
        flower_net().fit(*flower, iterations=1, backend="numpy", device="gpu")


def _peak_of_fit(X, **fit):
    import tracemalloc

    Y = (np.arange(X.shape[1]) % 2).reshape(1, -1)
    net = xpnet.Network([X.shape[0], 8, 1], seed=1)
    tracemalloc.start()
    try:
        net.fit(X, Y, **fit)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_epoch_on_an_example_contiguous_X_never_copies_X():
    X = np.asfortranarray(np.random.RandomState(0).rand(400, 20_000).astype(np.float32))
    peak = _peak_of_fit(X, epochs=1, batch_size=256)
    assert peak < 0.25 * X.nbytes, f"{peak} bytes at peak for X of {X.nbytes}"


def test_fit_lays_a_row_major_X_out_once_not_per_batch():
    X = np.ascontiguousarray(np.random.RandomState(0).rand(400, 20_000).astype(np.float32))
    peak = _peak_of_fit(X, epochs=2, batch_size=256)
    assert 0.9 * X.nbytes < peak < 1.25 * X.nbytes, f"{peak} bytes at peak for X of {X.nbytes}"


def test_the_finiteness_check_needs_no_array_the_size_of_X():
    import tracemalloc

    from xpnet import _validation

    X = np.random.RandomState(0).rand(400, 20_000).astype(np.float32)
    xp = xpnet._backend.namespace(X)
    tracemalloc.start()
    try:
        _validation.check_X(X, n_x=400, xp=xp, dtype=xp.float32)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.05 * X.nbytes


def test_the_progress_bar_advances_with_every_mini_batch(flower, monkeypatch):
    pytest.importorskip("tqdm")
    from xpnet import _progress

    monkeypatch.setattr(_progress, "REFRESH_SECONDS", 0.0)
    seen = []
    original = _progress.Progress.advance

    def advance(self, m_batch):
        original(self, m_batch)
        seen.append(self.bar.n)

    monkeypatch.setattr(_progress.Progress, "advance", advance)
    X, Y = flower
    flower_net().fit(X, Y, epochs=2, batch_size=100, learning_rate=0.5, verbose=True)
    assert seen == [100, 200, 300, 400, 500, 600, 700, 800]


def _overflowing():
    X = np.random.RandomState(0).randn(2, 50) * 1e4
    return X, (X[0] > 0).astype(int).reshape(1, -1)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("schedule", [dict(iterations=1), dict(epochs=1)])
def test_a_last_update_that_overflows_is_divergence_and_keeps_finite_parameters(schedule):
    X, Y = _overflowing()
    net = xpnet.Network([2, 3, 1], seed=1)
    start = [W.copy() for W, _ in net.params]
    with pytest.raises(xpnet.DivergenceError, match="parameters became NaN or inf"):
        net.fit(X, Y, learning_rate=1e38, **schedule)  # the cost recorded before it is finite
    for (W, b), W0 in zip(net.params, start):
        assert np.isfinite(W).all() and np.isfinite(b).all()
        np.testing.assert_array_equal(W, W0)  # the last record's: the initial ones
