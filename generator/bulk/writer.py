"""Adding a bulk job's cards to the collection: :class:`NoteWriter` (batches bracketed by
journal records, so no note is added twice, even after a crash) and the :class:`Adder` a run
hands its batches to."""
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from ..cards.card import CLOZE, Card
from ..errors import FlashcardError
from .journal import ChunkIndex, Journal
from ..writefail import write_failure
from ..notes.accounting import Reason, count, reason_of
from ..notes.add import Left, NoteTarget, existing_keys, plain_key, set_duplicates


@dataclass
class AddOutcome:
    note_ids: List[int]
    skipped: List[Tuple[Card, str]]
    changes: Any = None
    chunks: Dict[str, List[int]] = field(default_factory=dict)  # chunk id -> its note ids


class NoteWriter:
    """Adds a job's cards, batch by batch, so that no note is ever added twice.

    Each batch: an ``adding`` record (with the time and note type) is fsync'd, the notes go in
    with one ``add_notes`` call (one transaction, one undo step), then an ``added`` record. A
    crash between the collection's commit and the ``added`` record leaves the batch "in doubt";
    :meth:`recover` settles it by looking for the batch's notes (created after the ``adding``
    record, same note type, same first field). ``add_notes`` is all or nothing, so one note
    found means the whole batch is in. (Only when ``add_notes`` refuses a batch for one bad
    note are its notes added one by one, skipping that note; see ``notes.new_notes``.)

    Duplicates are checked against a set of the note type's first fields, built once per job
    and kept up to date (``mark_duplicates`` would scan the collection for every batch).
    Call only where collection work belongs (a ``CollectionOp`` in Anki)."""

    def __init__(self, journal: Journal, target: NoteTarget, skip_duplicates: bool = True,
                 index: Optional[ChunkIndex] = None, skip_similar: bool = True,
                 on_added: Optional[Callable[[Any, List[Tuple[Card, int]]], None]] = None) -> None:
        from ..config import BulkMode, FlaggedInBulk

        self.journal = journal
        self.target = target
        self.skip_duplicates = skip_duplicates
        self.skip_similar = skip_similar  # cards marked similar_to (by meaning) are not added
        header = journal.state.header
        # "add as they come" with bulk_flagged = skip: a flagged card is left out (and counted)
        self.skip_flagged = (str(header.get("mode") or BulkMode.ADD.value) == BulkMode.ADD.value
                             and str(header.get("flagged") or "") == FlaggedInBulk.SKIP.value)
        self.index = index
        # (collection, [(card, note id)]) inside each batch's undo step: e.g. recording what the
        # notes came from (generator.update.track, handed in by the app)
        self.on_added = on_added
        self._nt: Any = None
        self._mapping: Dict[str, str] = {}
        self._exact: Set[str] = set()
        self._near: Set[str] = set()
        self._keys_ready = False
        self.figure_notes: List[str] = []  # what writing the last batch's figures said

    def _resolve(self, col: Any) -> None:
        from ..notes.add import resolve_notetype

        if self._nt is None:
            self._nt, self._mapping = resolve_notetype(col, self.target)

    def _first_field(self) -> str:
        return self._mapping["text" if self.target.kind == CLOZE else "front"]

    def _ensure_keys(self, col: Any) -> None:
        """The note type's first fields, once per job (plain text, and folded)."""
        if self._keys_ready:
            return
        self._exact, self._near = existing_keys(col, self._nt, self._first_field())
        self._keys_ready = True

    def mark(self, col: Any, cards: Sequence[Card], keys: Optional[Sequence[str]] = None) -> List[str]:
        """Set ``card.duplicate`` like ``notes.mark_duplicates`` ("collection", "near",
        "batch" or None), from the cached keys. Returns the cards' folded keys."""
        from ..cards.grounding import normalise

        self._resolve(col)
        self._ensure_keys(col)
        if keys is None:
            keys = [plain_key(c.key_text()) for c in cards]
        norms = [normalise(k) for k in keys]
        set_duplicates(cards, keys, norms, self._exact, self._near)
        return norms

    def plan(self, chunk_ids: Sequence[str], cards: Sequence[Card],
             skip_flagged: bool) -> Dict[str, Dict[str, int]]:
        """Per chunk, the cards left out before the add and why: those the add skips (a
        duplicate, a similar note, a flagged card), and those not given at all (unchecked in
        the review). Marks must be set (``mark``)."""
        from ..notes.add import skip_reason

        out: Dict[str, Dict[str, int]] = {cid: {} for cid in chunk_ids}
        given: Dict[str, int] = {}
        for card in cards:
            given[card.chunk_id] = given.get(card.chunk_id, 0) + 1
            why = skip_reason(card, self.skip_duplicates, self.skip_similar, skip_flagged)
            if why is not None and card.chunk_id in out:
                counts = out[card.chunk_id]
                counts[why[1].value] = counts.get(why[1].value, 0) + 1
        for cid in chunk_ids:
            rec = self.journal.state.done.get(cid)
            unchecked = (rec.ncards if rec is not None else 0) - given.get(cid, 0)
            if unchecked > 0:
                out[cid][Reason.UNCHECKED.value] = unchecked
        return out

    def add(self, col: Any, chunk_ids: Sequence[str], cards: Sequence[Card],
            skip_flagged: Optional[bool] = None) -> AddOutcome:
        """Add ``cards`` (from the chunks ``chunk_ids``) and settle those chunks in the journal,
        with what became of each chunk's cards. A chunk's cards not given are counted as
        unchecked (the review left them out); ``skip_flagged`` (default: the job's setting)."""
        from ..cards.grounding import normalise
        from ..notes.add import UNDO_LABEL, add_error, new_notes, undo_failed_step

        skip_flagged = self.skip_flagged if skip_flagged is None else skip_flagged
        self._resolve(col)
        keys = [plain_key(c.key_text()) for c in cards]
        norms: Optional[List[str]] = None
        if self.skip_duplicates:
            norms = self.mark(col, cards, keys)
        from .figures import write_media

        self.figure_notes = write_media(col, [c for c in cards if not (
            self.skip_duplicates and c.duplicate)], self.journal.path)  # before the notes that show them
        batch = self.journal.next_batch()
        plan = self.plan(chunk_ids, cards, skip_flagged)
        try:
            self.journal.adding(batch, chunk_ids, int(time.time() * 1000) - 1, int(self._nt["id"]),
                                plan)
        except OSError as e:  # nothing reached the collection: the batch stays pending
            failed = write_failure(e, "The generated cards are kept in the job's journal.")
            if failed is None:
                raise
            raise failed from e
        pos = col.add_custom_undo_entry(UNDO_LABEL)
        try:
            added, skipped = new_notes(col, self._nt, self._mapping, self.target, cards,
                                       self.skip_duplicates, self.skip_similar, skip_flagged)
            if self.on_added is not None:
                self.on_added(col, [(cards[i], int(n.id)) for i, n in added])
            changes = col.merge_undo_entries(pos)
        except Exception as e:
            undo_failed_step(col, pos)
            error = add_error(e, "The generated cards are kept in the job's journal.",
                              "The generated cards are kept: check the deck and note type, "
                              "then resume the job.")
            try:
                self.journal.not_added(batch, error=error.message)
            except OSError:
                pass  # the journal's disk may be the full one; the batch stays "in doubt"
            raise error from e
        per_chunk: Dict[str, List[int]] = {cid: [] for cid in chunk_ids}
        for i, note in added:
            per_chunk.setdefault(cards[i].chunk_id, []).append(int(note.id))
            if self._keys_ready:
                self._exact.add(keys[i])
                self._near.add(norms[i] if norms is not None else normalise(keys[i]))
        note_ids = [int(n.id) for _i, n in added]
        self.journal.added(batch, chunk_ids, note_ids, len(skipped),
                           outcome=outcome_of(chunk_ids, per_chunk, skipped, plan))
        if self.index is not None:
            self.index.record(per_chunk)
        return AddOutcome(note_ids, [(card, why) for card, why, _r in skipped], changes, per_chunk)

    def add_reviewed(self, col: Any, keep: Sequence[Card], chunk_ids: Sequence[str]) -> AddOutcome:
        """Review mode: add the cards the user kept; every chunk of ``chunk_ids`` is settled
        (the cards not kept are dropped, counted as left out by the user)."""
        if not keep:
            self.journal.discard(chunk_ids)
            return AddOutcome([], [], None, {})
        return self.add(col, chunk_ids, keep, skip_flagged=False)

    def _field_index(self, col: Any, nt: Dict[str, Any]) -> int:
        """Index of the first field (front / cloze text) in ``nt`` under the job's mapping."""
        names = [f["name"] for f in nt["flds"]]
        try:
            self._resolve(col)
            if int(self._nt["id"]) == int(nt["id"]):
                return names.index(self._first_field())
        except FlashcardError:
            pass
        return 0

    def recover(self, col: Any) -> int:
        """Settle the batches left in doubt by a crash; returns how many were in the collection."""
        state = self.journal.state
        found = 0
        for batch, rec in sorted(state.adding.items()):
            chunk_ids = list(rec.get("chunks") or [])
            keys: Dict[str, str] = {}  # first field as plain text -> chunk id
            for cid in chunk_ids:
                r = state.done.get(cid)
                for c in (r.cards if r else []):
                    d = c.get("text") if c.get("kind") == CLOZE else c.get("front")
                    keys[plain_key(str(d or ""))] = cid
            hits: Dict[str, List[int]] = {}
            mid = int(rec.get("mid") or 0)
            since = int(rec.get("since") or 0)
            nt = col.models.get(mid) if mid else None
            if nt is not None and keys:
                index = self._field_index(col, nt)
                for nid, flds in col.db.all("select id, flds from notes where mid = ? and id >= ?",
                                            mid, since):
                    parts = flds.split("\x1f")
                    if index < len(parts):
                        cid = keys.get(plain_key(parts[index]))
                        if cid is not None:
                            hits.setdefault(cid, []).append(int(nid))
            if hits:  # add_notes is all or nothing: the whole batch is in
                found += 1
                note_ids = [n for nids in hits.values() for n in nids]
                self.journal.added(batch, chunk_ids, note_ids, recovered=True,
                                   outcome=recovered_outcome(state, chunk_ids, hits, rec.get("plan")))
                if self.index is not None:
                    self.index.record({cid: hits.get(cid, []) for cid in chunk_ids})
            else:  # the add never reached the collection: the cards are pending again
                self.journal.not_added(batch, recovered=True)
        return found


