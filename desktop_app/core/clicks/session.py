"""Bookkeeping of one point-and-click selection session (Qt-free, no inference here).

The editor's click tool is driven by a newest-wins worker: while a prediction runs, more
clicks can arrive, and the next run takes *all* of them (none is lost, none waits for a stale
run). So one applied result may cover several clicks. This class remembers how many clicks
each applied result covered, which makes "undo the last click" exact:

- if the last applied result covered exactly the clicks being kept, undoing its document step
  restores the mask as it was before the removed click (bit-exact, the document stores diffs);
- if it covered more (clicks were coalesced), the document step is undone and the remaining
  clicks are predicted again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop_app.core.clicks.engine import Click


@dataclass
class UndoPlan:
    """What the UI must do after :meth:`ClickSession.undo_click`."""

    undo_document_steps: int = 0  # how many document undo steps to take
    rerun: bool = False  # predict again with the remaining clicks


@dataclass
class ClickSession:
    clicks: list[Click] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)  # click counts of applied results, in order
    session_id: int = 0

    def add(self, click: Click) -> tuple[Click, ...]:
        """Record a click; returns the full click tuple the next prediction must use."""
        self.clicks.append(click)
        return tuple(self.clicks)

    @property
    def pending(self) -> bool:
        """Clicks exist that no applied result covers yet."""
        return len(self.clicks) > (self.applied[-1] if self.applied else 0)

    def accept_result(self, n_clicks: int) -> bool:
        """A prediction for the first ``n_clicks`` clicks finished; apply it?

        Results for click lists that were undone meanwhile (n > current clicks) or older than
        the last applied one are refused.
        """
        if n_clicks > len(self.clicks) or (self.applied and n_clicks <= self.applied[-1]):
            return False
        self.applied.append(n_clicks)
        return True

    def undo_click(self) -> UndoPlan:
        if not self.clicks:
            return UndoPlan()
        self.clicks.pop()
        plan = UndoPlan()
        while self.applied and self.applied[-1] > len(self.clicks):
            self.applied.pop()
            plan.undo_document_steps += 1
        plan.rerun = self.pending
        return plan

    def clear(self) -> int:
        """Forget all clicks; returns how many document steps this session applied."""
        steps = len(self.applied)
        self.clicks.clear()
        self.applied.clear()
        self.session_id += 1
        return steps
