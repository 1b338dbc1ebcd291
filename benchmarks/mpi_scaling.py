"""Data-parallel scaling: throughput of one training step on 1, 2, ... MPI processes.

    python benchmarks/mpi_scaling.py --processes 1 2            # launches mpirun itself
    mpirun -n 2 python benchmarks/mpi_scaling.py --worker       # one measurement

The wide network [3072, 1024, 1024, 10] (softmax, float32) takes full-batch
steps on a global batch of ``--m`` examples split over the processes (strong
scaling: the same work, shared out). Each process gets ``--threads`` BLAS
threads (1 by default, so N processes use N cores). Reported: seconds per
step, examples per second, the scaling efficiency (throughput on N processes
over N times that on one), the time per step spent in the gradient
all-reduce (``Group.comm_seconds``: MPI, the flattening copies, and the wait
for the slowest process), and a bare all-reduce of the same size with every
process ready (the wire alone).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def worker(args) -> None:
    import numpy as np
    from mpi4py import MPI

    from xpnet import Network, distributed

    group = distributed.Group(MPI.COMM_WORLD)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3072, args.m), dtype=np.float32)
    Y = rng.integers(0, 10, size=(1, args.m))
    X_r, Y_r = distributed.shard(X, Y, group)
    net = Network([3072, 1024, 1024, 10], hidden="relu", output="softmax", seed=0)
    net.fit(X_r, Y_r, iterations=args.warmup, learning_rate=0.01, comm=group)
    group.comm.Barrier()
    group.comm_seconds, group.allreduces = 0.0, 0
    start = time.perf_counter()
    net.fit(X_r, Y_r, iterations=args.steps, learning_rate=0.01, record_every=args.steps,
            comm=group)
    group.comm.Barrier()
    seconds = time.perf_counter() - start
    comm_seconds = group.comm.allreduce(group.comm_seconds, op=MPI.MAX)
    # The all-reduce alone, every process ready: what the wire costs, without the
    # wait for the slowest process's backward pass that comm_seconds includes.
    buffer = np.ones(sum(W.size + b.size for W, b in net.params), dtype=np.float32)
    bare = []
    for _ in range(args.steps):
        group.comm.Barrier()
        t = time.perf_counter()
        group.comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        bare.append(time.perf_counter() - t)
    if group.rank == 0:
        print(json.dumps({
            "processes": group.size, "m": args.m, "steps": args.steps,
            "seconds_per_step": seconds / args.steps,
            "examples_per_second": args.m * args.steps / seconds,
            "comm_seconds_per_step": comm_seconds / group.allreduces,
            "bare_allreduce_seconds": float(np.median(bare)), "floats": int(buffer.size),
        }))


def launch(args) -> None:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads), OMPI_MCA_rmaps_base_oversubscribe="1")
    if os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    rows = []
    for n in args.processes:
        command = ["mpirun", "-n", str(n), "--bind-to", "core", sys.executable, "-m", "mpi4py",
                   __file__, "--worker", "--m", str(args.m), "--steps", str(args.steps),
                   "--warmup", str(args.warmup)]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"mpirun -n {n} failed:\n{done.stderr}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    base = rows[0]["examples_per_second"] / rows[0]["processes"]
    print(f"wide network [3072, 1024, 1024, 10], float32, global batch m = {args.m}, "
          f"{args.threads} BLAS thread(s) per process, {args.steps} steps")
    print(f"gradients: {rows[0]['floats']} float32 ({rows[0]['floats'] * 4 / 2**20:.1f} MiB) "
          "all-reduced per step")
    print("| processes | s / step | examples / s | scaling efficiency | in all-reduce / step "
          "| share of step | bare all-reduce |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        efficiency = row["examples_per_second"] / (row["processes"] * base)
        share = row["comm_seconds_per_step"] / row["seconds_per_step"]
        print(f"| {row['processes']} | {row['seconds_per_step']:.3f} | {row['examples_per_second']:.0f} "
              f"| {efficiency:.2f} | {row['comm_seconds_per_step'] * 1e3:.1f} ms | {share:.1%} "
              f"| {row['bare_allreduce_seconds'] * 1e3:.1f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", action="store_true", help="measure (run under mpirun)")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--m", type=int, default=2048, help="global batch (default 2048)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads per process")
    args = parser.parse_args()
    worker(args) if args.worker else launch(args)


if __name__ == "__main__":
    main()
