"""The parser of ``xpnet``'s commands, and the words of its errors.

Options are never abbreviated (``--learning-rat`` is no ``--learning-rate``).
Every error argparse finds is a :class:`UsageError`: one line that names the
command and what was wrong, with the nearest option or command ("did you mean
--learning-rate?"), and, for a mistyped or missing argument, the usage of the
command it was given to. Each value is checked where it is parsed (a seed is an
integer from 0 to 2**32 - 1, a learning rate a finite number > 0), on the
command line and in a config file alike (:mod:`._cli_options`).
:func:`in_options` rewrites the Python API's keyword names in a message as the
command line's options (``validation_split`` → ``--validation-split``).
"""

from __future__ import annotations

import argparse
import difflib
import math
import os
import re

from . import _backend, activations, initializers, losses, optimizers
from ._version import __version__
from .errors import ConfigError

#: Seeds: NumPy's RandomState takes [0, 2**32); a generated set's test draw is seed + 1000.
MAX_SEED = 2**32 - 1
MAX_DATA_SEED = MAX_SEED - 1000

EXAMPLES = """examples:
  xpnet train                                    the planar flower set, no files needed
  xpnet train --data ../shared/data/catvnoncat   the course's four-layer cat network
  xpnet train --data DIR --layers 7 --init normal                 the two-layer cat network
  xpnet train --data spiral --epochs 200 --batch-size 32 --optimizer adam --learning-rate 0.01
  xpnet train --data digits.npz --save model.safetensors --plot curves.png
  xpnet train --config run.json --backend torch --dtype float64
  xpnet sweep --data spiral --learning-rate 0.01 0.1 --seeds 0 1 2 --epochs 50 --batch-size 32
  xpnet evaluate model.safetensors --data spiral
  xpnet predict model.safetensors new.npz --out predictions.npz
  xpnet info model.safetensors
  xpnet gradcheck --hidden relu tanh --output softmax
"""

SWEEP_DESCRIPTION = """\
Train one network for every combination of the values of --learning-rate, --l2,
--keep-prob and --seeds, all of one shape, in one pass as a stack (xpnet.Sweep):
the same data, batches and shuffles, each network with its own settings. Then
print a table of them, best first by validation accuracy (validation cost for
regression), and the final figures of the best.

The networks are ranked on the data's test set unless --validation-split holds
out part of the training data instead (as it does, 0.2, for data without a test
set). Ranked on the test set, the best network's test figures are optimistic:
hold out a --validation-split to keep the test set for the end.
"""

SWEEP_EXAMPLES = """examples:
  xpnet sweep --learning-rate 0.1 0.5 1.2 --seeds 1 2 3 --iterations 2000   the flower set
  xpnet sweep --data ../shared/data/catvnoncat --layers 7 --learning-rate 0.001 0.01 0.1 \\
              --seeds 0 1 2 --l2 0 0.1 --iterations 300
  xpnet sweep --data spiral --epochs 50 --batch-size 32 --optimizer adam \\
              --learning-rate 0.003 0.01 0.03 --keep-prob 0.8 1 --validation-split 0.2 \\
              --early-stopping 5 --save best.safetensors --plot curves.png --json table.json
"""


class UsageError(ConfigError):
    """A command line argparse cannot take: printed as one line, then (for a mistyped or
    missing argument) the usage of the command it was given to."""

    def __init__(self, message: str, usage: str | None = None):
        super().__init__(message)
        self.usage = usage


def closest(word: str, candidates) -> str | None:
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: str, candidates) -> str:
    close = closest(word, candidates)
    return f": did you mean {close}?" if close else ""


