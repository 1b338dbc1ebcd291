"""What a command checks before it loads a model or trains: nothing found wrong after
the work may lose the work.

- the files it will write: their folders exist and take a new file (one is
  made and removed there), the optional library that writes them is installed,
  matplotlib writes their suffix (:func:`check_output`, :func:`check_train_outputs`);
- the data against the options (``--plot-boundary`` draws 2-D data only,
  ``--output sigmoid`` separates 2 classes, one ``--hidden`` or one per layer:
  :func:`architecture`) and against a saved model (its features and classes:
  :func:`check_model_fits`);
- a checkpoint against the run resuming it, in options (:func:`check_resume`);
- predict's input file (:func:`check_predict_input`).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ._cli_options import option, with_value
from .errors import ConfigError, DataFileError


def check_output(path: str, flag: str) -> None:
    """Refuse an output path that cannot be written, before any work is done for it."""
    try:
        if "\0" in path:
            raise ConfigError(f"{flag} {path!r} holds a NUL character, which no file name can")
        target = Path(path)
        if target.is_dir():
            raise ConfigError(f"{flag} {path} is a folder: give a file name in it")
        folder = target.parent
        if not folder.exists():
            raise ConfigError(f"{flag} {path}: the folder {folder} does not exist; create it "
                              f"first (mkdir -p {folder})")
        if not folder.is_dir():
            raise ConfigError(f"{flag} {path}: {folder} is not a folder")
        if target.exists() and not target.is_file():
            raise ConfigError(f"{flag} {path} is not a regular file: give a file name to write")
        if target.exists() and not os.access(target, os.W_OK):
            raise ConfigError(f"{flag} {path}: the file exists and is not writable")
        try:
            # Permissions alone do not tell (a read-only file system, a full disk, root):
            # a file made and removed there does.
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".xpnet-check-")
        except OSError as exc:
            raise ConfigError(f"{flag} {path}: the folder {folder} is not writable "
                              f"({exc.strerror or exc})") from None
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: {exc.strerror or exc}") from None


def _need(module: str, flag: str, extra: str, what: str) -> None:
    """Refuse ``flag`` when the optional library it needs cannot be imported."""
    try:
        __import__(module)
    except ImportError:
        raise ConfigError(f"{flag} needs {what}, which is not installed: "
                          f"pip install 'xpnet[{extra}]'") from None


def _check_plot_suffix(path: str, flag: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    supported = FigureCanvasAgg.get_supported_filetypes()
    if suffix and suffix not in supported:
        raise ConfigError(f"{flag} {path}: matplotlib cannot write .{suffix} files; use one of "
                          f"the suffixes {', '.join('.' + s for s in sorted(supported))}")


def check_train_outputs(args) -> None:
    """The folders train (or sweep) writes to, and the libraries it writes with: before any
    work."""
    for dest in ("save", "checkpoint"):
        if getattr(args, dest, None):
            check_output(getattr(args, dest), option(args, dest))
            _need("safetensors.numpy", option(args, dest), "save", "safetensors")
    for dest in ("plot", "plot_boundary"):
        if getattr(args, dest, None):
            check_output(getattr(args, dest), option(args, dest))
            _need("matplotlib.backends.backend_agg", option(args, dest), "plot", "matplotlib")
            _check_plot_suffix(getattr(args, dest), option(args, dest))
    if getattr(args, "json", None):
        check_output(args.json, option(args, "json"))


def is_regression(Y: np.ndarray) -> bool:
    """Whether a data set's Y holds values to predict (floats) rather than class ids."""
    return Y.dtype.kind == "f"


def data_classes(data) -> int:
    """The number of classes of a data set: its names, else its highest id + 1 (at least 2)."""
    if data.classes:
        return len(data.classes)
    from . import _validation

    return max(_validation.n_classes(data.Y_train), _validation.n_classes(data.Y_test))


def data_name(args) -> str:
    """The data set as the person named it, or as the default."""
    if getattr(args, "data", None) is None:
        return "flower (the default --data)"
    return f"--data {args.data}"


