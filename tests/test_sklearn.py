"""xpnet.sklearn: scikit-learn's estimator contract, and the estimators at work in
Pipeline and GridSearchCV. X here is (m, n_features), rows, as scikit-learn takes it."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_digits, make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import xpnet  # noqa: E402
from xpnet.sklearn import LogisticRegression, MLPClassifier, MLPRegressor  # noqa: E402

# Checks of scikit-learn's suite that an estimator is expected to fail, by class
# name: {check name: reason}. None at present; a check that stops passing goes
# here with the reason, never silently.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "MLPClassifier": {},
    "MLPRegressor": {},
    "LogisticRegression": {},
}


def _expected_failed_checks(estimator) -> dict[str, str]:
    return EXPECTED_FAILED_CHECKS[type(estimator).__name__]


# Few epochs: the checks fit many times on tiny data. They still have to clear
# the suite's score bars honestly (accuracy > 0.83 on blobs, R² > 0.5). One
# estimator trains on another backend, whose arrays never reach scikit-learn.
@parametrize_with_checks(
    [MLPClassifier(max_iter=50), MLPRegressor(max_iter=100), LogisticRegression(max_iter=100),
     MLPRegressor(max_iter=100, backend="array_api_strict")],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def _three_classes(m=200, seed=0):
    X, y = make_classification(n_samples=m, n_features=4, n_informative=3, n_redundant=0,
                               n_classes=3, n_clusters_per_class=1, class_sep=2.0,
                               random_state=seed)
    return X, y


def test_import_xpnet_does_not_import_sklearn():
    code = "import sys, xpnet; sys.exit(int('sklearn' in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_pipeline_with_standard_scaler_beats_90_percent_on_digits(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    model = make_pipeline(StandardScaler(), MLPClassifier(max_iter=30, random_state=0))
    model.fit(X_train, y_train)
    assert model.score(X_test, y_test) > 0.9


def test_grid_search_over_hidden_layer_sizes_picks_the_wider_layer(digits_split):
    X_train, _, y_train, _ = digits_split
    search = GridSearchCV(
        make_pipeline(StandardScaler(), MLPClassifier(max_iter=20, learning_rate_init=0.01, random_state=0)),
        {"mlpclassifier__hidden_layer_sizes": [(1,), (32,)]},
        cv=3,
    )
    search.fit(X_train[:600], y_train[:600])
    assert len(search.cv_results_["params"]) == 2
    # One hidden unit cannot separate ten digits; 32 can.
    assert search.best_params_ == {"mlpclassifier__hidden_layer_sizes": (32,)}
    assert search.best_estimator_.score(X_train[:600], y_train[:600]) > 0.9


@pytest.mark.parametrize("n_classes", [2, 3])
def test_string_labels_round_trip(n_classes):
    X, y = _three_classes()
    X, y = X[y < n_classes], y[y < n_classes]
    names = np.array(["cat", "dog", "emu"])[y]
    clf = MLPClassifier(learning_rate_init=0.01, max_iter=100, random_state=0).fit(X, names)
    assert list(clf.classes_) == ["cat", "dog", "emu"][:n_classes]
    predicted = clf.predict(X)
    assert predicted.dtype == names.dtype and set(predicted) <= set(clf.classes_)
    assert np.mean(predicted == names) > 0.9


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("make", [lambda: MLPClassifier(max_iter=20, random_state=0),
                                  lambda: LogisticRegression(max_iter=20)],
                         ids=["MLPClassifier", "LogisticRegression"])
def test_predict_proba_rows_sum_to_one(make, n_classes):
    X, y = _three_classes()
    X, y = X[y < n_classes], y[y < n_classes]
    proba = make().fit(X, y).predict_proba(X)
    assert proba.shape == (len(y), n_classes)
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


def test_regressor_fits_a_smooth_function_with_r2_above_0_9():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(400, 1))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 0]
    reg = MLPRegressor(hidden_layer_sizes=(32,), activation="tanh", batch_size=32,
                       learning_rate_init=0.01, max_iter=100, random_state=0).fit(X, y)
    X_test = rng.uniform(-3, 3, size=(200, 1))
    assert reg.predict(X_test).shape == (200,)
    assert reg.score(X_test, np.sin(X_test[:, 0]) + 0.5 * X_test[:, 0]) > 0.9


def test_regressor_predicts_one_column_per_output():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((100, 3))
    y = np.stack([X[:, 0], X[:, 1] - X[:, 2]], axis=1)
    reg = MLPRegressor(max_iter=5, random_state=0).fit(X, y)
    assert reg.n_outputs_ == 2 and reg.predict(X).shape == (100, 2)


@pytest.mark.parametrize("make", [MLPClassifier, MLPRegressor])
def test_random_state_makes_fits_reproducible(make):
    X, y = _three_classes()
    first = make(max_iter=10, keep_prob=0.8, random_state=7).fit(X, y)
    again = make(max_iter=10, keep_prob=0.8, random_state=7).fit(X, y)
    other = make(max_iter=10, keep_prob=0.8, random_state=8).fit(X, y)
    np.testing.assert_array_equal(first.loss_curve_, again.loss_curve_)
    for (W1, b1), (W2, b2) in zip(first.network_.params, again.network_.params):
        np.testing.assert_array_equal(W1, W2)
        np.testing.assert_array_equal(b1, b2)
    assert first.loss_curve_ != other.loss_curve_


def test_fitted_attributes_describe_the_network():
    X, y = _three_classes()
    clf = MLPClassifier(hidden_layer_sizes=(8, 4), max_iter=7, alpha=0.5, random_state=0).fit(X, y)
    assert isinstance(clf.network_, xpnet.Network)
    assert clf.network_.layer_dims == (4, 8, 4, 3)
    assert clf.network_.output.name == "softmax"
    assert clf.n_features_in_ == 4 and clf.n_iter_ == 7 and len(clf.loss_curve_) == 7
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_alpha_and_C_map_to_xpnets_l2():
    X, y = _three_classes()
    assert MLPClassifier(alpha=0.25, max_iter=1).fit(X, y).network_.l2 == 0.25
    assert LogisticRegression(C=4.0, max_iter=1).fit(X, y).network_.l2 == 0.25


def test_logistic_regression_agrees_with_sklearns_at_the_same_C():
    X, y = _three_classes(m=300, seed=1)
    X = StandardScaler().fit_transform(X)
    ours = LogisticRegression(C=0.5).fit(X, y)
    theirs = SklearnLogisticRegression(C=0.5).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=0.05)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=0.01)


def test_early_stopping_keeps_the_best_epoch():
    X, y = _three_classes(m=300)
    clf = MLPClassifier(max_iter=500, early_stopping=True, n_iter_no_change=3,
                        learning_rate_init=0.05, random_state=0).fit(X, y)
    assert clf.n_iter_ < 500
    assert clf.n_iter_ - clf.best_iter_ == 3
    best = min(clf.validation_loss_curve_)
    assert clf.validation_loss_curve_[clf.best_iter_ - 1] == best


def test_pickled_model_predicts_the_same():
    X, y = _three_classes()
    clf = MLPClassifier(max_iter=5, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert restored.network_.get_config() == clf.network_.get_config()


def test_float32_trains_and_predicts_in_float32():
    X, y = _three_classes()
    clf = MLPClassifier(max_iter=20, dtype="float32", random_state=0).fit(X, y)
    assert clf.network_.dtype == "float32"
    assert clf.predict_proba(X).dtype == np.float32
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("make", [MLPClassifier, LogisticRegression])
def test_a_backend_trains_there_and_gives_numpy_back(make):
    """array-api-strict computes with NumPy's kernels: the same numbers, through the other
    backend's arrays."""
    X, y = _three_classes()
    on_numpy = make(max_iter=20, random_state=0).fit(X, y)
    elsewhere = make(max_iter=20, random_state=0, backend="array_api_strict").fit(X, y)
    W = elsewhere.network_.params[0][0]
    assert type(W).__module__.startswith("array_api_strict")
    proba = elsewhere.predict_proba(X)
    assert isinstance(proba, np.ndarray) and proba.dtype == np.float64
    np.testing.assert_array_equal(proba, on_numpy.predict_proba(X))
    np.testing.assert_array_equal(elsewhere.predict(X), on_numpy.predict(X))
    if make is LogisticRegression:
        assert isinstance(elsewhere.coef_, np.ndarray)
        np.testing.assert_array_equal(elsewhere.coef_, on_numpy.coef_)


