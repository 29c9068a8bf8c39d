"""A bulk job, headless: many files -> chunks (read and chunked as a stream) -> the model ->
a journal -> notes. Used by the add-on's bulk dialog, the benchmark and the tests.

- Files are read and chunked ahead of generation by a :class:`Planner` thread into a spool on
  disk, so every file's number of chunks is known early (progress, time left) while memory stays
  bounded: neither a file's text nor the job's prompts are held at once.
- Every finished chunk goes to the journal (with its cards) the moment its answer is in, even
  while it waits behind a slower chunk for its turn to be added; a resumed job does not ask for
  it again.
- "add as they come" (``MODE_ADD``): cards are added in batches (every couple of seconds) by a
  :class:`NoteWriter`, which writes ``adding``/``added`` journal records around each add and
  can tell, after a crash between the two, whether the add reached the collection (``recover``).
  "review all before adding" (``MODE_REVIEW``): the cards stay in the journal until the user
  has reviewed them (``NoteWriter.add_reviewed``).
- One file's failure (unreadable, empty, ...) does not stop the others; a failed chunk does
  not stop its file. The summary has per-file status and per-section coverage, and
  ``RunSetup(only_failed=True)`` re-runs only the chunks that failed.

Never imports aqt or Qt. Collection access is confined to ``NoteWriter`` and ``prepare``, which
the caller runs where collection work belongs (a ``CollectionOp`` in Anki).

This module has the job (``BulkSpec``, ``BulkRun``, ``RunSetup``, ``run_headless``); the reader
thread is in ``reader``, the note writer in ``writer``, the status and summary types in
``status``; import their names from there."""
import os
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple

from .figures import BulkFigures
from .figures import remove_folder as remove_figures_folder
from .writer import AddOutcome, Adder, DirectAdder, NoteWriter
from .reader import Planner, document_name
from .status import (
    DONE,
    FAILED,
    GENERATING,
    READING,
    STOPPED,
    WAITING,
    BulkProgress,
    BulkResult,
    FileStatus,
    Section,
)
from ..cards.card import Card
from ..cards.checks import is_flagged
from ..job.chunk import Chunk
from ..config import BulkMode, FlaggedInBulk
from ..errors import Cancelled, CollectionError, FlashcardError, describe, one_line
from ..job.reports import ChunkWarning, JobListener, Progress
from ..job.run import JobOptions, chunk_budget, prepare_job, run_job
from .journal import ChunkIndex, Journal, chunk_from_json
from ..notes.add import NoteTarget
from ..similar.search import SimilarCheck, SimilarNotes
from ..job.topics import Topic, TopicPlan
from ..notes.accounting import Reason

MODE_ADD = BulkMode.ADD  # add the cards as they come
MODE_REVIEW = BulkMode.REVIEW  # review all before adding

BATCH_SECONDS = 2.0  # add at most this often (each add is one undo step and one UI refresh)
BATCH_CARDS = 500  # ... unless this many cards are waiting


# --- what to do -------------------------------------------------------------------------------

@dataclass
class BulkSpec:
    files: List[str]
    options: JobOptions
    target: NoteTarget
    mode: str = MODE_ADD
    skip_duplicates: bool = True  # skip cards whose first field is already in the collection
    skip_known: bool = True  # skip sections a previous job already turned into notes
    skip_similar: bool = True  # skip cards marked similar in meaning to a note (embed_model)
    topics: List[Topic] = field(default_factory=list)  # topics first: cards for the checked ones only
    # "add" mode: a flagged card is added tagged ollama-flashcards::flagged, or skipped
    flagged: FlaggedInBulk = FlaggedInBulk.TAG
    # files with highlights (generator/highlights): "only", "first" or "ignore", and the colours
    # chosen (none: all); a journal from before highlights were read says "ignore"
    highlights: str = "only"
    highlight_colours: List[str] = field(default_factory=list)

    def highlight_choice(self) -> Any:
        from ..highlights.focus import HighlightChoice, HighlightMode

        try:
            mode = HighlightMode.parse(self.highlights)
        except ValueError:
            mode = HighlightMode.IGNORE
        return HighlightChoice(mode, tuple(str(c)[:20] for c in self.highlight_colours[:10]))

    def header(self, options: JobOptions, budget: int) -> Dict[str, Any]:
        # options hold the focus; with the topics, a resumed job asks the same things
        return {"files": [os.path.abspath(p) for p in self.files], "options": asdict(options),
                "budget": budget, "target": asdict(self.target), "mode": self.mode,
                "skip_duplicates": self.skip_duplicates, "skip_known": self.skip_known,
                "skip_similar": self.skip_similar,
                "topics": [t.to_json() for t in self.topics],
                "flagged": str(self.flagged),
                "highlights": {"mode": self.highlights, "colours": list(self.highlight_colours)}}

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
                   skip_known=bool(header.get("skip_known", True)),
                   skip_similar=bool(header.get("skip_similar", True)),
                   topics=[t for t in (Topic.from_json(d) for d in header.get("topics") or ()
                                       if isinstance(d, dict)) if t is not None],
                   flagged=FlaggedInBulk.parse(header.get("flagged") or FlaggedInBulk.TAG),
                   **_highlights_of(header.get("highlights")))


