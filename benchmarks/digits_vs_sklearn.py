"""xpnet's MLPClassifier against scikit-learn's on the digits set, side by side.

scikit-learn's bundled digits (1797 images of 8×8 pixels, 10 classes),
standardized, split train/test with a seed. Both classifiers get the same
network and training: one hidden relu layer, softmax output, mini-batch Adam
with the same batch size, epochs, learning rate and L2 strength alpha.
scikit-learn's stopping rule is switched off (tol=0, n_iter_no_change beyond
the last epoch) so that both run every epoch. Prints a Markdown table of test
accuracy and fit time (the median of --repeats fits) with the time ratio.

    python benchmarks/digits_vs_sklearn.py
    python benchmarks/digits_vs_sklearn.py --hidden 128 --epochs 100 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.preprocessing import StandardScaler

import xpnet
from xpnet.sklearn import MLPClassifier


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[64], help="hidden layer sizes")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 strength (xpnet's λ)")
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=0, help="split, initial weights, shuffles")
    parser.add_argument("--repeats", type=int, default=5, help="fits per model; the median time is shown")
    return parser.parse_args(argv)


def fit_and_score(make, X_train, y_train, X_test, y_test, repeats):
    """(test accuracy of the last fit, median fit time in seconds, epochs run)."""
    times = []
    for _ in range(repeats):
        model = make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # sklearn, at max_iter
            start = time.perf_counter()
            model.fit(X_train, y_train)
            times.append(time.perf_counter() - start)
    return model.score(X_test, y_test), statistics.median(times), model.n_iter_


def main(argv=None):
    args = parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=args.test_size, random_state=args.seed, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    shared = dict(hidden_layer_sizes=tuple(args.hidden), activation="relu", solver="adam",
                  alpha=args.alpha, batch_size=args.batch_size,
                  learning_rate_init=args.learning_rate, max_iter=args.epochs,
                  random_state=args.seed)
    models = {
        "xpnet MLPClassifier (float64)": lambda: MLPClassifier(**shared, dtype="float64"),
        "xpnet MLPClassifier (float32)": lambda: MLPClassifier(**shared, dtype="float32"),
        "scikit-learn MLPClassifier": lambda: SklearnMLPClassifier(
            **shared, tol=0.0, n_iter_no_change=args.epochs + 1, shuffle=True),
    }
    results = {name: fit_and_score(make, X_train, y_train, X_test, y_test, args.repeats)
               for name, make in models.items()}
    reference = results["scikit-learn MLPClassifier"][1]

    print(f"digits: {len(y_train)} train / {len(y_test)} test, 64 features, 10 classes, standardized; "
          f"hidden {tuple(args.hidden)} relu, softmax, Adam lr {args.learning_rate}, "
          f"batch {args.batch_size}, {args.epochs} epochs, alpha {args.alpha}, seed {args.seed}")
    print(f"xpnet {xpnet.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs; "
          f"fit time is the median of {args.repeats} fits")
    print()
    print("| model | epochs run | test accuracy | fit time (s) | time / scikit-learn |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (accuracy, seconds, epochs) in results.items():
        print(f"| {name} | {epochs} | {accuracy:.4f} | {seconds:.3f} | {seconds / reference:.2f} |")


if __name__ == "__main__":
    main()
