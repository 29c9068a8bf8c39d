"""A bulk job, headless: many files -> chunks (read and chunked as a stream) -> the model ->
a journal -> notes. Used by the bulk dialog (ui/bulk.py), the benchmark and the tests.

- Files are read and chunked ahead of generation by a :class:`Planner` thread into a spool on
  disk, so every file's number of chunks is known early (progress, time left) while memory stays
  bounded: neither a file's text nor the job's prompts are held at once.
- Every finished chunk goes to the journal (with its cards) before anything else happens to it;
  a resumed job does not ask for it again.
- "add as they come" (``MODE_ADD``): cards are added in batches (every couple of seconds) by a
  :class:`NoteWriter`, which writes ``adding``/``added`` journal records around each add and
  can tell, after a crash between the two, whether the add reached the collection (``recover``).
  "review all before adding" (``MODE_REVIEW``): the cards stay in the journal until the user
  has reviewed them (``NoteWriter.add_reviewed``).
- One file's failure (unreadable, empty, ...) does not stop the others; a failed chunk does
  not stop its file. The summary has per-file status and per-section coverage, and
  ``only_failed=True`` re-runs only the chunks that failed.

Never imports aqt or Qt. Collection access is confined to ``NoteWriter`` and ``prepare``, which
the caller runs where collection work belongs (a ``CollectionOp`` in Anki)."""
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from .cards import CLOZE, Card
from .chunks import Chunk
from .errors import Cancelled, CollectionError, FlashcardError, describe
from .job import JobOptions, Progress, chunk_budget, prepare_job, run_job
from .journal import ChunkIndex, Journal, chunk_from_json, chunk_to_json
from .notes import NoteTarget

MODE_ADD = "add"  # add the cards as they come
MODE_REVIEW = "review"  # review all before adding

BATCH_SECONDS = 2.0  # add at most this often (each add is one undo step and one UI refresh)
BATCH_CARDS = 500  # ... unless this many cards are waiting

# File states
WAITING, READING, GENERATING, DONE, FAILED, STOPPED = (
    "waiting", "reading", "generating", "done", "failed", "stopped")


def document_name(path: str) -> str:
    """The name a file's cards carry as their source (as the single-file reader names it)."""
    return os.path.basename(os.path.normpath(path)) or path


# --- what to do -------------------------------------------------------------------------------

@dataclass
class BulkSpec:
    files: List[str]
    options: JobOptions
    target: NoteTarget
    mode: str = MODE_ADD
    skip_duplicates: bool = True  # skip cards whose first field is already in the collection
    skip_known: bool = True  # skip sections a previous job already turned into notes

    def header(self, options: JobOptions, budget: int) -> Dict[str, Any]:
        return {"files": [os.path.abspath(p) for p in self.files], "options": asdict(options),
                "budget": budget, "target": asdict(self.target), "mode": self.mode,
                "skip_duplicates": self.skip_duplicates, "skip_known": self.skip_known}

    @classmethod
    def from_header(cls, header: Dict[str, Any]) -> "BulkSpec":
        opts = dict(header.get("options") or {})
        known = set(JobOptions.__dataclass_fields__)
        options = JobOptions(**{k: v for k, v in opts.items() if k in known})
        tgt = dict(header.get("target") or {})
        tknown = set(NoteTarget.__dataclass_fields__)
        target = NoteTarget(**{k: v for k, v in tgt.items() if k in tknown})
        return cls(files=list(header.get("files") or []), options=options, target=target,
                   mode=str(header.get("mode") or MODE_ADD),
                   skip_duplicates=bool(header.get("skip_duplicates", True)),
                   skip_known=bool(header.get("skip_known", True)))


def start_journal(folder: str, spec: BulkSpec, options: JobOptions, sync: bool = True) -> Journal:
    """A new job's journal. ``options`` as ``prepare_job`` returned them (num_ctx capped to the
    model), so the chunk budget, and with it every chunk id, is fixed for the job's lifetime."""
    options = replace(options, max_cards=0)  # a bulk job asks each chunk by its length
    return Journal.create(folder, spec.header(options, chunk_budget(options)), sync=sync)


