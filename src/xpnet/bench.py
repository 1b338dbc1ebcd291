"""Side-by-side speed: xpnet next to PyTorch autograd, JAX jit, scikit-learn and the bare GEMMs.

    xpnet bench                                           # numpy, float32, the four default workloads
    python -m xpnet.bench --backend torch --dtype float64 --repeat 5
    xpnet bench --workloads cat-fit digits-epoch --iterations 200 --json out.json --markdown out.md
    xpnet bench --workloads mnist-epoch mnist-epoch-colmajor --mnist-m 15000 --threads 1

The workloads, each a network, a batch and an amount of training:

| name             | network                              | timed                                         |
|------------------|--------------------------------------|-----------------------------------------------|
| ``cat-fit``      | [12288, 20, 7, 5, 1] relu, sigmoid   | ``--iterations`` full-batch updates at m = 209 (default 2500), lr 0.0075, the course's cat images where found, else random data of their shape |
| ``wide-step-4096`` | [3072, 1024, 1024, 10] relu, softmax | one update (forward + backward + gradient descent) at m = 4096 |
| ``digits-epoch`` | [64, 64, 10] relu, softmax           | one epoch of mini-batches of 64 over scikit-learn's digits (1797 examples, standardized), lr 0.1 |
| ``wide-step-512``  | [3072, 1024, 1024, 10] relu, softmax | one update at m = 512                         |
| ``mnist-epoch``    | [784, 256, 128, 10] relu, softmax    | one epoch of Adam (lr 1e-3, batch 128) over m = 60,000 (``--mnist-m``) random pixels in [0, 1) and labels, X row-major |
| ``mnist-epoch-colmajor`` | the same                       | the same, X column-major (each example contiguous) |

The first four run by default; the two MNIST-shaped epochs when ``--workloads``
names them.

Each runs, in this one process, one after the other:

- **xpnet** on ``--backend``: ``Network.fit`` for the fits and the epochs (X in
  the workload's layout); for a step, ``network.forward``/``network.backward``
  and ``optimizers.gradient_descent`` on arrays already on the device.
- **torch**: the same network as a PyTorch user writes it: ``nn.Linear`` layers
  started from xpnet's initial weights, ``BCEWithLogitsLoss`` or
  ``CrossEntropyLoss``, ``torch.optim.SGD`` (plain, no momentum) or
  ``torch.optim.Adam`` (the same betas and eps) at the same learning rate, the
  loss read back where xpnet reads its cost; an epoch takes xpnet's batches
  (the same permutation) as rows of an (m, n_x) tensor.
- **jax**: ``jax.jit`` of one ``value_and_grad`` step of plain gradient descent
  or Adam.
- **sklearn**: ``MLPClassifier(solver="sgd", momentum=0)`` (plain SGD) or
  ``solver="adam"``, no L2, one epoch (``max_iter=1``), on (m, n_x) rows, for
  the mini-batch epochs only; always on the CPU and with its own initial weights.
- **GEMM**: the matrix products one xpnet update performs, alone, with the
  backend's ``@`` on operands allocated beforehand in the layouts xpnet uses:
  Z[l] = W[l]·A[l-1], dW[l] = dZ[l]·A[l-1]ᵀ, dA[l-1] = W[l]ᵀ·dZ[l] (l > 1),
  times the number of updates of the workload. (JAX has no views: its
  transposed operands are made beforehand, so its bare GEMMs leave out the
  transposes xpnet's step performs.)

PyTorch and JAX run on the kind of device xpnet runs on (the CPU for NumPy, the
GPU for CuPy). Each time is the median of ``--repeat`` timings with
``time.perf_counter`` after a warm-up (a short fit for ``cat-fit``), and every
timing ends by waiting for the device (:func:`xpnet._backend.synchronize`).
Beside it, the median CPU time of the same runs (``time.process_time``: this
process, all its threads). A peer that is not installed, or has no device of the
right kind, gives "n/a". ``--threads N`` holds NumPy's BLAS and torch to N
threads for the whole run (:func:`xpnet._threads.limit_threads`); the header
shows the counts in force and the load average at the start and the end.

Also reported: the ratios xpnet/peer and xpnet/GEMM; the GEMM share (bare GEMM
time / xpnet time); xpnet's GFLOP/s counting the GEMMs only (2·m·n·k each); and
the memory of one update: its peak (NumPy and array-api-strict: ``tracemalloc``'s
peak during the update, above what was allocated before it, plus the bytes of its
inputs; PyTorch on CUDA: ``torch.cuda.max_memory_allocated``), the model bytes
(parameters + gradients + optimizer state + cached Z[l] and A[l] + the batch)
and peak / model bytes.

Libraries other than NumPy are imported inside the functions that use them, so
``import xpnet`` never needs them.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import datetime
import importlib
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from . import _backend, initializers, network, optimizers
from ._workspace import Workspace
from ._backend import DEVICES, Target, resolve_target  # where the compared runs go
from ._threads import check_threads, limit_threads
from .errors import ConfigError, XpnetError

CAT_LAYERS = (12288, 20, 7, 5, 1)
WIDE_LAYERS = (3072, 1024, 1024, 10)
DIGITS_LAYERS = (64, 64, 10)
MNIST_LAYERS = (784, 256, 128, 10)
#: Examples of the MNIST-shaped epoch unless ``mnist_m`` (``--mnist-m``) says otherwise.
MNIST_M = 60_000

#: The workloads ``xpnet bench`` runs by default, in the order they run.
WORKLOAD_NAMES = ("cat-fit", "wide-step-4096", "digits-epoch", "wide-step-512")
#: The MNIST-shaped epochs, X row-major and column-major: asked for with ``--workloads``.
MNIST_WORKLOADS = ("mnist-epoch", "mnist-epoch-colmajor")
#: Every workload ``--workloads`` can name.
ALL_WORKLOADS = WORKLOAD_NAMES + MNIST_WORKLOADS
#: The implementations compared with xpnet.
PEERS = ("torch", "jax", "sklearn")
#: The optimizers a workload can train with; Adam's settings are the usual defaults.
OPTIMIZERS = ("sgd", "adam")
ADAM = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}

#: Iterations of the warm-up fit that precedes the timed fits of a "fit" workload.
WARMUP_ITERATIONS = 10
#: A timing of the bare GEMMs repeats them until it lasts about this long (seconds).
GEMM_MIN_SECONDS = 0.05
#: Every record_every updates xpnet reads its cost back; the peers do likewise.
RECORD_EVERY = 100


# -- workloads and their GEMMs ----------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """A network, its data and how much to train it.

    ``kind`` is "fit" (``iterations`` full-batch updates on m examples),
    "epoch" (one pass over m examples in mini-batches of ``batch_size``) or
    "step" (one full-batch update on m examples). ``data`` is "cat" (the
    course's images where found), "digits" (scikit-learn's, where installed),
    "random" (standard normal) or "pixels" (uniform in [0, 1), float32, like
    images scaled by 1/255); either of the first two falls back to random data
    of its shape. ``optimizer`` is "sgd" (plain gradient descent) or "adam"
    (β1 0.9, β2 0.999, ε 1e-8, for every implementation). ``layout`` is how
    xpnet's X (n_x, m) lies in memory: "C" row-major (each feature's m values
    contiguous) or "F" column-major (each example contiguous, what
    ``images.reshape(m, -1).T`` gives); it matters where the backend has strides
    (NumPy, torch). The peers take X as they take it, (m, n_x) rows.
    """

    name: str
    layers: tuple[int, ...]
    kind: str
    m: int
    output: str = "softmax"
    learning_rate: float = 0.01
    iterations: int = 1
    batch_size: int | None = None
    data: str = "random"
    title: str = ""
    optimizer: str = "sgd"
    layout: str = "C"

    def __post_init__(self):
        if self.kind not in ("fit", "epoch", "step"):
            raise ConfigError(f"workload kind must be fit, epoch or step, got {self.kind!r}")
        if self.output not in ("sigmoid", "softmax"):
            raise ConfigError(f"workload output must be sigmoid or softmax, got {self.output!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"workload optimizer must be one of {', '.join(OPTIMIZERS)}, "
                              f"got {self.optimizer!r}")
        if self.layout not in ("C", "F"):
            raise ConfigError(f"workload layout must be C (row-major) or F (column-major), "
                              f"got {self.layout!r}")
        if self.optimizer != "sgd" and self.kind == "step":
            raise ConfigError("a step workload times plain gradient descent: optimizer sgd")

    @property
    def batch_sizes(self) -> list[int]:
        """The batch size of each update the workload makes, in order."""
        if self.kind == "fit":
            return [self.m] * self.iterations
        if self.kind == "epoch":
            size = self.batch_size or self.m
            return [min(size, self.m - start) for start in range(0, self.m, size)]
        return [self.m]

    @property
    def updates(self) -> int:
        return len(self.batch_sizes)

    @property
    def flops(self) -> int:
        """GEMM FLOPs of the whole workload (2·m·n·k per product)."""
        return sum(count * step_flops(self.layers, m)
                   for m, count in Counter(self.batch_sizes).items())


def workloads(iterations: int = 2500, mnist_m: int = MNIST_M) -> dict[str, Workload]:
    """The standard workloads by name (see the module docstring); ``mnist_m`` examples
    in the MNIST-shaped epochs."""
    mnist = dict(learning_rate=1e-3, batch_size=128, optimizer="adam", data="pixels")
    return {
        "cat-fit": Workload(
            "cat-fit", CAT_LAYERS, "fit", 209, output="sigmoid", learning_rate=0.0075,
            iterations=iterations, data="cat",
            title=f"four-layer cat fit, {iterations} iterations, m = 209"),
        "wide-step-4096": Workload(
            "wide-step-4096", WIDE_LAYERS, "step", 4096, title="wide network, one step, m = 4096"),
        "digits-epoch": Workload(
            "digits-epoch", DIGITS_LAYERS, "epoch", 1797, learning_rate=0.1, batch_size=64,
            data="digits", title="small network, one epoch of batch 64 on digits"),
        "wide-step-512": Workload(
            "wide-step-512", WIDE_LAYERS, "step", 512, title="wide network, one step, m = 512"),
        "mnist-epoch": Workload(
            "mnist-epoch", MNIST_LAYERS, "epoch", mnist_m, **mnist,
            title=f"MNIST-shaped network, one Adam epoch of batch 128, m = {mnist_m}, X row-major"),
        "mnist-epoch-colmajor": Workload(
            "mnist-epoch-colmajor", MNIST_LAYERS, "epoch", mnist_m, layout="F", **mnist,
            title=f"MNIST-shaped network, one Adam epoch of batch 128, m = {mnist_m}, "
                  f"X column-major"),
    }


@dataclass(frozen=True)
class Gemm:
    """One matrix product of an update: (rows × inner)·(inner × cols).

    ``kind`` says which operand is transposed, as xpnet computes it:
    "forward" W·A, "dW" dZ·Aᵀ (the right operand a transposed view),
    "dA" Wᵀ·dZ (the left operand a transposed view).
    """

    name: str
    kind: str
    rows: int
    inner: int
    cols: int

    @property
    def flops(self) -> int:
        return 2 * self.rows * self.inner * self.cols

    @property
    def shape(self) -> str:
        return f"({self.rows}×{self.inner})·({self.inner}×{self.cols})"


def step_gemms(layers: Sequence[int], m: int) -> list[Gemm]:
    """The matrix products of one update of a network ``layers`` on m examples, in order.

    Forward Z[l] = W[l]·A[l-1] for l = 1..L; backward dW[l] = dZ[l]·A[l-1]ᵀ for
    l = L..1 and dA[l-1] = W[l]ᵀ·dZ[l] for l = L..2 (dA[0] is never formed).
    """
    L = len(layers) - 1
    gemms = [Gemm(f"W[{l}]·A[{l - 1}]", "forward", layers[l], layers[l - 1], m)
             for l in range(1, L + 1)]
    for l in range(L, 0, -1):
        gemms.append(Gemm(f"dZ[{l}]·A[{l - 1}]ᵀ", "dW", layers[l], m, layers[l - 1]))
        if l > 1:
            gemms.append(Gemm(f"W[{l}]ᵀ·dZ[{l}]", "dA", layers[l - 1], layers[l], m))
    return gemms


def step_flops(layers: Sequence[int], m: int) -> int:
    """GEMM FLOPs of one update: 2·m·(2·Σ n[l]·n[l-1] + Σ_{l≥2} n[l]·n[l-1])."""
    return sum(g.flops for g in step_gemms(layers, m))


def parameter_count(layers: Sequence[int]) -> int:
    """Σ n[l]·n[l-1] + n[l]: the entries of all W[l] and b[l]."""
    return sum(n * n_prev + n for n_prev, n in zip(layers[:-1], layers[1:]))


def model_bytes(layers: Sequence[int], m: int, itemsize: int, optimizer_slots: int = 0) -> int:
    """What one update cannot do without: parameters, gradients, optimizer state
    (``optimizer_slots`` arrays per parameter), one activation A[l] (n[l], m) of every
    layer, and the batch X and Y."""
    n_params = parameter_count(layers)
    cached = sum(n * m for n in layers[1:])
    batch = layers[0] * m + layers[-1] * m
    return itemsize * ((2 + optimizer_slots) * n_params + cached + batch)


# -- backends, devices and optional libraries ---------------------------------------


class Unavailable(Exception):
    """A peer that cannot run here; its cell reads n/a and the reason goes in the notes."""


def _optional(name: str):
    """Import ``name``, or raise :class:`Unavailable` saying why it cannot be."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise Unavailable(f"{name.split('.')[0]} is not installed") from None
    except Exception as exc:  # a broken install (missing CUDA libraries, ...) is n/a too
        raise Unavailable(f"{name} cannot be imported: {type(exc).__name__}: {exc}") from None


