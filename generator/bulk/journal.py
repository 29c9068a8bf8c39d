"""A crash-safe journal for bulk jobs: what a job is, which chunks are done (with their cards),
which failed, and which cards are already in the collection.

Append-only JSON lines, each record flushed and fsync'd before the call returns, so after a
crash (Anki killed, power cut) every record the job relied on is on disk. (One exception,
``added``: losing it is harmless by design, see ``Journal.added``.) A torn last line (the
crash hit mid-write) is ignored and cut off before the next append.

Records (field ``t``):

- ``job``: the header: files, options, chunk budget, target deck/kind, mode.
- ``file``: a file was read (its number of chunks) or could not be read (the reason).
- ``chunk``: a chunk is done, with its cards as JSON, and (``left``) how many more cards it
  made that the job left out, by reason. Asked once: a resumed job skips it.
- ``fail``: a chunk failed, with its full text, so "re-run failed" needs no file.
- ``adding`` then ``added``: a batch of notes, before and after ``col.add_notes``. A batch with
  ``adding`` but no ``added`` is "in doubt" (the crash came between the collection's commit and
  the journal's write); :meth:`generator.bulk.writer.NoteWriter.recover` asks the collection.
  ``adding`` carries what was decided before the add (``plan``: per chunk, the cards left out
  and why), ``added`` what became of each chunk's cards (``outcome``: added, and why not).
- ``notadded``: a batch's add failed and was rolled back (or, found after a crash, never
  reached the collection): its cards are pending again.
- ``discard``: cards the user chose not to add (review mode).
- ``end``: nothing left to do; the journal is no longer offered for resuming.

From these records the state keeps, per file, the account of its cards
(``notes.accounting.CardAccount``: made, added, each reason a card was not added; what is
left is waiting to be added or reviewed), the same after a resume as in one run.

Beside the journals, :class:`ChunkIndex` remembers, per profile, which chunks' cards are in the
collection (chunk id -> note ids), so running the same file again skips those sections.

Never imports aqt or Qt."""
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set

from ..cards.card import Card, SimilarNote, SourceRef
from ..job.chunk import Chunk
from ..notes.accounting import CardAccount, Reason, count, summed

from .files import (
    DONE_SUFFIX,
    INDEX_NAME,
    KEEP_FINISHED,
    SUFFIX,
    prune,
    safe_folder_name,
    unfinished,
)

VERSION = 1
__all__ = ["Journal", "JournalState", "ChunkIndex", "unfinished", "prune", "safe_folder_name",
           "SUFFIX", "DONE_SUFFIX", "INDEX_NAME", "KEEP_FINISHED"]


# --- cards and chunks as JSON ------------------------------------------------------------------

def card_to_json(card: Card) -> Dict[str, Any]:
    return {
        "kind": card.kind, "front": card.front, "back": card.back, "text": card.text,
        "extra": card.extra, "quote": card.quote, "grounded": card.grounded,
        "source": {"document": card.source.document, "location": card.source.location,
                   "heading_path": list(card.source.heading_path), "page": card.source.page,
                   "line": card.source.line, "path": card.source.path},
        "chunk_id": card.chunk_id, "tags": list(card.tags), "topic": card.topic,
        "flags": [list(f) for f in card.flags], "original": dict(card.original),
        "figure": card.figure, "sentences": list(card.sentences),
    }


def card_from_json(d: Dict[str, Any]) -> Card:
    src = d.get("source") or {}
    return Card(
        kind=str(d.get("kind") or "basic"), front=str(d.get("front") or ""),
        back=str(d.get("back") or ""), text=str(d.get("text") or ""),
        extra=str(d.get("extra") or ""), quote=str(d.get("quote") or ""),
        grounded=bool(d.get("grounded", True)),
        source=SourceRef(str(src.get("document") or ""), str(src.get("location") or ""),
                         tuple(src.get("heading_path") or ()), _count(src.get("page")),
                         _count(src.get("line")), str(src.get("path") or "")),
        chunk_id=str(d.get("chunk_id") or ""), tags=list(d.get("tags") or []),
        topic=str(d.get("topic") or ""),
        flags=[(str(f[0]), str(f[1])) for f in d.get("flags") or [] if isinstance(f, list) and len(f) == 2],
        original={str(k): str(v) for k, v in (d.get("original") or {}).items()},
        similar_to=similar_from_json(d.get("similar_to")),
        figure=_figure_name(d.get("figure")),
        sentences=[n for n in (d.get("sentences") or [])[:8] if _count(n)],
    )


