"""The public estimator API, on every backend."""

import os
import subprocess
import sys

import numpy as np
import pytest

import xpnet
from xpnet import _backend
from xpnet.data import planar_flower
from xpnet.errors import ConfigError

from conftest import asarray, assert_in_namespace, to_numpy


@pytest.fixture(scope="module")
def flower():
    return planar_flower(400, seed=1)


def blobs(K=3, m=150, seed=0):
    rng = np.random.RandomState(seed)
    ids = rng.randint(0, K, size=m)
    angles = 2 * np.pi * np.arange(K) / K
    centers = 5 * np.stack([np.cos(angles), np.sin(angles)])  # well apart: separable
    return centers[:, ids] + rng.randn(2, m), ids.reshape(1, m)


def test_fit_trains_where_X_lives(xp, flower):
    X, Y = (asarray(a, xp) for a in flower)
    net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1)
    net.fit(X, Y, iterations=200, learning_rate=1.2)
    device = _backend.device(X)
    for W, b in net.params:
        assert_in_namespace(W, xp, device)
        assert_in_namespace(b, xp, device)
        assert W.dtype == xp.float32


def test_history_records_every_record_every_iterations_and_the_last(flower):
    net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1)
    hist = net.fit(*flower, iterations=250, learning_rate=1.2, record_every=100)
    assert hist.iterations == [0, 100, 200, 249]
    assert all(type(J) is float for J in hist.costs)
    assert hist.costs[-1] < hist.costs[0]
    assert net.history is hist


def test_flower_reaches_ninety_percent_with_four_tanh_units(flower):
    net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1)
    net.fit(*flower, iterations=10000, learning_rate=1.2, record_every=1000)
    assert net.score(*flower) >= 0.90


def test_logistic_regression_on_flower_is_near_chance(flower):
    """The course's point: a linear boundary cannot separate the petals."""
    lr = xpnet.LogisticRegression()
    lr.fit(*flower, iterations=2000, learning_rate=0.1)
    assert 0.40 <= lr.score(*flower) <= 0.60


def test_predict_gives_0_1_labels_in_the_input_namespace(xp, flower):
    X, Y = (asarray(a, xp) for a in flower)
    net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1)
    net.fit(X, Y, iterations=300, learning_rate=1.2)
    labels = net.predict(X)
    assert_in_namespace(labels, xp, _backend.device(X))
    assert labels.shape == (1, 400)
    assert xp.isdtype(labels.dtype, "integral")
    assert set(np.unique(to_numpy(labels))) <= {0, 1}
    proba = net.predict_proba(X)
    assert_in_namespace(proba, xp, _backend.device(X))
    np.testing.assert_array_equal(to_numpy(labels), (to_numpy(proba) > 0.5).astype(int))


def test_score_is_a_python_float_accuracy(xp, flower):
    X, Y = (asarray(a, xp) for a in flower)
    net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1)
    net.fit(X, Y, iterations=300, learning_rate=1.2)
    score = net.score(X, Y)
    assert type(score) is float
    expected = np.mean(to_numpy(net.predict(X)) == flower[1])
    assert score == pytest.approx(expected, abs=1e-12)


def test_softmax_takes_class_ids_and_predicts_class_ids(xp):
    X_np, ids = blobs()
    X, Y = asarray(X_np, xp), asarray(ids, xp)
    net = xpnet.Network([2, 8, 3], hidden="relu", output="softmax", init="he", seed=0)
    net.fit(X, Y, iterations=300, learning_rate=0.5)
    predicted = net.predict(X)
    assert_in_namespace(predicted, xp)
    assert predicted.shape == (1, 150)
    assert net.score(X, Y) > 0.9
    proba = to_numpy(net.predict_proba(X))
    np.testing.assert_allclose(proba.sum(axis=0), 1.0, rtol=1e-5)


def test_softmax_one_hot_and_class_ids_train_the_same():
    X, ids = blobs()
    one_hot = np.eye(3)[:, ids[0]]
    nets = [xpnet.Network([2, 5, 3], output="softmax", seed=2, dtype="float64") for _ in range(2)]
    nets[0].fit(X, ids, iterations=20)
    nets[1].fit(X, one_hot, iterations=20)
    for (W0, _), (W1, _) in zip(nets[0].params, nets[1].params):
        np.testing.assert_array_equal(W0, W1)


def test_integer_labels_of_shape_m_are_accepted(flower):
    X, Y = flower
    net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1, dtype="float64")
    ref = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1, dtype="float64")
    assert net.fit(X, Y.ravel(), iterations=5).costs == ref.fit(X, Y.astype(float), iterations=5).costs


def test_linear_output_regresses_and_scores_r2(xp):
    rng = np.random.RandomState(0)
    X_np = rng.uniform(-2, 2, size=(1, 200))
    Y_np = np.sin(X_np)
    net = xpnet.Network([1, 16, 1], hidden="tanh", output="linear", init="xavier", seed=0)
    X, Y = asarray(X_np, xp), asarray(Y_np, xp)
    net.fit(X, Y, iterations=2000, learning_rate=0.1)
    assert_in_namespace(net.predict(X), xp)
    assert net.score(X, Y) > 0.95


