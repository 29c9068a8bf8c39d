"""``BulkRunner``: one bulk job (``..generator.bulk.BulkRun``) started, resumed or re-run for
its failed sections, reporting to the main thread through signals:

- ``job_shown(Journal)``: the job's journal is open (its files are known);
- ``progress(files, BulkProgress)``: a few times a second while it runs (polled, so the job's
  thread never waits for the window);
- in "review all before adding" mode, ``card(Chunk, Card)`` the moment the model has written a
  card (a copy the table may edit) and ``chunk(Chunk, cards)`` when a chunk's final cards are
  in the journal (``generator.job.stream.reconcile`` maps the early ones to them); through a
  ``MainQueue``, in order and in slices of a few milliseconds;
- ``finished(BulkResult)`` or ``failed(error)``: once, at the end (after every card and chunk;
  ``JobRunner``).

Steps: ask the server (fails early: no server, no model) and write the journal → in a
collection op, settle adds a crash left in doubt and find sections already in the collection
→ the run itself on a worker (not a QueryOp, which would count the whole job as "the backend
is blocking"). In "add" mode each batch of cards is added by a ``CollectionOp`` on the main
thread (``bulk_adder.QtAdder``: one undo step per batch). ``cancel()`` stops within a second; what is
done is kept and can be resumed."""
from __future__ import annotations

import copy
import os
from typing import TYPE_CHECKING, Any, List, Optional

from aqt.qt import QObject, QTimer, pyqtSignal

from ..generator.bulk.status import BulkResult
from ..generator.cards.card import Card
from ..generator.config import BulkMode, Settings
from ..generator.job.reports import JobListener
from ..generator.bulk.files import INDEX_NAME
from ..generator.bulk.journal import ChunkIndex, Journal
from .common import is_alive, run_network, run_with_collection
from .figure_widgets import Thumbnails, graphics
from .job_runner import JobRunner

if TYPE_CHECKING:  # the job and its writer load the engine's job and notes: imported when used
    from ..generator.bulk.job import BulkRun, BulkSpec
    from ..generator.bulk.writer import NoteWriter

REFRESH_MS = 250  # how often the job's state is shown while it runs


def read_closed(path: str) -> Journal:
    """A journal's state, read and closed again (to offer it, or before resuming it)."""
    journal = Journal.open(path)
    journal.close()
    return journal