class _Parser(argparse.ArgumentParser):
    """argparse as xpnet's commands use it: options are never abbreviated (``--learning-rat``
    is no ``--learning-rate``), and every error is a :class:`UsageError` that names the
    command, says what was wrong, and suggests the nearest option or command."""

    def __init__(self, *args, **kwargs):
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        # A command's parser refuses what it does not know itself, so that the error
        # names it and shows its usage (argparse leaves that to the top-level parser).
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self._unrecognized(extras)
        return namespace, extras

    def error(self, message: str):
        match = re.match(r"argument (\S+?): (.*)$", message, re.S)
        if match is None:
            if message.startswith("the following arguments are required: "):
                needed = message.split(": ", 1)[1]
                raise UsageError(f"{self.prog} needs {needed}", self.format_usage())
            raise UsageError(message, self.format_usage())
        name, problem = match.groups()
        name = name.split("/")[0]
        if problem.startswith("expected one argument"):
            raise UsageError(f"{name} needs a value", self.format_usage())
        if problem.startswith("expected at least one argument"):
            raise UsageError(f"{name} needs at least one value", self.format_usage())
        if problem.startswith(("must ", "is not ", "needs ")):
            raise UsageError(f"{name} {problem}")
        raise UsageError(f"{name}: {problem}")

    def _check_value(self, action, value):
        if action.choices is None or value in action.choices:
            return
        if isinstance(action, argparse._SubParsersAction):
            raise UsageError(f"{self.prog} has no command {value!r}"
                             f"{did_you_mean(value, action.choices)} (commands: "
                             f"{', '.join(action.choices)})", self.format_usage())
        name = action.option_strings[0] if action.option_strings else action.dest
        raise UsageError(f"{name} {value} is not one of {', '.join(map(str, action.choices))}"
                         f"{did_you_mean(value, action.choices)}")

    def _unrecognized(self, extras: list[str]):
        usage = self.format_usage()
        options = [s for a in self._actions for s in a.option_strings if s.startswith("--")]
        for extra in extras:
            if extra.startswith("-") and not _is_number(extra):
                word = extra.split("=", 1)[0]
                elsewhere = getattr(self, "elsewhere", {}).get(word)
                if elsewhere:
                    raise UsageError(f"{self.prog} has no option {word}: {elsewhere}", usage)
                raise UsageError(f"{self.prog} has no option {word}{did_you_mean(word, options)}",
                                 usage)
        word = extras[0]
        hint = ""
        if self.prog.endswith((" train", " sweep")) and (word in ("flower", *_generated_names())
                                             or word.endswith(".npz") or os.path.isdir(word)):
            hint = f": did you mean --data {word}?"
        raise UsageError(f"{self.prog} takes no argument {word!r}{hint}", usage)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _generated_names() -> tuple[str, ...]:
    from .data import GENERATED

    return tuple(GENERATED)


# -- the values options take: each checked where it is parsed -------------------------


