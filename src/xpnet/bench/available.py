"""Which optional libraries and devices a benchmark can use here, and why not.

Libraries other than NumPy are imported through :func:`optional`, inside the
functions that use them, so that a missing one gives "n/a" and a reason, never
an error.
"""

from __future__ import annotations

import importlib


class Unavailable(Exception):
    """A peer that cannot run here; its cell reads n/a and the reason goes in the notes."""


def optional(name: str):
    """Import ``name``, or raise :class:`Unavailable` saying why it cannot be."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise Unavailable(f"{name.split('.')[0]} is not installed") from None
    except Exception as exc:  # a broken install (missing CUDA libraries, ...) is n/a too
        raise Unavailable(f"{name} cannot be imported: {type(exc).__name__}: {exc}") from None


def backend_unavailable(backend: str) -> str | None:
    """Why ``backend`` cannot run here (not installed; CuPy without a CUDA device), or None."""
    try:
        mod = optional(backend)
    except Unavailable as exc:
        return str(exc)
    if backend == "cupy":
        try:
            if mod.cuda.runtime.getDeviceCount() < 1:
                return "cupy sees no CUDA device"
        except Exception as exc:
            return f"cupy sees no CUDA device ({type(exc).__name__})"
    return None
