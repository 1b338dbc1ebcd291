"""xpnet.Sweep: K networks of one shape trained in one pass, each as its own fit would train it."""

import math

import numpy as np
import pytest

import xpnet
from xpnet import DivergenceError, NotFittedError, Sweep
from xpnet.data import planar_flower
from xpnet.errors import ConfigError

from conftest import asarray, assert_in_namespace, to_numpy
from test_training import assert_progress_of_200_iterations

RATES = [0.05, 0.3, 1.2]
SEEDS = [1, 2, 3]
L2S = [0.0, 0.01, 0.3]


@pytest.fixture(scope="module")
def flower():
    return planar_flower(200, seed=1)


@pytest.fixture(scope="module")
def flower_val():
    return planar_flower(80, seed=2)


def template(**kwargs):
    return xpnet.Network([2, 5, 4, 1], **{"hidden": "tanh", "seed": 1, "dtype": "float64",
                                          **kwargs})


def own_fit(k, X, Y, *, rates=RATES, seeds=SEEDS, l2s=L2S, keep_probs=None, **fit):
    """Network k of the sweep trained by itself, as the sweep promises to train it."""
    net = template(seed=seeds[k], l2=l2s[k], keep_prob=1.0 if keep_probs is None else keep_probs[k])
    try:
        net.fit(X, Y, learning_rate=rates[k], shuffle_seed=1, **fit)
    except DivergenceError:
        pass
    return net


def assert_same_network(swept, own, rtol=1e-12):
    """The same parameters within ``rtol`` relative (‖θ − θ_own‖ ≤ rtol·‖θ_own‖ for each W
    and b) and the same records."""
    for pair, own_pair in zip(swept.params, own.params):
        for theta, theta_own in zip(pair, own_pair):
            theta, theta_own = to_numpy(theta), to_numpy(theta_own)
            assert np.linalg.norm(theta - theta_own) <= rtol * np.linalg.norm(theta_own), (
                f"{theta} differs from {theta_own}")
    assert swept.history.iterations == own.history.iterations
    np.testing.assert_allclose(swept.history.costs, own.history.costs, rtol=rtol)
    for name, values in own.history.metrics.items():
        np.testing.assert_allclose(swept.history[name], values, rtol=rtol)


# -- each network as its own fit --------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_each_network_trains_as_its_own_fit_on_every_backend(xp, flower, optimizer):
    X, Y = (asarray(a, xp) for a in flower)
    sweep = Sweep(template(), learning_rate=RATES, seed=SEEDS, l2=L2S)
    sweep.fit(X, Y, iterations=300, record_every=50, optimizer=optimizer)
    for k in range(len(sweep)):
        swept = sweep.network(k)
        assert_in_namespace(swept.params[0][0], xp)
        assert_same_network(swept, own_fit(k, X, Y, iterations=300, record_every=50,
                                           optimizer=optimizer))


def test_adam_trains_each_network_as_its_own_fit(flower):
    # On NumPy only: Adam divides each gradient by its own running size, so the last-bit
    # differences of another library's batched products (torch, JAX) grow to ~1e-10 in
    # 300 updates, in a stack as between two machines.
    rates = [0.01, 0.02, 0.05]
    sweep = Sweep(template(), learning_rate=rates, seed=SEEDS, l2=L2S)
    sweep.fit(*flower, iterations=300, record_every=50, optimizer="adam")
    for k in range(len(sweep)):
        assert_same_network(sweep.network(k), own_fit(k, *flower, rates=rates, iterations=300,
                                                      record_every=50, optimizer="adam"))


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam"])
def test_mini_batches_and_dropout_per_network_train_as_their_own_fits(flower, flower_val,
                                                                      optimizer):
    keep_probs = [0.9, 0.7, 0.5]
    sweep = Sweep(template(), learning_rate=[0.01, 0.02, 0.05], seed=SEEDS, l2=L2S,
                  keep_prob=keep_probs)
    fit = dict(epochs=4, batch_size=48, optimizer=optimizer, validation_data=flower_val)
    sweep.fit(*flower, shuffle_seed=1, **fit)
    for k in range(3):
        assert_same_network(sweep.network(k), own_fit(k, *flower, rates=[0.01, 0.02, 0.05],
                                                      keep_probs=keep_probs, **fit))


