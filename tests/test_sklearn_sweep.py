"""xpnet.sklearn.SweepSearchCV: GridSearchCV over learning rate, L2, keep_prob and seed,
each split's candidates trained in one pass as an xpnet.Sweep. Its scores, ranks and
best parameters are held to GridSearchCV's over the same estimator, grid and cv, on
small float64 data; X is (m, n_features), rows, as scikit-learn takes it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.exceptions import FitFailedWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from xpnet.sklearn import (  # noqa: E402
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    SweepSearchCV,
)

X, y = make_classification(n_samples=120, n_features=5, n_informative=3, n_redundant=0,
                           random_state=0)
GRID = {"learning_rate_init": [0.01, 0.1], "alpha": [0.0, 0.1], "random_state": [0, 1]}


def whole_batch(**params):
    return MLPClassifier((8,), max_iter=25, batch_size=None, **params)


def both(estimator, grid, data=(X, y), **options):
    """(GridSearchCV, SweepSearchCV), each fitted with the same estimator, grid and options."""
    return (GridSearchCV(estimator, grid, **options).fit(*data),
            SweepSearchCV(estimator, grid, **options).fit(*data))


def assert_same_search(grid_search, sweep_search):
    expected, got = grid_search.cv_results_, sweep_search.cv_results_
    assert got["params"] == expected["params"]
    for i in range(grid_search.n_splits_):
        np.testing.assert_allclose(got[f"split{i}_test_score"], expected[f"split{i}_test_score"],
                                   rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["mean_test_score"], expected["mean_test_score"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["std_test_score"], expected["std_test_score"], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(got["rank_test_score"], expected["rank_test_score"])
    assert sweep_search.best_params_ == grid_search.best_params_
    assert sweep_search.best_index_ == grid_search.best_index_
    assert sweep_search.best_score_ == pytest.approx(grid_search.best_score_, abs=1e-9)


# -- the same search as GridSearchCV ----------------------------------------------------


@pytest.mark.parametrize("scoring", [None, "neg_log_loss"])
def test_scores_and_best_params_are_grid_searchs_with_the_whole_batch(scoring):
    assert_same_search(*both(whole_batch(), GRID, cv=3, scoring=scoring))


def test_scores_are_grid_searchs_with_mini_batches_dropout_and_several_random_states():
    estimator = MLPClassifier((8,), max_iter=10, batch_size=32)
    assert_same_search(*both(estimator, {**GRID, "keep_prob": [0.8, 1.0]}, cv=3,
                             scoring="neg_log_loss"))


def test_scores_are_grid_searchs_with_early_stopping():
    estimator = whole_batch(early_stopping=True, n_iter_no_change=3, validation_fraction=0.2)
    assert_same_search(*both(estimator, GRID, cv=3, scoring="neg_log_loss"))


def test_logistic_regression_over_C_and_its_automatic_rate_is_grid_searchs():
    assert_same_search(*both(LogisticRegression(max_iter=40), {"C": [0.1, 1.0, 10.0]}, cv=3,
                             scoring="neg_log_loss"))


def test_a_regressor_is_scored_by_r2_as_in_grid_search():
    data = make_regression(n_samples=90, n_features=4, noise=1.0, random_state=0)
    estimator = MLPRegressor((8,), max_iter=25, batch_size=None, random_state=0)
    assert_same_search(*both(estimator, {"learning_rate_init": [0.003, 0.03],
                                         "alpha": [0.0, 1.0]}, data=data, cv=3))


def test_a_pipelines_last_step_is_searched_as_in_grid_search():
    pipeline = make_pipeline(StandardScaler(), whole_batch())
    grid = {"mlpclassifier__alpha": [0.0, 1.0], "mlpclassifier__random_state": [0, 1]}
    grid_search, sweep_search = both(pipeline, grid, cv=3, scoring="neg_log_loss")
    assert_same_search(grid_search, sweep_search)
    assert sweep_search.n_sweeps_ == 3


def test_cv_results_has_grid_searchs_keys():
    grid_search, sweep_search = both(whole_batch(), GRID, cv=3)
    assert set(sweep_search.cv_results_) == set(grid_search.cv_results_)
    assert list(sweep_search.cv_results_["param_alpha"]) == [0.0, 0.0, 0.0, 0.0, 0.1, 0.1, 0.1, 0.1]


# -- one sweep per split ----------------------------------------------------------------


def test_a_split_trains_as_one_sweep_when_the_candidates_share_their_shuffles():
    search = SweepSearchCV(whole_batch(), GRID, cv=3).fit(X, y)
    assert search.n_splits_ == 3 and search.n_sweeps_ == 3


def test_with_mini_batches_each_random_state_trains_its_own_sweep():
    search = SweepSearchCV(MLPClassifier((8,), max_iter=5, batch_size=32), GRID, cv=3).fit(X, y)
    assert search.n_sweeps_ == 3 * 2


# -- refit, predictions ---------------------------------------------------------------


def test_the_best_candidate_is_refit_on_all_the_data():
    search = SweepSearchCV(whole_batch(), GRID, cv=3).fit(X, y)
    alone = whole_batch().set_params(**search.best_params_).fit(X, y)
    assert search.best_estimator_.get_params() == alone.get_params()
    np.testing.assert_array_equal(search.predict_proba(X), alone.predict_proba(X))
    np.testing.assert_array_equal(search.predict(X), alone.predict(X))
    assert search.score(X, y) == alone.score(X, y)
    assert list(search.classes_) == [0, 1] and search.n_features_in_ == 5


def test_without_refit_there_is_no_best_estimator_to_predict_with():
    search = SweepSearchCV(whole_batch(), GRID, cv=3, refit=False).fit(X, y)
    assert search.best_params_ in search.cv_results_["params"]
    with pytest.raises(NotFittedError, match="refit=False"):
        search.predict(X)


def test_grid_search_can_wrap_a_sweep_search_over_the_rest():
    inner = SweepSearchCV(whole_batch(), {"alpha": [0.0, 0.1]}, cv=2)
    outer = GridSearchCV(inner, {"estimator__hidden_layer_sizes": [(4,), (8,)]}, cv=2).fit(X, y)
    assert outer.best_params_["estimator__hidden_layer_sizes"] in [(4,), (8,)]
    assert outer.best_estimator_.best_estimator_.hidden_layer_sizes == \
        outer.best_params_["estimator__hidden_layer_sizes"]


# -- what it refuses ---------------------------------------------------------------------


def test_a_grid_that_varies_another_parameter_is_refused_pointing_to_grid_search():
    grid = {"hidden_layer_sizes": [(4,), (8,)], "alpha": [0.0, 0.1]}
    with pytest.raises(ValueError, match=r"differ only in alpha, keep_prob, learning_rate_init, "
                                         r"random_state; this grid also varies "
                                         r"hidden_layer_sizes: search those with "
                                         r"sklearn.model_selection.GridSearchCV"):
        SweepSearchCV(whole_batch(), grid).fit(X, y)


def test_a_logistic_regression_grid_may_vary_C_but_not_its_solver():
    with pytest.raises(ValueError, match="differ only in C, learning_rate_init, random_state; "
                                         "this grid also varies solver"):
        SweepSearchCV(LogisticRegression(), {"solver": ["sgd", "adam"]}).fit(X, y)


def test_a_parameter_given_one_value_in_the_grid_does_not_vary():
    search = SweepSearchCV(whole_batch(), {"hidden_layer_sizes": [(4,)], "alpha": [0.0, 0.1]},
                           cv=2).fit(X, y)
    assert search.best_estimator_.network_.layer_dims[1] == 4


def test_an_estimator_that_is_not_xpnets_is_refused():
    with pytest.raises(TypeError, match="searches an xpnet.sklearn estimator"):
        SweepSearchCV(LinearSVC(), {"C": [0.1, 1.0]}).fit(X, y)


def test_several_scorings_are_refused():
    with pytest.raises(ValueError, match="one scoring"):
        SweepSearchCV(whole_batch(), GRID, scoring=["accuracy", "neg_log_loss"]).fit(X, y)


# -- training that diverges ------------------------------------------------------------


def _diverging():
    data = make_regression(n_samples=90, n_features=4, noise=1.0, random_state=0)
    estimator = MLPRegressor((8,), solver="sgd", max_iter=60, batch_size=None, random_state=0)
    return estimator, {"learning_rate_init": [0.01, 1.0]}, data


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_a_diverging_candidate_scores_nan_and_ranks_last_as_in_grid_search():
    estimator, grid, data = _diverging()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = GridSearchCV(estimator, grid, cv=3).fit(*data)
    with pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 6"):
        got = SweepSearchCV(estimator, grid, cv=3).fit(*data)
    assert np.isnan(got.cv_results_["mean_test_score"][1])
    assert_same_search(expected, got)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_error_score_raise_raises_the_divergence():
    estimator, grid, data = _diverging()
    with pytest.raises(ValueError, match="training diverged: .* lower learning_rate_init"):
        SweepSearchCV(estimator, grid, cv=3, error_score="raise").fit(*data)
