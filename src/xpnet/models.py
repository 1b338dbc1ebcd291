"""The estimators users hold: :class:`Network` and :class:`LogisticRegression`.

A thin layer over the functional core. Each public method resolves the array
namespace and device of its input once, validates it, hands it to the core,
and returns results in that same namespace and on that same device. The
steps of ``fit`` live in ``_fitting``; this module runs past 400 lines for the
public API's documentation (the parameters of ``Network`` and ``fit``).
"""

from __future__ import annotations

import functools
import operator
import os
from typing import Any, Callable, Sequence

from . import _backend, _fitting, _model_file, _validation, activations, distributed
from . import initializers, losses, network, optimizers
from ._progress import Progress
from ._random import TrainingRandom
from ._checks import check_finite, check_memory, is_int, is_real
from .errors import ConfigError, DivergenceError, NotFittedError
from .training import Examples, History, Hooks, TrainState, train


def _in_precision(method):
    """Run ``method`` with the matrix products at the model's ``precision``
    (see ``_backend.matmul_precision``: "full" unless TF32 is asked for)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if kwargs.get("backend") is not None:
            # fit(..., backend=) may be the library's first use: import it before the
            # context sets the precision of every library imported.
            _backend.namespace_by_name(kwargs["backend"])
        with _backend.matmul_precision(self.precision):
            return method(self, *args, **kwargs)

    return wrapper


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
    l2
        L2 regularization strength λ: the cost gains λ/(2m)·Σ‖W‖².
    keep_prob
        Inverted dropout on the hidden layers while training: each hidden unit
        is kept with this probability (1 = no dropout).
    precision
        "full" (the default): float32 products are float32 products. "tf32":
        float32 storage with products on TF32 tensor cores (NVIDIA GPUs of
        compute capability 8.0 and up, through CuPy, PyTorch or JAX), several
        times faster for large layers, with a 10-bit mantissa in the products;
        for float32 only, and the same as "full" on a CPU.
    """

    #: The class a model file records (xpnet.io); a subclass saves as the class it derives from.
    file_class = "Network"

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
        l2: float = 0.0,
        keep_prob: float = 1.0,
        precision: str = "full",
    ):
        self.layer_dims = _check_layer_dims(layer_dims)
        n_hidden = len(self.layer_dims) - 2
        if isinstance(hidden, (str, activations.Activation)):
            names = [hidden] * n_hidden
        elif isinstance(hidden, (list, tuple)):
            names = list(hidden)
        else:
            raise ConfigError(
                f"hidden must be an activation name or a list of names, got {hidden!r}"
            )
        if len(names) != n_hidden:
            raise ConfigError(
                f"hidden names {len(names)} activations for {n_hidden} hidden layers: "
                "give one name for all of them, or exactly one per hidden layer"
            )
        self.leaky_slope = _real(leaky_slope, "leaky_slope", "a number in [0, 1)",
                                 lambda v: 0.0 <= v < 1.0)
        for h in names:
            if not isinstance(h, (str, activations.Activation)):
                raise ConfigError(f"hidden names activations by name: choose from "
                                  f"{', '.join(activations.NAMES)}, got {h!r}")
        self.hidden = tuple(activations.get(h, slope=leaky_slope) for h in names)
        if not isinstance(output, (str, losses.Output)):
            raise ConfigError(f"output is a name: choose one of {', '.join(losses.OUTPUTS)}, "
                              f"got {output!r}")
        self.output = losses.get(output)
        if not isinstance(init, str) or init not in initializers.NAMES:
            raise ConfigError(
                f"unknown init {init!r}: choose one of {', '.join(initializers.NAMES)}"
            )
        if not isinstance(dtype, str):
            raise ConfigError(f"dtype is a name, 'float32' or 'float64', got {dtype!r}")
        _backend.dtype_by_name(_backend.namespace_by_name("numpy"), dtype)
        if seed is not None and not (is_int(seed) and 0 <= seed < 2**32):
            raise ConfigError(f"seed must be None or an integer in [0, 2**32), got {seed!r}")
        self.init, self.seed, self.dtype = init, seed, dtype
        self.init_scale = check_finite(init_scale, "init_scale", above=0)
        self.l2 = check_finite(l2, "l2", at_least=0)
        self.keep_prob = _real(keep_prob, "keep_prob", "a number in (0, 1]",
                               lambda v: 0.0 < v <= 1.0, says="must lie in (0, 1]")
        if not isinstance(precision, str) or precision not in _backend.PRECISIONS:
            raise ConfigError(
                f"precision must be one of {', '.join(_backend.PRECISIONS)}, got {precision!r}"
            )
        if precision == "tf32" and dtype != "float32":
            raise ConfigError(f"precision='tf32' computes float32 products: it needs "
                              f"dtype='float32', not {dtype!r}")
        self.precision = precision
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
        return network.Architecture(tuple(self.layer_dims), self.hidden, self.output,
                                    l2=self.l2, keep_prob=self.keep_prob)

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
        try:
            value = tuple((W, b) for W, b in value)
            got = [(tuple(W.shape), tuple(b.shape)) for W, b in value]
        except (TypeError, ValueError, AttributeError):
            raise ConfigError("params must be a list of (W, b) pairs of arrays, one per layer") from None
        dims = list(zip(self.layer_dims[:-1], self.layer_dims[1:]))
        expected = [((n, n_prev), (n, 1)) for n_prev, n in dims]
        if got != expected:
            raise ConfigError(f"params have (W, b) shapes {got}, the network needs {expected}: "
                              "W[l] is (n[l], n[l-1]) and b[l] is (n[l], 1)")
        xp = _backend.namespace(*[a for pair in value for a in pair])
        self._params, self._xp, self._device = value, xp, _backend.device(value[0][0])

    def _initialize(self) -> None:
        _check_allocatable(self.layer_dims, self.dtype)
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

    def _inputs(self, X, Y=None, *, training: bool = False):
        """Validated (X, Y, xp, device): X (n_x, m) and Y (n[L], m) in the model's dtype;
        for ``training``, each example contiguous where the backend allows (at most one
        copy of X, made here once: the batches of a fit are gathered from it)."""
        X = _validation.as_array(X, "X")
        arrays = (X,) if Y is None else (X, _validation.as_array(Y, "Y"))
        xp, device = _validation.namespace_and_device(*arrays)
        if Y is not None:
            Y = arrays[1]
        self._infer_sizes(X, Y, xp)
        dtype = _backend.dtype_by_name(xp, self.dtype)
        X = _validation.check_X(X, n_x=self.layer_dims[0], xp=xp, dtype=dtype,
                                examples_contiguous=training)
        if Y is not None:
            Y = _validation.check_Y(
                Y, output=self.output, n_y=self.layer_dims[-1], m=X.shape[1], xp=xp, dtype=dtype
            )
            if training:
                Y = _backend.examples_contiguous(Y)
        return X, Y, xp, device

    def _infer_sizes(self, X, Y, xp) -> None:
        """Fill sizes left as None (LogisticRegression) from the first data seen."""
        if None not in self.layer_dims:
            return
        if Y is None:  # predict before fit: there are no parameters to predict with
            raise NotFittedError("this model takes its sizes from the data it is fitted on: "
                                 "call fit(X, Y) first")
        if getattr(X, "ndim", 0) != 2:
            return  # check_X explains the shape problem
        n_x = self.layer_dims[0] if self.layer_dims[0] is not None else X.shape[0]
        n_y = self.layer_dims[-1]
        if n_y is None:
            # The labels are checked before their classes are counted from them.
            _validation.check_labels(Y, m=X.shape[1], xp=xp)
            if Y is None:
                raise NotFittedError("the number of output units is not known yet: call fit(X, Y) first")
            n_y = _validation.n_classes(Y, xp=xp) if self.output.name == "softmax" else (
                1 if Y.ndim == 1 else Y.shape[0]
            )
        self.layer_dims = (n_x, *self.layer_dims[1:-1], n_y)
        self._initialize()

    # -- training and inference --------------------------------------------------

    @_in_precision
    def fit(
        self,
        X,
        Y,
        *,
        iterations: int | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        learning_rate: optimizers.LearningRate = 0.01,
        optimizer: str | optimizers.Optimizer = "sgd",
        record_every: int = 100,
        validation_data: tuple[Any, Any] | None = None,
        validation_split: float | None = None,
        early_stopping: int | None = None,
        shuffle_seed: int | None = None,
        verbose: bool = False,
        on_record: Callable[[History], None] | None = None,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int | None = None,
        resume: str | os.PathLike | None = None,
        comm=None,
        backend: str | None = None,
        device: str = "auto",
    ) -> History:
        """Train on X (n_x, m) and Y (n[L], m), where X lives.

        The parameters move once to X's namespace and device and stay there.

        iterations
            Full-batch updates, the course's form (the default: 1000).
        epochs, batch_size
            Or passes over the data in shuffled mini-batches (the whole batch
            when ``batch_size`` is None); a record is taken per epoch.
        learning_rate
            α, or a schedule of the update count (``xpnet.optimizers.step_decay``, ...).
        optimizer
            "sgd", "momentum", "rmsprop", "adam", or an ``xpnet.optimizers`` Optimizer.
        record_every
            Iteration mode: record the cost every this many updates (and at the last).
        validation_data, validation_split
            (X_val, Y_val), or the fraction of the examples held out (a random
            subset drawn with ``shuffle_seed``); adds "val_cost" and
            "val_accuracy" to each record.
        early_stopping
            Stop once val_cost has not improved for this many records, and keep
            the parameters of the best record.
        shuffle_seed
            Seed of the shuffles and dropout masks (default: the model's seed).
        verbose
            Show a progress bar (tqdm, when installed) with the running cost.
        on_record
            Called with the :class:`~xpnet.training.History` after each record.
        checkpoint, checkpoint_every
            Save parameters, optimizer state, random state and the position in
            training to this file every ``checkpoint_every`` updates (iteration
            mode; default ``record_every``) or epochs (epoch mode; default 1),
            and at the end. Written atomically (safetensors, no pickle).
        resume
            Go on from a checkpoint written by a fit with the same model, data
            and settings; the result equals an uninterrupted fit.
        comm
            Data-parallel training over MPI (see :mod:`xpnet.distributed`): an
            mpi4py communicator, every process of which calls ``fit`` with its
            own shard of the examples (and of ``validation_data``), shards laid
            end to end in rank order. The result equals a one-process fit on
            the whole data, up to the order of floating-point sums. Rank 0's
            initial parameters are used; only rank 0 writes the checkpoint and
            shows progress (``on_record`` is called on every process).
        backend, device
            Train on this backend ("numpy", "cupy", "torch", "jax",
            "array_api_strict") instead of where X lives: X, Y and
            ``validation_data`` move there once, from any library. ``device``
            is "auto" (the backend's GPU where it has one), "cpu" or "gpu";
            under ``comm``, process r of a node takes its GPU r % count.

        Returns the :class:`~xpnet.training.History`, also kept as ``self.history``.
        """
        plan = _fitting.plan(iterations, epochs, batch_size, record_every, early_stopping,
                             validation_data is not None or validation_split is not None,
                             checkpoint, checkpoint_every)
        if isinstance(learning_rate, (list, tuple)):
            raise ConfigError("a list of learning rates trains one network per rate: use "
                              "xpnet.Sweep(net, learning_rate=[...]); fit takes one rate")
        opt = optimizers.get(optimizer, learning_rate)
        _fitting.callbacks(on_record, checkpoint, resume)
        seed = _fitting.shuffle_seed(shuffle_seed, default=self.seed)
        group = distributed.group(comm)
        X, Y, validation_data, xp, device = _fitting.place(self, X, Y, validation_data, group,
                                                           backend=backend, device=device)
        random = TrainingRandom(group.seed(seed), xp=xp, device=device, dtype=self.dtype,
                                masks_on_device=_backend.on_accelerator(xp, device))
        data, validation = _fitting.hold_out(Examples(X, Y, group.shard(X.shape[1])),
                                             validation_data, validation_split, group, random)
        state = _fitting.start(self, opt, plan, group, random, xp=xp, device=device, resume=resume)
        save = _fitting.checkpoint_writer(checkpoint, self, opt, plan, random, group)
        progress = Progress(plan, data.m, enabled=verbose and group.rank == 0,
                            resumed=(state.step, state.epoch))
        hooks = Hooks(on_record=_fitting.both(on_record, progress.update), on_checkpoint=save,
                      on_update=progress.advance if progress.enabled else None)
        try:
            state = train(state, data, plan, model=_fitting.model(self.architecture, opt, xp),
                          random=random, validation=validation, group=group, hooks=hooks)
            if save is not None:
                save(state)
        except DivergenceError as exc:
            self._keep(exc.state, xp, device)  # what was finite, to inspect or go on more gently
            raise DivergenceError(f"{exc} (learning_rate was {learning_rate!r})",
                                  iteration=exc.iteration) from None
        finally:
            progress.close()
        self._keep(state, xp, device)
        return state.history

    def _keep(self, state: TrainState, xp, device) -> None:
        """Hold the parameters and history a fit ended with, where it trained."""
        self._params, self._xp, self._device = state.params, xp, device
        self.history = state.history

    @_in_precision
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

    @_in_precision
    def score(self, X, Y) -> float:
        """Accuracy (a fraction in [0, 1]) for sigmoid and softmax outputs; R² for linear."""
        X, Y, xp, device = self._inputs(X, Y)
        A = network.predict_proba(self._params_in(xp, device), X, self.architecture, xp=xp)
        if self.output.classifier:
            hits = losses.correct_count(self.output.name, A, Y, xp=xp)
            # Counted, then divided in Python: exact, whatever the dtype of A.
            return int(hits) / losses.prediction_count(self.output.name, Y)
        residual = xp.sum((Y - A) ** 2, axis=1)
        total = xp.sum((Y - xp.mean(Y, axis=1, keepdims=True)) ** 2, axis=1)
        varies = total > 0
        r2 = 1.0 - residual / xp.where(varies, total, xp.ones_like(total))
        # A constant row of Y scores 1 if predicted exactly, else 0 (as scikit-learn's r2_score).
        r2 = xp.where(varies, r2, xp.astype(residual == 0, r2.dtype))
        return float(xp.mean(r2))

    @_in_precision
    def cost(self, X, Y) -> float:
        """The cost J of the current parameters on (X, Y), as a Python float."""
        X, Y, xp, device = self._inputs(X, Y)
        return float(network.cost(self._params_in(xp, device), X, Y, self.architecture, xp=xp,
                                  block=network.PREDICT_BLOCK))

    @_in_precision
    def gradients(self, X, Y) -> list[tuple[Any, Any]]:
        """[(dW[1], db[1]), ..., (dW[L], db[L])] of the cost on (X, Y) at the current parameters."""
        X, Y, xp, device = self._inputs(X, Y)
        params = self._params_in(xp, device)
        _, caches = network.forward(params, X, self.architecture, xp=xp)
        return network.backward(params, caches, Y, self.architecture, xp=xp)

    def __getstate__(self) -> dict:
        # For copy, deepcopy and joblib (xpnet's own files never use pickle):
        # a module cannot be pickled, so the parameters travel as NumPy arrays.
        state = dict(self.__dict__)
        state.pop("_xp")
        state["_device"] = None
        if self._params is not None:
            state["_params"] = tuple((_backend.to_host(W), _backend.to_host(b)) for W, b in self._params)
        return state

    def __setstate__(self, state: dict) -> None:
        state.setdefault("precision", "full")  # pickled before precision existed
        self.__dict__.update(state)
        self._xp = _backend.namespace_by_name("numpy")

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
            "l2": self.l2,
            "keep_prob": self.keep_prob,
            "precision": self.precision,
        }

    def save(self, path) -> None:
        """Save the architecture and parameters to a safetensors file at ``path`` (see :func:`xpnet.io.save`)."""
        _model_file.write(self, path)

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

    file_class = "LogisticRegression"

    def __init__(self, n_x: int | None = None, *, output: str = "sigmoid",
                 init: str = "zeros", **kwargs):
        n_y = 1 if losses.get(output).name != "softmax" else None
        super().__init__([n_x, n_y], output=output, init=init, **kwargs)