# --- status ----------------------------------------------------------------------------------

@dataclass
class FileStatus:
    path: str
    name: str
    state: str = WAITING
    chunks_total: Optional[int] = None  # known once the file is read to its end
    chunks_read: int = 0  # read so far
    chunks_done: int = 0  # answered (this run or an earlier one) or skipped
    chunks_failed: int = 0
    chunks_skipped: int = 0  # already in the collection
    cards: int = 0
    added: int = 0
    error: str = ""
    in_flight: int = 0

    def total(self) -> int:
        return self.chunks_total if self.chunks_total is not None else self.chunks_read

    def text(self) -> str:
        """The status as the dialog shows it."""
        cards = "%d card%s" % (self.cards, "" if self.cards == 1 else "s")
        extra = []
        if self.chunks_failed:
            extra.append("%d section%s failed" % (self.chunks_failed, "" if self.chunks_failed == 1 else "s"))
        if self.chunks_skipped:
            extra.append("%d already in the collection" % self.chunks_skipped)
        tail = (" (" + ", ".join(extra) + ")") if extra else ""
        if self.state == WAITING:
            return "Waiting"
        if self.state == READING and not self.chunks_read:
            return "Reading…"
        if self.state == FAILED:
            return "Failed: " + self.error
        if self.state == DONE:
            if self.error:  # read in part: the rest of the file could not be read
                return "Done · %s%s; the rest could not be read: %s" % (cards, tail, self.error)
            return "Done · " + cards + tail
        done = self.chunks_done + self.chunks_failed
        if self.state == STOPPED and not done and not self.chunks_done:
            return "Stopped before it started" + (": " + self.error if self.error else "")
        if self.state == STOPPED:
            return "Stopped at chunk %d/%d · %s%s" % (done, self.total(), cards, tail)
        total = str(self.chunks_total) if self.chunks_total is not None else "%d+" % self.chunks_read
        return "Chunk %d/%s · %s%s" % (min(done + 1, max(1, self.total())), total, cards, tail)


@dataclass
class Section:
    """Coverage of one section (heading path) of one file."""

    file: int
    name: str
    heading: Tuple[str, ...]
    chunks: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    cards: int = 0
    errors: List[str] = field(default_factory=list)

    def label(self) -> str:
        return " › ".join(self.heading) or "(start of the document)"


@dataclass
class BulkProgress:
    chunks_done: int
    chunks_total: int
    reading: bool  # some file is still being read: chunks_total may still grow
    chunks_failed: int
    cards: int
    added: int
    elapsed: float
    remaining: Optional[float]  # seconds; None while unknown
    tokens_per_s: float = 0.0

    def fraction(self) -> float:
        return self.chunks_done / self.chunks_total if self.chunks_total else 0.0


@dataclass
class BulkResult:
    files: List[FileStatus]
    sections: List[Section]
    pending: List[Card]  # generated, not added (review mode; or an add that failed)
    note_ids: List[int]  # every note this job added (all of its runs)
    cancelled: bool = False
    fatal: Optional[FlashcardError] = None  # stopped the job (server gone, model missing, add failed)
    journal_path: str = ""
    finished: bool = False  # the journal ended: nothing left to resume
    chunks_generated: int = 0  # asked of the model in this run
    seconds: float = 0.0

    def failed_sections(self) -> List[Section]:
        return [s for s in self.sections if s.failed]

    def failed_files(self) -> List[FileStatus]:
        return [f for f in self.files if f.state == FAILED]

    def summary(self) -> str:
        cards = sum(f.cards for f in self.files)
        added = len(self.note_ids)
        parts = ["%d card%s from %d file%s" % (cards, "" if cards == 1 else "s", len(self.files),
                                              "" if len(self.files) == 1 else "s")]
        if added:
            parts.append("%d added" % added)
        if self.pending:
            parts.append("%d waiting for review" % len(self.pending))
        failed_chunks = sum(s.failed for s in self.sections)
        if failed_chunks:
            parts.append("%d section%s failed" % (failed_chunks, "" if failed_chunks == 1 else "s"))
        if self.failed_files():
            n = len(self.failed_files())
            parts.append("%d file%s could not be read" % (n, "" if n == 1 else "s"))
        if self.cancelled:
            parts.append("stopped")
        return ", ".join(parts) + "."


