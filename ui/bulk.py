"""The bulk import dialog: many files -> cards, with per-file status, one progress bar, cancel,
resume after a crash, a coverage summary and re-running only what failed.

Thin Qt over ``..generator.bulk``: the model calls run in ``QueryOp(...).without_collection()``,
the collection work (recovering a crashed job, finding sections already in the collection,
adding notes) in collection ops; nothing long runs on the main thread, which only polls the
job's state a few times a second. Every error is shown in the dialog's message bar.

``offer_resume(mw)`` runs at profile open: when a job was left unfinished (Anki closed or
crashed mid-job, or the job was stopped), it opens this dialog offering to resume it.

Kept light to import (it is imported at profile open): the engine's job modules are imported
only when a job starts."""
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import aqt
from aqt import mw
from aqt.qt import (
    QAbstractItemView,
    QCheckBox,
    QColor,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QSpinBox,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTimer,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from aqt.utils import askUser, restoreGeom, saveGeom, tooltip

from ..generator.jobfiles import INDEX_NAME, unfinished
from . import resume
from .common import (
    KIND_LABELS,
    LEVEL_RGB,
    MessageBar,
    button,
    error_text,
    esc,
    get_config,
    is_alive,
    on_main,
    plural,
    progress_row,
    register_dialog,
    run_long,
    run_network,
    run_with_collection,
    save_config,
    server_info,
)

DIALOG_NAME = "OllamaFlashcardsBulk"
TITLE = "Bulk Generate from Files"
REFRESH_MS = 250  # how often the dialog shows the job's state while it runs
COL_FILE, COL_TYPE, COL_STATUS = range(3)
TAB_FILES, TAB_SUMMARY, TAB_REVIEW = range(3)

def bulk_folder() -> str:
    """Where this profile's journals live: the add-on's ``user_files`` (kept on upgrades)."""
    return resume.bulk_folder(mw)


def supported_extensions() -> Tuple[str, ...]:
    from ..generator.sources import SUPPORTED_EXTENSIONS

    return tuple(SUPPORTED_EXTENSIONS)


def expand_paths(paths: Sequence[str]) -> List[str]:
    """Files as chosen; folders become the supported files inside them (recursively, sorted)."""
    exts = supported_extensions()
    out: List[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith(".") and name.lower().endswith(exts):
                        out.append(os.path.join(root, name))
        else:
            out.append(path)
    return out


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds) + 0.5)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return "%d:%02d:%02d" % (h, m, s) if h else "%d:%02d" % (m, s)


# --- adding notes from the job's worker thread --------------------------------------------------

