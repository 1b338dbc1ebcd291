"""The options a command runs with: the command line, then ``train``'s config file, then
the defaults; the command line wins for every option.

Each value of a config file (JSON or TOML) goes through the same checks as on
the command line: it becomes the command-line arguments that say the same
(``{"layers": [20, 7]}`` → ``--layers 20 7``), which the command's parser
parses, after a check of its JSON type (a list for ``--layers``, a number for
``--l2``, true or false for ``--progress``). Unknown keys are refused with the
nearest option's name.

The two ways of counting training exclude each other: ``--iterations`` on the
command line replaces a config file's ``epochs`` and ``batch_size``, and
``--epochs`` its ``iterations`` and ``print_every``. Options that conflict, or
that would be ignored, are refused with a message naming both
(:func:`check_train_options`); the namespace's ``given`` says where each option
a person gave came from, so that messages name it as they gave it
(:func:`option`: ``--batch-size``, or ``--batch-size (from run.json)``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ._cli_parser import UsageError, closest, commands, did_you_mean, parser
from .errors import ConfigError, DataFileError

#: The options of each way of counting training: one on the command line replaces the
#: config file's options of the other.
ITERATION_OPTIONS = ("iterations", "print_every")
EPOCH_OPTIONS = ("epochs", "batch_size")

#: The largest config file read: a few options, not data.
MAX_CONFIG_BYTES = 2**20


def _read_config(path: str) -> dict:
    """The config file's object of options, its keys as written."""
    where = Path(path)
    try:
        if where.is_dir():
            raise ConfigError(f"--config {path} is a folder: give a JSON (or TOML) file")
        if where.exists() and not where.is_file():  # a FIFO or a device would be waited on
            raise ConfigError(f"--config {path} is not a regular file: give a JSON (or TOML) file")
        size = where.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"config file {path} holds {size} bytes, more than the "
                              f"{MAX_CONFIG_BYTES} a file of options may: is it the right file?")
        raw = where.read_bytes()
    except OSError as exc:
        raise DataFileError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    kind = "TOML" if where.suffix == ".toml" else "JSON"
    try:
        text = raw.decode("utf-8")
        if "\0" in text:
            raise UnicodeDecodeError("utf-8", raw, 0, 1, "a NUL character")
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not text (UTF-8): it must hold a {kind} object "
                          "of options, e.g. {\"layers\": [20, 7, 5]}") from None
    try:
        if kind == "TOML":
            import tomllib

            config = tomllib.loads(text)
        else:
            config = json.loads(text)
    except ImportError as exc:
        raise ConfigError("TOML config files need Python 3.11 or later; use JSON") from exc
    except RecursionError:
        raise ConfigError(f"config file {path} is nested too deeply to be a file of options") from None
    except ValueError as exc:
        raise ConfigError(f"config file {path} is not valid {kind}: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"config file {path} must hold an object of option names and values, "
                          f"e.g. {{\"layers\": [20, 7, 5]}}; it holds a {kind} {type(config).__name__}")
    return config


def _json_kind(action) -> tuple[type, str]:
    """(the Python type a config value of ``action`` takes, in words)."""
    kind = getattr(action.type, "json_type", str)
    if action.choices is not None:
        return str, "one of " + ", ".join(map(str, action.choices))
    return kind, {int: "an integer", float: "a number", str: "a string"}[kind]


def _fits(value, kind: type) -> bool:
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


def _config_tokens(action, value) -> list[str] | None:
    """The command-line arguments that say what ``value`` says for ``action``; None if its
    type is wrong."""
    option = action.option_strings[0]
    if isinstance(action, argparse.BooleanOptionalAction):
        return None if not isinstance(value, bool) else [option if value else action.option_strings[1]]
    kind, _ = _json_kind(action)
    if action.nargs in ("+", "*"):
        if getattr(action, "one_or_more", False) and not isinstance(value, list):
            value = [value]  # a sweep's setting: one value, or a list of them
        if not isinstance(value, list) or (action.nargs == "+" and not value):
            return None
        if not all(_fits(v, kind) and not (isinstance(v, str) and v.startswith("-")) for v in value):
            return None
        return [option, *map(str, value)]
    if not _fits(value, kind):
        return None
    return [f"{option}={value}"]


