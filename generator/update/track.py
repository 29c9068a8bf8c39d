"""Recording, when cards are made from a document, what they came from: the document's record
(its units' fingerprints) and each new note's mark (its unit, and a hash of its fields). Called
after the notes are added, in the same undo step, by every way cards are made from a file."""
import threading
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..cards.card import Card
from ..notes.add import NoteTarget, resolve_notetype
from ..sources.document import Document
from .fingerprint import Unit, units_of
from .match import attribute
from .record import DocRecord, find_by_path, save, stamp


def track_added(col: Any, path: str, document: Document, added: Sequence[Tuple[Card, int]],
                chunks: Sequence[Any], target: NoteTarget, merge: bool = True) -> Optional[DocRecord]:
    """Mark the notes ``added`` (card, note id) from ``document`` (read from ``path``) and
    write its record. ``merge``: fold the changes into the collection's last undo step (the add
    that made the notes), so one undo takes back both. Returns the record (None: nothing to
    record, e.g. no note from this document)."""
    if not path:
        return None
    units = units_of(document.blocks)
    pos = col.undo_status().last_step if merge else None
    record = _track_units(col, path, document, units, added, target, chunks)
    if record is not None and pos:
        col.merge_undo_entries(pos)
    return record


def _track_units(col: Any, path: str, document: Document, units: Sequence[Unit],
                 added: Sequence[Tuple[Card, int]], target: NoteTarget,
                 chunks: Sequence[Any] = ()) -> Optional[DocRecord]:
    mine = [(card, nid) for card, nid in added if card.source.document == document.name]
    if not mine or not units:
        return None
    # by path only: carding a copy of a file must not take over the original's record (an
    # update recognises a moved file by its units)
    record = find_by_path(col, path) or DocRecord.new(path, document.name)
    _nt, mapping = resolve_notetype(col, target)
    source_field = mapping.get("source", "")
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
    return record


def track_files(col: Any, files: Sequence[Tuple[str, Document]], added: Sequence[Tuple[Card, int]],
                chunks: Sequence[Any], target: NoteTarget) -> List[str]:
    """``track_added`` for each (path, document) of a job, in the undo step of the add that
    made the notes. Never raises: the notes are in whatever happens here; a document that
    could not be recorded is named in the list returned (its cards are then not followed)."""
    from .. import log
    from ..errors import describe

    problems: List[str] = []
    for path, document in files:
        try:
            track_added(col, path, document, added, chunks, target)
        except Exception as e:  # a failed write (full disk), a record from elsewhere ...
            log.event("not recorded: %s", type(e).__name__)
            problems.append("%s: %s" % (document.name, describe(e)))
    return problems


# --- bulk jobs ---------------------------------------------------------------------------------

class FileUnits:
    """A bulk job's files as units, each read once (its text), to record what the job's cards
    came from batch by batch. A file over ``MAX_CHARS`` of text, or one that cannot be read
    again, is not recorded (its cards are then not followed; a later update takes it as new)."""

    MAX_CHARS = 5_000_000

    def __init__(self) -> None:
        self._units: Dict[str, Optional[Tuple[Document, List[Unit]]]] = {}
        self._lock = threading.Lock()

    def of(self, path: str) -> Optional[Tuple[Document, List[Unit]]]:
        with self._lock:
            if path in self._units:
                return self._units[path]
        found: Optional[Tuple[Document, List[Unit]]] = None
        try:
            from .run import read_document

            doc = read_document(path)
            if sum(len(b.text) for b in doc.blocks) <= self.MAX_CHARS:
                found = (doc, units_of(doc.blocks))
        except Exception as e:  # gone, changed into something unreadable ...: not recorded
            from .. import log

            log.event("bulk file not recorded: %s", type(e).__name__)
        with self._lock:
            self._units[path] = found
        return found

    def warm(self, paths: Sequence[str]) -> None:
        """Read these files now (off the collection: the job's thread), not while adding."""
        for path in paths:
            self.of(path)


_JOBS: "OrderedDict[str, FileUnits]" = OrderedDict()
_JOBS_LOCK = threading.Lock()


def job_files(journal_path: str) -> FileUnits:
    """The files of the bulk job with this journal (the last few jobs are kept)."""
    with _JOBS_LOCK:
        found = _JOBS.get(journal_path)
        if found is None:
            found = _JOBS[journal_path] = FileUnits()
            while len(_JOBS) > 2:
                _JOBS.popitem(last=False)
        return found


def bulk_paths(header: Dict[str, Any], cards: Sequence[Card]) -> List[str]:
    """The files (of a bulk job's header) these cards came from."""
    from ..sources.read import display_name

    names = {display_name(p): p for p in header.get("files") or []}
    return list(dict.fromkeys(names[c.source.document] for c in cards if c.source.document in names))


def track_batch(col: Any, journal: Any, added: Sequence[Tuple[Card, int]], target: NoteTarget) -> None:
    """Inside a bulk batch's undo step: mark its notes, write their files' records and remember
    the highlights they were made of. Never raises (the notes are in whatever happens here)."""
    try:
        from ..highlights.kept import kept_focus
        from .highlights import remember_keys

        files = job_files(journal.path)
        made = kept_focus(card.chunk_id for card, _nid in added)
        for path in bulk_paths(journal.state.header, [c for c, _n in added]):
            found = files.of(path)
            if found is not None and _track_units(col, path, found[0], found[1], added, target) is not None:
                remember_keys(col, [(path, found[0].name)], made, merge=False)
    except Exception as e:
        from .. import log

        log.event("bulk batch not recorded: %s", type(e).__name__)


def bulk_recording(journal: Any, target: NoteTarget) -> Tuple[Any, Any]:
    """For a bulk job's ``NoteWriter(on_added=...)`` and ``RunSetup(before_add=...)``: record
    each batch's notes, and read their files before the batch reaches the collection."""
    def record(col: Any, added: List[Tuple[Card, int]]) -> None:
        track_batch(col, journal, added, target)

    def read_files(cards: List[Card]) -> None:
        job_files(journal.path).warm(bulk_paths(journal.state.header, cards))

    return record, read_files