def test_networks_with_and_without_dropout_on_mini_batches_train_as_their_own_fits(
        flower, flower_val):
    # A fit with dropout draws its masks from its shuffles' stream and one without does
    # not: their own fits see other batches, so the sweep trains each kind in its own stack.
    keep_probs = [1.0, 0.7, 1.0]
    fit = dict(epochs=4, batch_size=48, optimizer="momentum", validation_data=flower_val)
    sweep = Sweep(template(), learning_rate=RATES, seed=SEEDS, keep_prob=keep_probs)
    sweep.fit(*flower, shuffle_seed=1, **fit)
    for k in range(3):
        assert_same_network(sweep.network(k), own_fit(k, *flower, keep_probs=keep_probs,
                                                      l2s=[0.0] * 3, **fit))


def test_a_learning_rate_schedule_per_network_trains_as_its_own_fit(flower):
    rates = [xpnet.optimizers.step_decay(0.5, every=20), 0.1,
             xpnet.optimizers.exponential_decay(1.0, every=10)]
    sweep = Sweep(template(), learning_rate=rates, seed=SEEDS)
    sweep.fit(*flower, iterations=60, record_every=10)
    for k in range(3):
        assert_same_network(sweep.network(k), own_fit(k, *flower, rates=rates, l2s=[0.0] * 3,
                                                      iterations=60, record_every=10))


def test_a_sweep_of_one_equals_the_network_fit(flower):
    sweep = Sweep(template(), learning_rate=0.3)
    sweep.fit(*flower, iterations=100)
    own = template()
    own.fit(*flower, iterations=100, learning_rate=0.3)
    assert_same_network(sweep.network(0), own)


def test_backend_moves_the_data_and_the_networks_train_there(flower):
    torch = pytest.importorskip("torch")
    sweep = Sweep(template(), learning_rate=[0.1, 0.3], seed=[1, 2])
    sweep.fit(*flower, iterations=50, backend="torch", device="cpu")
    W = sweep.network(1).params[0][0]
    assert isinstance(W, torch.Tensor)
    own = template(seed=2)
    own.fit(*flower, iterations=50, learning_rate=0.3)
    np.testing.assert_allclose(to_numpy(W), own.params[0][0], rtol=1e-12)


def test_verbose_shows_the_progress_of_the_sweep(flower, capsys):
    Sweep(template(), learning_rate=[0.1, 0.3]).fit(*flower, iterations=200, verbose=True)
    assert_progress_of_200_iterations(capsys.readouterr().err)


def test_single_values_are_shared_by_every_network():
    sweep = Sweep(template(l2=0.2, keep_prob=0.8), learning_rate=[0.1, 0.2], seed=[4, 5])
    assert [(s.l2, s.keep_prob) for s in sweep.settings] == [(0.2, 0.8), (0.2, 0.8)]
    assert [s.seed for s in sweep.settings] == [4, 5]


# -- per network: early stopping and divergence ------------------------------------------


def test_early_stopping_is_per_network_and_each_keeps_its_best(flower, flower_val):
    rates = [0.05, 2.0, 8.0]
    fit = dict(iterations=600, record_every=20, validation_data=flower_val, early_stopping=2)
    sweep = Sweep(template(), learning_rate=rates, seed=SEEDS)
    sweep.fit(*flower, **fit)
    lengths = [len(h) for h in sweep.histories]
    assert len(set(lengths)) > 1, "the networks should stop at different records"
    for k in range(3):
        own = own_fit(k, *flower, rates=rates, l2s=[0.0] * 3, **fit)
        assert_same_network(sweep.network(k), own)
        assert sweep.histories[k].stopped_early == own.history.stopped_early
        assert sweep.histories[k].best == own.history.best
        assert sweep.outcomes[k] == ("stopped early" if own.history.stopped_early else "trained")


def diverging(**kwargs):
    """A regression network that a learning rate of 10 sends to inf within 200 updates."""
    return template(output="linear", init="normal", init_scale=1.0, **kwargs)