def _count(value: Any) -> int:
    """A page or line number as the journal keeps it (0 for anything else)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 1 << 31 else 0


def _marks(value: Any) -> tuple:
    """A chunk's marks as the journal keeps them: lists of four numbers, in order of offset."""
    if not isinstance(value, list):
        return ()
    out = []
    for m in value[:100_000]:
        if isinstance(m, list) and len(m) == 4 and all(isinstance(x, int) and x >= 0 for x in m):
            out.append((m[0], m[1], m[2], m[3]))
    return tuple(sorted(out))


def _figure_name(value: Any) -> str:
    """A card's figure as the journal names it: only a name the add-on gives (vision)."""
    from ..images.safety import is_media_name

    name = str(value or "")
    return name if is_media_name(name) else ""


def similar_from_json(d: Any) -> Optional[SimilarNote]:
    if not isinstance(d, dict) or not isinstance(d.get("note_id"), int):
        return None
    return SimilarNote(int(d["note_id"]), str(d.get("front") or "")[:300], float(d.get("score") or 0.0))


def chunk_to_json(chunk: Chunk) -> Dict[str, Any]:
    out = {"id": chunk.id, "document": chunk.document, "text": chunk.text,
           "heading_path": list(chunk.heading_path), "location": chunk.location,
           "index": chunk.index, "marks": [list(m) for m in chunk.marks], "path": chunk.path}
    if chunk.focus:
        out["focus"] = [list(f) for f in chunk.focus]
    return out


def chunk_from_json(d: Dict[str, Any]) -> Chunk:
    text = str(d.get("text") or "")
    return Chunk(id=str(d["id"]), document=str(d.get("document") or ""), text=text,
                 heading_path=tuple(d.get("heading_path") or ()), location=str(d.get("location") or ""),
                 index=int(d.get("index") or 0), marks=_marks(d.get("marks")), path=str(d.get("path") or ""),
                 focus=_focus(d.get("focus"), len(text)))


def _focus(value: Any, length: int) -> tuple:
    """A chunk's focus as the journal keeps it: [start, end, note, book, key] within its text."""
    if not isinstance(value, list):
        return ()
    out = []
    for f in value[:1000]:
        if (isinstance(f, list) and len(f) == 5 and all(isinstance(x, int) and not isinstance(x, bool)
                                                       for x in f[:2]) and 0 <= f[0] < f[1] <= length):
            out.append((f[0], f[1], str(f[2] or "")[:2000], str(f[3] or "")[:300], str(f[4] or "")[:16]))
    return tuple(out)


# --- the journal's state, as read back ---------------------------------------------------------

@dataclass
class ChunkRecord:
    """A done chunk, as much of it as the summary and the adding need."""

    id: str
    file: int  # index into the header's files
    index: int
    heading: tuple
    cards: List[Dict[str, Any]]  # emptied once the cards are added or discarded
    ncards: int = 0  # how many cards the chunk gave


@dataclass
class FailRecord:
    id: str
    file: int
    chunk: Dict[str, Any]  # the whole chunk (chunk_to_json)
    error: str
    error_type: str = ""


