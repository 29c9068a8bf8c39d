"""Recording, when cards are made from a document, what they came from: the document's record
(its units' fingerprints) and each new note's mark (its unit, and a hash of its fields). Called
after the notes are added, in the same undo step, by every way cards are made from a file."""
from typing import Any, List, Optional, Sequence, Tuple

from ..cards.card import Card
from ..notes.add import NoteTarget, resolve_notetype
from ..sources.document import Document
from .fingerprint import units_of
from .match import attribute
from .record import DocRecord, find, save, stamp


def track_added(col: Any, path: str, document: Document, added: Sequence[Tuple[Card, int]],
                chunks: Sequence[Any], target: NoteTarget, merge: bool = True) -> Optional[DocRecord]:
    """Mark the notes ``added`` (card, note id) from ``document`` (read from ``path``) and
    write its record. ``merge``: fold the changes into the collection's last undo step (the add
    that made the notes), so one undo takes back both. Returns the record (None: nothing to
    record, e.g. no note from this document)."""
    mine = [(card, nid) for card, nid in added if card.source.document == document.name]
    if not path or not mine:
        return None
    units = units_of(document.blocks)
    if not units:
        return None
    record = find(col, path, units) or DocRecord.new(path, document.name)
    _nt, mapping = resolve_notetype(col, target)
    source_field = mapping.get("source", "")
    pos = col.undo_status().last_step if merge else None
    notes: List[Any] = []
    for (card, nid), unit in zip(mine, attribute([c for c, _n in mine], chunks, units)):
        if unit is None:
            continue
        try:
            note = col.get_note(nid)
        except Exception:
            continue
        if stamp(note, record.id, unit.fp, source_field):
            notes.append(note)
    if notes:
        col.update_notes(notes)
    record.path, record.name = path, document.name
    record.fps = [u.fp for u in units]
    record.deck, record.kind, record.notetype = target.deck, target.kind, target.notetype
    record.field_mapping = dict(target.field_mapping)
    save(col, record)
    if pos:
        col.merge_undo_entries(pos)
    return record