def backend_unavailable(backend: str) -> str | None:
    """Why ``backend`` cannot run here (not installed; CuPy without a CUDA device), or None."""
    module = {"array_api_strict": "array_api_strict"}.get(backend, backend)
    try:
        mod = _optional(module)
    except Unavailable as exc:
        return str(exc)
    if backend == "cupy":
        try:
            if mod.cuda.runtime.getDeviceCount() < 1:
                return "cupy sees no CUDA device"
        except Exception as exc:
            return f"cupy sees no CUDA device ({type(exc).__name__})"
    return None


# -- data --------------------------------------------------------------------------


@dataclass
class HostData:
    """A workload's data on the host: X (n_x, m) float64 (float32 for "pixels", a third of
    a GiB fewer at m = 60,000), class ids (m,), Y as xpnet takes it."""

    X: np.ndarray
    labels: np.ndarray
    Y: np.ndarray
    source: str


def _cat_folder() -> Path | None:
    candidates = [os.environ.get("XPNET_DATA"), Path.cwd().parent / "shared" / "data" / "catvnoncat",
                  Path(__file__).resolve().parents[3] / "shared" / "data" / "catvnoncat"]
    for folder in candidates:
        if folder and all((Path(folder) / f).is_file()
                          for f in ("train_catvnoncat.h5", "test_catvnoncat.h5")):
            return Path(folder)
    return None


