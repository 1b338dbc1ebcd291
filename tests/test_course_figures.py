"""The course's published runs on the cat data (../shared/data/README.md), in float64.

NumPy reproduces the published costs to 1e-6 and the accuracies exactly; the
other backends reproduce NumPy's costs to 1e-7 relative.
"""

import pytest

import xpnet
from xpnet import _backend

from conftest import CAT_DATA, asarray

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cat_data(cat_data):
    """The cat data in float64, as the course computed it: x / 255.0 in float64, not float32's rounding.

    conftest's fixture (the loader's default dtype, float32) decides whether the files are there.
    """
    from xpnet.data import load_catvnoncat

    return load_catvnoncat(CAT_DATA, dtype="float64")

LOGISTIC = dict(costs={0: 0.693147, 100: 0.584508, 200: 0.466949, 1900: 0.140872},
                train_percent=99.04306220095694, test_percent=70.0)
TWO_LAYER = dict(costs={0: 0.6930497356599888, 100: 0.6464320953428849, 2400: 0.048554785628770226},
                 train=1.0, test=0.72)
FOUR_LAYER = dict(costs={0: 0.7717493284237686, 100: 0.6720534400822914,
                         2400: 0.09287821526472395, 2499: 0.088439943441702},
                  train=0.9856459330143539, test=0.8)


def logistic_regression():
    return xpnet.LogisticRegression(dtype="float64"), dict(iterations=2000, learning_rate=0.005)


def two_layer():
    return (xpnet.Network([12288, 7, 1], hidden="relu", init="normal", seed=1, dtype="float64"),
            dict(iterations=2500, learning_rate=0.0075))


def four_layer():
    return (xpnet.Network([12288, 20, 7, 5, 1], hidden="relu", init="xavier", seed=1, dtype="float64"),
            dict(iterations=2500, learning_rate=0.0075))


def costs_at(history):
    return dict(zip(history.iterations, history.costs))


@pytest.fixture(scope="module")
def numpy_runs(cat_data):
    """Each course model trained once on NumPy: {name: (net, costs by iteration)}."""
    runs = {}
    for name, build in [("logistic", logistic_regression), ("two_layer", two_layer),
                        ("four_layer", four_layer)]:
        net, settings = build()
        runs[name] = (net, costs_at(net.fit(cat_data.X_train, cat_data.Y_train, **settings)))
    return runs


def test_logistic_regression_reproduces_the_course(numpy_runs, cat_data):
    net, costs = numpy_runs["logistic"]
    for i, J in LOGISTIC["costs"].items():
        assert costs[i] == pytest.approx(J, abs=1e-6), f"cost at iteration {i}"
    assert 100 * net.score(cat_data.X_train, cat_data.Y_train) == LOGISTIC["train_percent"]
    assert 100 * net.score(cat_data.X_test, cat_data.Y_test) == LOGISTIC["test_percent"]


def test_two_layer_network_reproduces_the_course(numpy_runs, cat_data):
    net, costs = numpy_runs["two_layer"]
    for i, J in TWO_LAYER["costs"].items():
        assert costs[i] == pytest.approx(J, abs=1e-6), f"cost at iteration {i}"
    assert net.score(cat_data.X_train, cat_data.Y_train) == TWO_LAYER["train"]
    assert net.score(cat_data.X_test, cat_data.Y_test) == TWO_LAYER["test"]


def test_four_layer_network_reproduces_the_course(numpy_runs, cat_data):
    net, costs = numpy_runs["four_layer"]
    for i, J in FOUR_LAYER["costs"].items():
        assert costs[i] == pytest.approx(J, abs=1e-6), f"cost at iteration {i}"
    # 206 of 209 right. The course printed np.sum((p == y) / m), which adds 1/209
    # 206 times and lands 2 ulp below 206/209; the count is what must match.
    train = net.score(cat_data.X_train, cat_data.Y_train)
    assert train == 206 / 209
    assert train == pytest.approx(FOUR_LAYER["train"], rel=1e-15)
    assert net.score(cat_data.X_test, cat_data.Y_test) == FOUR_LAYER["test"]


@pytest.mark.parametrize("build", [logistic_regression, two_layer, four_layer],
                         ids=["logistic", "two_layer", "four_layer"])
def test_every_backend_follows_the_numpy_run(build, xp, numpy_runs, cat_data):
    if _backend.backend_name(xp) == "numpy":
        pytest.skip("this is the reference run")
    name = {"logistic_regression": "logistic"}.get(build.__name__, build.__name__)
    _, reference = numpy_runs[name]
    net, settings = build()
    history = net.fit(asarray(cat_data.X_train, xp), asarray(cat_data.Y_train, xp), **settings)
    costs = costs_at(history)
    for i, J in reference.items():
        assert costs[i] == pytest.approx(J, rel=1e-7), f"cost at iteration {i}"
