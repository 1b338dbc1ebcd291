"""scikit-learn's MLPClassifier on a mini-batch epoch, timed."""

from __future__ import annotations

import warnings

import numpy as np

from .available import Unavailable, optional
from .hostdata import HostData
from .timing import Runner
from .workload import ADAM, Workload

SKLEARN_SOLVER = ('MLPClassifier(solver="sgd", momentum=0) (plain SGD) or solver="adam", '
                  'no L2, max_iter=1 (one epoch)')
#: MLPClassifier's settings for each of a workload's optimizers.
SKLEARN_SOLVERS = {
    "sgd": dict(solver="sgd", learning_rate="constant", momentum=0.0, nesterovs_momentum=False),
    "adam": dict(solver="adam", beta_1=ADAM["beta1"], beta_2=ADAM["beta2"],
                 epsilon=ADAM["epsilon"]),
}


def sklearn_runner(w: Workload, data: HostData, kind: str, dtype: str) -> Runner:
    """scikit-learn's MLPClassifier, one epoch of plain SGD or Adam (the mini-batch
    epochs only), on (m, n_x) rows; always on the CPU, whatever ``kind`` says."""
    if w.kind != "epoch":
        raise Unavailable("scikit-learn is compared on the mini-batch epoch only")
    neural_network = optional("sklearn.neural_network")
    exceptions = optional("sklearn.exceptions")
    X = np.ascontiguousarray(data.X.T, dtype=dtype)  # (m, n_x), as scikit-learn takes it
    y = data.labels

    def run():
        clf = neural_network.MLPClassifier(
            hidden_layer_sizes=tuple(w.layers[1:-1]), activation="relu",
            learning_rate_init=w.learning_rate, alpha=0.0, batch_size=w.batch_size, max_iter=1,
            shuffle=True, random_state=0, tol=0.0, early_stopping=False,
            **SKLEARN_SOLVERS[w.optimizer])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", exceptions.ConvergenceWarning)
            clf.fit(X, y)

    return Runner(run)
