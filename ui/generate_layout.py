"""The Generate dialog's widgets: source, card options, model box, review table, progress
and buttons (a mixin of ``GenerateDialog``)."""
from typing import Any

from aqt import mw
from aqt.qt import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)

from .common import MessageBar, button, fit_splitter, language_combo, progress_row, splitter_layout
from .review import ReviewTable


class GenerateLayout:
    """Builds the dialog's widgets; the other mixins and the dialog hold the behaviour."""

    def _build(self) -> None:
        outer, self.splitter = splitter_layout(self)

        # -- left: source and options, in a scroll area for small windows
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 6, 0)
        lv.addWidget(self._build_source(), 1)
        lv.addWidget(self._build_options())
        lv.addWidget(self._build_model())
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(left)
        scroll.setMinimumWidth(300)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.left_scroll = scroll
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
        self.table = ReviewTable(right)
        self.table.setMinimumHeight(160)
        self.table.checked_changed.connect(self._update_buttons)
        self.table.itemSelectionChanged.connect(self._update_buttons)
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

        # -- progress
        self.progress_row, self.progress_bar, self.progress_label, self.cancel_btn = progress_row(
            self.cancel_job, "Stop generating; the cards made so far stay in the list")
        outer.addWidget(self.progress_row)

        self.message = MessageBar(self)
        outer.addWidget(self.message)

        # -- buttons
        buttons = QHBoxLayout()
        self.bulk_btn = button("Bulk Generate from Files…", self.open_bulk)
        buttons.addWidget(self.bulk_btn)
        self.settings_btn = button("Settings…", self.open_settings)
        buttons.addWidget(self.settings_btn)
        buttons.addStretch(1)
        self.generate_btn = QPushButton("Generate")
        self.generate_btn.setDefault(True)
        self.generate_btn.clicked.connect(self.generate)
        self.add_btn = button("Add 0 cards", self.add_checked)
        self.close_btn = button("Close", self.close)
        for b in (self.generate_btn, self.add_btn, self.close_btn):
            buttons.addWidget(b)
        outer.addLayout(buttons)
        self._update_buttons()

    def _build_source(self) -> QGroupBox:
        box = QGroupBox("Source")
        v = QVBoxLayout(box)
        row = QHBoxLayout()
        self.source_label = QLabel("")
        self.source_label.setWordWrap(True)
        row.addWidget(self.source_label, 1)
        self.open_btn = button("Open file…", self.choose_files)
        self.clear_btn = button("Clear", self.clear_source)
        row.addWidget(self.open_btn)
        row.addWidget(self.clear_btn)
        v.addLayout(row)
        self.source_edit = QPlainTextEdit()
        self.source_edit.setPlaceholderText(
            "Paste or type the text to make flashcards from, or open a file.")
        self.source_edit.setMinimumHeight(90)
        self.source_edit.textChanged.connect(self._on_text_changed)
        v.addWidget(self.source_edit, 1)
        return box

    def _build_options(self) -> QGroupBox:
        box = QGroupBox("Cards")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.deck_widget = QWidget()
        from aqt.deckchooser import DeckChooser

        self.deck_chooser = DeckChooser(mw, self.deck_widget, label=False)
        form.addRow("Deck", self.deck_widget)

        self.add_card_type_rows(form)  # CardTypeChoice

        from aqt.tagedit import TagEdit

        self.tags_edit = TagEdit(box)
        self.tags_edit.setCol(mw.col)
        self.tags_edit.setPlaceholderText("space-separated")
        form.addRow("Tags", self.tags_edit)

        self.language_combo = language_combo()
        self.language_combo.setToolTip("The language the cards are written in")
        form.addRow("Language", self.language_combo)

        self.count_spin = QSpinBox()
        self.count_spin.setRange(0, 1000)
        self.count_spin.setSpecialValueText("Auto")
        self.count_spin.setToolTip("How many cards to make in all; Auto = by the text's length")
        form.addRow("Number of cards", self.count_spin)
        return box

    def _build_model(self) -> QGroupBox:
        box = QGroupBox("Model")
        v = QVBoxLayout(box)
        row = QHBoxLayout()
        self.model_combo = QComboBox()
        self.model_combo.setEditable(True)
        self.model_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.model_combo.currentTextChanged.connect(self._on_model_changed)
        row.addWidget(self.model_combo, 1)
        self.refresh_btn = button("Refresh", self.refresh_models)
        self.refresh_btn.setToolTip("Ask the server again for its models")
        row.addWidget(self.refresh_btn)
        v.addLayout(row)
        self.status_label = QLabel("Connecting…")
        self.status_label.setWordWrap(True)
        self.status_label.setEnabled(False)
        v.addWidget(self.status_label)
        self.privacy = MessageBar(box)  # where the text goes, when not to this machine
        v.addWidget(self.privacy)
        pull = QHBoxLayout()
        self.pull_bar = QProgressBar()
        self.pull_bar.setMaximumHeight(14)
        self.pull_label = QLabel("")
        self.pull_cancel_btn = button("Stop", self.cancel_pull)
        pull.addWidget(self.pull_bar, 1)
        pull.addWidget(self.pull_label, 1)
        pull.addWidget(self.pull_cancel_btn)
        pull.setContentsMargins(0, 0, 0, 0)
        self.pull_row = QWidget()
        self.pull_row.setLayout(pull)
        self.pull_row.hide()
        v.addWidget(self.pull_row)
        return box

    def resizeEvent(self, event: Any) -> None:  # type: ignore[override]
        fit_splitter(self.splitter, self.width(), 820)
        super().resizeEvent(event)