@dataclass
class JournalState:
    header: Dict[str, Any] = field(default_factory=dict)
    files: Dict[int, Dict[str, Any]] = field(default_factory=dict)  # last "file" record per file
    done: Dict[str, ChunkRecord] = field(default_factory=dict)
    failed: Dict[str, FailRecord] = field(default_factory=dict)  # not done since
    added: Set[str] = field(default_factory=set)  # chunk ids whose cards are in the collection
    discarded: Set[str] = field(default_factory=set)
    adding: Dict[int, Dict[str, Any]] = field(default_factory=dict)  # batch -> "adding" record, in doubt
    note_ids: List[int] = field(default_factory=list)  # every note the job added
    accounts: Dict[int, CardAccount] = field(default_factory=dict)  # per file: made, added, why not
    batches: int = 0  # next batch number
    ended: Optional[Dict[str, Any]] = None
    torn: bool = False  # the last line was cut off (a crash mid-write)
    bad_lines: int = 0

    def pending_chunks(self) -> List[ChunkRecord]:
        """Done chunks whose cards are neither added nor discarded, in document order (chunks
        are journaled as their answers arrive, which may be out of order)."""
        return sorted((r for cid, r in self.done.items()
                       if cid not in self.added and cid not in self.discarded),
                      key=lambda r: (r.file, r.index))

    def pending_cards(self) -> List[Card]:
        return [card_from_json(c) for r in self.pending_chunks() for c in r.cards]

    def total_account(self) -> CardAccount:
        """The job's account: every file's, summed."""
        return summed(list(self.accounts.values()))

    def account_of(self, file: int) -> CardAccount:
        """A copy of one file's account (all the job's runs)."""
        return CardAccount().take(self.accounts.get(file, CardAccount()))

    def _account(self, cid: str) -> Optional[CardAccount]:
        r = self.done.get(cid)
        return None if r is None else self.accounts.setdefault(r.file, CardAccount())

    def _settled(self, cid: str) -> bool:
        return cid in self.added or cid in self.discarded

    def _count_added(self, rec: Dict[str, Any]) -> None:
        """What an ``added`` record says became of each chunk's cards, into its file's account
        (a record of an earlier version, without ``outcome``: the chunk's cards count as added)."""
        found = rec.get("outcome")
        outcome: Dict[str, Any] = found if isinstance(found, dict) else {}
        for cid in rec.get("chunks") or ():
            account = self._account(cid)
            if account is None or self._settled(cid):
                continue
            got = outcome.get(cid)
            if isinstance(got, dict):
                account.added += count(got.get("added"))
                account.take_left({k: v for k, v in got.items() if k != "added"})
            else:
                account.added += self.done[cid].ncards

    def in_doubt_chunks(self) -> Set[str]:
        out: Set[str] = set()
        for rec in self.adding.values():
            out.update(rec.get("chunks") or ())
        return out

    def summary(self) -> Dict[str, Any]:
        """Counts for the resume question."""
        pending = self.pending_chunks()
        return {
            "files": len(self.header.get("files") or []),
            "chunks_done": len(self.done),
            "chunks_failed": len(self.failed),
            "chunks_total": sum(int(f.get("chunks") or 0) for f in self.files.values()
                                if f.get("status") == "read") or None,
            "cards_pending": sum(len(r.cards) for r in pending),
            "notes_added": len(self.note_ids),
            "created": self.header.get("created", 0),
            "mode": self.header.get("mode", "add"),
        }

    # -- applying records ---------------------------------------------------------------------
    def apply(self, rec: Dict[str, Any]) -> None:
        t = rec.get("t")
        if t == "job":
            self.header = rec
        elif t == "file":
            self.files[int(rec.get("file", 0))] = rec
        elif t == "chunk":
            cid = rec["id"]
            cards = list(rec.get("cards") or [])
            if cid not in self.done:  # (counted once, even if written twice)
                account = self.accounts.setdefault(int(rec.get("file", 0)), CardAccount())
                left = CardAccount()
                left.take_left(rec.get("left"))
                account.made += len(cards) + left.left_out
                account.take(left)
            self.done[cid] = ChunkRecord(cid, int(rec.get("file", 0)), int(rec.get("index", 0)),
                                         tuple(rec.get("heading") or ()), cards, len(cards))
            self.failed.pop(cid, None)
            if not self.done[cid].cards:  # nothing to add: settled at once
                self.added.add(cid)
        elif t == "fail":
            cid = rec["id"]
            if cid not in self.done:
                self.failed[cid] = FailRecord(cid, int(rec.get("file", 0)), rec.get("chunk") or {},
                                              str(rec.get("error") or ""), str(rec.get("type") or ""))
        elif t == "adding":
            batch = int(rec.get("batch", 0))
            self.adding[batch] = rec
            self.batches = max(self.batches, batch + 1)
        elif t == "added":
            batch = int(rec.get("batch", -1))
            self.adding.pop(batch, None)
            self.batches = max(self.batches, batch + 1)
            self._count_added(rec)
            self._settle(rec.get("chunks") or (), self.added)
            self.note_ids.extend(int(n) for n in rec.get("notes") or ())
        elif t == "notadded":  # the add failed (or, after a crash, never reached the collection)
            self.adding.pop(int(rec.get("batch", -1)), None)
        elif t == "discard":
            for cid in rec.get("chunks") or ():
                dropped = self._account(cid)
                if dropped is not None and not self._settled(cid):
                    dropped.leave(Reason.UNCHECKED, self.done[cid].ncards)
            self._settle(rec.get("chunks") or (), self.discarded)
        elif t == "end":
            self.ended = rec

    def _settle(self, chunk_ids: Iterable[str], into: Set[str]) -> None:
        for cid in chunk_ids:
            into.add(cid)
            r = self.done.get(cid)
            if r is not None:
                r.cards = []  # memory stays bounded: settled cards are not kept