# --- reading ahead ---------------------------------------------------------------------------

class Planner:
    """Reads and chunks the files in order, on a thread of its own, into a spool on disk.

    Generation reads the spool behind it (``iter_file``), so reading never waits for the model
    and the model never waits for reading more than the first chunk. Memory holds one block and
    one chunk at a time, whatever the size of the input."""

    def __init__(self, paths: Sequence[str], budget: int, spool_dir: Optional[str] = None,
                 on_event: Optional[Callable[[int, str, Any], None]] = None) -> None:
        self.paths = list(paths)
        self.budget = budget
        self._own_spool = spool_dir is None
        self.spool_dir = spool_dir or tempfile.mkdtemp(prefix="of-spool-")
        os.makedirs(self.spool_dir, exist_ok=True)
        self.on_event = on_event or (lambda i, kind, data: None)
        n = len(self.paths)
        self.counts = [0] * n
        self.finished = [False] * n
        self.errors: List[Optional[BaseException]] = [None] * n
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="flashcards-reader", daemon=True)

    def start(self) -> "Planner":
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def close(self) -> None:
        self.stop()
        # The reader checks for stop between chunks; do not let a slow page hold up a cancel.
        self._thread.join(timeout=0.5)
        if self._own_spool:
            shutil.rmtree(self.spool_dir, ignore_errors=True)

    def _spool(self, i: int) -> str:
        return os.path.join(self.spool_dir, "%d.jsonl" % i)

    def _run(self) -> None:
        for i in range(len(self.paths)):
            if self._stop:
                break
            self._read(i)

    def _read(self, i: int) -> None:
        from .chunking import iter_chunks
        from .sources import iter_blocks_path

        path = self.paths[i]
        self.on_event(i, READING, None)
        try:
            with open(self._spool(i), "w", encoding="utf-8") as spool:
                for chunk in iter_chunks(iter_blocks_path(path), document_name(path), self.budget):
                    if self._stop:
                        return
                    spool.write(json.dumps(chunk_to_json(chunk), ensure_ascii=False) + "\n")
                    spool.flush()
                    with self._cond:
                        self.counts[i] += 1
                        self._cond.notify_all()
            if not self.counts[i] and not self._stop:
                from .errors import EmptySource

                raise EmptySource("The file has no text to make cards from.",
                                  "Check that it is the right file; a scanned PDF needs OCR first.")
        except BaseException as e:  # any failure is this file's, never the job's
            self.errors[i] = e
        finally:
            with self._cond:
                self.finished[i] = True
                self._cond.notify_all()
            if not self._stop:
                self.on_event(i, "read", (self.errors[i], self.counts[i]))

    def iter_file(self, i: int, stop: Optional[threading.Event] = None) -> Iterator[Chunk]:
        """The file's chunks as the reader spools them; ends early when ``stop`` is set."""
        read = 0
        f = None
        try:
            while True:
                with self._cond:
                    while (self.counts[i] <= read and not self.finished[i] and not self._stop
                           and not (stop is not None and stop.is_set())):
                        self._cond.wait(0.05)
                    available = self.counts[i]
                    finished = self.finished[i]
                if (stop is not None and stop.is_set()) or self._stop:
                    return
                if read < available:
                    if f is None:
                        f = open(self._spool(i), encoding="utf-8")
                    while read < available:
                        line = f.readline()
                        read += 1
                        yield chunk_from_json(json.loads(line))
                elif finished:
                    return
        finally:
            if f is not None:
                f.close()
            if self.finished[i]:
                try:
                    os.remove(self._spool(i))
                except OSError:
                    pass


# --- adding notes ------------------------------------------------------------------------------

