"""``StreamedRows``: cards streaming into a ``ReviewTable`` while their chunks are written, for
the Generate and the Bulk dialogs.

``card(chunk, card)`` adds a row at once, marked "Arriving…". ``settle(chunk, cards)`` takes the
chunk's final list (authoritative) and maps the rows shown early to it with
``generator.job.stream.reconcile``:

- the same card (or one that took its place): the row shows the final card, unless the user
  edited the row (an edited row is never overwritten) or added it already (left alone);
- a row whose card the final list lacks is removed, unless the user edited or added it;
- a row the user deleted stays deleted;
- final cards not shown early are appended.

``leftovers()`` ends the rows of chunks that never ended (cancelled, failed)."""
from typing import Callable, Dict, List, Set, Tuple

from aqt.qt import QTimer

from ..generator.cards.card import Card
from ..generator.job.chunk import Chunk
from .review import ReviewTable


class StreamedRows:
    def __init__(self, table: ReviewTable, run: Callable[[], int]) -> None:
        self.table = table
        self.run = run  # the run (generation) new rows belong to
        self.early: Dict[str, List[Tuple[int, Card]]] = {}  # chunk id -> (row key, card) shown early
        self.settled: Set[str] = set()  # chunks whose final list the table reflects
        # every card the table has had (final ones too), by id(): kept alive, so no id is reused
        self.seen: Dict[int, Card] = {}
        self.count = 0  # rows streamed and settled so far (for progress lines)
        self._refresh_due = False

    def reset(self) -> None:
        self.early = {}
        self.settled = set()
        self.seen = {}
        self.count = 0

    def card(self, chunk: Chunk, card: Card) -> int:
        """A card just written: a row at once; returns its key."""
        table = self.table
        key = table.append(card, self.run(), arriving=True)
        table.resizeRowToContents(table.rowCount() - 1)
        self.early.setdefault(chunk.id, []).append((key, card))
        self.seen[id(card)] = card
        self.count += 1
        self._refresh_soon()
        return key

    def _refresh_soon(self) -> None:
        """Count the checked rows at most every 100 ms while cards stream (a pass over every
        row, and the dialog's buttons follow)."""
        if self._refresh_due:
            return
        self._refresh_due = True

        def refresh() -> None:
            self._refresh_due = False
            from .common import is_alive

            if is_alive(self.table):
                self.table.emit_checked()

        QTimer.singleShot(100, refresh)

    def settle(self, chunk: Chunk, cards: List[Card]) -> List[Card]:
        """The chunk's final list; returns the cards appended as new rows."""
        from ..generator.job.stream import reconcile

        table = self.table
        self.settled.add(chunk.id)
        early = self.early.pop(chunk.id, [])
        rec = reconcile([c for _k, c in early], cards)
        for i, j in rec.same + rec.replaced:
            key = early[i][0]
            row = table.row_at(key)
            self.seen[id(cards[j])] = cards[j]
            if row is None or row.added is not None:
                continue  # deleted by the user (stays deleted), or added already (left alone)
            if not row.edited and row.card is not cards[j]:
                table.update_row(key, cards[j], emit=False)
            table.set_arriving(key, False)
        self._withdraw([early[i][0] for i in rec.withdrawn])
        self._refresh_soon()
        added = set(rec.added)
        fresh = [c for j, c in enumerate(cards) if j in added and id(c) not in self.seen]
        for card in fresh:
            self.seen[id(card)] = card
        if fresh:
            table.add_cards(fresh, self.run())
        self.count += len(fresh)
        return fresh

    def _withdraw(self, keys: List[int]) -> None:
        """Take these rows out (one pass over the table), but not one the user edited or added."""
        gone = []
        for key in keys:
            row = self.table.row_at(key)
            if row is not None and row.added is None and not row.edited:
                gone.append(row.card)
            elif row is not None:
                self.table.set_arriving(key, False)
        if gone:
            self.table.remove_cards(gone)
            self.count -= len(gone)

    def leftovers(self, remove: bool = False) -> None:
        """Rows of chunks that never ended: kept (no longer arriving), or with ``remove`` taken
        out unless the user edited or added them (a bulk job asks those chunks again on resume)."""
        keys = [key for early in self.early.values() for key, _card in early]
        if remove:
            self._withdraw(keys)
        else:
            for key in keys:
                self.table.set_arriving(key, False)
        self.early = {}
