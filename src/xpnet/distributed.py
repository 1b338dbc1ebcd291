"""Data-parallel training over MPI: each process holds a shard of the examples.

    mpirun -n 4 xpnet train --data DIR                  the command line finds MPI itself
    mpirun -n 4 python -m mpi4py train.py               a script: net.fit(X_r, Y_r, comm=MPI.COMM_WORLD)

One update on N processes, in the course's notation. Process r holds m_r of
the m examples (the shards may be unequal). J averages the loss over all m,
so its gradients are sums over the processes:

    dW[l] = Σ_r dZ_r[l]·A_r[l-1]ᵀ / m          db[l] = Σ_r Σ_columns dZ_r[l] / m

Each process computes its share (its own backward pass, divided by the global
m), one all-reduce sums the shares of all layers at once, and the L2 term,
which depends on the parameters alone, is added after the sum. Every process
then makes the same update to the same parameters: rank 0's initial
parameters are broadcast before the first step.

Examples have global positions: rank 0's columns first, then rank 1's, and so
on (:func:`shard` cuts a full data set that way). Mini-batches are global:
every process draws the same seeded permutation of the m positions, a batch
is a run of it, and each process takes the examples of the batch it holds.
Dropout masks are drawn for the whole batch, and each process keeps its own
columns. So N processes follow the trajectory of one process on the whole
data, up to the order of floating-point sums.

Only rank 0 writes checkpoints and shows progress. A checkpoint holds nothing
about the processes, so a fit may resume on another number of them.

Where the gradients travel: NumPy and CPU tensors are handed to MPI where they
lie; CuPy arrays go straight to a CUDA-aware MPI, else through host memory
(:attr:`Group.transport` says which, and ``XPNET_MPI_CUDA_AWARE=1|0``
overrides the detection).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import sys
import time
from typing import Any, Iterator, Sequence

import numpy as np

from . import _backend
from .errors import ConfigError, XpnetError

#: Variables that MPI launchers set in each process: Open MPI, then PMIx, then MPICH/Hydra and Slurm.
_LAUNCHER_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", "SLURM_NTASKS")


class DistributedError(XpnetError, RuntimeError):
    """Another process of the group failed; the message names its rank and its error."""


class Shard:
    """Which of a data set's m examples this process holds.

    ``index`` is a NumPy integer array (m_local,): the global position of each
    local column, in local column order; None means all m, in order (one process).
    """

    def __init__(self, m: int, index: np.ndarray | None = None):
        self.m = m
        self.index = index
        self._local_of = None

    @property
    def m_local(self) -> int:
        return self.m if self.index is None else len(self.index)

    def select(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(columns, within) for the examples at global ``positions`` (a NumPy array).

        ``columns`` are the local columns of those held here, in the order of
        ``positions``; ``within`` are their indices into ``positions``, or None
        when every one is held here.
        """
        if self.index is None:
            return positions, None
        if self._local_of is None:
            self._local_of = np.full(self.m, -1, dtype=np.int64)
            self._local_of[self.index] = np.arange(len(self.index))
        local = self._local_of[positions]
        within = np.flatnonzero(local >= 0)
        return local[within], within

    def subset(self, positions: np.ndarray) -> tuple[np.ndarray, "Shard"]:
        """(columns, shard) of the data set made of the examples at ``positions``, in that
        order: the local columns to take, and this process's shard of the new set."""
        columns, within = self.select(positions)
        return columns, Shard(len(positions), within)

    def batches(self, order: np.ndarray, batch_size: int, *, like
                ) -> tuple[Any, list[tuple[int, int, int, np.ndarray | None]]]:
        """The local side of an epoch's mini-batches, cut from the global ``order``.

        Returns (columns, batches): the local columns of every batch, one after
        the other, moved in one transfer to the namespace and device of the
        array ``like`` (the data they index); and for each batch
        (its global size, start and stop in ``columns``, and the indices
        within the batch of the examples held here, or None for all).
        """
        pieces, batches, start = [], [], 0
        for first in range(0, self.m, batch_size):
            positions = order[first:first + batch_size]
            columns, within = self.select(positions)
            pieces.append(columns)
            batches.append((len(positions), start, start + len(columns), within))
            start += len(columns)
        columns = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
        xp = _backend.namespace(like)
        return _backend.from_host(columns, xp, _backend.device(like)), batches


