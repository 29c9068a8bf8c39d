"""The Generate dialog: source → card options → model → generate (in the background) → review →
add. It only composes and connects its parts:

- ``SourcePanel`` (``source``): text, selection, files, notes;
- ``CardOptions`` (``options``): deck, card kind / note type with field mapping, tags,
  language, number of cards → the job's ``NoteTarget``;
- ``ModelPicker`` (``models``): the server's models, status line, pull offer;
- ``TopicStep`` (``topics``): "Find topics" (its own ``TopicRunner``), then a checklist of the
  source's key topics; Generate then writes cards for the checked ones only;
- ``FigureChoice`` (``figures``): pictures auto / off / slides, and whether the model can see
  the source's pictures; a ``FigureJob`` (``figure_job``) keeps the pictures cards show;
- ``ReviewTable`` (``table``), ``ProgressRow`` (``progress``), ``MessageBar`` (``message``);
- a ``GenerationRunner`` per job.

Cards stream in: each appears in the table the moment the model has written it, marked
"Arriving…" until its chunk ends; then the chunk's final list settles its rows
(``generator.job.stream.reconcile``): a row the user edited is never overwritten, a row the
user deleted stays deleted, an added row is left alone. The user may check, edit, delete and
**Add** while the job runs: Add adds what is checked at that moment (arriving rows too) and the
job goes on.

Nothing slow runs on the main thread: the model list and file reading are
``QueryOp(...).without_collection()``; generation, pulls and regenerate-one (minutes) run on
a worker via ``common.run_long`` (a QueryOp would blank the Browser's rows for that long);
the duplicate check is a read-only QueryOp; adding is a ``CollectionOp`` (one undo step).
Every engine error is shown in the message bar (``describe(err)``), never as a traceback.

Each generation is a run of its own in the table: its duplicate check looks at its own cards
(and the collection), never at rows left from an earlier run. Added rows stay, marked; when an
undo removes their notes, they can be added again.

The dialog does not open other dialogs itself: ``open_bulk`` and ``open_settings`` are given
to it (ui/launch.py)."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from anki.collection import Collection, OpChanges
from anki.notes import NoteId
from aqt import gui_hooks, mw
from aqt.qt import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QKeyEvent,
    QLabel,
    QPushButton,
    QResizeEvent,
    QScrollArea,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from aqt.utils import askUser, tooltip

from ..generator.cards.card import CLOZE, Card
from ..generator.job.chunk import Chunk
from ..generator.errors import ModelNotFound, NotAModelServer, ServerUnreachable, one_line
from .card_options import CardOptions
from .common import (
    button,
    ensure_log,
    error_text,
    esc,
    fit_splitter,
    get_settings,
    is_alive,
    plural,
    run_long,
    run_with_collection,
    save_config,
    show_in_browser,
    splitter_layout,
)
from .figure_widgets import FigureChoice, FigureJob, after, figure_sets
from .generate_runner import FROM_NOTE_TAG, GenerationInput, GenerationOutcome, GenerationRunner
from .job_dialog import JobDialog
from .message_bar import Action, MessageBar
from .model_picker import ModelPicker
from .progress_row import ProgressRow
from .review import ReviewTable
from .source_panel import SourcePanel
from .stream_rows import StreamedRows
from .topic_step import TopicStep

RECHECK_SIMILAR_FOR = 1800.0  # seconds a finished job waits for the notes' embeddings

if TYPE_CHECKING:  # the engine's job modules are imported on a worker (ModelPicker.refresh)
    from ..generator.job.run import JobOptions, Progress
    from ..generator.notes.add import AddResult, NoteTarget
    from ..generator.job.stream import LiveDuplicates
    from ..generator.job.topics import Topic

DIALOG_NAME = "OllamaFlashcardsGenerate"
TITLE = "Generate Flashcards"
OpenSettings = Callable[[QWidget, Callable[[], None]], Any]


class GenerateDialog(JobDialog):
    def __init__(self, parent: Optional[QWidget], open_bulk: Callable[[], Any],
                 open_settings: OpenSettings, **source: Any) -> None:
        super().__init__(parent or mw, DIALOG_NAME, "ollamaFlashcardsGenerate")
        self.setWindowTitle(TITLE)
        self.setObjectName("OllamaFlashcardsGenerate")
        ensure_log()
        problems: List[str] = []
        settings = get_settings(problems)
        self.col: Collection = mw.col
        self._open_bulk = open_bulk
        self._open_settings = open_settings
        self.runner: Optional[GenerationRunner] = None
        self.run_no = 0  # the current (or last) generation
        self.job_started = 0.0
        self.job_options: Optional[JobOptions] = None  # as prepared, for regenerate-one
        self.chunks: Dict[str, Chunk] = {}  # chunk id -> Chunk, for regenerate-one
        self.last_added: List[NoteId] = []  # note ids of the last "Add"
        self.added_at = 0.0  # when (time.monotonic()) the last "Add" was done
        self.end_message = -1  # MessageBar.serial of the last job's own message
        self.last_result: Any = None  # JobResult of the last job
        self.pending = 0  # background checks still running (duplicates, regenerate, add)
        self.last_progress: Optional[Progress] = None  # repainted when a streamed row arrives
        self._update_due = False
        self._added_pictures: List[str] = []  # what writing the cards' pictures said

        outer, self.splitter = splitter_layout(self)
        self.message = MessageBar(self)
        self.progress = ProgressRow("Stop generating; the cards made so far stay in the list")
        self.topics = TopicStep(self.progress, self.message)
        self.source = SourcePanel()
        self.options = CardOptions(self.col, settings)
        self.models = ModelPicker(self.message, self.open_settings)
        self.models.set_model(settings.model)
        self.table = ReviewTable()
        self.stream = StreamedRows(self.table, lambda: self.run_no)  # rows as cards are written
        self.figures = FigureChoice(settings)
        self.figure_job = FigureJob()
        self.figure_notes: List[str] = []
        self.table.thumbnails = self.figure_job.thumbnails

        # -- left: source, options, model; in a scroll area for small windows
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 6, 0)
        lv.addWidget(self.source, 1)
        topics_box = QGroupBox("Topics")
        QVBoxLayout(topics_box).addWidget(self.topics)
        lv.addWidget(topics_box)
        lv.addWidget(self.options)
        model_box = QGroupBox("Model")
        model_layout = QVBoxLayout(model_box)
        model_layout.addWidget(self.models)
        model_layout.addWidget(self.figures)
        lv.addWidget(model_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(left)
        scroll.setMinimumWidth(300)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.splitter.addWidget(scroll)

        # -- right: the review table
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(6, 0, 0, 0)
        head = QHBoxLayout()
        self.cards_label = QLabel("<b>Cards</b>")
        head.addWidget(self.cards_label)
        head.addStretch(1)
        self.select_all_btn = button("Select all", lambda: self.table.set_all_checked(True))
        self.select_none_btn = button("Select none", lambda: self.table.set_all_checked(False))
        self.regenerate_btn = button("Regenerate", self.regenerate_selected)
        self.regenerate_btn.setToolTip("Ask the model for a new card in place of the selected one")
        self.delete_btn = button("Delete", self.delete_selected)
        self.delete_btn.setToolTip("Remove the selected cards from the list (Del)")
        for b in (self.select_all_btn, self.select_none_btn, self.regenerate_btn, self.delete_btn):
            head.addWidget(b)
        rv.addLayout(head)
        self.table.setMinimumHeight(160)
        rv.addWidget(self.table, 1)
        self.empty_hint = QLabel(
            "Generated cards appear here. Check the ones to keep, double-click to edit, "
            "hover for the passage each card came from.")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setEnabled(False)
        rv.addWidget(self.empty_hint)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([420, 580])

        outer.addWidget(self.progress)
        outer.addWidget(self.message)
        buttons = QHBoxLayout()
        self.bulk_btn = button("Bulk Generate from Files…", self._open_bulk)
        self.settings_btn = button("Settings…", self.open_settings)
        buttons.addWidget(self.bulk_btn)
        buttons.addWidget(self.settings_btn)
        buttons.addStretch(1)
        self.generate_btn = QPushButton("Generate")
        self.generate_btn.setDefault(True)
        self.generate_btn.clicked.connect(lambda _c=False: self.generate())
        self.add_btn = button("Add 0 cards", self.add_checked)
        self.close_btn = button("Close", self.close)
        for b in (self.generate_btn, self.add_btn, self.close_btn):
            buttons.addWidget(b)
        outer.addLayout(buttons)

        # -- wiring
        self.source.changed.connect(self._on_source_changed)
        self.topics.find_requested.connect(self.find_topics)
        self.topics.changed.connect(self._update_buttons)
        self.topics.ended.connect(self._update_buttons)
        self.topics.failed.connect(lambda err: self._show_engine_error(err, kept=0))
        self.source.busy_changed.connect(self._on_source_busy)
        self.source.problem.connect(self._on_source_problem)
        self.options.kind_changed.connect(self.table.set_kind)
        self.models.changed.connect(self._update_buttons)
        self._figure_check = after(self, 400, self.check_figures)
        for signal in (self.models.changed, self.source.changed, self.figures.changed):
            signal.connect(self._figure_check.start)
        self.table.checked_changed.connect(self._update_buttons)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.progress.cancel_requested.connect(self.cancel_job)
        gui_hooks.operation_did_execute.append(self._on_operation)

        self.table.set_kind(self.options.kind())
        self.restore_geometry(1000, 680)
        self.set_source(**source)
        self._update_buttons()
        if problems:
            self.message.show_message("<br>".join(esc(p) for p in problems), "warning",
                                      [("Settings…", self.open_settings)], topic="config")
        self.models.refresh()

    # ==== source ===============================================================================
    def set_source(self, text: str = "", source_name: str = "", documents: Optional[List[Any]] = None,
                   note_refs: Optional[Dict[str, NoteId]] = None, deck_id: Optional[int] = None,
                   kind: Optional[str] = None, notetype: Optional[str] = None, label: str = "") -> None:
        """Fill the source (text from a selection, or documents from files or notes) and,
        optionally, the target deck and card kind."""
        if documents:
            self.source.set_documents(documents, label, note_refs)
        else:
            self.source.set_text(text, source_name, label)
        if deck_id:
            self.options.set_deck(deck_id)
        if kind or notetype:
            self.options.select_kind(kind or "basic", notetype or "")

    def _on_source_changed(self, *_args: Any) -> None:
        self.topics.source_changed()
        self._update_buttons()

    def _on_source_busy(self, reading: bool) -> None:
        self._update_buttons()

    def _on_source_problem(self, html: str) -> None:
        if html:
            self.message.show_message(html, "error")
        else:
            self.message.clear()

    # ==== generating ===========================================================================
    @property
    def busy(self) -> bool:
        """A generation job (or the topic step) is running."""
        return self.runner is not None or self.topics.running

    adding = False  # an add is in progress

    def _job_options(self, model: str) -> Any:
        from ..generator.job.run import JobOptions

        settings = self.remember()
        ensure_log()
        return settings, JobOptions.from_config(settings, model=model, kind=self.options.kind(),
                                                language=self.options.language(),
                                                max_cards=self.options.max_cards(),
                                                focus=self.options.focus(),
                                                depth=self.options.card_depth(),
                                                figures=self.figures.mode().value)

    def _documents(self) -> Optional[List[Any]]:
        if not self.models.model():
            self.message.show_message("Choose a model first.", "warning")
            return None
        try:
            return self.source.documents()
        except Exception as e:
            self.message.show_message(esc(error_text(e)), "warning")
            return None

    def generate(self) -> None:
        if self.busy:
            return
        documents = self._documents()
        if documents is None:
            return
        model = self.models.model()
        topics: Optional[List[Topic]] = self.topics.chosen()
        if topics is not None and not any(t.checked for t in topics):
            self.message.show_message("Check at least one topic, or Clear the topics to make cards "
                                      "from the whole text.", "warning")
            return
        settings, options = self._job_options(model)
        self.table.review_rows.uncheck_flagged = settings.uncheck_flagged
        target = self.options.target()
        self.run_no += 1
        self.stream.reset()
        self.figure_notes = []
        self.job_started = time.monotonic()
        self.message.clear()
        self.progress.begin("Asking %s…" % model)
        from .similar_cache import CACHE

        similar = CACHE.get(settings)  # duplicates by meaning, when an embed_model is set
        CACHE.start_build(settings)  # new and edited notes, in the background
        self.table.review_rows.uncheck_similar = settings.skip_similar
        source = GenerationInput(documents, self.source.note_refs(), topics,
                                 self.topics.chunks if topics else None)
        runner = GenerationRunner(settings, options, source, self, similar=similar, figures=self.figure_job)
        runner.planned.connect(self._on_planned)
        runner.figure_notes.connect(self._on_figure_notes)
        runner.progress.connect(self._on_progress)
        runner.card.connect(self._on_card)
        runner.chunk.connect(self._on_chunk)
        runner.finished.connect(self._on_job_done)
        runner.failed.connect(self._on_job_failed)
        self.runner = runner
        self._update_buttons()
        from ..generator.job.stream import LiveDuplicates

        def start(duplicates: Optional[LiveDuplicates]) -> None:
            if is_alive(runner):
                runner.duplicates = duplicates
                runner.start()  # (cancelled meanwhile: it stops at once, keeping nothing)

        def failed(err: Exception) -> None:  # a note type or mapping the add would refuse too
            if is_alive(self) and self.runner is runner:
                self._finish_job()
                self.message.show_message(esc(error_text(err)), "error")

        # The keys of the notes already there, read once: each card is marked as it arrives.
        run_with_collection(self, lambda col: LiveDuplicates.for_target(col, target), start, failed)

    def check_figures(self) -> None:
        """Whether the chosen model will see the source's pictures (in the background)."""
        if not is_alive(self) or self.source.reading:
            return
        docs = self.source.documents() if self.source.has_documents() else []
        self.figures.check(get_settings(), self.models.model(), figure_sets(docs))

    def _on_figure_notes(self, notes: List[str]) -> None:
        self.figure_notes = list(notes)
        self.message.show_message("<br>".join(esc(n) for n in notes), "warning", topic="figures")

    def _figure_notes_html(self) -> str:
        return "".join("<br>" + esc(n) for n in self.figure_notes)

    def _on_planned(self, n: int) -> None:
        if self.runner is not None:
            self.progress.show_progress(0, max(1, n), "Chunk 1 of %d · 0 cards" % n if n else "Nothing to do")

    def _on_progress(self, p: Progress) -> None:
        if self.runner is None:
            return
        self.last_progress = p
        current = min(p.chunks_done + 1, p.chunks_total) if p.chunks_total else p.chunks_done + 1
        parts = ["Chunk %d of %d" % (current, p.chunks_total) if p.chunks_total
                 else "Chunk %d" % current, plural(max(p.cards, self.stream.count), "card")]
        if p.tokens_per_s:
            parts.append("%.0f tokens/s" % p.tokens_per_s)
        if p.failed:
            parts.append("%d failed" % p.failed)
        if self.runner.cancelled:
            parts.insert(0, "Stopping…")
        self.progress.show_progress(p.chunks_done, p.chunks_total, " · ".join(parts), p.label or "")


    def _on_card(self, chunk: Chunk, card: Card) -> None:
        """A card the model has just written: a row at once, marked as arriving."""
        if self.runner is not None:
            self.stream.card(chunk, card)
            self._update_soon()

    def _on_chunk(self, chunk: Chunk, cards: List[Card]) -> None:
        """A chunk has ended: its final list settles the rows streamed for it."""
        self.chunks[chunk.id] = chunk
        self.stream.settle(chunk, cards)
        self._update_soon()

    def _update_soon(self) -> None:
        """Refresh the buttons and the progress line at most every 100 ms while cards stream."""
        if self._update_due:
            return
        self._update_due = True

        def update() -> None:
            self._update_due = False
            if not is_alive(self):
                return
            self._update_buttons()
            if self.last_progress is not None and self.runner is not None:
                self._on_progress(self.last_progress)

        QTimer.singleShot(100, update)

    def _deliver(self, cards: List[Card]) -> None:
        """Cards of the job not in the table yet (every chunk's are, unless a signal was lost)."""
        fresh = [c for c in cards if id(c) not in self.stream.seen]
        self.stream.seen.update((id(c), c) for c in fresh)
        self.table.add_cards(fresh, self.run_no)
        self._update_buttons()

    def _on_job_done(self, outcome: GenerationOutcome) -> None:
        result = outcome.result
        similar_error = self.runner.similar_error if self.runner is not None else ""
        self.job_options = outcome.options
        self.chunks.update(outcome.chunks)
        self.last_result = result
        self._deliver(result.cards)
        self.stream.leftovers()
        self._finish_job()
        # (rows streamed from a part that never ended, e.g. on Cancel, are kept too)
        n = max(len(result.cards), len(self.table.review_rows.cards_of_run(self.run_no)))
        if result.fatal is not None:
            self._show_engine_error(result.fatal, kept=n)
        elif result.cancelled:
            self.message.show_message("Cancelled. Kept the %s made so far." % plural(n, "card"), "info")
        elif result.failures:
            first = result.failures[0]
            self.message.show_message(
                "%s of %s failed: %s.%s" % (
                    plural(len(result.failures), "part"), result.chunks_total or len(outcome.chunks),
                    esc(first.message.rstrip(".")),
                    "" if not n else " The other parts gave %s." % plural(n, "card")),
                "warning", [("Retry", self.generate)])
        elif n == 0:
            self.message.show_message("The model made no cards from this text. Try a longer text, "
                                      "another model, or a different number of cards."
                                      + self._figure_notes_html(), "warning")
        elif result.warnings:  # cards kept from a cut answer, a cut field: say so, and what to change
            more = len(result.warnings) - 1
            self.message.show_message(
                "Made %s, but: %s%s" % (plural(n, "card"), esc(one_line(result.warnings[0].message)),
                                         " (and %s)" % plural(more, "more warning") if more else ""),
                "warning", [("Retry", self.generate)])
        else:
            similar = sum(1 for c in result.cards if c.similar_to is not None)
            self.message.show_message(
                "Made %s in %.0f s. Check them, then add them.%s%s" % (
                    plural(n, "card"), time.monotonic() - self.job_started,
                    " %s in meaning to notes you have (see Status)." % plural(
                        similar, "card is similar", "cards are similar") if similar else "",
                    " Similar cards were not checked: %s" % esc(similar_error) if similar_error else "")
                + self._figure_notes_html(),
                "warning" if similar_error or self.figure_notes else "success")
        self._keep_added_in_reach()
        self.end_message = self.message.serial
        if n:
            self.check_duplicates(self.run_no)
            self._recheck_similar(self.run_no)

    def _follow_up(self, text: str, level: str) -> None:
        """A background check's news after a job: added to the job's own message while the bar
        still shows it (its summary and actions, e.g. Retry, stay), else a message of its own,
        with the cards added meanwhile still in reach."""
        if self.message.serial == self.end_message:
            self.message.extend(" " + text)
        else:
            self.message.show_message(text, level)
            self._keep_added_in_reach()

    def _keep_added_in_reach(self) -> None:
        """Cards added while this job ran stay one click away when a later message (the job's
        end, its duplicate check) takes the bar: their count and "Show in Browser" go with it."""
        if (self.last_added and self.added_at >= self.job_started
                and "Show in Browser" not in self.message.action_titles()):
            self.message.extend(" Added %s." % plural(len(self.last_added), "card"),
                                [("Show in Browser", self.show_added)])

    def _recheck_similar(self, run: int, waited: float = 0.0) -> None:
        """Cards made while the notes' embeddings were still being built in the background are
        compared again once the build is done (the rows that turn out similar get unchecked)."""
        from .similar_cache import CACHE

        if not is_alive(self) or CACHE.similar is None or (waited == 0.0 and not CACHE.building):
            return
        if CACHE.building:
            if waited < RECHECK_SIMILAR_FOR:
                QTimer.singleShot(500, lambda: self._recheck_similar(run, waited + 0.5))
            return
        similar = CACHE.similar
        cards = [c for c in self.table.review_rows.cards_of_run(run) if c.similar_to is None]
        if not cards:
            return

        def done(marked: int) -> None:
            if is_alive(self) and marked:
                n = self.table.show_similar(cards)
                tooltip("%s similar in meaning to notes you have%s." % (
                    plural(marked, "card is", "cards are"), ": unchecked" if n else ""), parent=self)

        run_long(lambda: similar.mark(cards), done, lambda _err: None)

    def _on_job_failed(self, err: BaseException) -> None:
        self.stream.leftovers()
        self._finish_job()
        self._show_engine_error(err, kept=0)
        self._keep_added_in_reach()

    def _finish_job(self) -> None:
        if self.runner is not None:
            self.runner.deleteLater()
        self.runner = None
        self.last_progress = None
        self.progress.end()
        self._update_buttons()

    def _show_engine_error(self, err: BaseException, kept: int) -> None:
        text = esc(error_text(err))
        if kept:
            text += "<br>Kept the %s made before that." % plural(kept, "card")
        actions: List[Action] = []
        if isinstance(err, ModelNotFound):
            model = getattr(err, "model", "") or self.models.model()
            actions.append(("Pull %s" % model, lambda: self.models.pull(model)))
        elif isinstance(err, (ServerUnreachable, NotAModelServer)):
            self.models.server_failed(err)

            def retry() -> None:
                self.models.refresh()
                self.generate()

            actions.append(("Retry", retry))
            actions.append(("Settings…", self.open_settings))
        else:
            actions.append(("Retry", self.generate))
        self.message.show_message(text, "error", actions)

    def cancel_job(self) -> None:
        if self.runner is not None:
            self.runner.cancel()
            self.progress.stopping("Stopping… (the cards made so far stay)")
        self.topics.cancel()

    # ==== topics first =========================================================================
    def find_topics(self) -> None:
        """The optional first step: the model lists the source's key topics (a checklist)."""
        if self.busy:
            return
        documents = self._documents()
        if documents is None:
            return
        model = self.models.model()
        settings, options = self._job_options(model)
        self.topics.ask(settings, options, model, documents=documents)
        self._update_buttons()

    # ==== review ===============================================================================
    def check_duplicates(self, run: int) -> None:
        """Mark one run's duplicates against the collection and within the run (a read in the
        background), and uncheck them when the settings say to skip duplicates."""
        from ..generator.notes.add import mark_duplicates

        cards = self.table.review_rows.cards_of_run(run)
        target = self.options.target()
        skip = get_settings().skip_duplicates

        def op(col: Collection) -> None:
            mark_duplicates(col, cards, target)

        def done(_: None) -> None:
            self.pending -= 1
            if not is_alive(self):
                return
            self.table.refresh_marks()
            if skip:
                self.table.uncheck_duplicates()  # (most were unchecked as they arrived)
                n = sum(1 for c in cards if c.duplicate and not self.table.review_rows.is_added(c)
                        and self.table.row_of(c) >= 0)
                if n:
                    self._follow_up(
                        "%s already in your collection (or twice in the list): unchecked. "
                        "Check them again to add them anyway." % plural(n, "card looks", "cards look"),
                        "info")
            self._update_buttons()

        def failed(err: Exception) -> None:
            self.pending -= 1
            if is_alive(self):
                self._follow_up(esc(error_text(err)), "warning")

        self.pending += 1
        run_with_collection(self, op, done, failed)

    def delete_selected(self) -> None:
        cards = self.table.selected_cards()
        if cards:
            self.table.remove_cards(cards)
            self._update_buttons()

    def regenerate_selected(self) -> None:
        for card in self.table.selected_cards()[:5]:
            if not self.table.review_rows.is_added(card):
                self.regenerate(card)

    def regenerate(self, card: Card) -> None:
        from ..generator.backends import make_backend
        from ..generator.job.run import regenerate_card

        chunk = self.chunks.get(card.chunk_id)
        options = self.job_options
        if chunk is None or options is None:
            self.message.show_message("This card cannot be regenerated: its source passage is "
                                      "not known any more.", "warning")
            return
        if id(card) in self.table.review_rows.busy:
            return
        settings = get_settings()
        self.table.set_busy(card, "Regenerating…")
        nid = self.source.note_refs().get(chunk.document)
        run = self.table.review_rows.run_of(card, self.run_no)

        def op() -> Optional[Card]:
            backend = make_backend(settings)
            try:
                new = regenerate_card(card, chunk, backend, options)
                self.figure_job.make_thumbnails([new] if new is not None else [])
                return new
            finally:
                backend.close()

        def done(new: Optional[Card]) -> None:
            self.pending -= 1
            if not is_alive(self):
                return
            self.table.set_busy(card, None)
            if new is None:
                self.message.show_message("The model gave no other card for this passage.", "info")
                return
            if nid:
                new.tags.append(FROM_NOTE_TAG % nid)
            self.table.replace_card(card, new)
            self.check_duplicates(run)

        def failed(err: Exception) -> None:
            self.pending -= 1
            if is_alive(self):
                self.table.set_busy(card, None)
                self._show_engine_error(err, kept=0)

        self.pending += 1
        run_long(op, done, failed)

    # ==== adding ===============================================================================
    def add_checked(self) -> None:
        from aqt.operations import CollectionOp

        from ..generator.notes.add import add_cards

        cards = self.table.checked_cards()
        if not cards:
            return
        target = self.options.target()
        mismatched = [c for c in cards if (c.kind == CLOZE) != (target.kind == CLOZE)]
        if mismatched:
            made = "cloze" if mismatched[0].kind == CLOZE else "question/answer"
            self.message.show_message(
                "%s made as %s cards, and the card kind is now %s. Choose a matching card "
                "kind, or generate them again." % (
                    plural(len(mismatched), "card was", "cards were"), made,
                    esc(self.options.kind_title())), "warning")
            return
        self.remember()
        holder: Dict[str, Any] = {}
        self.adding = True
        self.add_btn.setEnabled(False)

        def op(col: Collection) -> OpChanges:
            holder["pictures"] = self.figure_job.write(col, cards)  # before the notes that show them
            # The user's checkboxes decide: a checked duplicate was checked on purpose.
            result = add_cards(col, cards, target, skip_duplicates=False)
            holder["result"] = result
            return result.changes

        def done(_changes: OpChanges) -> None:
            self.pending -= 1
            self.adding = False
            result = holder.get("result")
            if result is not None and is_alive(self):
                self._added_pictures = holder.get("pictures") or []
                self._on_added(result, target)

        def failed(err: Exception) -> None:
            self.pending -= 1
            self.adding = False
            if is_alive(self):
                self._update_buttons()
                self.message.show_message(esc(error_text(err)), "error")

        self.pending += 1
        CollectionOp(parent=self, op=op).success(done).failure(failed).run_in_background(initiator=self)

    def _on_added(self, result: AddResult, target: NoteTarget) -> None:
        self.table.mark_added([(card, NoteId(nid)) for card, nid in result.added])
        for card, reason in result.skipped:
            self.table.set_not_added(card, reason)
        self.last_added = [NoteId(n) for n in result.note_ids]
        self.added_at = time.monotonic()
        n = len(result.note_ids)
        text = "Added %s to <b>%s</b>." % (plural(n, "card"), esc(target.deck))
        if result.skipped:
            text += " %s not added (see the list)." % plural(len(result.skipped), "card was", "cards were")
        for line in self._added_pictures:
            text += "<br>" + esc(line)
        tooltip("Added %s to %s." % (plural(n, "card"), esc(target.deck)), parent=self)
        actions: List[Action] = [("Show in Browser", self.show_added)] if n else []
        self.message.show_message(text, "success" if n else "warning", actions)
        self._update_buttons()

    def show_added(self) -> None:
        show_in_browser(self.last_added)

    def _on_operation(self, changes: OpChanges, handler: Optional[object]) -> None:
        """After any change to the notes (e.g. Edit → Undo): added rows whose notes are gone
        can be added again."""
        if not is_alive(self) or not changes.note:
            return
        added = self.table.review_rows.added_note_ids()
        if not added or self.col is None:
            return
        existing = set(self.col.find_notes("nid:" + ",".join(str(n) for n in added)))
        gone = [n for n in added if n not in existing]
        if gone:
            undone = set(gone)
            self.last_added = [n for n in self.last_added if n not in undone]
        if gone and self.table.unmark_added(gone):
            self.message.show_message(
                "%s no longer in your collection (undone): back in the list to add again."
                % plural(len(gone), "added card is", "added cards are"), "info")
            self._update_buttons()

    # ==== other dialogs and settings ===========================================================
    def open_settings(self) -> None:
        self._open_settings(self, self._on_settings_saved)

    def _on_settings_saved(self) -> None:
        if is_alive(self):
            self.message.clear("server")
            self.message.clear("model")
            self.message.clear("config")
            self.models.refresh()

    def remember(self) -> Any:
        """Store the choices for next time; returns the settings now in force."""
        changes = self.options.choices()
        changes.update(self.figures.choices())
        if self.models.model():
            changes["model"] = self.models.model()
        return save_config(changes)

    # ==== state ================================================================================
    def _update_buttons(self, *_args: Any) -> None:
        busy = self.busy
        n = len(self.table.checked_cards())
        total = len(self.table.rows)
        self.add_btn.setText("Add %s" % plural(n, "card"))
        self.add_btn.setEnabled(n > 0 and not self.adding)  # also while the job runs
        self.add_btn.setToolTip("Add the checked cards now; a running job goes on" if self.runner
                                else "Add the checked cards to the deck (one undo step)")
        self.generate_btn.setEnabled(not busy and not self.models.pulling and self.source.has_source())
        chosen = self.topics.checked_count() if self.topics.has_topics() else 0
        self.generate_btn.setText("Generate for %s" % plural(chosen, "topic") if self.topics.has_topics()
                                  else "Generate")
        self.generate_btn.setDefault(n == 0)
        self.add_btn.setDefault(n > 0 and not busy)
        self.source.open_btn.setEnabled(not busy and not self.source.reading)
        self.topics.find_btn.setEnabled(not busy and not self.models.pulling and self.source.has_source())
        has_selection = bool(self.table.selectedIndexes())
        self.delete_btn.setEnabled(has_selection)
        self.regenerate_btn.setEnabled(has_selection and self.job_options is not None and not busy)
        self.select_all_btn.setEnabled(total > 0)
        self.select_none_btn.setEnabled(total > 0)
        self.cards_label.setText("<b>Cards</b> (%d of %d checked)" % (n, len(self.table.cards))
                                 if total else "<b>Cards</b>")
        self.empty_hint.setVisible(total == 0)

    def idle(self) -> bool:
        """Nothing running in the background for this dialog (tests wait for this)."""
        return (not self.busy and not self.models.busy() and not self.source.reading
                and self.pending == 0 and not self.figures.checking)

    def unsaved_count(self) -> int:
        return len(self.table.checked_cards())

    def keyPressEvent(self, event: Optional[QKeyEvent]) -> None:
        if event is not None and event.key() == Qt.Key.Key_Delete and self.table.hasFocus():
            self.delete_selected()
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event: Optional[QResizeEvent]) -> None:
        fit_splitter(self.splitter, self.width(), 820)
        super().resizeEvent(event)

    # ==== closing (JobDialog) ==================================================================
    def may_close(self) -> bool:
        """Ask before throwing away a running job or cards not added yet."""
        if self.runner is not None:
            made = self.stream.count
            if not askUser("Cards are still being generated (%s so far). Stop and close, "
                           "discarding them?" % plural(made, "card"), parent=self, defaultno=True):
                return False
            self.cancel_job()
        elif self.unsaved_count():
            n = self.unsaved_count()
            if not askUser("%s not been added. Close and discard %s?" % (
                    plural(n, "checked card has", "checked cards have"), "it" if n == 1 else "them"),
                    parent=self, defaultno=True):
                return False
        return True

    def stop_background(self) -> None:
        self.models.cancel_pull()
        if self.runner is not None:
            self.runner.cancel()
        self.topics.cancel()

    def release(self) -> None:
        gui_hooks.operation_did_execute.remove(self._on_operation)
        self.options.cleanup()
        self.figure_job.close()

    def reopen(self, *_args: Any, **source: Any) -> None:
        """aqt.dialogs.open() on an open dialog: take the new source unless a job is running."""
        if source and any(source.values()):
            if self.busy:
                tooltip("Finish or cancel the current generation first.", parent=self)
                return
            self.set_source(**source)
            self.message.clear()