def test_a_diverging_network_is_marked_and_the_others_go_on(flower):
    rates = [0.3, 10.0, 0.05]
    sweep = Sweep(diverging(), learning_rate=rates, seed=SEEDS)
    with np.errstate(all="ignore"):
        sweep.fit(*flower, iterations=200, record_every=10)
    assert sweep.outcomes == ["trained", "diverged", "trained"]
    assert "became" in sweep.divergences[1]
    for k in (0, 2):
        own = diverging(seed=SEEDS[k])
        own.fit(*flower, iterations=200, record_every=10, learning_rate=rates[k])
        assert_same_network(sweep.network(k), own)


def test_a_diverged_network_keeps_the_parameters_its_own_fit_keeps(flower):
    sweep = Sweep(diverging(), learning_rate=[10.0, 0.1], seed=[2, 1])
    own = diverging(seed=2)
    with np.errstate(all="ignore"):
        sweep.fit(*flower, iterations=200, record_every=10)
        with pytest.raises(DivergenceError):
            own.fit(*flower, iterations=200, record_every=10, learning_rate=10.0)
    assert sweep.outcomes[0] == "diverged"
    assert all(np.isfinite(to_numpy(a)).all() for pair in sweep.network(0).params for a in pair)
    assert_same_network(sweep.network(0), own)


def test_every_network_diverging_leaves_no_best(flower):
    sweep = Sweep(diverging(), learning_rate=[10.0, 20.0], seed=[1, 2])
    with np.errstate(all="ignore"):
        sweep.fit(*flower, iterations=200, record_every=10)
    assert sweep.outcomes == ["diverged", "diverged"]
    with pytest.raises(ConfigError, match="every network of the sweep diverged"):
        sweep.best()


# -- results ----------------------------------------------------------------------------


def test_results_are_sorted_by_validation_accuracy(flower, flower_val):
    sweep = Sweep.grid(template(), learning_rate=[0.001, 0.3, 1.0], seed=[1, 2])
    # Epoch records describe the parameters after the epoch's update: those a network ends with.
    sweep.fit(*flower, epochs=100, validation_data=flower_val)
    rows = sweep.results().rows
    assert len(rows) == 6
    scores = [row["val_accuracy"] for row in rows]
    assert scores == sorted(scores, reverse=True)
    best = sweep.best()
    assert isinstance(best, xpnet.Network)
    assert best.score(*flower_val) == pytest.approx(rows[0]["val_accuracy"])


def test_results_in_iteration_mode_describe_the_networks_handed_back(flower, flower_val):
    # The last record of iteration mode describes the parameters before the last update
    # (the course's convention); the table gives those after it, which network(k) holds.
    sweep = Sweep(template(), learning_rate=[0.3, 1.0, 3.0], seed=SEEDS)
    sweep.fit(*flower, iterations=101, validation_data=flower_val)
    for row in sweep.results():
        net = sweep.network(row["network"])
        assert row["iteration"] == 101
        assert row["val_accuracy"] == net.score(*flower_val)
        assert row["accuracy"] == net.score(*flower)
        assert row["cost"] == pytest.approx(net.cost(*flower), rel=1e-12)
        assert row["val_cost"] == pytest.approx(net.cost(*flower_val), rel=1e-12)


def test_results_without_validation_are_sorted_by_training_cost(flower):
    sweep = Sweep(template(), learning_rate=[0.001, 0.3, 0.05])
    sweep.fit(*flower, iterations=100)
    costs = [row["cost"] for row in sweep.results().rows]
    assert costs == sorted(costs)


def test_the_results_table_prints_one_line_per_network_under_a_header(flower):
    sweep = Sweep(template(), learning_rate=[0.1, 0.2], l2=[0.0, 0.5])
    sweep.fit(*flower, iterations=10)
    lines = str(sweep.results()).splitlines()
    assert lines[0].split()[:4] == ["network", "learning_rate", "l2", "keep_prob"]
    assert len(lines) == 3