def check_model_fits(model: str, net, data, args) -> None:
    """Refuse data whose features or classes are not those the saved model takes."""
    n_x, n_y = net.layer_dims[0], net.layer_dims[-1]
    which = data_name(args)
    how = "evaluate it on the kind of data it was trained on (--data)"
    if data.X_train.shape[0] != n_x:
        raise ConfigError(f"{model} takes {n_x} features, but {which} has "
                          f"{data.X_train.shape[0]}: {how}")
    output = net.output.name
    if output == "linear":
        if data.Y_train.shape[0] != n_y:
            raise ConfigError(f"{model} predicts {n_y} values per example, but {which} has "
                              f"{data.Y_train.shape[0]} per example: {how}")
        return
    if is_regression(data.Y_train):
        raise ConfigError(f"{model} is a classifier ({output} output), but {which} holds "
                          f"regression targets: {how}")
    if output == "sigmoid" and n_y > 1:
        if data.Y_train.shape[0] != n_y:
            raise ConfigError(f"{model} gives {n_y} yes/no labels per example, but {which} has "
                              f"{data.Y_train.shape[0]}: {how}")
        return
    model_classes = 2 if output == "sigmoid" else n_y
    n_classes = data_classes(data)
    if n_classes != model_classes:
        raise ConfigError(f"{model} tells {model_classes} classes apart, but {which} has "
                          f"{n_classes}: {how}")


def architecture(args, data, defaults: dict) -> tuple[list[int], list[str], str]:
    """(hidden sizes, hidden activations, output unit) for the data, checked against it, as
    are the options that depend on the data (--validation-split, --plot-boundary)."""
    layers = args.layers or defaults["layers"]
    hidden = args.hidden or defaults["hidden"]
    if len(hidden) not in (1, len(layers)):
        sizes = (with_value(args, "layers") if args.layers
                 else f"{' '.join(map(str, layers))}, the default for {data.name}")
        raise ConfigError(f"{with_value(args, 'hidden')} names {len(hidden)} activations for "
                          f"{len(layers)} hidden layers ({sizes}): give one for all of them, or "
                          "one per layer")
    regression = is_regression(data.Y_train)
    output = args.output
    if output == "auto":
        output = "linear" if regression else (
            "sigmoid" if data_classes(data) <= 2 and data.Y_train.shape[0] == 1 else "softmax")
    elif output in ("sigmoid", "softmax") and regression:
        raise ConfigError(f"{with_value(args, 'output')} needs class labels, but "
                          f"{data_name(args)} holds regression targets: use --output linear (or auto)")
    elif output == "sigmoid" and data.Y_train.shape[0] == 1 and data_classes(data) > 2:
        raise ConfigError(f"{with_value(args, 'output')} separates 2 classes, but "
                          f"{data_name(args)} has {data_classes(data)}: use --output softmax (or auto)")
    if args.validation_split is not None:
        m = data.X_train.shape[1]
        held = int(round(m * args.validation_split))
        if not 0 < held < m:
            raise ConfigError(f"{with_value(args, 'validation_split')} holds out {held} of the {m} "
                              f"training examples of {data_name(args)}, leaving {m - held} to "
                              "train on: choose a fraction that keeps both non-empty")
    if getattr(args, "plot_boundary", None) and data.X_train.shape[0] != 2:
        raise ConfigError(f"{option(args, 'plot_boundary')} draws 2-D data, but {data_name(args)} "
                          f"has {data.X_train.shape[0]} features: leave --plot-boundary out")
    return layers, hidden, output


def checkpoint_plan(args, by_epochs: bool, pick) -> dict:
    """The training plan as a checkpoint records it (its fields that decide the run)."""
    if by_epochs:
        return dict(iterations=None, epochs=args.epochs, batch_size=args.batch_size,
                    record_every=100, patience=args.early_stopping)
    return dict(iterations=pick("iterations"), epochs=None, batch_size=None,
                record_every=pick("print_every"), patience=args.early_stopping)


#: How the settings a checkpoint records are given on the command line.
_PLAN_OPTIONS = {"iterations": "--iterations", "epochs": "--epochs", "batch_size": "--batch-size",
                 "record_every": "--print-every", "patience": "--early-stopping"}
_MODEL_OPTIONS = {"hidden": "--hidden", "output": "--output", "init": "--init", "seed": "--seed",
                  "dtype": "--dtype", "l2": "--l2", "keep_prob": "--keep-prob",
                  "precision": "--precision"}


def _setting(name: str, value) -> str:
    """A setting as the command line gives it: ``--epochs 5``, ``no --early-stopping``."""
    if value is None:
        return {"--batch-size": "no --batch-size (the whole batch)"}.get(name, f"no {name}")
    if isinstance(value, list):
        value = " ".join(map(str, value))
    return f"{name} {value}"


