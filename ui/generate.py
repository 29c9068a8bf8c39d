"""The Generate dialog: source → card options → model → generate (in the background) → review →
add. It only composes and connects its parts:

- ``SourcePanel`` (``source``): text, selection, files, notes;
- ``CardOptions`` (``options``): deck, card kind / note type with field mapping, tags,
  language, number of cards → the job's ``NoteTarget``;
- ``ModelPicker`` (``models``): the server's models, status line, pull offer;
- ``TopicStep`` (``topics``): "Find topics" (its own ``TopicRunner``), then a checklist of the
  source's key topics; Generate then writes cards for the checked ones only;
- ``FigureChoice`` (``figures``): figures auto / off / slides, and whether the model can see
  the source's figures; a ``FigureJob`` (``figure_job``) keeps the figures cards show;
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
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from anki.collection import Collection
from anki.notes import NoteId
from aqt import mw
from aqt.qt import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QKeyEvent,
    QLabel,
    QPushButton,
    QScrollArea,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from aqt.utils import askUser, tooltip

from ..generator.cards.card import CLOZE, Card
from ..generator.errors import ModelNotFound, NotAModelServer, ServerUnreachable, one_line
from ..generator.job.chunk import Chunk
from .card_adder import CardAdder
from .card_options import CardOptions
from .common import (
    button,
    ensure_log,
    error_text,
    esc,
    get_settings,
    is_alive,
    plural,
    run_long,
    run_with_collection,
    save_config,
)
from .figure_widgets import FigureJob, figure_sets
from .generate_runner import FROM_NOTE_TAG, GenerationInput, GenerationOutcome, GenerationRunner
from .job_dialog import DialogSpec, JobDialog, OpenSettings
from .message_bar import Action
from .review import ReviewTable
from .source_panel import SourcePanel
from .stream_rows import StreamedRows

RECHECK_SIMILAR_FOR = 1800.0  # seconds a finished job waits for the notes' embeddings

if TYPE_CHECKING:  # the engine's job modules are imported on a worker (ModelPicker.refresh)
    from ..generator.images.figure import FigureSet
    from ..generator.job.reports import Progress
    from ..generator.job.run import JobOptions, JobResult
    from ..generator.job.stream import LiveDuplicates
    from ..generator.sources.document import Document

DIALOG_NAME = "OllamaFlashcardsGenerate"
TITLE = "Generate Flashcards"


class GenerateDialog(JobDialog):
    SPEC = DialogSpec(DIALOG_NAME, "ollamaFlashcardsGenerate", (1000, 680), 820,
                      "Stop generating; the cards made so far stay in the list",
                      "Stopping… (the cards made so far stay)")

    def __init__(self, parent: Optional[QWidget], open_bulk: Callable[[], Any],
                 open_settings: OpenSettings, **source: Any) -> None:
        problems: List[str] = []
        settings = get_settings(problems)
        super().__init__(parent or mw, open_settings, settings)
        self.setWindowTitle(TITLE)
        ensure_log()
        self.col: Collection = mw.col
        self._open_bulk = open_bulk
        self.runner: Optional[GenerationRunner] = None
        self.run_no = 0  # the current (or last) generation
        self.job_started = 0.0
        self.job_options: Optional[JobOptions] = None  # as prepared, for regenerate-one
        self.chunks: Dict[str, Chunk] = {}  # chunk id -> Chunk, for regenerate-one
        self.end_message = -1  # MessageBar.serial of the last job's own message
        self.last_result: Optional[JobResult] = None
        self.last_progress: Optional[Progress] = None  # repainted as streamed rows arrive
        self.figure_notes: List[str] = []  # what the last job's plan said about the figures
        self.source = SourcePanel()
        self.options = CardOptions(self.col, settings)
        self.table = ReviewTable()
        self.stream = StreamedRows(self.table, lambda: self.run_no, self._on_progress)
        self.figure_job = FigureJob()
        self.table.thumbnails = self.figure_job.thumbnails
        self.adder = CardAdder(self, self.table, self.message, self.figure_job, self.update_buttons)
        self.cards_label = QLabel("<b>Cards</b>")
        self.empty_hint = QLabel("Generated cards appear here. Check the ones to keep, double-click "
                                 "to edit, hover for the passage each card came from.")
        self.select_all_btn, self.select_none_btn, self.regenerate_btn, self.delete_btn = \
            self._table_buttons()
        self.bulk_btn, self.settings_btn, self.generate_btn, self.add_btn, self.close_btn = \
            self._dialog_buttons()
        self.splitter.addWidget(self._left_column())
        self.splitter.addWidget(self._review_side())
        self._connect()
        self._show_first(problems, source)

    # ==== setting up ===========================================================================
    def _table_buttons(self) -> Tuple[QPushButton, ...]:
        regenerate = button("Regenerate", self.regenerate_selected)
        regenerate.setToolTip("Ask the model for a new card in place of the selected one")
        delete = button("Delete", self.delete_selected)
        delete.setToolTip("Remove the selected cards from the list (Del)")
        return (button("Select all", lambda: self.table.set_all_checked(True)),
                button("Select none", lambda: self.table.set_all_checked(False)), regenerate, delete)

    def _dialog_buttons(self) -> Tuple[QPushButton, ...]:
        generate = QPushButton("Generate")
        generate.setDefault(True)
        generate.clicked.connect(lambda _c=False: self.generate())
        return (button("Bulk Generate from Files…", self._open_bulk),
                button("Settings…", self.open_settings), generate,
                button("Add 0 cards", self.add_checked), button("Close", self.close))

    def _left_column(self) -> QScrollArea:
        """Source, topics, card options, model; in a scroll area for small windows."""
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 6, 0)
        lv.addWidget(self.source, 1)
        lv.addWidget(self.highlight_choice)
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
        return scroll

    def _review_side(self) -> QWidget:
        """The review table with its buttons; below the splitter the job's rows and buttons."""
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(6, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.cards_label)
        head.addStretch(1)
        for b in (self.select_all_btn, self.select_none_btn, self.regenerate_btn, self.delete_btn):
            head.addWidget(b)
        rv.addLayout(head)
        self.table.setMinimumHeight(160)
        rv.addWidget(self.table, 1)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setEnabled(False)
        rv.addWidget(self.empty_hint)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([420, 580])
        self.lay_out_bottom([self.bulk_btn, self.settings_btn],
                            [self.generate_btn, self.add_btn, self.close_btn])
        return right

    def _connect(self) -> None:
        self.connect_parts(self.source.changed)
        self.highlight_choice.follow(self.source)
        self.source.changed.connect(self.update_buttons)
        self.source.busy_changed.connect(self.update_buttons)
        self.source.problem.connect(
            lambda html: self.message.show_message(html, "error") if html else self.message.clear())
        self.options.kind_changed.connect(self.table.set_kind)
        self.table.checked_changed.connect(self.update_buttons)
        self.table.itemSelectionChanged.connect(self.update_buttons)

    def _show_first(self, problems: List[str], source: Dict[str, Any]) -> None:
        """The source given, the settings' problems, and the server's models."""
        self.table.set_kind(self.options.kind())
        self.fit()
        self.set_source(**source)
        self.update_buttons()
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

    def _documents(self) -> Optional[List[Document]]:
        """What to ask about, or None (a job running, no model, a source that cannot be read:
        said in the message bar)."""
        if self.busy:
            return None
        if not self.models.model():
            self.message.show_message("Choose a model first.", "warning")
            return None
        try:
            return self.source.documents()
        except Exception as e:
            self.message.show_message(esc(error_text(e)), "warning")
            return None

    def figure_sets(self) -> Optional[List[Tuple[str, FigureSet]]]:
        if self.source.reading:
            return None
        return figure_sets(self.source.documents() if self.source.has_documents() else [])

    # ==== generating ===========================================================================
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

    def generate(self) -> None:
        documents = self._documents()
        if documents is None:
            return
        topics = self.topics.chosen()
        if topics is not None and not any(t.checked for t in topics):
            self.message.show_message("Check at least one topic, or Clear the topics to make cards "
                                      "from the whole text.", "warning")
            return
        model = self.models.model()
        settings, options = self._job_options(model)
        self.table.review_rows.uncheck_flagged = settings.uncheck_flagged
        self.table.review_rows.uncheck_similar = settings.skip_similar
        self.run_no += 1
        self.stream.reset()
        self.figure_notes = []
        self.job_started = time.monotonic()
        self.message.clear()
        self.progress.begin("Asking %s…" % model)
        from .similar_cache import CACHE

        similar = CACHE.get(settings)  # duplicates by meaning, when an embed_model is set
        CACHE.start_build(settings)  # new and edited notes, in the background
        source = GenerationInput(documents, self.source.note_refs(), topics,
                                 self.topics.chunks if topics else None, self.highlight_choice.choice(),
                                 self.highlight_choice.done())
        runner = GenerationRunner(settings, options, source, self, similar=similar, figures=self.figure_job)
        runner.wire(planned=self._on_planned, figure_notes=self._on_figure_notes,
                    progress=self._on_progress, card=self._on_card, chunk=self._on_chunk,
                    finished=self._on_job_done, failed=self._on_job_failed)
        self.runner = runner
        self.update_buttons()
        self._start_when_keys_are_read(runner)

    def _start_when_keys_are_read(self, runner: GenerationRunner) -> None:
        """The keys of the notes already there, read once (each card is marked as it arrives),
        then the job."""
        from ..generator.job.stream import LiveDuplicates

        target = self.options.target()

        def start(duplicates: Optional[LiveDuplicates]) -> None:
            if is_alive(runner):
                runner.duplicates = duplicates
                runner.start()  # (cancelled meanwhile: it stops at once, keeping nothing)

        def failed(err: Exception) -> None:  # a note type or mapping the add would refuse too
            if is_alive(self) and self.runner is runner:
                self._finish_job()
                self.message.show_message(esc(error_text(err)), "error")

        run_with_collection(self, lambda col: LiveDuplicates.for_target(col, target), start, failed)

    def _on_figure_notes(self, notes: List[str]) -> None:
        self.figure_notes = list(notes)
        self.message.show_message("<br>".join(esc(n) for n in notes), "warning", topic="figures")

    def _on_planned(self, n: int) -> None:
        if self.runner is not None:
            self.progress.show_progress(0, max(1, n), "Chunk 1 of %d · 0 cards" % n if n else "Nothing to do")

    def _on_progress(self, p: Optional[Progress] = None) -> None:
        """The job's progress line (``None``: the last one again, with the rows streamed since)."""
        p = p or self.last_progress
        if self.runner is None or p is None:
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

    def _on_chunk(self, chunk: Chunk, cards: List[Card]) -> None:
        """A chunk has ended: its final list settles the rows streamed for it."""
        self.chunks[chunk.id] = chunk
        self.stream.settle(chunk, cards)

    def _deliver(self, cards: List[Card]) -> None:
        """Cards of the job not in the table yet (every chunk's are, unless a signal was lost)."""
        fresh = [c for c in cards if id(c) not in self.stream.seen]
        self.stream.seen.update((id(c), c) for c in fresh)
        self.table.add_cards(fresh, self.run_no)
        self.update_buttons()

    def _on_job_done(self, outcome: GenerationOutcome) -> None:
        result = outcome.result
        similar_error = self.runner.similar_error if self.runner is not None else ""
        self.job_options = outcome.options
        self.chunks.update(outcome.chunks)
        self.last_result = result
        self.table.review_rows.note_job(result.account)
        self._deliver(result.cards)
        self.stream.leftovers()
        self._finish_job()
        # (rows streamed from a part that never ended, e.g. on Cancel, are kept too)
        n = max(len(result.cards), len(self.table.review_rows.cards_of_run(self.run_no)))
        if result.fatal is not None:
            self._show_engine_error(result.fatal, kept=n)
        else:
            text, level, retry = job_message(result, n, len(outcome.chunks), time.monotonic()
                                             - self.job_started, similar_error, self.figure_notes)
            self.message.show_message(text, level, [("Retry", self.generate)] if retry else [])
        self.adder.keep_in_reach(self.job_started)
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
            self.adder.keep_in_reach(self.job_started)

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
        self.adder.keep_in_reach(self.job_started)

    def _finish_job(self) -> None:
        if self.runner is not None:
            self.runner.deleteLater()
        self.runner = None
        self.last_progress = None
        self.progress.end()
        self.update_buttons()

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

    # ==== topics first =========================================================================
    def find_topics(self) -> None:
        """The optional first step: the model lists the source's key topics (a checklist)."""
        documents = self._documents()
        if documents is None:
            return
        model = self.models.model()
        settings, options = self._job_options(model)
        self.topics.ask(settings, options, model, documents=documents)
        self.update_buttons()

    def topics_failed(self, err: BaseException) -> None:
        self._show_engine_error(err, kept=0)

    # ==== review ===============================================================================
    def check_duplicates(self, run: int) -> None:
        """Mark one run's duplicates against the collection and within the run (a read in the
        background), and uncheck them when the settings say to skip duplicates."""
        from ..generator.notes.add import mark_duplicates

        rows = self.table.review_rows
        cards = rows.cards_of_run(run)
        target = self.options.target()
        skip = get_settings().skip_duplicates

        def op(col: Collection) -> None:
            from ..generator.occlusion.cards import mark_known

            mark_duplicates(col, cards, target)
            mark_known(col, cards)  # an Image Occlusion note of a figure already in the collection

        def done(_: None) -> None:
            self.pending -= 1
            if not is_alive(self):
                return
            self.table.refresh_marks()
            if skip:
                self.table.uncheck_duplicates()  # (most were unchecked as they arrived)
                n = sum(1 for c in cards if c.duplicate and not rows.is_added(c) and rows.index_of(c) >= 0)
                if n:
                    self._follow_up(
                        "%s already in your collection (or twice in the list): unchecked. "
                        "Check them again to add them anyway." % plural(n, "card looks", "cards look"),
                        "info")
            self.update_buttons()

        def failed(err: Exception) -> None:
            self.pending -= 1
            if is_alive(self):
                self._follow_up(esc(error_text(err)), "warning")

        self.pending += 1
        run_with_collection(self, op, done, failed)

    def delete_selected(self) -> None:
        cards = self.table.selected_cards()
        if cards:
            self.table.remove_cards(cards, by_user=True)
            self.update_buttons()

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
        """Add the checked cards (also while the job runs), if they fit the card kind chosen."""
        cards = self.table.checked_cards()
        if not cards:
            return
        target = self.options.target()
        mismatched = [c for c in cards if c.occlusion is None and (c.kind == CLOZE) != (target.kind == CLOZE)]
        if mismatched:
            made = "cloze" if mismatched[0].kind == CLOZE else "question/answer"
            self.message.show_message(
                "%s made as %s cards, and the card kind is now %s. Choose a matching card "
                "kind, or generate them again." % (
                    plural(len(mismatched), "card was", "cards were"), made,
                    esc(self.options.kind_title())), "warning")
            return
        self.remember()
        self.adder.add(cards, target, self.source.files(), list(self.chunks.values()))

    # ==== other dialogs and settings ===========================================================
    def settings_saved(self) -> None:
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
    def update_buttons(self, *_args: Any) -> None:
        busy = self.busy
        n = len(self.table.checked_cards())
        total = len(self.table.rows)
        self.add_btn.setText("Add %s" % plural(n, "card"))
        self.add_btn.setEnabled(n > 0 and not self.adder.adding)  # also while the job runs
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
        return super().idle() and not self.source.reading and not self.adder.adding

    def keyPressEvent(self, event: Optional[QKeyEvent]) -> None:
        if event is not None and event.key() == Qt.Key.Key_Delete and self.table.hasFocus():
            self.delete_selected()
            return
        super().keyPressEvent(event)

    # ==== closing (JobDialog) ==================================================================
    def may_close(self) -> bool:
        """Ask before throwing away a running job or cards not added yet."""
        n = len(self.table.checked_cards())
        if self.runner is not None:
            if not askUser("Cards are still being generated (%s so far). Stop and close, "
                           "discarding them?" % plural(self.stream.count, "card"), parent=self,
                           defaultno=True):
                return False
            self.cancel_job()
        elif n and not askUser("%s not been added. Close and discard %s?" % (
                plural(n, "checked card has", "checked cards have"), "it" if n == 1 else "them"),
                parent=self, defaultno=True):
            return False
        return True

    def release(self) -> None:
        self.adder.close()
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