class Journal:
    """One job's journal file. Thread-safe: records may come from several threads."""

    def __init__(self, path: str, sync: bool = True) -> None:
        self.path = path
        self.sync = sync
        self.state = JournalState()
        self._lock = threading.Lock()
        self._file: Any = None

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def create(cls, folder: str, header: Dict[str, Any], sync: bool = True) -> "Journal":
        os.makedirs(folder, exist_ok=True)
        job_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
        journal = cls(os.path.join(folder, "job-" + job_id + SUFFIX), sync)
        rec = dict(header)
        rec.update({"t": "job", "v": VERSION, "id": job_id, "created": time.time()})
        journal.append(rec)
        return journal

    @classmethod
    def open(cls, path: str, sync: bool = True) -> "Journal":
        """Read a journal back (tolerating a torn last line) and get ready to append to it."""
        journal = cls(path, sync)
        state = journal.state
        good_end = 0
        with open(path, "rb") as f:
            data = f.read()
        pos = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            if nl < 0:  # no newline: the crash hit mid-write
                state.torn = True
                break
            line = data[pos:nl]
            pos = nl + 1
            if not line.strip():
                good_end = pos
                continue
            try:
                rec = json.loads(line.decode("utf-8"))
                if not isinstance(rec, dict):
                    raise ValueError("not a record")
            except ValueError:
                state.bad_lines += 1
                good_end = pos
                continue
            state.apply(rec)
            good_end = pos
        if good_end < len(data):  # cut the torn tail off, so the next record starts a new line
            with open(path, "r+b") as f:
                f.truncate(good_end)
                f.flush()
                os.fsync(f.fileno())
        return journal

    # -- writing ------------------------------------------------------------------------------
    def append(self, rec: Dict[str, Any], durable: bool = True) -> None:
        """Write one record. ``durable``: fsync before returning (every record is flushed to the
        OS either way, and the next durable record's fsync covers it too)."""
        line = json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            if self._file is None:
                self._file = open(self.path, "a", encoding="utf-8")
            self._file.write(line)
            self._file.flush()
            if self.sync and durable:
                os.fsync(self._file.fileno())
            self.state.apply(rec)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    @property
    def job_id(self) -> str:
        return str(self.state.header.get("id") or "")

    @property
    def ended(self) -> bool:
        return self.state.ended is not None

    def file_read(self, file: int, chunks: int) -> None:
        self.append({"t": "file", "file": file, "status": "read", "chunks": chunks})

    def file_failed(self, file: int, error: str, chunks: int = 0) -> None:
        self.append({"t": "file", "file": file, "status": "failed", "error": error, "chunks": chunks})

    def chunk_done(self, file: int, chunk: Chunk, cards: Sequence[Card],
                   left: Optional[Dict[Reason, int]] = None) -> None:
        """A chunk's cards; ``left``: the cards it made that the job left out, by reason."""
        rec: Dict[str, Any] = {"t": "chunk", "id": chunk.id, "file": file, "index": chunk.index,
                               "heading": list(chunk.heading_path),
                               "cards": [card_to_json(c) for c in cards]}
        if left:
            rec["left"] = {r.value: n for r, n in left.items() if n}
        self.append(rec)

    def chunk_failed(self, file: int, chunk: Chunk, error: str, error_type: str = "") -> None:
        self.append({"t": "fail", "id": chunk.id, "file": file, "chunk": chunk_to_json(chunk),
                     "error": error, "type": error_type})

    def next_batch(self) -> int:
        with self._lock:
            n = self.state.batches
            self.state.batches += 1
            return n

    def adding(self, batch: int, chunk_ids: Sequence[str], since_ms: int, mid: int,
               plan: Optional[Dict[str, Dict[str, int]]] = None) -> None:
        rec: Dict[str, Any] = {"t": "adding", "batch": batch, "chunks": list(chunk_ids),
                               "since": since_ms, "mid": mid}
        if plan:
            rec["plan"] = plan
        self.append(rec)

    def added(self, batch: int, chunk_ids: Sequence[str], note_ids: Sequence[int], skipped: int = 0,
              recovered: bool = False, outcome: Optional[Dict[str, Dict[str, int]]] = None) -> None:
        """A batch is in the collection; ``outcome``: per chunk, how many of its cards were
        added and why the others were not (``{"added": 3, "batch": 1}``)."""
        rec: Dict[str, Any] = {"t": "added", "batch": batch, "chunks": list(chunk_ids),
                               "notes": [int(n) for n in note_ids], "skipped": skipped}
        if outcome is not None:
            rec["outcome"] = outcome
        if recovered:
            rec["recovered"] = True
        # Not fsync'd on its own: if a crash loses it, the batch is "in doubt" and
        # bulk_notes.NoteWriter.recover finds its notes in the collection (the "adding" record before
        # the commit is what must be durable, and it is).
        self.append(rec, durable=False)

    def not_added(self, batch: int, error: str = "", recovered: bool = False) -> None:
        rec: Dict[str, Any] = {"t": "notadded", "batch": batch}
        if error:
            rec["error"] = error
        if recovered:
            rec["recovered"] = True
        self.append(rec)

    def discard(self, chunk_ids: Sequence[str]) -> None:
        self.append({"t": "discard", "chunks": list(chunk_ids)})

    def end(self, status: str = "done") -> None:
        self.append({"t": "end", "status": status, "time": time.time()})

    def finish(self, status: str = "done") -> str:
        """Write ``end``, close, and rename to ``*.done.jsonl`` (kept for reference, pruned)."""
        if not self.ended:
            self.end(status)
        self.close()
        if self.path.endswith(DONE_SUFFIX):
            return self.path
        done = self.path[: -len(SUFFIX)] + DONE_SUFFIX
        try:
            os.replace(self.path, done)
            self.path = done
        except OSError:
            pass
        prune(os.path.dirname(self.path))
        return self.path


