"""plot_history and plot_decision_boundary: what they draw, what they write, how they fail."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import xpnet
import xpnet.data  # not imported by `import xpnet` itself
from xpnet import ConfigError, DataError, ShapeError
from xpnet.plotting import plot_decision_boundary, plot_history
from xpnet.training import History

from conftest import asarray

plt = pytest.importorskip("matplotlib.pyplot")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    # The figures are not pyplot's, but a failing test must not leave any behind either.
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def flower_fit():
    """(net, X, Y, hist): the [2, 4, 1] tanh net after 300 iterations on the flower."""
    X, Y = xpnet.data.planar_flower()
    net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1)
    hist = net.fit(X, Y, iterations=300, learning_rate=1.2)
    return net, X, Y, hist


def _assert_png(path, min_bytes=5_000):
    assert path.is_file()
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > min_bytes


def test_history_of_a_real_fit_plots_to_a_png(flower_fit, tmp_path):
    *_, hist = flower_fit
    path = tmp_path / "history.png"
    fig = plot_history(hist, path, title="flower")
    _assert_png(path)
    plt.close(fig)


def test_path_without_suffix_is_written_as_png(flower_fit, tmp_path):
    *_, hist = flower_fit
    path = tmp_path / "history"
    plt.close(plot_history(hist, path))
    _assert_png(path)


def test_suffix_picks_another_format(flower_fit, tmp_path):
    *_, hist = flower_fit
    path = tmp_path / "history.svg"
    plt.close(plot_history(hist, path))
    assert b"<svg" in path.read_bytes()[:1000]


def test_unknown_suffix_raises_config_error(flower_fit, tmp_path):
    *_, hist = flower_fit
    with pytest.raises(ConfigError, match="'xyz'"):
        plot_history(hist, tmp_path / "history.xyz")


def test_first_axes_holds_the_recorded_costs(flower_fit):
    *_, hist = flower_fit
    fig = plot_history(hist)
    ax = fig.axes[0]  # a second axes follows when fit recorded accuracy
    (line,) = ax.lines  # no validation data, no val_cost: one cost series
    assert line.get_label() == "cost"
    np.testing.assert_array_equal(line.get_xdata(), hist.iterations)
    np.testing.assert_array_equal(line.get_ydata(), hist.costs)
    assert ax.get_xlabel() == "iteration"
    plt.close(fig)


def test_val_cost_is_a_second_line_on_the_cost_axes():
    hist = History(iterations=[0, 100, 200], costs=[0.7, 0.5, 0.4],
                   metrics={"val_cost": [0.72, 0.55, 0.47]})
    fig = plot_history(hist)
    (ax,) = fig.axes  # no accuracy-like metric: no second axes
    assert [line.get_label() for line in ax.lines] == ["cost", "val_cost"]
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), hist["val_cost"])
    plt.close(fig)


def test_accuracy_metrics_get_a_second_axes():
    hist = History(iterations=[0, 100, 200], costs=[0.7, 0.5, 0.4],
                   metrics={"val_cost": [0.72, 0.55, 0.47], "accuracy": [0.5, 0.8, 0.9]})
    fig = plot_history(hist)
    cost_ax, score_ax = fig.axes
    assert [line.get_label() for line in cost_ax.lines] == ["cost", "val_cost"]
    (line,) = score_ax.lines
    assert line.get_label() == "accuracy"
    np.testing.assert_array_equal(line.get_xdata(), hist.iterations)
    np.testing.assert_array_equal(line.get_ydata(), hist["accuracy"])
    plt.close(fig)


def test_epochs_are_the_x_axis_when_recorded():
    hist = History(iterations=[9, 19, 29], costs=[0.7, 0.5, 0.4], epochs=[1, 2, 3],
                   metrics={"val_accuracy": [0.6, 0.7, 0.75]})
    fig = plot_history(hist)
    for ax in fig.axes:
        assert ax.get_xlabel() == "epoch"
        for line in ax.lines:
            np.testing.assert_array_equal(line.get_xdata(), hist.epochs)
    plt.close(fig)


def test_empty_history_raises_data_error():
    with pytest.raises(DataError, match="history is empty"):
        plot_history(History())


def test_series_of_the_wrong_length_raises_data_error():
    hist = History(iterations=[0, 100], costs=[0.7, 0.5], metrics={"accuracy": [0.5]})
    with pytest.raises(DataError, match="'accuracy' has 1 values"):
        plot_history(hist)


def test_plotting_registers_no_pyplot_figure_and_keeps_the_backend(flower_fit):
    net, X, Y, hist = flower_fit
    backend, before = plt.get_backend(), plt.get_fignums()
    plot_history(hist)
    plot_decision_boundary(net, X, Y, resolution=20)
    assert plt.get_fignums() == before
    assert plt.get_backend() == backend


def test_decision_boundary_of_the_flower_net_writes_a_png(flower_fit, tmp_path):
    net, X, Y, _ = flower_fit
    path = tmp_path / "boundary.png"
    fig = plot_decision_boundary(net, X, Y, path)
    _assert_png(path)
    (ax,) = fig.axes
    assert len(ax.collections) >= 2  # the filled regions and the points
    plt.close(fig)


def test_decision_boundary_covers_the_data_with_a_margin(flower_fit):
    net, X, Y, _ = flower_fit
    fig = plot_decision_boundary(net, X, Y, resolution=20)
    (ax,) = fig.axes
    (x_lo, x_hi), (y_lo, y_hi) = ax.get_xlim(), ax.get_ylim()
    assert x_lo < X[0].min() and X[0].max() < x_hi
    assert y_lo < X[1].min() and X[1].max() < y_hi
    plt.close(fig)


def test_decision_boundary_takes_arrays_of_any_backend(xp, tmp_path):
    X, Y = xpnet.data.planar_flower(40)
    X, Y = asarray(X, xp), asarray(Y, xp)
    net = xpnet.Network([2, 4, 1], hidden="tanh", init="normal", seed=1)
    net.fit(X, Y, iterations=5, learning_rate=1.2)  # params now live in xp
    path = tmp_path / "boundary.png"
    plt.close(plot_decision_boundary(net, X, Y, path, resolution=20))
    _assert_png(path, min_bytes=1_000)


def test_decision_boundary_of_a_softmax_net_takes_one_hot_labels(tmp_path):
    X, ids = xpnet.data.planar_flower(60)
    Y = np.eye(2, dtype=np.int64)[ids[0]].T  # (2, m) one-hot
    net = xpnet.Network([2, 3, 2], hidden="tanh", output="softmax", seed=0)
    net.fit(X, Y, iterations=5, learning_rate=0.5)
    path = tmp_path / "softmax.png"
    plt.close(plot_decision_boundary(net, X, Y, path, resolution=20))
    _assert_png(path, min_bytes=1_000)


def test_decision_boundary_with_three_features_raises_shape_error(flower_fit):
    net, _, Y, _ = flower_fit
    X3 = np.zeros((3, Y.shape[1]))
    with pytest.raises(ShapeError, match="n_x = 2"):
        plot_decision_boundary(net, X3, Y)


def test_missing_matplotlib_says_how_to_install(flower_fit, monkeypatch):
    net, X, Y, hist = flower_fit
    for name in ("matplotlib", "matplotlib.pyplot", "matplotlib.figure",
                 "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ConfigError, match=r"pip install 'xpnet\[plot\]'"):
        plot_history(hist)
    with pytest.raises(ConfigError, match=r"pip install 'xpnet\[plot\]'"):
        plot_decision_boundary(net, X, Y)