def host_data(w: Workload, seed: int = 0) -> HostData:
    """The data of workload ``w``: real where asked for and found, else random of its shape."""
    n_x, K = w.layers[0], w.layers[-1]
    n_classes = 2 if w.output == "sigmoid" else K
    X = labels = None
    source = "random"
    if w.data == "cat":
        folder = _cat_folder()
        if folder is None:
            source = "random (the course's cat files were not found: set XPNET_DATA)"
        else:
            try:
                from .data import load_catvnoncat

                data = load_catvnoncat(folder, dtype="float64")  # HostData is float64
                X, labels, source = data.X_train, data.Y_train[0], f"the course's cat images ({folder})"
            except XpnetError as exc:
                source = f"random (cat files not readable: {exc})"
    elif w.data == "digits":
        try:
            datasets = _optional("sklearn.datasets")
            digits = datasets.load_digits()
            from .data import Standardizer

            X = Standardizer().fit_transform(digits.data.T)
            labels, source = digits.target.astype(np.int64), "scikit-learn's digits, standardized"
        except Unavailable as exc:
            source = f"random ({exc})"
    if X is not None and (X.shape != (n_x, w.m) or labels.max() >= n_classes):
        raise ConfigError(f"{w.name}: its {w.data} data has X {X.shape}, the workload wants "
                          f"({n_x}, {w.m}) and {n_classes} classes")
    if w.data == "pixels":
        rng = np.random.default_rng(seed)
        X = rng.random((n_x, w.m), dtype=np.float32)
        labels = rng.integers(0, n_classes, size=w.m, dtype=np.int64)
        source = "random pixels in [0, 1) and random labels (seeded)"
    if X is None:
        rng = np.random.RandomState(seed)
        X = rng.rand(n_x, w.m) if w.data == "cat" else rng.randn(n_x, w.m)
        labels = rng.randint(0, n_classes, size=w.m).astype(np.int64)
    if w.output == "sigmoid":
        Y = labels.reshape(1, -1).astype(np.float64)
    else:
        Y = np.zeros((K, w.m))
        Y[labels, np.arange(w.m)] = 1.0
    return HostData(X, labels, Y, source)