def _config_values(command: argparse.ArgumentParser, path: str) -> dict:
    """The options of the config file at ``path``, each checked as on the command line."""
    config = _read_config(path)
    actions = {a.dest: a for a in command._actions
               if a.option_strings and a.dest not in ("help", "config")}
    # Another long name of an option works too (sweep's "seeds" for its --seeds/--seed).
    aliases = {name[2:].replace("-", "_"): a for a in actions.values()
               for name in a.option_strings if name.startswith("--")}
    values, keys = {}, {}
    for key, value in config.items():
        dest = key.replace("-", "_")
        if dest == "config":
            raise ConfigError(f"config file {path} names another config file: it holds options only")
        action = actions.get(dest) or aliases.get(dest)
        dest = action.dest if action is not None else dest
        if action is None:
            names = [name.replace("_", "-") if "-" in key else name for name in actions]
            raise ConfigError(f"config file {path} has an unknown option {key!r}"
                              f"{did_you_mean(key, names)}")
        if dest in values:
            raise ConfigError(f"config file {path} gives {key!r} twice (as {keys[dest]} and "
                              f"{key})")
        keys[dest] = key
        tokens = _config_tokens(action, value)
        if tokens is None:
            if isinstance(action, argparse.BooleanOptionalAction):
                must = "true or false"
            else:
                _, must = _json_kind(action)
                if action.nargs in ("+", "*"):
                    plural = must.replace('an integer', 'integers').replace('a number', 'numbers')
                    must = (f"{must} or a list of {plural}" if getattr(action, "one_or_more", False)
                            else f"a list of {plural}" + (
                                ", e.g. [20, 7, 5]" if dest == "layers" else ""))
            raise ConfigError(f"config file {path}: {key!r} must be {must}, got {json.dumps(value)}")
        try:
            parsed = command.parse_args(tokens)
        except UsageError as exc:
            message = str(exc)
            option = action.option_strings[0]
            if message.startswith(option + " must "):
                message = f"{key!r}{message[len(option):]}"
            elif message.startswith(option):
                message = f"{key!r}: {message[len(option):].lstrip(' :')}"
            raise ConfigError(f"config file {path}: {message}") from None
        values[dest] = getattr(parsed, dest)
    return values


def _training_options(top: argparse.ArgumentParser, argv, name: str) -> argparse.Namespace:
    """The options of ``train`` or ``sweep`` (``name``): command line, then config file,
    then defaults; ``given`` records where each option a person gave came from."""
    command = commands(top)[name]
    defaults = {a.dest: a.default for a in command._actions if a.dest != "help"}
    for action in command._actions:
        action.default = argparse.SUPPRESS  # so that what was given is what is parsed
    try:
        given = vars(top.parse_args(argv))
    finally:
        for action in command._actions:
            action.default = defaults.get(action.dest, action.default)
    given.pop("command")
    config = _config_values(command, given["config"]) if "config" in given else {}
    # The command line's way of counting training replaces the config file's other one.
    for chosen, other in (("iterations", EPOCH_OPTIONS), ("epochs", ITERATION_OPTIONS)):
        if chosen in given:
            for dest in other:
                config.pop(dest, None)
    args = argparse.Namespace(command=name, **{**defaults, **config, **given})
    args.given = {**{dest: f" (from {given['config']})" for dest in config},
                  **{dest: "" for dest in given}}
    args.option_names = {a.dest: a.option_strings[0] for a in command._actions
                         if a.option_strings and a.option_strings[0].startswith("--")}
    if name == "sweep":
        check_sweep_options(args)
    else:
        check_train_options(args)
    return args


def _name(args, dest: str) -> str:
    return getattr(args, "option_names", {}).get(dest) or "--" + dest.replace("_", "-")


def option(args, dest: str) -> str:
    """``--name`` of an option as the person gave it, with the config file it came from."""
    return _name(args, dest) + args.given.get(dest, "")