def _integer(low: int, high: int | None = None, note: str = ""):
    """An argparse type: a whole number in [low, high]."""
    must = (f"an integer from {low} to {high}" if high is not None else f"an integer ≥ {low}") + note

    def integer(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {must}, got {text}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {must}, got {text}")
        return value

    integer.json_type = int  # what a config file gives for it
    return integer


def _real(must: str, ok):
    """An argparse type: a finite number for which ``ok`` holds."""

    def real(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not ok(value):
            raise argparse.ArgumentTypeError(f"must be {must}, got {text}")
        return value

    real.json_type = float
    return real


_COUNT = _integer(1)
_SEED = _integer(0, MAX_SEED)
_DATA_SEED = _integer(0, MAX_DATA_SEED)
_THREADS = _integer(1, 4096, note=" (or left out for the libraries' defaults)")
_NON_NEGATIVE = _real("a finite number ≥ 0", lambda v: v >= 0.0)
_POSITIVE = _real("a finite number > 0", lambda v: v > 0.0)
_KEEP_PROB = _real("a number in (0, 1]", lambda v: 0.0 < v <= 1.0)
_FRACTION = _real("a number between 0 and 1 (both excluded)", lambda v: 0.0 < v < 1.0)


def _common_data(parser: argparse.ArgumentParser, default: str | None = "flower") -> None:
    parser.add_argument("--data", metavar="SPEC", default=default,
                        help="flower (default), spiral, moons, blobs, a .npz file (X, Y as (n_x, m), "
                             "(1, m)), a folder with the cat h5 files, or a folder of class subfolders "
                             "of images")
    parser.add_argument("--data-seed", type=_DATA_SEED, default=1, metavar="SEED",
                        help="seed of generated sets and of train/test splits (default: 1)")
    _backend_options(parser)


def _backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", default="numpy", choices=_backend.BACKENDS,
                        help="array library to run on (default: numpy)")
    parser.add_argument("--device", default="auto", choices=_backend.DEVICES,
                        help="where the backend runs: auto (its GPU where it has one; the "
                             "default), cpu or gpu")
    parser.add_argument("--threads", type=_THREADS, metavar="N",
                        help="threads of NumPy's BLAS and of torch for this command (default: "
                             "the libraries' own); on a busy or shared machine 1 can be several "
                             "times faster than 2")


def _several(action: argparse.Action) -> argparse.Action:
    """Mark a sweep's option of one or more values: a config file may give it one value
    or a list."""
    action.one_or_more = True
    return action


def _training_options(command: argparse.ArgumentParser, *, sweep: bool) -> None:
    """The options of ``train``, or of ``sweep``: the same, but for the settings a sweep
    varies (``--learning-rate``, ``--l2``, ``--keep-prob``, ``--seeds``), which take one
    or more values, and for the outputs (``--save`` keeps the best network, ``--json``
    writes the table)."""
    several = "+" if sweep else None
    _common_data(command)
    command.add_argument("--config", metavar="FILE",
                         help="JSON (or TOML) file of options, e.g. {\"layers\": [20, 7, 5], "
                              "\"optimizer\": \"adam\"}; each option given on the command line "
                              "replaces the file's (--iterations its epochs and batch_size, "
                              "--epochs its iterations and print_every)")
    model = command.add_argument_group("model")
    model.add_argument("--layers", type=_COUNT, nargs="+", metavar="N",
                       help="hidden layer sizes (flower: 4; cat: 20 7 5; others: 16)")
    model.add_argument("--hidden", nargs="+", metavar="NAME", choices=activations.NAMES,
                       help=f"hidden activation, one or one per layer: {', '.join(activations.NAMES)}")
    model.add_argument("--output", default="auto", choices=("auto", *losses.OUTPUTS),
                       help="output unit: auto (sigmoid for 2 classes, softmax for more, linear "
                            "for regression), sigmoid, softmax, linear")
    model.add_argument("--init", choices=initializers.NAMES,
                       help="weight initializer (flower: normal; cat: xavier; others: he)")
    if sweep:
        _several(model.add_argument(
            "--l2", type=_NON_NEGATIVE, nargs="+", default=[0.0], metavar="λ",
            help="L2 strengths λ to try (default: 0)"))
        _several(model.add_argument(
            "--keep-prob", type=_KEEP_PROB, nargs="+", default=[1.0], metavar="P",
            help="dropout keep probabilities on hidden layers to try (default: 1, no "
                 "dropout)"))
        _several(model.add_argument(
            "--seeds", "--seed", dest="seed", type=_SEED, nargs="+", default=[1], metavar="SEED",
            help="seeds of the initial weights to try (default: 1); the shuffles and dropout "
                 "masks of every network are drawn with the first"))
    else:
        model.add_argument("--l2", type=_NON_NEGATIVE, default=0.0, help="L2 strength λ (default: 0)")
        model.add_argument("--keep-prob", type=_KEEP_PROB, default=1.0,
                           help="dropout keep probability on hidden layers (default: 1, no dropout)")
        model.add_argument("--seed", type=_SEED, default=1,
                           help="seed of the weights and shuffles (default: 1)")
    model.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    model.add_argument("--precision", default="full", choices=_backend.PRECISIONS,
                       help="tf32: float32 products on TF32 tensor cores (NVIDIA GPUs from Ampere "
                            "on; the same as full on a CPU)")
    fit = command.add_argument_group("training")
    fit.add_argument("--iterations", type=_COUNT,
                     help="full-batch updates (flower: 10000; cat: 2500; others: 2000)")
    fit.add_argument("--epochs", type=_COUNT, help="passes over the data, instead of --iterations")
    fit.add_argument("--batch-size", type=_COUNT, help="mini-batch size, with --epochs")
    fit.add_argument("--optimizer", default="sgd", choices=optimizers.NAMES, help="default: sgd")
    if sweep:
        _several(fit.add_argument(
            "--learning-rate", type=_POSITIVE, nargs="+", metavar="α",
            help="learning rates to try (flower: 1.2; cat: 0.0075; others: 0.1)"))
        fit.add_argument("--validation-split", type=_FRACTION,
                         help="fraction of the training data held out to rank the networks by "
                              "(default: the data's test set ranks them; 0.2 where it has none)")
        fit.add_argument("--early-stopping", type=_COUNT, metavar="PATIENCE",
                         help="stop a network after this many records without a better "
                              "validation cost; the others go on")
    else:
        fit.add_argument("--learning-rate", type=_POSITIVE,
                         help="α (flower: 1.2; cat: 0.0075; others: 0.1)")
        fit.add_argument("--validation-split", type=_FRACTION,
                         help="fraction of the training data held out")
        fit.add_argument("--early-stopping", type=_COUNT, metavar="PATIENCE",
                         help="stop after this many records without a better validation cost "
                              "(with --validation-split)")
    fit.add_argument("--print-every", type=_COUNT, metavar="N",
                     help="record and print the cost every N iterations (with --iterations; "
                          "--epochs records every epoch)")
    fit.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="a progress bar with the latest record instead of one line per record "
                          "(default: on when stderr is a terminal)")
    out = command.add_argument_group("output")
    if sweep:
        out.add_argument("--save", metavar="PATH",
                         help="save the best network (safetensors)")
        out.add_argument("--plot", metavar="PNG",
                         help="draw every network's learning curve to this file")
        out.add_argument("--json", metavar="PATH",
                         help="write the table, one object per network (best first), as JSON")
    else:
        out.add_argument("--save", metavar="PATH", help="save the trained model (safetensors)")
        out.add_argument("--plot", metavar="PNG", help="draw the learning curves to this file")
        out.add_argument("--plot-boundary", metavar="PNG",
                         help="draw the decision regions over the training data (2-D data only)")
    out.add_argument("--checkpoint", metavar="PATH",
                     help="write a checkpoint while training" + (
                         " (every network's state, in one file)" if sweep else ""))
    out.add_argument("--resume", action=argparse.BooleanOptionalAction, default=False,
                     help="go on from --checkpoint if it exists")


