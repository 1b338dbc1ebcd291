"""scikit-learn estimators over xpnet: :class:`MLPClassifier`, :class:`MLPRegressor`
and :class:`LogisticRegression`; and :class:`SweepSearchCV`, a grid search over
their learning rate, L2 strength, keep_prob and seed that trains each
cross-validation split's candidates in one pass, as an :class:`xpnet.Sweep`.

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from xpnet.sklearn import MLPClassifier

    clf = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,)))
    clf.fit(X_train, y_train).score(X_test, y_test)

These take X as scikit-learn does, **(m, n_features): one example per row**, and
transpose it to xpnet's (n_x, m) at the boundary; inside ``fit`` they build an
:class:`xpnet.Network` (kept as ``network_``) and train it with its hand-derived
backward pass. Predictions come back as rows again.

This module needs scikit-learn ≥ 1.6 (``pip install "xpnet[sklearn]"``);
``import xpnet`` does not import it. It runs past 700 lines for three
estimators with scikit-learn's parameter documentation and the search over
them, kept together because they share one translation of parameters into a
Network and its fit (``_prepare``, a ``_Run``), which the search reuses for
each candidate, and one set of conventions.

How the parameters map onto xpnet
---------------------------------

- ``max_iter`` is the number of epochs (passes over the data), as in
  scikit-learn's MLP with a stochastic solver.
- ``batch_size="auto"`` is min(200, m); an integer larger than m is clipped to m.
- ``solver``: "sgd" (plain gradient descent, no momentum), "momentum" (the
  course's v = β·v + (1 − β)·dθ, β = 0.9), "rmsprop", "adam" (β1 = 0.9,
  β2 = 0.999, ε = 1e-8, as scikit-learn's). scikit-learn's "sgd" adds Nesterov
  momentum by default and its "lbfgs" has no counterpart here.
- ``alpha`` → ``Network(l2=alpha)``. xpnet's cost on a mini-batch of m examples
  is J + λ/(2m)·Σ‖W‖² (weights only, not biases), so dW gains λ/m·W.
  scikit-learn's MLP adds (½·alpha)·Σ‖W‖² / n_samples to the loss of each batch
  of n_samples, and alpha·W / n_samples to the gradient: the same form with the
  same m, so λ = alpha exactly (scikit-learn's squared loss for several outputs
  divides its *reported* loss by n_outputs, but its gradient is xpnet's).
- ``early_stopping=True`` holds out ``validation_fraction`` of the training
  data (stratified for classifiers), and stops once the validation *cost* has
  not improved for ``n_iter_no_change`` epochs, keeping the parameters of the
  best epoch. scikit-learn watches the validation score with a tolerance
  ``tol``; there is no ``tol`` here, and without early stopping every one of
  the ``max_iter`` epochs runs (no ConvergenceWarning).
- ``activation``: scikit-learn's names ("identity", "logistic", "tanh",
  "relu") or xpnet's ("linear", "sigmoid", "tanh", "relu", "leaky_relu").
  Weights start as xpnet's "xavier" draw, randn/√n[l−1], for every activation:
  close in scale to scikit-learn's Glorot-uniform draw, and on small data sets
  it trains faster than He's √2-times-larger draw, whose larger initial
  outputs take longer to undo.
- ``keep_prob``: inverted dropout on the hidden layers while training (1 = off).
- ``random_state``: None, an int or a ``RandomState``; it seeds the initial
  weights, the shuffles and dropout masks, and the validation split.

Outputs: two classes → one sigmoid unit (binary cross-entropy), more →
softmax (categorical cross-entropy), regression → linear units (squared error).

``dtype`` defaults to **"float64"**, not to xpnet's training default float32.
These estimators run on NumPy on the CPU (scikit-learn's input validation turns
every input into a NumPy array), where float64 costs little on tabular data;
scikit-learn's estimators compute and predict in float64 and its estimator
checks hold them to that (predictions of multi-output regressors must be
float64; predictions on subsets of a batch must equal those on the whole batch
to 1e-7). ``dtype="float32"`` trains in single precision where speed matters
more. ``backend="cupy"`` (or "torch", "jax": on their GPU where they have one)
trains and predicts there, with NumPy in and out: the data crosses to the
device once per ``fit`` and once per prediction.

Not supported: ``sample_weight``, sparse X, multi-label y, ``partial_fit``,
``warm_start``.
"""

from __future__ import annotations