class QtAdder:
    """Hands each batch to a ``CollectionOp`` on the main thread (serialized with Anki's other
    collection work, one undo step per batch); the job's thread never touches the collection."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self._pending = 0
        self._cond = threading.Condition()

    def submit(self, chunk_ids: List[str], cards: List[Any],
               done: Callable[[Optional[Any], Optional[BaseException]], None]) -> None:
        with self._cond:
            self._pending += 1

        def finish(outcome: Optional[Any], error: Optional[BaseException]) -> None:
            try:
                done(outcome, error)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

        def start() -> None:
            from aqt.operations import CollectionOp

            if mw.col is None:
                finish(None, RuntimeError("The collection is closed."))
                return
            CollectionOp(parent=mw, op=lambda col: self.writer.add(col, chunk_ids, cards)) \
                .success(lambda outcome: finish(outcome, None)) \
                .failure(lambda err: finish(None, err)) \
                .run_in_background()

        on_main(start)

    def wait(self, timeout: Optional[float] = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)


# --- the dialog --------------------------------------------------------------------------------

class BulkDialog(QDialog):
    silentlyClose = False

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent or mw, Qt.WindowType.Window)
        self.setWindowTitle(TITLE)
        self.setObjectName("OllamaFlashcardsBulk")
        self.cfg = get_config()
        self.folder = bulk_folder()
        self.paths: List[str] = []
        self.journal: Any = None  # the current job's Journal
        self.run: Any = None  # the BulkRun in progress
        self.result: Any = None  # the last BulkResult
        self.cancel_event: Optional[threading.Event] = None
        self.busy = False  # a job (or its preparation) is in progress
        self.pending = 0  # other background calls (adding reviewed cards, model list ...)
        self.offered: Optional[str] = None  # journal path offered for resuming
        self._closing = False
        self._close_callbacks: List[Callable[[], None]] = []
        self._last_status: Dict[int, str] = {}
        self._review_writer: Any = None
        self._review_chunks: List[str] = []
        self._build()
        restoreGeom(self, "ollamaFlashcardsBulk", adjustSize=False)
        if self.width() < 400:
            self.resize(900, 600)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._tick)
        self._update_buttons()
        self.refresh_models()
        self.check_unfinished()

    # ==== layout ===============================================================================
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 10, 10, 10)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        outer.addWidget(self.splitter, 1)
        self.tabs = QTabWidget(self)
        self.splitter.addWidget(self.tabs)

        # -- files
        files_tab = QWidget()
        fv = QVBoxLayout(files_tab)
        row = QHBoxLayout()
        self.add_files_btn = button("Add files…", self.choose_files)
        self.add_folder_btn = button("Add folder…", self.choose_folder)
        self.remove_btn = button("Remove", self.remove_selected)
        self.clear_btn = button("Clear", self.clear_files)
        for b in (self.add_files_btn, self.add_folder_btn, self.remove_btn, self.clear_btn):
            row.addWidget(b)
        row.addStretch(1)
        fv.addLayout(row)
        self.table = QTableWidget(0, 3, files_tab)
        self.table.setHorizontalHeaderLabels(["File", "Type", "Status"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_FILE, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_TYPE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_STATUS, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(COL_FILE, 150)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        fv.addWidget(self.table, 1)
        self.files_hint = QLabel("Add documents (text, Markdown, HTML, PDF, Word, EPUB) or a folder "
                                 "of them. Each file gets its own row and status.")
        self.files_hint.setWordWrap(True)
        self.files_hint.setEnabled(False)
        fv.addWidget(self.files_hint)
        self.tabs.addTab(files_tab, "Files")

        # -- options, beside the tabs
        options_box = QGroupBox("Cards")
        self.options_box = options_box
        form = QFormLayout(options_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.deck_widget = QWidget()
        from aqt.deckchooser import DeckChooser

        did = None
        if self.cfg.get("deck"):
            did = mw.col.decks.id_for_name(str(self.cfg.get("deck")))
        self.deck_chooser = DeckChooser(mw, self.deck_widget, label=False, starting_deck_id=did) \
            if did else DeckChooser(mw, self.deck_widget, label=False)
        form.addRow("Deck", self.deck_widget)
        self.kind_combo = QComboBox()
        for value, title in KIND_LABELS:
            self.kind_combo.addItem(title, value)
        kind = str(self.cfg.get("card_kind") or "basic")
        self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(kind)))
        form.addRow("Card type", self.kind_combo)
        self.tags_edit = QLineEdit(" ".join(self.cfg.get("tags") or []))
        self.tags_edit.setPlaceholderText("space-separated")
        form.addRow("Tags", self.tags_edit)
        self.model_combo = QComboBox()
        self.model_combo.setEditable(True)
        self.model_combo.addItem(str(self.cfg.get("model") or ""))
        self.model_status = QLabel("")
        self.model_status.setEnabled(False)
        self.model_status.setWordWrap(True)
        form.addRow("Model", self.model_combo)
        form.addRow("", self.model_status)
        self.parallel_spin = QSpinBox()
        self.parallel_spin.setRange(1, 16)
        self.parallel_spin.setValue(max(1, int(self.cfg.get("parallel_requests") or 1)))
        self.parallel_spin.setToolTip(
            "How many requests the model server gets at once. Ollama answers one at a time unless "
            "it was started with OLLAMA_NUM_PARALLEL; raise this to match that number.")
        form.addRow("Requests at once", self.parallel_spin)
        mode_box = QWidget()
        mv = QVBoxLayout(mode_box)
        mv.setContentsMargins(0, 0, 0, 0)
        self.mode_add = QRadioButton("Add cards as they come")
        self.mode_add.setToolTip("Each batch of cards is added while the job runs (one undo step per batch)")
        self.mode_review = QRadioButton("Review all cards before adding")
        self.mode_review.setToolTip("Nothing is added until you have checked the cards")
        (self.mode_review if self.cfg.get("bulk_mode") == "review" else self.mode_add).setChecked(True)
        mv.addWidget(self.mode_add)
        mv.addWidget(self.mode_review)
        form.addRow("Adding", mode_box)
        self.skip_known = QCheckBox("Skip sections already added")
        self.skip_known.setToolTip("Sections an earlier job already made notes from (and whose "
                                   "notes still exist) are not sent to the model again")
        self.skip_known.setChecked(bool(self.cfg.get("bulk_skip_known", True)))
        form.addRow("", self.skip_known)
        self.splitter.addWidget(options_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([640, 260])

        # -- summary (coverage)
        summary_tab = QWidget()
        sv = QVBoxLayout(summary_tab)
        self.summary_label = QLabel("The summary of a job appears here when it ends.")
        self.summary_label.setWordWrap(True)
        sv.addWidget(self.summary_label)
        self.coverage = QTreeWidget()
        self.coverage.setHeaderLabels(["File / section", "Chunks", "Cards", "Result"])
        self.coverage.setColumnWidth(0, 220)
        self.coverage.setColumnWidth(1, 55)
        self.coverage.setColumnWidth(2, 50)
        self.coverage.setRootIsDecorated(True)
        sv.addWidget(self.coverage, 1)
        srow = QHBoxLayout()
        srow.addStretch(1)
        self.retry_btn = button("Retry failed sections", self.retry_failed)
        srow.addWidget(self.retry_btn)
        sv.addLayout(srow)
        self.tabs.addTab(summary_tab, "Summary")

        # -- review
        review_tab = QWidget()
        rv = QVBoxLayout(review_tab)
        from .review import ReviewTable

        rhead = QHBoxLayout()
        self.review_label = QLabel("In “Review all cards before adding” mode the cards wait here.")
        self.review_label.setWordWrap(True)
        rhead.addWidget(self.review_label, 1)
        self.select_all_btn = button("Select all", lambda: self.review.set_all_checked(True))
        self.select_none_btn = button("Select none", lambda: self.review.set_all_checked(False))
        rhead.addWidget(self.select_all_btn)
        rhead.addWidget(self.select_none_btn)
        rv.addLayout(rhead)
        self.review = ReviewTable(review_tab)
        self.review.checked_changed.connect(self._update_buttons)
        rv.addWidget(self.review, 1)
        rrow = QHBoxLayout()
        rrow.addStretch(1)
        self.discard_btn = button("Discard all", self.discard_review)
        self.add_reviewed_btn = button("Add 0 cards", self.add_reviewed)
        rrow.addWidget(self.discard_btn)
        rrow.addWidget(self.add_reviewed_btn)
        rv.addLayout(rrow)
        self.tabs.addTab(review_tab, "Review")
        self.tabs.currentChanged.connect(self._on_tab_changed)

        # -- progress
        self.progress_row, self.progress_bar, self.progress_label, self.cancel_btn = progress_row(
            self.cancel_job, "Stop within a second; what is done is kept and can be resumed")
        outer.addWidget(self.progress_row)

        self.message = MessageBar(self)
        outer.addWidget(self.message)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.start_btn = QPushButton("Generate")
        self.start_btn.setDefault(True)
        self.start_btn.clicked.connect(lambda _c=False: self.start())
        self.close_btn = button("Close", self.close)
        buttons.addWidget(self.start_btn)
        buttons.addWidget(self.close_btn)
        outer.addLayout(buttons)

    def resizeEvent(self, event: Any) -> None:  # type: ignore[override]
        # Side by side when there is room, stacked in a narrow window.
        wanted = Qt.Orientation.Horizontal if self.width() >= 760 else Qt.Orientation.Vertical
        if self.splitter.orientation() != wanted:
            self.splitter.setOrientation(wanted)
        super().resizeEvent(event)

    # ==== files ================================================================================
    def choose_files(self) -> None:
        exts = " ".join("*" + e for e in supported_extensions())
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Add files", self.cfg.get("last_folder") or os.path.expanduser("~"),
            "Documents (%s);;All files (*)" % exts)
        if paths:
            self.add_paths(paths)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Add a folder", self.cfg.get("last_folder") or os.path.expanduser("~"))
        if path:
            self.add_paths([path])

    def add_paths(self, paths: Sequence[str]) -> int:
        """Add files (and the supported files inside folders); returns how many were new."""
        if self.busy:
            return 0
        self._leave_finished_job()
        new = [p for p in expand_paths(paths) if os.path.abspath(p) not in self.paths]
        for path in new:
            self.paths.append(os.path.abspath(path))
        if paths:
            first = paths[0]
            save_config({"last_folder": first if os.path.isdir(first) else os.path.dirname(first)})
            self.cfg = get_config()
        if not new and paths:
            self.message.show_message("No new files with text to add (supported: %s)."
                                      % esc(", ".join(supported_extensions())), "info")
        self._fill_table()
        self.tabs.setCurrentIndex(TAB_FILES)
        return len(new)

    def remove_selected(self) -> None:
        if self.busy:
            return
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for r in rows:
            if 0 <= r < len(self.paths):
                del self.paths[r]
        self._fill_table()

    def clear_files(self) -> None:
        if self.busy:
            return
        self._leave_finished_job()
        self.paths = []
        self._fill_table()

    def _leave_finished_job(self) -> None:
        """Editing the file list after a job starts a new one."""
        if self.result is not None or self.offered:
            self.result = None
            self.offered = None
            self.journal = None
            self.message.clear()
            self._last_status = {}

    def _fill_table(self, statuses: Optional[Sequence[Any]] = None) -> None:
        self.table.setRowCount(len(self.paths))
        for row, path in enumerate(self.paths):
            name = os.path.basename(path)
            item = QTableWidgetItem(name)
            item.setToolTip(path)
            self.table.setItem(row, COL_FILE, item)
            ext = os.path.splitext(name)[1].lstrip(".").upper() or "?"
            self.table.setItem(row, COL_TYPE, QTableWidgetItem(ext))
            text = statuses[row].text() if statuses and row < len(statuses) else "Waiting"
            self.table.setItem(row, COL_STATUS, QTableWidgetItem(text))
        self._last_status = {}
        if statuses:
            self._show_statuses(statuses)
        self._update_buttons()

    def _show_statuses(self, statuses: Sequence[Any]) -> None:
        for row, st in enumerate(statuses):
            text = st.text()
            if self._last_status.get(row) == text or row >= self.table.rowCount():
                continue
            self._last_status[row] = text
            item = self.table.item(row, COL_STATUS)
            if item is None:
                item = QTableWidgetItem()
                self.table.setItem(row, COL_STATUS, item)
            item.setText(text)
            item.setToolTip(text)
            if st.state == "failed" or st.chunks_failed:
                r, g, b = LEVEL_RGB["error"]
                item.setForeground(QColor(r, g, b))
            elif st.state == "done":
                r, g, b = LEVEL_RGB["success"]
                item.setForeground(QColor(r, g, b))
            else:
                item.setData(Qt.ItemDataRole.ForegroundRole, None)

    def status_texts(self) -> List[str]:
        """The Status column (tests)."""
        out = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, COL_STATUS)
            out.append(item.text() if item else "")
        return out

    # ==== the job's settings ====================================================================
    def model(self) -> str:
        return self.model_combo.currentText().strip()

    def mode(self) -> str:
        return "review" if self.mode_review.isChecked() else "add"

    def spec(self) -> Any:
        from ..generator.bulk import BulkSpec
        from ..generator.job import JobOptions
        from ..generator.notes import NoteTarget

        cfg = get_config()
        options = JobOptions.from_config(cfg, model=self.model(), kind=self.kind_combo.currentData(),
                                         parallel=self.parallel_spin.value(), max_cards=0)
        target = NoteTarget(deck=self.deck_chooser.selected_deck_name() or "Default",
                            kind=options.kind, tags=self.tags_edit.text().split())
        return BulkSpec(list(self.paths), options, target, mode=self.mode(),
                        skip_duplicates=bool(cfg.get("skip_duplicates", True)),
                        skip_known=self.skip_known.isChecked())

    def remember(self) -> None:
        save_config({"bulk_mode": self.mode(), "bulk_skip_known": self.skip_known.isChecked(),
                     "parallel_requests": self.parallel_spin.value()})

    def refresh_models(self) -> None:
        cfg = get_config()

        def op() -> Any:
            _warm_up()  # the engine's modules, off the main thread, before a job needs them
            return server_info(cfg)

        def done(info: Any) -> None:
            self.pending -= 1
            if not is_alive(self):
                return
            current = self.model()
            self.model_combo.clear()
            names = list(info.models)
            if current and current not in names:
                names.insert(0, current)
            self.model_combo.addItems(names)
            self.model_combo.setCurrentText(current)
            self.model_status.setText(esc(info.status_line()))

        def failed(err: Exception) -> None:
            self.pending -= 1
            if is_alive(self):
                self.model_status.setText(esc(error_text(err).split("\n")[0]))

        self.pending += 1
        run_network(self, op, done, failed)

    # ==== running ==============================================================================
    def start(self) -> None:
        """Start a new job on the files in the list."""
        if self.busy:
            return
        if not self.paths:
            self.message.show_message("Add some files first.", "warning",
                                      [("Add files…", self.choose_files)])
            return
        if not self.model():
            self.message.show_message("Choose a model first.", "warning")
            self.model_combo.setFocus()
            return
        from ..generator.backends import make_backend
        from ..generator.bulk import start_journal
        from ..generator.job import prepare_job

        self.remember()
        spec = self.spec()
        cfg = get_config()
        folder = self.folder
        self.offered = None
        self._begin("Connecting to the model server…")

        def op() -> Any:
            backend = make_backend(cfg)
            try:
                options = prepare_job(backend, spec.options)  # fails early: no server, no model
            finally:
                backend.close()
            return start_journal(folder, spec, options)

        run_network(self, op, self._prepare_collection, self._on_error)

    def resume(self, only_failed: bool = False) -> None:
        """Resume the offered (or the last) job; ``only_failed`` re-runs just its failed chunks."""
        if self.busy:
            return
        path = self.offered or (self.journal.path if self.journal is not None else None)
        if not path:
            return
        self.offered = None
        self._begin("Resuming…" if not only_failed else "Retrying the failed sections…")
        run_network(self, lambda: _read_closed(path),
                    lambda journal: self._prepare_collection(journal, only_failed), self._on_error)

    def retry_failed(self) -> None:
        self.resume(only_failed=True)

    def _begin(self, label: str) -> None:
        self.busy = True
        self.result = None
        self.message.clear()
        self.progress_row.show()
        self.progress_bar.setRange(0, 0)
        self.progress_label.setText(label)
        self.cancel_btn.setEnabled(True)
        self.cancel_event = threading.Event()
        self.tabs.setCurrentIndex(TAB_FILES)
        self._update_buttons()

    def _prepare_collection(self, journal: Any, only_failed: bool = False) -> None:
        """Collection step: settle adds left in doubt by a crash, find sections already in the
        collection. Then the run itself."""
        from ..generator.bulk import prepare
        from ..generator.journal import ChunkIndex

        if not is_alive(self):
            journal.close()
            return
        self.journal = journal
        self._show_job_files(journal)
        if self.cancel_event is not None and self.cancel_event.is_set():
            self._end()
            self._show_stopped_before_start()
            return
        index = ChunkIndex(os.path.join(self.folder, INDEX_NAME))
        run_with_collection(self, lambda col: prepare(col, journal, index),
                            lambda known: self._run(journal, index, known, only_failed), self._on_error)

    def _show_job_files(self, journal: Any) -> None:
        files = list(journal.state.header.get("files") or [])
        if files != self.paths:
            self.paths = files
            self._fill_table()

    def _run(self, journal: Any, index: Any, known: Any, only_failed: bool) -> None:
        from ..generator.backends import make_backend
        from ..generator.bulk import MODE_ADD, BulkRun, BulkSpec, NoteWriter

        if not is_alive(self):
            return
        spec = BulkSpec.from_header(journal.state.header)
        writer = NoteWriter(journal, spec.target, spec.skip_duplicates, index)
        adder = QtAdder(writer) if spec.mode == MODE_ADD else None
        backend = make_backend(get_config())
        cancel = self.cancel_event or threading.Event()
        run = BulkRun(journal, backend, adder, known, cancel, only_failed=only_failed)
        self.run = run
        self._review_writer = writer
        self._tick()
        self.timer.start()

        def op() -> Any:
            try:
                return run.run()
            finally:
                backend.close()
                journal.close()

        # Not a QueryOp: Anki would count the whole job as "the backend is blocking" (the
        # Browser shows blank rows meanwhile). The job never touches the collection itself.
        run_long(op, self._on_finished, self._on_error)

    def cancel_job(self) -> None:
        if self.cancel_event is not None and not self.cancel_event.is_set():
            self.cancel_event.set()
            self.cancel_btn.setEnabled(False)
            self.progress_label.setText("Stopping… (what is done is kept)")

    def _tick(self) -> None:
        run = self.run
        if run is None or not is_alive(self):
            return
        files, p = run.snapshot()
        self._show_statuses(files)
        if self.cancel_event is not None and self.cancel_event.is_set():
            return
        if p.chunks_total:
            self.progress_bar.setRange(0, p.chunks_total)
            self.progress_bar.setValue(min(p.chunks_done, p.chunks_total))
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
        parts.append(_clock(p.elapsed) + " elapsed")
        if p.remaining is not None and p.chunks_done < p.chunks_total:
            parts.append("about %s left" % _clock(p.remaining))
        self.progress_label.setText(" · ".join(parts))

    def _end(self) -> None:
        self.timer.stop()
        self.busy = False
        self.progress_row.hide()
        self.cancel_event = None
        self._update_buttons()
        callbacks, self._close_callbacks = self._close_callbacks, []
        if self._closing:
            self._cleanup()
        for cb in callbacks:
            cb()

    def _on_error(self, err: Exception) -> None:
        """A failure before or outside the run (server down, model missing, collection)."""
        if not is_alive(self):
            return
        self.run = None
        self._end()
        from ..generator.errors import ModelNotFound, NotAModelServer, ServerUnreachable

        actions: List[Tuple[str, Callable[[], None]]] = []
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

    def _show_stopped_before_start(self) -> None:
        self.message.show_message("Stopped before it began. Resume it any time.", "info",
                                  [("Resume", self.resume)])

    def _on_finished(self, result: Any) -> None:
        if not is_alive(self):
            return
        self.result = result
        self._show_statuses(result.files)
        self.run = None
        self._end()
        if self._closing:
            return
        self._fill_summary(result)
        self._report(result)
        if result.pending and self.journal is not None \
                and self.journal.state.header.get("mode") == "review":
            self._show_review(result)

    def _report(self, result: Any) -> None:
        deck = str((self.journal.state.header.get("target") or {}).get("deck") or "") if self.journal else ""
        summary = esc(result.summary())
        if deck and result.note_ids and not result.pending:
            summary += " Deck: <b>%s</b>." % esc(deck)
        lines = [summary]
        for f in result.failed_files():
            lines.append("<b>%s</b>: %s" % (esc(f.name), esc(f.error)))
        failed = result.failed_sections()
        actions: List[Tuple[str, Callable[[], None]]] = []
        if result.fatal is not None:
            lines.insert(0, esc(error_text(result.fatal)))
            lines.append("What is done is kept: resume when the problem is fixed.")
            actions.append(("Resume", self.resume))
            from ..generator.errors import BackendError

            if isinstance(result.fatal, BackendError):
                actions.append(("Settings…", self.open_settings))
            level = "error"
        elif result.cancelled:
            lines.insert(0, "Stopped. What was done is kept.")
            actions.append(("Resume", self.resume))
            level = "info"
        elif failed or result.failed_files():
            level = "warning"
            if failed:
                first = failed[0]
                lines.append("%s failed, e.g. <b>%s › %s</b>: %s" % (
                    plural(sum(s.failed for s in failed), "section"), esc(first.name),
                    esc(first.label()), esc(first.errors[0] if first.errors else "")))
                actions.append(("Retry failed sections", self.retry_failed))
            actions.append(("Show summary", lambda: self.tabs.setCurrentIndex(TAB_SUMMARY)))
        else:
            level = "info" if result.pending else "success"
        if result.pending and result.fatal is None and not result.cancelled:
            lines[0] += " Check them in the Review tab, then add them."
        if result.note_ids and not result.pending:
            actions.append(("Show in Browser", self.show_added))
            if not result.cancelled and result.fatal is None:
                tooltip("Added %s." % plural(len(result.note_ids), "card"), parent=self)
        self.message.show_message("<br>".join(lines), level, actions)

    def _fill_summary(self, result: Any) -> None:
        self.coverage.clear()
        by_file: Dict[int, List[Any]] = {}
        for sec in result.sections:
            by_file.setdefault(sec.file, []).append(sec)
        for i, f in enumerate(result.files):
            secs = by_file.get(i, [])
            top = QTreeWidgetItem([f.name, str(f.total()), str(f.cards), f.text()])
            top.setToolTip(0, f.path)
            top.setToolTip(3, f.text())
            if f.state == "failed" or f.chunks_failed:
                r, g, b = LEVEL_RGB["error"]
                top.setForeground(3, QColor(r, g, b))
            for sec in secs:
                if sec.failed:
                    outcome = "failed: " + "; ".join(sec.errors)
                elif sec.skipped and sec.skipped == sec.chunks:
                    outcome = "already in the collection"
                elif sec.done < sec.chunks:
                    outcome = "%d of %d done" % (sec.done, sec.chunks)
                else:
                    outcome = "no cards" if not sec.cards else "ok"
                child = QTreeWidgetItem([sec.label(), str(sec.chunks), str(sec.cards), outcome])
                child.setToolTip(3, outcome)
                if sec.failed:
                    r, g, b = LEVEL_RGB["error"]
                    child.setForeground(3, QColor(r, g, b))
                top.addChild(child)
            self.coverage.addTopLevelItem(top)
            top.setExpanded(bool(f.chunks_failed) or len(result.files) == 1)
        n_failed = sum(s.failed for s in result.sections)
        covered = sum(1 for s in result.sections if s.cards)
        self.summary_label.setText(
            "%s. %d of %d sections gave cards%s." % (
                esc(result.summary().rstrip(".")), covered, len(result.sections),
                (", %d failed" % n_failed) if n_failed else ""))
        self._update_buttons()

    def show_added(self) -> None:
        from ..generator.notes import find_added

        ids = list(self.result.note_ids) if self.result is not None else []
        search = find_added(mw.col, ids)
        if search:
            aqt.dialogs.open("Browser", mw, search=(search,))

    # ==== review mode ==========================================================================
    def _show_review(self, result: Any) -> None:
        from ..generator.bulk import BulkSpec, NoteWriter

        journal = self.journal
        spec = BulkSpec.from_header(journal.state.header)
        writer = NoteWriter(journal, spec.target, spec.skip_duplicates, self._index())
        self._review_writer = writer
        self._review_chunks = [r.id for r in journal.state.pending_chunks()]
        cards = list(result.pending)
        self.review.clear_cards()
        self.review.set_kind(spec.target.kind)

        def op(col: Any) -> None:
            writer.mark(col, cards)

        def done(_: Any) -> None:
            self.pending -= 1
            if not is_alive(self):
                return
            self.review.add_cards(cards)
            if spec.skip_duplicates:
                self.review.uncheck_duplicates()
            self.review_label.setText("%s from %s. Check the ones to keep, double-click to edit."
                                      % (plural(len(cards), "card"), plural(len(spec.files), "file")))
            self.tabs.setCurrentIndex(TAB_REVIEW)
            self._update_buttons()

        def failed(err: Exception) -> None:
            self.pending -= 1
            if is_alive(self):
                self.review.add_cards(cards)
                self.tabs.setCurrentIndex(TAB_REVIEW)
                self._update_buttons()

        self.pending += 1
        run_with_collection(self, op, done, failed)

    def _on_tab_changed(self, index: int) -> None:
        """The review table wants the width; the job's options are not needed while reviewing."""
        self.options_box.setVisible(index != TAB_REVIEW)
        if index == TAB_REVIEW and self.review.cards:
            QTimer.singleShot(0, self.review.resizeRowsToContents)  # rows for the new width

    def _index(self) -> Any:
        from ..generator.journal import ChunkIndex

        return ChunkIndex(os.path.join(self.folder, INDEX_NAME))

    def add_reviewed(self) -> None:
        from aqt.operations import CollectionOp

        writer = self._review_writer
        journal = self.journal
        if writer is None or journal is None or self.busy:
            return
        keep = self.review.checked_cards()
        chunk_ids = list(self._review_chunks)
        holder: Dict[str, Any] = {}
        self.add_reviewed_btn.setEnabled(False)

        def op(col: Any) -> Any:
            outcome = writer.add_reviewed(col, keep, chunk_ids)
            holder["outcome"] = outcome
            if outcome.changes is None:
                from anki.collection import OpChanges

                return OpChanges()
            return outcome.changes

        def done(_changes: Any) -> None:
            self.pending -= 1
            journal.finish("done")
            outcome = holder.get("outcome")
            if not is_alive(self) or outcome is None:
                return
            self.review.clear_cards()
            self._review_chunks = []
            if self.result is not None:
                self.result.note_ids = list(journal.state.note_ids)
                self.result.pending = []
            n = len(outcome.note_ids)
            text = "Added %s." % plural(n, "card")
            if outcome.skipped:
                text += " %s not added (duplicates or invalid)." % plural(len(outcome.skipped), "card was", "cards were")
            tooltip(text, parent=self)
            self.message.show_message(esc(text), "success" if n else "info",
                                      [("Show in Browser", self.show_added)] if n else [])
            self._update_buttons()

        def failed(err: Exception) -> None:
            self.pending -= 1
            if is_alive(self):
                self.message.show_message(esc(error_text(err)), "error")
                self._update_buttons()

        self.pending += 1
        CollectionOp(parent=self, op=op).success(done).failure(failed).run_in_background(initiator=self)

    def discard_review(self) -> None:
        journal = self.journal
        if journal is None or not self._review_chunks:
            return
        if not askUser("Discard all %s without adding them?" % plural(len(self.review.cards), "card"),
                       parent=self, defaultno=True):
            return
        journal.discard(self._review_chunks)
        journal.finish("discarded")
        self._review_chunks = []
        self.review.clear_cards()
        self.message.show_message("Discarded the cards.", "info")
        self._update_buttons()

    # ==== resuming ==============================================================================
    def check_unfinished(self) -> None:
        """Offer the newest unfinished job of this profile, if any (reads it in the background)."""
        if self.busy:
            return
        paths = [p for p in unfinished(self.folder)
                 if self.journal is None or p != self.journal.path]
        if not paths:
            return
        path = paths[0]

        def done(journal: Any) -> None:
            self.pending -= 1
            if is_alive(self) and not self.busy:
                self.offer(journal)

        def failed(err: Exception) -> None:
            self.pending -= 1

        self.pending += 1
        run_network(self, lambda: _read_closed(path), done, failed)

    def offer(self, journal: Any) -> None:
        """Show an unfinished job with Resume / Discard."""
        state = journal.state
        s = state.summary()
        self.journal = journal
        self.offered = journal.path
        self.paths = list(state.header.get("files") or [])
        self._fill_table()
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
        self._update_buttons()

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
        self._update_buttons()
        self.check_unfinished()

    # ==== other ================================================================================
    def open_settings(self) -> None:
        from . import launch

        launch.open_settings(parent=self, on_saved=self.refresh_models)

    def _update_buttons(self, *_args: Any) -> None:
        idle = not self.busy
        for w in (self.add_files_btn, self.add_folder_btn, self.clear_btn):
            w.setEnabled(idle)
        self.remove_btn.setEnabled(idle and bool(self.table.selectedIndexes()))
        self.start_btn.setEnabled(idle and bool(self.paths))
        self.start_btn.setText("Generate again" if self.result is not None else "Generate")
        self.files_hint.setVisible(not self.paths)
        failed = bool(self.result is not None and self.result.failed_sections())
        self.retry_btn.setEnabled(idle and failed)
        n = len(self.review.checked_cards())
        self.add_reviewed_btn.setText("Add %s" % plural(n, "card"))
        self.add_reviewed_btn.setEnabled(idle and n > 0 and bool(self._review_chunks))
        self.discard_btn.setEnabled(idle and bool(self._review_chunks))
        self.select_all_btn.setEnabled(bool(self.review.cards))
        self.select_none_btn.setEnabled(bool(self.review.cards))
        for w in (self.kind_combo, self.tags_edit, self.model_combo, self.parallel_spin,
                  self.mode_add, self.mode_review, self.skip_known, self.deck_widget):
            w.setEnabled(idle)

    def idle(self) -> bool:
        """Nothing running in the background for this dialog (tests wait for this)."""
        return not self.busy and self.pending == 0

    def reject(self) -> None:  # Esc
        self.close()

    def may_close(self) -> bool:
        if self.busy:
            if not askUser("A bulk job is running. Stop it and close? What is done is kept, and "
                           "you can resume the job later.", parent=self, defaultno=True):
                return False
            self.cancel_job()
        elif self._review_chunks and self.review.cards:
            tooltip("The %s waiting for review are kept; you can review them later."
                    % plural(len(self.review.cards), "card"), parent=mw)
        return True

    def closeEvent(self, event: Any) -> None:  # type: ignore[override]
        if getattr(self, "_cleaned", False):
            super().closeEvent(event)
            return
        if not self.may_close():
            event.ignore()
            return
        if self.busy:  # stopping: finish closing when the job has stopped (within a second)
            self._closing = True
            self.hide()
            event.ignore()
            return
        self._cleanup()
        super().closeEvent(event)

    def closeWithCallback(self, callback: Callable[[], None]) -> None:
        """Anki closes the profile: stop the job without asking (it can be resumed)."""
        if self.busy:
            self._closing = True
            self._close_callbacks.append(callback)
            if self.cancel_event is not None:
                self.cancel_event.set()
            self.hide()
            return
        self._cleanup()
        QDialog.close(self)
        callback()

    def _cleanup(self) -> None:
        if getattr(self, "_cleaned", False):
            return
        self._cleaned = True
        self.timer.stop()
        try:
            self.remember()
        except Exception:
            pass
        saveGeom(self, "ollamaFlashcardsBulk")
        self.deck_chooser.cleanup()
        aqt.dialogs.markClosed(DIALOG_NAME)
        self.hide()
        self.deleteLater()

    def reopen(self, *_args: Any, **_kwargs: Any) -> None:
        if not self.busy:
            self.check_unfinished()


