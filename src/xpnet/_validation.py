"""Checks at the public boundary: refuse bad input with a message that says
what was wrong and how to fix it, before any of it reaches the math.

These functions may read values back to the host (one check per call, never
per training step).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _backend
from .errors import BackendError, DataError, ShapeError
from .losses import Output


def as_array(x: Any, name: str) -> Any:
    """``x`` itself if it is an array of a supported library, else ``numpy.asarray(x)``;
    kinds of array the math cannot take as they are refused or made plain first
    (:func:`xpnet._backend.plain_array`: a matrix, a masked or sparse array, a tensor
    with an autograd graph, a JAX tracer)."""
    x = _backend.plain_array(x, name)
    try:
        _backend.namespace(x)
        return x
    except BackendError:
        pass
    try:
        a = np.asarray(x)
    except Exception as exc:
        raise DataError(f"{name} must be an array of numbers, got {type(x).__name__}") from exc
    return a


def namespace_and_device(*arrays: Any) -> tuple[Any, Any]:
    """The one namespace and device all ``arrays`` share, or a clear error."""
    xp = _backend.namespace(*arrays)
    devices = [_backend.device(a) for a in arrays]
    if any(d != devices[0] for d in devices[1:]):
        raise BackendError(
            f"X and Y live on different devices ({', '.join(map(str, devices))}): "
            "move them to one device before calling fit"
        )
    return xp, devices[0]


def _check_numeric(a, name: str, xp) -> None:
    if not xp.isdtype(a.dtype, ("bool", "integral", "real floating")):
        raise DataError(
            f"{name} has dtype {a.dtype}; xpnet needs real numbers (bool, integer or float)"
        )


#: Entries of a 2-D array examined at once by the exact checks: their temporaries stay
#: this small, whatever the size of the data.
CHECK_BLOCK = 1 << 20


def _column_blocks(a):
    """``a`` (rows, m) as slices of whole columns of at most about CHECK_BLOCK entries."""
    if a.ndim != 2:
        yield a
        return
    rows, m = a.shape
    width = max(1, CHECK_BLOCK // max(rows, 1))
    for start in range(0, m, width):
        yield a[:, start:min(start + width, m)]


def _check_finite(a, name: str, xp) -> None:
    """Refuse NaN and inf, with O(1) extra memory: the sum of ``a`` is finite only if every
    entry is (NaN and inf propagate), and is a reduction, with no temporary the size of
    ``a``; only when it is not (a non-finite entry, or finite entries whose sum
    overflows) are the entries examined, a block of columns at a time."""
    if not xp.isdtype(a.dtype, "real floating") or bool(xp.isfinite(xp.sum(a))):
        return
    bad = sum(int(xp.sum(xp.astype(~xp.isfinite(block), xp.int64))) for block in _column_blocks(a))
    if bad:
        raise DataError(
            f"{name} contains NaN or inf ({bad} entries): remove or impute them before training"
        )


def check_X(X, *, n_x: int | None, xp, dtype, examples_contiguous: bool = False) -> Any:
    """X (n_x, m) cast to ``dtype``, after checking its shape, type and values.

    ``n_x`` is the number of input features the first layer expects (None
    when the model takes it from X). With ``examples_contiguous`` X is also laid
    out for training (:func:`xpnet._backend.examples_contiguous`), in the same copy.
    """
    _check_numeric(X, "X", xp)
    if X.ndim != 2:
        raise ShapeError(
            f"X must be 2-D, (n_x, m) with one example per column; got shape {tuple(X.shape)}. "
            "For a single feature use X.reshape(1, -1); for a single example X.reshape(-1, 1)"
        )
    rows, m = X.shape
    if n_x is not None and rows != n_x:
        if m == n_x:
            raise ShapeError(
                f"X has shape {tuple(X.shape)}, which looks like (m, n_x): xpnet takes one "
                f"example per column, (n_x, m) = ({n_x}, m). Pass X.T"
            )
        raise ShapeError(
            f"X has {rows} features (rows) but the first layer expects n_x = {n_x}: "
            "check the data, or build the network with layer_dims[0] = X.shape[0]"
        )
    if m == 0:
        raise ShapeError("X has no examples (m = 0 columns)")
    if examples_contiguous:
        X = _backend.examples_contiguous(X, dtype)
    elif X.dtype != dtype:
        X = xp.astype(X, dtype)
    _check_finite(X, "X", xp)
    return X


def _distinct_values(a, limit: int = 6) -> str:
    values = np.unique(_backend.to_host(a))
    shown = ", ".join(f"{v:g}" for v in values[:limit])
    return shown + (", ..." if values.size > limit else "")


def label_rows(Y, *, m: int, xp) -> Any:
    """Y as a 2-D (rows, m) array: (m,) becomes (1, m); (m, 1) is refused as transposed."""
    if Y.ndim == 1:
        Y = xp.reshape(Y, (1, Y.shape[0]))
    if Y.ndim != 2:
        raise ShapeError(f"Y must be (n_y, m) or (m,), got shape {tuple(Y.shape)}")
    if Y.shape[1] != m:
        if Y.shape[0] == m and Y.shape[1] == 1:
            raise ShapeError(
                f"Y has shape {tuple(Y.shape)}, which looks like (m, 1): xpnet takes labels "
                f"as (1, m) = (1, {m}). Pass Y.T or Y.reshape(1, -1)"
            )
        raise ShapeError(
            f"X has m = {m} examples (columns) but Y has {Y.shape[1]}: "
            "X and Y need one column per example"
        )
    return Y


def check_Y(Y, *, output: Output, n_y: int, m: int, xp, dtype) -> Any:
    """Y as (n_y, m) in ``dtype``, encoded for ``output``.

    sigmoid: 0/1 labels. softmax: one-hot (n_y, m), or integer class ids
    (1, m) / (m,), which are one-hot encoded here. linear: any finite values.
    """
    _check_numeric(Y, "Y", xp)
    if xp.isdtype(Y.dtype, "bool"):
        Y = xp.astype(Y, dtype)
    Y = label_rows(Y, m=m, xp=xp)
    _check_finite(Y, "Y", xp)

    if output.name == "softmax" and Y.shape[0] == 1 and n_y > 1:
        return one_hot(Y, n_y, xp=xp, dtype=dtype)

    if Y.shape[0] != n_y:
        raise ShapeError(
            f"Y has {Y.shape[0]} rows but the output layer has n[L] = {n_y} units: "
            + ("give one-hot labels (n_y, m) or class ids (1, m)" if output.name == "softmax"
               else "make the last entry of layer_dims match Y.shape[0]")
        )
    if output.name in ("sigmoid", "softmax"):
        if not bool(xp.all((Y == 0) | (Y == 1))):
            hint = ("map your two classes to 0 and 1, or use output='softmax' for more classes"
                    if output.name == "sigmoid" else "give one-hot columns or class ids")
            raise DataError(
                f"labels for a {output.name} output must be 0 or 1; Y holds "
                f"{_distinct_values(Y)}: {hint}"
            )
    if output.name == "softmax" and not bool(xp.all(xp.sum(Y, axis=0) == 1)):
        raise DataError(
            "one-hot labels for a softmax output need exactly one 1 per column: "
            "check Y, or give class ids (1, m) instead"
        )
    return Y if Y.dtype == dtype else xp.astype(Y, dtype)


def one_hot(ids, K: int, *, xp, dtype) -> Any:
    """Class ids (1, m) in [0, K) as a one-hot (K, m) array of ``dtype``."""
    valid = (ids >= 0) & (ids < K)
    if xp.isdtype(ids.dtype, "real floating"):
        valid = valid & (xp.round(ids) == ids)
    if not bool(xp.all(valid)):
        raise DataError(
            f"class ids must be integers in [0, {K}) for a softmax output of {K} units; "
            f"Y holds {_distinct_values(ids)}"
        )
    classes = xp.reshape(xp.arange(K, device=_backend.device(ids)), (K, 1))
    return xp.astype(xp.astype(ids, classes.dtype) == classes, dtype)


def check_labels(Y, *, m: int, xp) -> None:
    """Refuse labels that cannot be counted into classes: not numbers, not finite, no
    examples, or of another m than X's (what ``check_Y`` then says in full)."""
    _check_numeric(Y, "Y", xp)
    Y = label_rows(Y, m=m, xp=xp)
    if Y.shape[1] == 0:
        raise ShapeError("Y has no examples (m = 0 columns)")
    _check_finite(Y, "Y", xp)


def n_classes(Y, *, xp=None) -> int:
    """The number of classes in labels Y: its rows if one-hot, else max id + 1 (at least 2).

    ``xp`` is Y's namespace, found from Y when not given (a NumPy Y on the host, say).
    """
    if Y.ndim == 2 and Y.shape[0] > 1:
        return Y.shape[0]
    if xp is None:
        xp = _backend.namespace(Y)
    return max(2, int(xp.max(Y)) + 1)
