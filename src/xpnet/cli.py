"""The command line: ``xpnet train | sweep | evaluate | predict | info | gradcheck | bench``.

Every error a user can cause is one line on stderr, ``xpnet: error: ...``,
and exit status 2: no traceback, OS errors included. A mistyped command or
option adds the usage of the command it was typed to, after that line, and
names the nearest option ("did you mean --learning-rate?"); options are never
abbreviated (:mod:`._cli_parser`). Options come from the command line, then a
``--config`` file, then the defaults: the command line wins for every option,
and conflicting or ignored options are refused (:mod:`._cli_options`). Each
command checks what it can before it loads a model or trains: the folders it
will write to, the libraries it will need, the data against the options and
the model, a checkpoint against the run (:mod:`._cli_checks`). Messages of the
Python API are shown with the command line's option names.

``train`` prints a line per record (or a progress bar on a terminal), then says
what the figures are: a record's cost is that of the parameters before its
update; the final costs and accuracies, printed last, those after the last one.

``sweep`` takes train's options, but ``--learning-rate``, ``--l2``,
``--keep-prob`` and ``--seeds`` each take one value or more: it trains every
combination in one pass (:class:`xpnet.Sweep`), ranks them on validation data
(the data's test set, or ``--validation-split`` of the training data) and
prints the table, then the best network's final figures.

Started by an MPI launcher (``mpirun -n 2 xpnet train ...``), ``train`` is
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

from . import _backend, distributed
from ._cli_checks import (
    architecture,
    check_model_fits,
    check_output,
    check_predict_input,
    check_resume,
    check_train_outputs,
    checkpoint_plan,
    data_classes,
    npz_out,
    resumed_at,
)
from ._cli_options import parse
from ._cli_parser import UsageError, in_options
from ._cli_parser import parser as _parser  # noqa: F401 (xpnet.cli._parser(): the parser alone)
from ._threads import limit_threads
from .errors import ConfigError, DivergenceError, XpnetError

#: Per-data-set defaults: the course's settings where the course has them.
DEFAULTS = {
    "flower": dict(layers=[4], hidden=["tanh"], init="normal", iterations=10000,
                   learning_rate=1.2, print_every=1000),
    "catvnoncat": dict(layers=[20, 7, 5], hidden=["relu"], init="xavier", iterations=2500,
                       learning_rate=0.0075, print_every=100),
}
GENERIC = dict(layers=[16], hidden=["relu"], init="he", iterations=2000, learning_rate=0.1,
               print_every=100)

# -- train ----------------------------------------------------------------------------


def _load_data(args, dtype: str):
    """The data set ``--data`` names, X in ``dtype`` (the model's: no copy in another)."""
    from .data import load_dataset

    return load_dataset("flower" if args.data is None else args.data, seed=args.data_seed,
                        dtype=dtype)


def train(args: argparse.Namespace, group=None) -> None:
    rank0 = group is None or group.rank == 0
    if rank0:
        check_train_outputs(args)
    with limit_threads(args.threads, torch=args.backend == "torch"):
        from .models import Network

        # One GPU per process: the processes of a node share out its GPUs.
        target = _backend.resolve_target(
            args.backend, args.device,
            local_rank=0 if group is None else distributed.local_rank(group))
        data = _load_data(args, args.dtype)
        defaults = DEFAULTS.get(data.name, GENERIC)

        def pick(name):
            value = getattr(args, name)
            return defaults[name] if value is None else value

        layers, hidden, output = architecture(args, data, defaults)
        n_y = (data_classes(data) if output == "softmax" and data.Y_train.shape[0] == 1
               else data.Y_train.shape[0])
        net = Network([data.X_train.shape[0], *layers, n_y],
                      hidden=hidden[0] if len(hidden) == 1 else hidden, output=output,
                      init=pick("init"), seed=args.seed, dtype=args.dtype, precision=args.precision,
                      l2=args.l2, keep_prob=args.keep_prob)

        by_epochs = args.epochs is not None
        plan = checkpoint_plan(args, by_epochs, pick)
        resume = None
        if args.resume:
            if Path(args.checkpoint).exists():
                position = check_resume(args.checkpoint, net, args.optimizer, plan)
                resume = args.checkpoint
                if position is not None:
                    print(f"resuming from {args.checkpoint} {resumed_at(position, plan)}")
            else:
                print(f"no checkpoint at {args.checkpoint} yet: training from the start")

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

        schedule = dict(epochs=args.epochs, batch_size=args.batch_size) if by_epochs else dict(
            iterations=pick("iterations"), record_every=pick("print_every"))

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
        _final_report(args, history, seconds, by_epochs, plan, net.output.classifier)
        _print_scores(net, X_train, Y_train, X_test, Y_test)
        if not rank0:
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


def _final_report(args, history, seconds: float, by_epochs: bool, plan: dict,
                  classifier: bool) -> None:
    """Say what the figures printed are: the records' above, the final ones below."""
    print(f"trained in {seconds:.2f} s")
    figures = "cost and accuracy" if classifier else "cost"
    if by_epochs:
        val = "val_cost and val_accuracy" if classifier else "val_cost"
        print(f"records: an epoch's {figures} are the means over its mini-batches, each measured "
              "before that mini-batch's update" + (
                  f"; {val} are measured after the epoch" if args.validation_split else ""))
    else:
        print(f"records: iteration i gives the {figures} of the parameters after i updates, before "
              "update i + 1 (iteration 0: the initial parameters)")
    if args.keep_prob < 1.0:
        print(f"records measure the network thinned by dropout (--keep-prob {args.keep_prob}); "
              "the figures below, the whole network")
    if history.stopped_early:
        best = history.best
        where = (f"epoch {history.epochs[best]}" if by_epochs
                 else f"iteration {history.iterations[best]}")
        print(f"stopped early: val_cost had not improved for {args.early_stopping} records "
              f"(--early-stopping {args.early_stopping})")
        below = f"the parameters kept, those of the best record ({where})"
    elif by_epochs:
        below = f"the parameters after the last update (the end of epoch {plan['epochs']})"
    else:
        below = f"the parameters after all {plan['iterations']} updates"
    if args.validation_split:
        below += "; train is the whole training set, the examples held out for validation included"
    print(f"below: {below}")


def _print_scores(net, X_train, Y_train, X_test, Y_test) -> None:
    print(f"train cost:     {net.cost(X_train, Y_train):.6f}")
    print(f"test cost:      {net.cost(X_test, Y_test):.6f}")
    if net.output.classifier:
        print(f"train accuracy: {100 * net.score(X_train, Y_train):.2f} %")
        print(f"test accuracy:  {100 * net.score(X_test, Y_test):.2f} %")
    else:
        print(f"train R²: {net.score(X_train, Y_train):.4f}")
        print(f"test R²:  {net.score(X_test, Y_test):.4f}")


# -- sweep ----------------------------------------------------------------------------


def sweep(args: argparse.Namespace, group=None) -> None:
    """Train every combination of the settings given in one pass; print the table."""
    if group is not None:
        refused = ConfigError("xpnet sweep trains in one process, its networks as one stack: "
                              "start it without mpirun (data-parallel training is xpnet train's)")
        refused.raised_by_every_process = True  # each process ends alike: none is left waiting
        raise refused
    check_train_outputs(args)
    with limit_threads(args.threads, torch=args.backend == "torch"):
        from .models import Network
        from .sweeps import Sweep

        target = _backend.resolve_target(args.backend, args.device)
        data = _load_data(args, args.dtype)
        defaults = DEFAULTS.get(data.name, GENERIC)
        on_test_set = args.validation_split is None and data.X_test.shape[1] > 0
        if args.validation_split is None and not on_test_set:
            args.validation_split = 0.2  # no test set to rank on: hold out training data
        layers, hidden, output = architecture(args, data, defaults)
        n_y = (data_classes(data) if output == "softmax" and data.Y_train.shape[0] == 1
               else data.Y_train.shape[0])
        rates = args.learning_rate or [defaults["learning_rate"]]
        net = Network([data.X_train.shape[0], *layers, n_y],
                      hidden=hidden[0] if len(hidden) == 1 else hidden, output=output,
                      init=args.init or defaults["init"], seed=args.seed[0], dtype=args.dtype,
                      precision=args.precision, l2=args.l2[0], keep_prob=args.keep_prob[0])
        grid = Sweep.grid(net, learning_rate=rates, l2=args.l2, keep_prob=args.keep_prob,
                          seed=args.seed)

        X_train, Y_train, X_test, Y_test = (
            target.put(a) for a in (data.X_train, data.Y_train, data.X_test, data.Y_test))
        print(f"{data.name}: X_train {tuple(X_train.shape)}, X_test {tuple(X_test.shape)}; "
              f"{len(grid)} networks {net!r} on {args.backend} ({target.label})")
        lists = [f"--learning-rate {_values(rates)}", f"--l2 {_values(args.l2)}",
                 f"--keep-prob {_values(args.keep_prob)}", f"--seeds {_values(args.seed)}"]
        print(f"every combination of {' × '.join(lists)}")
        if on_test_set:
            print(f"validation: the test set ({X_test.shape[1]} examples) ranks the networks")
        else:
            print(f"validation: {args.validation_split:g} of the training examples held out "
                  f"(--validation-split {args.validation_split:g}) rank the networks")

        by_epochs = args.epochs is not None
        schedule = dict(epochs=args.epochs, batch_size=args.batch_size) if by_epochs else dict(
            iterations=args.iterations or defaults["iterations"],
            record_every=args.print_every or defaults["print_every"])
        resume = None
        if args.resume:
            if Path(args.checkpoint).exists():
                resume = args.checkpoint
                print(f"resuming from {args.checkpoint}")
            else:
                print(f"no checkpoint at {args.checkpoint} yet: training from the start")
        progress = sys.stderr.isatty() if args.progress is None else args.progress
        start = time.perf_counter()
        grid.fit(X_train, Y_train, **schedule, optimizer=args.optimizer,
                 checkpoint=args.checkpoint, resume=resume,
                 validation_data=(X_test, Y_test) if on_test_set else None,
                 validation_split=None if on_test_set else args.validation_split,
                 early_stopping=args.early_stopping, verbose=progress,
                 on_record=None if progress else _sweep_report(by_epochs))
        seconds = time.perf_counter() - start
        print(f"trained {len(grid)} networks in {seconds:.2f} s")
        _sweep_notes(args, by_epochs, net.output.classifier, on_test_set)
        results = grid.results()
        print(results)
        for k, why in sorted(grid.divergences.items()):
            print(f"network {k} diverged: {why}")
        top = results.rows[0]
        if args.json:
            with open(args.json, "w") as f:
                shared = {key: value for key, value in net.get_config().items()
                          if key not in ("seed", "l2", "keep_prob")}  # each network's own
                json.dump({"data": data.name, "network": shared,
                           "ranked_by": "test set" if on_test_set else "validation split",
                           "rows": results.rows}, f, indent=1)
                f.write("\n")
            print(f"table written to {args.json}")
        if args.plot:
            grid.plot(args.plot, title=f"{data.name}: {len(grid)} networks "
                                       f"{list(net.layer_dims)}, {args.optimizer}")
            print(f"learning curves drawn to {args.plot}")
        if top["outcome"] == "diverged":
            raise ConfigError(f"every network of the sweep diverged: try smaller values of "
                              f"--learning-rate than {_values(rates)} (or standardize X)")
        best = grid.network(top["network"])
        settings = ", ".join(f"{name} {_values([top[key]])}" for name, key in (
            ("--learning-rate", "learning_rate"), ("--l2", "l2"), ("--keep-prob", "keep_prob"),
            ("--seed", "seed")))
        print(f"best: network {top['network']} ({settings}), {top['outcome']}; "
              + ("its final figures (the test set chose it: its test figures are optimistic)"
                 if on_test_set else "its final figures"))
        _print_scores(best, X_train, Y_train, X_test, Y_test)
        if args.save:
            best.save(args.save)
            print(f"best network saved to {args.save}")


def _values(values) -> str:
    return " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def _sweep_report(by_epochs: bool):
    """``on_record`` for a sweep: one line per record, the range of the networks' figures."""

    printed = [0]  # records so far, over all the networks

    def report(histories) -> None:
        records = sum(len(h) for h in histories)
        if records == printed[0]:
            return  # every network still training left the stack at this record
        printed[0] = records
        latest = max(len(h) for h in histories)
        current = [h for h in histories if len(h) == latest]
        h = current[0]
        where = (f"epoch {h.epochs[-1]:>5}" if by_epochs else f"iteration {h.iterations[-1]:>6}")
        costs = [c.costs[-1] for c in current]
        line = f"{where}: {len(current):>3} networks, cost {min(costs):.6f} to {max(costs):.6f}"
        if "val_accuracy" in h.metrics:
            line += f", best val_accuracy {max(c['val_accuracy'][-1] for c in current):.4f}"
        elif "val_cost" in h.metrics:
            line += f", best val_cost {min(c['val_cost'][-1] for c in current):.6f}"
        print(line, flush=True)

    return report


def _sweep_notes(args, by_epochs: bool, classifier: bool, on_test_set: bool) -> None:
    """What the figures of the table are."""
    figures = "cost and accuracy" if classifier else "cost"
    if by_epochs:
        print(f"records: an epoch's {figures} are the means over its mini-batches, each measured "
              "before that mini-batch's update; val_ figures are measured after the epoch")
    else:
        print(f"records: iteration i gives the {figures} of the parameters after i updates, before "
              "update i + 1 (iteration 0: the initial parameters)")
    if min(args.keep_prob) < 1.0:
        print("records measure the networks thinned by dropout (--keep-prob); val_ figures and "
              "the final figures, the whole networks")
    where = "test set" if on_test_set else "held-out examples"
    rank = ("the highest val_accuracy, then the lowest val_cost" if classifier
            else "the lowest val_cost")
    kept = (" (with --early-stopping, its best record, whose parameters it keeps)"
            if args.early_stopping else "")
    print(f"table: each network's last record{kept}, best first by {rank} on the {where}; "
          "diverged networks last")


# -- evaluate, predict, info, gradcheck ---------------------------------------------


def evaluate(args: argparse.Namespace) -> None:
    with limit_threads(args.threads, torch=args.backend == "torch"):
        from .io import load

        target = _backend.resolve_target(args.backend, args.device)
        net = load(args.model, backend=args.backend, device=target.device)
        data = _load_data(args, net.dtype)
        check_model_fits(args.model, net, data, args)
        X_train, Y_train, X_test, Y_test = (
            target.put(a) for a in (data.X_train, data.Y_train, data.X_test, data.Y_test))
        print(f"{args.model}: {net!r}; data {data.name}")
        _print_scores(net, X_train, Y_train, X_test, Y_test)


def predict(args: argparse.Namespace) -> None:
    out = npz_out(args.out) if args.out else None
    if out:
        check_output(out, "--out")
    check_predict_input(args.input)
    with limit_threads(args.threads, torch=args.backend == "torch"):
        from .data import read_npz_array
        from .io import load

        target = _backend.resolve_target(args.backend, args.device)
        net = load(args.model, backend=args.backend, device=target.device)
        X = read_npz_array(args.input, "X", dtype=net.dtype, n_x=net.layer_dims[0])
        X = target.put(X)
        labels = _backend.to_host(net.predict(X))
        proba = _backend.to_host(net.predict_proba(X))
        if out:
            np.savez(out, predictions=labels, probabilities=proba)
            print(f"wrote predictions {labels.shape} and probabilities {proba.shape} to {out}")
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


# -- main: one line per error -------------------------------------------------------------


def _os_error(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename else reason


def main(argv: list[str] | None = None) -> int:
    args = None
    try:
        args = parse(argv)
        group = distributed.world()  # started by mpirun as several processes, or None
        if group is not None and group.rank != 0:
            sys.stdout = open(os.devnull, "w")  # one process speaks; errors still reach stderr
        with distributed.abort_on_error(group):
            return _run(args, group)
    except UsageError as exc:
        print(f"xpnet: error: {exc}", file=sys.stderr)
        if exc.usage:
            print(exc.usage, end="", file=sys.stderr)
        return 2
    except (ConfigError, DivergenceError) as exc:
        print(f"xpnet: error: {in_options(str(exc), getattr(args, 'parser', None))}",
              file=sys.stderr)
        return 2
    except XpnetError as exc:
        print(f"xpnet: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (| head): nothing more to say, and nowhere to say it; the
        # output still buffered goes nowhere instead of failing again at exit.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 2
    except OSError as exc:
        print(f"xpnet: error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("xpnet: error: out of memory: use a smaller data set, model or --batch-size, or "
              "--dtype float32", file=sys.stderr)
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
    elif args.command == "sweep":
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            sweep(args, group)
    elif args.command == "evaluate":
        evaluate(args)
    elif args.command == "predict":
        predict(args)
    elif args.command == "info":
        info(args)
    elif args.command == "gradcheck":
        return 0 if gradcheck(args) else 1
    elif args.command == "bench":
        for option in ("json", "markdown"):  # checked before the runs, which take minutes
            if getattr(args, option):
                check_output(getattr(args, option), f"--{option}")
        from .bench import run_from_args

        return run_from_args(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
