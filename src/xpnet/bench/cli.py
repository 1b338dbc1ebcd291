"""``python -m xpnet.bench`` and the body of ``xpnet bench``: run, print, write the files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import _backend
from ..errors import XpnetError
from .available import backend_unavailable
from .comparison import run
from .options import DESCRIPTION, add_arguments
from .report import tables


def run_from_args(args: argparse.Namespace) -> int:
    """Run the comparison for parsed options, print the tables, write the files; exit status.

    A command owns its process: for float64 it switches on JAX's 64-bit types, which
    the library never does, where JAX runs (as xpnet's backend or as a peer)."""
    if args.dtype == "float64" and (args.backend == "jax" or "jax" in args.peers) \
            and backend_unavailable("jax") is None:
        _backend.enable_jax_x64()
    report = run(args.workloads, backend=args.backend, device=args.device, dtype=args.dtype,
                 precision=args.precision, threads=args.threads, mnist_m=args.mnist_m,
                 iterations=args.iterations, repeat=args.repeat, peers=args.peers,
                 memory=args.memory, cat_dir=args.data, separate=getattr(args, "separate", True),
                 progress=lambda text: print(text, file=sys.stderr, flush=True))
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
    """``python -m xpnet.bench [options]``; the exit status."""
    parser = add_arguments(argparse.ArgumentParser(
        prog="python -m xpnet.bench", description=DESCRIPTION))
    args = parser.parse_args(argv)
    try:
        return run_from_args(args)
    except XpnetError as exc:
        print(f"xpnet bench: error: {exc}", file=sys.stderr)
        return 2

