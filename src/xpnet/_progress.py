"""Progress of a fit for a person watching: a tqdm bar that moves with every update.

The bar advances after each update (epoch mode: by the examples of each
mini-batch, so a long epoch is seen to move, at so many examples per second;
iteration mode: by updates) from Python counts alone, so it reads nothing back
from the device; it is redrawn at most every :data:`REFRESH_SECONDS`. The cost
and the other measures come from the training loop's records, each shown with
the record it belongs to ("iteration 299: cost ...", "epoch 3: cost ..."): in
iteration mode a record describes the parameters before that iteration's
update, so at the end the bar's last figures are those before the last update.
In epoch mode the bar also names the epoch in progress. A resumed fit says
where it resumed. Without tqdm installed, it prints one line per record.
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
        self.epochs = plan.epochs
        self.pending = 0
        self.last_drawn = time.monotonic()
        self.bar = None
        self.enabled = enabled
        self.epoch_shown = None
        if not enabled:
            return
        if any(resumed):
            print(self.resumed_at(resumed), file=sys.stderr, flush=True)
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=self.total, initial=self.done, unit="ex" if self.by_epochs else "it",
                        unit_scale=self.by_epochs, dynamic_ncols=True, leave=True,
                        mininterval=REFRESH_SECONDS, desc=self.epoch_in_progress())

    def resumed_at(self, resumed: tuple[int, int]) -> str:
        """Where a resumed fit goes on from, in words."""
        step, epoch = resumed
        if self.by_epochs:
            return f"resumed after epoch {epoch} of {self.epochs} (update {step})"
        return f"resumed at iteration {step} of {self.total}"

    def epoch_in_progress(self) -> str | None:
        """The bar's description in epoch mode: the epoch under way (or the last, at the end)."""
        if not self.by_epochs:
            return None
        epoch = min(self.done // max(self.m, 1) + 1, self.epochs)
        if epoch == self.epoch_shown:
            return None
        self.epoch_shown = epoch
        return f"epoch {epoch}/{self.epochs}"

    def advance(self, m_batch: int) -> None:
        """An update on ``m_batch`` examples is done."""
        self.pending += m_batch if self.by_epochs else 1
        now = time.monotonic()
        if self.bar is not None and now - self.last_drawn >= REFRESH_SECONDS:
            self._flush()
            self.last_drawn = now

    def _flush(self) -> None:
        if self.pending:
            self.done += self.pending
            desc = self.epoch_in_progress()
            if desc is not None:
                self.bar.set_description_str(desc, refresh=False)
            self.bar.update(self.pending)
            self.pending = 0

    def update(self, history: History) -> None:
        """A record was taken: show its figures, named by the record they belong to."""
        if not self.enabled:
            return
        where = (f"epoch {history.epochs[-1]}" if self.by_epochs
                 else f"iteration {history.iterations[-1]}")
        figures = {"cost": history.costs[-1]}
        figures.update({name: values[-1] for name, values in history.metrics.items()})
        shown = ", ".join(f"{name} {value:.4g}" for name, value in figures.items())
        if self.bar is not None:
            self._flush()
            self.bar.set_postfix_str(f"{where}: {shown}", refresh=True)
        else:
            total = self.epochs if self.by_epochs else self.total
            print(f"{where} of {total}: {shown}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self._flush()
            self.bar.close()