def with_value(args, dest: str) -> str:
    """An option with its value as the person gave it: ``--layers 5 3``."""
    value = getattr(args, dest)
    shown = " ".join(map(str, value)) if isinstance(value, list) else value
    return f"{_name(args, dest)} {shown}{args.given.get(dest, '')}"


def check_train_options(args) -> None:
    """Refuse options that conflict, or that would be ignored, naming both."""
    _check_counting(args)
    if "early_stopping" in args.given and "validation_split" not in args.given:
        raise ConfigError(f"{option(args, 'early_stopping')} watches the validation cost: give "
                          "--validation-split too (the fraction of the training data held out)")
    _check_resume(args)
    _check_precision(args)
    _check_outputs(args, ("save", "checkpoint", "plot", "plot_boundary"))


def _check_resume(args) -> None:
    if args.resume and not args.checkpoint:
        raise ConfigError(f"{option(args, 'resume')} goes on from --checkpoint PATH: give both")


#: The settings a sweep varies: each takes one value or several, every combination trained.
SWEEP_SETTINGS = ("learning_rate", "l2", "keep_prob", "seed")


def check_sweep_options(args) -> None:
    """``check_train_options`` for ``sweep``: a sweep always has validation data (the test
    set, or --validation-split), so --early-stopping needs nothing more; each value of a
    setting it varies is given once."""
    _check_counting(args)
    for dest in SWEEP_SETTINGS:
        values = getattr(args, dest) or []
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise ConfigError(f"{with_value(args, dest)} gives {', '.join(map(str, twice))} more "
                              "than once: give each value once (the sweep trains every "
                              "combination of the values given)")
    _check_resume(args)
    _check_precision(args)
    _check_outputs(args, ("save", "checkpoint", "plot", "json"))


def _check_counting(args) -> None:
    """The two ways of counting training, and the options of each."""
    given = args.given
    if "iterations" in given and "epochs" in given:
        raise ConfigError(f"give {option(args, 'iterations')} or {option(args, 'epochs')}, not "
                          "both: --iterations counts full-batch updates, --epochs passes over "
                          "the data")
    if "batch_size" in given and "epochs" not in given:
        raise ConfigError(f"{option(args, 'batch_size')} needs --epochs: mini-batches are counted "
                          "in epochs (--iterations counts full-batch updates)")
    if "print_every" in given and "epochs" in given:
        raise ConfigError(f"{option(args, 'print_every')} counts iterations, but "
                          f"{option(args, 'epochs')} records every epoch: leave out one of them")


def _check_precision(args) -> None:
    if args.precision == "tf32" and args.dtype != "float32":
        raise ConfigError(f"{with_value(args, 'precision')} multiplies float32 numbers on TF32 "
                          f"tensor cores: it needs --dtype float32, not {with_value(args, 'dtype')}")


def _check_outputs(args, dests) -> None:
    """No two of the files written are one file."""
    outputs = [dest for dest in dests if getattr(args, dest)]
    for i, first in enumerate(outputs):
        for second in outputs[i + 1:]:
            if _same_file(getattr(args, first), getattr(args, second)):
                raise ConfigError(f"{option(args, first)} and {option(args, second)} name the "
                                  f"same file, {getattr(args, first)}: give each its own")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.abspath(a) == os.path.abspath(b)
    except (ValueError, OSError):
        return False


def parse(argv) -> argparse.Namespace:
    """The command and its options, from ``argv`` (the command line without the program)."""
    top = parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    for word in argv:
        if not word.startswith("-"):
            break
        if word not in ("-h", "--help", "--version"):
            word = word.split("=")[0]
            owners = {}  # each option, and the first command that has it (train first)
            for name, command in commands(top).items():
                for action in command._actions:
                    for string in action.option_strings:
                        owners.setdefault(string, name)
            close = closest(word, owners)
            example = f"xpnet {owners[close]} {close}" if close else f"xpnet train {word}"
            raise UsageError(f"xpnet has no option {word}: a command's options go after it "
                             f"({example} ...)", top.format_usage())
    args = top.parse_args(argv)
    if args.command in ("train", "sweep"):
        args = _training_options(top, argv, args.command)
    args.parser = commands(top)[args.command]
    return args