def _highlights_of(value: Any) -> Dict[str, Any]:
    """The highlight choice a journal's header keeps ("ignore" for a journal without one)."""
    if not isinstance(value, dict):
        return {"highlights": "ignore", "highlight_colours": []}
    colours = value.get("colours")
    return {"highlights": str(value.get("mode") or "ignore")[:10],
            "highlight_colours": [str(c)[:20] for c in colours[:10]] if isinstance(colours, list) else []}


def start_journal(folder: str, spec: BulkSpec, options: JobOptions, sync: bool = True) -> Journal:
    """A new job's journal. ``options`` as ``prepare_job`` returned them (num_ctx capped to the
    model), so the chunk budget, and with it every chunk id, is fixed for the job's lifetime."""
    options = replace(options, max_cards=0)  # a bulk job asks each chunk by its length
    return Journal.create(folder, spec.header(options, chunk_budget(options)), sync=sync)


# --- before a run --------------------------------------------------------------------------

def prepare(col: Any, journal: Journal, index: Optional[ChunkIndex] = None) -> Set[str]:
    """The collection step before a run: settle batches left in doubt by a crash, and find
    the chunks already in the collection (for ``skip_known``). Returns those chunk ids."""
    spec = BulkSpec.from_header(journal.state.header)
    if journal.state.adding:
        NoteWriter(journal, spec.target, spec.skip_duplicates, index).recover(col)
    _carded_before(col, journal, spec)
    if index is None or not spec.skip_known or not index.notes:
        return set()
    wanted = index.all_note_ids()
    existing: Set[int] = set()
    ids = sorted(wanted)
    for i in range(0, len(ids), 5000):
        part = ids[i:i + 5000]
        existing.update(col.db.list("select id from notes where id in (%s)" % ",".join(map(str, part))))
    return index.present(existing)


_CARDED: Dict[str, Dict[str, Set[str]]] = {}  # journal path -> by file: highlights carded before
_CARDED_LOCK = threading.Lock()


def _carded_before(col: Any, journal: Journal, spec: "BulkSpec") -> None:
    """Which highlights of the job's files cards were made of before (clippings grow: they are
    not asked again), for the run that follows. Never raises (then every highlight is asked)."""
    from ..highlights.focus import HighlightMode

    found: Dict[str, Set[str]] = {}
    try:
        if spec.highlight_choice().mode is not HighlightMode.IGNORE:
            from ..recorded.lookup import carded_by_path

            found = carded_by_path(col, spec.files)
    except Exception as e:  # a record from elsewhere that cannot be read ...
        from .. import log

        log.event("highlights carded before not looked up: %s", type(e).__name__)
    with _CARDED_LOCK:
        _CARDED.pop(journal.path, None)
        _CARDED[journal.path] = found
        while len(_CARDED) > 4:
            del _CARDED[next(iter(_CARDED))]


def carded_before_run(journal_path: str) -> Dict[str, Set[str]]:
    """What ``prepare`` found of the job with this journal (by file path)."""
    with _CARDED_LOCK:
        return dict(_CARDED.get(journal_path) or {})


# --- the run -----------------------------------------------------------------------------------

@dataclass
class RunSetup:
    """How one run goes, beside its journal, server and collection."""

    only_failed: bool = False  # re-run only the chunks that failed
    batch_seconds: float = BATCH_SECONDS  # add at most this often
    spool_dir: Optional[str] = None  # where the reader spools chunks (None: a temporary folder)
    similar: Optional[SimilarNotes] = None  # duplicates by meaning (None = off)
    graphics: Any = None  # images.figure.Graphics for the figures of files, or None
    sync: bool = True  # journal and index written through to the disk (``run_headless``)
    # on the job's thread before a batch goes to the adder: what adding it needs, read off the
    # collection (the app reads the batch's files for recording what the notes came from)
    before_add: Optional[Callable[[List[Card]], None]] = None


