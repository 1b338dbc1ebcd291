"""Fused CuPy kernels: fewer launches per training step on a GPU.

The array-API route launches one kernel per operation: dA · (1 − A²) is three
launches, an Adam update a dozen per parameter array. On a GPU, where a small
network's step is bound by launches rather than arithmetic, each formula here
runs as one ``cupy.ElementwiseKernel`` instead:

- dZ = dA · g'(Z) for relu, leaky_relu, tanh and sigmoid (activations.py);
- the in-place update of each W and b for sgd, momentum, rmsprop and adam (optimizers.py);
- the counter-based dropout masks (_random.py).

Each kernel computes its formula with the operations, order and constants
of the array-API code, compiled with ``--fmad=false`` (no fused
multiply-adds), so the two routes give the same bits; that code stays the
reference, and tests/test_fused.py compares the two on a GPU. The route is
taken where :func:`enabled`: CuPy arrays, and ``XPNET_FUSED=1`` while it
waits to be measured on a GPU (DESIGN.md rule 3).
"""

from __future__ import annotations

import functools
import os
from dataclasses import replace

import numpy as np

from . import _backend, _hash, optimizers
from .network import Architecture

_OPTIONS = ("--fmad=false",)  # a·b + c rounded twice, as the array-API route does


def enabled(xp) -> bool:
    """Whether the fused route runs for arrays of ``xp``: CuPy, with XPNET_FUSED=1."""
    return os.environ.get("XPNET_FUSED") == "1" and _backend.backend_name(xp) == "cupy"


@functools.lru_cache(maxsize=None)
def _kernels() -> dict:
    import cupy

    return define(cupy.ElementwiseKernel)


def define(elementwise_kernel) -> dict:
    """Each kernel, by name, as ``elementwise_kernel`` (``cupy.ElementwiseKernel``, or a
    stand-in with its signature: tests/_compiled_kernels.py compiles them without a GPU)
    makes it from its definition."""

    def kernel(inputs, outputs, operation, name):
        return elementwise_kernel(inputs, outputs, operation, f"xpnet_{name}", options=_OPTIONS)

    return {
        # dZ = dA · g'(Z), g' as activations.py writes it
        "relu": kernel("T dA, T A", "T dZ", "dZ = dA * (A > (T)0 ? (T)1 : (T)0)", "relu_backward"),
        "leaky_relu": kernel("T dA, T A, T slope, T rest", "T dZ",
                             "dZ = dA * (slope + rest * (A > (T)0 ? (T)1 : (T)0))",
                             "leaky_relu_backward"),
        "tanh": kernel("T dA, T A", "T dZ", "dZ = dA * ((T)1 - A * A)", "tanh_backward"),
        "sigmoid": kernel("T dA, T A", "T dZ", "dZ = dA * (A * ((T)1 - A))", "sigmoid_backward"),
        # θ and its slots updated where they lie, as optimizers.py's rules do
        "sgd": kernel("T d, T a", "T theta", "theta -= a * d", "sgd"),
        "momentum": kernel("T d, T a, T beta, T rest", "T theta, T v",
                           "v = v * beta + d * rest; theta -= a * v", "momentum"),
        "rmsprop": kernel("T d, T a, T beta, T rest, T eps", "T theta, T s",
                          "s = s * beta + rest * (d * d); theta -= a * d / (sqrt(s) + eps)",
                          "rmsprop"),
        "adam": kernel("T d, T a, T beta1, T rest1, T beta2, T rest2, T c1, T c2, T eps",
                       "T theta, T v, T s",
                       "v = v * beta1 + rest1 * d; s = s * beta2 + rest2 * (d * d); "
                       "theta -= a * (v / c1) / (sqrt(s / c2) + eps)", "adam"),
        # _random.counter_masks: the 31-bit hash (xpnet._hash) of (stream + row), then of
        # that plus the column
        "mask": kernel("int64 row, int64 column, int64 stream, int64 threshold, T kept", "T D",
                       f"""
                       long long x = (row + stream) & {_hash.MASK31:#X}LL;
                       {_hash.mix_cpp("x")}
                       x = (x + column) & {_hash.MASK31:#X}LL;
                       {_hash.mix_cpp("x")}
                       D = x < threshold ? kept : (T)0;
                       """, "counter_mask"),
    }


def _scalar(value: float, like):
    """A Python number as the array's dtype, rounded as the array-API route rounds it."""
    return np.asarray(value, dtype=like.dtype)[()]


def _activation_backward(name: str, slope: float | None):
    k = _kernels()[name]
    if name == "leaky_relu":
        return lambda dA, Z, A, *, xp: k(dA, A, _scalar(slope, dA), _scalar(1.0 - slope, dA))
    return lambda dA, Z, A, *, xp: k(dA, A)


def architecture(arch: Architecture) -> Architecture:
    """``arch`` with each hidden activation's backward as one kernel (linear has none to fuse)."""
    hidden = tuple(
        h if h.name == "linear" else replace(h, backward=_activation_backward(h.name, h.slope))
        for h in arch.hidden
    )
    return replace(arch, hidden=hidden)


def optimizer(opt: optimizers.Optimizer) -> optimizers.Optimizer:
    """``opt`` with its in-place update as one kernel per W and b; an optimizer not from
    xpnet.optimizers is returned as it is."""
    if opt.name not in optimizers.SLOTS or opt.update_inplace is None:
        return opt
    k, h = _kernels()[opt.name], opt.hyperparameters

    def rule(theta, d, *slots, a, t, xp, work=None):  # one kernel needs no scratch
        f = functools.partial(_scalar, like=theta)
        if opt.name == "sgd":
            k(d, f(a), theta)
        elif opt.name == "momentum":
            k(d, f(a), f(h["beta"]), f(1.0 - h["beta"]), theta, *slots)
        elif opt.name == "rmsprop":
            k(d, f(a), f(h["beta"]), f(1.0 - h["beta"]), f(h["epsilon"]), theta, *slots)
        else:
            b1, b2 = h["beta1"], h["beta2"]
            k(d, f(a), f(b1), f(1.0 - b1), f(b2), f(1.0 - b2), f(1.0 - b1**t), f(1.0 - b2**t),
              f(h["epsilon"]), theta, *slots)
        return (theta, *slots)

    return optimizers.with_inplace_rule(opt, rule)


def counter_mask(rows, columns, stream: int, threshold: int, keep_prob: float, *, xp, dtype):
    """One layer's (n, m) mask of :func:`xpnet._random.counter_masks`, in one kernel."""
    D = xp.empty((rows.shape[0], columns.shape[1]), dtype=dtype, device=_backend.device(rows))
    kept = np.asarray(1.0, dtype=dtype) / np.asarray(keep_prob, dtype=dtype)
    _kernels()["mask"](rows, columns, stream, threshold, kept, D)
    return D
