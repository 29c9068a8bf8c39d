"""The proposals the user kept, applied to the collection in ONE undo step ("Improve with
Ollama"; in Anki, the ``OpChanges`` go to a ``CollectionOp``).

- **rewrite**: the note's changed fields are set on the same note (same note id, same cards, the
  review history untouched) with one ``update_notes`` call; the add-on's source line stays at the
  end of the back; the note is tagged ``ollama-flashcards::improved``. A note edited since it was
  read (its ``mod`` changed) or deleted is skipped, with why. With ``reset_scheduling`` the
  rewritten note's cards start again as new cards (Anki's "Reset": position and counters reset,
  the review log kept).
- **split**: the new notes are added with the original's note type, deck, tags (less ``leech``)
  and source (without the original's update mark), tagged ``ollama-flashcards::split-from::<note id>``; with ``suspend_original`` the
  original's cards are suspended (it stays, with its history).

A failure undoes the whole step (nothing half-applied); a failed write says so as the engine's
typed error."""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Tuple

from ..cards.checks import is_flagged
from ..cards.fields import clean_chars
from ..errors import CollectionError
from ..notes.add import ADDON_TAG, FLAGGED_TAG, undo_failed_step
from ..outside import shown
from ..writefail import write_failure
from .history import IMPROVED_TAG, LEECH_TAG
from .request import REWRITE, SPLIT, Proposal

UNDO_LABEL = "Improve with Ollama"
SPLIT_TAG = ADDON_TAG + "::split-from::%d"
NOT_CARRIED = frozenset({LEECH_TAG, IMPROVED_TAG.lower(), FLAGGED_TAG.lower(), "marked"})


@dataclass
class ApplyOptions:
    reset_scheduling: bool = False  # rewritten notes' cards start again as new
    suspend_original: bool = False  # a split note's original is suspended


@dataclass
class Applied:
    rewritten: List[int] = field(default_factory=list)  # note ids
    added: Dict[int, List[int]] = field(default_factory=dict)  # original note id -> new note ids
    suspended: List[int] = field(default_factory=list)  # card ids
    reset: List[int] = field(default_factory=list)  # card ids
    skipped: List[Tuple[int, str]] = field(default_factory=list)  # note id, why
    changes: Any = None  # OpChanges of the whole step

    def summary(self) -> str:
        parts = []
        if self.rewritten:
            parts.append("%d note%s rewritten" % (len(self.rewritten), "" if len(self.rewritten) == 1 else "s"))
        if self.added:
            n = sum(len(v) for v in self.added.values())
            parts.append("%d note%s split into %d" % (len(self.added), "" if len(self.added) == 1 else "s", n))
        if self.suspended:
            parts.append("%d original card%s suspended" % (len(self.suspended), "" if len(self.suspended) == 1 else "s"))
        if self.reset:
            parts.append("%d card%s reset to new" % (len(self.reset), "" if len(self.reset) == 1 else "s"))
        if self.skipped:
            parts.append("%d skipped" % len(self.skipped))
        return ", ".join(parts) or "nothing changed"


def _set(note: Any, name: str, value: str) -> None:
    note[name] = clean_chars(value)


def _rewrite(col: Any, p: Proposal, out: Applied) -> Any:
    d = p.diagnosis
    nc = d.note
    try:
        note = col.get_note(nc.note_id)
    except Exception:
        out.skipped.append((nc.note_id, "it was deleted"))
        return None
    if int(note.mod) != nc.mod:
        out.skipped.append((nc.note_id, "it was edited since it was read; read it again to improve it"))
        return None
    for logical, value in p.changed.items():
        name = nc.shape.mapping.get(logical)
        if not name or name not in note.keys():
            continue
        if logical in ("back", "extra") and nc.source_line:
            value += nc.source_line
        _set(note, name, value)
    if not note.has_tag(IMPROVED_TAG):
        note.add_tag(IMPROVED_TAG)
    return note