def test_hidden_takes_one_name_per_layer():
    net = xpnet.Network([3, 4, 4, 1], hidden=["relu", "tanh"], seed=0)
    assert [h.name for h in net.hidden] == ["relu", "tanh"]


def test_params_have_the_course_shapes():
    net = xpnet.Network([12, 5, 3, 1], seed=0)
    assert [(W.shape, b.shape) for W, b in net.params] == [
        ((5, 12), (5, 1)), ((3, 5), (3, 1)), ((1, 3), (1, 1))
    ]


def test_gradients_have_the_shapes_of_the_params(flower):
    net = xpnet.Network([2, 4, 1], hidden="tanh", seed=0)
    grads = net.gradients(*flower)
    assert [(dW.shape, db.shape) for dW, db in grads] == [
        (W.shape, b.shape) for W, b in net.params
    ]


def test_logistic_regression_takes_n_x_from_X_and_starts_at_zero(flower):
    lr = xpnet.LogisticRegression(dtype="float64")
    with pytest.raises(xpnet.NotFittedError, match="fit"):
        lr.params
    hist = lr.fit(*flower, iterations=1)
    assert lr.layer_dims == (2, 1)
    assert hist.costs[0] == pytest.approx(np.log(2), abs=1e-15)


def test_softmax_regression_takes_the_class_count_from_Y():
    X, ids = blobs(K=4)
    lr = xpnet.LogisticRegression(output="softmax")
    lr.fit(X, ids, iterations=200, learning_rate=0.5)
    assert lr.layer_dims == (2, 4)
    assert lr.score(X, ids) > 0.7


def test_params_move_to_the_namespace_of_the_input(xp, flower):
    """Trained on NumPy, predicting on another backend returns that backend's arrays."""
    net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1)
    net.fit(*flower, iterations=50, learning_rate=1.2)
    X = asarray(flower[0], xp)
    assert_in_namespace(net.predict_proba(X), xp)
    np.testing.assert_allclose(to_numpy(net.predict_proba(X)), net.predict_proba(flower[0]), rtol=1e-6)


def test_same_seed_same_costs_on_every_backend(xp, flower):
    def run(X, Y):
        net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=4, dtype="float64")
        return net.fit(X, Y, iterations=500, learning_rate=1.2).costs

    np.testing.assert_allclose(run(*(asarray(a, xp) for a in flower)), run(*flower), rtol=1e-12)


def test_a_network_can_be_deep_copied_and_pickled_for_joblib(flower):
    import copy
    import pickle

    net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1)
    net.fit(*flower, iterations=50, learning_rate=1.2)
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        np.testing.assert_array_equal(clone.predict_proba(flower[0]), net.predict_proba(flower[0]))


def test_fit_leaves_arrays_the_caller_holds_untouched(xp, flower):
    X, Y = (asarray(a, xp) for a in flower)
    net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1)
    net.fit(X, Y, iterations=5, learning_rate=1.2)
    before = [(to_numpy(W).copy(), W) for W, _ in net.params]
    net.fit(X, Y, iterations=5, learning_rate=1.2, optimizer="adam")
    for saved, held in before:
        np.testing.assert_array_equal(to_numpy(held), saved)


# -- precision ---------------------------------------------------------------------


def test_precision_tf32_needs_float32():
    with pytest.raises(ConfigError, match="float32"):
        xpnet.Network([2, 3, 1], dtype="float64", precision="tf32")


def test_an_unknown_precision_is_refused():
    with pytest.raises(ConfigError, match="precision must be one of full, tf32"):
        xpnet.Network([2, 3, 1], precision="bf16")


def test_tf32_is_the_same_as_full_precision_on_a_cpu(xp, flower):
    X, Y = (asarray(a, xp) for a in flower)
    if "cpu" not in str(_backend.device(X)).lower():
        pytest.skip("on an accelerator TF32 differs from float32, by design")
    nets = [xpnet.Network([2, 4, 1], hidden="tanh", seed=1, precision=p) for p in ("full", "tf32")]
    for net in nets:
        net.fit(X, Y, iterations=20)
    for (W, _), (W_tf32, _) in zip(nets[0].params, nets[1].params):
        np.testing.assert_array_equal(to_numpy(W_tf32), to_numpy(W))


def test_tf32_is_switched_on_for_torch_within_the_model_and_off_after():
    torch = pytest.importorskip("torch")
    seen = []
    net = xpnet.Network([2, 3, 1], precision="tf32", seed=0)
    X = torch.ones((2, 5))
    net.fit(X, torch.ones((1, 5)), iterations=2,
            on_record=lambda history: seen.append(torch.backends.cuda.matmul.allow_tf32))
    assert seen == [True, True]
    assert torch.backends.cuda.matmul.allow_tf32 is False


