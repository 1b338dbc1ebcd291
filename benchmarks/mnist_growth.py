"""How the time of one MNIST-shaped epoch grows with m: xpnet (X row-major and
column-major) next to PyTorch, one thread each.

The network, data and training are ``xpnet bench``'s ``mnist-epoch`` workloads:
[784, 256, 128, 10] relu/softmax, Adam at learning rate 1e-3, mini-batches of
128, one epoch over m generated examples (random pixels in [0, 1), random
labels, seeded); PyTorch as a user writes it (``nn.Linear`` from xpnet's
initial weights, ``CrossEntropyLoss``, ``torch.optim.Adam``, the same batches as
rows of an (m, n_x) tensor). An epoch's work is linear in m, so seconds per
epoch should grow as m does and microseconds per example should stay flat; the
ratio to the smallest m shows where it does not.

Every timing is the median of ``--repeat`` after a warm-up, wall
(``time.perf_counter``) and CPU (``time.process_time``), with NumPy's BLAS and
torch held to ``--threads`` (default 1: on a busy or shared machine one thread
is the steadiest, and often the fastest). The load average at the start and the
end says how busy the machine was.

    python benchmarks/mnist_growth.py                              # m = 7,500 … 60,000
    python benchmarks/mnist_growth.py --m 7500 15000 --repeat 1 --markdown growth.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xpnet import bench
from xpnet._threads import limit_threads

M_VALUES = (7500, 15000, 30000, 60000)
IMPLEMENTATIONS = ("xpnet, X row-major", "xpnet, X column-major", "torch")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--m", type=int, nargs="+", default=list(M_VALUES), metavar="M",
                        help="examples per epoch, smallest first (default: 7500 15000 30000 60000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed epochs per cell; the median "
                        "is shown (default: 3)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of NumPy's BLAS and torch (default: 1)")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--markdown", metavar="PATH", default="mnist-growth.md",
                        help="where to write the table (default: mnist-growth.md)")
    return parser.parse_args(argv)


def runners(m: int, data: bench.HostData, dtype: str) -> dict[str, bench.Runner]:
    standard = bench.workloads(mnist_m=m)
    numpy = bench.resolve_target("numpy")
    out = {
        "xpnet, X row-major": bench.xpnet_runner(standard["mnist-epoch"], data, numpy, dtype),
        "xpnet, X column-major": bench.xpnet_runner(
            standard["mnist-epoch-colmajor"], data, numpy, dtype),
    }
    try:
        out["torch"] = bench.torch_runner(standard["mnist-epoch"], data, "cpu", dtype)
    except bench.Unavailable as exc:
        print(f"torch: n/a ({exc})", file=sys.stderr)
    return out


def measure(ms, repeat: int, dtype: str) -> dict[str, dict[int, bench.Timing]]:
    """{implementation: {m: median Timing of one epoch}}."""
    times: dict[str, dict[int, bench.Timing]] = {name: {} for name in IMPLEMENTATIONS}
    for m in ms:
        data = bench.host_data(bench.workloads(mnist_m=m)["mnist-epoch"])
        for name, runner in runners(m, data, dtype).items():
            print(f"m = {m}: {name} ...", file=sys.stderr, flush=True)
            times[name][m] = bench.median_timing(bench.measure_times(runner, repeat))
        del data
    return times


def table(times: dict[str, dict[int, bench.Timing]], ms) -> list[str]:
    m0 = ms[0]
    lines = [
        f"| implementation | m | m / {m0:,} | s / epoch | CPU s / epoch | µs / example "
        f"| CPU µs / example | time / time at m = {m0:,} | CPU / CPU at m = {m0:,} |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in IMPLEMENTATIONS:
        row = times.get(name) or {}
        for m in ms:
            if m not in row:
                continue
            t, base = row[m], row.get(m0)
            wall_ratio = "n/a" if base is None else bench.format_ratio(t.wall / base.wall)
            cpu_ratio = "n/a" if base is None else bench.format_ratio(t.cpu / base.cpu)
            lines.append(
                f"| {name} | {m:,} | {m / m0:.0f}× | {t.wall:.3f} | {t.cpu:.3f} "
                f"| {1e6 * t.wall / m:.1f} | {1e6 * t.cpu / m:.1f} | {wall_ratio} | {cpu_ratio} |")
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    ms = sorted(set(args.m))
    if ms[0] < 1 or args.repeat < 1:
        sys.exit("mnist_growth.py: --m and --repeat must be ≥ 1")
    target = bench.resolve_target("numpy")
    with limit_threads(args.threads, torch=True):  # imports torch first: its threads too
        env = bench.environment(target, args.dtype, args.repeat, args.threads)
        times = measure(ms, args.repeat, args.dtype)
    env["load_average_end"] = bench.load_average()
    header = [
        f"- one epoch of [784, 256, 128, 10] relu/softmax, Adam lr 1e-3, batch 128, "
        f"{args.dtype}, random pixels; median of {args.repeat} after a warm-up",
        f"- python {env['python']}, {env['cpus']} CPUs, {env['platform']}",
        f"- numpy {env['numpy']}; torch {env.get('torch') or 'n/a'}; xpnet {env['xpnet']}",
        f"- {bench.threads_line(env)}",
        f"- load average (1, 5, 15 min): {bench.format_load(env.get('load_average_start'))} at the "
        f"start, {bench.format_load(env.get('load_average_end'))} at the end",
    ]
    text = "\n".join(header + ["", *table(times, ms)])
    print(text)
    Path(args.markdown).write_text(f"# One MNIST-shaped epoch as m grows\n\n{text}\n")
    print(f"\nwrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