import numbers
import time
import warnings
from dataclasses import dataclass

import numpy as np

try:
    from scipy.stats import rankdata
    from sklearn.base import (BaseEstimator, ClassifierMixin, MetaEstimatorMixin,
                              RegressorMixin, clone, is_classifier)
    from sklearn.exceptions import FitFailedWarning
    from sklearn.metrics import check_scoring
    from sklearn.model_selection import ParameterGrid, check_cv, train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.utils import _safe_indexing, check_random_state
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, indexable, validate_data
except ImportError as exc:  # scikit-learn missing, or older than 1.6 (no validate_data)
    raise ImportError(
        "xpnet.sklearn needs scikit-learn >= 1.6: pip install 'xpnet[sklearn]' "
        "or pip install -U scikit-learn"
    ) from exc

from . import _backend
from ._checks import check_int, is_real
from .errors import DivergenceError
from .models import Network
from .sweeps import Sweep

__all__ = ["MLPClassifier", "MLPRegressor", "LogisticRegression", "SweepSearchCV"]

SOLVERS = ("sgd", "momentum", "rmsprop", "adam")

# scikit-learn's activation names and xpnet's, to xpnet's.
ACTIVATIONS = {
    "identity": "linear",
    "logistic": "sigmoid",
    "linear": "linear",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": "leaky_relu",
}

DTYPES = {"float64": np.float64, "float32": np.float32}


# -- the shared part ---------------------------------------------------------------


class _NetworkEstimator(BaseEstimator):
    """What the three estimators share: checks, training one Network, pickling."""

    def _check_common(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {', '.join(SOLVERS)}; got {self.solver!r}")
        _check_int(self.max_iter, "max_iter")

    def _validate_X(self, X, *, reset: bool):
        return validate_data(self, X, reset=reset, dtype=DTYPES[self.dtype])

    def _batch_size(self, m: int, *, warn: bool = True) -> int | None:
        """The mini-batch size for m training examples (None: the whole batch)."""
        if self.batch_size is None:
            return None
        if self.batch_size == "auto":
            return min(200, m)
        _check_int(self.batch_size, "batch_size", hint="an integer ≥ 1, 'auto' or None")
        if self.batch_size > m:
            if warn:
                warnings.warn(
                    f"batch_size={self.batch_size} is larger than the {m} training examples: "
                    f"using batches of {m}",
                    UserWarning,
                    stacklevel=3,
                )
            return m
        return self.batch_size

    # A fit is three steps: _prepare(X, y) checks the data and the parameters and says what
    # to train (a _Run), _train trains it, _fitted keeps the result. SweepSearchCV takes
    # the _Run of each candidate and trains them together as one Sweep.

    def _run(self, X, Y, *, layer_dims, hidden, output, init, l2, keep_prob,
             learning_rate, stratify=None) -> "_Run":
        """What to train on X (m, n_x) rows and Y (n_y, m) columns: the Network's and
        fit's arguments, the random draws of ``random_state`` made, the validation rows
        held out for early stopping."""
        for name in ("validation_loss_curve_", "best_iter_"):  # from an earlier fit
            self.__dict__.pop(name, None)
        rng = check_random_state(self.random_state)
        seed, shuffle_seed = (int(s) for s in rng.randint(np.iinfo(np.int32).max, size=2))
        network = dict(layer_dims=layer_dims, hidden=hidden, output=output, init=init, seed=seed,
                       dtype=self.dtype, l2=l2, keep_prob=keep_prob)
        early_stopping = getattr(self, "early_stopping", False)
        validation = held_out = patience = None
        if early_stopping:
            fraction = self.validation_fraction
            if not (is_real(fraction, numpy=True) and 0.0 < fraction < 1.0):
                raise ValueError(f"validation_fraction must lie in (0, 1), got {fraction!r}")
            patience = _check_int(self.n_iter_no_change, "n_iter_no_change")
            train, held_out = train_test_split(np.arange(X.shape[0]), test_size=fraction,
                                               random_state=rng, stratify=stratify)
            validation = (_columns(X[held_out]), Y[:, held_out])
            X, Y = X[train], Y[:, train]
        fit = dict(epochs=self.max_iter, batch_size=self._batch_size(X.shape[0]),
                   learning_rate=learning_rate, optimizer=self.solver,
                   validation_data=validation, early_stopping=patience,
                   shuffle_seed=shuffle_seed, verbose=bool(getattr(self, "verbose", False)),
                   backend=self.backend)
        return _Run(network, fit, _columns(X), Y, held_out)

    def _fitted(self, run: "_Run", net: Network, history):
        """Keep the trained ``net`` and its history: ``network_``, ``loss_curve_``,
        ``n_iter_`` (and ``validation_loss_curve_``, ``best_iter_`` with early stopping).
        Returns self."""
        self.network_ = net
        self.loss_curve_ = list(history.costs)
        self.n_iter_ = len(history)
        if run.fit["early_stopping"] is not None:
            self.validation_loss_curve_ = list(history["val_cost"])
            self.best_iter_ = history.best + 1 if history.best is not None else self.n_iter_
        return self

    def fit(self, X, y):
        """Train on X (m, n_features) and y (m,). Returns self."""
        run = self._prepare(X, y)
        return self._fitted(run, *_train(run))

    def _output(self, X):
        """A[L] of the fitted network for X (m, n_features) rows, as (m, n[L]) rows."""
        check_is_fitted(self)
        X = _columns(self._validate_X(X, reset=False))
        if self.backend is not None:
            X = _backend.resolve_target(self.backend).put(X)
        return _backend.to_host(self.network_.predict_proba(X)).T


class _Classifier(ClassifierMixin, _NetworkEstimator):
    """Label handling and predictions for the classifiers."""

    def _encode_labels(self, y):
        """Class ids (1, m) for y, setting ``classes_``; the output unit and its size."""
        check_classification_targets(y)
        self.classes_, ids = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {self.classes_[0]!r}"
            )
        K = len(self.classes_)
        output, n_y = ("sigmoid", 1) if K == 2 else ("softmax", K)
        return ids.reshape(1, -1), output, n_y

    def predict_proba(self, X):
        """Class probabilities, (m, n_classes) rows in the order of ``classes_``."""
        A = self._output(X)
        if len(self.classes_) == 2:
            p = A[:, 0]
            return np.stack([1.0 - p, p], axis=1)
        return A

    def predict_log_proba(self, X):
        """log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of each row, as one of the original labels."""
        proba = self.predict_proba(X)  # first: it checks that the model is fitted
        return self.classes_[np.argmax(proba, axis=1)]