def initial_params(w: Workload, dtype: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """xpnet's initial weights for ``w`` (xavier, seed 1) on the host; every peer starts from them."""
    return initializers.initialize(w.layers, "xavier", seed=1, dtype=dtype)


# -- timing ------------------------------------------------------------------------


@dataclass
class Runner:
    """How to time one implementation of a workload.

    ``run()`` does the workload ``per_run`` times and waits for the device;
    ``setup()`` (untimed) comes before each run; ``warmup()`` once before all.
    ``params()``, where given, returns the parameters the last run trained, on
    the host as xpnet holds them ([(W[l], b[l]), ...], b as (n[l], 1)): to check
    that the implementations compared do the same arithmetic.
    """

    run: Callable[[], Any]
    setup: Callable[[], Any] = lambda: None
    warmup: Callable[[], Any] | None = None
    per_run: int = 1
    params: Callable[[], list] | None = None


@dataclass(frozen=True)
class Timing:
    """Seconds of one workload: ``wall`` by ``time.perf_counter``, ``cpu`` by
    ``time.process_time`` (this process's CPU time, all its threads together).

    CPU well below wall: the process waited (for cores other processes held, for
    a GPU). CPU above wall: several threads worked at once."""

    wall: float
    cpu: float

    def __add__(self, other: "Timing") -> "Timing":
        return Timing(self.wall + other.wall, self.cpu + other.cpu)

    def __mul__(self, k: float) -> "Timing":
        return Timing(self.wall * k, self.cpu * k)

    __rmul__ = __mul__


def measure_times(runner: Runner, repeat: int) -> list[Timing]:
    """Wall and CPU seconds per workload of ``repeat`` timed runs after one warm-up."""
    runner.setup()
    (runner.warmup or runner.run)()
    times = []
    for _ in range(repeat):
        runner.setup()
        cpu, start = time.process_time(), time.perf_counter()
        runner.run()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        times.append(Timing(wall / runner.per_run, cpu / runner.per_run))
    return times


def median_timing(times: Sequence[Timing]) -> Timing:
    """The median wall time and the median CPU time (each taken on its own)."""
    return Timing(statistics.median(t.wall for t in times), statistics.median(t.cpu for t in times))


def measure(runner: Runner, repeat: int) -> list[float]:
    """Wall seconds per workload of ``repeat`` timed runs after one warm-up."""
    return [t.wall for t in measure_times(runner, repeat)]


def _x_in_layout(X: np.ndarray, target: Target, dtype: str, layout: str):
    """X (n_x, m) on ``target``: row-major for "C", column-major (each example contiguous)
    for "F" where the backend has strides; a backend without them takes it as it takes it."""
    if layout == "C":
        return _to_target(X, target, dtype)
    rows = target.put(np.ascontiguousarray(X.T, dtype=dtype))  # (m, n_x), C order
    return target.xp.matrix_transpose(rows)  # a view where the backend has them


def _to_target(a: np.ndarray, target: Target, dtype: str):
    return target.put(np.ascontiguousarray(a, dtype=dtype))


# -- xpnet ---------------------------------------------------------------------------


def xpnet_step(params, X, Y, arch, opt, opt_state, *, xp, precision: str = "full",
               workspace: Workspace | None = None):
    """One update with xpnet's core: forward, backward, optimizer; returns (params, state).

    Takes the route that ``fit`` takes: in place where the backend allows it
    (``params`` are the benchmark's own), writing the gradients and the update's
    temporary into ``workspace`` (made once, as fit makes it: see
    :func:`step_workspace`), pure elsewhere; and its ``precision`` of the
    products, as fit does (JAX's GPU default is TF32).
    """
    with _backend.matmul_precision(precision):
        _, caches = network.forward(params, X, arch, xp=xp, work=workspace)
        grads = network.backward(params, caches, Y, arch, xp=xp, out=workspace)
        if workspace is None:
            return opt.update(params, grads, opt_state, xp=xp)
        return opt.update_inplace(params, grads, opt_state, xp=xp, work=workspace)


def step_workspace(params, *, xp) -> Workspace | None:
    """The workspace fit keeps for ``params`` where the backend allows in-place work, else None."""
    return Workspace(params, xp=xp) if _backend.supports_inplace(xp) else None


def _network(w: Workload, dtype: str, precision: str = "full"):
    from .models import Network

    return Network(list(w.layers), hidden="relu", output=w.output, init="xavier", seed=1,
                   dtype=dtype, precision=precision)


def xpnet_runner(w: Workload, data: HostData, target: Target, dtype: str,
                 precision: str = "full") -> Runner:
    """xpnet on ``target``: Network.fit for "fit" and "epoch", the core for "step";
    X in the workload's ``layout``."""
    xp = target.xp
    X, Y = _x_in_layout(data.X, target, dtype, w.layout), _to_target(data.Y, target, dtype)
    init = initial_params(w, dtype)
    net = _network(w, dtype, precision)
    if w.kind == "step":
        arch = net.architecture
        params = tuple((_to_target(W, target, dtype), _to_target(b, target, dtype)) for W, b in init)
        opt = optimizers.gradient_descent(w.learning_rate)
        state = opt.init(params, xp=xp)
        workspace = step_workspace(params, xp=xp)
        X = _backend.examples_contiguous(X)  # as fit holds it

        def run():
            new_params, _ = xpnet_step(params, X, Y, arch, opt, state, xp=xp, precision=precision,
                                       workspace=workspace)
            _backend.synchronize(new_params)

        return Runner(run)

    def setup():  # fresh copies: the timed fit starts from the initial weights every time
        net.params = [(_to_target(W, target, dtype), _to_target(b, target, dtype)) for W, b in init]

    def fit(iterations=w.iterations):
        if w.kind == "fit":
            net.fit(X, Y, iterations=iterations, learning_rate=w.learning_rate,
                    optimizer=w.optimizer, record_every=RECORD_EVERY)
        else:
            net.fit(X, Y, epochs=1, batch_size=w.batch_size, learning_rate=w.learning_rate,
                    optimizer=w.optimizer, shuffle_seed=0)
        _backend.synchronize(net.params)

    def trained():
        return [(_backend.to_host(W), _backend.to_host(b)) for W, b in net.params]

    warmup = (lambda: fit(min(w.iterations, WARMUP_ITERATIONS))) if w.kind == "fit" else None
    return Runner(fit, setup=setup, warmup=warmup, params=trained)


# -- the bare GEMMs --------------------------------------------------------------------


def gemm_operands(gemms: Sequence[Gemm], target: Target, dtype: str, seed: int = 0) -> list:
    """(left, right) operands for each product, in the layouts xpnet uses (transposed views)."""
    rng = np.random.RandomState(seed)
    put = lambda *shape: _to_target(rng.randn(*shape), target, dtype)  # noqa: E731
    pairs = []
    for g in gemms:
        if g.kind == "forward":  # W (rows, inner) · A (inner, cols)
            pairs.append((put(g.rows, g.inner), put(g.inner, g.cols)))
        elif g.kind == "dW":  # dZ (rows, inner) · A_prev (cols, inner)ᵀ
            pairs.append((put(g.rows, g.inner), put(g.cols, g.inner).T))
        else:  # W (inner, rows)ᵀ · dZ (inner, cols)
            pairs.append((put(g.inner, g.rows).T, put(g.inner, g.cols)))
    return pairs


def gemm_runner(gemms: Sequence[Gemm], target: Target, dtype: str, number: int = 1,
                cast: Callable | None = None) -> Runner:
    """All ``gemms`` in order, ``number`` times, then a wait for the device; ``cast``, if
    given, turns each operand into another type first (e.g. bfloat16 tensors)."""
    pairs = gemm_operands(gemms, target, dtype)
    if cast is not None:
        pairs = [(cast(left), cast(right)) for left, right in pairs]

    def run():
        out = None
        for _ in range(number):
            for left, right in pairs:
                out = left @ right
        _backend.synchronize(out)

    return Runner(run, per_run=number)


def step_gemms_timing(layers: Sequence[int], m: int, target: Target, dtype: str,
                      repeat: int, cast: Callable | None = None) -> Timing:
    """Median wall and CPU seconds of the GEMMs of one update on m examples, repeated
    to last GEMM_MIN_SECONDS."""
    gemms = step_gemms(layers, m)
    once = min(measure(gemm_runner(gemms, target, dtype, cast=cast), 1))
    number = max(1, min(1000, math.ceil(GEMM_MIN_SECONDS / max(once, 1e-9))))
    return median_timing(measure_times(gemm_runner(gemms, target, dtype, number, cast), repeat))


def time_step_gemms(layers: Sequence[int], m: int, target: Target, dtype: str,
                    repeat: int, cast: Callable | None = None) -> float:
    """Median seconds of the GEMMs of one update on m examples, repeated to last GEMM_MIN_SECONDS."""
    return step_gemms_timing(layers, m, target, dtype, repeat, cast).wall


def time_workload_gemms(w: Workload, target: Target, dtype: str, repeat: int) -> Timing:
    """The bare GEMM time of the whole workload: each batch size's step GEMMs × its count."""
    total = Timing(0.0, 0.0)
    for m, count in Counter(w.batch_sizes).items():
        total = total + count * step_gemms_timing(w.layers, m, target, dtype, repeat)
    return total


# -- PyTorch ---------------------------------------------------------------------------


def torch_runner(w: Workload, data: HostData, kind: str, dtype: str) -> Runner:
    """The same network in PyTorch: nn.Linear + ReLU, xpnet's initial weights, plain SGD
    (``torch.optim.SGD``) or ``torch.optim.Adam`` with the same lr, betas and eps; an
    epoch takes the batches xpnet takes (the same permutation), as rows of (m, n_x)."""
    torch = _optional("torch")
    if kind == "gpu" and not torch.cuda.is_available():
        raise Unavailable("torch sees no CUDA device")
    dev = torch.device("cuda" if kind == "gpu" else "cpu")
    tdtype = getattr(torch, dtype)
    init = initial_params(w, dtype)
    X = torch.from_numpy(np.ascontiguousarray(data.X.T, dtype=dtype)).to(dev)  # (m, n_x)
    if w.output == "sigmoid":
        Y = torch.from_numpy(data.Y.T.astype(dtype)).to(dev)  # (m, 1)
        loss_fn = torch.nn.BCEWithLogitsLoss()
    else:
        Y = torch.from_numpy(data.labels).to(dev)  # class ids (m,)
        loss_fn = torch.nn.CrossEntropyLoss()
    held: dict = {}

    def setup():
        layers = []
        for l, (W, b) in enumerate(init, start=1):
            linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=tdtype, device=dev)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W))
                linear.bias.copy_(torch.from_numpy(b.ravel()))
            layers.append(linear)
            if l < len(init):
                layers.append(torch.nn.ReLU())
        held["model"] = model = torch.nn.Sequential(*layers)
        if w.optimizer == "adam":
            held["opt"] = torch.optim.Adam(model.parameters(), lr=w.learning_rate,
                                           betas=(ADAM["beta1"], ADAM["beta2"]), eps=ADAM["epsilon"])
        else:
            held["opt"] = torch.optim.SGD(model.parameters(), lr=w.learning_rate)

    def step(X_batch, Y_batch):
        model, opt = held["model"], held["opt"]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(X_batch), Y_batch)
        loss.backward()
        opt.step()
        return loss

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    def fit(iterations=w.iterations):
        for i in range(iterations):
            loss = step(X, Y)
            if i % RECORD_EVERY == 0 or i == iterations - 1:
                loss.item()  # as xpnet reads its cost back
        sync()

    def epoch():
        order = torch.from_numpy(np.random.default_rng(0).permutation(w.m)).to(dev)
        total = 0.0
        for start in range(0, w.m, w.batch_size):
            batch = order[start:start + w.batch_size]
            total = total + step(X[batch], Y[batch]).detach() * batch.shape[0]
        (total / w.m).item()
        sync()

    def one_step():
        step(X, Y)
        sync()

    def trained():
        return [(m.weight.detach().cpu().numpy(), m.bias.detach().cpu().numpy().reshape(-1, 1))
                for m in held["model"] if isinstance(m, torch.nn.Linear)]

    if w.kind == "fit":
        return Runner(fit, setup=setup, warmup=lambda: fit(min(w.iterations, WARMUP_ITERATIONS)),
                      params=trained)
    return Runner(epoch if w.kind == "epoch" else one_step, setup=setup, params=trained)


