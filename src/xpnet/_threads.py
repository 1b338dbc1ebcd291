"""How many threads the native libraries use, for the duration of a command.

``limit_threads(n)`` is what ``--threads N`` of ``xpnet train | evaluate |
predict | bench`` applies around the whole command:

- the BLAS libraries loaded in the process (NumPy's OpenBLAS or MKL, SciPy's
  where it is loaded), through threadpoolctl's scoped ``threadpool_limits``;
- PyTorch's intra-op threads (``torch.set_num_threads``), where torch is already
  imported or ``torch=True`` asks for it (it is then imported, where installed).

On leaving, every count goes back to what it was before. ``n=None`` changes
nothing. On a busy or shared machine one BLAS thread can be several times faster
than two: threads that wait for a core that another process holds stall each
product at its synchronization points.

Not limited: libraries loaded after the context is entered (threadpoolctl
changes only those it finds: import them first), and JAX, whose XLA thread pool
is fixed when it starts (``XLA_FLAGS`` decides it, before ``import jax``).

The counts are process-wide settings of those libraries, so this belongs to the
command line, which owns the process for the length of a command; the library
(``fit`` and the rest) never calls it (DESIGN.md, rule 8). Nested contexts
restore in order; contexts entered and left concurrently on several threads
would restore each other's values, so enter one per process.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from typing import Iterator

from .errors import ConfigError


#: The most threads asked for that xpnet passes on (the libraries overflow on 2**31).
MAX_THREADS = 4096


def check_threads(n) -> int | None:
    """``n`` if it is None or an integer in [1, MAX_THREADS]; else a :class:`ConfigError`."""
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_THREADS:
        raise ConfigError(f"threads must be an integer from 1 to {MAX_THREADS} (or left out for "
                          f"the libraries' defaults), got {n!r}")
    return n


def _torch(import_it: bool):
    """The torch module where it is imported (or ``import_it`` and installed), else None."""
    torch = sys.modules.get("torch")
    if torch is None and import_it:
        try:
            torch = importlib.import_module("torch")
        except Exception:  # not installed, or a broken install: nothing to limit
            return None
    return torch if hasattr(torch, "set_num_threads") else None


@contextlib.contextmanager
def limit_threads(n: int | None, *, torch: bool = False) -> Iterator[None]:
    """Run the body with ``n`` BLAS threads and ``n`` PyTorch threads; restore them after.

    ``n`` None: change nothing. ``torch``: import torch (where installed) to limit
    it even if nothing has imported it yet; without it, torch is limited only
    where it is already imported. Raises :class:`ConfigError` for ``n`` < 1.
    """
    n = check_threads(n)
    if n is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    torch_module = _torch(torch)
    with threadpool_limits(limits=n, user_api="blas"):
        if torch_module is None:
            yield
            return
        before = torch_module.get_num_threads()
        torch_module.set_num_threads(n)
        try:
            yield
        finally:
            torch_module.set_num_threads(before)


def blas_threads() -> list[dict]:
    """threadpoolctl's view of the BLAS libraries loaded now: one dict per library
    (``internal_api``, ``version``, ``num_threads``, ``filepath``, ...)."""
    from threadpoolctl import threadpool_info

    return [d for d in threadpool_info() if d.get("user_api") == "blas"]
