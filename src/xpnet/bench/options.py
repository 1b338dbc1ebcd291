"""The options of ``xpnet bench`` and ``python -m xpnet.bench``, and the names they choose from.

``xpnet``'s parser imports this module, and only this one, to add the ``bench``
command: it needs argparse and :mod:`xpnet._backend`'s names, nothing that
times or measures. The rest of :mod:`xpnet.bench` loads when a benchmark runs.
"""

from __future__ import annotations

import argparse

from .._backend import BACKENDS, DEVICES, PRECISIONS

#: The workloads ``xpnet bench`` runs by default, in the order they run.
WORKLOAD_NAMES = ("cat-fit", "wide-step-4096", "digits-epoch", "wide-step-512")
#: The MNIST-shaped epochs, X row-major and column-major: asked for with ``--workloads``.
MNIST_WORKLOADS = ("mnist-epoch", "mnist-epoch-colmajor")
#: The networks in a sweep workload (K); each K a workload of each network.
SWEEP_SIZES = (1, 4, 16, 64)
#: The sweeps, K two-layer or four-layer cat networks trained as a stack (xpnet.Sweep),
#: next to K separate fits and torch.func.vmap / jax.vmap: asked for with ``--workloads``.
SWEEP_WORKLOADS = tuple(f"sweep-{network}-{K}" for network in ("2layer", "4layer")
                        for K in SWEEP_SIZES)
#: Every workload ``--workloads`` can name.
ALL_WORKLOADS = WORKLOAD_NAMES + MNIST_WORKLOADS + SWEEP_WORKLOADS
#: Examples of the MNIST-shaped epoch unless ``mnist_m`` (``--mnist-m``) says otherwise.
MNIST_M = 60_000
#: Full-batch updates of ``cat-fit`` unless ``--iterations`` says otherwise.
ITERATIONS = 2500
#: The implementations compared with xpnet.
PEERS = ("torch", "jax", "sklearn")

HELP = "time xpnet next to PyTorch, JAX, scikit-learn and the bare GEMMs"
DESCRIPTION = ("Side-by-side speed: xpnet next to PyTorch autograd, JAX jit, scikit-learn "
               "and the bare GEMMs.")


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the options of ``xpnet bench`` to ``parser``; returns it.

    Options are never abbreviated (``--repeat`` is no ``--rep``): a mistyped option is
    refused, not taken for another. ``xpnet bench`` also names the nearest option.
    """
    parser.allow_abbrev = False
    parser.add_argument("--backend", default="numpy", choices=BACKENDS,
                        help="array library xpnet runs on (default: numpy)")
    parser.add_argument("--device", default="auto", choices=DEVICES,
                        help="auto (the backend's GPU where it has one), cpu or gpu; "
                             "torch and jax run on the same kind of device")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--precision", default="full", choices=PRECISIONS,
                        help="tf32: float32 products on TF32 tensor cores, for xpnet, its peers and "
                             "the bare GEMMs alike (NVIDIA GPUs from Ampere on)")
    parser.add_argument("--workloads", nargs="+", choices=ALL_WORKLOADS, default=list(WORKLOAD_NAMES),
                        metavar="NAME",
                        help=f"which to run: {', '.join(ALL_WORKLOADS)} (default: "
                             f"{' '.join(WORKLOAD_NAMES)})")
    parser.add_argument("--iterations", type=int, default=ITERATIONS,
                        help=f"full-batch updates of cat-fit and of each network of the sweeps "
                             f"(default: {ITERATIONS})")
    parser.add_argument("--mnist-m", type=int, default=MNIST_M, metavar="M",
                        help=f"examples of the mnist epochs (default: {MNIST_M})")
    parser.add_argument("--data", metavar="DIR",
                        help="folder with the course's cat h5 files, for cat-fit and the "
                             "sweeps (default: $XPNET_DATA; without either, they run on random "
                             "data of their shape)")
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
    parser.add_argument("--no-separate", dest="separate", action="store_false",
                        help="sweeps: skip the K separate fits (K times one fit's time; the "
                             "sweep is still compared with one fit)")
    parser.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the tables as Markdown")
    return parser
