"""Progress of a fit for a person watching: a tqdm bar with the running cost.

Driven by the training loop's records (never per step, so it adds no
host synchronisation). Without tqdm installed, it prints one line per record.
"""

from __future__ import annotations

import sys

from .training import History, Plan


class Progress:
    """A progress display over a fit's updates (iteration mode) or epochs (epoch mode)."""

    def __init__(self, plan: Plan, *, enabled: bool):
        self.by_epochs = plan.epochs is not None
        self.total = plan.epochs if self.by_epochs else plan.iterations
        self.done = 0
        self.bar = None
        self.enabled = enabled
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=self.total, unit="epoch" if self.by_epochs else "it",
                        dynamic_ncols=True, leave=True)

    def update(self, history: History) -> None:
        if not self.enabled:
            return
        position = history.epochs[-1] if self.by_epochs else history.iterations[-1] + 1
        summary = {"cost": f"{history.costs[-1]:.4g}"}
        summary.update({name: f"{values[-1]:.4g}" for name, values in history.metrics.items()})
        if self.bar is not None:
            self.bar.update(position - self.done)
            self.bar.set_postfix(summary, refresh=False)
        else:
            unit = "epoch" if self.by_epochs else "iteration"
            fields = "  ".join(f"{k} {v}" for k, v in summary.items())
            print(f"{unit} {position}/{self.total}  {fields}", file=sys.stderr, flush=True)
        self.done = position

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
