"""Progress of a fit for a person watching: a tqdm bar that moves with every update.

The bar advances after each update (epoch mode: by the examples of each
mini-batch, so a long epoch is seen to move, at so many examples per second;
iteration mode: by updates) from Python counts alone, so it reads nothing back
from the device; it is redrawn at most every :data:`REFRESH_SECONDS`. The cost
and the other measures come from the training loop's records. Without tqdm
installed, it prints one line per record.
"""

from __future__ import annotations

import sys
import time

from .training import History, Plan

#: The bar is redrawn at most this often (seconds), however short the updates.
REFRESH_SECONDS = 0.1


class Progress:
    """A progress display over a fit of ``m`` examples a pass, resumed (when it is) at
    ``resumed`` = (updates made, epochs completed)."""

    def __init__(self, plan: Plan, m: int, *, enabled: bool, resumed: tuple[int, int] = (0, 0)):
        self.by_epochs = plan.epochs is not None
        self.m = m
        # Epoch mode counts examples (an epoch is m of them), iteration mode updates.
        self.total = plan.epochs * m if self.by_epochs else plan.iterations
        self.done = resumed[1] * m if self.by_epochs else resumed[0]
        self.pending = 0
        self.last_drawn = time.monotonic()
        self.bar = None
        self.enabled = enabled
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=self.total, initial=self.done, unit="ex" if self.by_epochs else "it",
                        unit_scale=self.by_epochs, dynamic_ncols=True, leave=True,
                        mininterval=REFRESH_SECONDS)

    def advance(self, m_batch: int) -> None:
        """An update on ``m_batch`` examples is done."""
        self.pending += m_batch if self.by_epochs else 1
        now = time.monotonic()
        if self.bar is not None and now - self.last_drawn >= REFRESH_SECONDS:
            self._flush()
            self.last_drawn = now

    def _flush(self) -> None:
        if self.pending:
            self.bar.update(self.pending)
            self.done += self.pending
            self.pending = 0

    def update(self, history: History) -> None:
        """A record was taken: show its figures."""
        if not self.enabled:
            return
        summary = {}
        if self.by_epochs:
            summary["epoch"] = f"{history.epochs[-1]}/{self.total // max(self.m, 1)}"
        summary["cost"] = f"{history.costs[-1]:.4g}"
        summary.update({name: f"{values[-1]:.4g}" for name, values in history.metrics.items()})
        if self.bar is not None:
            self._flush()
            self.bar.set_postfix(summary, refresh=True)
        else:
            unit = "epoch" if self.by_epochs else "iteration"
            position = history.epochs[-1] if self.by_epochs else history.iterations[-1] + 1
            total = self.total // max(self.m, 1) if self.by_epochs else self.total
            summary.pop("epoch", None)
            fields = "  ".join(f"{k} {v}" for k, v in summary.items())
            print(f"{unit} {position}/{total}  {fields}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self._flush()
            self.bar.close()