class BulkRun(JobListener):
    """One run of a bulk job (new, resumed, or re-running failed chunks).

    ``run()`` blocks (call it on a worker thread); ``snapshot()`` may be called from any thread
    at any time for the UI. ``cancel`` stops it within ~50 ms, keeping what is done. The run is
    its job's listener; ``watcher`` hears, of the same job, each card as it is written
    (``on_card``, a worker thread) and each chunk's final cards once journaled (``on_answer``)."""

    def __init__(self, journal: Journal, backend: Any, adder: Optional[Adder] = None,
                 known: Optional[Set[str]] = None, cancel: Optional[threading.Event] = None,
                 on_event: Optional[Callable[[str, Any], None]] = None,
                 watcher: Optional[JobListener] = None, setup: Optional[RunSetup] = None) -> None:
        setup = setup or RunSetup()
        self.journal = journal
        self.graphics = setup.graphics  # images.figure.Graphics for the figures of files, or None
        self.figures: Optional[BulkFigures] = None
        self.similar = SimilarCheck(setup.similar)  # duplicates by meaning
        self.backend = backend
        self.adder = adder
        self.known = known or set()
        self.cancel = cancel or threading.Event()
        self.on_event = on_event or (lambda kind, data: None)
        self.only_failed = setup.only_failed
        self.spool_dir = setup.spool_dir
        self.before_add = setup.before_add
        self.batch_seconds = setup.batch_seconds
        self.watcher = watcher or JobListener()
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
        self._left: Dict[str, Dict[Reason, int]] = {}  # chunk id -> cards the job left out, why
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
                    f.error = one_line(describe(data))
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
                if self.figures is not None and 0 <= rec.file < len(self.spec.files):
                    chunk = self.figures.attach(chunk, self.spec.files[rec.file])
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
                        done = state.done.get(chunk.id)
                        f.chunks_done += 1
                        f.cards += done.ncards if done else 0
                        if done is None:
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
    def on_answer(self, chunk: Chunk, cards: List[Card]) -> None:
        """A chunk's cards, the moment they are ready (on its worker, in any order): into the
        journal at once, so a crash loses only the requests in flight, not answers waiting
        behind a slower chunk."""
        self.similar.mark(cards, self.backend)
        if self.figures is not None:
            self.figures.keep(cards)  # on disk before the journal names them
        with self._lock:
            left = self._left.pop(chunk.id, None)
        self.journal.chunk_done(self._file_of.get(chunk.id, 0), chunk, cards, left)
        self.watcher.on_answer(chunk, cards)

    def on_left_out(self, chunk: Chunk, reason: Reason, count: int) -> None:
        """Cards the chunk made that the job left out: journaled with the chunk (on_answer)."""
        with self._lock:
            left = self._left.setdefault(chunk.id, {})
            left[reason] = left.get(reason, 0) + count

    def on_card(self, chunk: Chunk, card: Card) -> None:
        self.watcher.on_card(chunk, card)

    def on_chunk(self, chunk: Chunk, cards: List[Card]) -> None:
        """A chunk's cards in document order (journaled already): counted, and added."""
        with self._lock:
            i = self._file_of.pop(chunk.id, 0)
            f = self.files[i]
            f.in_flight -= 1
            f.chunks_done += 1
            f.cards += len(cards)
            f.flagged += sum(1 for c in cards if is_flagged(c))
            sec = self._section(i, chunk.heading_path)
            sec.chunks += 1
            sec.done += 1
            sec.cards += len(cards)
            self.generated += 1
            self._maybe_file_done(i)
        if self.spec.mode == MODE_ADD and self.adder is not None and cards:
            self._batch_ids.append(chunk.id)
            self._batch_cards.extend(cards)  # (flagged ones too: the writer skips them if asked)
            if (time.monotonic() - self._last_flush >= self.batch_seconds
                    or len(self._batch_cards) >= BATCH_CARDS):
                self._flush()
        elif not cards and self.adder is not None:
            index = self.writer_index()
            if index is not None:
                index.record({chunk.id: []})
        self.on_event("chunk", i)

    def writer_index(self) -> Optional[ChunkIndex]:
        writer = getattr(self.adder, "writer", None)
        return getattr(writer, "index", None)

    def on_failure(self, chunk: Chunk, err: FlashcardError) -> None:
        from ..job.run import is_fatal

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
            msg = one_line(describe(err))
            if msg not in sec.errors:
                sec.errors.append(msg)
            self._maybe_file_done(i)
        self.on_event("failed", i)

    def _on_figure_note(self, path: str, text: str) -> None:
        """What planning a file with its figures said (an image refused, a model that cannot
        see): shown with the file's first section."""
        i = self.spec.files.index(path) if path in self.spec.files else 0
        with self._lock:
            sec = self._section(i, ())
            if text not in sec.warnings:
                sec.warnings.append(text)

    def on_warning(self, warning: ChunkWarning) -> None:
        with self._lock:
            sec = self._section(self._file_of.get(warning.chunk.id, 0), warning.chunk.heading_path)
            if warning.message not in sec.warnings:
                sec.warnings.append(warning.message)

    def on_progress(self, p: Progress) -> None:
        self.tokens_per_s = p.tokens_per_s
        if self._add_error is not None and not self.cancel.is_set():
            self.cancel.set()  # adding is broken: stop asking the model (the cards are kept)

    def _flush(self) -> None:
        if not self._batch_ids or self.adder is None or self._add_error is not None:
            return  # (after a failed add the cards stay in the journal for a later run)
        ids, cards = self._batch_ids, self._batch_cards
        self._batch_ids, self._batch_cards = [], []
        if self.before_add is not None:
            self.before_add(cards)
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
            options = replace(options, think=prepared.think, vision=prepared.vision)  # num_ctx stays the job's
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
        self.figures = BulkFigures.for_run(options, self.graphics, self.journal.path, self._on_figure_note)
        if self.figures is not None:
            self.figures.budget = self.budget
        if not self.only_failed:
            self.planner = Planner(self.spec.files, self.budget, self.spool_dir, self._on_reader,
                                   self.figures, self.spec.highlight_choice(),
                                   carded_before_run(self.journal.path)).start()
        try:
            from ..highlights.focus import asks_with_focus

            plan = TopicPlan.for_options(self.spec.topics, options) if self.spec.topics else None
            result = run_job(self._chunks(), self.backend, options, self, self.cancel,
                             asks=asks_with_focus(options, plan.ask if plan is not None else None))
            cancelled = result.cancelled
            fatal = result.fatal
        except FlashcardError as e:
            fatal = e
        finally:
            if self.planner is not None:
                self.planner.close()
            if self.figures is not None:
                self.figures.close()
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
            remove_figures_folder(self.journal.path)
            self.journal.finish("done")
            finished = True
        self.result = BulkResult(
            files=self._accounted(self.files), sections=sections, pending=pending,
            note_ids=list(state.note_ids), cancelled=cancelled, fatal=fatal,
            journal_path=self.journal.path, finished=finished, chunks_generated=self.generated,
            seconds=time.monotonic() - self.started)
        self.on_event("finished", self.result)
        return self.result

    # -- for the UI ---------------------------------------------------------------------------
    def _accounted(self, files: List[FileStatus]) -> List[FileStatus]:
        """Copies of the file statuses with each file's account as the journal has it now."""
        state = self.journal.state
        review = self.spec.mode == MODE_REVIEW
        skipped = not review and self.spec.flagged == FlaggedInBulk.SKIP
        with self._lock:
            return [replace(f, account=state.account_of(i), review=review, flagged_left_out=skipped)
                    for i, f in enumerate(files)]

    def snapshot(self) -> Tuple[List[FileStatus], BulkProgress]:
        files = self._accounted(self.files)
        with self._lock:
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