def test_a_model_trained_on_a_backend_pickles_and_predicts_the_same():
    X, y = _three_classes()
    clf = MLPClassifier(max_iter=5, random_state=0, backend="array_api_strict").fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("params", [
    {"solver": "lbfgs"}, {"activation": "softplus"}, {"hidden_layer_sizes": (0,)},
    {"batch_size": 0}, {"max_iter": 0}, {"dtype": "float16"}, {"alpha": -1.0},
    {"early_stopping": True, "validation_fraction": 1.5}, {"backend": "tensorflow"},
], ids=lambda p: ",".join(p))
def test_bad_parameters_raise_value_error_at_fit(params):
    X, y = _three_classes()
    clf = MLPClassifier(**params)  # scikit-learn's rule: __init__ only stores
    with pytest.raises(ValueError):
        clf.fit(X, y)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_a_diverging_fit_is_scikit_learns_value_error_not_a_floating_point_error():
    X = np.random.RandomState(0).randn(40, 3) * 1e3
    y = np.arange(40) % 2
    clf = MLPClassifier(hidden_layer_sizes=(4,), learning_rate_init=1e30, max_iter=3,
                        random_state=0, dtype="float32")
    with pytest.raises(ValueError, match="diverged") as raised:
        clf.fit(X, y)
    assert not isinstance(raised.value, FloatingPointError)
