"""The estimators users hold: :class:`Network` and :class:`LogisticRegression`.

A thin layer over the functional core. Each public method resolves the array
namespace and device of its input once, validates it, hands it to the core,
and returns results in that same namespace and on that same device.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Sequence

from . import _backend, _validation, activations, initializers, losses, network, optimizers
from .errors import ConfigError, NotFittedError
from .training import History, train


class Network:
    """A fully connected L-layer network trained by hand-derived backpropagation.

    Parameters
    ----------
    layer_dims
        [n[0], n[1], ..., n[L]]: input features, hidden units per layer, output units.
    hidden
        The hidden activation: one name for all hidden layers, or one per hidden
        layer. Names: sigmoid, tanh, relu, leaky_relu, linear.
    output
        The output unit and its loss: "sigmoid" (binary cross-entropy),
        "softmax" (categorical cross-entropy) or "linear" (mean squared error).
    init
        "zeros", "normal" (randn × init_scale), "xavier" (randn / √n[l-1]) or
        "he" (randn × √(2/n[l-1])), drawn with NumPy's RandomState(seed).
    seed
        Seed of the initial draw; the same seed gives the same weights on every backend.
    dtype
        "float32" (the default, for training) or "float64".
    init_scale
        The factor of the "normal" initializer.
    leaky_slope
        The slope of leaky_relu for Z ≤ 0.
    """

    def __init__(
        self,
        layer_dims: Sequence[int | None],
        *,
        hidden: str | Sequence[str] = "relu",
        output: str = "sigmoid",
        init: str = "xavier",
        seed: int | None = None,
        dtype: str = "float32",
        init_scale: float = 0.01,
        leaky_slope: float = 0.01,
    ):
        self.layer_dims = _check_layer_dims(layer_dims)
        n_hidden = len(self.layer_dims) - 2
        names = [hidden] * n_hidden if isinstance(hidden, str) else list(hidden)
        if len(names) != n_hidden:
            raise ConfigError(
                f"hidden names {len(names)} activations for {n_hidden} hidden layers: "
                "give one name for all of them, or exactly one per hidden layer"
            )
        self.hidden = tuple(activations.get(h, slope=leaky_slope) for h in names)
        self.leaky_slope = float(leaky_slope)
        self.output = losses.get(output)
        if init not in initializers.NAMES:
            raise ConfigError(
                f"unknown init {init!r}: choose one of {', '.join(initializers.NAMES)}"
            )
        _backend.dtype_by_name(_backend.namespace_by_name("numpy"), dtype)
        self.init, self.seed, self.dtype = init, seed, dtype
        self.init_scale = float(init_scale)
        self.history: History | None = None
        self._params: tuple | None = None
        self._xp = _backend.namespace_by_name("numpy")
        self._device = None
        if None not in self.layer_dims:
            self._initialize()

    # -- parameters ------------------------------------------------------------

    @property
    def architecture(self) -> network.Architecture:
        if None in self.layer_dims:
            raise NotFittedError(
                f"layer sizes {self.layer_dims} are not known yet: call fit(X, Y) first"
            )
        return network.Architecture(tuple(self.layer_dims), self.hidden, self.output)

    @property
    def params(self) -> list[tuple[Any, Any]]:
        """[(W[1], b[1]), ..., (W[L], b[L])]; W[l] is (n[l], n[l-1]), b[l] is (n[l], 1)."""
        if self._params is None:
            raise NotFittedError(
                "this model takes its input size from the data: call fit(X, Y) first"
            )
        return list(self._params)

    @params.setter
    def params(self, value: Sequence[tuple[Any, Any]]) -> None:
        value = tuple((W, b) for W, b in value)
        expected = [(n, n_prev) for n_prev, n in zip(self.layer_dims[:-1], self.layer_dims[1:])]
        got = [tuple(W.shape) for W, _ in value]
        if got != expected:
            raise ConfigError(f"params have W shapes {got}, the network needs {expected}")
        xp = _backend.namespace(*[a for pair in value for a in pair])
        self._params, self._xp, self._device = value, xp, _backend.device(value[0][0])

    def _initialize(self) -> None:
        self._params = tuple(
            initializers.initialize(
                self.layer_dims, self.init, seed=self.seed,
                init_scale=self.init_scale, dtype=self.dtype,
            )
        )
        self._xp, self._device = _backend.namespace_by_name("numpy"), None

    def _params_in(self, xp, device) -> tuple:
        """The parameters in namespace ``xp`` on ``device`` (moved there if they live elsewhere)."""
        if self._xp is xp and self._device == device:
            return self._params
        return tuple(
            (_backend.move(W, xp, device), _backend.move(b, xp, device)) for W, b in self._params
        )

    # -- the boundary ------------------------------------------------------------

    def _inputs(self, X, Y=None):
        """Validated (X, Y, xp, device): X (n_x, m) and Y (n[L], m) in the model's dtype."""
        X = _validation.as_array(X, "X")
        arrays = (X,) if Y is None else (X, _validation.as_array(Y, "Y"))
        xp, device = _validation.namespace_and_device(*arrays)
        if Y is not None:
            Y = arrays[1]
        self._infer_sizes(X, Y, xp)
        dtype = _backend.dtype_by_name(xp, self.dtype)
        X = _validation.check_X(X, n_x=self.layer_dims[0], xp=xp, dtype=dtype)
        if Y is not None:
            Y = _validation.check_Y(
                Y, output=self.output, n_y=self.layer_dims[-1], m=X.shape[1], xp=xp, dtype=dtype
            )
        return X, Y, xp, device

    def _infer_sizes(self, X, Y, xp) -> None:
        """Fill sizes left as None (LogisticRegression) from the first data seen."""
        if None not in self.layer_dims:
            return
        if getattr(X, "ndim", 0) != 2:
            return  # check_X explains the shape problem
        n_x = self.layer_dims[0] if self.layer_dims[0] is not None else X.shape[0]
        n_y = self.layer_dims[-1]
        if n_y is None:
            if Y is None:
                raise NotFittedError("the number of output units is not known yet: call fit(X, Y) first")
            n_y = _validation.n_classes(Y, xp=xp) if self.output.name == "softmax" else (
                1 if Y.ndim == 1 else Y.shape[0]
            )
        self.layer_dims = (n_x, *self.layer_dims[1:-1], n_y)
        self._initialize()

    # -- training and inference --------------------------------------------------

    def fit(
        self,
        X,
        Y,
        *,
        iterations: int = 1000,
        learning_rate: float = 0.01,
        optimizer: str = "sgd",
        record_every: int = 100,
        on_record=None,
    ) -> History:
        """Train on X (n_x, m) and Y (n[L], m) with batch gradient descent, where X lives.

        The parameters move once to X's namespace and device and stay there.
        Returns the :class:`~xpnet.training.History` of costs, recorded every
        ``record_every`` iterations and at the last one; ``on_record(i, J)``,
        if given, is called with each as it is recorded.
        """
        iterations = _positive_int(iterations, "iterations", allow_zero=True)
        record_every = _positive_int(record_every, "record_every")
        opt = optimizers.get(optimizer, learning_rate)
        X, Y, xp, device = self._inputs(X, Y)
        params = self._params_in(xp, device)
        params, history = train(
            params, X, Y, arch=self.architecture, optimizer=opt,
            iterations=iterations, record_every=record_every, on_record=on_record, xp=xp,
        )
        self._params, self._xp, self._device = params, xp, device
        self.history = history
        return history

    def predict_proba(self, X):
        """A[L] (n[L], m) for X (n_x, m), in X's namespace and on X's device."""
        X, _, xp, device = self._inputs(X)
        return network.predict_proba(self._params_in(xp, device), X, self.architecture, xp=xp)

    def predict(self, X):
        """Predictions for X (n_x, m), in X's namespace and on X's device.

        sigmoid: 0/1 labels (n[L], m); softmax: class ids (1, m); linear: A[L].
        """
        A = self.predict_proba(X)
        xp = _backend.namespace(A)
        if self.output.name == "sigmoid":
            return xp.astype(A > 0.5, _default_int(xp))
        if self.output.name == "softmax":
            return xp.argmax(A, axis=0, keepdims=True)
        return A

    def score(self, X, Y) -> float:
        """Accuracy (a fraction in [0, 1]) for sigmoid and softmax outputs; R² for linear."""
        X, Y, xp, device = self._inputs(X, Y)
        A = network.predict_proba(self._params_in(xp, device), X, self.architecture, xp=xp)
        if self.output.classifier:
            if self.output.name == "sigmoid":
                hits = (A > 0.5) == (Y > 0.5)
            else:
                hits = xp.argmax(A, axis=0) == xp.argmax(Y, axis=0)
            # Counted, then divided in Python: exact, whatever the dtype of A.
            return int(xp.count_nonzero(hits)) / math.prod(hits.shape)
        residual = xp.sum((Y - A) ** 2, axis=1)
        total = xp.sum((Y - xp.mean(Y, axis=1, keepdims=True)) ** 2, axis=1)
        return float(xp.mean(1.0 - residual / total))

    def cost(self, X, Y) -> float:
        """The cost J of the current parameters on (X, Y), as a Python float."""
        X, Y, xp, device = self._inputs(X, Y)
        return float(network.cost(self._params_in(xp, device), X, Y, self.architecture, xp=xp))

    def gradients(self, X, Y) -> list[tuple[Any, Any]]:
        """[(dW[1], db[1]), ..., (dW[L], db[L])] of the cost on (X, Y) at the current parameters."""
        X, Y, xp, device = self._inputs(X, Y)
        params = self._params_in(xp, device)
        _, caches = network.forward(params, X, self.architecture, xp=xp)
        return network.backward(params, caches, Y, self.architecture, xp=xp)

    def get_config(self) -> dict:
        """The constructor's arguments as JSON-friendly values: ``type(net)(**net.get_config())``
        builds the same architecture (without the trained parameters)."""
        names = [h.name for h in self.hidden]
        return {
            "layer_dims": list(self.layer_dims),
            "hidden": names,
            "output": self.output.name,
            "init": self.init,
            "seed": self.seed,
            "dtype": self.dtype,
            "init_scale": self.init_scale,
            "leaky_slope": self.leaky_slope,
        }

    def __repr__(self) -> str:
        hidden = [h.name for h in self.hidden]
        return (
            f"{type(self).__name__}({list(self.layer_dims)}, hidden={hidden}, "
            f"output={self.output.name!r}, init={self.init!r}, dtype={self.dtype!r})"
        )