def _warm_up() -> None:
    """Import what a job uses (on a worker thread): importing it on the main thread when the
    user clicks Generate would freeze the window for tens of milliseconds."""
    from ..generator import bulk, chunking, notes, sources  # noqa: F401
    from ..generator.backends import http, ollama  # noqa: F401
    from . import review  # noqa: F401

    import requests  # noqa: F401


def _read_closed(path: str) -> Any:
    from ..generator.journal import Journal

    journal = Journal.open(path)
    journal.close()
    return journal


# --- entry points --------------------------------------------------------------------------------

_registered = False


def _register() -> None:
    global _registered
    if _registered:
        return

    def create(parent: Any) -> BulkDialog:
        dialog = BulkDialog(parent)
        dialog.show()
        return dialog

    register_dialog(DIALOG_NAME, create)
    _registered = True


def open_bulk_dialog(main_window: Any = None) -> BulkDialog:
    """Open the bulk dialog (or bring the open one forward)."""
    _register()
    return aqt.dialogs.open(DIALOG_NAME, main_window or mw)


def offer_resume(main_window: Any = None) -> None:
    """At profile open: if a bulk job was left unfinished, open this dialog a moment later,
    offering to resume it (``ui.resume`` does the cheap check; Anki's hook calls that)."""
    resume.offer_resume(main_window or mw)