def job_message(result: JobResult, n: int, chunks: int, seconds: float, similar_error: str,
                figure_notes: List[str]) -> Tuple[str, str, bool]:
    """What the message bar says when a job has ended (not with a fatal error): its HTML, its
    level, and whether it offers Retry. ``n`` cards were kept from ``chunks`` parts."""
    notes = "".join("<br>" + esc(note) for note in figure_notes)
    if result.cancelled:
        return "Cancelled. Kept the %s made so far." % plural(n, "card"), "info", False
    if result.failures:
        first = result.failures[0]
        return ("%s of %s failed: %s.%s" % (
            plural(len(result.failures), "part"), result.chunks_total or chunks,
            esc(first.message.rstrip(".")),
            "" if not n else " The other parts gave %s." % plural(n, "card")), "warning", True)
    if n == 0:
        return ("The model made no cards from this text. Try a longer text, another model, or a "
                "different number of cards." + notes, "warning", False)
    if result.warnings:  # cards kept from a cut answer, a cut field: say so, and what to change
        more = len(result.warnings) - 1
        return ("Made %s, but: %s%s" % (plural(n, "card"), esc(one_line(result.warnings[0].message)),
                                         " (and %s)" % plural(more, "more warning") if more else ""),
                "warning", True)
    similar = sum(1 for c in result.cards if c.similar_to is not None)
    return ("Made %s in %.0f s. Check them, then add them.%s%s" % (
        plural(n, "card"), seconds,
        " %s in meaning to notes you have (see Status)." % plural(
            similar, "card is similar", "cards are similar") if similar else "",
        " Similar cards were not checked: %s" % esc(similar_error) if similar_error else "") + notes,
        "warning" if similar_error or figure_notes else "success", False)