def test_network_k_carries_its_own_settings(flower):
    sweep = Sweep(template(), learning_rate=[0.1, 0.2], l2=[0.0, 0.5], seed=[7, 8])
    sweep.fit(*flower, iterations=10)
    net = sweep.network(1)
    assert (net.l2, net.seed) == (0.5, 8)
    assert net.history is sweep.histories[1]
    assert sweep.template.l2 == 0.0  # the template is left as it was


def test_grid_trains_every_combination_the_last_list_fastest():
    sweep = Sweep.grid(template(), learning_rate=[0.1, 0.2], seed=[0, 1, 2])
    assert [(s.learning_rate, s.seed) for s in sweep.settings] == [
        (0.1, 0), (0.1, 1), (0.1, 2), (0.2, 0), (0.2, 1), (0.2, 2)]


def test_plot_draws_one_curve_per_network(flower, tmp_path):
    pytest.importorskip("matplotlib")
    sweep = Sweep(template(), learning_rate=[0.1, 0.2, 0.3])
    sweep.fit(*flower, iterations=50, record_every=10)
    fig = sweep.plot(tmp_path / "curves.png")
    assert len(fig.axes[0].lines) == 3
    assert (tmp_path / "curves.png").stat().st_size > 0


# -- errors -------------------------------------------------------------------------------


def test_lists_of_unequal_length_are_refused():
    with pytest.raises(ConfigError, match="learning_rate has 2, seed has 3"):
        Sweep(template(), learning_rate=[0.1, 0.2], seed=[1, 2, 3])


@pytest.mark.parametrize("name", ["learning_rate", "l2", "keep_prob", "seed"])
def test_an_empty_list_is_refused(name):
    with pytest.raises(ConfigError, match=f"{name} is an empty list"):
        Sweep(template(), **{name: []})


@pytest.mark.parametrize("settings, message", [
    (dict(learning_rate=[0.1, -1.0]), "network 1 of the sweep: learning_rate"),
    (dict(l2=[0.0, float("nan")]), "network 1 of the sweep: l2"),
    (dict(keep_prob=[0.5, 0.0]), "network 1 of the sweep: keep_prob"),
    (dict(seed=[0, -3]), "network 1 of the sweep: seed"),
])
def test_a_bad_value_is_refused_naming_its_network(settings, message):
    with pytest.raises(ConfigError, match=message):
        Sweep(template(), **settings)


def test_grid_refuses_a_setting_a_sweep_cannot_vary():
    with pytest.raises(ConfigError, match="not hidden"):
        Sweep.grid(template(), hidden=["relu", "tanh"])


def test_a_custom_optimizer_is_refused(flower):
    custom = xpnet.optimizers.gradient_descent(0.1)._replace(name="mine")
    with pytest.raises(ConfigError, match="built-in optimizers"):
        Sweep(template(), learning_rate=[0.1, 0.2]).fit(*flower, optimizer=custom)


def test_a_stack_too_large_for_memory_is_refused_before_allocating(flower):
    huge = xpnet.Network([2, 4096, 4096, 1], seed=1, dtype="float64")
    sweep = Sweep(huge, seed=list(range(100_000)))
    with pytest.raises(ConfigError, match=r"would need [\d,]+ bytes .* sweep fewer networks"):
        sweep.fit(*flower, iterations=1)


def test_results_before_fit_are_refused():
    with pytest.raises(NotFittedError, match="call fit"):
        Sweep(template()).results()


def test_network_fit_refuses_a_list_of_learning_rates(flower):
    with pytest.raises(ConfigError, match="xpnet.Sweep"):
        template().fit(*flower, learning_rate=[0.1, 0.2])


def test_a_template_that_is_no_network_is_refused():
    with pytest.raises(ConfigError, match="xpnet.Network"):
        Sweep("net")


def test_stack_memory_grows_linearly_in_K():
    from xpnet.sweeps import stack_bytes

    sizes = [stack_bytes([12288, 7, 1], K, itemsize=4, m=209, m_validation=50, slots=2,
                         dropout=True, early_stopping=True) for K in (1, 2, 64)]
    assert sizes[1] == 2 * sizes[0] and sizes[2] == 64 * sizes[0]
    assert math.isclose(sizes[0] / 4, 86_031 * 8 + 8 * (209 * 4 + 50 * 2))


# -- checkpoints --------------------------------------------------------------------------


