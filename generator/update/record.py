"""What the collection remembers of a document its cards were made from, so that an update
knows what changed. Two halves, both inside the collection (they sync, are backed up and are
undone with it):

- **The document's record**, in the collection's config under one key per document
  (``ollamaFlashcards.doc.<id>``, listed in ``ollamaFlashcards.docs``): its path and name, the
  fingerprints of its units in order (4 bytes a unit), the deck and card kind it was carded
  with, and, for the few notes that belong to a unit other than the one their mark names (a
  card that was found unchanged in a changed unit, which is left untouched), that unit. Anki
  sends the whole config on every sync, so nothing per note is kept here but those few.
- **The note's mark**: the note's source reference carries a hidden attribute,
  ``data-ollama-flashcards="<document id>.<unit>.<hash>"``: the document, the unit the note was
  made from, and a hash of the note's fields as the add-on last wrote them. A note whose fields
  no longer give that hash was edited by hand, and is never overwritten. A note whose mark is
  gone (removed in the HTML editor) is no longer followed: it is left as it is.

Both are written in the same undo step as the notes they describe: undoing an update restores
the notes and the record together."""
import base64
import binascii
import hashlib
import os
import re
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ..recorded.lookup import DOC_PREFIX as CONFIG_PREFIX
from ..recorded.lookup import INDEX_KEY, MARK_ATTR, MAX_PATH, ids_at, load_index
from .fingerprint import FP_HEX, Unit

SOURCE_CLASS = "ollama-flashcards-source"
RECORD_VERSION = 1
MAX_UNITS = 200_000  # a record from outside (a sync, another add-on) is bounded when read
MAX_MOVED = 100_000
SAME_DOCUMENT = 0.5  # share of units in common for a file at a new path to be the same document

_MARK = re.compile(r'\s' + MARK_ATTR + r'="([0-9a-f]{8})\.([0-9a-f]{8})\.([0-9a-f]{8})"')
_ID = re.compile(r"^[0-9a-f]{8}$")
_SOURCE_OPEN = re.compile(r'<(div|span)\b([^>]*\bclass="' + SOURCE_CLASS + r'"[^>]*)>')


# --- the document's record ---------------------------------------------------------------------