# -- JAX -------------------------------------------------------------------------------


def jax_runner(w: Workload, data: HostData, kind: str, dtype: str) -> Runner:
    """jax.jit of one value_and_grad step of plain gradient descent or Adam, same weights,
    course layout."""
    _optional("jax")
    _backend.namespace_by_name("jax")  # float64 needs jax_enable_x64
    import jax
    import jax.numpy as jnp

    devices = _backend.jax_devices(kind)
    if not devices:
        raise Unavailable(f"jax sees no {kind.upper()}")
    dev = devices[0]
    put = lambda a: jax.device_put(np.asarray(a, dtype=dtype), dev)  # noqa: E731
    init = [(put(W), put(b)) for W, b in initial_params(w, dtype)]
    X, Y = put(data.X), put(data.Y)
    lr, sigmoid = w.learning_rate, w.output == "sigmoid"

    def cost(params, X, Y):
        A = X
        for W, b in params[:-1]:
            A = jax.nn.relu(W @ A + b)
        W, b = params[-1]
        Z = W @ A + b
        if sigmoid:  # binary cross-entropy from the logits
            return jnp.mean(jnp.sum(jax.nn.softplus(Z) - Y * Z, axis=0))
        return -jnp.mean(jnp.sum(Y * jax.nn.log_softmax(Z, axis=0), axis=0))

    tree_map = jax.tree_util.tree_map
    if w.optimizer == "adam":
        beta1, beta2, epsilon = ADAM["beta1"], ADAM["beta2"], ADAM["epsilon"]
        zeros = tree_map(jnp.zeros_like, init)
        start_state = (init, zeros, zeros, jnp.zeros((), dtype=dtype))

        @jax.jit
        def step(state, X, Y):
            params, v, s, t = state
            J, grads = jax.value_and_grad(cost)(params, X, Y)
            t = t + 1
            v = tree_map(lambda v, g: beta1 * v + (1 - beta1) * g, v, grads)
            s = tree_map(lambda s, g: beta2 * s + (1 - beta2) * g * g, s, grads)
            params = tree_map(lambda p, v, s: p - lr * (v / (1 - beta1**t))
                              / (jnp.sqrt(s / (1 - beta2**t)) + epsilon), params, v, s)
            return (params, v, s, t), J
    else:
        start_state = init

        @jax.jit
        def step(params, X, Y):
            J, grads = jax.value_and_grad(cost)(params, X, Y)
            return tree_map(lambda p, g: p - lr * g, params, grads), J

    held = {"state": start_state}

    def fit(iterations=w.iterations):
        state = start_state
        for i in range(iterations):
            state, J = step(state, X, Y)
            if i % RECORD_EVERY == 0 or i == iterations - 1:
                float(J)
        held["state"] = jax.block_until_ready(state)

    def epoch():
        state, total = start_state, 0.0
        order = np.random.default_rng(0).permutation(w.m)
        for start in range(0, w.m, w.batch_size):
            batch = jax.device_put(order[start:start + w.batch_size], dev)
            state, J = step(state, jnp.take(X, batch, axis=1), jnp.take(Y, batch, axis=1))
            total = total + J * batch.shape[0]
        float(total / w.m)
        held["state"] = jax.block_until_ready(state)

    def one_step():
        held["state"] = jax.block_until_ready(step(start_state, X, Y))[0]

    def trained():
        params = held["state"][0] if w.optimizer == "adam" else held["state"]
        return [(np.asarray(W), np.asarray(b)) for W, b in params]

    if w.kind == "fit":
        return Runner(fit, warmup=lambda: fit(min(w.iterations, WARMUP_ITERATIONS)),
                      params=trained)
    return Runner(epoch if w.kind == "epoch" else one_step, params=trained)


