"""Wall time of the course's four-layer cat fit: xpnet on each backend, next to PyTorch autograd.

    python benchmarks/cat_fit.py       # the cat files of $XPNET_DATA, else ../shared/data/catvnoncat
    python benchmarks/cat_fit.py --data DIR --xpnet numpy cupy torch torch:cpu --torch cpu cuda

Every run is ``xpnet bench``'s ``cat-fit`` workload, timed by its runners
(:mod:`xpnet.bench`): [12288, 20, 7, 5, 1] (ReLU ×3, sigmoid) from the same
xavier draw (seed 1) with plain full-batch gradient descent, learning rate
0.0075, in this one process, one after the other, each after a 10-iteration
warm-up (GPU libraries load and compile on first use). PyTorch's side is
written as a PyTorch user would (``xpnet.bench.torch_runner``): nn.Linear
layers, BCEWithLogitsLoss, torch.optim.SGD, and the loss read back every 100
steps as xpnet records its cost.
"""

from __future__ import annotations

import argparse
import sys

from devtree import CAT_DATA

from xpnet import _backend, bench

#: --torch's devices: the kind of device each names.
TORCH_DEVICES = {"cpu": "cpu", "cuda": "gpu", "gpu": "gpu"}


def timed(runner: bench.Runner) -> tuple[float, float]:
    """(seconds, final cost) of one run after the runner's warm-up."""
    (timing,) = bench.measure_times(runner, 1)
    return timing.wall, runner.cost()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(CAT_DATA),
                        help=f"folder with the course's cat h5 files (default: {CAT_DATA})")
    parser.add_argument("--iterations", type=int, default=2500)
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--xpnet", nargs="*", default=["numpy"], metavar="BACKEND[:DEVICE]",
                        help="backends to run xpnet on, each on its GPU where it has one or on "
                             "the device named (cpu, gpu), e.g. torch:cpu (default: numpy)")
    parser.add_argument("--torch", nargs="*", default=["cpu"], metavar="DEVICE",
                        choices=tuple(TORCH_DEVICES),
                        help="devices to run the PyTorch autograd reference on (default: cpu)")
    args = parser.parse_args(argv)

    w = bench.workloads(args.iterations)["cat-fit"]
    data = bench.host_data(w, cat_dir=args.data)
    if data.source.startswith("random"):
        sys.exit(f"cat_fit.py: no cat data: {data.source}")
    if args.dtype == "float64" and any(spec.split(":")[0] == "jax" for spec in args.xpnet):
        _backend.enable_jax_x64()  # this script owns its process: float64 on JAX too
    targets = [bench.resolve_target(*spec.split(":", 1)) for spec in args.xpnet]
    rows = [(f"xpnet on {t.backend}" + (f" ({t.kind})" if t.backend in ("torch", "jax") else ""),
             *timed(bench.xpnet_runner(w, data, t, args.dtype))) for t in targets]
    for device in args.torch:
        try:
            runner = bench.torch_runner(w, data, TORCH_DEVICES[device], args.dtype)
        except bench.Unavailable as exc:
            sys.exit(f"cat_fit.py: pytorch on {device}: {exc}")
        rows.append((f"pytorch autograd + SGD on {device}", *timed(runner)))
    base = rows[-1][1] if args.torch else rows[0][1]
    print(f"four-layer cat fit {list(w.layers)}, {args.iterations} iterations, {args.dtype}")
    print(f"| run | seconds | final cost | time / {rows[-1][0] if args.torch else rows[0][0]} |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds, J in rows:
        print(f"| {name} | {seconds:.2f} | {J:.6f} | {seconds / base:.2f} |")


if __name__ == "__main__":
    main()
