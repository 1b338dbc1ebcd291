"""Wall time of the course's four-layer cat fit: xpnet on NumPy against PyTorch autograd.

    python benchmarks/cat_fit_vs_torch.py --data ../shared/data/catvnoncat

Both train [12288, 20, 7, 5, 1] (ReLU ×3, sigmoid) from the same xavier draw
(seed 1) with plain full-batch gradient descent, learning rate 0.0075, in the
same process, one after the other; each is timed over the whole fit. PyTorch's
side uses torch.optim.SGD and BCEWithLogits, as a PyTorch user would write it.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import xpnet
from xpnet.data import load_catvnoncat


def fit_xpnet(data, iterations, dtype):
    net = xpnet.Network([12288, 20, 7, 5, 1], hidden="relu", init="xavier", seed=1, dtype=dtype)
    start = time.perf_counter()
    hist = net.fit(data.X_train, data.Y_train, iterations=iterations, learning_rate=0.0075)
    return time.perf_counter() - start, hist.costs[-1]


def fit_torch(data, iterations, dtype):
    import torch

    torch_dtype = getattr(torch, dtype)
    init = xpnet.Network([12288, 20, 7, 5, 1], init="xavier", seed=1, dtype=dtype).params
    layers = [torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch_dtype) for W, _ in init]
    with torch.no_grad():
        for layer, (W, b) in zip(layers, init):
            layer.weight.copy_(torch.from_numpy(W))
            layer.bias.copy_(torch.from_numpy(b.ravel()))
    model = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(),
                                layers[2], torch.nn.ReLU(), layers[3])
    X = torch.from_numpy(np.ascontiguousarray(data.X_train.T.astype(dtype)))  # (m, n_x) rows
    Y = torch.from_numpy(data.Y_train.T.astype(dtype))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.0075)
    start = time.perf_counter()
    for i in range(iterations):
        opt.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        opt.step()
        if i % 100 == 0 or i == iterations - 1:
            last = loss.item()  # the same read-back per 100 steps as xpnet's history
    return time.perf_counter() - start, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("XPNET_DATA", "../shared/data/catvnoncat"))
    parser.add_argument("--iterations", type=int, default=2500)
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    args = parser.parse_args()

    import torch

    data = load_catvnoncat(args.data)
    t_torch, J_torch = fit_torch(data, args.iterations, args.dtype)
    t_xpnet, J_xpnet = fit_xpnet(data, args.iterations, args.dtype)
    print(f"four-layer cat fit, {args.iterations} iterations, {args.dtype}, "
          f"torch threads {torch.get_num_threads()}")
    print(f"  xpnet (numpy)         {t_xpnet:8.2f} s   final cost {J_xpnet:.6f}")
    print(f"  pytorch autograd+SGD  {t_torch:8.2f} s   final cost {J_torch:.6f}")
    print(f"  ratio xpnet / torch   {t_xpnet / t_torch:8.2f}")


if __name__ == "__main__":
    main()
