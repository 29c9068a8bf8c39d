"""The review list's state, without Qt: which cards are rows, in which run, checked or not,
arriving, edited, added (``ReviewRows``), and how a chunk's final list settles the rows shown
while it was written (``Arrivals``). ``ReviewTable`` (ui/review.py) only shows this state and
``StreamedRows`` (ui/stream_rows.py) applies what ``Arrivals`` decides; tests check the rules
here directly.

The rules:

- a card arrives checked unless it is a duplicate, not found in the source, flagged by the
  card checks (while ``uncheck_flagged``) or similar in meaning to a note (while
  ``uncheck_similar``);
- a row shown again with another card keeps its box, except that a card that turned out
  similar or flagged is unchecked, and a flagged card whose rewrite is fine is checked again;
- an added row stays, unchecked and marked, and can be added again when an undo removes its
  note; a row the user edited is never overwritten;
- when a chunk ends, its final list (``generator.job.stream.reconcile``) maps the rows shown
  early: the same card or its replacement is shown (unless edited or added), a row the final
  list lacks is withdrawn (unless edited or added), a row the user deleted stays deleted, and
  final cards not shown early become new rows.

The engine's answer parsing (``reconcile``) is imported when first used: importing this module
(with the Generate dialog) loads no heavy engine module."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

from ..generator.cards.card import Card
from ..generator.cards.checks import is_flagged
from ..generator.notes.accounting import CardAccount, Reason


@dataclass
class Row:
    key: int
    card: Card
    run: int = 0  # the generation that made it
    added: Optional[int] = None  # the id of the note it became
    edited: bool = False  # the user changed a side: never overwritten
    arriving: bool = False  # streamed in; its chunk has not ended yet
    checked: bool = False  # the check box


def wanted(card: Card, uncheck_flagged: bool = True) -> bool:
    """Checked when it arrives: not a duplicate, found in the source and (unless the setting
    says otherwise) not flagged by the card checks; an Image Occlusion note as it says (one whose
    masks need checking, or one offered beside cards of another kind, arrives unchecked)."""
    if card.occlusion is not None:
        return bool(card.occlusion.checked)
    return not card.duplicate and card.grounded and not (uncheck_flagged and is_flagged(card))


class ReviewRows:
    """The rows in order, by key (an int given out once), with what the list shows of them."""

    def __init__(self) -> None:
        self.rows: List[Row] = []
        self.busy: Dict[int, str] = {}  # id(card) -> what is happening to it ("Regenerating…")
        self.not_added: Dict[int, str] = {}  # id(card) -> why adding skipped it
        self.uncheck_similar = True  # the setting skip_similar
        self.uncheck_flagged = True  # the setting uncheck_flagged
        self._next_key = 1
        # For the account of the cards (``account``): what the jobs left out before their cards
        # became rows, and the rows the user deleted (those not added, and those added).
        self.job_left: Dict[Reason, int] = {}
        self.deleted = 0
        self.deleted_added = 0

    # --- reading ------------------------------------------------------------------------------
    @property
    def cards(self) -> List[Card]:
        """The cards still to review (not added), in row order."""
        return [r.card for r in self.rows if r.added is None]

    def checked_cards(self) -> List[Card]:
        return [r.card for r in self.rows if r.added is None and r.checked]

    def cards_of_run(self, run: int) -> List[Card]:
        """The cards of one generation still to review (each run's duplicates are its own)."""
        return [r.card for r in self.rows if r.run == run and r.added is None]

    def runs(self) -> List[int]:
        return sorted({r.run for r in self.rows if r.added is None})

    def added_note_ids(self) -> List[int]:
        return [r.added for r in self.rows if r.added is not None]

    def index_of(self, card: Card) -> int:
        return next((i for i, row in enumerate(self.rows) if row.card is card), -1)

    def index_of_key(self, key: int) -> int:
        return next((i for i, row in enumerate(self.rows) if row.key == key), -1)

    def row_at(self, key: int) -> Optional[Row]:
        index = self.index_of_key(key)
        return self.rows[index] if index >= 0 else None

    def run_of(self, card: Card, default: int) -> int:
        return next((r.run for r in self.rows if r.card is card), default)

    def is_added(self, card: Card) -> bool:
        index = self.index_of(card)
        return index >= 0 and self.rows[index].added is not None

    def is_checked(self, index: int) -> bool:
        return 0 <= index < len(self.rows) and self.rows[index].checked

    # --- changing -----------------------------------------------------------------------------
    def arrives_checked(self, card: Card) -> bool:
        return wanted(card, self.uncheck_flagged) and not (
            self.uncheck_similar and card.similar_to is not None)

    def append(self, card: Card, run: int = 0, arriving: bool = False) -> Row:
        row = Row(self._next_key, card, run, arriving=arriving, checked=self.arrives_checked(card))
        self._next_key += 1
        self.rows.append(row)
        return row

    def set_checked(self, index: int, checked: bool) -> bool:
        """False (and nothing changes) for an added row: it cannot be checked."""
        row = self.rows[index]
        if row.added is not None:
            return False
        row.checked = checked
        return True

    def replace(self, index: int, new: Card) -> bool:
        """Show ``new`` in the row at ``index`` (no longer edited); returns whether its box is
        checked now."""
        row = self.rows[index]
        old = row.card
        checked = row.checked
        if self.uncheck_similar and new.similar_to is not None and old.similar_to is None:
            checked = False  # it turned out similar in meaning to a note
        if self.uncheck_flagged and is_flagged(new) and not is_flagged(old):
            checked = False  # flagged since it was shown (e.g. by the rewrite pass's checks)
        elif (not checked and self.uncheck_flagged and is_flagged(old) and not is_flagged(new)
              and wanted(new, True)):
            checked = True  # it arrived flagged (and so unchecked); its rewrite is fine
        self.busy.pop(id(old), None)
        row.card = new
        row.edited = False
        return checked

    def settle(self, index: int) -> bool:
        """The row's chunk has ended (no longer arriving); returns whether its box is checked
        now: the chunk's checks and rewrite pass may have flagged the card in place."""
        row = self.rows[index]
        row.arriving = False
        return row.checked and not (self.uncheck_flagged and is_flagged(row.card))

    def remove(self, cards: Sequence[Card], by_user: bool = False) -> List[int]:
        """Take these cards' rows out; their former indices, last first. ``by_user``: the user
        deleted them (counted as left out by the user; a row withdrawn by its chunk's final
        list is not a card of its own)."""
        ids = {id(c) for c in cards}
        gone = [i for i in reversed(range(len(self.rows))) if id(self.rows[i].card) in ids]
        if by_user:
            added = sum(1 for i in gone if self.rows[i].added is not None)
            self.deleted_added += added
            self.deleted += len(gone) - added
        for index in gone:
            card = self.rows[index].card
            self.busy.pop(id(card), None)
            self.not_added.pop(id(card), None)
            del self.rows[index]
        return gone

    def clear(self) -> None:
        self.rows.clear()
        self.busy.clear()
        self.not_added.clear()
        self.job_left = {}
        self.deleted = self.deleted_added = 0

    # --- accounting -----------------------------------------------------------------------------
    def note_job(self, account: CardAccount) -> None:
        """A job ended: the cards it made and left out itself (over what the text can hold, over
        the number set, dropped by the rewrite pass) count in the list's account."""
        for reason, n in account.left.items():
            self.job_left[reason] = self.job_left.get(reason, 0) + n

    def why_unchecked(self, card: Card) -> Reason:
        """Why a card not added is unchecked: what made it arrive unchecked, else the user."""
        if card.duplicate == "batch":
            return Reason.BATCH
        if card.duplicate:
            return Reason.COLLECTION
        if self.uncheck_similar and card.similar_to is not None:
            return Reason.SIMILAR
        if not card.grounded:
            return Reason.UNGROUNDED
        if self.uncheck_flagged and is_flagged(card):
            return Reason.FLAGGED
        return Reason.UNCHECKED

    def account(self) -> CardAccount:
        """Every card of the list: made (the rows, those deleted, those the jobs left out),
        added, and why each of the others is not; a checked card not added yet is waiting."""
        out = CardAccount(made=len(self.rows) + self.deleted + self.deleted_added + sum(self.job_left.values()),
                          added=self.deleted_added)
        for reason, n in self.job_left.items():
            out.leave(reason, n)
        out.leave(Reason.UNCHECKED, self.deleted)
        for row in self.rows:
            if row.added is not None:
                out.added += 1
            elif id(row.card) in self.not_added:
                out.leave(Reason.UNUSABLE)
            elif not row.checked:
                out.leave(self.why_unchecked(row.card))
        return out

    def mark_added(self, added: Sequence[Tuple[Card, int]]) -> List[int]:
        """These cards are notes now (unchecked, kept); the indices of their rows."""
        notes = {id(card): nid for card, nid in added}
        changed = []
        for index, row in enumerate(self.rows):
            if id(row.card) in notes:
                row.added = notes[id(row.card)]
                row.checked = False
                self.not_added.pop(id(row.card), None)
                changed.append(index)
        return changed

    def unmark_added(self, gone: Sequence[int]) -> List[int]:
        """Notes that are gone again (an undo): their rows can be reviewed and added again (and
        are checked for duplicates again); their indices."""
        wanted_ids = set(gone)
        changed = []
        for index, row in enumerate(self.rows):
            if row.added is not None and row.added in wanted_ids:
                row.added = None
                row.checked = False
                row.card.duplicate = None
                changed.append(index)
        return changed

    def duplicates_to_uncheck(self) -> List[int]:
        return [i for i, row in enumerate(self.rows) if row.card.duplicate and row.checked]

    def similar_to_uncheck(self, index: int) -> bool:
        """A card just compared by meaning: uncheck it (similar, not added, checked)?"""
        row = self.rows[index]
        return (self.uncheck_similar and row.card.similar_to is not None
                and row.added is None and row.checked)


@dataclass
class Settling:
    """What a chunk's end (or a job's) does to the rows: ``steps`` in order, each a row that is
    no longer arriving and, where given, the final card it shows now; ``withdraw`` the cards
    whose rows go; ``fresh`` the final cards that become new rows."""

    steps: List[Tuple[int, Optional[Card]]] = field(default_factory=list)
    withdraw: List[Card] = field(default_factory=list)
    fresh: List[Card] = field(default_factory=list)


class Arrivals:
    """The rows shown while their chunks are written, by chunk, and every card the list has had
    (``seen``, by id(): kept alive, so no id is reused)."""

    def __init__(self) -> None:
        self.early: Dict[str, List[Tuple[int, Card]]] = {}  # chunk id -> (row key, card) shown early
        self.settled: Set[str] = set()  # chunks whose final list the rows reflect
        self.seen: Dict[int, Card] = {}
        self.count = 0  # rows streamed and settled so far (for progress lines)

    def reset(self) -> None:
        self.early.clear()
        self.settled.clear()
        self.seen.clear()
        self.count = 0

    def arrived(self, chunk_id: str, key: int, card: Card) -> None:
        self.early.setdefault(chunk_id, []).append((key, card))
        self.seen[id(card)] = card
        self.count += 1

    def plan_settle(self, chunk_id: str, cards: Sequence[Card], rows: ReviewRows) -> Settling:
        """The chunk's final list against the rows shown early."""
        from ..generator.job.stream import reconcile

        self.settled.add(chunk_id)
        early = self.early.pop(chunk_id, [])
        rec = reconcile([c for _k, c in early], cards)
        out = Settling()
        for i, j in rec.same + rec.replaced:
            key = early[i][0]
            row = rows.row_at(key)
            self.seen[id(cards[j])] = cards[j]
            if row is None or row.added is not None:
                continue  # deleted by the user (stays deleted), or added already (left alone)
            out.steps.append((key, cards[j] if not row.edited and row.card is not cards[j] else None))
        self._withdraw([early[i][0] for i in rec.withdrawn], rows, out)
        added = set(rec.added)
        out.fresh = [c for j, c in enumerate(cards) if j in added and id(c) not in self.seen]
        for card in out.fresh:
            self.seen[id(card)] = card
        self.count += len(out.fresh)
        return out

    def plan_leftovers(self, rows: ReviewRows, remove: bool = False) -> Settling:
        """Rows of chunks that never ended: kept (no longer arriving), or with ``remove`` taken
        out unless the user edited or added them (a bulk job asks those chunks again on resume)."""
        keys = [key for early in self.early.values() for key, _card in early]
        self.early.clear()
        out = Settling()
        if remove:
            self._withdraw(keys, rows, out)
        else:
            out.steps = [(key, None) for key in keys]
        return out

    def _withdraw(self, keys: List[int], rows: ReviewRows, out: Settling) -> None:
        """These rows go, but not one the user edited or added (it only stops arriving)."""
        for key in keys:
            row = rows.row_at(key)
            if row is not None and row.added is None and not row.edited:
                out.withdraw.append(row.card)
            elif row is not None:
                out.steps.append((key, None))
        self.count -= len(out.withdraw)
