"""The steps of ``Network.fit`` around the training loop, each named and in one place.

``Network.fit`` (models.py) reads as their sequence: check the plan and the
seed, :func:`place` the data where it trains, :func:`hold_out` the validation
examples, :func:`start` (or resume) the state, then hand the :func:`model` to
``training.train`` with the checkpoint writer and the progress display.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from . import _backend, _fused, _validation, distributed, optimizers
from . import checkpoint as checkpoints
from ._checks import check_int, is_real
from .errors import BackendError, ConfigError
from .training import Examples, History, Model, Plan, TrainState


def positive_int(value, name: str, *, allow_zero: bool = False) -> int:
    """``value``, checked to be an integer ≥ 1 (≥ 0 with ``allow_zero``)."""
    return check_int(value, name, low=0 if allow_zero else 1)


def plan(iterations, epochs, batch_size, record_every, early_stopping, has_validation,
          checkpoint, checkpoint_every) -> Plan:
    """The training plan from fit's arguments, each checked."""
    if iterations is not None and epochs is not None:
        raise ConfigError("give iterations (full-batch updates) or epochs (passes over the data), not both")
    if batch_size is not None and epochs is None:
        raise ConfigError(
            "mini-batches are counted in epochs: give epochs=... with batch_size=..."
        )
    if epochs is None and iterations is None:
        iterations = 1000
    if early_stopping is not None:
        positive_int(early_stopping, "early_stopping")
        if not has_validation:
            raise ConfigError(
                "early_stopping watches the validation cost: give validation_data or validation_split"
            )
    if checkpoint_every is not None:
        if checkpoint is None:
            raise ConfigError("checkpoint_every needs checkpoint=PATH to write to")
        positive_int(checkpoint_every, "checkpoint_every")
    elif checkpoint is not None:
        checkpoint_every = 1 if epochs is not None else record_every
    return Plan(
        iterations=None if iterations is None else positive_int(iterations, "iterations", allow_zero=True),
        epochs=None if epochs is None else positive_int(epochs, "epochs", allow_zero=True),
        batch_size=None if batch_size is None else positive_int(batch_size, "batch_size"),
        record_every=positive_int(record_every, "record_every"),
        patience=early_stopping,
        checkpoint_every=checkpoint_every,
    )


def callbacks(on_record, checkpoint, resume) -> None:
    """Refuse an ``on_record`` that cannot be called and paths that are no paths, before
    training, not at the first record or checkpoint."""
    if on_record is not None and not callable(on_record):
        raise ConfigError(f"on_record must be a function of the history, got {on_record!r}")
    for name, path in (("checkpoint", checkpoint), ("resume", resume)):
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise ConfigError(f"{name} must be a path (str or os.PathLike), got {path!r}")
        if path is not None and "\0" in os.fspath(path):
            raise ConfigError(f"{name} {os.fspath(path)!r} holds a NUL character, which no "
                              "file name can")


def shuffle_seed(seed, *, default: int | None) -> int | None:
    """The seed of the shuffles and dropout masks: ``seed``, checked, or the model's."""
    if seed is None:
        return default
    return check_int(seed, "shuffle_seed", low=0, must="None or an integer ≥ 0")


def place(net, X, Y, validation_data, group, *, backend: str | None, device: str):
    """(X, Y, validation_data, xp, device): the data checked and where it trains, X laid
    out for training (each example contiguous where the backend allows).

    With ``backend`` the arrays move there once, from any library. Each process
    checks its own shard; all of them raise if any one's is refused, so that
    none is left waiting for the others in the first collective.
    """
    if group.size > 1 and None in net.layer_dims:
        agree_on_sizes(net, X, Y, group)
    if backend is not None and not isinstance(backend, str):
        raise ConfigError(f"backend is a name, one of {', '.join(_backend.BACKENDS)}, "
                          f"got {backend!r}")
    if backend is None and device != "auto":
        raise ConfigError(f"device={device!r} says where backend= trains: give a backend "
                          "too (without one, fit trains where X lives)")
    rank_on_node = distributed.local_rank(group) if backend and group.size > 1 else 0
    error = xp = None
    try:
        if backend is not None:
            target = _backend.resolve_target(backend, device, local_rank=rank_on_node)
            X, Y = target.put(X), target.put(Y)
            if isinstance(validation_data, (tuple, list)):  # else refused just below
                validation_data = tuple(target.put(a) for a in validation_data)
        X, Y, xp, device = net._inputs(X, Y, training=True)
        if validation_data is not None:
            validation_data = validation_examples(net, validation_data, xp, device)
    except Exception as exc:
        error = exc
    group.agree(error)
    return X, Y, validation_data, xp, device


