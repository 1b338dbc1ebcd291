"""Durable checkpoints: training killed with SIGKILL at random moments resumes to the
parameters of an uninterrupted run, bit for bit.

A child process (tests/_train_until_killed.py) trains a fixed float64 network with
mini-batch Adam, dropout and L2, checkpointing every epoch, and resumes from its
checkpoint where one exists. The test kills it with SIGKILL after seeded random
delays, at least ``MIN_KILLS`` times, each time once it has started training; a
kill lands as often inside a checkpoint write (an fsync'd safetensors file) as
between them. After every kill:

- the checkpoint file is whole: ``xpnet.io.read_tensors`` and ``xpnet.checkpoint.load``
  read it, its position only moves forward and its history is a prefix of the
  uninterrupted run's, equal bit for bit;
- what ``io.write_tensors`` guarantees about temporary files holds. It writes to a
  ``mkstemp`` file ``.run.ckpt.XXXXXXXX.tmp`` beside the target, fsyncs it and renames
  it over the target. An exception removes that file; SIGKILL cannot (no handler
  runs), so a kill inside a write leaves it behind. It never breaks a later run
  (the names are unique and nothing reads them), and there is at most one per kill:
  runs that end normally add none. That is what is asserted.

Then the child is run to completion, and its final parameters must equal the
uninterrupted in-process run's (np.testing.assert_array_equal).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import random
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import xpnet
from xpnet import _backend
from xpnet import checkpoint as checkpoints
from xpnet.io import read_tensors
from xpnet._fitting import plan as fit_plan

pytest.importorskip("safetensors")
if not hasattr(signal, "SIGKILL"):
    pytest.skip("SIGKILL is a POSIX signal", allow_module_level=True)

CHILD = Path(__file__).with_name("_train_until_killed.py")
EPOCHS = 400
TARGET_KILLS = 12
MIN_KILLS = 10
SEED = 20240611
M = 400  # the flower set's examples (the child's data())
TMP_NAME = re.compile(r"^\.run\.ckpt\..+\.tmp$")


def _child_module():
    spec = importlib.util.spec_from_file_location("_train_until_killed", CHILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _child_env() -> dict:
    """The environment of the child: the xpnet under test first on its path."""
    env = dict(os.environ)
    src = str(Path(xpnet.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, env["PYTHONPATH"]]) if env.get("PYTHONPATH") else src
    return env


def _read_line(proc: subprocess.Popen, timeout: float, stderr_path: Path) -> str:
    """The child's first stdout line, or a failure that shows its stderr."""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout)
    line = proc.stdout.readline() if ready else ""
    if not line:
        proc.kill()
        proc.wait()
        pytest.fail(f"the child printed nothing within {timeout} s (exit {proc.returncode}); "
                    f"stderr:\n{stderr_path.read_text()}")
    return line


def _tmp_files(folder: Path) -> list[str]:
    names = sorted(p.name for p in folder.iterdir())
    strays = [n for n in names if n not in ("run.ckpt",) and not TMP_NAME.match(n)]
    assert not strays, f"unexpected files beside the checkpoint: {strays}"
    return [n for n in names if TMP_NAME.match(n)]