def fast_key(field_html: str) -> str:
    """``notes.plain_key`` (a field's text as the duplicate check compares it), without the
    HTML parser for text that has no markup: the same result, ~50x faster."""
    if "<" in field_html or "&" in field_html:
        from .notes import plain_key

        return plain_key(field_html)
    from .sanitize import _clean_text

    return " ".join(_clean_text(field_html).split())


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
    found means the whole batch is in.

    Duplicates are checked against a set of the note type's first fields, built once per job
    and kept up to date (``mark_duplicates`` would scan the collection for every batch).
    Call only where collection work belongs (a ``CollectionOp`` in Anki)."""

    def __init__(self, journal: Journal, target: NoteTarget, skip_duplicates: bool = True,
                 index: Optional[ChunkIndex] = None) -> None:
        self.journal = journal
        self.target = target
        self.skip_duplicates = skip_duplicates
        self.index = index
        self._nt: Any = None
        self._mapping: Dict[str, str] = {}
        self._exact: Set[str] = set()
        self._near: Set[str] = set()
        self._keys_ready = False

    def _resolve(self, col: Any) -> None:
        from .notes import resolve_notetype

        if self._nt is None:
            self._nt, self._mapping = resolve_notetype(col, self.target)

    def _first_field(self) -> str:
        return self._mapping["text" if self.target.kind == CLOZE else "front"]

    def _ensure_keys(self, col: Any) -> None:
        """The note type's first fields, once per job (plain text, and folded)."""
        from .grounding import normalise

        if self._keys_ready:
            return
        index = [f["name"] for f in self._nt["flds"]].index(self._first_field())
        exact: Set[str] = set()
        for flds in col.db.list("select flds from notes where mid = ?", self._nt["id"]):
            parts = flds.split("\x1f")
            if index < len(parts):
                exact.add(fast_key(parts[index]))
        self._exact = exact
        self._near = {normalise(k) for k in exact}
        self._keys_ready = True

    def mark(self, col: Any, cards: Sequence[Card], keys: Optional[Sequence[str]] = None) -> List[str]:
        """Set ``card.duplicate`` like ``notes.mark_duplicates`` ("collection", "near",
        "batch" or None), from the cached keys. Returns the cards' folded keys."""
        from .grounding import normalise

        self._resolve(col)
        self._ensure_keys(col)
        if keys is None:
            keys = [fast_key(c.key_text()) for c in cards]
        norms = [normalise(k) for k in keys]
        seen: Set[str] = set()
        for card, key, norm in zip(cards, keys, norms):
            if key in self._exact:
                card.duplicate = "collection"
            elif norm in self._near:
                card.duplicate = "near"
            elif norm in seen:
                card.duplicate = "batch"
            else:
                card.duplicate = None
            seen.add(norm)
        return norms

    def add(self, col: Any, chunk_ids: Sequence[str], cards: Sequence[Card]) -> AddOutcome:
        """Add ``cards`` (from the chunks ``chunk_ids``) and settle those chunks in the journal."""
        from .grounding import normalise
        from .notes import UNDO_LABEL, new_notes, undo_failed_step

        self._resolve(col)
        keys = [fast_key(c.key_text()) for c in cards]
        norms: Optional[List[str]] = None
        if self.skip_duplicates:
            norms = self.mark(col, cards, keys)
        batch = self.journal.next_batch()
        self.journal.adding(batch, chunk_ids, int(time.time() * 1000) - 1, int(self._nt["id"]))
        pos = col.add_custom_undo_entry(UNDO_LABEL)
        try:
            added, skipped = new_notes(col, self._nt, self._mapping, self.target, cards,
                                       self.skip_duplicates)
            changes = col.merge_undo_entries(pos)
        except Exception as e:
            undo_failed_step(col, pos)
            self.journal.not_added(batch, error=str(e))
            raise CollectionError("The cards could not be added: %s" % e,
                                  "The generated cards are kept: check the deck and note type, "
                                  "then resume the job.") from e
        per_chunk: Dict[str, List[int]] = {cid: [] for cid in chunk_ids}
        for i, note in added:
            per_chunk.setdefault(cards[i].chunk_id, []).append(int(note.id))
            if self._keys_ready:
                self._exact.add(keys[i])
                self._near.add(norms[i] if norms is not None else normalise(keys[i]))
        note_ids = [int(n.id) for _i, n in added]
        self.journal.added(batch, chunk_ids, note_ids, len(skipped))
        if self.index is not None:
            self.index.record(per_chunk)
        return AddOutcome(note_ids, skipped, changes, per_chunk)

    def add_reviewed(self, col: Any, keep: Sequence[Card], chunk_ids: Sequence[str]) -> AddOutcome:
        """Review mode: add the cards the user kept; every chunk of ``chunk_ids`` is settled
        (the cards not kept are dropped)."""
        if not keep:
            self.journal.discard(chunk_ids)
            return AddOutcome([], [], None, {})
        return self.add(col, chunk_ids, keep)

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
                    keys[fast_key(str(d or ""))] = cid
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
                        cid = keys.get(fast_key(parts[index]))
                        if cid is not None:
                            hits.setdefault(cid, []).append(int(nid))
            if hits:  # add_notes is all or nothing: the whole batch is in
                found += 1
                note_ids = [n for nids in hits.values() for n in nids]
                self.journal.added(batch, chunk_ids, note_ids, recovered=True)
                if self.index is not None:
                    self.index.record({cid: hits.get(cid, []) for cid in chunk_ids})
            else:  # the add never reached the collection: the cards are pending again
                self.journal.not_added(batch, recovered=True)
        return found