def interrupted_sweep(flower, flower_val, path, *, stop_after: int, **fit):
    """A sweep stopped (by an exception in on_record) after ``stop_after`` records."""
    seen = []

    def stop(histories):
        seen.append(1)
        if len(seen) == stop_after:
            raise KeyboardInterrupt

    sweep = Sweep(template(), learning_rate=[0.05, 2.0, 8.0], seed=SEEDS, l2=[0.0, 0.01, 0.0])
    with pytest.raises(KeyboardInterrupt):
        sweep.fit(*flower, validation_data=flower_val, on_record=stop, checkpoint=path, **fit)
    return sweep


@pytest.mark.parametrize("fit", [
    dict(iterations=400, record_every=20, checkpoint_every=20, early_stopping=2),
    dict(epochs=12, batch_size=64, optimizer="adam"),
])
def test_a_resumed_sweep_ends_as_an_uninterrupted_one(flower, flower_val, tmp_path, fit):
    path = tmp_path / "sweep.ckpt"
    interrupted_sweep(flower, flower_val, path, stop_after=7, **fit)
    resumed = Sweep(template(), learning_rate=[0.05, 2.0, 8.0], seed=SEEDS, l2=[0.0, 0.01, 0.0])
    resumed.fit(*flower, validation_data=flower_val, resume=path, checkpoint=path, **fit)
    whole = Sweep(template(), learning_rate=[0.05, 2.0, 8.0], seed=SEEDS, l2=[0.0, 0.01, 0.0])
    whole.fit(*flower, validation_data=flower_val, checkpoint=tmp_path / "whole.ckpt", **fit)
    assert resumed.outcomes == whole.outcomes
    for k in range(3):
        for pair, whole_pair in zip(resumed.network(k).params, whole.network(k).params):
            for theta, theta_whole in zip(pair, whole_pair):
                np.testing.assert_array_equal(theta, theta_whole)
        assert resumed.histories[k] == whole.histories[k]


def test_a_sweep_in_two_stacks_resumes_in_the_second(flower, flower_val, tmp_path):
    settings = dict(learning_rate=[0.05, 0.1, 0.2], seed=SEEDS, keep_prob=[1.0, 0.8, 0.6])
    fit = dict(epochs=6, batch_size=50, validation_data=flower_val, checkpoint_every=1,
               checkpoint=tmp_path / "sweep.ckpt")
    records = []

    def stop(histories):
        records.append(1)
        if len(records) == 9:  # the first stack's 6 records, then 3 of the second's
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Sweep(template(), **settings).fit(*flower, on_record=stop, **fit)
    resumed = Sweep(template(), **settings)
    resumed.fit(*flower, resume=tmp_path / "sweep.ckpt", **fit)
    whole = Sweep(template(), **settings)
    whole.fit(*flower, **{**fit, "checkpoint": tmp_path / "whole.ckpt"})
    for k in range(3):
        for pair, whole_pair in zip(resumed.network(k).params, whole.network(k).params):
            for theta, theta_whole in zip(pair, whole_pair):
                np.testing.assert_array_equal(theta, theta_whole)
        assert resumed.histories[k] == whole.histories[k]


def test_resuming_with_other_settings_is_refused(flower, flower_val, tmp_path):
    path = tmp_path / "sweep.ckpt"
    interrupted_sweep(flower, flower_val, path, stop_after=3, iterations=100, record_every=10)
    other = Sweep(template(), learning_rate=[0.05, 2.0, 9.0], seed=SEEDS, l2=[0.0, 0.01, 0.0])
    with pytest.raises(ConfigError, match="another network settings"):
        other.fit(*flower, validation_data=flower_val, iterations=100, record_every=10,
                  resume=path)


def test_a_fit_checkpoint_is_not_a_sweep_checkpoint(flower, tmp_path):
    path = tmp_path / "fit.ckpt"
    template().fit(*flower, iterations=10, checkpoint=path)
    with pytest.raises(xpnet.DataFileError, match="not an xpnet sweep checkpoint"):
        Sweep(template(), learning_rate=[0.1, 0.2]).fit(*flower, iterations=10, resume=path)