# -- the estimators ----------------------------------------------------------------


class _MLP(_NetworkEstimator):
    """The parameters of both MLPs (see the module docstring for their mapping)."""

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        keep_prob=1.0,
        random_state=None,
        dtype="float64",
        backend=None,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.keep_prob = keep_prob
        self.random_state = random_state
        self.dtype = dtype
        self.backend = backend
        self.verbose = verbose

    def _mlp_run(self, X, Y, *, output, n_y, stratify=None) -> "_Run":
        self._check_common()
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        for n in sizes:
            _check_int(n, "hidden_layer_sizes", hint="positive integers")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(ACTIVATIONS)}; got {self.activation!r}"
            )
        hidden = ACTIVATIONS[self.activation]
        return self._run(
            X, Y,
            layer_dims=[X.shape[1], *(int(n) for n in sizes), n_y],
            hidden=hidden,
            output=output,
            init="xavier",
            l2=self.alpha,
            keep_prob=self.keep_prob,
            learning_rate=self.learning_rate_init,
            stratify=stratify,
        )


class MLPClassifier(_Classifier, _MLP):
    """A multi-layer perceptron classifier trained by xpnet's hand-derived backprop.

    Two classes: one sigmoid output unit and binary cross-entropy; more:
    softmax and categorical cross-entropy. Labels may be any values
    (strings, integers); ``predict`` returns them.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Units of each hidden layer.
    activation : {"relu", "tanh", "logistic", "identity", "leaky_relu"}, default="relu"
        The hidden activation.
    solver : {"adam", "sgd", "momentum", "rmsprop"}, default="adam"
    alpha : float, default=1e-4
        L2 strength: xpnet's λ (the mapping is exact; see the module docstring).
    batch_size : int, "auto" or None, default="auto"
        Mini-batch size; "auto" is min(200, m), None the whole training set.
    learning_rate_init : float, default=1e-3
    max_iter : int, default=200
        Epochs.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` (stratified) and stop once the
        validation cost has not improved for ``n_iter_no_change`` epochs.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    keep_prob : float, default=1.0
        Inverted dropout's keep probability on hidden units while training.
    random_state : int, RandomState or None, default=None
    dtype : {"float64", "float32"}, default="float64"
    backend : str or None, default=None
        The xpnet backend to train and predict on ("cupy", "torch", "jax", ...:
        on its GPU where it has one); inputs and results stay NumPy. None: NumPy.
    verbose : bool, default=False
        Show a progress bar with the running cost.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray, where X had string column names
    network_ : xpnet.Network
        The trained network; ``network_.params`` are [(W, b), ...] with W (n[l], n[l-1]).
    loss_curve_ : list of float
        The mean training cost of each epoch (with the L2 term).
    n_iter_ : int
        Epochs run.
    validation_loss_curve_ : list of float
        With early stopping: the validation cost after each epoch.
    best_iter_ : int
        With early stopping: the epoch (1-based) whose parameters were kept.
    """

    def fit(self, X, y):
        """Train on X (m, n_features) and labels y (m,). Returns self."""
        return super().fit(X, y)

    def _prepare(self, X, y) -> "_Run":
        X, y = validate_data(self, X, y, dtype=DTYPES.get(self.dtype, np.float64))
        Y, output, n_y = self._encode_labels(y)
        return self._mlp_run(X, Y, output=output, n_y=n_y, stratify=y)