class SingleProcess:
    """The group of one: no communication at all. What ``fit`` uses without ``comm``."""

    rank = 0
    size = 1

    def transport(self, xp, device=None) -> str:
        return "none (one process)"

    def shard(self, m_local: int) -> Shard:
        return Shard(m_local)

    def sum(self, *values) -> tuple[float, ...]:
        """The values (0-d arrays or numbers) as Python floats: read back to the host."""
        return tuple(float(v) for v in values)

    def sum_gradients(self, grads: list, *, xp) -> list:
        return grads

    def broadcast(self, params: tuple, *, xp) -> tuple:
        return params

    def agree(self, error: BaseException | None) -> None:
        if error is not None:
            raise error

    def max(self, value: int) -> int:
        return value

    def seed(self, seed: int | None) -> int | None:
        return seed


class Group:
    """A data-parallel group: an mpi4py communicator, and the collectives training needs.

    ``comm_seconds`` and ``allreduces`` count the gradient all-reduces so far
    (the time includes staging through host memory and, on a GPU, waiting for
    the device to finish the backward pass).
    """

    def __init__(self, comm, *, cuda_aware: bool | None = None):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self._cuda_aware = cuda_aware
        self.comm_seconds = 0.0
        self.allreduces = 0

    def __repr__(self) -> str:
        return f"Group(rank {self.rank} of {self.size})"

    # -- where the data lives -----------------------------------------------------

    def shard(self, m_local: int) -> Shard:
        """This process's shard of a data set of which it holds ``m_local`` examples:
        the shards are laid end to end in rank order."""
        counts = self.comm.allgather(int(m_local))
        offset = sum(counts[: self.rank])
        return Shard(sum(counts), np.arange(offset, offset + m_local, dtype=np.int64))

    @property
    def cuda_aware(self) -> bool:
        """Whether the MPI library takes CUDA device buffers (Open MPI's own query, or
        ``XPNET_MPI_CUDA_AWARE``)."""
        if self._cuda_aware is None:
            self._cuda_aware = _query_cuda_aware()
        return self._cuda_aware

    def transport(self, xp, device=None) -> str:
        """How gradients of namespace ``xp`` on ``device`` travel, in words (``xpnet train``
        says it once)."""
        if not _backend.on_accelerator(xp, device):
            return "MPI on host memory"
        if _backend.backend_name(xp) != "cupy":
            return "MPI through host memory (staged: only CuPy's buffers go to MPI directly)"
        if self.cuda_aware:
            return "CUDA-aware MPI on device memory"
        return "MPI through host memory (staged: this MPI is not CUDA-aware)"

    # -- collectives --------------------------------------------------------------

    def sum(self, *values) -> tuple[float, ...]:
        """The sums over all processes of each value (0-d arrays or numbers), as floats."""
        from mpi4py import MPI

        buffer = np.array([float(v) for v in values], dtype=np.float64)
        self.comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        return tuple(buffer.tolist())

    def max(self, value: int) -> int:
        from mpi4py import MPI

        return self.comm.allreduce(int(value), op=MPI.MAX)

    def seed(self, seed: int | None) -> int:
        """The seed of the shuffles and masks, the same on every process: rank 0's
        fresh entropy where ``seed`` is None."""
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)
        return self.comm.bcast(seed, root=0)

    def sum_gradients(self, grads: list, *, xp) -> list:
        """[(ΣdW[l], Σdb[l])]: each gradient summed over the processes, all in one all-reduce."""
        from mpi4py import MPI

        start = time.perf_counter()
        flat = _flatten(grads, xp=xp)
        if _backend.backend_name(xp) == "cupy" and self.cuda_aware:
            _backend.synchronize(flat)  # MPI reads the buffer outside CuPy's stream
            self.comm.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)
        else:
            host = _writable_host(flat)
            self.comm.Allreduce(MPI.IN_PLACE, host, op=MPI.SUM)
            flat = _backend.from_host(host, xp, _backend.device(flat))
        self.comm_seconds += time.perf_counter() - start
        self.allreduces += 1
        return _unflatten(flat, grads, xp=xp)

    def broadcast(self, params: tuple, *, xp) -> tuple:
        """Rank 0's parameters, on every process (same namespace and device as ``params``)."""
        flat = _flatten(params, xp=xp)
        host = _writable_host(flat)
        self.comm.Bcast(host, root=0)
        return tuple(_unflatten(_backend.from_host(host, xp, _backend.device(flat)), params, xp=xp))

    def agree(self, error: BaseException | None) -> None:
        """Raise on every process if any of them failed: ``error`` where it happened,
        a :class:`DistributedError` naming the rank elsewhere. Used where each
        process checks its own input, so that none is left waiting for the others."""
        said = None if error is None else f"{type(error).__name__}: {error}"
        failed = [(rank, text) for rank, text in enumerate(self.comm.allgather(said)) if text]
        if error is not None:
            # Every process raises here together: abort_on_error need not stop the others.
            error.raised_by_every_process = True
            raise error
        if failed:
            rank, text = failed[0]
            raise DistributedError(f"rank {rank} of {self.size} failed: {text}")


