"""The machine a report was made on: versions, devices, threads in force, the load average."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from .._backend import Target
from .available import Unavailable, optional


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
    from .._version import __version__

    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "xpnet": __version__,
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
            info[name] = optional(module).__version__
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
        from .._threads import blas_threads

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