# --- which chunks are already in the collection ------------------------------------------------

class ChunkIndex:
    """chunk id -> ids of the notes made from it, for one collection (profile), on disk as JSON
    lines. A chunk counts as "in the collection" while at least one of its notes exists, or when
    it settled with no note (no cards, or every card a duplicate).

    A cache, not a record of truth: losing its last lines in a crash only means those sections
    are generated again (and their cards then dropped by the duplicate check), so it is not
    fsync'd unless asked."""

    def __init__(self, path: str, sync: bool = False) -> None:
        self.path = path
        self.sync = sync
        self._notes: Optional[Dict[str, List[int]]] = None  # read on first use (may be large)
        self._lock = threading.Lock()

    @property
    def notes(self) -> Dict[str, List[int]]:
        with self._lock:
            if self._notes is None:
                self._notes = self._load()
            return self._notes

    def _load(self) -> Dict[str, List[int]]:
        notes: Dict[str, List[int]] = {}
        if os.path.exists(self.path):
            with open(self.path, "rb") as f:
                for line in f:
                    try:
                        rec = json.loads(line.decode("utf-8"))
                        notes.setdefault(str(rec["c"]), []).extend(int(n) for n in rec.get("n") or ())
                    except (ValueError, KeyError, TypeError):
                        continue  # a torn line
        return notes

    def record(self, entries: Dict[str, List[int]]) -> None:
        """Append entries (no need to read the index for that)."""
        if not entries:
            return
        lines = "".join(json.dumps({"c": cid, "n": nids}, separators=(",", ":")) + "\n"
                        for cid, nids in entries.items())
        with self._lock:
            folder = os.path.dirname(self.path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(lines)
                f.flush()
                if self.sync:
                    os.fsync(f.fileno())
            if self._notes is not None:
                for cid, nids in entries.items():
                    self._notes.setdefault(cid, []).extend(nids)

    def present(self, existing_note_ids: Set[int]) -> Set[str]:
        """Chunks whose notes are (at least partly) still in the collection."""
        return {cid for cid, nids in self.notes.items()
                if not nids or any(n in existing_note_ids for n in nids)}

    def all_note_ids(self) -> Set[int]:
        return {n for nids in self.notes.values() for n in nids}
