"""The source sentences a note was made from, as far as they can still be found.

- A note made from another note (Browser → Generate, tag ``ollama-flashcards::from-note::<id>``):
  that note's text, if it still exists.
- A note whose source reference carries the add-on's mark (``generator/update/record.py``: the
  document and the unit — paragraph, list, table — it was made from): that unit of the document
  the collection's record names, if the file is still there and the unit still in it (else the
  document's sentences nearest the note).
- A note whose source line links to a file (``file:…#page=N``): that file, if it is still there
  and readable within the reading limits (the page's text when the page is known).
- Otherwise only the source reference is known (the add-on keeps the document's name and place
  with a note, not its text), or, for a note the add-on did not make, nothing.

Of a long text only the sentences that share the most words with the note are kept
(``MAX_SOURCE_CHARS`` in all), in their order in the text."""
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ..cards.checks import words
from ..errors import FlashcardError
from .notes import NoteCard, Origin, plain_text

MAX_SOURCE_CHARS = 1500
MAX_FILE_MB = 50  # a bigger file is not read for one note's sentences
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")


@dataclass
class Source:
    text: str  # the sentences sent with the request ("" = none found)
    said: str  # what the user is told about the note's source, in plain words


def pick_sentences(text: str, about: str, limit: int = MAX_SOURCE_CHARS) -> str:
    """The sentences of ``text`` sharing the most longer words with ``about``, in text order,
    at most ``limit`` characters in all; the whole text when it is short."""
    text = text.strip()
    if len(text) <= limit:
        return text
    wanted = {w for w in words(about) if len(w) >= 4 or w.isdigit()}
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    scored = sorted(range(len(sentences)),
                    key=lambda i: (-len(wanted & set(words(sentences[i]))), i))
    chosen: List[int] = []
    used = 0
    for i in scored:
        if not wanted & set(words(sentences[i])) and chosen:
            break
        size = len(sentences[i]) + 1
        if used + size > limit:
            continue
        chosen.append(i)
        used += size
    return " ".join(sentences[i] for i in sorted(chosen))


class SourceFiles:
    """The files notes' sources are read from, each read once. ``read=False``: none is read
    while the notes are diagnosed (that holds the collection); the paths wanted are kept
    (``wanted``) for the caller to read apart from it (``read_wanted``, e.g. on a worker) and
    diagnose again with them."""

    def __init__(self, read: bool = True) -> None:
        self.read = read
        self.docs: Dict[str, Optional[Any]] = {}  # path -> Document, or None (unreadable)
        self._units: Dict[str, Dict[str, Any]] = {}  # path -> its units by fingerprint
        self.why: Dict[str, str] = {}
        self.wanted: List[str] = []

    @property
    def waiting(self) -> bool:
        """Files are wanted that were not read yet."""
        return any(p not in self.docs for p in self.wanted)

    def get(self, path: str) -> Optional[Any]:
        if path not in self.docs:
            if not self.read:
                if path not in self.wanted:
                    self.wanted.append(path)
                return None
            self.docs[path] = self._read(path)
        return self.docs[path]

    def units(self, path: str, doc: Any) -> Dict[str, Any]:
        """The units of ``doc`` (read from ``path``) by fingerprint, cut once for all its notes
        (the first of units with the same text)."""
        found = self._units.get(path)
        if found is None:
            from ..update.fingerprint import units_of

            found = self._units[path] = {}
            for unit in units_of(doc.blocks):
                found.setdefault(unit.fp, unit)
        return found

    def read_wanted(self) -> None:
        """Read the files wanted (no collection needed)."""
        self.read = True
        for path in self.wanted:
            self.get(path)

    def _read(self, path: str) -> Optional[Any]:
        from ..highlights.read import read_as_carded

        try:
            if not os.path.isfile(path):
                self.why[path] = "the file is no longer there"
                return None
            if os.path.getsize(path) > MAX_FILE_MB * 1024 * 1024:
                self.why[path] = f"the file is larger than {MAX_FILE_MB} MB"
                return None
            return read_as_carded(path)  # as the note's unit was recorded
        except (FlashcardError, OSError) as e:
            self.why[path] = "it could not be read (%s)" % (e.message if isinstance(e, FlashcardError)
                                                              else type(e).__name__)
            return None


class SourceReader:
    """Finds notes' sources; a file is read once for all the notes that came from it."""

    def __init__(self, col: Any, files: Optional[SourceFiles] = None) -> None:
        self.col = col
        self.files = files if files is not None else SourceFiles()

    def source_of(self, nc: NoteCard, origin: Origin) -> Source:
        about = " ".join(plain_text(nc.value(f)) for f in nc.shape.main_fields)
        where = f" “{origin.label}”" if origin.label else ""
        if origin.from_note:
            text = self._note_text(origin.from_note)
            if text:
                return Source(pick_sentences(text, about),
                              f"Made from note {origin.from_note}: its sentences are sent with the request.")
            return Source("", f"Made from note {origin.from_note}, which no longer exists: only the note "
                              "itself is sent.")
        marked = self._marked(nc, about, where)
        if marked is not None:
            return marked
        if origin.file_path:
            text = self._file_text(origin.file_path, origin.page)
            if text:
                return Source(pick_sentences(text, about),
                              f"Made from{where}: the sentences it was made from are sent with the request.")
            why = self.files.why.get(origin.file_path, "it cannot be read")
            return Source("", f"Made from{where}, but {why}: only the note itself is sent.")
        if origin.by_addon:
            if origin.label:
                return Source("", f"Made from{where}; the add-on keeps the name of a source, not its "
                                  "text, so only the note itself is sent.")
            return Source("", "Made by the add-on, without a source reference: only the note itself is sent.")
        return Source("", "No source: the add-on did not make this note, so only the note itself is sent.")

    def _marked(self, nc: NoteCard, about: str, where: str) -> Optional[Source]:
        """The unit the note's mark names, from the document the collection recorded; None
        when the note has no mark (or its record is gone)."""
        from ..update.record import load, read_mark

        mark = read_mark(list(nc.fields.values()))
        if mark is None:
            return None
        try:
            record = load(self.col, mark.doc)
        except Exception:  # a record from elsewhere that cannot be read: as if none
            record = None
        if record is None or not record.path:
            return None
        doc = self.files.get(record.path)
        where = where or f" “{record.name}”"
        if doc is None:
            why = self.files.why.get(record.path, "it cannot be read")
            return Source("", f"Made from{where}, but {why}: only the note itself is sent.")
        unit = self.files.units(record.path, doc).get(mark.unit)
        if unit is not None:
            return Source(pick_sentences(unit.text, about),
                          f"Made from{where}: the passage it was made from is sent with the request.")
        return Source(pick_sentences(doc.text(), about),
                      f"Made from{where}, which has changed since: its sentences nearest the note are sent.")

    def _note_text(self, note_id: int) -> str:
        try:
            note = self.col.get_note(note_id)
        except Exception:  # deleted since
            return ""
        return "\n".join(plain_text(v) for v in note.fields if v.strip())

    def _file_text(self, path: str, page: int) -> str:
        doc = self.files.get(path)
        if doc is None:
            return ""
        blocks = doc.blocks
        if page:
            on_page = [b for b in blocks if b.location in (f"page {page}", f"p. {page}")]
            blocks = on_page or blocks
        return "\n".join(b.text for b in blocks)
