"""The Bulk dialog: many files → cards, with per-file status, one progress bar, cancel, resume
after a crash, a coverage summary and re-running only what failed. It only composes and
connects its parts:

- tabs: ``FileList`` (Files), ``TopicStep`` (Topics: "Find topics" over the files, then a
  checklist; the job writes cards for the checked topics only), ``CoverageView`` (Summary),
  ``ReviewPane`` (Review);
- beside them ``CardOptions`` (deck, card kind / note type with field mapping, tags) with the
  dialog's own rows: the ``ModelPicker``, requests at once, figures, what to do with the files'
  highlights (``HighlightPicker``, counted when the list changes), the adding mode, skip known;
- for the card kind "Image occlusion", ``OcclusionBulk`` (ui/occlusion_bulk.py): a note per
  labelled figure of the files, into the Review tab (no journal);
- ``ProgressRow``, ``MessageBar``; a ``BulkRunner`` per job (start, resume, retry failed).

When a job was left unfinished (Anki closed or crashed mid-job, or it was stopped), opening
the dialog offers it (Resume / Discard). The settings dialog is a callback (``open_settings``).
The job's focus (a row of ``CardOptions``) and its topics go into the job's journal, so a resumed
job asks the same things. In "review all before adding" mode the cards stream into the Review
tab as they are written, marked "Arriving…" until their chunk ends (``StreamedRows``); they can be
checked, edited and deleted while the job runs, and are added when it has ended."""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from anki.collection import Collection, OpChanges
from anki.notes import NoteId
from aqt import mw
from aqt.qt import (
    QCheckBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabWidget,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from aqt.utils import askUser, tooltip

from ..generator.bulk.files import unfinished
from ..generator.bulk.journal import Journal
from ..generator.bulk.status import BulkProgress, BulkResult, FileStatus
from ..generator.config import BulkMode, CardKind, Settings
from ..generator.errors import ModelNotFound, NotAModelServer, ServerUnreachable
from . import resume
from .bulk_files import FileList
from .bulk_report import RESUME, RETRY_FAILED, SETTINGS, SHOW_ADDED, SHOW_SUMMARY, CoverageView, report
from .bulk_review import ReviewPane
from .bulk_runner import BulkRunner, read_closed
from .card_adder import CardAdder
from .card_options import CardOptions
from .common import (
    error_text,
    esc,
    get_settings,
    is_alive,
    plural,
    run_network,
    run_with_collection,
    save_config,
    show_in_browser,
)
from .job_dialog import DialogSpec, JobDialog, OpenSettings
from .message_bar import Action
from .occlusion_bulk import OcclusionBulk, add_with_notes
from .stream_rows import StreamedRows
from .update import offer_update

if TYPE_CHECKING:  # the job's spec and writer load the engine's job and notes: imported when used
    from ..generator.bulk.job import BulkSpec
    from ..generator.bulk.writer import AddOutcome, NoteWriter
    from ..generator.images.figure import FigureSet

DIALOG_NAME = "OllamaFlashcardsBulk"
TITLE = "Bulk Generate from Files"
TAB_FILES, TAB_TOPICS, TAB_SUMMARY, TAB_REVIEW = range(4)


def bulk_folder() -> str:
    """Where this profile's journals live: the add-on's ``user_files`` (kept on upgrades)."""
    return resume.bulk_folder(mw)


def clock(seconds: float) -> str:
    seconds = int(max(0, seconds) + 0.5)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return "%d:%02d:%02d" % (h, m, s) if h else "%d:%02d" % (m, s)


class BulkDialog(JobDialog):
    SPEC = DialogSpec(DIALOG_NAME, "ollamaFlashcardsBulk", (900, 600), 760,
                      "Stop within a second; what is done is kept and can be resumed",
                      "Stopping… (what is done is kept)", of_files=True, close_when_stopped=True)

    def __init__(self, parent: Optional[QWidget], open_settings: OpenSettings) -> None:
        settings = get_settings()
        super().__init__(parent or mw, open_settings, settings, model_messages=False)
        self.setWindowTitle(TITLE)
        self.col: Collection = mw.col
        self.folder = bulk_folder()
        self.runner: Optional[BulkRunner] = None
        self.journal: Optional[Journal] = None  # the shown job's journal
        self.last_result: Optional[BulkResult] = None  # the last job's result
        self.offered: Optional[str] = None  # journal path offered for resuming
        self.review_chunks: List[str] = []  # chunks whose cards wait in the Review tab
        self.review_writer: Optional[NoteWriter] = None  # adds them
        self.tabs = QTabWidget(self)
        self.files = FileList()
        self.coverage = CoverageView()
        self.review = ReviewPane()
        self.stream = StreamedRows(self.review.table, lambda: 0)
        # adds the Image Occlusion notes of the Review tab (the job's cards are added by its
        # writer); once added they are done with (an undo does not offer them again)
        self.adder = CardAdder(self, self.review.table, self.message, None, self.update_buttons,
                               ("image occlusion note", "image occlusion notes"), follow_undo=False)
        self.occlusion = OcclusionBulk(self)  # the kind "Image occlusion": a job of its own
        self.options = CardOptions(self.col, settings, with_language_and_count=False)
        self.parallel_spin, self.mode_add, self.mode_review, self.skip_known = _job_rows(settings)
        self.start_btn = QPushButton("Generate")
        self.close_btn = QPushButton("Close")
        self._lay_out()
        self._connect()
        self.fit()
        self.update_buttons()
        self.models.refresh()
        self.check_unfinished()

    # ==== setting up ===========================================================================
    def _lay_out(self) -> None:
        """The tabs beside the job's options (the card options with the dialog's own rows)."""
        self.tabs.addTab(self.files, "Files")
        self.tabs.addTab(self.topics, "Topics")
        self.tabs.addTab(self.coverage, "Summary")
        self.tabs.addTab(self.review, "Review")
        self.splitter.addWidget(self.tabs)
        self.options.add_row("Model", self.models)
        self.options.add_row("Requests at once", self.parallel_spin)
        self.options.add_row("Figures", self.figures)
        self.options.add_row("", self.highlight_choice)
        mode_box = QWidget()
        mv = QVBoxLayout(mode_box)
        mv.setContentsMargins(0, 0, 0, 0)
        mv.addWidget(self.mode_add)
        mv.addWidget(self.mode_review)
        self.options.add_row("Adding", mode_box)
        self.options.add_row("", self.skip_known)
        self.splitter.addWidget(self.options)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([640, 260])
        self.start_btn.setDefault(True)
        self.close_btn.setAutoDefault(False)
        self.lay_out_bottom([], [self.start_btn, self.close_btn])

    def _connect(self) -> None:
        self.connect_parts(self.files.edited)
        self.start_btn.clicked.connect(lambda _c=False: self.start())
        self.close_btn.clicked.connect(lambda _c=False: self.close())
        self.files.edited.connect(self._leave_finished_job)
        self.files.edited.connect(lambda: self.highlight_choice.show_files(self.files.paths))
        self.files.edited.connect(lambda: offer_update(self))  # a file carded before: update it
        self.files.selection_changed.connect(self.update_buttons)
        self.coverage.retry_requested.connect(lambda: self.resume(only_failed=True))
        self.review.add_requested.connect(self.add_reviewed)
        self.review.discard_requested.connect(self.discard_review)
        self.review.table.checked_changed.connect(self.update_buttons)
        self.tabs.currentChanged.connect(self._on_tab_changed)

    # ==== the job's settings ====================================================================
    @property
    def run(self) -> Any:
        """The ``BulkRun`` in progress (None before it starts, after it ends, and for an Image
        Occlusion job, which has none)."""
        return self.runner.run if isinstance(self.runner, BulkRunner) else None

    def mode(self) -> BulkMode:
        return BulkMode.REVIEW if self.mode_review.isChecked() else BulkMode.ADD

    def spec(self) -> BulkSpec:
        from ..generator.bulk.job import BulkSpec
        from ..generator.job.run import JobOptions

        settings = get_settings()
        options = JobOptions.from_config(settings, model=self.models.model(), kind=self.options.kind(),
                                         parallel=self.parallel_spin.value(), max_cards=0,
                                         depth=self.options.card_depth(), focus=self.options.focus(),
                                         figures=self.figures.mode().value)
        # The job's journal keeps the target (note type and field mapping too), the focus, the
        # topics and the highlight choice: resuming uses them.
        highlights = self.highlight_choice.choice()
        return BulkSpec(list(self.files.paths), options, self.options.target(), mode=self.mode().value,
                        skip_duplicates=settings.skip_duplicates, skip_known=self.skip_known.isChecked(),
                        skip_similar=settings.skip_similar,
                        flagged=settings.bulk_flagged,
                        topics=self.topics.chosen() or [], highlights=highlights.mode.value,
                        highlight_colours=list(highlights.colours))

    def remember(self) -> None:
        save_config({"bulk_mode": self.mode().value, "bulk_skip_known": self.skip_known.isChecked(),
                     "parallel_requests": self.parallel_spin.value(), **self.figures.choices()})

    def figure_sets(self) -> Optional[List[Tuple[str, "FigureSet"]]]:
        from ..generator.sources.with_figures import figure_set_for_path

        return [(os.path.basename(p), fs) for p in list(self.files.paths)[:200]
                for fs in [figure_set_for_path(p)] if fs is not None]

    # ==== files ================================================================================
    def add_paths(self, paths: List[str]) -> int:
        """Add files (and the supported files inside folders); returns how many were new."""
        if self.busy:
            return 0
        n = self.files.add_paths(paths)
        if not n and paths:
            from .bulk_files import supported_extensions

            self.message.show_message("No new files with text to add (supported: %s)."
                                      % esc(", ".join(supported_extensions())), "info")
        self.tabs.setCurrentIndex(TAB_FILES)
        self.update_buttons()
        return n

    def _ready_to_ask(self) -> bool:
        """No job running, some files and a model chosen; else say what is missing."""
        if self.busy:
            return False
        if not self.files.paths:
            self.message.show_message("Add some files first.", "warning",
                                      [("Add files…", self.files.choose_files)])
            return False
        if not self.models.model():
            self.message.show_message("Choose a model first.", "warning")
            self.models.combo.setFocus()
            return False
        return True

    def _leave_finished_job(self) -> None:
        """Editing the file list after a job starts a new one."""
        if self.last_result is not None or self.offered:
            self.last_result = None
            self.offered = None
            self.journal = None
            self.message.clear()
        self.update_buttons()

    # ==== topics first =========================================================================
    def find_topics(self) -> None:
        """The optional first step: the model lists the files' key topics (a checklist)."""
        if not self._ready_to_ask():
            return
        self.tabs.setCurrentIndex(TAB_TOPICS)
        self.topics.ask(get_settings(), self.spec().options, self.models.model(),
                        files=list(self.files.paths))
        self.update_buttons()

    def topics_failed(self, err: BaseException) -> None:
        self.on_error(err)

    # ==== running ==============================================================================
    def start(self) -> None:
        """Start a new job on the files in the list."""
        if not self._ready_to_ask():
            return
        if self.topics.has_topics() and not self.topics.checked_count():
            self.message.show_message("Check at least one topic, or Clear the topics to make cards "
                                      "from all of the files.", "warning")
            self.tabs.setCurrentIndex(TAB_TOPICS)
            return
        self.remember()
        spec = self.spec()
        self.offered = None
        if spec.options.kind == CardKind.OCCLUSION:
            self.occlusion.start(spec)
            return
        self._begin("Connecting to the model server…").start_job(spec)

    def resume(self, only_failed: bool = False) -> None:
        """Resume the offered (or the last) job; ``only_failed`` re-runs just its failed chunks."""
        if self.busy:
            return
        path = self.offered or (self.journal.path if self.journal is not None else None)
        if not path:
            return
        self.offered = None
        self._begin("Resuming…" if not only_failed else "Retrying the failed sections…") \
            .resume(path, only_failed)

    def _begin(self, label: str) -> BulkRunner:
        runner = BulkRunner(self.folder, get_settings(), self)
        self.review.table.thumbnails = runner.thumbnails  # the figures offered in review mode
        runner.wire(job_shown=self._on_job_shown, progress=self._on_progress, card=self._on_card,
                    chunk=self._on_chunk, finished=self._on_finished, failed=self.on_error)
        self.runner = runner
        self.last_result = None
        self.stream.reset()
        self.message.clear()
        self.progress.begin(label)
        self.tabs.setCurrentIndex(TAB_FILES)
        self.update_buttons()
        return runner

    def _on_card(self, chunk: Any, card: Any) -> None:
        """Review mode: a card just written, a row in the Review tab at once (arriving)."""
        if self.runner is None:
            return
        if not self.stream.count:  # the first card of this job: its own review
            self.review_chunks = []
            self.review.table.clear_cards()  # a new job's cards (the previous review is done)
            self.review.table.set_kind(self.options.kind())
            self.review.label.setText("Cards arrive here as the model writes them. Check, edit or "
                                      "delete them now; add them when the job has ended.")
            self.tabs.setCurrentIndex(TAB_REVIEW)
        self.stream.card(chunk, card)

    def _on_chunk(self, chunk: Any, cards: List[Any]) -> None:
        if self.runner is not None:
            self.stream.settle(chunk, cards)

    def _on_job_shown(self, journal: Journal) -> None:
        self.journal = journal
        self.files.set_paths(list(journal.state.header.get("files") or []))

    def _on_progress(self, files: List[FileStatus], p: BulkProgress) -> None:
        self.files.show_statuses(files)
        if self.runner is not None and not self.runner.cancelled:
            self.progress.show_progress(p.chunks_done, p.chunks_total, progress_line(p))

    def end(self) -> Optional[BulkRunner]:
        """The job has ended (or could not run): its runner let go, the dialog ready again (and
        closed, if it was closed meanwhile). Returns the runner."""
        runner, self.runner = self.runner, None
        if runner is not None:
            runner.deleteLater()
        self.progress.end()
        self.update_buttons()
        self.finish_closing()
        return runner

    def on_error(self, err: BaseException) -> None:
        """A failure before or outside the run (server down, model missing, collection)."""
        self.stream.leftovers(remove=True)
        self.end()
        if self.closing:
            return
        actions: List[Action] = []
        if isinstance(err, (ServerUnreachable, NotAModelServer)):
            actions = [("Retry", self._retry_last), ("Settings…", self.open_settings)]
        elif isinstance(err, ModelNotFound):
            actions = [("Settings…", self.open_settings)]
        elif self.journal is not None:
            actions = [("Resume", self.resume)]
        self.message.show_message(esc(error_text(err)), "error", actions)

    def _retry_last(self) -> None:
        if self.journal is not None and not self.journal.ended:
            self.resume()
        else:
            self.start()

    def _on_finished(self, result: Optional[BulkResult]) -> None:
        runner = self.runner
        # rows of chunks that never ended go (a resumed job asks those chunks again), unless edited
        self.stream.leftovers(remove=True)
        if result is None:  # stopped before it began
            self.end()
            self.message.show_message("Stopped before it began. Resume it any time.", "info",
                                      [("Resume", self.resume)])
            return
        self.last_result = result
        self.files.show_statuses(result.files)
        self.end()
        if self.closing:
            return
        self.coverage.fill(result)
        deck = str((self.journal.state.header.get("target") or {}).get("deck") or "") if self.journal else ""
        shown = report(result, deck)
        bound: Dict[str, Callable[[], Any]] = {
            RESUME: self.resume, SETTINGS: self.open_settings,
            RETRY_FAILED: lambda: self.resume(only_failed=True),
            SHOW_SUMMARY: lambda: self.tabs.setCurrentIndex(TAB_SUMMARY), SHOW_ADDED: self.show_added}
        self.message.show_message(shown.html, shown.level, [(t, bound[t]) for t in shown.actions])
        if result.note_ids and not result.pending and not result.cancelled and result.fatal is None:
            tooltip("Added %s." % plural(len(result.note_ids), "card"), parent=self)
        if result.pending and self.journal is not None \
                and self.journal.state.header.get("mode") == BulkMode.REVIEW.value:
            self._show_review(result, runner)
        self.update_buttons()

    def show_added(self) -> None:
        show_in_browser([NoteId(n) for n in self.last_result.note_ids] if self.last_result is not None else [])

    # ==== review mode ==========================================================================
    def _show_review(self, result: BulkResult, runner: Optional[BulkRunner]) -> None:
        journal = self.journal
        if journal is None:
            return
        from ..generator.bulk.job import BulkSpec
        from ..generator.bulk.writer import NoteWriter
        from ..generator.update.track import bulk_recording

        spec = BulkSpec.from_header(journal.state.header)
        index = runner.index() if runner is not None else BulkRunner(self.folder, get_settings()).index()

        writer = NoteWriter(journal, spec.target, spec.skip_duplicates, index,
                            on_added=bulk_recording(journal, spec.target)[0])  # what the notes came from
        self.review_writer = writer
        self.review_chunks = [r.id for r in journal.state.pending_chunks()]
        table = self.review.table
        table.review_rows.uncheck_flagged = get_settings().uncheck_flagged
        if self.stream.count or self.stream.settled:
            # The rows streamed in this run stay (with the user's edits and deletions); the cards
            # of chunks done in an earlier run are added to them.
            extra = [c for c in result.pending if c.chunk_id not in self.stream.settled]
        else:
            table.clear_cards()
            table.set_kind(spec.target.kind)
            extra = list(result.pending)
        cards = list(table.cards) + extra

        def op(col: Collection) -> None:
            writer.mark(col, cards)

        def shown(_: Any = None) -> None:
            self.pending -= 1
            if not is_alive(self):
                return
            table.add_cards(extra)
            table.refresh_marks()
            if spec.skip_duplicates:
                table.uncheck_duplicates()
            self.review.label.setText("%s from %s. Check the ones to keep, double-click to edit."
                                      % (plural(len(cards), "card"), plural(len(spec.files), "file")))
            self.tabs.setCurrentIndex(TAB_REVIEW)
            self.update_buttons()

        self.pending += 1
        run_with_collection(self, op, shown, lambda _err: shown())

    def _on_tab_changed(self, index: int) -> None:
        """The review table wants the width; the job's options are not needed while reviewing."""
        self.options.setVisible(index != TAB_REVIEW)
        if index == TAB_REVIEW and self.review.table.cards:
            QTimer.singleShot(0, self.review.table.resizeRowsToContents)  # rows for the new width

    def add_reviewed(self) -> None:
        from aqt.operations import CollectionOp

        if self.occlusion.reviewing():
            self.occlusion.add()
            return
        writer = self.review_writer
        journal = self.journal
        if writer is None or journal is None or self.busy:
            return
        keep = self.review.table.checked_cards()
        chunk_ids = list(self.review_chunks)
        holder: Dict[str, AddOutcome] = {}
        self.review.add_btn.setEnabled(False)

        def op(col: Collection) -> OpChanges:
            # (with the Image Occlusion notes offered beside the cards, in the same undo step)
            outcome = add_with_notes(col, lambda cards: writer.add_reviewed(col, cards, chunk_ids), keep,
                                     writer.target)
            holder["outcome"] = outcome
            return outcome.changes if outcome.changes is not None else OpChanges()

        def done(_changes: OpChanges) -> None:
            self.pending -= 1
            journal.finish("done")
            outcome = holder.get("outcome")
            if not is_alive(self) or outcome is None:
                return
            self.review.table.clear_cards()
            self.review_chunks = []
            if self.last_result is not None:
                self.last_result.note_ids = list(journal.state.note_ids)
                self.last_result.pending = []
                for i, f in enumerate(self.last_result.files):  # the review settled every card
                    f.account = journal.state.account_of(i)
                self.coverage.fill(self.last_result)
            n = len(outcome.note_ids)
            text = "Added %s. %s." % (plural(n, "card"), journal.state.total_account().text())
            tooltip("Added %s." % plural(n, "card"), parent=self)
            self.message.show_message(esc(text), "success" if n else "info",
                                      [("Show in Browser", self.show_added)] if n else [])
            self.update_buttons()

        def failed(err: Exception) -> None:
            self.pending -= 1
            if is_alive(self):
                self.message.show_message(esc(error_text(err)), "error")
                self.update_buttons()

        self.pending += 1
        CollectionOp(parent=self, op=op).success(done).failure(failed).run_in_background(initiator=self)

    def discard_review(self) -> None:
        if self.occlusion.reviewing():
            self.occlusion.discard()
            return
        journal = self.journal
        if journal is None or not self.review_chunks:
            return
        if not askUser("Discard all %s without adding them?" % plural(len(self.review.table.cards), "card"),
                       parent=self, defaultno=True):
            return
        journal.discard(self.review_chunks)
        journal.finish("discarded")
        self.review_chunks = []
        self.review.table.clear_cards()
        self.message.show_message("Discarded the cards.", "info")
        self.update_buttons()

    # ==== an unfinished job ====================================================================
    def check_unfinished(self) -> None:
        """Offer the newest unfinished job of this profile, if any (reads it in the background)."""
        if self.busy:
            return
        paths = [p for p in unfinished(self.folder) if self.journal is None or p != self.journal.path]
        if not paths:
            return
        path = paths[0]

        def done(journal: Journal) -> None:
            self.pending -= 1
            if is_alive(self) and not self.busy:
                self.offer(journal)

        def failed(_err: Exception) -> None:
            self.pending -= 1

        self.pending += 1
        run_network(self, lambda: read_closed(path), done, failed)

    def offer(self, journal: Journal) -> None:
        """Show an unfinished job with Resume / Discard."""
        s = journal.state.summary()
        self.journal = journal
        self.offered = journal.path
        self.files.set_paths(list(journal.state.header.get("files") or []))
        when = time.strftime("%d %b %H:%M", time.localtime(s["created"])) if s["created"] else "earlier"
        parts = ["%s of %s chunks done" % (s["chunks_done"], s["chunks_total"] or "?")]
        if s["cards_pending"]:
            parts.append("%s not added yet" % plural(s["cards_pending"], "card"))
        if s["notes_added"]:
            parts.append("%s added" % plural(s["notes_added"], "card"))
        if s["chunks_failed"]:
            parts.append("%d failed" % s["chunks_failed"])
        text = "An unfinished bulk job from %s (%s): %s." % (
            esc(when), plural(s["files"], "file"), esc(", ".join(parts)))
        self.message.show_message(text, "info", [("Resume", self.resume), ("Discard", self.discard_offered)])
        self.update_buttons()

    def discard_offered(self) -> None:
        if not self.offered or self.journal is None:
            return
        if not askUser("Discard the unfinished job? Cards already added stay in your collection; "
                       "cards not yet added are lost.", parent=self, defaultno=True):
            return
        self.journal.finish("discarded")
        self.journal = None
        self.offered = None
        self.message.clear()
        self.update_buttons()
        self.check_unfinished()

    # ==== state ================================================================================
    def update_buttons(self, *_args: Any) -> None:
        idle = not self.busy
        self.files.set_editable(idle)
        self.files.hint.setVisible(not self.files.paths)
        self.start_btn.setEnabled(idle and bool(self.files.paths))
        self.start_btn.setText("Generate again" if self.last_result is not None else "Generate")
        failed = bool(self.last_result is not None and self.last_result.failed_sections())
        self.coverage.retry_btn.setEnabled(idle and failed)
        self.review.update_buttons(idle, bool(self.review_chunks) or self.occlusion.reviewing())
        for w in (self.options.kind_combo, self.options.mapping, self.options.tags_edit, self.models,
                  self.parallel_spin, self.mode_add, self.mode_review, self.skip_known,
                  self.options.deck_widget, self.figures, self.options.focus_edit):
            w.setEnabled(idle)
        if not self.topics.running:
            self.topics.find_btn.setEnabled(idle and bool(self.files.paths))
        if self.topics.has_topics() and self.last_result is None:
            self.start_btn.setText("Generate for %s" % plural(self.topics.checked_count(), "topic"))

    # ==== closing (JobDialog) ==================================================================
    def may_close(self) -> bool:
        if self.busy:
            if not askUser("A bulk job is running. Stop it and close? What is done is kept, and "
                           "you can resume the job later.", parent=self, defaultno=True):
                return False
            self.cancel_job()
        elif self.review_chunks and self.review.table.cards:
            tooltip("The %s waiting for review are kept; you can review them later."
                    % plural(len(self.review.table.cards), "card"), parent=mw)
        return True

    def idle(self) -> bool:
        return super().idle() and not self.adder.adding

    def release(self) -> None:
        self.adder.close()
        self.options.cleanup()

    def reopen(self, *_args: Any, **_kwargs: Any) -> None:
        if not self.busy:
            self.options.refill_kinds()
            self.check_unfinished()


def _job_rows(settings: Settings) -> Tuple[QSpinBox, QRadioButton, QRadioButton, QCheckBox]:
    """The dialog's own rows of the job's options: requests at once, the adding mode, skip known."""
    parallel = QSpinBox()
    parallel.setRange(1, 16)
    parallel.setValue(settings.parallel_requests)
    parallel.setToolTip(
        "How many requests the model server gets at once. Ollama answers one at a time unless "
        "it was started with OLLAMA_NUM_PARALLEL; raise this to match that number.")
    mode_add = QRadioButton("Add cards as they come")
    mode_add.setToolTip("Each batch of cards is added while the job runs (one undo step per batch)")
    mode_review = QRadioButton("Review all cards before adding")
    mode_review.setToolTip("Nothing is added until you have checked the cards")
    (mode_review if settings.bulk_mode == BulkMode.REVIEW else mode_add).setChecked(True)
    skip_known = QCheckBox("Skip sections already added")
    skip_known.setToolTip("Sections an earlier job already made notes from (and whose "
                          "notes still exist) are not sent to the model again")
    skip_known.setChecked(settings.bulk_skip_known)
    return parallel, mode_add, mode_review, skip_known


def progress_line(p: BulkProgress) -> str:
    """The progress row's text while a job runs: chunks, cards, added, failed, time."""
    parts = []
    if p.chunks_total:
        parts.append("%d of %d%s chunks" % (p.chunks_done, p.chunks_total, "+" if p.reading else ""))
    else:
        parts.append("Reading…")
    parts.append(plural(p.cards, "card"))
    if p.added:
        parts.append("%d added" % p.added)
    if p.chunks_failed:
        parts.append("%d failed" % p.chunks_failed)
    parts.append(clock(p.elapsed) + " elapsed")
    if p.remaining is not None and p.chunks_done < p.chunks_total:
        parts.append("about %s left" % clock(p.remaining))
    return " · ".join(parts)