def prepare(col: Any, journal: Journal, index: Optional[ChunkIndex] = None) -> Set[str]:
    """The collection step before a run: settle batches left in doubt by a crash, and find
    the chunks already in the collection (for ``skip_known``). Returns those chunk ids."""
    spec = BulkSpec.from_header(journal.state.header)
    if journal.state.adding:
        NoteWriter(journal, spec.target, spec.skip_duplicates, index).recover(col)
    if index is None or not spec.skip_known or not index.notes:
        return set()
    wanted = index.all_note_ids()
    existing: Set[int] = set()
    ids = sorted(wanted)
    for i in range(0, len(ids), 5000):
        part = ids[i:i + 5000]
        existing.update(col.db.list("select id from notes where id in (%s)" % ",".join(map(str, part))))
    return index.present(existing)


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


# --- the run -----------------------------------------------------------------------------------

class BulkRun:
    """One run of a bulk job (new, resumed, or re-running failed chunks).

    ``run()`` blocks (call it on a worker thread); ``snapshot()`` may be called from any thread
    at any time for the UI. ``cancel`` stops it within ~50 ms, keeping what is done."""

    def __init__(self, journal: Journal, backend: Any, adder: Optional[Adder] = None,
                 known: Optional[Set[str]] = None, cancel: Optional[threading.Event] = None,
                 on_event: Optional[Callable[[str, Any], None]] = None, only_failed: bool = False,
                 spool_dir: Optional[str] = None, batch_seconds: float = BATCH_SECONDS) -> None:
        self.journal = journal
        self.backend = backend
        self.adder = adder
        self.known = known or set()
        self.cancel = cancel or threading.Event()
        self.on_event = on_event or (lambda kind, data: None)
        self.only_failed = only_failed
        self.spool_dir = spool_dir
        self.batch_seconds = batch_seconds
        self.spec = BulkSpec.from_header(journal.state.header)
        self.budget = int(journal.state.header.get("budget") or chunk_budget(self.spec.options))
        self.files = [FileStatus(p, document_name(p)) for p in self.spec.files]
        self._sections: Dict[Tuple[int, Tuple[str, ...]], Section] = {}
        self._lock = threading.RLock()
        self._file_of: Dict[str, int] = {}
        self._yielded: Set[str] = set()
        self._read_done = [False] * len(self.files)
        self._batch_ids: List[str] = []
        self._batch_cards: List[Card] = []
        self._last_flush = time.monotonic()
        self._adds_in_flight = 0
        self._add_error: Optional[BaseException] = None
        self.started = time.monotonic()
        self.first_request: Optional[float] = None
        self.generated = 0
        self.tokens_per_s = 0.0
        self.planner: Optional[Planner] = None
        self.result: Optional[BulkResult] = None
        self._seed_from_journal()

    # -- state from earlier runs --------------------------------------------------------------
    def _seed_from_journal(self) -> None:
        state = self.journal.state
        for rec in state.done.values():
            if 0 <= rec.file < len(self.files):
                sec = self._section(rec.file, rec.heading)
                sec.chunks += 1
                sec.done += 1
                sec.cards += rec.ncards
        self.note_ids_before = len(state.note_ids)

    def _section(self, file: int, heading: Tuple[str, ...]) -> Section:
        key = (file, tuple(heading))
        sec = self._sections.get(key)
        if sec is None:
            sec = self._sections[key] = Section(file, self.files[file].name, tuple(heading))
        return sec

    # -- reader events ------------------------------------------------------------------------
    def _on_reader(self, i: int, kind: str, data: Any) -> None:
        with self._lock:
            f = self.files[i]
            if kind == READING:
                if f.state == WAITING:
                    f.state = READING
            elif kind == "read":
                self._read_done[i] = True
                data, count = data
                if data is not None:
                    f.error = describe(data).replace("\n", " ")
                    f.chunks_total = count
                    self.journal.file_failed(i, describe(data), count)
                    if count == 0:
                        f.state = FAILED
                else:
                    f.chunks_total = count
                    self.journal.file_read(i, count)
                self._maybe_file_done(i)
        self.on_event("file", i)

    # -- the chunk stream ---------------------------------------------------------------------
    def _chunks(self) -> Iterator[Chunk]:
        state = self.journal.state
        if self.only_failed:
            failed = list(state.failed.values())
            per_file: Dict[int, int] = {}
            for rec in failed:
                per_file[rec.file] = per_file.get(rec.file, 0) + 1
            for i, f in enumerate(self.files):
                f.chunks_total = f.chunks_read = per_file.get(i, 0)
                self._read_done[i] = True
                f.state = GENERATING if per_file.get(i) else DONE
            for rec in failed:
                if self.cancel.is_set():
                    return
                chunk = chunk_from_json(rec.chunk)
                with self._lock:
                    self._file_of[chunk.id] = rec.file
                    self.files[rec.file].in_flight += 1
                yield chunk
            return
        assert self.planner is not None
        for i, f in enumerate(self.files):
            for chunk in self.planner.iter_file(i, self.cancel):
                with self._lock:
                    f.chunks_read += 1
                    if f.state in (WAITING, READING):
                        f.state = GENERATING
                    if chunk.id in state.done or chunk.id in self._yielded:
                        # done in an earlier run (or the same text twice): not asked again
                        rec = state.done.get(chunk.id)
                        f.chunks_done += 1
                        f.cards += rec.ncards if rec else 0
                        if rec is None:
                            self._section(i, chunk.heading_path).chunks += 1
                        self._maybe_file_done(i)
                        continue
                    if self.spec.skip_known and chunk.id in self.known:
                        f.chunks_done += 1
                        f.chunks_skipped += 1
                        sec = self._section(i, chunk.heading_path)
                        sec.chunks += 1
                        sec.skipped += 1
                        self._maybe_file_done(i)
                        continue
                    self._yielded.add(chunk.id)
                    self._file_of[chunk.id] = i
                    f.in_flight += 1
                    if self.first_request is None:
                        self.first_request = time.monotonic()
                yield chunk
            if self.cancel.is_set():
                return

    def _maybe_file_done(self, i: int) -> None:
        f = self.files[i]
        if f.state in (FAILED, DONE) or not self._read_done[i] or f.in_flight:
            return
        if f.chunks_done + f.chunks_failed >= f.total():
            if f.chunks_total == 0 and f.error:
                f.state = FAILED
            else:
                f.state = DONE

    # -- results ------------------------------------------------------------------------------
    def _on_chunk(self, chunk: Chunk, cards: List[Card]) -> None:
        self.journal.chunk_done(self._file_of.get(chunk.id, 0), chunk, cards)
        with self._lock:
            i = self._file_of.pop(chunk.id, 0)
            f = self.files[i]
            f.in_flight -= 1
            f.chunks_done += 1
            f.cards += len(cards)
            sec = self._section(i, chunk.heading_path)
            sec.chunks += 1
            sec.done += 1
            sec.cards += len(cards)
            self.generated += 1
            self._maybe_file_done(i)
        if self.spec.mode == MODE_ADD and self.adder is not None and cards:
            self._batch_ids.append(chunk.id)
            self._batch_cards.extend(cards)
            if (time.monotonic() - self._last_flush >= self.batch_seconds
                    or len(self._batch_cards) >= BATCH_CARDS):
                self._flush()
        elif not cards and self.adder is not None and self.writer_index() is not None:
            self.writer_index().record({chunk.id: []})
        self.on_event("chunk", i)

    def writer_index(self) -> Optional[ChunkIndex]:
        writer = getattr(self.adder, "writer", None)
        return getattr(writer, "index", None)

    def _on_failure(self, chunk: Chunk, err: FlashcardError) -> None:
        from .job import is_fatal

        if isinstance(err, Cancelled) or is_fatal(err):
            # Not this chunk's fault (server gone, model missing): the job stops, and the chunk
            # is asked again when the job is resumed.
            with self._lock:
                i = self._file_of.pop(chunk.id, 0)
                self.files[i].in_flight -= 1
            return
        i = self._file_of.get(chunk.id, 0)
        self.journal.chunk_failed(i, chunk, describe(err), type(err).__name__)
        with self._lock:
            self._file_of.pop(chunk.id, None)
            f = self.files[i]
            f.in_flight -= 1
            f.chunks_failed += 1
            sec = self._section(i, chunk.heading_path)
            sec.chunks += 1
            sec.failed += 1
            msg = describe(err).split("\n")[0]
            if msg not in sec.errors:
                sec.errors.append(msg)
            self._maybe_file_done(i)
        self.on_event("failed", i)

    def _on_progress(self, p: Progress) -> None:
        self.tokens_per_s = p.tokens_per_s
        if self._add_error is not None and not self.cancel.is_set():
            self.cancel.set()  # adding is broken: stop asking the model (the cards are kept)

    def _flush(self) -> None:
        if not self._batch_ids or self.adder is None or self._add_error is not None:
            return  # (after a failed add the cards stay in the journal for a later run)
        ids, cards = self._batch_ids, self._batch_cards
        self._batch_ids, self._batch_cards = [], []
        self._last_flush = time.monotonic()
        with self._lock:
            self._adds_in_flight += 1
        self.adder.submit(ids, cards, self._on_added)

    def _on_added(self, outcome: Optional[AddOutcome], error: Optional[BaseException]) -> None:
        with self._lock:
            self._adds_in_flight -= 1
            if error is not None:
                self._add_error = error
                return
            assert outcome is not None
            for cid, nids in outcome.chunks.items():
                i = self._file_index_of_chunk(cid)
                if i is not None:
                    self.files[i].added += len(nids)
        self.on_event("added", outcome)

    def _file_index_of_chunk(self, cid: str) -> Optional[int]:
        rec = self.journal.state.done.get(cid)
        return rec.file if rec is not None else None

    # -- the whole run ------------------------------------------------------------------------
    def run(self) -> BulkResult:
        state = self.journal.state
        fatal: Optional[FlashcardError] = None
        cancelled = False
        options = replace(self.spec.options, max_cards=0)
        try:
            prepared = prepare_job(self.backend, options)  # fails early: server down, no model
            options = replace(options, think=prepared.think)  # num_ctx stays the job's
        except FlashcardError as e:
            return self._finish(fatal=e, cancelled=False)
        # Cards generated by an earlier run but not yet added go first.
        if self.spec.mode == MODE_ADD and self.adder is not None:
            pending = [r for r in state.pending_chunks() if r.id not in state.in_doubt_chunks()]
            if pending:
                from .journal import card_from_json

                self._batch_ids = [r.id for r in pending]
                self._batch_cards = [card_from_json(c) for r in pending for c in r.cards]
                self._flush()
        if not self.only_failed:
            self.planner = Planner(self.spec.files, self.budget, self.spool_dir, self._on_reader).start()
        try:
            result = run_job(self._chunks(), self.backend, options, on_progress=self._on_progress,
                             cancel=self.cancel, on_chunk=self._on_chunk, on_failure=self._on_failure)
            cancelled = result.cancelled
            fatal = result.fatal
        except FlashcardError as e:
            fatal = e
        finally:
            if self.planner is not None:
                self.planner.close()
        self._flush()
        if self.adder is not None:
            self.adder.wait(60)  # the last batches (a collection op each, in Anki)
        if self._add_error is not None:
            err = self._add_error
            fatal = err if isinstance(err, FlashcardError) else CollectionError(describe(err))
            cancelled = False
        return self._finish(fatal=fatal, cancelled=cancelled and fatal is None)

    def _finish(self, fatal: Optional[FlashcardError], cancelled: bool) -> BulkResult:
        state = self.journal.state
        with self._lock:
            for i, f in enumerate(self.files):
                if f.state not in (DONE, FAILED):
                    if self.only_failed and not f.chunks_total:
                        f.state = DONE
                    elif fatal is not None and f.state == WAITING:
                        f.state = STOPPED
                        f.error = fatal.message
                    else:
                        f.state = STOPPED
            sections = list(self._sections.values())
        # a section retried successfully is no longer failed
        pending = state.pending_cards()
        complete = (not cancelled and fatal is None
                    and all(f.state in (DONE, FAILED) for f in self.files))
        finished = False
        if complete and not state.failed and not pending and not state.adding:
            self.journal.finish("done")
            finished = True
        self.result = BulkResult(
            files=[replace(f) for f in self.files], sections=sections, pending=pending,
            note_ids=list(state.note_ids), cancelled=cancelled, fatal=fatal,
            journal_path=self.journal.path, finished=finished, chunks_generated=self.generated,
            seconds=time.monotonic() - self.started)
        self.on_event("finished", self.result)
        return self.result

    # -- for the UI ---------------------------------------------------------------------------
    def snapshot(self) -> Tuple[List[FileStatus], BulkProgress]:
        with self._lock:
            files = [replace(f) for f in self.files]
            reading = not all(self._read_done)
        done = sum(f.chunks_done + f.chunks_failed for f in files)
        total = sum(f.total() for f in files)
        now = time.monotonic()
        remaining: Optional[float] = None
        if self.first_request is not None and self.generated:
            rate = self.generated / max(1e-6, now - self.first_request)
            left = max(0, total - done)
            remaining = left / rate if rate > 0 else None
        progress = BulkProgress(
            chunks_done=done, chunks_total=total, reading=reading,
            chunks_failed=sum(f.chunks_failed for f in files), cards=sum(f.cards for f in files),
            added=len(self.journal.state.note_ids), elapsed=now - self.started,
            remaining=remaining, tokens_per_s=self.tokens_per_s)
        return files, progress