def run_headless(col: Any, backend: Any, folder: str, spec: Optional[BulkSpec] = None,
                 journal: Optional[Journal] = None, cancel: Optional[threading.Event] = None,
                 on_event: Optional[Callable[[str, Any], None]] = None,
                 setup: Optional[RunSetup] = None) -> BulkResult:
    """A whole bulk job (or the resumption of ``journal``) on a collection the caller owns."""
    setup = setup or RunSetup()
    index = ChunkIndex(os.path.join(folder, "added-chunks.jsonl"), sync=setup.sync)
    if journal is None:
        assert spec is not None
        try:
            options = prepare_job(backend, spec.options)
        except FlashcardError as e:
            return BulkResult(files=[FileStatus(p, document_name(p), STOPPED, error=e.message)
                                     for p in spec.files], sections=[], pending=[], note_ids=[],
                              fatal=e)
        journal = start_journal(folder, spec, options, sync=setup.sync)
    known = prepare(col, journal, index)
    spec = BulkSpec.from_header(journal.state.header)
    writer = NoteWriter(journal, spec.target, spec.skip_duplicates, index,
                        skip_similar=spec.skip_similar)
    run = BulkRun(journal, backend, DirectAdder(col, writer), known, cancel, on_event, setup=setup)
    try:
        return run.run()
    finally:
        journal.close()
