"""Training runs that tests/test_distributed.py makes on one process and, through
``mpirun``, on several (run as a script: ``python tests/_mpi_cases.py CASE OUT [options]``).

Under mpirun each process takes its shard of the same data and trains with
``comm=MPI.COMM_WORLD``; rank 0 gathers every process's final parameters and
writes them, with the history, to OUT (.npz) for the test to compare with a
one-process run of the same case.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import xpnet
from xpnet import distributed
from xpnet._backend import to_host

M = 203  # not a multiple of 2 or 3: the shards are unequal


def data(output: str):
    """(X (2, M), Y): three interleaved spiral arms, labels as the case's output needs."""
    rng = np.random.RandomState(0)
    k = np.arange(M) % 3
    r = rng.rand(M)
    angle = 4.0 * r + 2.1 * k + 0.2 * rng.randn(M)
    X = np.stack([r * np.sin(angle), r * np.cos(angle)])
    if output == "softmax":
        return X, k.reshape(1, -1)
    return X, (k == 0).astype(np.float64).reshape(1, -1)


CASES = {
    # The course's form: full-batch gradient descent.
    "batch_gd": dict(
        model=dict(layer_dims=[2, 8, 1], hidden="tanh", output="sigmoid", init="xavier"),
        fit=dict(iterations=120, learning_rate=0.5, record_every=20),
    ),
    # Mini-batch Adam: global shuffles, batches split unevenly over the processes.
    "adam_minibatch": dict(
        model=dict(layer_dims=[2, 16, 8, 3], hidden="relu", output="softmax", init="he"),
        fit=dict(epochs=6, batch_size=32, optimizer="adam", learning_rate=0.01, shuffle_seed=5),
    ),
    # Everything that draws or adds: L2, dropout masks, a held-out split, early stopping,
    # and batches (of 8) that leave some processes with no example of a batch.
    "regularized": dict(
        model=dict(layer_dims=[2, 12, 1], hidden="relu", output="sigmoid", init="he",
                   l2=0.05, keep_prob=0.8),
        fit=dict(epochs=5, batch_size=8, optimizer="momentum", learning_rate=0.05,
                 validation_split=0.25, early_stopping=3, shuffle_seed=2),
    ),
    # Sizes taken from the data: softmax regression on shards, the last of which lacks class 2.
    "logistic_sorted": dict(
        model=dict(logistic=True, output="softmax"),
        fit=dict(iterations=60, learning_rate=0.3, record_every=10),
        sort_by_label=True,
    ),
}


def model(case: str):
    settings = dict(CASES[case]["model"])
    if settings.pop("logistic", False):
        return xpnet.LogisticRegression(**settings, dtype="float64")
    return xpnet.Network(settings.pop("layer_dims"), **settings, seed=1, dtype="float64")


def case_data(case: str):
    X, Y = data(model(case).output.name)
    if CASES[case].get("sort_by_label"):
        order = np.argsort(-Y[0], kind="stable")  # class 2 first: the last shard lacks it
        X, Y = X[:, order], Y[:, order]
    return X, Y


def run(case: str, comm=None, *, uneven: bool = False, **fit):
    """The fitted model of ``case`` on this process's shard (all the data without ``comm``)."""
    X, Y = case_data(case)
    if comm is not None:
        X, Y = uneven_shard(X, Y, comm) if uneven else distributed.shard(X, Y, comm)
    net = model(case)
    net.fit(X, Y, **CASES[case]["fit"], **fit, comm=comm)
    return net


def uneven_shard(X, Y, comm):
    """Shards of sizes in the ratio 1 : 2 : 3 ...: each rank r holds (r + 1) parts."""
    rank, size = comm.Get_rank(), comm.Get_size()
    m = X.shape[1]
    cuts = [m * (r * (r + 1) // 2) // (size * (size + 1) // 2) for r in range(size + 1)]
    return X[:, cuts[rank]:cuts[rank + 1]], Y[:, cuts[rank]:cuts[rank + 1]]


def result(net) -> dict[str, np.ndarray]:
    """The parameters and the history, as arrays to save and compare."""
    arrays = {f"W{l}": to_host(W) for l, (W, _) in enumerate(net.params, start=1)}
    arrays.update({f"b{l}": to_host(b) for l, (_, b) in enumerate(net.params, start=1)})
    arrays["costs"] = np.asarray(net.history.costs)
    for name, values in net.history.metrics.items():
        arrays[name] = np.asarray(values)
    return arrays


class Stop(Exception):
    pass


def main(argv=None) -> int:
    from mpi4py import MPI

    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=[*CASES, "fail", "abort", "unseeded"])
    parser.add_argument("out")
    parser.add_argument("--uneven", action="store_true")
    parser.add_argument("--checkpoint")
    parser.add_argument("--stop-after", type=int, help="interrupt after this many records")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--backend", help="train there: fit(..., backend=BACKEND)")
    args = parser.parse_args(argv)
    comm = MPI.COMM_WORLD

    if args.case == "fail":
        # Rank 1 fails at its first record, while the others go on to the next all-reduce.
        def fail(history):
            if comm.Get_rank() == 1:
                raise RuntimeError("rank 1 fails on purpose")

        run("adam_minibatch", comm, on_record=fail)
        return 0

    if args.case == "abort":
        # As xpnet train runs: rank 1 fails while rank 0 waits for it in a collective.
        with distributed.abort_on_error(distributed.Group(comm)):
            if comm.Get_rank() == 1:
                raise RuntimeError("rank 1 fails on purpose")
            comm.barrier()
        return 0

    fit = {}
    if args.case == "unseeded":
        # No seed anywhere: rank 0's initial parameters and shuffle seed are everyone's.
        X, Y = distributed.shard(*case_data("adam_minibatch"), comm)
        net = xpnet.Network([2, 16, 8, 3], hidden="relu", output="softmax", keep_prob=0.8)
        net.fit(X, Y, epochs=2, batch_size=32, optimizer="adam", comm=comm)
        seeds = comm.gather(distributed.Group(comm).seed(None), root=0)
        return save(net, args.out, comm, seeds_identical=seeds is None or len(set(seeds)) == 1)
    if args.checkpoint:
        fit["checkpoint"] = args.checkpoint
        fit["checkpoint_every"] = 1
    if args.resume:
        fit["resume"] = args.checkpoint
    if args.backend:
        fit["backend"] = args.backend
    if args.stop_after:
        def stop(history):
            if len(history) == args.stop_after:
                raise Stop

        fit["on_record"] = stop
    try:
        net = run(args.case, comm, uneven=args.uneven, **fit)
    except Stop:
        return 0
    return save(net, args.out, comm)


def save(net, out, comm, **extra) -> int:
    """Rank 0 writes the result, and whether every process ended with the same parameters."""
    arrays = result(net)
    everyone = comm.gather({k: v for k, v in arrays.items() if k[0] in "Wb"}, root=0)
    if comm.Get_rank() == 0:
        identical = all(
            all(np.array_equal(other[k], everyone[0][k]) for k in everyone[0]) for other in everyone
        )
        np.savez(out, ranks_identical=identical, size=comm.Get_size(), **arrays, **extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
