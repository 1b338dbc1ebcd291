"""The command line: ``xpnet train``.

    xpnet train                          # the embedded flower set, [2, 4, 1] tanh
    xpnet train --data DIR               # the course's cat h5 files in DIR, [12288, 20, 7, 5, 1] relu
    xpnet train --backend torch --dtype float64 --iterations 500
"""

from __future__ import annotations

import argparse
import sys
import time

from . import _backend, activations, initializers, losses
from .data import flower_dataset, load_catvnoncat
from .errors import XpnetError
from .models import Network

#: Per-data-set defaults: the course's settings for each.
DEFAULTS = {
    "flower": dict(layers=[4], hidden=["tanh"], init="normal", iterations=10000,
                   learning_rate=1.2, print_every=1000),
    "catvnoncat": dict(layers=[20, 7, 5], hidden=["relu"], init="xavier", iterations=2500,
                       learning_rate=0.0075, print_every=100),
}

EXAMPLES = """examples:
  xpnet train                                  the flower set, no files needed
  xpnet train --data ../shared/data/catvnoncat the course's four-layer cat network
  xpnet train --data DIR --layers 7 --init normal --iterations 2500
  xpnet train --backend torch --dtype float64
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xpnet", description="Train networks with hand-derived backpropagation on any array-API backend.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train", help="train a network and report its cost and accuracy",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("--data", metavar="DIR",
                       help="folder with train_catvnoncat.h5 and test_catvnoncat.h5 "
                            "(default: the embedded planar flower set)")
    train.add_argument("--layers", type=int, nargs="+", metavar="N",
                       help="hidden layer sizes, e.g. --layers 20 7 5 (flower: 4; cat: 20 7 5)")
    train.add_argument("--hidden", nargs="+", metavar="NAME", choices=activations.NAMES,
                       help=f"hidden activation, one for all or one per layer: {', '.join(activations.NAMES)}")
    train.add_argument("--output", default="sigmoid", choices=tuple(losses.OUTPUTS),
                       help="output unit and loss (default: sigmoid)")
    train.add_argument("--init", choices=initializers.NAMES,
                       help="weight initializer (flower: normal; cat: xavier)")
    train.add_argument("--iterations", type=int, help="gradient-descent steps (flower: 10000; cat: 2500)")
    train.add_argument("--learning-rate", type=float, help="step size α (flower: 1.2; cat: 0.0075)")
    train.add_argument("--seed", type=int, default=1, help="seed of the initial weights (default: 1)")
    train.add_argument("--dtype", default="float32", choices=("float32", "float64"),
                       help="default: float32")
    train.add_argument("--backend", default="numpy", choices=_backend.BACKENDS,
                       help="array library to train on (default: numpy)")
    train.add_argument("--print-every", type=int, metavar="N",
                       help="print the cost every N iterations (flower: 1000; cat: 100)")
    return parser


def train(args: argparse.Namespace) -> None:
    data = flower_dataset() if args.data is None else load_catvnoncat(args.data)
    defaults = DEFAULTS[data.name]
    pick = lambda name: defaults[name] if getattr(args, name) is None else getattr(args, name)  # noqa: E731

    xp = _backend.namespace_by_name(args.backend)
    X_train, Y_train, X_test, Y_test = (
        _backend.from_host(a, xp) for a in (data.X_train, data.Y_train, data.X_test, data.Y_test)
    )
    layer_dims = [data.X_train.shape[0], *pick("layers"), 1]
    hidden = pick("hidden")
    net = Network(layer_dims, hidden=hidden[0] if len(hidden) == 1 else hidden,
                  output=args.output, init=pick("init"), seed=args.seed, dtype=args.dtype)
    print(f"{data.name}: X_train {tuple(X_train.shape)}, X_test {tuple(X_test.shape)}; "
          f"{net!r} on {args.backend} ({_backend.device(X_train)})")

    start = time.perf_counter()
    net.fit(X_train, Y_train, iterations=pick("iterations"),
                      learning_rate=pick("learning_rate"), record_every=pick("print_every"),
                      on_record=lambda h: print(f"iteration {h.iterations[-1]:>6}: cost {h.costs[-1]:.6f}",
                                                flush=True))
    seconds = time.perf_counter() - start
    print(f"trained in {seconds:.2f} s")
    print(f"train accuracy: {100 * net.score(X_train, Y_train):.2f} %")
    print(f"test accuracy:  {100 * net.score(X_test, Y_test):.2f} %")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            train(args)
    except XpnetError as exc:
        print(f"xpnet: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