def _split_notes(col: Any, p: Proposal) -> List[Any]:
    d = p.diagnosis
    nc = d.note
    nt = col.models.get(nc.mid)
    if nt is None:
        raise CollectionError("The note type of note %d no longer exists." % nc.note_id)
    from ..update.record import without_mark

    mapping = nc.shape.mapping
    base_tags = [t for t in nc.tags if t.lower() not in NOT_CARRIED]
    # The original's source, without its update mark: that names the original note's fields, and
    # a note split from it is not followed by Update from source.
    line = without_mark(nc.source_line)
    notes = []
    for card in p.split:
        note = col.new_note(nt)
        for logical in nc.shape.main_fields:
            name = mapping.get(logical)
            if not name:
                continue
            value = str(getattr(card, logical) or "")
            if logical in ("back", "extra") and line:
                value += line
            _set(note, name, value)
        source = mapping.get("source")
        if source and source in note.keys():
            _set(note, source, without_mark(nc.fields.get(source, "")))
        tags = base_tags + [SPLIT_TAG % nc.note_id] + ([FLAGGED_TAG] if is_flagged(card) else [])
        note.tags = list(dict.fromkeys(clean_chars(t) for t in tags if t))
        if nc.shape.kind == "cloze" and note.fields_check() != 0:  # 0 = NORMAL
            raise CollectionError("A note split from note %d is not a valid cloze." % nc.note_id)
        notes.append(note)
    return notes


def apply_proposals(col: Any, proposals: Sequence[Proposal], options: ApplyOptions = ApplyOptions()) -> Applied:
    """Apply the rewrites and splits among ``proposals`` (others are ignored) in one undo step."""
    from anki.collection import AddNoteRequest
    from anki.decks import DeckId

    out = Applied()
    todo = [p for p in proposals if p.changes_something]
    if not todo:
        return out
    pos = col.add_custom_undo_entry(UNDO_LABEL)
    try:
        rewrites: List[Any] = []
        cards_before: Dict[int, List[int]] = {}
        for p in todo:
            if p.action == REWRITE:
                note = _rewrite(col, p, out)
                if note is not None:
                    rewrites.append(note)
                    cards_before[int(note.id)] = sorted(int(c) for c in col.card_ids_of_note(note.id))
        if rewrites:
            col.update_notes(rewrites)
            for note in rewrites:
                after = sorted(int(c) for c in col.card_ids_of_note(note.id))
                if after != cards_before[int(note.id)]:
                    raise CollectionError("The rewrite of note %d would change its cards." % int(note.id))
                out.rewritten.append(int(note.id))
            if options.reset_scheduling:
                cids = [c for nid in out.rewritten for c in cards_before[nid]]
                col.sched.schedule_cards_as_new(cids, restore_position=True, reset_counts=True)
                out.reset.extend(cids)
        requests = []
        owners: List[int] = []
        suspend: List[int] = []
        for p in todo:
            if p.action != SPLIT:
                continue
            nid = p.note_id
            try:
                original = col.get_note(nid)
            except Exception:
                out.skipped.append((nid, "it was deleted"))
                continue
            cids = [int(c) for c in col.card_ids_of_note(original.id)]
            deck = p.diagnosis.deck_id
            if not deck and cids:
                card = col.get_card(cids[0])
                deck = int(card.odid or card.did)
            for note in _split_notes(col, p):
                requests.append(AddNoteRequest(note, DeckId(deck or 1)))
                owners.append(nid)
            if options.suspend_original:
                suspend.extend(cids)
        if requests:
            col.add_notes(requests)
            for nid, request in zip(owners, requests):
                out.added.setdefault(nid, []).append(int(request.note.id))
        if suspend:
            col.sched.suspend_cards(suspend)
            out.suspended.extend(suspend)
        out.changes = col.merge_undo_entries(pos)
    except Exception as e:
        undo_failed_step(col, pos, UNDO_LABEL)
        failed = write_failure(e, "Nothing was changed.")
        if failed is not None:
            raise failed from e
        if isinstance(e, CollectionError):
            raise CollectionError(e.message + " Nothing was changed.", e.hint) from e
        raise CollectionError("The notes could not be changed: %s. Nothing was changed." % shown(e),
                              "Try again; if it fails again, check the notes in the Browser.") from e
    return out

