"""The command line: ``xpnet train | evaluate | predict | info | gradcheck``.

Every error a user can cause is printed as one line, ``xpnet: error: ...``,
with exit status 2; no traceback.

Started by an MPI launcher (``mpirun -n 4 xpnet train ...``), ``train`` is
data-parallel (see :mod:`xpnet.distributed`): each process trains on its share
of the examples, rank 0 prints and writes files, and an error on any process
stops them all (MPI_Abort) rather than leaving the rest waiting.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import _backend, _validation, activations, distributed, initializers, losses, optimizers
from ._threads import limit_threads
from .errors import ConfigError, DataFileError, XpnetError

#: Per-data-set defaults: the course's settings where the course has them.
DEFAULTS = {
    "flower": dict(layers=[4], hidden=["tanh"], init="normal", iterations=10000,
                   learning_rate=1.2, print_every=1000),
    "catvnoncat": dict(layers=[20, 7, 5], hidden=["relu"], init="xavier", iterations=2500,
                       learning_rate=0.0075, print_every=100),
}
GENERIC = dict(layers=[16], hidden=["relu"], init="he", iterations=2000, learning_rate=0.1,
               print_every=100)

EXAMPLES = """examples:
  xpnet train                                    the planar flower set, no files needed
  xpnet train --data ../shared/data/catvnoncat   the course's four-layer cat network
  xpnet train --data DIR --layers 7 --init normal                 the two-layer cat network
  xpnet train --data spiral --epochs 200 --batch-size 32 --optimizer adam --learning-rate 0.01
  xpnet train --data digits.npz --save model.safetensors --plot curves.png
  xpnet train --config run.json --backend torch --dtype float64
  xpnet evaluate model.safetensors --data spiral
  xpnet predict model.safetensors new.npz --out predictions.npz
  xpnet info model.safetensors
  xpnet gradcheck --hidden relu tanh --output softmax