def test_sigkilled_training_resumes_to_the_uninterrupted_parameters(tmp_path):
    child = _child_module()
    started = time.monotonic()
    reference = child.build()
    reference_history = reference.fit(*child.data(), epochs=EPOCHS, **child.SETTINGS)
    reference_params = [(np.asarray(W), np.asarray(b)) for W, b in reference.params]
    batches = math.ceil(M / child.SETTINGS["batch_size"])

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    path = folder / "run.ckpt"
    out = tmp_path / "final.npz"
    stderr_path = tmp_path / "stderr.txt"
    config = child.build().get_config()
    plan = fit_plan(None, EPOCHS, child.SETTINGS["batch_size"], 100, None, False, path, 1)
    numpy_xp = _backend.namespace_by_name("numpy")
    env = _child_env()
    rng = random.Random(SEED)

    kills = runs = 0
    last_epoch = 0
    rate = None  # epochs per second of a child, measured from the kills
    delays, epochs_at_kill = [], []
    while True:
        runs += 1
        assert runs <= TARGET_KILLS + 3, "the child keeps ending without finishing"
        tmp_before = _tmp_files(folder)  # before the child: its own write may be under way later
        with open(stderr_path, "w") as stderr:
            proc = subprocess.Popen(
                [sys.executable, str(CHILD), str(path), str(out), str(EPOCHS)],
                stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
            )
        try:
            line = _read_line(proc, 60, stderr_path)
            t_started = time.monotonic()
            start_epoch = int(line.split()[1])
            assert start_epoch == last_epoch + 1 or start_epoch == EPOCHS, (
                f"the child went on from epoch {start_epoch}, the checkpoint held epoch {last_epoch}"
            )
            if kills >= TARGET_KILLS:
                assert proc.wait(timeout=120) == 0, stderr_path.read_text()
                break
            if kills == 0:
                # Training has started; let the first checkpoint appear before the first kill.
                deadline = time.monotonic() + 30
                while not path.exists():
                    assert time.monotonic() < deadline, "no checkpoint appeared"
                    time.sleep(0.001)
            if rate is None:
                delay = rng.uniform(0.02, 0.25)
            else:
                # Leave work for the kills to come: at most half of this kill's share
                # of the time the remaining epochs take.
                share = (EPOCHS - last_epoch) / rate / (TARGET_KILLS - kills + 1)
                delay = rng.uniform(0.05, 0.5) * share
            try:
                rc = proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                rc = proc.wait()
                assert rc == -signal.SIGKILL
                kills += 1
                delays.append(delay)
            elapsed = time.monotonic() - t_started
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()

        if rc == 0:  # it finished before the kill
            break
        assert rc == -signal.SIGKILL, f"the child failed (exit {rc}):\n{stderr_path.read_text()}"

        # The checkpoint is whole and readable, by the generic reader and the checkpoint loader.
        assert path.exists(), "the checkpoint vanished"
        tensors, metadata = read_tensors(path)
        assert metadata["format"] == "xpnet.checkpoint"
        state, rng_state = checkpoints.load(path, config=config, optimizer_name="adam", plan=plan,
                                            xp=numpy_xp)
        position = json.loads(metadata["position"])
        epoch = state.epoch
        assert last_epoch <= epoch <= EPOCHS, f"the checkpoint went back from {last_epoch} to {epoch}"
        assert position == {"step": epoch * batches, "epoch": epoch, "count": epoch * batches}
        assert state.history.epochs == list(range(1, epoch + 1))
        assert state.history.costs == reference_history.costs[:epoch]
        assert all(np.isfinite(a).all() for a in tensors.values())
        assert rng_state["bit_generator"] == "PCG64"

        # At most one temporary file per kill; a kill outside a write leaves none.
        tmp_after = _tmp_files(folder)
        assert set(tmp_before) <= set(tmp_after)
        assert len(tmp_after) - len(tmp_before) <= 1, f"one kill left {tmp_after}"
        assert len(tmp_after) <= kills

        if epoch > last_epoch and elapsed > 0:
            measured = (epoch - start_epoch + 1) / elapsed
            rate = measured if rate is None else max(rate, measured)
        epochs_at_kill.append(epoch)
        last_epoch = epoch

    # A run that ends normally leaves no temporary file of its own.
    leftovers = _tmp_files(folder)
    assert len(leftovers) == len(tmp_before) <= kills

    final = np.load(out)
    for l, (W_ref, b_ref) in enumerate(reference_params, start=1):
        np.testing.assert_array_equal(final[f"W{l}"], W_ref)
        np.testing.assert_array_equal(final[f"b{l}"], b_ref)
    state, _ = checkpoints.load(path, config=config, optimizer_name="adam", plan=plan, xp=numpy_xp)
    assert state.epoch == EPOCHS and state.history.costs == reference_history.costs
    for (W, b), (W_ref, b_ref) in zip(state.params, reference_params):
        np.testing.assert_array_equal(W, W_ref)
        np.testing.assert_array_equal(b, b_ref)

    assert kills >= MIN_KILLS, f"only {kills} kills before the run finished"
    print(f"\n{kills} SIGKILLs survived in {runs} runs, {time.monotonic() - started:.1f} s; "
          f"checkpoint epoch after each kill {epochs_at_kill}; "
          f"delays {[round(d, 3) for d in delays]} s; "
          f"{len(leftovers)} kills landed inside a checkpoint write (left a .tmp file)")
