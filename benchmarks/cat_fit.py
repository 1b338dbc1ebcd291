"""Wall time of the course's four-layer cat fit: xpnet on each backend, next to PyTorch autograd.

    python benchmarks/cat_fit.py --data ../shared/data/catvnoncat
    python benchmarks/cat_fit.py --data DIR --xpnet numpy cupy torch torch:cpu --torch cpu cuda

Every run trains [12288, 20, 7, 5, 1] (ReLU ×3, sigmoid) from the same xavier
draw (seed 1) with plain full-batch gradient descent, learning rate 0.0075, in
this one process, one after the other, each after a 10-iteration warm-up (GPU
libraries load and compile on first use). PyTorch's side is written as a
PyTorch user would: nn.Linear layers, BCEWithLogitsLoss, torch.optim.SGD, and
the loss read back every 100 steps as xpnet records its cost.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import xpnet
from xpnet import _backend
from xpnet.data import load_catvnoncat

LAYERS = [12288, 20, 7, 5, 1]
LEARNING_RATE = 0.0075


def fit_xpnet(data, iterations, dtype, target):
    X, Y = target.put(data.X_train), target.put(data.Y_train)
    xpnet.Network(LAYERS, init="xavier", seed=1, dtype=dtype).fit(X, Y, iterations=10)
    net = xpnet.Network(LAYERS, hidden="relu", init="xavier", seed=1, dtype=dtype)
    start = time.perf_counter()
    hist = net.fit(X, Y, iterations=iterations, learning_rate=LEARNING_RATE)  # ends on a read-back
    return time.perf_counter() - start, hist.costs[-1]


def fit_torch(data, iterations, dtype, device):
    import torch

    torch_dtype = getattr(torch, dtype)
    init = xpnet.Network(LAYERS, init="xavier", seed=1, dtype=dtype).params
    X = torch.from_numpy(np.ascontiguousarray(data.X_train.T.astype(dtype))).to(device)  # (m, n_x)
    Y = torch.from_numpy(data.Y_train.T.astype(dtype)).to(device)

    def run(n):
        layers = [torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch_dtype) for W, _ in init]
        with torch.no_grad():
            for layer, (W, b) in zip(layers, init):
                layer.weight.copy_(torch.from_numpy(W))
                layer.bias.copy_(torch.from_numpy(b.ravel()))
        model = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(),
                                    layers[2], torch.nn.ReLU(), layers[3]).to(device)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
        start = time.perf_counter()
        for i in range(n):
            opt.zero_grad()
            loss = loss_fn(model(X), Y)
            loss.backward()
            opt.step()
            if i % 100 == 0 or i == n - 1:
                last = loss.item()
        return time.perf_counter() - start, last

    run(10)
    return run(iterations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("XPNET_DATA", "../shared/data/catvnoncat"))
    parser.add_argument("--iterations", type=int, default=2500)
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--xpnet", nargs="*", default=["numpy"], metavar="BACKEND[:DEVICE]",
                        help="backends to run xpnet on, each on its GPU where it has one or on "
                             "the device named (cpu, gpu), e.g. torch:cpu (default: numpy)")
    parser.add_argument("--torch", nargs="*", default=["cpu"], metavar="DEVICE",
                        help="devices to run the PyTorch autograd reference on (default: cpu)")
    args = parser.parse_args()

    data = load_catvnoncat(args.data, dtype=args.dtype)
    targets = [_backend.resolve_target(*spec.split(":", 1)) for spec in args.xpnet]
    rows = [(f"xpnet on {t.backend}" + (f" ({t.kind})" if t.backend in ("torch", "jax") else ""),
             *fit_xpnet(data, args.iterations, args.dtype, t)) for t in targets]
    rows += [(f"pytorch autograd + SGD on {d}", *fit_torch(data, args.iterations, args.dtype, d))
             for d in args.torch]
    base = rows[-1][1] if args.torch else rows[0][1]
    print(f"four-layer cat fit {LAYERS}, {args.iterations} iterations, {args.dtype}")
    print(f"| run | seconds | final cost | time / {rows[-1][0] if args.torch else rows[0][0]} |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds, J in rows:
        print(f"| {name} | {seconds:.2f} | {J:.6f} | {seconds / base:.2f} |")


if __name__ == "__main__":
    main()