# --- headless convenience ------------------------------------------------------------------------

def run_headless(
    col: Any, backend: Any, folder: str, spec: Optional[BulkSpec] = None,
    journal: Optional[Journal] = None, cancel: Optional[threading.Event] = None,
    on_event: Optional[Callable[[str, Any], None]] = None, only_failed: bool = False,
    sync: bool = True, batch_seconds: float = BATCH_SECONDS,
) -> BulkResult:
    """A whole bulk job (or the resumption of ``journal``) on a collection the caller owns."""
    index = ChunkIndex(os.path.join(folder, "added-chunks.jsonl"), sync=sync)
    if journal is None:
        assert spec is not None
        try:
            options = prepare_job(backend, spec.options)
        except FlashcardError as e:
            return BulkResult(files=[FileStatus(p, document_name(p), STOPPED, error=e.message)
                                     for p in spec.files], sections=[], pending=[], note_ids=[],
                              fatal=e)
        journal = start_journal(folder, spec, options, sync=sync)
    known = prepare(col, journal, index)
    spec = BulkSpec.from_header(journal.state.header)
    writer = NoteWriter(journal, spec.target, spec.skip_duplicates, index)
    run = BulkRun(journal, backend, DirectAdder(col, writer), known, cancel, on_event,
                  only_failed=only_failed, batch_seconds=batch_seconds)
    try:
        return run.run()
    finally:
        journal.close()