"""


def _common_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", metavar="SPEC", default="flower",
                        help="flower (default), spiral, moons, blobs, a .npz file (X, Y as (n_x, m), "
                             "(1, m)), a folder with the cat h5 files, or a folder of class subfolders "
                             "of images")
    parser.add_argument("--data-seed", type=int, default=1,
                        help="seed of generated sets and of train/test splits (default: 1)")
    _backend_options(parser)


def _backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", default="numpy", choices=_backend.BACKENDS,
                        help="array library to run on (default: numpy)")
    parser.add_argument("--device", default="auto", choices=_backend.DEVICES,
                        help="where the backend runs: auto (its GPU where it has one; the "
                             "default), cpu or gpu")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="threads of NumPy's BLAS and of torch for this command (default: "
                             "the libraries' own); on a busy or shared machine 1 can be several "
                             "times faster than 2")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xpnet",
        description="Train networks with hand-derived backpropagation on any array-API backend.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a network, report cost and accuracy",
                                epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common_data(train)
    train.add_argument("--config", metavar="FILE",
                       help="JSON (or TOML) file of option defaults, e.g. {\"layers\": [20, 7, 5], "
                            "\"optimizer\": \"adam\"}; the command line wins over it")
    model = train.add_argument_group("model")
    model.add_argument("--layers", type=int, nargs="+", metavar="N",
                       help="hidden layer sizes (flower: 4; cat: 20 7 5; others: 16)")
    model.add_argument("--hidden", nargs="+", metavar="NAME", choices=activations.NAMES,
                       help=f"hidden activation, one or one per layer: {', '.join(activations.NAMES)}")
    model.add_argument("--output", default="auto", choices=("auto", *losses.OUTPUTS),
                       help="output unit: auto (sigmoid for 2 classes, softmax for more), "
                            "sigmoid, softmax, linear")
    model.add_argument("--init", choices=initializers.NAMES,
                       help="weight initializer (flower: normal; cat: xavier; others: he)")
    model.add_argument("--l2", type=float, default=0.0, help="L2 strength λ (default: 0)")
    model.add_argument("--keep-prob", type=float, default=1.0,
                       help="dropout keep probability on hidden layers (default: 1, no dropout)")
    model.add_argument("--seed", type=int, default=1, help="seed of the weights and shuffles (default: 1)")
    model.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    model.add_argument("--precision", default="full", choices=_backend.PRECISIONS,
                       help="tf32: float32 products on TF32 tensor cores (NVIDIA GPUs from Ampere "
                            "on; the same as full on a CPU)")
    fit = train.add_argument_group("training")
    fit.add_argument("--iterations", type=int,
                     help="full-batch updates (flower: 10000; cat: 2500; others: 2000)")
    fit.add_argument("--epochs", type=int, help="passes over the data, instead of --iterations")
    fit.add_argument("--batch-size", type=int, help="mini-batch size, with --epochs")
    fit.add_argument("--optimizer", default="sgd", choices=optimizers.NAMES, help="default: sgd")
    fit.add_argument("--learning-rate", type=float, help="α (flower: 1.2; cat: 0.0075; others: 0.1)")
    fit.add_argument("--validation-split", type=float, help="fraction of the training data held out")
    fit.add_argument("--early-stopping", type=int, metavar="PATIENCE",
                     help="stop after this many records without a better validation cost")
    fit.add_argument("--print-every", type=int, metavar="N",
                     help="record and print the cost every N iterations (iteration mode)")
    fit.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="a progress bar with the running cost instead of one line per record "
                          "(default: on when stderr is a terminal)")
    out = train.add_argument_group("output")
    out.add_argument("--save", metavar="PATH", help="save the trained model (safetensors)")
    out.add_argument("--plot", metavar="PNG", help="draw the learning curves to this file")
    out.add_argument("--plot-boundary", metavar="PNG",
                     help="draw the decision regions over the training data (2-D data only)")
    out.add_argument("--checkpoint", metavar="PATH", help="write a checkpoint while training")
    out.add_argument("--resume", action="store_true", help="go on from --checkpoint if it exists")

    evaluate = commands.add_parser("evaluate", help="cost and accuracy of a saved model on a data set")
    evaluate.add_argument("model", help="a model file written by --save")
    _common_data(evaluate)

    predict = commands.add_parser("predict", help="predictions of a saved model for new examples")
    predict.add_argument("model", help="a model file written by --save")
    predict.add_argument("input", help=".npz file with X as (n_x, m), one example per column")
    predict.add_argument("--out", metavar="PATH",
                         help=".npz to write predictions and probabilities to (default: print them)")
    _backend_options(predict)

    info = commands.add_parser("info", help="architecture and metadata of a saved model")
    info.add_argument("model", help="a model file written by --save")

    gradcheck = commands.add_parser("gradcheck",
                                    help="check the backward pass against central differences")
    gradcheck.add_argument("--layers", type=int, nargs="+", default=[5, 4], metavar="N",
                           help="hidden sizes of the small network checked (default: 5 4)")
    gradcheck.add_argument("--hidden", nargs="+", metavar="NAME", choices=activations.NAMES,
                           default=list(activations.NAMES), help="activations to check (default: all)")
    gradcheck.add_argument("--output", nargs="+", choices=tuple(losses.OUTPUTS),
                           default=list(losses.OUTPUTS), help="output units to check (default: all)")
    gradcheck.add_argument("--l2", type=float, default=0.0)
    gradcheck.add_argument("--seed", type=int, default=0)

    from .bench import options as bench_options  # the options alone: runners load when bench runs

    bench_options.add_arguments(commands.add_parser(
        "bench", help=bench_options.HELP, description=bench_options.DESCRIPTION))
    return parser


def _read_config(path: str) -> dict:
    text_path = Path(path)
    try:
        text = text_path.read_text()
    except OSError as exc:
        raise DataFileError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    try:
        if text_path.suffix == ".toml":
            import tomllib

            config = tomllib.loads(text)
        else:
            config = json.loads(text)
    except ImportError as exc:
        raise ConfigError("TOML config files need Python 3.11 or later; use JSON") from exc
    except ValueError as exc:
        raise ConfigError(f"config file {path} is not valid {text_path.suffix[1:] or 'JSON'}: {exc}") from exc
    if not isinstance(config, dict):
        raise ConfigError(f"config file {path} must hold an object of option names and values")
    return {key.replace("-", "_"): value for key, value in config.items()}


def _parse(argv) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "config", None):
        config = _read_config(args.config)
        train_parser = parser._subparsers._group_actions[0].choices["train"]
        known = {action.dest for action in train_parser._actions}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ConfigError(f"config file {args.config} has unknown options: {', '.join(unknown)}")
        train_parser.set_defaults(**config)
        args = parser.parse_args(argv)
    return args


def _load_data(args, dtype: str):
    """The data set ``--data`` names, X in ``dtype`` (the model's: no copy in another)."""
    from .data import load_dataset

    return load_dataset(args.data, seed=args.data_seed, dtype=dtype)


def train(args: argparse.Namespace, group=None) -> None:
    with limit_threads(args.threads, torch=args.backend == "torch"):
        from .models import Network

        data = _load_data(args, args.dtype)
        defaults = DEFAULTS.get(data.name, GENERIC)

        def pick(name):
            value = getattr(args, name)
            return defaults[name] if value is None else value

        output = args.output
        if output == "auto":
            output = "sigmoid" if _validation.n_classes(data.Y_train) <= 2 else "softmax"
        n_y = _validation.n_classes(data.Y_train) if output == "softmax" else data.Y_train.shape[0]
        hidden = pick("hidden")
        net = Network([data.X_train.shape[0], *pick("layers"), n_y],
                      hidden=hidden[0] if len(hidden) == 1 else hidden, output=output,
                      init=pick("init"), seed=args.seed, dtype=args.dtype, precision=args.precision,
                      l2=args.l2, keep_prob=args.keep_prob)
        # One GPU per process: the processes of a node share out its GPUs.
        target = _backend.resolve_target(
            args.backend, args.device,
            local_rank=0 if group is None else distributed.local_rank(group))
        X_train, Y_train, X_test, Y_test = (
            target.put(a) for a in (data.X_train, data.Y_train, data.X_test, data.Y_test))
        print(f"{data.name}: X_train {tuple(X_train.shape)}, X_test {tuple(X_test.shape)}; "
              f"{net!r} on {args.backend} ({target.label})")
        X_fit, Y_fit = X_train, Y_train
        if group is not None:
            # Every process has loaded everything; each trains on its share of the columns.
            X_fit, Y_fit = distributed.shard(X_train, Y_train, group)
            print(f"data-parallel over {group.size} processes (this output is rank 0's); gradients "
                  f"all-reduced by {group.transport(_backend.namespace(X_fit), _backend.device(X_fit))}")

        by_epochs = args.epochs is not None
        schedule = dict(epochs=args.epochs, batch_size=args.batch_size) if by_epochs else dict(
            iterations=pick("iterations"), record_every=pick("print_every"))
        resume = None
        if args.resume:
            if not args.checkpoint:
                raise ConfigError("--resume goes on from --checkpoint PATH: give both")
            resume = args.checkpoint if Path(args.checkpoint).exists() else None

        def report(history):
            where = (f"epoch {history.epochs[-1]:>5}" if by_epochs
                     else f"iteration {history.iterations[-1]:>6}")
            extra = "".join(f"  {name} {values[-1]:.4f}" for name, values in history.metrics.items())
            print(f"{where}: cost {history.costs[-1]:.6f}{extra}", flush=True)

        progress = sys.stderr.isatty() if args.progress is None else args.progress
        start = time.perf_counter()
        history = net.fit(X_fit, Y_fit, **schedule, optimizer=args.optimizer,
                          learning_rate=pick("learning_rate"), validation_split=args.validation_split,
                          early_stopping=args.early_stopping, verbose=progress,
                          on_record=None if progress else report,
                          checkpoint=args.checkpoint, resume=resume, comm=group)
        seconds = time.perf_counter() - start
        if history.stopped_early:
            print(f"stopped early; kept the parameters of record {history.best}")
        print(f"trained in {seconds:.2f} s")
        _print_scores(net, X_train, Y_train, X_test, Y_test)
        if group is not None and group.rank != 0:
            return  # every process holds the same parameters: rank 0 writes the files
        if args.save:
            net.save(args.save)
            print(f"saved to {args.save}")
        if args.plot:
            from .plotting import plot_history

            plot_history(history, args.plot, title=f"{data.name}: {net!r}")
            print(f"learning curves drawn to {args.plot}")
        if args.plot_boundary:
            from .plotting import plot_decision_boundary

            plot_decision_boundary(net, X_train, Y_train, args.plot_boundary)
            print(f"decision regions drawn to {args.plot_boundary}")


def _print_scores(net, X_train, Y_train, X_test, Y_test) -> None:
    if net.output.classifier:
        print(f"train accuracy: {100 * net.score(X_train, Y_train):.2f} %")
        print(f"test accuracy:  {100 * net.score(X_test, Y_test):.2f} %")
    else:
        print(f"train R²: {net.score(X_train, Y_train):.4f}")
        print(f"test R²:  {net.score(X_test, Y_test):.4f}")


def evaluate(args: argparse.Namespace) -> None:
    with limit_threads(args.threads, torch=args.backend == "torch"):
        from .io import load

        target = _backend.resolve_target(args.backend, args.device)
        net = load(args.model, backend=args.backend, device=target.device)
        data = _load_data(args, net.dtype)
        X_train, Y_train, X_test, Y_test = (
            target.put(a) for a in (data.X_train, data.Y_train, data.X_test, data.Y_test))
        print(f"{args.model}: {net!r}; data {data.name}")
        print(f"train cost: {net.cost(X_train, Y_train):.6f}")
        print(f"test cost:  {net.cost(X_test, Y_test):.6f}")
        _print_scores(net, X_train, Y_train, X_test, Y_test)


def predict(args: argparse.Namespace) -> None:
    with limit_threads(args.threads, torch=args.backend == "torch"):
        from .io import load

        target = _backend.resolve_target(args.backend, args.device)
        net = load(args.model, backend=args.backend, device=target.device)
        try:
            with np.load(args.input, allow_pickle=False) as f:
                X = f["X"]
        except KeyError as exc:
            raise DataFileError(f"{args.input} has no array named X (n_x, m)") from exc
        except (OSError, ValueError) as exc:
            raise DataFileError(f"cannot read {args.input} as .npz: {exc}") from exc
        X = target.put(X)
        labels = _backend.to_host(net.predict(X))
        proba = _backend.to_host(net.predict_proba(X))
        if args.out:
            np.savez(args.out, predictions=labels, probabilities=proba)
            print(f"wrote predictions {labels.shape} and probabilities {proba.shape} to {args.out}")
        else:
            np.savetxt(sys.stdout, labels.T, fmt="%.6g")


def info(args: argparse.Namespace) -> None:
    from .io import load, read_tensors

    net = load(args.model)
    _, metadata = read_tensors(args.model)
    n_params = sum(int(np.prod(W.shape)) + int(np.prod(b.shape)) for W, b in net.params)
    print(f"{args.model}")
    print(f"  model:      {net!r}")
    print(f"  parameters: {n_params}")
    for key in ("format", "format_version", "xpnet_version"):
        print(f"  {key + ':':<11} {metadata.get(key)}")
    print(f"  config:     {json.dumps(net.get_config())}")


def gradcheck(args: argparse.Namespace) -> bool:
    from .gradcheck import gradient_check
    from .models import Network

    rng = np.random.RandomState(args.seed)
    n_x, m = 4, 6
    X = rng.randn(n_x, m)
    all_pass = True
    print(f"central differences vs backprop, float64, layers [{n_x}, "
          f"{', '.join(map(str, args.layers))}, K], m = {m}, l2 = {args.l2}")
    for output in args.output:
        K = 1 if output == "sigmoid" else 3
        if output == "sigmoid":
            Y = rng.randint(0, 2, size=(1, m))
        elif output == "softmax":
            Y = rng.randint(0, K, size=(1, m))
        else:
            Y = rng.randn(K, m)
        for hidden in args.hidden:
            net = Network([n_x, *args.layers, K], hidden=hidden, output=output, init="normal",
                          init_scale=0.5, seed=args.seed, dtype="float64", l2=args.l2)
            # Non-zero biases: with b = 0 a column of dead ReLUs puts Z exactly on the kink.
            net.params = [(W, rng.randn(*b.shape) * 0.3) for W, b in net.params]
            error = gradient_check(net, X, Y)
            ok = error <= 1e-7
            all_pass &= ok
            print(f"  {hidden:>10} + {output:<8} relative error {error:.2e}  {'ok' if ok else 'FAIL'}")
    return all_pass


def main(argv: list[str] | None = None) -> int:
    try:
        group = distributed.world()  # started by mpirun as several processes, or None
        if group is not None and group.rank != 0:
            sys.stdout = open(os.devnull, "w")  # one process speaks; errors still reach stderr
        with distributed.abort_on_error(group):
            return _run(_parse(argv), group)
    except XpnetError as exc:
        print(f"xpnet: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xpnet: interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, group) -> int:
    if getattr(args, "backend", None) == "jax":
        # The command line owns its process: --dtype float64 works on JAX as elsewhere.
        _backend.enable_jax_x64()
    if args.command == "train":
        # Overflow on the way to a NaN is reported once, as a divergence, not as
        # NumPy's warnings from every operation it passes through.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            train(args, group)
    elif args.command == "evaluate":
        evaluate(args)
    elif args.command == "predict":
        predict(args)
    elif args.command == "info":
        info(args)
    elif args.command == "gradcheck":
        return 0 if gradcheck(args) else 1
    elif args.command == "bench":
        from .bench import run_from_args

        return run_from_args(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