class BulkRunner(JobRunner, JobListener):
    """In review mode, the job's watcher too (``on_card``, ``on_answer``): its cards go to the
    main thread as the ``card`` and ``chunk`` signals. Once the steps before it are done, the
    run itself is the ``JobRunner``'s work."""

    job_shown = pyqtSignal(object)  # Journal
    progress = pyqtSignal(object, object)  # List[FileStatus], BulkProgress
    card = pyqtSignal(object, object)  # Chunk, Card (a copy), in review mode
    chunk = pyqtSignal(object, object)  # Chunk, List[Card], in review mode

    def __init__(self, folder: str, settings: Settings, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.settings = settings
        self.journal: Optional[Journal] = None
        self.run: Optional[BulkRun] = None
        self.writer: Optional[NoteWriter] = None
        self.backend: Any = None  # the run's, closed when it ends
        self.thumbnails = Thumbnails()  # of the figures offered in review mode (the table's)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._tick)

    # --- starting -----------------------------------------------------------------------------
    def start_job(self, spec: BulkSpec) -> None:
        """A new job on ``spec``'s files."""
        from ..generator.backends import make_backend
        from ..generator.bulk.job import start_journal
        from ..generator.job.run import prepare_job

        settings, folder = self.settings, self.folder

        def op() -> Journal:
            backend = make_backend(settings)
            try:
                options = prepare_job(backend, spec.options)  # fails early: no server, no model
            finally:
                backend.close()
            return start_journal(folder, spec, options)

        run_network(self._parent_widget(), op, lambda j: self._prepare(j, False), self._fail)

    def resume(self, path: str, only_failed: bool = False) -> None:
        """Go on with the job of the journal at ``path`` (only its failed chunks, if asked)."""
        run_network(self._parent_widget(), lambda: read_closed(path),
                    lambda j: self._prepare(j, only_failed), self._fail)

    # --- the steps ----------------------------------------------------------------------------
    def _prepare(self, journal: Journal, only_failed: bool) -> None:
        """Collection step: settle adds left in doubt by a crash, find sections already in the
        collection. Then the run itself."""
        from ..generator.bulk.job import prepare

        if not is_alive(self):
            journal.close()
            return
        self.journal = journal
        self.job_shown.emit(journal)
        if self.cancelled:
            self.end(self.finished, None)
            return
        index = self.index()
        run_with_collection(self._parent_widget(), lambda col: prepare(col, journal, index),
                            lambda known: self._begin_run(journal, index, known, only_failed), self._fail)

    def _begin_run(self, journal: Journal, index: ChunkIndex, known: Any, only_failed: bool) -> None:
        from ..generator.backends import make_backend
        from ..generator.bulk.job import BulkRun, BulkSpec, RunSetup
        from ..generator.bulk.writer import NoteWriter
        from .bulk_adder import QtAdder

        if not is_alive(self):
            return
        from .similar_cache import CACHE

        spec = BulkSpec.from_header(journal.state.header)
        from ..generator.update.track import bulk_recording

        record, read_files = bulk_recording(journal, spec.target)  # what the notes came from
        writer = NoteWriter(journal, spec.target, spec.skip_duplicates, index,
                            skip_similar=spec.skip_similar, on_added=record)
        adder = QtAdder(writer) if spec.mode == BulkMode.ADD else None
        backend = make_backend(self.settings)
        similar = CACHE.get(self.settings)  # duplicates by meaning, when an embed_model is set
        CACHE.start_build(self.settings)
        review = spec.mode == BulkMode.REVIEW
        run = BulkRun(journal, backend, adder, known, self.cancel_event, watcher=self if review else None,
                      setup=RunSetup(only_failed=only_failed, similar=similar, graphics=graphics(),
                                     before_add=read_files))
        self.run = run
        self.writer = writer
        self.backend = backend
        self._tick()
        self.timer.start()
        self.start()

    def work(self) -> BulkResult:
        """The run itself, on a worker; in review mode the labelled figures of its PDFs are then
        offered as Image Occlusion notes (``occlusion_bulk.offer_figures``)."""
        assert self.run is not None and self.journal is not None
        try:
            result = self.run.run()
            if self.journal.state.header.get("mode") == BulkMode.REVIEW.value and not result.cancelled \
                    and result.fatal is None:
                self._offer_figures()
            return result
        finally:
            self.backend.close()
            self.journal.close()

    def on_card(self, chunk: Any, card: Card) -> None:  # on the job's thread
        shown = copy.deepcopy(card)
        self.post(lambda: self.card.emit(chunk, shown))

    def on_answer(self, chunk: Any, cards: List[Card]) -> None:  # on the job's thread
        self.post(lambda: self.chunk.emit(chunk, cards))

    def _offer_figures(self) -> None:
        from ..generator import log
        from ..generator.bulk.job import BulkSpec
        from .occlusion_bulk import offer_figures

        assert self.journal is not None
        try:
            offer_figures(BulkSpec.from_header(self.journal.state.header), self.thumbnails, self.backend,
                          self.cancel_event, lambda chunk, cards: self.post(lambda: self.chunk.emit(chunk, cards)))
        except Exception as err:  # an offer never costs the job its cards
            log.event("figures not offered: %s", type(err).__name__)

    def _tick(self) -> None:
        if self.run is not None and is_alive(self):
            files, p = self.run.snapshot()
            self.progress.emit(files, p)

    def _fail(self, err: BaseException) -> None:
        """A step before the run failed (on the main thread)."""
        self.end(self.failed, err)

    def stopped(self) -> None:
        self.timer.stop()
        super().stopped()

    def index(self) -> ChunkIndex:
        return ChunkIndex(os.path.join(self.folder, INDEX_NAME))

    def _parent_widget(self) -> Any:
        return self.parent()