def group(comm) -> SingleProcess | Group:
    """The group for ``fit(comm=...)``: None (one process), an mpi4py communicator, or a
    :class:`Group` (to read its counters afterwards)."""
    if comm is None:
        return SingleProcess()
    if isinstance(comm, (Group, SingleProcess)):
        return comm
    if not (hasattr(comm, "Get_rank") and hasattr(comm, "Allreduce")):
        raise ConfigError(f"comm must be an mpi4py communicator (e.g. MPI.COMM_WORLD), got {comm!r}")
    return Group(comm)


def shard(X, Y=None, comm=None):
    """This process's share of a whole data set (X (n_x, m) and Y (n[L], m) or (m,)):
    contiguous column ranges in rank order, whose sizes differ by at most one.

    For when every process has loaded everything (as ``xpnet train`` does);
    returns X's columns (and Y's) in their own namespace, without copying where
    slicing is a view.
    """
    g = group(comm)
    m = X.shape[1]
    start, stop = g.rank * m // g.size, (g.rank + 1) * m // g.size
    X_part = X[:, start:stop]
    if Y is None:
        return X_part
    return X_part, (Y[start:stop] if Y.ndim == 1 else Y[:, start:stop])


def launched_size() -> int:
    """How many processes an MPI launcher (mpirun, mpiexec, srun) started, from the
    variables it sets; 1 when none did. Reads the environment only: no MPI call."""
    for name in _LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def world() -> Group | None:
    """The group of every process mpirun started, or None when not launched by MPI
    (or launched as one process).

    Raises :class:`~xpnet.errors.ConfigError` when launched by MPI without mpi4py.
    """
    if launched_size() <= 1:
        return None
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ConfigError(
            f"started by an MPI launcher as {launched_size()} processes, but mpi4py cannot be "
            f"imported ({exc}): pip install 'xpnet[mpi]' (and an MPI library, e.g. Open MPI)"
        ) from exc
    return Group(MPI.COMM_WORLD)


def local_rank(g: Group) -> int:
    """This process's rank among those of its own node: the GPU to use is local_rank % GPUs."""
    from mpi4py import MPI

    node = g.comm.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        return node.Get_rank()
    finally:
        node.Free()


@contextlib.contextmanager
def abort_on_error(g: SingleProcess | Group | None) -> Iterator[None]:
    """Within this block, an exception on one process ends them all (MPI_Abort) instead
    of leaving the others waiting in a collective forever.

    A :class:`DistributedError`, and an error that every process raised
    together (from :meth:`Group.agree`), is left to the caller: no process is
    left waiting then. ``python -m mpi4py script.py`` does the same for a whole script.
    """
    try:
        yield
    except BaseException as exc:
        if isinstance(g, Group) and g.size > 1 and not _raised_together(exc) \
                and not (isinstance(exc, SystemExit) and not exc.code):
            print(f"xpnet: rank {g.rank} of {g.size} failed: {type(exc).__name__}: {exc}; "
                  "stopping every process (MPI_Abort)", file=sys.stderr, flush=True)
            g.comm.Abort(2 if isinstance(exc, XpnetError) else 1)
        raise


def _raised_together(exc: BaseException) -> bool:
    return isinstance(exc, DistributedError) or getattr(exc, "raised_by_every_process", False)


# -- helpers ------------------------------------------------------------------------


def _query_cuda_aware() -> bool:
    override = os.environ.get("XPNET_MPI_CUDA_AWARE")
    if override is not None:
        return override.strip().lower() in ("1", "true", "yes")
    importlib.import_module("mpi4py.MPI")  # loads the MPI library, whose symbols ctypes then finds
    try:
        query = ctypes.CDLL(None).MPIX_Query_cuda_support  # Open MPI's extension
    except AttributeError:
        return False
    query.restype = ctypes.c_int
    return bool(query())


def _flatten(pairs: Sequence[tuple[Any, Any]], *, xp):
    return xp.concat([xp.reshape(a, (-1,)) for pair in pairs for a in pair])


def _unflatten(flat, like: Sequence[tuple[Any, Any]], *, xp) -> list:
    out, start = [], 0
    for pair in like:
        parts = []
        for a in pair:
            size = int(np.prod(a.shape))
            parts.append(xp.reshape(flat[start:start + size], tuple(a.shape)))
            start += size
        out.append(tuple(parts))
    return out


def _writable_host(flat) -> np.ndarray:
    host = _backend.to_host(flat)
    if not (host.flags.writeable and host.flags.c_contiguous):
        host = np.array(host, copy=True, order="C")
    return host