class MLPRegressor(RegressorMixin, _MLP):
    """A multi-layer perceptron regressor trained by xpnet's hand-derived backprop.

    Linear output units and squared error (xpnet's (1/(2m))·Σ(A − Y)²); y is
    (m,) or (m, n_outputs). Parameters and attributes as :class:`MLPClassifier`'s
    (without ``classes_``; with ``n_outputs_``). ``score`` is R².
    """

    def fit(self, X, y):
        """Train on X (m, n_features) and targets y (m,) or (m, n_outputs). Returns self."""
        return super().fit(X, y)

    def _prepare(self, X, y) -> "_Run":
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             dtype=DTYPES.get(self.dtype, np.float64))
        Y = y.reshape(1, -1) if y.ndim == 1 else y.T
        self.n_outputs_ = Y.shape[0]
        self._y_ndim = y.ndim
        return self._mlp_run(X, Y, output="linear", n_y=self.n_outputs_)

    def predict(self, X):
        """Predictions (m,) where y was 1-D in fit, else (m, n_outputs)."""
        A = self._output(X)
        return A[:, 0] if self._y_ndim == 1 else A

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class LogisticRegression(_Classifier, _NetworkEstimator):
    """Logistic regression (two classes) and softmax regression (more): an
    :class:`xpnet.Network` with no hidden layer, started at zero.

    Parameters
    ----------
    C : float, default=1.0
        Inverse L2 strength, as scikit-learn's: its objective
        ½‖w‖² + C·Σᵢ lossᵢ, divided by C·m, is xpnet's J + λ/(2m)·‖W‖² with
        λ = 1/C (exact for the whole batch; with mini-batches of b examples
        each step regularizes with λ/b). ``C=np.inf`` is no penalty. The
        intercept is not penalized.
    solver : {"sgd", "momentum", "rmsprop", "adam"}, default="sgd"
        "sgd" with the whole batch is plain gradient descent.
    learning_rate_init : float or "auto", default="auto"
        "auto": for "sgd" and "momentum", 1/L, where L bounds the curvature of
        the cost (¼ for sigmoid, ½ for softmax, times the largest eigenvalue
        of [X 1]ᵀ[X 1]/m, plus λ/b): the largest step for which gradient
        descent is guaranteed to descend, so it converges with no tuning, on
        any scaling of X (though fastest on standardized X). For "rmsprop"
        and "adam", 0.01.
    max_iter : int, default=1000
        Epochs; with the whole batch, gradient-descent steps.
    batch_size : int, "auto" or None, default=None
        None: the whole training set in every step.
    random_state : int, RandomState or None, default=None
        Seeds the shuffles of mini-batches (the weights start at zero).
    dtype : {"float64", "float32"}, default="float64"
    backend : str or None, default=None
        As :class:`MLPClassifier`'s.
    verbose : bool, default=False

    Attributes
    ----------
    classes_, n_features_in_, network_, loss_curve_, n_iter_ as in :class:`MLPClassifier`;
    coef_ : ndarray of shape (1, n_features) for two classes, (n_classes, n_features) for more
    intercept_ : ndarray of shape (1,) or (n_classes,)
    """

    def __init__(
        self,
        C=1.0,
        *,
        solver="sgd",
        learning_rate_init="auto",
        max_iter=1000,
        batch_size=None,
        random_state=None,
        dtype="float64",
        backend=None,
        verbose=False,
    ):
        self.C = C
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.random_state = random_state
        self.dtype = dtype
        self.backend = backend
        self.verbose = verbose

    def fit(self, X, y):
        """Train on X (m, n_features) and labels y (m,). Returns self."""
        return super().fit(X, y)

    def _prepare(self, X, y) -> "_Run":
        X, y = validate_data(self, X, y, dtype=DTYPES.get(self.dtype, np.float64))
        self._check_common()
        if not (isinstance(self.C, numbers.Real) and self.C > 0):
            raise ValueError(f"C must be a number > 0 (np.inf for no penalty), got {self.C!r}")
        Y, output, n_y = self._encode_labels(y)
        m = X.shape[0]
        l2 = 1.0 / float(self.C)
        batch = self._batch_size(m, warn=False)  # _train warns
        learning_rate = self.learning_rate_init
        if isinstance(learning_rate, str) and learning_rate == "auto":
            if self.solver in ("sgd", "momentum"):
                curvature = 0.25 if output == "sigmoid" else 0.5
                L = curvature * _top_eigenvalue_of_gram(X) / m + l2 / (batch or m)
                learning_rate = 1.0 / L
            else:
                learning_rate = 0.01
        return self._run(
            X, Y, layer_dims=[X.shape[1], n_y], hidden=(), output=output, init="zeros",
            l2=l2, keep_prob=1.0, learning_rate=learning_rate,
        )

    def _fitted(self, run: "_Run", net: Network, history):
        super()._fitted(run, net, history)
        W, b = self.network_.params[0]
        self.coef_ = np.array(_backend.to_host(W))
        self.intercept_ = np.array(_backend.to_host(b)[:, 0])
        return self

    def _batch_size(self, m: int, *, warn: bool = True) -> int | None:
        # The whole batch unless asked, then as the MLPs.
        return None if self.batch_size is None else super()._batch_size(m, warn=warn)

    def decision_function(self, X):
        """Z = X·coefᵀ + intercept: (m,) log-odds of classes_[1] for two classes,
        (m, n_classes) scores for more."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        Z = X @ self.coef_.T + self.intercept_
        return Z[:, 0] if Z.shape[1] == 1 else Z


# -- helpers -----------------------------------------------------------------------


@dataclass
class _Run:
    """One fit of an estimator before it trains: ``Network(**network)``, then
    ``.fit(X, Y, **fit)``. X (n_x, m) and Y (n_y, m) are the examples trained on (those
    held out for early stopping left out: ``held_out``, their rows in the data given to
    ``fit``, or None)."""

    network: dict
    fit: dict
    X: np.ndarray
    Y: np.ndarray
    held_out: np.ndarray | None


def _train(run: _Run):
    """(the Network, its History): ``run`` trained."""
    net = Network(**run.network)
    try:
        history = net.fit(run.X, run.Y, **run.fit)
    except DivergenceError as exc:
        raise _diverged(str(exc)) from None
    return net, history


def _diverged(why: str) -> ValueError:
    # scikit-learn's convention for a fit that cannot go on is a ValueError.
    return ValueError(f"{why}. Standardize X (StandardScaler) or lower learning_rate_init")


def _columns(X):
    """X (m, n) rows as xpnet's (n, m) columns, C-contiguous: a copy, which makes the
    per-batch gathers of columns and the products W·X faster than a transposed view."""
    return np.ascontiguousarray(X.T)


def _check_int(value, name: str, *, hint: str = "an integer ≥ 1") -> int:
    """An integer ≥ 1, NumPy's included, or the ValueError scikit-learn's estimators raise."""
    return check_int(value, name, numpy=True, must=hint, error=ValueError)


def _top_eigenvalue_of_gram(X, *, iterations: int = 100, rtol: float = 1e-3) -> float:
    """The largest eigenvalue of [X 1]ᵀ[X 1] (X is (m, n) rows), by power iteration.

    The estimate rises towards the true value; stopping within ``rtol`` leaves
    the step 1/L well inside gradient descent's stable range (< 2/L).
    """
    X = np.asarray(X, dtype=np.float64)
    v = np.random.RandomState(0).standard_normal(X.shape[1] + 1)
    v /= np.linalg.norm(v)
    estimate = 0.0
    for _ in range(iterations):
        u = X @ v[:-1] + v[-1]
        w = np.append(X.T @ u, u.sum())
        new = float(np.linalg.norm(w))
        if new == 0.0:
            return 0.0
        v = w / new
        if abs(new - estimate) <= rtol * new:
            return new
        estimate = new
    return estimate


# -- a grid search in one pass per split ------------------------------------------------


class SweepSearchCV(MetaEstimatorMixin, BaseEstimator):
    """GridSearchCV over the settings in which networks of one shape may differ, each
    cross-validation split trained as one :class:`xpnet.Sweep`.

    ``estimator`` is an :class:`MLPClassifier`, :class:`MLPRegressor` or
    :class:`LogisticRegression`, or a ``Pipeline`` ending in one (the steps before
    it are fitted on each training fold, as GridSearchCV fits them). ``param_grid``
    may vary only what the networks of a sweep may have of their own:

    - the MLPs: ``learning_rate_init``, ``alpha`` (xpnet's L2 λ), ``keep_prob`` and
      ``random_state`` (the initial weights, shuffles, dropout masks and
      validation split);
    - LogisticRegression: ``C`` (λ = 1/C), ``learning_rate_init`` and
      ``random_state``;

    in a Pipeline, named after the step (``mlpclassifier__alpha``). A grid that varies
    anything else is refused (search those with GridSearchCV, which can wrap a
    SweepSearchCV). Each candidate is the estimator with its parameters, trained
    on each training fold exactly as its own ``fit`` would train it (the same
    translation into a Network, the same draws of ``random_state``) and scored on
    the held-out fold by ``scoring`` (None: the estimator's ``score``), so
    ``cv_results_``, ``best_params_`` and ``best_score_`` are GridSearchCV's for the
    same estimator, grid, cv and scoring, up to the rounding of the stacked products.

    The candidates of a split train in one sweep when they share their shuffles:
    always with the whole batch and no dropout; with mini-batches or dropout, those
    of one ``random_state`` (an int: with None every candidate draws its own
    shuffles and trains alone, as in GridSearchCV). ``n_sweeps_`` says how many
    sweeps were trained. A candidate whose training diverges scores ``error_score``
    (NaN by default, with a FitFailedWarning, as GridSearchCV; "raise" raises).

    Attributes are GridSearchCV's: ``cv_results_`` (``params``, ``param_NAME``,
    ``splitI_test_score``, ``mean_test_score``, ``std_test_score``,
    ``rank_test_score``, ``mean_fit_time``, ``std_fit_time``, ``mean_score_time``,
    ``std_score_time``; a candidate's fit time is its sweep's time divided by the
    networks in it), ``best_index_``, ``best_params_``, ``best_score_``,
    ``best_estimator_`` (refit on all the data with the best parameters, by the
    estimator's own ``fit``; with ``refit=True``), ``refit_time_``, ``scorer_``,
    ``n_splits_``, ``multimetric_`` (False: one scoring only).
    """

    def __init__(self, estimator, param_grid, *, scoring=None, cv=None, refit=True,
                 error_score=np.nan):
        self.estimator = estimator
        self.param_grid = param_grid
        self.scoring = scoring
        self.cv = cv
        self.refit = refit
        self.error_score = error_score

    def fit(self, X, y, groups=None):
        """Score every candidate on every split of ``cv``, then refit the best on X, y."""
        final, prefix = _final_estimator(self.estimator)
        candidates = list(ParameterGrid(self.param_grid))
        _check_sweepable(final, prefix, candidates)
        if isinstance(self.scoring, (list, tuple, set, dict)):
            raise ValueError("SweepSearchCV takes one scoring (a name, a callable or None); "
                             "for several, use sklearn.model_selection.GridSearchCV")
        if not (self.error_score == "raise" or is_real(self.error_score, numpy=True)):
            raise ValueError(f"error_score must be 'raise' or a number, got {self.error_score!r}")
        self.scorer_ = check_scoring(self.estimator, scoring=self.scoring)
        self.multimetric_ = False
        X, y, groups = indexable(X, y, groups)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, groups))
        self.n_splits_ = len(splits)
        shape = (len(candidates), len(splits))
        scores, fit_times, score_times = np.full(shape, np.nan), np.zeros(shape), np.zeros(shape)
        self.n_sweeps_, failures = 0, []
        for i, (train, test) in enumerate(splits):
            models = [clone(self.estimator).set_params(**params) for params in candidates]
            X_train, y_train = _safe_indexing(X, train), _safe_indexing(y, train)
            before = None
            if prefix:  # a Pipeline: its steps but the last, fitted on the training fold
                before = clone(self.estimator[:-1])
                X_train = before.fit_transform(X_train, y_train)
            finals = [model.steps[-1][1] if prefix else model for model in models]
            runs = [f._prepare(X_train, y_train) for f in finals]
            for group in _sweep_groups(runs):
                self.n_sweeps_ += 1
                start = time.perf_counter()
                sweep = _sweep(runs, group)
                seconds = (time.perf_counter() - start) / len(group)
                for j, k in enumerate(group):
                    fit_times[k, i] = seconds
                    if sweep.outcomes[j] == _DIVERGED:
                        why = _diverged(f"training diverged: {sweep.divergences[j]}")
                        if self.error_score == "raise":
                            raise why
                        failures.append(f"{candidates[k]}: {why}")
                        scores[k, i] = self.error_score
                        continue
                    finals[k]._fitted(runs[k], sweep.network(j), sweep.histories[j])
                    model = models[k]
                    if prefix:
                        model.steps = [*before.steps, model.steps[-1]]
                    start = time.perf_counter()
                    scores[k, i] = self.scorer_(model, _safe_indexing(X, test),
                                                _safe_indexing(y, test))
                    score_times[k, i] = time.perf_counter() - start
        if failures:
            warnings.warn(f"{len(failures)} fits failed out of a total of {scores.size}; their "
                          f"score is error_score={self.error_score!r}. The first: {failures[0]}",
                          FitFailedWarning, stacklevel=2)
        self.cv_results_ = _cv_results(candidates, scores, fit_times, score_times)
        self.best_index_ = int(np.argmin(self.cv_results_["rank_test_score"]))
        self.best_params_ = candidates[self.best_index_]
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        if self.refit:
            start = time.perf_counter()
            self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_)
            self.best_estimator_.fit(X, y)
            self.refit_time_ = time.perf_counter() - start
            if hasattr(self.best_estimator_, "n_features_in_"):
                self.n_features_in_ = self.best_estimator_.n_features_in_
        return self

    def _best(self, method: str):
        check_is_fitted(self, "best_estimator_",
                        msg="This SweepSearchCV was fitted with refit=False (or not at all): "
                            f"{method} needs best_estimator_, the best candidate refit")
        return getattr(self.best_estimator_, method)

    def score(self, X, y):
        """``scorer_`` of the best estimator on X, y."""
        self._best("score")
        return self.scorer_(self.best_estimator_, X, y)

    @available_if(lambda self: hasattr(self.estimator, "predict"))
    def predict(self, X):
        return self._best("predict")(X)

    @available_if(lambda self: hasattr(self.estimator, "predict_proba"))
    def predict_proba(self, X):
        return self._best("predict_proba")(X)

    @available_if(lambda self: hasattr(self.estimator, "predict_log_proba"))
    def predict_log_proba(self, X):
        return self._best("predict_log_proba")(X)

    @available_if(lambda self: hasattr(self.estimator, "decision_function"))
    def decision_function(self, X):
        return self._best("decision_function")(X)

    @property
    def classes_(self):
        return self._best("classes_")


#: What the networks of one sweep may each have of their own, by estimator.
SWEEPABLE = {"MLPClassifier": ("learning_rate_init", "alpha", "keep_prob", "random_state"),
             "MLPRegressor": ("learning_rate_init", "alpha", "keep_prob", "random_state"),
             "LogisticRegression": ("C", "learning_rate_init", "random_state")}

_DIVERGED = "diverged"


def _final_estimator(estimator) -> tuple[_NetworkEstimator, str]:
    """(the xpnet estimator, the prefix of its parameters' names: "" or "step__")."""
    if isinstance(estimator, _NetworkEstimator):
        return estimator, ""
    if isinstance(estimator, Pipeline) and isinstance(estimator.steps[-1][1], _NetworkEstimator):
        return estimator.steps[-1][1], estimator.steps[-1][0] + "__"
    raise TypeError(f"SweepSearchCV searches an xpnet.sklearn estimator ({', '.join(SWEEPABLE)}) "
                    f"or a Pipeline ending in one, not {estimator!r}: search it with "
                    "sklearn.model_selection.GridSearchCV")


def _check_sweepable(final, prefix: str, candidates: list[dict]) -> None:
    """Refuse a grid that varies more than the networks of a sweep may differ in."""
    allowed = {prefix + name for name in SWEEPABLE[type(final).__name__]}
    names = sorted({name for params in candidates for name in params})
    varying = [name for name in names
               if len({repr(params.get(name, _DEFAULT)) for params in candidates}) > 1]
    others = [name for name in varying if name not in allowed]
    if others:
        raise ValueError(
            f"SweepSearchCV trains the candidates of a split as one sweep, networks of one "
            f"shape that differ only in {', '.join(sorted(allowed))}; this grid also varies "
            f"{', '.join(others)}: search those with sklearn.model_selection.GridSearchCV (which "
            "can wrap a SweepSearchCV over the rest)")


_DEFAULT = object()  # a parameter some candidates of a list of grids leave at its default


def _sweep_groups(runs: list[_Run]) -> list[list[int]]:
    """The candidates (indices into ``runs``) that can train as one sweep: the same Network
    but for seed, L2 and keep_prob, the same fit but for the learning rate, the same
    examples, and the same draws where they are used. The shuffle seed draws nothing
    without mini-batches or dropout, so such a candidate joins any group of its kind."""
    groups: dict[tuple, list[int]] = {}
    free = []
    for k, run in enumerate(runs):
        network = {key: v for key, v in run.network.items() if key not in ("seed", "l2", "keep_prob")}
        fit = {key: v for key, v in run.fit.items()
               if key not in ("learning_rate", "shuffle_seed", "validation_data")}
        kind = (repr(sorted(network.items())), repr(sorted(fit.items())),
                None if run.held_out is None else run.held_out.tobytes())
        batch = run.fit["batch_size"]
        mini_batches = batch is not None and batch < run.X.shape[1]
        dropout = run.network["keep_prob"] < 1.0
        if mini_batches:
            # The masks are drawn from the generator of the shuffles: a stack with dropout
            # draws them for all its networks, so one without dropout would get other
            # shuffles than its own fit's. Those train in a stack of their own.
            groups.setdefault((kind, run.fit["shuffle_seed"], dropout), []).append(k)
        elif dropout:
            groups.setdefault((kind, run.fit["shuffle_seed"], True), []).append(k)
        else:
            free.append((kind, k))
    for kind, k in free:
        key = next((key for key in groups if key[0] == kind), (kind, None, False))
        groups.setdefault(key, []).append(k)
    return list(groups.values())


def _sweep(runs: list[_Run], group: list[int]):
    """The networks of ``group`` trained as one Sweep (which it returns)."""
    first = runs[group[0]]
    per = {name: [runs[k].network[name] for k in group] for name in ("seed", "l2", "keep_prob")}
    sweep = Sweep(Network(**first.network),
                  learning_rate=[runs[k].fit["learning_rate"] for k in group], **per)
    fit = {key: v for key, v in first.fit.items() if key != "learning_rate"}
    sweep.fit(first.X, first.Y, **fit)
    return sweep


def _cv_results(candidates: list[dict], scores, fit_times, score_times) -> dict:
    """cv_results_ as GridSearchCV lays it out."""
    results: dict = {}
    for name, values in (("fit_time", fit_times), ("score_time", score_times)):
        results[f"mean_{name}"] = values.mean(axis=1)
        results[f"std_{name}"] = values.std(axis=1)
    for name in sorted({name for params in candidates for name in params}):
        column = np.ma.MaskedArray(np.empty(len(candidates), dtype=object), mask=True)
        for k, params in enumerate(candidates):
            if name in params:
                column[k] = params[name]
        results[f"param_{name}"] = column
    results["params"] = candidates
    for i in range(scores.shape[1]):
        results[f"split{i}_test_score"] = scores[:, i]
    means = scores.mean(axis=1)
    if not np.isfinite(means).all():
        warnings.warn(f"One or more of the test scores are non-finite: {means}", UserWarning,
                      stacklevel=3)
    results["mean_test_score"] = means
    results["std_test_score"] = np.sqrt(((scores - means[:, None]) ** 2).mean(axis=1))
    if np.isnan(means).all():
        rank = np.ones(len(means), dtype=np.int32)
    else:  # a failed candidate ties with the worst, as GridSearchCV ranks it
        rank = rankdata(-np.nan_to_num(means, nan=np.nanmin(means) - 1), method="min")
    results["rank_test_score"] = rank.astype(np.int32)
    return results