def outcome_of(chunk_ids: Sequence[str], per_chunk: Dict[str, List[int]], skipped: Sequence[Left],
               plan: Dict[str, Dict[str, int]]) -> Dict[str, Dict[str, int]]:
    """Per chunk: its cards added, and why the others were not (the add's reasons, and the
    cards the review left out, from ``plan``)."""
    out: Dict[str, Dict[str, int]] = {cid: {"added": len(per_chunk.get(cid, []))} for cid in chunk_ids}
    for card, _why, reason in skipped:
        counts = out.get(card.chunk_id)
        if counts is not None:
            counts[reason.value] = counts.get(reason.value, 0) + 1
    for cid in chunk_ids:
        unchecked = plan.get(cid, {}).get(Reason.UNCHECKED.value, 0)
        if unchecked:
            out[cid][Reason.UNCHECKED.value] = unchecked
    return out


def recovered_outcome(state: Any, chunk_ids: Sequence[str], hits: Dict[str, List[int]],
                      plan: Any) -> Dict[str, Dict[str, int]]:
    """After a crash, what became of each chunk's cards: the notes found are added, the plan
    says why the others were left out, and any the plan does not explain could not be added."""
    plan = plan if isinstance(plan, dict) else {}
    out: Dict[str, Dict[str, int]] = {}
    for cid in chunk_ids:
        counts = {k: count(v) for k, v in (plan.get(cid) or {}).items() if reason_of(k) is not None}
        counts["added"] = len(hits.get(cid, []))
        rec = state.done.get(cid)
        rest = (rec.ncards if rec is not None else 0) - sum(counts.values())
        if rest > 0:
            counts[Reason.UNUSABLE.value] = counts.get(Reason.UNUSABLE.value, 0) + rest
        out[cid] = counts
    return out


class Adder:
    """Where a run hands its batches. ``submit`` may work asynchronously (the Qt adder runs a
    CollectionOp); ``wait`` returns when every submitted batch is done."""

    def submit(self, chunk_ids: List[str], cards: List[Card],
               done: Callable[[Optional[AddOutcome], Optional[BaseException]], None]) -> None:
        raise NotImplementedError

    def wait(self, timeout: Optional[float] = None) -> bool:
        return True


class DirectAdder(Adder):
    """Adds on the calling thread, to a collection the caller owns (CLI, tests, benchmark)."""

    def __init__(self, col: Any, writer: NoteWriter) -> None:
        self.col = col
        self.writer = writer

    def submit(self, chunk_ids: List[str], cards: List[Card],
               done: Callable[[Optional[AddOutcome], Optional[BaseException]], None]) -> None:
        try:
            outcome = self.writer.add(self.col, chunk_ids, cards)
        except Exception as e:
            done(None, e)
            return
        done(outcome, None)