# -- scikit-learn --------------------------------------------------------------------


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
    epochs only), on (m, n_x) rows."""
    if w.kind != "epoch":
        raise Unavailable("scikit-learn is compared on the mini-batch epoch only")
    neural_network = _optional("sklearn.neural_network")
    exceptions = _optional("sklearn.exceptions")
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


PEER_RUNNERS = {"torch": torch_runner, "jax": jax_runner, "sklearn": sklearn_runner}


# -- memory of one update ----------------------------------------------------------


def step_memory(w: Workload, target: Target, dtype: str, data: HostData | None = None) -> dict:
    """Peak bytes of one xpnet update of ``w`` at its largest batch, and the model bytes.

    The update is the one fit makes, with the workload's optimizer, on the route
    fit takes (in place into a workspace where the backend allows it). NumPy and
    array-api-strict: tracemalloc's peak during the update above what was
    traced before it, plus the bytes of what it starts from (parameters, the
    optimizer's state, X, Y, and the workspace: gradient buffers and scratch);
    PyTorch on CUDA likewise from ``torch.cuda.max_memory_allocated``. Elsewhere
    the peak is None (n/a) and ``method`` says why.
    """
    m = max(w.batch_sizes)
    itemsize = np.dtype(dtype).itemsize
    slots = len(optimizers.SLOTS[w.optimizer])
    inputs = itemsize * ((1 + slots) * parameter_count(w.layers)
                         + (w.layers[0] + w.layers[-1]) * m)
    result = {"batch": m, "model_bytes": model_bytes(w.layers, m, itemsize, slots),
              "peak_bytes": None, "step_allocated_peak_bytes": None, "peak_over_model": None}
    torch_cuda = target.backend == "torch" and target.kind == "gpu"
    if target.backend not in ("numpy", "array_api_strict") and not torch_cuda:
        result["method"] = f"n/a: no allocation tracing for {target.backend} on {target.kind}"
        return result
    if data is None or data.X.shape[1] < m:
        data = host_data(dataclasses.replace(w, data="random"))
    X = _to_target(data.X[:, :m], target, dtype)
    Y = _to_target(data.Y[:, :m], target, dtype)
    params = tuple((_to_target(W, target, dtype), _to_target(b, target, dtype))
                   for W, b in initial_params(w, dtype))
    arch = _network(w, dtype).architecture
    opt = optimizers.get(w.optimizer, w.learning_rate)
    state = opt.init(params, xp=target.xp)
    workspace = step_workspace(params, xp=target.xp)
    X = _backend.examples_contiguous(X)  # as fit holds it
    step = functools.partial(xpnet_step, params, X, Y, arch, opt, state, xp=target.xp,
                             workspace=workspace)
    step()  # warm: lazy imports, caches
    if torch_cuda:
        import torch

        torch.cuda.synchronize(target.device)
        torch.cuda.reset_peak_memory_stats(target.device)
        base = torch.cuda.memory_allocated(target.device)
        out = step()
        _backend.synchronize(out[0])
        peak = torch.cuda.max_memory_allocated(target.device) - base
        result["method"] = "torch.cuda.max_memory_allocated during one update, + its inputs"
    else:
        tracing = tracemalloc.is_tracing()
        if not tracing:
            tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            out = step()
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            if not tracing:
                tracemalloc.stop()
        result["method"] = "tracemalloc peak during one update, + its inputs"
    del out
    result["workspace_bytes"] = 0 if workspace is None else workspace.nbytes
    result["step_allocated_peak_bytes"] = peak
    result["peak_bytes"] = peak + inputs + result["workspace_bytes"]
    result["peak_over_model"] = result["peak_bytes"] / result["model_bytes"]
    return result


# -- the comparison --------------------------------------------------------------------


def _ratio(a, b):
    return a / b if a is not None and b else None


def compare(w: Workload, target: Target, dtype: str, *, repeat: int = 3,
            peers: Sequence[str] = PEERS, memory: bool = True, precision: str = "full") -> dict:
    """Time xpnet, the peers and the bare GEMMs on workload ``w``; one row of the report.

    Everything runs with float32 products at ``precision`` ("tf32": on TF32
    tensor cores, where the GPU has them). ``seconds`` holds the median wall
    times, ``cpu_seconds`` the median CPU times of the same runs."""
    data = host_data(w)
    timings: dict[str, Timing | None] = {}
    notes: dict[str, str] = {"data": data.source}
    with _backend.matmul_precision(precision):
        timings["xpnet"] = median_timing(
            measure_times(xpnet_runner(w, data, target, dtype, precision), repeat))
        for peer in PEERS:
            if peer not in peers:
                timings[peer], notes[peer] = None, "not asked for"
                continue
            try:
                timings[peer] = median_timing(
                    measure_times(PEER_RUNNERS[peer](w, data, target.kind, dtype), repeat))
            except Unavailable as exc:
                timings[peer], notes[peer] = None, str(exc)
        timings["gemm"] = time_workload_gemms(w, target, dtype, repeat)
    times = {name: None if t is None else t.wall for name, t in timings.items()}
    row = {
        "workload": w.name,
        "title": w.title,
        "layers": list(w.layers),
        "kind": w.kind,
        "m": w.m,
        "batch_size": w.batch_size,
        "updates": w.updates,
        "output": w.output,
        "learning_rate": w.learning_rate,
        "optimizer": w.optimizer,
        "layout": LAYOUTS[w.layout],
        "gemms_per_update": [dataclasses.asdict(g) | {"shape": g.shape}
                             for g in step_gemms(w.layers, max(w.batch_sizes))],
        "flops_per_update": step_flops(w.layers, max(w.batch_sizes)),
        "flops": w.flops,
        "seconds": times,
        "cpu_seconds": {name: None if t is None else t.cpu for name, t in timings.items()},
        "ratios": {
            "xpnet/torch": _ratio(times["xpnet"], times["torch"]),
            "xpnet/jax": _ratio(times["xpnet"], times["jax"]),
            "xpnet/sklearn": _ratio(times["xpnet"], times["sklearn"]),
            "xpnet/gemm": _ratio(times["xpnet"], times["gemm"]),
        },
        "gemm_fraction": _ratio(times["gemm"], times["xpnet"]),
        "gflops_per_s": w.flops / times["xpnet"] / 1e9,
        "notes": notes,
    }
    row["memory"] = step_memory(w, target, dtype, data) if memory else None
    return row


#: How each ``Workload.layout`` is named in a report.
LAYOUTS = {"C": "row-major", "F": "column-major"}


def load_average() -> list[float] | None:
    """The machine's load average over 1, 5 and 15 minutes (``os.getloadavg``), or None
    where the system has none (Windows)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def environment(target: Target, dtype: str, repeat: int, threads: int | None = None) -> dict:
    """Versions, threads in force and devices, and the load average now: the header of
    a report. ``threads`` is the limit asked for (None: the libraries' defaults)."""
    import xpnet

    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "xpnet": xpnet.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "backend": target.backend,
        "device": target.label,
        "peer_device": target.kind,
        "dtype": dtype,
        "repeat": repeat,
        "numpy": np.__version__,
        "numpy_blas": _numpy_blas(),
        "threads": threads,
        "blas": _blas_in_force(),
        "load_average_start": load_average(),
    }
    for name, module in (("torch", "torch"), ("jax", "jax"), ("sklearn", "sklearn")):
        try:
            info[name] = _optional(module).__version__
        except Unavailable:
            info[name] = None
    if info["torch"] is not None:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    info["thread_env"] = {k: v for k, v in os.environ.items()
                          if k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                   "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "XLA_FLAGS")}
    return info


def _blas_in_force() -> list[dict] | None:
    """Each BLAS library loaded now, whose it is and its threads, by threadpoolctl."""
    try:
        from ._threads import blas_threads

        found = blas_threads()
    except ImportError:
        return None
    out = []
    for d in found:
        path = Path(str(d.get("filepath", "")))
        owner = next((part[:-5] for part in reversed(path.parts) if part.endswith(".libs")),
                     path.parent.name)
        out.append({"library": owner, "internal_api": d.get("internal_api"),
                    "version": d.get("version"), "num_threads": d.get("num_threads"),
                    "filepath": str(path)})
    return out


def _numpy_blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "n/a (threadpoolctl not installed)"
    found = [d for d in threadpool_info() if d.get("user_api") == "blas"]
    mine = [d for d in found if "numpy" in str(d.get("filepath", ""))] or found
    return "; ".join(f"{d.get('internal_api')} {d.get('version')}, {d.get('num_threads')} threads"
                     for d in mine) or "n/a (no BLAS found by threadpoolctl)"


#: The module each peer needs, imported before a thread limit applies (threadpoolctl
#: limits only the libraries loaded when it starts: scikit-learn brings SciPy's BLAS).
PEER_MODULES = {"torch": "torch", "jax": "jax", "sklearn": "sklearn.neural_network"}


def run(names: Sequence[str] = WORKLOAD_NAMES, *, backend: str = "numpy", device: str = "auto",
        dtype: str = "float32", iterations: int = 2500, repeat: int = 3,
        peers: Sequence[str] = PEERS, memory: bool = True,
        extra: Sequence[Workload] = (), progress: Callable[[str], None] | None = None,
        precision: str = "full", threads: int | None = None, mnist_m: int = MNIST_M) -> dict:
    """The whole comparison: {"environment": {...}, "workloads": [row, ...]}.

    ``names`` picks standard workloads (:data:`ALL_WORKLOADS`; the default is
    :data:`WORKLOAD_NAMES`); ``extra`` adds custom :class:`Workload` objects after
    them. ``threads``: NumPy's BLAS and torch run with that many threads for the
    whole comparison (:func:`xpnet._threads.limit_threads`), restored after.
    ``mnist_m``: the examples of the MNIST-shaped epochs.
    """
    _positive(repeat, "repeat")
    _positive(iterations, "iterations")
    _positive(mnist_m, "mnist_m")
    check_threads(threads)
    _backend.dtype_by_name(np, dtype)
    if precision not in _backend.PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(_backend.PRECISIONS)}, got {precision!r}")
    if precision == "tf32" and dtype != "float32":
        raise ConfigError("precision tf32 is for float32 products: use --dtype float32")
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise ConfigError(f"unknown peers {unknown}: choose from {', '.join(PEERS)}")
    standard = workloads(iterations, mnist_m)
    chosen = []
    for name in names:
        if name not in standard:
            raise ConfigError(f"unknown workload {name!r}: choose from {', '.join(ALL_WORKLOADS)}")
        chosen.append(standard[name])
    chosen += list(extra)
    target = resolve_target(backend, device)
    if threads is not None:  # the header imports them all (their versions): load them first
        for module in PEER_MODULES.values():
            try:
                _optional(module)
            except Unavailable:
                pass  # its cells will say why
    with limit_threads(threads, torch=True):
        report = {"environment": environment(target, dtype, repeat, threads)
                  | {"precision": precision}, "workloads": []}
        for w in chosen:
            if progress:
                progress(f"{w.name}: {w.title or w.kind} ...")
            report["workloads"].append(compare(w, target, dtype, repeat=repeat, peers=peers,
                                               memory=memory, precision=precision))
    report["environment"]["load_average_end"] = load_average()
    return report


