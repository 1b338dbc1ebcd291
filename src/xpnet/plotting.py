"""Pictures of training: learning curves and 2-D decision boundaries.

Needs matplotlib (``pip install 'xpnet[plot]'``). It is imported inside the
functions, never at module level, so ``import xpnet`` works without it.

The figures are plain :class:`matplotlib.figure.Figure` objects on the
non-interactive Agg canvas: they are not registered with pyplot, so drawing
them changes no global backend or state, and nothing needs closing — a figure
is freed when the last reference to it goes. Jupyter displays a returned
figure; ``fig.savefig(...)`` writes one anywhere.
"""

from __future__ import annotations

import os

import numpy as np

from . import _backend
from ._checks import check_int
from .errors import ConfigError, DataError, ShapeError

#: The accuracy-like series that get the second axes of :func:`plot_history`, in drawing order.
SCORE_METRICS = ("accuracy", "val_accuracy", "r2", "val_r2")

_INSTALL_HINT = "plotting needs matplotlib: pip install 'xpnet[plot]'"


def _matplotlib():
    """(Figure, FigureCanvasAgg), or a ConfigError that says how to install matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ConfigError(_INSTALL_HINT) from exc
    return Figure, FigureCanvasAgg


def _new_figure(**kwargs):
    Figure, FigureCanvasAgg = _matplotlib()
    fig = Figure(**kwargs)
    # An Agg canvas of its own, not pyplot's: the user's backend stays as it was,
    # and a script without a display never tries to open a window.
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str | os.PathLike | None) -> None:
    """Write ``fig`` to ``path``: the format from the suffix, PNG when there is none."""
    if path is None:
        return
    suffix = os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
    supported = fig.canvas.get_supported_filetypes()
    if suffix and suffix not in supported:
        raise ConfigError(
            f"cannot save a figure as {suffix!r} ({os.fspath(path)}): "
            f"use one of the suffixes {', '.join(sorted(supported))}"
        )
    # An explicit format: a path without a suffix is PNG whatever savefig.format says.
    fig.savefig(path, format=suffix or "png")


def plot_history(hist, path: str | os.PathLike | None = None, *, title: str | None = None):
    """Learning curves of a :class:`~xpnet.training.History`; returns the Figure.

    The first axes shows the training cost ``hist.costs`` (and ``hist["val_cost"]``
    when recorded) against ``hist.epochs`` when it is non-empty, else against
    ``hist.iterations``; every series has one value per record, len(hist).
    A second axes, present only when one of them was recorded, shows
    "accuracy", "val_accuracy", "r2" and "val_r2". With ``path`` the figure is
    also saved there (PNG unless the suffix names another format matplotlib
    writes: .pdf, .svg, ...).
    """
    costs = list(getattr(hist, "costs", None) or [])
    if not costs:
        raise DataError(
            "the history is empty: nothing was recorded. Pass the History that "
            "fit() returned after at least one iteration (net.history is None before fit)"
        )
    epochs = list(hist.epochs)
    if epochs:
        x, x_label = epochs, "epoch"
    else:
        x, x_label = list(hist.iterations), "iteration"
    metrics = dict(hist.metrics)
    # Checked here so a hand-built History fails with names, not inside matplotlib.
    for name, series in [("cost", costs), *metrics.items()]:
        if len(series) != len(x):
            raise DataError(
                f"history series {name!r} has {len(series)} values but there are "
                f"{len(x)} {x_label}s: every series needs one value per record"
            )

    scores = [name for name in SCORE_METRICS if metrics.get(name)]
    fig = _new_figure(figsize=(6.4 * (2 if scores else 1), 4.8), layout="constrained")
    axes = fig.subplots(1, 2 if scores else 1, squeeze=False)[0]

    ax = axes[0]
    ax.plot(x, costs, label="cost")
    if metrics.get("val_cost"):
        ax.plot(x, metrics["val_cost"], label="val_cost")
    ax.set_xlabel(x_label)
    ax.set_ylabel("cost J")
    ax.legend()
    ax.grid(True, alpha=0.3)

    if scores:
        ax = axes[1]
        for name in scores:
            ax.plot(x, metrics[name], label=name)
        ax.set_xlabel(x_label)
        ax.set_ylabel("score")
        ax.legend()
        ax.grid(True, alpha=0.3)

    if title is not None:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def plot_curves(histories, labels, path: str | os.PathLike | None = None, *,
                metric: str = "cost", title: str | None = None):
    """The learning curves of several :class:`~xpnet.training.History` objects (a sweep's
    networks) on one axes: ``metric`` ("cost", "val_cost", "accuracy", ...) against
    epochs or iterations, one line per history, labelled by ``labels``; returns the
    Figure (saved at ``path`` too, as :func:`plot_history` does)."""
    histories = list(histories)
    drawn = [(h, label) for h, label in zip(histories, labels) if len(h)]
    if not drawn:
        raise DataError("no history has a record: nothing to plot")
    recorded = {name for h, _ in drawn for name in ["cost", *h.metrics]}
    if metric not in recorded:
        raise ConfigError(f"no history recorded {metric!r}: choose one of "
                          f"{', '.join(sorted(recorded))}")
    fig = _new_figure(figsize=(7.2, 4.8), layout="constrained")
    ax = fig.subplots()
    by_epochs = any(h.epochs for h, _ in drawn)
    for h, label in drawn:
        if metric == "cost" or metric in h.metrics:
            ax.plot(h.epochs if by_epochs else h.iterations, h[metric], label=label)
    ax.set_xlabel("epoch" if by_epochs else "iteration")
    ax.set_ylabel(metric)
    if metric.endswith("cost") and all(v > 0 for h, _ in drawn if metric == "cost"
                                       or metric in h.metrics for v in h[metric]):
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", ncols=max(1, len(drawn) // 12))
    if title is not None:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def plot_decision_boundary(net, X, Y, path: str | os.PathLike | None = None, *,
                           resolution: int = 200):
    """The regions ``net`` assigns to each class over the plane, and the points (X, Y).

    X is (2, m): two input features, one example per column. Y is (1, m) or
    (m,) of 0/1 labels or class ids, or (K, m) one-hot; for a linear output,
    (1, m) values. Both may come from any backend. ``net.predict`` is
    evaluated on a ``resolution`` × ``resolution`` grid covering X plus a 10 %
    margin; the predicted class is drawn as filled contours (the value of the
    first output, for a linear output) and the points are coloured by Y.
    Returns the Figure, saved to ``path`` when given.
    """
    check_int(resolution, "resolution", low=2)
    X = np.asarray(_backend.to_host(X), dtype=np.float64)
    Y = np.asarray(_backend.to_host(Y))
    if X.ndim != 2 or X.shape[0] != 2:
        hint = " It looks like (m, 2): pass X.T" if X.ndim == 2 and X.shape[1] == 2 else ""
        raise ShapeError(
            f"decision boundaries need n_x = 2 input features, X as (2, m); "
            f"got X of shape {X.shape}.{hint}"
        )
    m = X.shape[1]
    if m == 0:
        raise ShapeError("X has no examples (m = 0 columns)")
    if Y.ndim == 1:
        Y = Y.reshape(1, -1)
    if Y.ndim != 2 or Y.shape[1] != m:
        raise ShapeError(f"Y must be (1, m), (m,) or one-hot (K, m) with m = {m}; got shape {Y.shape}")
    if not np.all(np.isfinite(X)):
        raise DataError("X holds NaN or inf: the grid cannot cover it")

    output = net.output.name
    classifier = output != "linear"
    if classifier:
        # One-hot (K, m) becomes class ids; ids must be whole numbers to pick a colour.
        labels = np.argmax(Y, axis=0) if Y.shape[0] > 1 else Y[0]
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)) or np.any(labels < 0):
            raise DataError("Y must hold class ids 0, 1, ... (or 0/1 labels, or one-hot columns)")
        labels = labels.astype(np.int64)
    else:
        labels = Y[0].astype(np.float64)

    lo, hi = X.min(axis=1), X.max(axis=1)
    # 10 % of the span on each side; a feature with no spread still gets a unit window.
    margin = np.where(hi > lo, 0.1 * (hi - lo), 1.0)
    g1 = np.linspace(lo[0] - margin[0], hi[0] + margin[0], resolution)
    g2 = np.linspace(lo[1] - margin[1], hi[1] + margin[1], resolution)
    G1, G2 = np.meshgrid(g1, g2)
    grid = np.stack([G1.ravel(), G2.ravel()])  # (2, resolution²): one grid point per column
    # NumPy in, NumPy out: the net moves its parameters to the host for this call.
    P = np.asarray(_backend.to_host(net.predict(grid)))
    # Row 0: the class ids (softmax), the 0/1 label of a single sigmoid unit,
    # or the first output of a linear net.
    surface = P[0].reshape(G1.shape)

    fig = _new_figure(layout="constrained")
    ax = fig.subplots()
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize

    if classifier:
        K = int(max(labels.max(), surface.max(), 1)) + 1
        colors = (colormaps["tab10"].colors[:K] if K <= 10
                  else colormaps["viridis"](np.linspace(0.0, 1.0, K)))
        cmap = ListedColormap(colors)
        # One band per class id, k - 0.5 to k + 0.5, shared by regions and points.
        norm = BoundaryNorm(np.arange(K + 1) - 0.5, K)
        ax.contourf(G1, G2, surface, levels=np.arange(K + 1) - 0.5, cmap=cmap, norm=norm, alpha=0.35)
    else:
        cmap = colormaps["viridis"]
        both = np.concatenate([surface.ravel(), labels])
        norm = Normalize(vmin=both.min(), vmax=both.max())
        contours = ax.contourf(G1, G2, surface, levels=20, cmap=cmap, norm=norm, alpha=0.5)
        fig.colorbar(contours, ax=ax, label="prediction")
    ax.scatter(X[0], X[1], c=labels, cmap=cmap, norm=norm, s=14, edgecolors="k", linewidths=0.4)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(f"decision boundary ({output} output)")
    _save(fig, path)
    return fig


__all__ = ["plot_history", "plot_decision_boundary", "SCORE_METRICS"]