def resumed_at(position: dict, plan: dict) -> str:
    """Where a checkpoint resumes, in words."""
    if plan["epochs"] is not None:
        where, done = (f"after epoch {position['epoch']} of {plan['epochs']}",
                       position["epoch"] >= plan["epochs"])
    else:
        where, done = (f"at iteration {position['step']} of {plan['iterations']}",
                       position["step"] >= plan["iterations"])
    return where + (" (its run is complete: nothing is left to train)" if done else "")


def check_resume(path: str, net, optimizer: str, plan: dict) -> dict | None:
    """The position of the checkpoint at ``path``, once it is known to fit this run; None
    where its metadata cannot be read (fit then says what is wrong with the file).

    Refuses, in options, a checkpoint written by a run of other settings: it resumes
    only the run that wrote it."""
    from ._safetensors import read_tensors

    _, metadata = read_tensors(path)
    try:
        saved_config = json.loads(metadata["config"])
        saved_plan = json.loads(metadata["plan"])
        position = json.loads(metadata["position"])
        saved_optimizer = metadata["optimizer"]
    except (KeyError, ValueError, RecursionError):
        return None
    if not (all(isinstance(x, dict) for x in (saved_config, saved_plan, position))
            and {"step", "epoch"} <= set(position)):
        return None
    theirs, ours = [], []
    config = net.get_config()
    saved_dims, dims = saved_config.get("layer_dims"), config["layer_dims"]
    if saved_dims != dims:
        if isinstance(saved_dims, list) and len(saved_dims) > 2 and (
                saved_dims[0], saved_dims[-1]) == (dims[0], dims[-1]):
            theirs.append(_setting("--layers", saved_dims[1:-1]))
            ours.append(_setting("--layers", dims[1:-1]))
        else:
            theirs.append(f"layer sizes {saved_dims} (other data?)")
            ours.append(f"layer sizes {dims}")
    for key, name in _MODEL_OPTIONS.items():
        if saved_config.get(key) != config.get(key):
            theirs.append(_setting(name, saved_config.get(key)))
            ours.append(_setting(name, config.get(key)))
    if saved_optimizer != optimizer:
        theirs.append(_setting("--optimizer", saved_optimizer))
        ours.append(_setting("--optimizer", optimizer))
    longer = not theirs  # only the length of training differs, and it grows
    for key, name in _PLAN_OPTIONS.items():
        if key == "record_every" and None in (plan["iterations"], saved_plan.get("iterations")):
            continue  # with --epochs every epoch is a record: --print-every plays no part
        if saved_plan.get(key) != plan[key]:
            theirs.append(_setting(name, saved_plan.get(key)))
            ours.append(_setting(name, plan[key]))
            longer = longer and key in ("iterations", "epochs") and plan[key] is not None \
                and isinstance(saved_plan.get(key), int) and plan[key] > saved_plan[key]
    if not theirs:
        return position
    how = (f"to train for longer, start a new run with {', '.join(ours)} and another --checkpoint "
           f"file (or delete {path}); to finish the run it holds, give {', '.join(theirs)}"
           if longer else
           f"resume with {', '.join(theirs)}, or start a new run with another --checkpoint file "
           f"(or delete {path})")
    raise ConfigError(f"cannot resume from {path}: it was written by a run with {', '.join(theirs)}, "
                      f"and this run has {', '.join(ours)}. A checkpoint goes on only with the "
                      f"settings that wrote it: {how}")


# -- predict's files -------------------------------------------------------------------


def npz_out(path: str) -> str:
    """The name ``--out`` writes: NumPy adds .npz to a name without it."""
    return path if path.endswith(".npz") else path + ".npz"


def check_predict_input(path: str) -> None:
    """predict's input: an existing .npz file, not a .npy (nor a folder, nor a pipe)."""
    if os.path.exists(path) and not os.path.isdir(path) and not os.path.isfile(path):
        raise DataFileError(f"{path} is not a regular file: give the .npz file holding X")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except IsADirectoryError:
        raise DataFileError(f"{path} is a folder: give the .npz file holding X") from None
    except FileNotFoundError:
        raise DataFileError(f"{path} does not exist: give the .npz file holding X") from None
    except OSError as exc:
        raise DataFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if magic == b"\x93NUMPY":
        raise DataFileError(f"{path} is a .npy file (one bare array); predict reads X from an .npz: "
                            "numpy.savez('new.npz', X=X), X of shape (n_x, m)")
