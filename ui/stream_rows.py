"""``StreamedRows``: cards streaming into a ``ReviewTable`` while their chunks are written, for
the Generate and the Bulk dialogs.

``card(chunk, card)`` adds a row at once, marked "Arriving…". ``settle(chunk, cards)`` takes the
chunk's final list (authoritative) and shows what ``Arrivals.plan_settle`` (ui/review_rows.py, where
the rules are) decides: rows that now show their final card, rows withdrawn, new rows; an edited
row is never overwritten, a deleted row stays deleted, an added row is left alone.
``leftovers()`` ends the rows of chunks that never ended (cancelled, failed)."""
from typing import Callable, List, Optional

from aqt.qt import QTimer

from ..generator.cards.card import Card
from ..generator.job.chunk import Chunk
from .review import ReviewTable
from .review_rows import Arrivals, Settling


class StreamedRows(Arrivals):
    def __init__(self, table: ReviewTable, run: Callable[[], int],
                 on_refresh: Optional[Callable[[], None]] = None) -> None:
        super().__init__()
        self.table = table
        self.run = run  # the run (generation) new rows belong to
        self.on_refresh = on_refresh  # e.g. the progress line, with the rows streamed so far
        self._refresh_due = False

    def card(self, chunk: Chunk, card: Card) -> int:
        """A card just written: a row at once; returns its key."""
        table = self.table
        key = table.append(card, self.run(), arriving=True)
        table.resizeRowToContents(table.rowCount() - 1)
        self.arrived(chunk.id, key, card)
        self._refresh_soon()
        return key

    def _refresh_soon(self) -> None:
        """Count the checked rows at most every 100 ms while cards stream (a pass over every
        row, and the dialog's buttons follow), then ``on_refresh``."""
        if self._refresh_due:
            return
        self._refresh_due = True

        def refresh() -> None:
            self._refresh_due = False
            from .common import is_alive

            if is_alive(self.table):
                self.table.emit_checked()
                if self.on_refresh is not None:
                    self.on_refresh()

        QTimer.singleShot(100, refresh)

    def settle(self, chunk: Chunk, cards: List[Card]) -> List[Card]:
        """The chunk's final list; returns the cards appended as new rows."""
        plan = self.plan_settle(chunk.id, cards, self.table.review_rows)
        self._show(plan)
        self._refresh_soon()
        if plan.fresh:
            self.table.add_cards(plan.fresh, self.run())
        return plan.fresh

    def leftovers(self, remove: bool = False) -> None:
        """Rows of chunks that never ended: kept (no longer arriving), or with ``remove`` taken
        out unless the user edited or added them (a bulk job asks those chunks again on resume)."""
        self._show(self.plan_leftovers(self.table.review_rows, remove))

    def _show(self, plan: Settling) -> None:
        for key, card in plan.steps:
            if card is not None:
                self.table.update_row(key, card, emit=False)
            self.table.set_arriving(key, False)
        if plan.withdraw:
            self.table.remove_cards(plan.withdraw)