def parser() -> argparse.ArgumentParser:
    """xpnet's parser: its commands and their options."""
    top = _Parser(
        prog="xpnet",
        description="Train networks with hand-derived backpropagation on any array-API backend.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"xpnet {__version__}")
    subcommands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = subcommands.add_parser("train", help="train a network, report cost and accuracy",
                                epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _training_options(train, sweep=False)
    sweep = subcommands.add_parser(
        "sweep", help="train many networks of one shape in one pass, compare them",
        description=SWEEP_DESCRIPTION, epilog=SWEEP_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _training_options(sweep, sweep=True)
    sweep.elsewhere = {  # train's options that a sweep has not, and why
        "--plot-boundary": "it is xpnet train's (train the best settings with it to draw "
                           "their decision regions)",
    }

    evaluate = subcommands.add_parser("evaluate", help="cost and accuracy of a saved model on a data set")
    evaluate.add_argument("model", help="a model file written by --save")
    _common_data(evaluate, default=None)

    predict = subcommands.add_parser("predict", help="predictions of a saved model for new examples")
    predict.add_argument("model", help="a model file written by --save")
    predict.add_argument("input", help=".npz file with X as (n_x, m), one example per column")
    predict.add_argument("--out", metavar="PATH",
                         help=".npz to write predictions and probabilities to (.npz is added to a "
                              "name without it; default: print the predictions)")
    _backend_options(predict)

    info = subcommands.add_parser("info", help="architecture and metadata of a saved model")
    info.add_argument("model", help="a model file written by --save")

    gradcheck = subcommands.add_parser("gradcheck",
                                    help="check the backward pass against central differences")
    gradcheck.add_argument("--layers", type=_COUNT, nargs="+", default=[5, 4], metavar="N",
                           help="hidden sizes of the small network checked (default: 5 4)")
    gradcheck.add_argument("--hidden", nargs="+", metavar="NAME", choices=activations.NAMES,
                           default=list(activations.NAMES), help="activations to check (default: all)")
    gradcheck.add_argument("--output", nargs="+", choices=tuple(losses.OUTPUTS),
                           default=list(losses.OUTPUTS), help="output units to check (default: all)")
    gradcheck.add_argument("--l2", type=_NON_NEGATIVE, default=0.0)
    gradcheck.add_argument("--seed", type=_SEED, default=0)

    from .bench import options as bench_options  # the options alone: runners load when bench runs

    bench_options.add_arguments(subcommands.add_parser(
        "bench", help=bench_options.HELP, description=bench_options.DESCRIPTION))
    return top


def commands(top: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser of each command of ``top`` (:func:`parser`), by name."""
    return top._subparsers._group_actions[0].choices


# -- the Python API's words as the command line's ---------------------------------------

#: Keyword arguments of the Python API whose command-line option has another name.
_KEYWORD_OPTIONS = {"record_every": "--print-every", "shuffle_seed": "--seed",
                    "patience": "--early-stopping"}
_KEYWORD = re.compile(r"(?<![\w/\\.-])([a-z][a-z0-9_]*)(?:=('?)([^'\s,;)]*)\2)?(?![\w/\\-]|\.\w)")


def in_options(message: str, command: argparse.ArgumentParser | None) -> str:
    """``message``, written for the Python API, with its keyword arguments named as the
    command line's options: ``validation_split`` → ``--validation-split``,
    ``learning_rate=0.5`` → ``--learning-rate 0.5``, a leading ``threads must`` →
    ``--threads must``."""
    if command is None:
        return message
    options = {a.dest: a.option_strings[0] for a in command._actions
               if a.option_strings and a.option_strings[0].startswith("--")}
    options.update({k: v for k, v in _KEYWORD_OPTIONS.items() if v[2:].replace("-", "_") in options})

    def name(match: re.Match) -> str:
        word, value = match.group(1), match.group(3)
        option = options.get(word)
        if option is None:
            return match.group(0)
        if value is not None:
            return f"{option} {value}"
        if "_" in word or (match.start() == 0 and message[match.end():].startswith(" must")):
            return option
        return match.group(0)

    return _KEYWORD.sub(name, message)
