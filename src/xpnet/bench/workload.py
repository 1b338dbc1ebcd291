"""What a benchmark trains and what it costs: the workloads, the GEMMs of an update,
their FLOPs, and the bytes an update cannot do without.

Plain arithmetic on shapes: no array library.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from ..errors import ConfigError
from .options import ITERATIONS, MNIST_M, SWEEP_SIZES

CAT_LAYERS = (12288, 20, 7, 5, 1)
#: The course's two-layer cat network (a hidden layer of 7 relu units).
CAT_2LAYER = (12288, 7, 1)
WIDE_LAYERS = (3072, 1024, 1024, 10)
DIGITS_LAYERS = (64, 64, 10)
MNIST_LAYERS = (784, 256, 128, 10)

#: The optimizers a workload can train with; Adam's settings are the usual defaults.
OPTIMIZERS = ("sgd", "adam")
ADAM = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
#: How each ``Workload.layout`` is named in a report.
LAYOUTS = {"C": "row-major", "F": "column-major"}
#: The networks of the sweep workloads, by the name they give the workload.
SWEEP_NETWORKS = {"2layer": CAT_2LAYER, "4layer": CAT_LAYERS}
#: A sweep's learning rates fall on a log scale over this many decades below the
#: workload's rate (the course's 0.0075: no network of the sweep diverges).
SWEEP_DECADES = 1.0


@dataclass(frozen=True)
class Workload:
    """A network, its data and how much to train it.

    ``kind`` is "fit" (``iterations`` full-batch updates on m examples),
    "epoch" (one pass over m examples in mini-batches of ``batch_size``) or
    "step" (one full-batch update on m examples) or "sweep" (``iterations``
    full-batch updates of each of ``networks`` networks of the shape ``layers``,
    trained together: see :attr:`learning_rates` and :attr:`seeds`). ``data`` is "cat" (the
    course's images where found), "digits" (scikit-learn's, where installed),
    "random" (standard normal) or "pixels" (uniform in [0, 1), float32, like
    images scaled by 1/255); either of the first two falls back to random data
    of its shape. ``optimizer`` is "sgd" (plain gradient descent) or "adam"
    (β1 0.9, β2 0.999, ε 1e-8, for every implementation). ``layout`` is how
    xpnet's X (n_x, m) lies in memory: "C" row-major (each feature's m values
    contiguous) or "F" column-major (each example contiguous, what
    ``images.reshape(m, -1).T`` gives); it matters where the backend has strides
    (NumPy, torch). The peers take X as they take it, (m, n_x) rows.
    ``networks`` is K, the networks of a sweep (1 for every other kind).
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
    networks: int = 1

    def __post_init__(self):
        if self.kind not in ("fit", "epoch", "step", "sweep"):
            raise ConfigError(f"workload kind must be fit, epoch, step or sweep, got {self.kind!r}")
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
        if isinstance(self.networks, bool) or not isinstance(self.networks, int) \
                or self.networks < 1:
            raise ConfigError(f"workload networks must be an integer ≥ 1, got {self.networks!r}")
        if self.kind == "sweep":
            if self.optimizer != "sgd" or self.output != "sigmoid":
                raise ConfigError("a sweep workload times plain gradient descent of sigmoid "
                                  "networks: optimizer sgd, output sigmoid")
        elif self.networks != 1:
            raise ConfigError(f"a {self.kind} workload trains one network, not {self.networks}: "
                              "several are a sweep")

    @property
    def learning_rates(self) -> tuple[float, ...]:
        """One learning rate per network: ``learning_rate`` · 10^(−d·k/K) for k = 0..K−1,
        d = :data:`SWEEP_DECADES` (a log scale from the workload's rate down); network 0
        has the workload's rate."""
        K = self.networks
        return tuple(self.learning_rate * 10 ** (-SWEEP_DECADES * k / K) for k in range(K))

    @property
    def seeds(self) -> tuple[int, ...]:
        """The seed of each network's initial weights: 1, 2, ..., K (network 0 starts
        from the weights every other workload starts from)."""
        return tuple(range(1, self.networks + 1))

    @property
    def batch_sizes(self) -> list[int]:
        """The batch size of each update the workload makes, in order (of each network,
        for a sweep)."""
        if self.kind in ("fit", "sweep"):
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
        """GEMM FLOPs of the whole workload (2·m·n·k per product), every network's."""
        return self.networks * sum(count * step_flops(self.layers, m)
                                   for m, count in Counter(self.batch_sizes).items())


def sweep_name(network: str, K: int) -> str:
    """The name of the sweep workload of K networks ``network`` ("2layer", "4layer")."""
    return f"sweep-{network}-{K}"


def sweep_workloads(iterations: int = ITERATIONS,
                    sizes: Sequence[int] = SWEEP_SIZES) -> dict[str, Workload]:
    """The sweeps by name: K networks of the two-layer [12288, 7, 1] and of the four-layer
    [12288, 20, 7, 5, 1] cat network, K in ``sizes``, each ``iterations`` full-batch
    updates on the cat images (m = 209), learning rates from 0.0075 down a decade,
    seeds 1..K."""
    return {
        sweep_name(network, K): Workload(
            sweep_name(network, K), layers, "sweep", 209, output="sigmoid",
            learning_rate=0.0075, iterations=iterations, data="cat", networks=K,
            title=f"{K} {network[0]}-layer cat networks, {iterations} iterations, m = 209")
        for network, layers in SWEEP_NETWORKS.items() for K in sizes}


def workloads(iterations: int = ITERATIONS, mnist_m: int = MNIST_M) -> dict[str, Workload]:
    """The standard workloads by name (see :mod:`xpnet.bench`); ``iterations`` updates of
    the cat fit and of the sweeps, ``mnist_m`` examples in the MNIST-shaped epochs."""
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
        **sweep_workloads(iterations),
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
