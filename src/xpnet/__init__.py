"""xpnet: logistic regression, shallow and deep networks with hand-derived,
vectorized backpropagation, written once against the Python array API.

    import xpnet
    net = xpnet.Network([12288, 20, 7, 5, 1], hidden="relu", output="sigmoid",
                        init="xavier", seed=1, dtype="float64")
    hist = net.fit(X, Y, iterations=2500, learning_rate=0.0075)
"""

from .errors import (
    BackendError,
    ConfigError,
    DataError,
    DataFileError,
    DivergenceError,
    NotFittedError,
    ShapeError,
    XpnetError,
)
from ._version import __version__
from .io import load
from .models import LogisticRegression, Network
from .plotting import plot_decision_boundary, plot_history
from .sweeps import Sweep
from .training import History

__all__ = [
    "Network",
    "LogisticRegression",
    "Sweep",
    "load",
    "History",
    "plot_history",
    "plot_decision_boundary",
    "XpnetError",
    "ShapeError",
    "DataError",
    "DataFileError",
    "DivergenceError",
    "ConfigError",
    "BackendError",
    "NotFittedError",
    "__version__",
]
