"""The same network in PyTorch, as a PyTorch user writes it, timed; a sweep's networks
with ``torch.func.vmap``."""

from __future__ import annotations

import copy

import numpy as np

from .available import Unavailable, optional
from .hostdata import HostData, initial_params, sweep_initial_params
from .timing import RECORD_EVERY, WARMUP_ITERATIONS, Runner
from .workload import ADAM, Workload


def torch_runner(w: Workload, data: HostData, kind: str, dtype: str) -> Runner:
    """The same network in PyTorch on the CPU or the GPU (``kind``): nn.Linear + ReLU,
    xpnet's initial weights, ``BCEWithLogitsLoss`` or ``CrossEntropyLoss``, plain SGD
    (``torch.optim.SGD``) or ``torch.optim.Adam`` with the same lr, betas and eps, the loss
    read back where xpnet reads its cost; an epoch takes the batches xpnet takes (the same
    permutation), as rows of (m, n_x)."""
    torch = optional("torch")
    if kind == "gpu" and not torch.cuda.is_available():
        raise Unavailable("torch sees no CUDA device")
    dev = torch.device("cuda" if kind == "gpu" else "cpu")
    tdtype = getattr(torch, dtype)
    init = initial_params(w, dtype)
    X = torch.from_numpy(np.ascontiguousarray(data.X.T, dtype=dtype)).to(dev)  # (m, n_x)
    if w.output == "sigmoid":
        Y = torch.from_numpy(data.Y.T.astype(dtype)).to(dev)  # (m, 1)
        loss_fn = torch.nn.BCEWithLogitsLoss()
    else:
        Y = torch.from_numpy(data.labels).to(dev)  # class ids (m,)
        loss_fn = torch.nn.CrossEntropyLoss()
    held: dict = {}

    def setup():
        layers = []
        for l, (W, b) in enumerate(init, start=1):
            linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=tdtype, device=dev)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W))
                linear.bias.copy_(torch.from_numpy(b.ravel()))
            layers.append(linear)
            if l < len(init):
                layers.append(torch.nn.ReLU())
        held["model"] = model = torch.nn.Sequential(*layers)
        if w.optimizer == "adam":
            held["opt"] = torch.optim.Adam(model.parameters(), lr=w.learning_rate,
                                           betas=(ADAM["beta1"], ADAM["beta2"]), eps=ADAM["epsilon"])
        else:
            held["opt"] = torch.optim.SGD(model.parameters(), lr=w.learning_rate)

    def step(X_batch, Y_batch):
        model, opt = held["model"], held["opt"]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(X_batch), Y_batch)
        loss.backward()
        opt.step()
        return loss

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    def fit(iterations=w.iterations):
        for i in range(iterations):
            loss = step(X, Y)
            if i % RECORD_EVERY == 0 or i == iterations - 1:
                held["cost"] = loss.item()  # as xpnet reads its cost back
        sync()

    def epoch():
        order = torch.from_numpy(np.random.default_rng(0).permutation(w.m)).to(dev)
        total = 0.0
        for start in range(0, w.m, w.batch_size):
            batch = order[start:start + w.batch_size]
            total = total + step(X[batch], Y[batch]).detach() * batch.shape[0]
        held["cost"] = (total / w.m).item()
        sync()

    def one_step():
        step(X, Y)
        sync()

    def trained():
        return [(m.weight.detach().cpu().numpy(), m.bias.detach().cpu().numpy().reshape(-1, 1))
                for m in held["model"] if isinstance(m, torch.nn.Linear)]

    def cost():
        return float(held["cost"])

    if w.kind == "fit":
        return Runner(fit, setup=setup, warmup=lambda: fit(min(w.iterations, WARMUP_ITERATIONS)),
                      params=trained, cost=cost)
    if w.kind == "epoch":
        return Runner(epoch, setup=setup, params=trained, cost=cost)
    return Runner(one_step, setup=setup, params=trained)


def torch_vmap_runner(w: Workload, data: HostData, kind: str, dtype: str) -> Runner:
    """A sweep's K networks in PyTorch, as PyTorch's model-ensembling recipe trains them:
    K ``nn.Sequential`` models (nn.Linear + ReLU, each from xpnet's initial weights of its
    seed), their parameters stacked with ``torch.func.stack_module_state``, and one step
    ``torch.func.vmap``-ped over the models: ``functional_call`` of the model, BCE with
    logits, ``torch.func.grad_and_value``, plain gradient descent with the model's own
    learning rate; X shared, as rows of (m, n_x). The losses (one per model) are read
    back every RECORD_EVERY steps, as xpnet reads its costs."""
    torch = optional("torch")
    if kind == "gpu" and not torch.cuda.is_available():
        raise Unavailable("torch sees no CUDA device")
    from torch.func import functional_call, grad_and_value, stack_module_state, vmap

    dev = torch.device("cuda" if kind == "gpu" else "cpu")
    tdtype = getattr(torch, dtype)
    X = torch.from_numpy(np.ascontiguousarray(data.X.T, dtype=dtype)).to(dev)  # (m, n_x)
    Y = torch.from_numpy(data.Y.T.astype(dtype)).to(dev)  # (m, 1)
    rates = torch.tensor(w.learning_rates, dtype=tdtype, device=dev)  # (K,)

    def model(params):
        layers = []
        for l, (W, b) in enumerate(params, start=1):
            linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=tdtype, device=dev)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W))
                linear.bias.copy_(torch.from_numpy(b.ravel()))
            layers.append(linear)
            if l < len(params):
                layers.append(torch.nn.ReLU())
        return torch.nn.Sequential(*layers)

    stacked = sweep_initial_params(w, dtype)
    models = [model([(W[k], b[k]) for W, b in stacked]) for k in range(w.networks)]
    start, buffers = stack_module_state(models)
    start = {name: p.detach() for name, p in start.items()}  # the step differentiates itself
    base = copy.deepcopy(models[0]).to("meta")

    def loss(params, X, Y):
        logits = functional_call(base, (params, buffers), (X,))
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, Y)

    def step(params, lr, X, Y):
        grads, J = grad_and_value(loss)(params, X, Y)
        return {name: p - lr * grads[name] for name, p in params.items()}, J

    sweep_step = vmap(step, in_dims=(0, 0, None, None))
    held: dict = {}

    def fit(iterations=w.iterations):
        params = start
        for i in range(iterations):
            params, J = sweep_step(params, rates, X, Y)
            if i % RECORD_EVERY == 0 or i == iterations - 1:
                held["costs"] = J.tolist()  # as xpnet reads its costs back
        held["params"] = params
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    def trained():
        names = [name for name, _ in models[0].named_parameters()]
        host = [held["params"][name].cpu().numpy() for name in names]
        return [(W, b[..., None]) for W, b in zip(host[::2], host[1::2])]

    def costs():
        return [float(J) for J in held["costs"]]

    return Runner(fit, warmup=lambda: fit(min(w.iterations, WARMUP_ITERATIONS)), params=trained,
                  cost=lambda: costs()[0], costs=costs)