def test_full_precision_keeps_jax_products_at_highest():
    jax = pytest.importorskip("jax")
    seen = []
    net = xpnet.Network([2, 3, 1], seed=0)
    xp = _backend.namespace_by_name("jax")
    net.fit(xp.ones((2, 5), dtype=xp.float32), xp.ones((1, 5), dtype=xp.float32), iterations=1,
            on_record=lambda history: seen.append(jax.config.jax_default_matmul_precision))
    assert seen == ["highest"]


def test_full_precision_holds_for_a_backend_first_imported_by_fit():
    pytest.importorskip("jax")
    script = (
        "import sys, numpy as np, xpnet\n"
        "assert 'jax' not in sys.modules\n"
        "seen = []\n"
        "net = xpnet.Network([2, 3, 1], seed=0)\n"
        "net.fit(np.ones((2, 5)), np.ones((1, 5)), iterations=1, backend='jax', on_record=lambda h:"
        " seen.append(sys.modules['jax'].config.jax_default_matmul_precision))\n"
        "print(seen)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "['highest']"


def test_precision_travels_with_the_config():
    net = xpnet.Network([2, 3, 1], precision="tf32")
    assert xpnet.Network(**net.get_config()).precision == "tf32"



def test_predict_before_fit_is_refused_where_the_sizes_come_from_the_data():
    with pytest.raises(xpnet.NotFittedError, match="call fit"):
        xpnet.LogisticRegression().predict(np.ones((3, 4)))


def test_a_network_too_large_for_memory_is_refused_before_any_allocation():
    with pytest.raises(ConfigError, match="bytes"):
        xpnet.Network([2, 10**12, 1])


def test_r2_of_a_constant_target_is_one_when_predicted_exactly_else_zero():
    net = xpnet.Network([1, 1], output="linear", init="zeros", dtype="float64")
    X = np.ones((1, 5))
    assert net.score(X, np.zeros((1, 5))) == 1.0
    assert net.score(X, np.full((1, 5), 3.0)) == 0.0


def test_float64_on_jax_without_its_64_bit_types_is_refused_and_fit_leaves_the_switch_alone():
    pytest.importorskip("jax")
    script = (
        "import numpy as np, xpnet, jax\n"
        "net = xpnet.Network([2, 3, 1], seed=0)\n"
        "net.fit(np.ones((2, 5)), np.ones((1, 5)), iterations=1, backend='jax')\n"
        "assert not jax.config.jax_enable_x64, 'fit switched on x64 for the process'\n"
        "try:\n"
        "    xpnet.Network([2, 3, 1], dtype='float64').fit(np.ones((2, 5)), np.ones((1, 5)),\n"
        "                                                  iterations=1, backend='jax')\n"
        "except xpnet.ConfigError as exc:\n"
        "    print(exc)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "JAX_ENABLE_X64": "0"})
    assert run.returncode == 0, run.stderr
    assert "jax_enable_x64" in run.stdout


def test_fits_on_several_threads_leave_torchs_tf32_switch_as_they_found_it():
    import threading

    torch = pytest.importorskip("torch")
    X, Y = torch.ones((2, 40)), torch.ones((1, 40))
    barrier = threading.Barrier(4)

    def fit(precision):
        net = xpnet.Network([2, 3, 1], seed=0, precision=precision)
        barrier.wait()
        net.fit(X, Y, iterations=30)

    threads = [threading.Thread(target=fit, args=(p,)) for p in ("tf32", "full", "tf32", "full")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert torch.backends.cuda.matmul.allow_tf32 is False


def test_building_a_network_allocates_no_more_than_the_size_guard_announces():
    import tracemalloc

    from xpnet.models import _check_allocatable

    dims, announced = [500, 300, 20, 1], (500 * 300 + 300 + 300 * 20 + 20 + 20 + 1) * (16 + 4)
    _check_allocatable(dims, "float32")  # passes: it is what the guard compares with memory
    xpnet.Network([2, 1])  # the imports a first network makes, outside the measure
    tracemalloc.start()
    try:
        xpnet.Network(dims, seed=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= announced + 64 * 1024, (peak, announced)


@pytest.mark.parametrize("Y", [np.array([[0.0, np.nan, 1.0]]), np.array([["a", "b", "c"]]),
                               np.array([[0.0, np.inf, 1.0]])])
def test_softmax_regression_checks_the_labels_before_counting_classes_in_them(Y):
    with pytest.raises(xpnet.XpnetError):
        xpnet.LogisticRegression(output="softmax").fit(np.ones((2, 3)), Y, iterations=1)


def test_params_with_b_of_the_wrong_shape_are_refused_when_set():
    net = xpnet.Network([2, 3, 1])
    with pytest.raises(ConfigError, match="b"):
        net.params = [(W, b.ravel()) for W, b in net.params]