def _real(value, name: str, what: str, ok: Callable[[float], bool], *, says: str = "") -> float:
    """``value`` as a float, if it is a real number (not a bool) for which ``ok`` holds."""
    number = float(value) if is_real(value, numpy=True) else None
    if number is None or not ok(number):
        raise ConfigError(f"{name} {says or 'must be ' + what}, got {value!r}")
    return number


def _check_allocatable(layer_dims, dtype: str) -> None:
    """Refuse, before drawing them, parameters that cannot fit in this machine's memory."""
    count = sum(n * n_prev + n for n_prev, n in zip(layer_dims[:-1], layer_dims[1:]))
    # Drawn in float64, scaled (a second float64 array), then cast: at most this much.
    need = count * (16 + {"float32": 4, "float64": 8}[dtype])
    check_memory(need, f"layer_dims {list(layer_dims)} make {count:,} parameters: drawing them",
                 "choose smaller layers")


def _check_layer_dims(layer_dims) -> tuple:
    if isinstance(layer_dims, (str, bytes)) or not isinstance(layer_dims, Sequence) and not (
            hasattr(layer_dims, "__iter__") and hasattr(layer_dims, "__len__")):
        raise ConfigError(f"layer_dims must be a list of layer sizes [n_x, ..., n_y], "
                          f"got {layer_dims!r}")
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


def _default_int(xp):
    return xp.__array_namespace_info__().default_dtypes()["integral"]