@dataclass
class DocRecord:
    id: str  # 8 hex digits, made when the document is first recorded
    path: str  # absolute, as last seen
    name: str
    fps: List[str] = field(default_factory=list)  # its units' fingerprints, in order
    deck: str = ""
    kind: str = ""
    notetype: str = ""
    field_mapping: Dict[str, str] = field(default_factory=dict)
    moved: Dict[int, str] = field(default_factory=dict)  # note id -> its unit, when not its mark's
    updated: float = 0.0

    @staticmethod
    def new(path: str, name: str) -> "DocRecord":
        return DocRecord(uuid.uuid4().hex[:8], os.path.abspath(path), name)

    def to_config(self) -> Dict[str, Any]:
        packed = base64.b64encode(bytes.fromhex("".join(self.fps))).decode("ascii")
        out: Dict[str, Any] = {"v": RECORD_VERSION, "path": self.path, "name": self.name,
                               "units": packed, "deck": self.deck, "kind": self.kind,
                               "notetype": self.notetype, "t": int(self.updated)}
        if self.field_mapping:
            out["fields"] = dict(self.field_mapping)
        if self.moved:
            out["moved"] = {str(n): fp for n, fp in sorted(self.moved.items())}
        return out

    @staticmethod
    def from_config(doc_id: str, data: Any) -> Optional["DocRecord"]:
        """The record as stored, or None when it is not one (bounded and checked: the config
        may come from another device or another add-on)."""
        if not isinstance(data, dict) or not _ID.match(doc_id):
            return None
        try:
            raw = base64.b64decode(str(data.get("units") or ""), validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) % (FP_HEX // 2) or len(raw) > MAX_UNITS * (FP_HEX // 2):
            return None
        hexed = raw.hex()
        fps = [hexed[i:i + FP_HEX] for i in range(0, len(hexed), FP_HEX)]
        moved: Dict[int, str] = {}
        given = data.get("moved")
        for key, fp in list(given.items())[:MAX_MOVED] if isinstance(given, dict) else []:
            if str(key).isdigit() and isinstance(fp, str) and _ID.match(fp):
                moved[int(key)] = fp
        fields = data.get("fields")
        mapping: Dict[Any, Any] = fields if isinstance(fields, dict) else {}
        return DocRecord(
            id=doc_id, path=str(data.get("path") or "")[:MAX_PATH], name=str(data.get("name") or "")[:300],
            fps=fps, deck=str(data.get("deck") or "")[:300], kind=str(data.get("kind") or "")[:20],
            notetype=str(data.get("notetype") or "")[:300],
            field_mapping={str(k)[:40]: str(v)[:300] for k, v in list(mapping.items())[:10]},
            moved=moved, updated=float(data.get("t") or 0) if isinstance(data.get("t"), (int, float)) else 0.0)


def config_key(doc_id: str) -> str:
    return CONFIG_PREFIX + doc_id


def load(col: Any, doc_id: str) -> Optional[DocRecord]:
    return DocRecord.from_config(doc_id, col.get_config(config_key(doc_id), None))


def save(col: Any, record: DocRecord) -> None:
    """Write the record (and its line in the index), undoably: call it inside the undo step of
    the notes it describes."""
    record.updated = time.time()
    col.set_config(config_key(record.id), record.to_config(), undoable=True)
    index = load_index(col)
    if index.get(record.id) != record.path:
        index[record.id] = record.path
        col.set_config(INDEX_KEY, index, undoable=True)


def same_path(a: str, b: str) -> bool:
    if not a or not b:
        return False
    a, b = os.path.normcase(os.path.abspath(a)), os.path.normcase(os.path.abspath(b))
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def find(col: Any, path: str, units: Sequence[Unit], by_units: bool = True) -> Optional[DocRecord]:
    """The record of the document at ``path``: by its path, else (``by_units``: a file renamed,
    moved, or a new edition under a new name) the record that shares the most units with it, if
    at least half of the smaller of the two."""
    index = load_index(col)
    found = find_by_path(col, path, index)
    if found is not None or not by_units:
        return found
    return find_by_units(col, units, index)


def find_by_path(col: Any, path: str, index: Optional[Dict[str, str]] = None) -> Optional[DocRecord]:
    """The record of the document last seen at ``path`` (None: none; a file carded before under
    another path is found by ``find``, which needs the document's units)."""
    index = index if index is not None else load_index(col)
    for doc_id in ids_at(index, [path]).get(path, ()):
        rec = load(col, doc_id)
        if rec is not None:
            return rec
    return None


def find_by_units(col: Any, units: Sequence[Unit], index: Optional[Dict[str, str]] = None) -> Optional[DocRecord]:
    mine = {u.fp for u in units if u.kind != "heading"}
    if not mine:
        return None
    best: Optional[DocRecord] = None
    best_share = 0.0
    for doc_id in (index if index is not None else load_index(col)):
        rec = load(col, doc_id)
        if rec is None or not rec.fps:
            continue
        theirs = set(rec.fps)
        share = len(mine & theirs) / max(1, min(len(mine), len(theirs)))
        if share >= SAME_DOCUMENT and share > best_share:
            best, best_share = rec, share
    return best


# --- the note's mark ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Mark:
    doc: str
    unit: str  # fingerprint of the unit the note was made from
    hash: str  # of the note's fields as the add-on last wrote them


def read_mark(fields: Sequence[str]) -> Optional[Mark]:
    for value in fields:
        if MARK_ATTR in value:
            m = _MARK.search(value)
            if m:
                return Mark(m.group(1), m.group(2), m.group(3))
    return None


def without_mark(value: str) -> str:
    return _MARK.sub("", value) if MARK_ATTR in value else value


def fields_hash(fields: Sequence[str]) -> str:
    """8 hex digits of the note's fields without the mark (NFC, as Anki may store them)."""
    joined = "\x1f".join(without_mark(v) for v in fields)
    joined = unicodedata.normalize("NFC", joined)
    return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()


def edited_by_hand(fields: Sequence[str], mark: Mark) -> bool:
    return fields_hash(fields) != mark.hash


def stamp(note: Any, doc_id: str, unit_fp: str, source_field: str = "") -> bool:
    """Put the mark into the note (replacing an old one): on its source reference (the line
    under the back, or the source field, whose text is wrapped in a span for it). The hash is of
    the fields as they are now, so call it after the note's fields are final. False when the
    note has no source reference to carry it (it is then not followed)."""
    names = list(note.keys())
    values = [without_mark(note[n]) for n in names]
    where = -1
    for i, value in enumerate(values):
        if SOURCE_CLASS in value and _SOURCE_OPEN.search(value):
            where = i
            break
    if where < 0 and source_field in names and values[names.index(source_field)].strip():
        where = names.index(source_field)
        values[where] = '<span class="%s">%s</span>' % (SOURCE_CLASS, values[where])
    if where < 0:
        return False
    digest = fields_hash(values)
    attr = ' %s="%s.%s.%s"' % (MARK_ATTR, doc_id, unit_fp, digest)
    values[where] = _with_attr(values[where], attr)
    for name, value in zip(names, values):
        if note[name] != value:
            note[name] = value
    return True


def _with_attr(value: str, attr: str) -> str:
    """The source reference with ``attr`` on its inner ``<small>`` (the line under the back:
    its ``<div class="ollama-flashcards-source">`` stays as the add-on writes it, which other
    parts look for), else on the opening tag itself (the span of a source field)."""
    m = _SOURCE_OPEN.search(value)
    if m is None:
        return value
    inner = re.compile(r"\s*<small\b").match(value, m.end())
    if m.group(1) == "div" and inner is not None:
        return value[:inner.end()] + attr + value[inner.end():]
    return value[:m.start()] + "<%s%s%s>" % (m.group(1), m.group(2), attr) + value[m.end():]


@dataclass
class TrackedNote:
    """A note made from a recorded document, as the collection has it now."""

    id: int
    mid: int
    fields: List[str]
    tags: List[str]
    mark: Mark
    unit: str  # the unit it belongs to (its mark's, or the record's "moved")

    @property
    def edited(self) -> bool:
        return edited_by_hand(self.fields, self.mark)


def tracked_notes(col: Any, record: DocRecord) -> List[TrackedNote]:
    """Every note whose mark names the document, in one query."""
    like = '%%%s="%s.%%' % (MARK_ATTR, record.id)
    out: List[TrackedNote] = []
    for nid, mid, flds, tags in col.db.all(
            "select id, mid, flds, tags from notes where flds like ? order by id", like):
        fields = flds.split("\x1f")
        mark = read_mark(fields)
        if mark is None or mark.doc != record.id:
            continue
        nid = int(nid)
        out.append(TrackedNote(nid, int(mid), fields, str(tags).split(), mark,
                               record.moved.get(nid, mark.unit)))
    return out


def marked_documents(col: Any, nids: Sequence[int], limit: int = 2000) -> List[str]:
    """The documents (ids) the notes ``nids`` were made from, by their marks, in one query
    (at most ``limit`` notes looked at: a menu asks this)."""
    ids = [int(n) for n in list(nids)[:limit]]
    if not ids:
        return []
    found: List[str] = []
    for flds in col.db.list("select flds from notes where id in (%s) and flds like ?"
                            % ",".join(map(str, ids)), "%" + MARK_ATTR + "=%"):
        mark = read_mark(str(flds).split("\x1f"))
        if mark is not None and mark.doc not in found:
            found.append(mark.doc)
    return found
