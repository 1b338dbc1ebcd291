"""Side-by-side speed: xpnet next to PyTorch autograd, JAX jit, scikit-learn and the bare GEMMs.

    xpnet bench                                           # numpy, float32, the four default workloads
    python -m xpnet.bench --backend torch --dtype float64 --repeat 5
    xpnet bench --workloads cat-fit digits-epoch --iterations 200 --json out.json --markdown out.md
    xpnet bench --workloads mnist-epoch mnist-epoch-colmajor --mnist-m 15000 --threads 1

The workloads, each a network, a batch and an amount of training:

| name             | network                              | timed                                         |
|------------------|--------------------------------------|-----------------------------------------------|
| ``cat-fit``      | [12288, 20, 7, 5, 1] relu, sigmoid   | ``--iterations`` full-batch updates at m = 209 (default 2500), lr 0.0075, the course's cat images (``--data``, ``$XPNET_DATA``) where given, else random data of their shape |
| ``wide-step-4096`` | [3072, 1024, 1024, 10] relu, softmax | one update (forward + backward + gradient descent) at m = 4096 |
| ``digits-epoch`` | [64, 64, 10] relu, softmax           | one epoch of mini-batches of 64 over scikit-learn's digits (1797 examples, standardized), lr 0.1 |
| ``wide-step-512``  | [3072, 1024, 1024, 10] relu, softmax | one update at m = 512                         |
| ``mnist-epoch``    | [784, 256, 128, 10] relu, softmax    | one epoch of Adam (lr 1e-3, batch 128) over m = 60,000 (``--mnist-m``) random pixels in [0, 1) and labels, X row-major |
| ``mnist-epoch-colmajor`` | the same                       | the same, X column-major (each example contiguous) |
| ``sweep-2layer-K``, ``sweep-4layer-K`` (K = 1, 4, 16, 64) | [12288, 7, 1] or [12288, 20, 7, 5, 1] relu, sigmoid | K networks, ``--iterations`` full-batch updates each at m = 209 on the cat images (or their stand-in, as ``cat-fit``); network k has learning rate 0.0075·10^(−k/K) and seed k + 1 |

The first four run by default; the two MNIST-shaped epochs and the sweeps when
``--workloads`` names them.

A sweep (issue 17) is timed as: **xpnet.Sweep**, the K networks trained as one
stack (``Sweep(net, learning_rate=[...], seed=[...]).fit``); **one fit**,
network 0 alone (``Network.fit``); **K separate fits**, the K networks' fits
one after the other (``--no-separate`` leaves them out: K times one fit's
time); **torch vmap**, PyTorch's model-ensembling recipe
(``torch.func.stack_module_state``, ``functional_call``, ``grad_and_value``,
``torch.func.vmap`` over the models, BCE with logits, each model's learning
rate); **jax vmap**, ``jax.jit(jax.vmap(step))`` of the ``value_and_grad``
step below, compiled ahead of the timing (its compile time reported apart).
xpnet's runs are the calls a user makes, drawing the initial weights; the
peers start from the same weights, drawn beforehand. Reported: each time, and
the ratios sweep/one fit, sweep/separate, sweep/torch vmap and sweep/jax vmap.

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

Cat images: ``--data DIR``, else the folder ``$XPNET_DATA`` names; without
either, ``cat-fit`` runs on random data of their shape and its notes say so.

The modules, one concern each:

| module | what |
|--------|------|
| ``options`` | the command's options and the names they choose from; all ``xpnet``'s parser imports |
| ``workload`` | :class:`Workload`, :func:`workloads`, the GEMMs of an update, FLOPs, model bytes |
| ``hostdata`` | a workload's data and initial weights on the host, and their way to a device |
| ``available`` | which optional libraries and devices can run here (:class:`Unavailable`) |
| ``timing`` | :class:`Runner`, :class:`Timing` and the timed runs |
| ``runner_xpnet``, ``runner_torch``, ``runner_jax``, ``runner_sklearn``, ``runner_gemm`` | one implementation each: xpnet, its peers, the bare GEMMs |
| ``memory`` | the memory of one update |
| ``machine`` | versions, threads in force, the load average |
| ``comparison`` | :func:`run` and :func:`compare`: every implementation on every workload |
| ``report`` | the header and the Markdown tables |
| ``cli`` | ``python -m xpnet.bench`` and the body of ``xpnet bench`` |

Every name is importable from the package (``from xpnet.bench import
torch_runner``); a module loads when one of its names is first used.
Libraries other than NumPy are imported inside the functions that use them, so
``import xpnet`` never needs them, and building ``xpnet``'s parser imports only
:mod:`xpnet.bench.options`.
"""

from __future__ import annotations

import importlib

#: Where each name of the package is defined, by module.
_EXPORTS = {
    "options": ["ALL_WORKLOADS", "ITERATIONS", "MNIST_M", "MNIST_WORKLOADS", "PEERS",
                "SWEEP_SIZES", "SWEEP_WORKLOADS", "WORKLOAD_NAMES", "add_arguments"],
    "workload": ["ADAM", "CAT_2LAYER", "CAT_LAYERS", "DIGITS_LAYERS", "Gemm", "LAYOUTS",
                 "MNIST_LAYERS", "OPTIMIZERS", "SWEEP_DECADES", "SWEEP_NETWORKS", "WIDE_LAYERS",
                 "Workload", "model_bytes", "parameter_count", "step_flops", "step_gemms",
                 "sweep_name", "sweep_workloads", "workloads"],
    "hostdata": ["HostData", "host_data", "initial_params", "sweep_initial_params", "to_target",
                 "x_in_layout"],
    "available": ["Unavailable", "backend_unavailable", "optional"],
    "timing": ["RECORD_EVERY", "Runner", "Timing", "WARMUP_ITERATIONS", "measure",
               "measure_times", "median_timing", "ratio"],
    "runner_xpnet": ["bench_network", "separate_fits_runner", "step_workspace", "sweep_runner",
                     "xpnet_runner", "xpnet_step"],
    "runner_torch": ["torch_runner", "torch_vmap_runner"],
    "runner_jax": ["jax_runner", "jax_vmap_runner"],
    "runner_sklearn": ["SKLEARN_SOLVER", "SKLEARN_SOLVERS", "sklearn_runner"],
    "runner_gemm": ["GEMM_MIN_SECONDS", "gemm_operands", "gemm_runner", "step_gemms_timing",
                    "time_step_gemms", "time_workload_gemms"],
    "memory": ["step_memory"],
    "machine": ["environment", "load_average"],
    "comparison": ["PEER_MODULES", "PEER_RUNNERS", "SWEEP_IMPLEMENTATIONS", "SWEEP_PEER_KEYS",
                   "SWEEP_PEER_RUNNERS", "compare", "compare_sweep", "run"],
    "report": ["SWEEP_COLUMNS", "format_load", "format_ratio", "format_seconds",
               "format_seconds_cpu", "header_lines", "max_batch", "sweep_table", "tables",
               "threads_line"],
    "cli": ["main", "run_from_args"],
}
# Where the compared runs go: xpnet's own targets, re-exported for the scripts in benchmarks/.
_EXPORTS_FROM_BACKEND = ("DEVICES", "Target", "resolve_target")

_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted([*_MODULE_OF, *_EXPORTS_FROM_BACKEND])


def __getattr__(name: str):
    """A name of the package, from the module that defines it, imported on first use."""
    if name in _EXPORTS_FROM_BACKEND:
        from .. import _backend

        return getattr(_backend, name)
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
