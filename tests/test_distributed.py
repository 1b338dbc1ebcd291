"""Data-parallel training over MPI (xpnet.distributed).

The tests under ``mpirun`` run tests/_mpi_cases.py as 2 and 3 processes and
compare rank 0's parameters with a one-process fit of the same case in float64.
They need Open MPI's mpirun and mpi4py; they skip without them, except where
XPNET_REQUIRE_MPI=1 (as in CI), where a missing MPI fails them.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xpnet
from xpnet import _backend, distributed
from xpnet.errors import ConfigError

from conftest import asarray, assert_in_namespace, to_numpy

sys.path.insert(0, str(Path(__file__).parent))
import _mpi_cases as cases  # noqa: E402

WORKER = Path(__file__).parent / "_mpi_cases.py"
TOLERANCE = 1e-12


def _mpi_missing() -> str | None:
    if shutil.which("mpirun") is None:
        return "mpirun (Open MPI) is not installed"
    try:
        importlib.import_module("mpi4py.MPI")
    except ImportError as exc:
        return f"mpi4py cannot be imported: {exc}"
    return None


@pytest.fixture(scope="module")
def mpi():
    missing = _mpi_missing()
    if missing:
        if os.environ.get("XPNET_REQUIRE_MPI") == "1":
            pytest.fail(f"XPNET_REQUIRE_MPI=1 but {missing}")
        pytest.skip(missing)
    from mpi4py import MPI

    return MPI


def mpirun(n: int, *args: str, run_module: bool = True, timeout: float = 120
           ) -> subprocess.CompletedProcess:
    """``mpirun -n N python -m mpi4py ARGS``, as root if need be, one BLAS thread a process.

    mpi4py's run module aborts every process when one raises, so a failure ends
    the run instead of leaving the others waiting."""
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    python = [sys.executable, "-m", "mpi4py"] if run_module else [sys.executable]
    return subprocess.run(["mpirun", "-n", str(n), *python, *args],
                          env=env, capture_output=True,
                          text=True, timeout=timeout)


def run_case(n: int, case: str, out: Path, *extra: str) -> dict:
    done = mpirun(n, str(WORKER), case, str(out), *extra)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(out) as saved:
        return dict(saved)


def assert_same_run(distributed_result: dict, single: dict) -> None:
    assert distributed_result["ranks_identical"], "the processes ended with different parameters"
    for key, expected in single.items():
        np.testing.assert_allclose(distributed_result[key], expected, rtol=0, atol=TOLERANCE,
                                   err_msg=key)


@pytest.fixture(scope="module")
def single_runs():
    """Each case on one process, without MPI: the trajectory the processes must follow."""
    return {case: cases.result(cases.run(case)) for case in cases.CASES}


# -- several processes equal one --------------------------------------------------


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("case", ["batch_gd", "adam_minibatch"])
def test_processes_follow_the_one_process_trajectory(mpi, single_runs, case, n, tmp_path):
    assert_same_run(run_case(n, case, tmp_path / "out.npz"), single_runs[case])


@pytest.mark.parametrize("case", ["batch_gd", "adam_minibatch"])
def test_unequal_shards_follow_the_one_process_trajectory(mpi, single_runs, case, tmp_path):
    # Shards of 33, 67 and 103 examples: the gradient is divided by the global m.
    assert_same_run(run_case(3, case, tmp_path / "out.npz", "--uneven"), single_runs[case])


def test_dropout_l2_and_validation_split_follow_the_one_process_trajectory(mpi, single_runs, tmp_path):
    result = run_case(3, "regularized", tmp_path / "out.npz")
    assert_same_run(result, single_runs["regularized"])
    assert len(result["val_cost"]) == len(single_runs["regularized"]["val_cost"])


def test_sizes_from_the_data_agree_when_a_shard_lacks_a_class(mpi, single_runs, tmp_path):
    result = run_case(3, "logistic_sorted", tmp_path / "out.npz")
    assert result["W1"].shape == (3, 2)
    assert_same_run(result, single_runs["logistic_sorted"])


def test_processes_training_on_a_named_backend_follow_the_one_process_trajectory(
        mpi, single_runs, tmp_path):
    """fit(..., backend=) under MPI: each process moves its shard there (and would take
    GPU local_rank % count); the NumPy run is the reference."""
    result = run_case(2, "adam_minibatch", tmp_path / "out.npz", "--backend", "array_api_strict")
    assert_same_run(result, single_runs["adam_minibatch"])


def test_without_seeds_every_process_trains_with_rank_0s(mpi, tmp_path):
    result = run_case(2, "unseeded", tmp_path / "out.npz")
    assert result["ranks_identical"] and result["seeds_identical"]


def test_checkpoint_from_2_processes_resumes_on_3(mpi, single_runs, tmp_path):
    checkpoint = tmp_path / "run.ckpt"
    done = mpirun(2, str(WORKER), "adam_minibatch", str(tmp_path / "unused.npz"),
                  "--checkpoint", str(checkpoint), "--stop-after", "3")
    assert done.returncode == 0, done.stderr[-3000:]
    assert checkpoint.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["run.ckpt"]  # rank 0 alone wrote, and no temp file is left
    resumed = run_case(3, "adam_minibatch", tmp_path / "out.npz",
                        "--checkpoint", str(checkpoint), "--resume")
    assert_same_run(resumed, single_runs["adam_minibatch"])


def test_a_failing_process_stops_the_run_instead_of_hanging(mpi, tmp_path):
    done = mpirun(2, str(WORKER), "fail", str(tmp_path / "out.npz"))
    assert done.returncode != 0
    assert "rank 1 fails on purpose" in done.stderr


def test_abort_on_error_stops_a_process_waiting_for_a_failed_one(mpi, tmp_path):
    done = mpirun(2, str(WORKER), "abort", str(tmp_path / "out.npz"), run_module=False, timeout=60)
    assert done.returncode != 0
    assert "rank 1 of 2 failed: RuntimeError: rank 1 fails on purpose" in done.stderr


# -- the command line under mpirun --------------------------------------------------


def _xpnet(*args: str) -> list[str]:
    return ["-c", "import sys; from xpnet.cli import main; sys.exit(main(sys.argv[1:]))", *args]


def test_mpirun_xpnet_train_prints_once_and_matches_one_process(mpi):
    args = ("train", "--iterations", "300", "--dtype", "float64", "--no-progress")
    done = mpirun(2, *_xpnet(*args), run_module=False)
    assert done.returncode == 0, done.stderr[-3000:]
    single = subprocess.run([sys.executable, *_xpnet(*args)], capture_output=True, text=True,
                            timeout=120)
    assert "data-parallel over 2 processes" in done.stdout
    assert done.stdout.count("train accuracy") == 1

    def scores(out: str) -> list[str]:
        return [line for line in out.splitlines() if "accuracy" in line or "cost" in line]

    assert scores(done.stdout) == scores(single.stdout)


def test_mpirun_xpnet_train_with_bad_data_exits_with_the_error(mpi, tmp_path):
    done = mpirun(2, *_xpnet("train", "--data", str(tmp_path / "missing.npz")), run_module=False)
    assert done.returncode != 0
    assert "missing.npz" in done.stderr


# -- one process: the bookkeeping, and fit(comm=) on a group of one -------------------


def test_shard_cuts_contiguous_nearly_equal_ranges():
    X = np.arange(2 * 10).reshape(2, 10)
    Y = np.arange(10)
    parts = [distributed.shard(X, Y, _FakeComm(rank, 3)) for rank in range(3)]
    assert [x.shape[1] for x, _ in parts] == [3, 3, 4]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in parts], axis=1), X)
    np.testing.assert_array_equal(np.concatenate([y for _, y in parts]), Y)


def test_the_shards_of_a_batch_hold_each_of_its_examples_once():
    m = 11
    shards = [distributed.Shard(m, index) for index in np.split(np.arange(m), [2, 7])]
    positions = np.random.default_rng(0).permutation(m)[:6]
    found = np.full(len(positions), -1)
    for shard in shards:
        columns, within = shard.select(positions)
        assert np.array_equal(shard.index[columns], positions[within])
        found[within] = 1
    assert (found == 1).all()


def test_a_subset_keeps_the_order_of_its_positions_on_one_process():
    order = np.array([4, 0, 3])
    columns, shard = distributed.Shard(5).subset(order)
    assert np.array_equal(columns, order) and shard.m == 3 and shard.index is None


def test_fit_on_a_group_of_one_equals_fit_without_comm(mpi):
    alone = cases.result(cases.run("adam_minibatch"))
    grouped = cases.result(cases.run("adam_minibatch", comm=mpi.COMM_SELF))
    for key, expected in alone.items():
        np.testing.assert_allclose(grouped[key], expected, rtol=0, atol=TOLERANCE, err_msg=key)


def test_gradient_sums_stay_in_their_namespace(mpi, xp):
    group = distributed.Group(mpi.COMM_SELF)
    grads = [(asarray(np.arange(6.0).reshape(2, 3), xp), asarray([[1.0], [2.0]], xp))]
    summed = group.sum_gradients(grads, xp=xp)
    for (got_W, got_b), (W, b) in zip(summed, grads):
        assert_in_namespace(got_W, xp, _backend.device(W))
        np.testing.assert_array_equal(to_numpy(got_W), to_numpy(W))
        np.testing.assert_array_equal(to_numpy(got_b), to_numpy(b))
    assert group.allreduces == 1


def test_host_arrays_travel_through_host_memory(mpi):
    np_xp = _backend.namespace_by_name("numpy")
    assert distributed.Group(mpi.COMM_SELF).transport(np_xp, "cpu") == "MPI on host memory"


def test_gradients_of_a_device_other_than_cupys_are_staged_and_come_back_there(mpi):
    strict = pytest.importorskip("array_api_strict")
    device = strict.Device("device1")  # stands in for a GPU; see tests/test_on_device.py
    group = distributed.Group(mpi.COMM_SELF, cuda_aware=True)
    assert group.transport(strict, device).startswith("MPI through host memory (staged")
    grads = [(strict.ones((3, 2), device=device), strict.zeros((3, 1), device=device))]
    [(dW, db)] = group.sum_gradients(grads, xp=strict)
    assert dW.device == db.device == device
    np.testing.assert_array_equal(np.from_dlpack(dW), np.ones((3, 2)))


def test_cuda_awareness_can_be_set_by_the_environment(mpi, monkeypatch):
    monkeypatch.setenv("XPNET_MPI_CUDA_AWARE", "1")
    assert distributed.Group(mpi.COMM_SELF).cuda_aware is True
    monkeypatch.setenv("XPNET_MPI_CUDA_AWARE", "0")
    assert distributed.Group(mpi.COMM_SELF).cuda_aware is False


def test_launched_size_reads_the_launchers_variables(monkeypatch):
    for name in distributed._LAUNCHER_SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert distributed.launched_size() == 1
    assert distributed.world() is None
    monkeypatch.setenv("PMI_SIZE", "4")
    assert distributed.launched_size() == 4


def test_a_launch_without_mpi4py_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ConfigError, match="mpi4py"):
        distributed.world()


def test_comm_must_be_a_communicator():
    X, Y = cases.data("sigmoid")
    with pytest.raises(ConfigError, match="communicator"):
        xpnet.Network([2, 3, 1]).fit(X, Y, iterations=1, comm="world")


class _FakeComm:
    """Just enough of a communicator for :func:`xpnet.distributed.shard`."""

    def __init__(self, rank, size):
        self.rank, self.size = rank, size

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size

    def Allreduce(self, *args, **kwargs):  # pragma: no cover - never called
        raise AssertionError