class LogisticRegression(Network):
    """Logistic regression: a :class:`Network` with no hidden layer, started at zero.

    n_x is taken from X at the first ``fit``. With ``output="softmax"`` it is
    softmax regression, and the number of classes is taken from Y.
    Other keyword arguments are :class:`Network`'s.
    """

    def __init__(self, n_x: int | None = None, *, output: str = "sigmoid",
                 init: str = "zeros", **kwargs):
        n_y = 1 if losses.get(output).name != "softmax" else None
        super().__init__([n_x, n_y], output=output, init=init, **kwargs)


def _check_layer_dims(layer_dims) -> tuple:
    dims = list(layer_dims)
    if len(dims) < 2:
        raise ConfigError(f"layer_dims needs at least [n_x, n_y], got {dims}")
    for i, n in enumerate(dims):
        if n is None and i in (0, len(dims) - 1):
            continue  # LogisticRegression learns these from the data
        try:
            dims[i] = operator.index(n)
        except TypeError:
            dims[i] = 0
        if isinstance(n, bool) or dims[i] < 1:
            raise ConfigError(f"layer_dims must be positive integers, got {list(layer_dims)}")
    return tuple(dims)


def _positive_int(value, name: str, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{name} must be an integer ≥ {low}, got {value!r}")
    return value


def _default_int(xp):
    return xp.__array_namespace_info__().default_dtypes()["integral"]