def _positive(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be an integer ≥ 1, got {value!r}")


# -- tables ------------------------------------------------------------------------------


def _seconds(x):
    if x is None:
        return "n/a"
    return f"{x:.3f}" if x >= 0.1 else f"{x * 1e3:.2f} ms"


def _seconds_cpu(wall, cpu):
    """A wall time and, beside it, the CPU time of the same runs: "1.230 (CPU 1.190)"."""
    if wall is None:
        return "n/a"
    return _seconds(wall) if cpu is None else f"{_seconds(wall)} (CPU {_seconds(cpu)})"


def _load(values) -> str:
    return "n/a" if not values else " ".join(f"{x:.2f}" for x in values)


def _times(x):
    return "n/a" if x is None else f"{x:.2f}×"


def _mib(x):
    return "n/a" if x is None else f"{x / 2**20:.1f}"


def header_lines(env: dict) -> list[str]:
    torch = "n/a" if env.get("torch") is None else (
        f"{env['torch']} ({env.get('torch_threads')} threads)")
    lines = [
        f"backend {env['backend']} on {env['device']}, {env['dtype']}"
        f"{'' if env.get('precision', 'full') == 'full' else ' with ' + env['precision'].upper() + ' products'}"
        f"; torch and jax on the "
        f"{env['peer_device'].upper()}; median of {env['repeat']} after a warm-up",
        f"python {env['python']}, {env['cpus']} CPUs, {env['platform']}",
        f"numpy {env['numpy']} (BLAS: {env['numpy_blas']}); torch {torch}; "
        f"jax {env.get('jax') or 'n/a'}; scikit-learn {env.get('sklearn') or 'n/a'}",
        f"scikit-learn: {SKLEARN_SOLVER}, on the CPU",
        threads_line(env),
        f"load average (1, 5, 15 min): {_load(env.get('load_average_start'))} at the start, "
        f"{_load(env.get('load_average_end'))} at the end",
    ]
    if env.get("thread_env"):
        lines.append("environment: " + ", ".join(f"{k}={v}" for k, v in env["thread_env"].items()))
    return lines


def threads_line(env: dict) -> str:
    """The thread counts in force during the run, as the header shows them."""
    asked = ("the libraries' defaults" if env.get("threads") is None
             else f"--threads {env['threads']}")
    blas = env.get("blas")
    if blas is None:
        in_force = "BLAS n/a (threadpoolctl not installed)"
    else:
        in_force = "; ".join(f"{b['library']}'s {b['internal_api']} {b['num_threads']}"
                             for b in blas) or "no BLAS found by threadpoolctl"
        in_force = f"BLAS {in_force}"
    torch = env.get("torch_threads")
    return (f"threads: {asked}; in force: {in_force}; torch {'n/a' if torch is None else torch}"
            f"; jax its own (not limited)")


def tables(report: dict) -> str:
    """The report as Markdown: a header, the times and ratios, the memory, the notes."""
    rows = report["workloads"]
    out = [f"- {line}" for line in header_lines(report["environment"])]
    out += ["", "Times in seconds for the whole workload (a fit, an epoch, one step): wall "
            "(perf_counter), and the process's CPU time (process_time) of the same runs.", "",
            "| workload | xpnet | torch | jax | sklearn | GEMM | xpnet/torch | xpnet/jax "
            "| xpnet/sklearn | xpnet/GEMM | GEMM share | xpnet GFLOP/s |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        s, q = r["seconds"], r["ratios"]
        c = r.get("cpu_seconds") or {}
        t = {name: _seconds_cpu(s[name], c.get(name)) for name in s}
        share = "n/a" if r["gemm_fraction"] is None else f"{100 * r['gemm_fraction']:.0f} %"
        out.append(
            f"| {r['workload']} | {t['xpnet']} | {t['torch']} "
            f"| {t['jax']} | {t['sklearn']} | {t['gemm']} "
            f"| {_times(q['xpnet/torch'])} | {_times(q['xpnet/jax'])} | {_times(q['xpnet/sklearn'])} "
            f"| {_times(q['xpnet/gemm'])} | {share} | {r['gflops_per_s']:.1f} |")
    out += ["", "One update: GEMM work and memory (MiB).", "",
            "| workload | network | training | batch | updates | GFLOP / update | step peak "
            "| model bytes | peak / model |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        mem = r["memory"] or {}
        ratio = mem.get("peak_over_model")
        training = f"{r.get('optimizer', 'sgd')}, m = {r['m']}, X {r.get('layout', 'row-major')}"
        out.append(
            f"| {r['workload']} | {r['layers']} {r['output']} | {training} "
            f"| {mem.get('batch', max_batch(r))} "
            f"| {r['updates']} | {r['flops_per_update'] / 1e9:.3f} | {_mib(mem.get('peak_bytes'))} "
            f"| {_mib(mem.get('model_bytes'))} | {'n/a' if ratio is None else f'{ratio:.2f}'} |")
    notes: dict[tuple[str, str], list[str]] = {}  # (what, text) -> workloads
    for r in rows:
        items = list(r["notes"].items())
        if r["memory"] and r["memory"].get("method"):
            items.append(("memory", r["memory"]["method"]))
        for key, text in items:
            notes.setdefault((key, text), []).append(r["workload"])
    if notes:
        out += ["", "Notes:", ""]
        for (key, text), names in notes.items():
            where = "all workloads" if len(names) == len(rows) > 1 else ", ".join(names)
            out.append(f"- {key} ({where}): {text}")
    return "\n".join(out)


def max_batch(row: dict) -> int:
    return row["batch_size"] or row["m"]


# -- command line ----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``xpnet bench`` and ``python -m xpnet.bench``."""
    parser.add_argument("--backend", default="numpy", choices=_backend.BACKENDS,
                        help="array library xpnet runs on (default: numpy)")
    parser.add_argument("--device", default="auto", choices=DEVICES,
                        help="auto (the backend's GPU where it has one), cpu or gpu; "
                             "torch and jax run on the same kind of device")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--precision", default="full", choices=_backend.PRECISIONS,
                        help="tf32: float32 products on TF32 tensor cores, for xpnet, its peers and "
                             "the bare GEMMs alike (NVIDIA GPUs from Ampere on)")
    parser.add_argument("--workloads", nargs="+", choices=ALL_WORKLOADS, default=list(WORKLOAD_NAMES),
                        metavar="NAME",
                        help=f"which to run: {', '.join(ALL_WORKLOADS)} (default: "
                             f"{' '.join(WORKLOAD_NAMES)})")
    parser.add_argument("--iterations", type=int, default=2500,
                        help="full-batch updates of cat-fit (default: 2500)")
    parser.add_argument("--mnist-m", type=int, default=MNIST_M, metavar="M",
                        help=f"examples of the mnist epochs (default: {MNIST_M})")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="threads of NumPy's BLAS and of torch for the whole run (default: "
                             "the libraries' own); on a busy or shared machine 1 can be "
                             "several times faster than 2")
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="timings per implementation; the median is reported (default: 3)")
    parser.add_argument("--peers", nargs="*", choices=PEERS, default=list(PEERS), metavar="NAME",
                        help=f"implementations to compare with (default: all): {', '.join(PEERS)}")
    parser.add_argument("--no-memory", dest="memory", action="store_false",
                        help="skip the memory measurement of one update")
    parser.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the tables as Markdown")
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Run the comparison for parsed options, print the tables, write the files; exit status."""
    report = run(args.workloads, backend=args.backend, device=args.device, dtype=args.dtype,
                 precision=args.precision, threads=args.threads, mnist_m=args.mnist_m,
                 iterations=args.iterations, repeat=args.repeat, peers=args.peers,
                 memory=args.memory, progress=lambda text: print(text, file=sys.stderr, flush=True))
    text = tables(report)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    if args.markdown:
        Path(args.markdown).write_text(f"# xpnet bench\n\n{text}\n")
        print(f"wrote {args.markdown}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = add_arguments(argparse.ArgumentParser(
        prog="python -m xpnet.bench", description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter))
    args = parser.parse_args(argv)
    try:
        return run_from_args(args)
    except XpnetError as exc:
        print(f"xpnet bench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
