"""A training run for tests/test_durability.py to kill with SIGKILL and resume.

    python tests/_train_until_killed.py CHECKPOINT OUT.npz EPOCHS

Builds the fixed float64 network of :func:`build`, trains it on the flower set
with mini-batch Adam (dropout and L2 on, so the shuffles, the masks and the
optimizer's slots all have to survive a resume), checkpointing every epoch to
CHECKPOINT and resuming from it where it exists. Prints one line,
``started EPOCH``, at the first record this process makes (so the parent knows
it is training, and from which epoch it went on), writes the final parameters
to OUT.npz (atomically) and exits 0.

The test imports this file for :func:`build` and :data:`SETTINGS`, so the
uninterrupted reference run is exactly the run the child makes.
"""

from __future__ import annotations

import os
import sys

import numpy as np

import xpnet
from xpnet.data import planar_flower

#: fit's settings, less ``epochs`` (a command-line argument).
SETTINGS = dict(batch_size=32, optimizer="adam", learning_rate=0.01)


def build() -> xpnet.Network:
    return xpnet.Network([2, 16, 1], hidden="tanh", init="xavier", seed=5, dtype="float64",
                         keep_prob=0.9, l2=0.01)


def data():
    return planar_flower(400, seed=1)


def main(argv: list[str]) -> int:
    checkpoint, out, epochs = argv[0], argv[1], int(argv[2])
    said = []

    def on_record(history):
        if not said:
            print(f"started {history.epochs[-1]}", flush=True)
            said.append(True)

    net = build()
    net.fit(*data(), epochs=epochs, **SETTINGS, on_record=on_record,
            checkpoint=checkpoint, checkpoint_every=1,
            resume=checkpoint if os.path.exists(checkpoint) else None)
    if not said:  # resumed from a checkpoint of a finished run: nothing left to record
        print(f"started {epochs}", flush=True)
    arrays = {}
    for l, (W, b) in enumerate(net.params, start=1):
        arrays[f"W{l}"], arrays[f"b{l}"] = np.asarray(W), np.asarray(b)
    tmp = out + ".partial.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
