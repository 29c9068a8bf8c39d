"""The bulk dialog's widgets: the Files, Summary and Review tabs, the job's options beside
them, progress, messages and buttons (a mixin of ``BulkDialog``)."""
from typing import Any

from aqt import mw
from aqt.qt import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTabWidget,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
)

from .common import MessageBar, button, fit_splitter, progress_row, splitter_layout

COL_FILE, COL_TYPE, COL_STATUS = range(3)
TAB_FILES, TAB_SUMMARY, TAB_REVIEW = range(3)


class BulkLayout:
    """Builds the dialog's widgets; the other mixins and the dialog hold the behaviour."""

    # ==== layout ===============================================================================
    def _build(self) -> None:
        outer, self.splitter = splitter_layout(self)
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
        self.add_card_type_rows(form)  # CardTypeChoice, as in the Generate dialog
        self._fill_kinds()
        self.select_kind(str(self.cfg.get("card_kind") or "basic"), str(self.cfg.get("note_type") or ""),
                         dict(self.cfg.get("field_mapping") or {}))
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
        fit_splitter(self.splitter, self.width(), 760)
        super().resizeEvent(event)