def validation_examples(net, validation_data, xp, device):
    """(X_val, Y_val) checked like the training data, in its namespace and on its device."""
    try:
        X_val, Y_val = validation_data
    except (TypeError, ValueError) as exc:
        raise ConfigError("validation_data must be a pair (X_val, Y_val)") from exc
    X_val, Y_val, xp_val, device_val = net._inputs(X_val, Y_val)
    if xp_val is not xp or device_val != device:
        raise BackendError(
            "validation_data must live in the same library and on the same device as X"
        )
    return X_val, Y_val


def agree_on_sizes(net, X, Y, group) -> None:
    """Sizes left to the data (LogisticRegression), taken from all the processes' shards:
    one shard may lack the highest class."""
    error = None
    try:
        X = _validation.as_array(X, "X")
        Y = _validation.as_array(Y, "Y")
        xp, _ = _validation.namespace_and_device(X, Y)
        net._infer_sizes(X, Y, xp)
    except Exception as exc:
        error = exc
    group.agree(error)
    if group.max(int(None in net.layer_dims)):
        return  # some shapes were wrong: _inputs says how, on every process
    dims = (group.max(net.layer_dims[0]), *net.layer_dims[1:-1], group.max(net.layer_dims[-1]))
    if dims != tuple(net.layer_dims):
        net.layer_dims = dims
        net._initialize()


def hold_out(data: Examples, validation_data, validation_split, group,
             random) -> tuple[Examples, Examples | None]:
    """(the examples to train on, the validation examples or None): ``validation_data``
    as given, or a seeded random ``validation_split`` of ``data`` held out."""
    if validation_data is not None and validation_split is not None:
        raise ConfigError("give validation_data or validation_split, not both")
    if validation_data is not None:
        X_val, Y_val = validation_data
        return data, Examples(X_val, Y_val, group.shard(X_val.shape[1]))
    if validation_split is None:
        return data, None
    if not is_real(validation_split, numpy=True) or not 0.0 < validation_split < 1.0:
        raise ConfigError(f"validation_split must lie in (0, 1), got {validation_split!r}")
    m = data.m
    m_val = int(round(m * validation_split))
    if not 0 < m_val < m:
        raise ConfigError(
            f"validation_split={validation_split} leaves {m - m_val} of {m} examples to "
            f"train on and {m_val} to validate: choose a split that keeps both non-empty"
        )
    # A seeded random subset: data sorted by class would otherwise lose whole classes.
    order = random.permutation(m)
    xp, device = _backend.namespace(data.X), _backend.device(data.X)

    def subset(positions) -> Examples:
        columns, shard = data.shard.subset(positions)
        columns = _backend.from_host(columns, xp, device)
        return Examples(_backend.take_examples(data.X, columns, xp=xp),
                        _backend.take_examples(data.Y, columns, xp=xp), shard)

    return subset(order[: m - m_val]), subset(order[m - m_val:])


def start(net, opt: optimizers.Optimizer, plan: Plan, group, random, *, xp, device,
          resume) -> TrainState:
    """The state training starts from: the model's parameters (rank 0's, on every process)
    and a fresh optimizer state, or what the checkpoint ``resume`` holds."""
    params = net._params_in(xp, device)
    if _backend.supports_inplace(xp):
        # The in-place route overwrites the parameters it trains: give it its own,
        # so arrays the caller holds (net.params from before) keep their values.
        params = tuple((xp.asarray(W, copy=True), xp.asarray(b, copy=True)) for W, b in params)
    params = group.broadcast(params, xp=xp)
    if resume is None:
        return TrainState(params, opt.init(params, xp=xp))
    state, random.state = checkpoints.load(resume, config=net.get_config(),
                                           optimizer_name=opt.name, plan=plan, xp=xp,
                                           device=device)
    return state


def checkpoint_writer(path, net, opt: optimizers.Optimizer, plan: Plan, random,
                      group) -> Callable[[TrainState], None] | None:
    """``save(state)`` writing the checkpoint at ``path`` (rank 0 only), or None."""
    if path is None or group.rank != 0:
        return None

    def save(state: TrainState) -> None:
        checkpoints.save(path, config=net.get_config(), optimizer_name=opt.name, plan=plan,
                         state=state, rng_state=random.state)

    return save


def model(arch, opt: optimizers.Optimizer, xp) -> Model:
    """What ``train`` runs: the fused CuPy kernels where they are on (XPNET_FUSED=1), the
    in-place route where the backend's arrays can be written."""
    if _fused.enabled(xp):
        arch, opt = _fused.architecture(arch), _fused.optimizer(opt)
    return Model(arch, opt, xp, inplace=_backend.supports_inplace(xp))


def both(*calls: Callable[[History], Any] | None) -> Callable[[History], None]:
    """One ``on_record`` calling each of ``calls`` that is given, in order."""
    given = [call for call in calls if call is not None]

    def on_record(history: History) -> None:
        for call in given:
            call(history)

    return on_record
