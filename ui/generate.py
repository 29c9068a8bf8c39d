"""The Generate dialog: source → options → model → generate (in the background) → review → add.

Nothing slow runs on the main thread: the model list and file reading are
``QueryOp(...).without_collection()``; generation, pulls and regenerate-one (minutes) run on
a worker via ``common.run_long`` (a QueryOp would blank the Browser's rows for that long);
the duplicate check is a read-only QueryOp; adding is a ``CollectionOp`` (one undo step).
Every engine error is shown in the dialog's message bar (``describe(err)``), never as a
traceback."""
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import aqt
from aqt import mw
from aqt.qt import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    Qt,
    QVBoxLayout,
    QWidget,
)
from aqt.utils import askUser, restoreGeom, saveGeom, tooltip

from ..generator.cards import CLOZE, KINDS, Card
from ..generator.documents import Document
from ..generator.errors import ModelNotFound, NotAModelServer, ServerUnreachable
from .common import (
    KIND_LABELS,
    LANGUAGES,
    MessageBar,
    button,
    ensure_log,
    error_text,
    esc,
    get_config,
    is_alive,
    on_main,
    plural,
    progress_row,
    run_long,
    run_network,
    run_with_collection,
    save_config,
    server_info,
    show_privacy,
)
from .review import ReviewTable

DIALOG_NAME = "OllamaFlashcardsGenerate"
TITLE = "Generate Flashcards"
PREVIEW_CHARS = 20000
NOT_USED = "(not used)"
FROM_NOTE_TAG = "ollama-flashcards::from-note::%d"


def same_model(a: str, b: str) -> bool:
    """'llama3.2' and 'llama3.2:latest' are the same model to Ollama."""
    def norm(name: str) -> str:
        name = name.strip()
        return name[: -len(":latest")] if name.endswith(":latest") else name

    return bool(a) and norm(a) == norm(b)


class FieldMapping(QWidget):
    """Which field of a user's note type gets the card's front/back (or text/extra) and source."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.combos: Dict[str, QComboBox] = {}

    def set_fields(self, kind: str, fields: Sequence[str], mapping: Dict[str, str]) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        self.combos = {}
        logical = ("text", "extra", "source") if kind == CLOZE else ("front", "back", "source")
        titles = {"front": "Front →", "back": "Back →", "text": "Text →", "extra": "Extra →",
                  "source": "Source →"}
        for row, name in enumerate(logical):
            label = QLabel(titles[name])
            combo = QComboBox()
            combo.addItem(NOT_USED, "")
            for f in fields:
                combo.addItem(f, f)
            wanted = mapping.get(name, "")
            index = combo.findData(wanted) if wanted else 0
            combo.setCurrentIndex(max(0, index))
            self.grid.addWidget(label, row, 0)
            self.grid.addWidget(combo, row, 1)
            self.combos[name] = combo

    def mapping(self) -> Dict[str, str]:
        return {name: combo.currentData() or "" for name, combo in self.combos.items()}


class GenerateDialog(QDialog):
    silentlyClose = False

    def __init__(self, parent: Optional[QWidget] = None, **source: Any) -> None:
        super().__init__(parent or mw, Qt.WindowType.Window)
        self.setWindowTitle(TITLE)
        self.setObjectName("OllamaFlashcardsGenerate")
        ensure_log()
        self.cfg = get_config()
        self.busy = False  # a generation job is running
        self.pulling = False
        self.job_started = 0.0
        self._job_id = 0
        self._cancel: Optional[threading.Event] = None
        self._pull_cancel: Optional[threading.Event] = None
        self._documents: Optional[List[Document]] = None  # from files or notes; None = text box
        self._source_name = "pasted text"
        self._source_text_label = ""  # what the source label calls the source
        self._note_refs: Dict[str, int] = {}  # document name -> note id (Browser path)
        self._chunks: Dict[str, Any] = {}  # chunk id -> Chunk, for regenerate-one
        self._job_options: Any = None  # JobOptions after prepare_job, for regenerate-one
        self._server_models: List[str] = []
        self._server_ok = False
        self.last_added: List[int] = []  # note ids of the last "Add"
        self.last_result: Any = None  # JobResult of the last job
        self.pending = 0  # background reads/checks still running (duplicate check, regenerate…)
        self._build()
        self._load_choices()
        restoreGeom(self, "ollamaFlashcardsGenerate", adjustSize=False)
        if self.width() < 400:
            self.resize(1000, 680)
        self.set_source(**source)
        self.refresh_models()

    # ==== layout ===============================================================================
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 10, 10, 10)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        outer.addWidget(self.splitter, 1)

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

        self.kind_combo = QComboBox()
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        form.addRow("Card type", self.kind_combo)
        self.mapping = FieldMapping()
        self.mapping_label = QLabel("Fields")
        form.addRow(self.mapping_label, self.mapping)

        from aqt.tagedit import TagEdit

        self.tags_edit = TagEdit(box)
        self.tags_edit.setCol(mw.col)
        self.tags_edit.setPlaceholderText("space-separated")
        form.addRow("Tags", self.tags_edit)

        self.language_combo = QComboBox()
        self.language_combo.setEditable(True)
        for value, title in LANGUAGES:
            self.language_combo.addItem(title, value)
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
        # Side by side when there is room, stacked in a narrow window.
        wanted = Qt.Orientation.Horizontal if self.width() >= 820 else Qt.Orientation.Vertical
        if self.splitter.orientation() != wanted:
            self.splitter.setOrientation(wanted)
        super().resizeEvent(event)

    # ==== choices ==============================================================================
    def _load_choices(self) -> None:
        cfg = self.cfg
        did = mw.col.decks.id_for_name(str(cfg.get("deck") or "")) if cfg.get("deck") else None
        if did:
            self.deck_chooser.selected_deck_id = did
        self._fill_kinds()
        self.select_kind(str(cfg.get("card_kind") or "basic"), str(cfg.get("note_type") or ""),
                         dict(cfg.get("field_mapping") or {}))
        tags = cfg.get("tags") or []
        if isinstance(tags, str):
            tags = tags.split()
        self.tags_edit.setText(" ".join(tags))
        self.set_language(str(cfg.get("language") or ""))
        self.count_spin.setValue(int(cfg.get("max_cards") or 0))
        model = str(cfg.get("model") or "")
        self.model_combo.setEditText(model)

    def _fill_kinds(self) -> None:
        from ..generator.notes import user_notetypes

        self.kind_combo.blockSignals(True)
        self.kind_combo.clear()
        for kind, title in KIND_LABELS:
            self.kind_combo.addItem(title, "kind:" + kind)
        self.kind_combo.insertSeparator(self.kind_combo.count())
        for name, _ntid in sorted(user_notetypes(mw.col), key=lambda x: x[0].lower()):
            self.kind_combo.addItem("Note type: %s" % name, "notetype:" + name)
        self.kind_combo.blockSignals(False)

    def select_kind(self, kind: str, notetype: str = "", mapping: Optional[Dict[str, str]] = None) -> None:
        """Choose a card kind, or (with ``notetype``) one of the user's note types."""
        self._wanted_mapping = dict(mapping or {})
        index = -1
        if notetype:
            index = self.kind_combo.findData("notetype:" + notetype)
        if index < 0:
            index = self.kind_combo.findData("kind:" + (kind if kind in KINDS else "basic"))
        self.kind_combo.setCurrentIndex(max(0, index))
        self._on_kind_changed()

    def set_language(self, value: str) -> None:
        index = self.language_combo.findData(value)
        if index < 0:
            index = self.language_combo.findText(value)
        if index >= 0:
            self.language_combo.setCurrentIndex(index)
        else:
            self.language_combo.setEditText(value)

    def language(self) -> str:
        text = self.language_combo.currentText().strip()
        index = self.language_combo.findText(text)
        if index >= 0:
            return str(self.language_combo.itemData(index) or "")
        return text

    def _kind_data(self) -> Tuple[str, str]:
        """("kind", "basic"|"reversed"|"cloze") or ("notetype", name)."""
        data = str(self.kind_combo.currentData() or "kind:basic")
        what, _, value = data.partition(":")
        return what, value

    def notetype(self) -> str:
        what, value = self._kind_data()
        return value if what == "notetype" else ""

    def kind(self) -> str:
        what, value = self._kind_data()
        if what == "kind":
            return value
        nt = mw.col.models.by_name(value)
        return CLOZE if nt and nt.get("type") == 1 else "basic"

    def _on_kind_changed(self, *_args: Any) -> None:
        name = self.notetype()
        if name:
            from ..generator.notes import default_mapping, notetype_fields

            fields = notetype_fields(mw.col, name)
            mapping = default_mapping(fields, self.kind())
            saved = getattr(self, "_wanted_mapping", None) or {}
            mapping.update({k: v for k, v in saved.items() if not v or v in fields})
            self.mapping.set_fields(self.kind(), fields, mapping)
            self._wanted_mapping = {}
        self.mapping.setVisible(bool(name))
        self.mapping_label.setVisible(bool(name))
        self.table.set_kind(self.kind())

    def tags(self) -> List[str]:
        return [t for t in self.tags_edit.text().split() if t]

    def deck_name(self) -> str:
        return self.deck_chooser.selected_deck_name()

    def model(self) -> str:
        return self.model_combo.currentText().strip()

    def target(self) -> Any:
        from ..generator.notes import NoteTarget

        return NoteTarget(deck=self.deck_name(), kind=self.kind(), notetype=self.notetype(),
                          field_mapping=self.mapping.mapping() if self.notetype() else {},
                          tags=self.tags())

    def choices(self) -> Dict[str, Any]:
        """What the user chose, as config keys (remembered for next time)."""
        return {
            "deck": self.deck_name(),
            "card_kind": self.kind(),
            "note_type": self.notetype(),
            "field_mapping": self.mapping.mapping() if self.notetype() else {},
            "tags": self.tags(),
            "language": self.language(),
            "max_cards": self.count_spin.value(),
            "model": self.model(),
        }

    def remember(self) -> None:
        changes = self.choices()
        if not changes["model"]:
            changes.pop("model")
        self.cfg.update(save_config(changes))

    # ==== source ===============================================================================
    def set_source(self, text: str = "", source_name: str = "", documents: Optional[List[Document]] = None,
                   note_refs: Optional[Dict[str, int]] = None, deck_id: Optional[int] = None,
                   kind: Optional[str] = None, notetype: Optional[str] = None,
                   label: str = "") -> None:
        """Fill the source (text from a selection, or documents from files or notes) and,
        optionally, the target deck and card type."""
        self._note_refs = dict(note_refs or {})
        if documents:
            self._documents = list(documents)
            preview = "\n\n".join(
                ("── %s ──\n%s" % (d.name, d.text())) if len(documents) > 1 else d.text()
                for d in documents)
            self.source_edit.blockSignals(True)
            self.source_edit.setPlainText(preview[:PREVIEW_CHARS])
            self.source_edit.blockSignals(False)
            self.source_edit.setReadOnly(True)
            self._source_name = documents[0].name
            self._source_text_label = label or (
                documents[0].name if len(documents) == 1 else plural(len(documents), "document"))
        else:
            self._documents = None
            self.source_edit.setReadOnly(False)
            if text:
                self.source_edit.setPlainText(text)
            self._source_name = source_name or "pasted text"
            self._source_text_label = label or ""
        if deck_id:
            self.deck_chooser.selected_deck_id = deck_id
        if kind or notetype:
            self.select_kind(kind or "basic", notetype or "")
        self._update_source_label()

    def _update_source_label(self) -> None:
        if self._documents is not None:
            words = sum(len(d.text().split()) for d in self._documents)
            self.source_label.setText("<b>%s</b> · %s" % (esc(self._source_text_label), plural(words, "word")))
            self.clear_btn.setEnabled(True)
        else:
            words = len(self.source_edit.toPlainText().split())
            what = self._source_text_label or (
                "Selection" if self._source_name == "selection" else "Text")
            self.source_label.setText("<b>%s</b> · %s" % (esc(what), plural(words, "word")))
            self.clear_btn.setEnabled(words > 0)
        self._update_buttons()

    def _on_text_changed(self) -> None:
        if self._documents is None:
            self._update_source_label()

    def clear_source(self) -> None:
        self._documents = None
        self._note_refs = {}
        self._source_text_label = ""
        self._source_name = "pasted text"
        self.source_edit.setReadOnly(False)
        self.source_edit.clear()
        self._update_source_label()

    def choose_files(self) -> None:
        from ..generator.sources import SUPPORTED_EXTENSIONS

        patterns = " ".join("*" + e for e in sorted(SUPPORTED_EXTENSIONS))
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open file", self.cfg.get("last_folder") or os.path.expanduser("~"),
            "Documents (%s);;All files (*)" % patterns)
        if paths:
            self.load_files(paths)

    def load_files(self, paths: Sequence[str]) -> None:
        """Read the files in the background, then show them as the source."""
        from ..generator.sources import read_path

        paths = list(paths)
        save_config({"last_folder": os.path.dirname(paths[0])})
        self.source_label.setText("Reading %s…" % ", ".join(os.path.basename(p) for p in paths))
        self.open_btn.setEnabled(False)

        def op() -> Tuple[List[Document], List[Tuple[str, BaseException]]]:
            docs, failed = [], []
            for p in paths:
                try:
                    docs.append(read_path(p))
                except Exception as e:  # every engine error has a message for the user
                    failed.append((p, e))
            return docs, failed

        def done(result: Tuple[List[Document], List[Tuple[str, BaseException]]]) -> None:
            self.pending -= 1
            if not is_alive(self):
                return
            self.open_btn.setEnabled(True)
            docs, failed = result
            if docs:
                self.set_source(documents=docs)
            else:
                self._update_source_label()
            if failed:
                self.message.show_message(
                    "<br>".join("<b>%s</b>: %s" % (esc(os.path.basename(p)), esc(error_text(e)))
                                for p, e in failed), "error")
            else:
                self.message.clear()

        def failed(err: Exception) -> None:
            self.pending -= 1
            if is_alive(self):
                self.open_btn.setEnabled(True)
                self._update_source_label()
                self.message.show_message(esc(error_text(err)), "error")

        self.pending += 1
        run_network(self, op, done, failed)

    def documents(self) -> List[Document]:
        """The documents to generate from (raises a SourceError for an empty text)."""
        if self._documents is not None:
            return self._documents
        from ..generator.sources import read_text

        return [read_text(self.source_edit.toPlainText(), self._source_name or "pasted text")]

    # ==== model list and pull ==================================================================
    def refresh_models(self) -> None:
        from ..generator.backends import DEFAULT_URLS, backend_kind

        cfg = get_config()
        self.status_label.setText("Connecting to %s…" % cfg.get("url"))
        show_privacy(self.privacy, str(cfg.get("url") or "").strip() or DEFAULT_URLS[backend_kind(cfg)])
        self.refresh_btn.setEnabled(False)
        run_network(self, lambda: server_info(cfg), self._on_server_info, self._on_server_error)

    def _on_server_info(self, info: Any) -> None:
        if not is_alive(self):
            return
        self.refresh_btn.setEnabled(True)
        self._server_ok = True
        self._server_models = list(info.models)
        self.status_label.setText(info.status_line())
        current = self.model()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for name in self._server_models:
            self.model_combo.addItem(name)
        match = next((m for m in self._server_models if same_model(m, current)), None)
        self.model_combo.setEditText(match or current)
        self.model_combo.blockSignals(False)
        self._on_model_changed()

    def _on_server_error(self, err: Exception) -> None:
        if not is_alive(self):
            return
        self.refresh_btn.setEnabled(True)
        self._server_ok = False
        self._server_models = []
        url = get_config().get("url")
        self.status_label.setText("No answer from %s" % url)
        self.message.show_message(
            esc(error_text(err)), "error",
            [("Retry", self.refresh_models), ("Settings…", self.open_settings)], topic="server")
        self._update_buttons()

    def _on_model_changed(self, *_args: Any) -> None:
        model = self.model()
        if not self._server_ok:
            self._update_buttons()
            return
        self.message.clear("server")
        if not model:
            self.message.show_message("Choose a model.", "warning", topic="model")
        elif self._server_models and not any(same_model(m, model) for m in self._server_models):
            self.message.show_message(
                "The model <b>%s</b> is not on the server yet. Pull it (download it to the "
                "server), or choose another model." % esc(model), "warning",
                [("Pull %s" % model, self.pull_model)], topic="model")
        elif not self._server_models:
            self.message.show_message(
                "The server has no models yet. Pull one, e.g. <b>%s</b>." % esc(model or "llama3.2"),
                "warning", [("Pull %s" % (model or "llama3.2"), self.pull_model)], topic="model")
        else:
            self.message.clear("model")
        self._update_buttons()

    def pull_model(self, model: str = "") -> None:
        from ..generator.backends import make_backend

        model = model or self.model() or "llama3.2"
        if self.pulling:
            return
        self.pulling = True
        self._pull_cancel = cancel = threading.Event()
        self.message.clear("model")
        self.pull_row.show()
        self.pull_bar.setRange(0, 0)
        self.pull_label.setText("Pulling %s…" % model)
        cfg = get_config()
        self._update_buttons()

        def progress(status: str, completed: int, total: int) -> None:
            on_main(lambda: self._on_pull_progress(model, status, completed, total))

        def op() -> str:
            backend = make_backend(cfg)
            try:
                backend.pull(model, on_progress=progress, cancel=cancel)
            finally:
                backend.close()
            return model

        def done(_model: str) -> None:
            if not is_alive(self):
                return
            self.pulling = False
            self.pull_row.hide()
            if cancel.is_set():
                self.message.show_message("Stopped pulling %s." % esc(model), "info",
                                          [("Pull %s" % model, self.pull_model)], topic="model")
            else:
                tooltip("Pulled %s" % model, parent=self)
                self.model_combo.setEditText(model)
                self.refresh_models()
            self._update_buttons()

        def failed(err: Exception) -> None:
            if not is_alive(self):
                return
            self.pulling = False
            self.pull_row.hide()
            self.message.show_message(esc(error_text(err)), "error",
                                      [("Retry", lambda: self.pull_model(model))], topic="model")
            self._update_buttons()

        run_long(op, done, failed)

    def _on_pull_progress(self, model: str, status: str, completed: int, total: int) -> None:
        if not is_alive(self) or not self.pulling:
            return
        if total:
            self.pull_bar.setRange(0, 1000)
            self.pull_bar.setValue(int(1000 * min(completed, total) / total))
            self.pull_label.setText("%s: %s of %s" % (status.split(" ")[0].capitalize() or "Pulling",
                                                     _size(completed), _size(total)))
        else:
            self.pull_bar.setRange(0, 0)
            self.pull_label.setText(status or "Pulling %s…" % model)

    def cancel_pull(self) -> None:
        if self._pull_cancel is not None:
            self._pull_cancel.set()
            self.pull_label.setText("Stopping…")

    # ==== generate =============================================================================
    def generate(self) -> None:
        if self.busy:
            return
        from ..generator.backends import make_backend
        from ..generator.job import JobOptions, plan_chunks, prepare_job, run_job

        model = self.model()
        if not model:
            self.message.show_message("Choose a model first.", "warning")
            return
        try:
            documents = self.documents()
        except Exception as e:
            self.message.show_message(esc(error_text(e)), "warning")
            return
        self.remember()
        ensure_log()
        cfg = get_config()
        choices = self.choices()
        options = JobOptions.from_config(cfg, model=model, kind=self.kind(),
                                         language=choices["language"], max_cards=choices["max_cards"])
        note_refs = dict(self._note_refs)
        self._job_id += 1
        job_id = self._job_id
        self._cancel = cancel = threading.Event()
        self.busy = True
        self.job_started = time.monotonic()
        self.message.clear()
        self.progress_row.show()
        self.progress_bar.setRange(0, 0)
        self.progress_label.setText("Asking %s…" % model)
        self.cancel_btn.setEnabled(True)
        self._delivered: set = set()
        self._update_buttons()

        def on_progress(p: Any) -> None:
            on_main(lambda: self._on_progress(job_id, p))

        def on_chunk(chunk: Any, cards: List[Card]) -> None:
            for card in cards:
                nid = note_refs.get(chunk.document)
                if nid:
                    card.tags.append(FROM_NOTE_TAG % nid)
            on_main(lambda: self._on_chunk(job_id, chunk, cards))

        def op() -> Tuple[Any, Any, Dict[str, Any]]:
            backend = make_backend(cfg)
            try:
                opts = prepare_job(backend, options)
                chunks = plan_chunks(documents, opts)
                chunk_map = {c.id: c for c in chunks}
                on_main(lambda: self._on_planned(job_id, len(chunks)))
                result = run_job(chunks, backend, opts, on_progress=on_progress, cancel=cancel,
                                 on_chunk=on_chunk)
                return opts, result, chunk_map
            finally:
                backend.close()

        run_long(op, lambda r: self._on_job_done(job_id, r), lambda e: self._on_job_failed(job_id, e))

    def _on_planned(self, job_id: int, n: int) -> None:
        if job_id == self._job_id and is_alive(self) and self.busy:
            self.progress_bar.setRange(0, max(1, n))
            self.progress_bar.setValue(0)
            self.progress_label.setText("Chunk 1 of %d · 0 cards" % n if n else "Nothing to do")

    def _on_progress(self, job_id: int, p: Any) -> None:
        if job_id != self._job_id or not is_alive(self) or not self.busy:
            return
        if p.chunks_total:
            self.progress_bar.setRange(0, p.chunks_total)
            self.progress_bar.setValue(p.chunks_done)
        current = min(p.chunks_done + 1, p.chunks_total) if p.chunks_total else p.chunks_done + 1
        parts = ["Chunk %d of %d" % (current, p.chunks_total) if p.chunks_total
                 else "Chunk %d" % current, plural(p.cards, "card")]
        if p.tokens_per_s:
            parts.append("%.0f tokens/s" % p.tokens_per_s)
        if p.failed:
            parts.append("%d failed" % p.failed)
        if self._cancel is not None and self._cancel.is_set():
            parts.insert(0, "Stopping…")
        self.progress_label.setText(" · ".join(parts))
        self.progress_label.setToolTip(p.label or "")

    def _on_chunk(self, job_id: int, chunk: Any, cards: List[Card]) -> None:
        if not is_alive(self):
            return
        self._chunks[chunk.id] = chunk
        fresh = [c for c in cards if id(c) not in self._delivered]
        self._delivered.update(id(c) for c in fresh)
        self.table.add_cards(fresh)
        self._update_buttons()

    def _on_job_done(self, job_id: int, outcome: Tuple[Any, Any, Dict[str, Any]]) -> None:
        if not is_alive(self):
            return
        opts, result, chunk_map = outcome
        self._job_options = opts
        self._chunks.update(chunk_map)
        self.last_result = result
        missing = [c for c in result.cards if id(c) not in self._delivered]
        if missing:
            self.table.add_cards(missing)
        self._finish_job()
        n = len(result.cards)
        if result.fatal is not None:
            self._show_engine_error(result.fatal, kept=n)
        elif result.cancelled:
            self.message.show_message("Cancelled. Kept the %s made so far." % plural(n, "card"), "info")
        elif result.failures:
            first = result.failures[0]
            self.message.show_message(
                "%s of %s failed: %s%s" % (
                    plural(len(result.failures), "part"), result.chunks_total or len(chunk_map),
                    esc(first.message), "" if not n else " The other parts gave %s." % plural(n, "card")),
                "warning", [("Retry", self.generate)])
        elif n == 0:
            self.message.show_message("The model made no cards from this text. Try a longer text, "
                                      "another model, or a different number of cards.", "warning")
        else:
            self.message.show_message(
                "Made %s in %.0f s. Check them, then add them." % (plural(n, "card"),
                                                                    time.monotonic() - self.job_started),
                "success")
        if n:
            self.check_duplicates()

    def _on_job_failed(self, job_id: int, err: Exception) -> None:
        if not is_alive(self):
            return
        self._finish_job()
        self._show_engine_error(err, kept=0)

    def _finish_job(self) -> None:
        self.busy = False
        self._cancel = None
        self.progress_row.hide()
        self._update_buttons()

    def _show_engine_error(self, err: BaseException, kept: int) -> None:
        text = esc(error_text(err))
        if kept:
            text += "<br>Kept the %s made before that." % plural(kept, "card")
        actions: List[Tuple[str, Callable[[], None]]] = []
        if isinstance(err, ModelNotFound):
            model = getattr(err, "model", "") or self.model()
            actions.append(("Pull %s" % model, lambda: self.pull_model(model)))
        elif isinstance(err, (ServerUnreachable, NotAModelServer)):
            self._on_server_error(err)

            def retry() -> None:
                self.refresh_models()
                self.generate()

            actions.append(("Retry", retry))
            actions.append(("Settings…", self.open_settings))
        else:
            actions.append(("Retry", self.generate))
        self.message.show_message(text, "error", actions)

    def cancel_job(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.cancel_btn.setEnabled(False)
            self.progress_label.setText("Stopping… (the cards made so far stay)")

    # ==== review ===============================================================================
    def check_duplicates(self) -> None:
        """Mark duplicates against the collection (a read in the background), and uncheck them
        when the settings say to skip duplicates."""
        from ..generator.notes import mark_duplicates

        cards = list(self.table.cards)
        target = self.target()
        skip = bool(get_config().get("skip_duplicates", True))

        def op(col: Any) -> None:
            mark_duplicates(col, cards, target)

        def done(_: Any) -> None:
            self.pending -= 1
            if not is_alive(self):
                return
            self.table.refresh_marks()
            if skip:
                n = self.table.uncheck_duplicates()
                if n:
                    self.message.show_message(
                        "%s already in your collection (or twice in the list): unchecked. "
                        "Check them again to add them anyway." % plural(n, "card looks", "cards look"),
                        "info")

        def failed(err: Exception) -> None:
            self.pending -= 1
            if is_alive(self):
                self.message.show_message(esc(error_text(err)), "warning")

        self.pending += 1
        run_with_collection(self, op, done, failed)

    def delete_selected(self) -> None:
        cards = self.table.selected_cards()
        if cards:
            self.table.remove_cards(cards)
            self._update_buttons()

    def regenerate_selected(self) -> None:
        for card in self.table.selected_cards()[:5]:
            self.regenerate(card)

    def regenerate(self, card: Card) -> None:
        from ..generator.backends import make_backend
        from ..generator.job import regenerate_card

        chunk = self._chunks.get(card.chunk_id)
        if chunk is None or self._job_options is None:
            self.message.show_message("This card cannot be regenerated: its source passage is "
                                      "not known any more.", "warning")
            return
        if id(card) in self.table.busy_rows:
            return
        cfg = get_config()
        options = self._job_options
        self.table.set_busy(card, "Regenerating…")
        nid = self._note_refs.get(chunk.document)

        def op() -> Optional[Card]:
            backend = make_backend(cfg)
            try:
                return regenerate_card(card, chunk, backend, options)
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
            self.check_duplicates()

        def failed(err: Exception) -> None:
            self.pending -= 1
            if not is_alive(self):
                return
            self.table.set_busy(card, None)
            self._show_engine_error(err, kept=0)

        self.pending += 1
        run_long(op, done, failed)

    # ==== add ==================================================================================
    def add_checked(self) -> None:
        from aqt.operations import CollectionOp

        from ..generator.notes import add_cards

        cards = self.table.checked_cards()
        if not cards:
            return
        target = self.target()
        mismatched = [c for c in cards if (c.kind == CLOZE) != (target.kind == CLOZE)]
        if mismatched:
            made = "cloze" if mismatched[0].kind == CLOZE else "question/answer"
            self.message.show_message(
                "%s made as %s cards, and the card type is now %s. Choose a matching card "
                "type, or generate them again." % (
                    plural(len(mismatched), "card was", "cards were"), made,
                    esc(self.kind_combo.currentText())), "warning")
            return
        self.remember()
        holder: Dict[str, Any] = {}
        self.add_btn.setEnabled(False)

        def op(col: Any) -> Any:
            # The user's checkboxes decide: a checked duplicate was checked on purpose.
            result = add_cards(col, cards, target, skip_duplicates=False)
            holder["result"] = result
            return result.changes

        def done(_changes: Any) -> None:
            self.pending -= 1
            result = holder.get("result")
            if result is None or not is_alive(self):
                return
            self._on_added(cards, result, target)

        def failed(err: Exception) -> None:
            self.pending -= 1
            if is_alive(self):
                self._update_buttons()
                self.message.show_message(esc(error_text(err)), "error")

        self.pending += 1
        CollectionOp(parent=self, op=op).success(done).failure(failed).run_in_background(initiator=self)

    def _on_added(self, cards: List[Card], result: Any, target: Any) -> None:
        skipped = {id(card): reason for card, reason in result.skipped}
        added = [c for c in cards if id(c) not in skipped]
        self.table.remove_cards(added)
        for card, reason in result.skipped:
            self.table.set_not_added(card, reason)
        self.last_added = list(result.note_ids)
        n = len(result.note_ids)
        text = "Added %s to <b>%s</b>." % (plural(n, "card"), esc(target.deck))
        if result.skipped:
            text += " %s not added (see the list)." % plural(len(result.skipped), "card was", "cards were")
        tooltip("Added %s to %s." % (plural(n, "card"), esc(target.deck)), parent=self)
        actions = [("Show in Browser", self.show_added)] if n else []
        self.message.show_message(text, "success" if n else "warning", actions)
        self._update_buttons()

    def show_added(self) -> None:
        from ..generator.notes import find_added

        search = find_added(mw.col, self.last_added)
        if search:
            aqt.dialogs.open("Browser", mw, search=(search,))

    # ==== other dialogs ========================================================================
    def open_bulk(self) -> None:
        from . import launch

        launch.open_bulk()

    def open_settings(self) -> None:
        from . import launch

        launch.open_settings(parent=self, on_saved=self._on_settings_saved)

    def _on_settings_saved(self) -> None:
        if is_alive(self):
            self.message.clear("server")
            self.message.clear("model")
            self.refresh_models()

    # ==== state ================================================================================
    def _update_buttons(self, *_args: Any) -> None:
        n = len(self.table.checked_cards())
        total = len(self.table.cards)
        has_source = self._documents is not None or bool(self.source_edit.toPlainText().strip())
        self.add_btn.setText("Add %s" % plural(n, "card"))
        self.add_btn.setEnabled(n > 0 and not self.busy)
        self.generate_btn.setEnabled(not self.busy and not self.pulling and has_source)
        self.generate_btn.setDefault(n == 0)
        self.add_btn.setDefault(n > 0 and not self.busy)
        self.open_btn.setEnabled(not self.busy)
        has_selection = bool(self.table.selectedIndexes())
        self.delete_btn.setEnabled(has_selection)
        self.regenerate_btn.setEnabled(has_selection and self._job_options is not None and not self.busy)
        self.select_all_btn.setEnabled(total > 0)
        self.select_none_btn.setEnabled(total > 0)
        self.cards_label.setText("<b>Cards</b> (%d of %d checked)" % (n, total) if total else "<b>Cards</b>")
        self.empty_hint.setVisible(total == 0)

    def idle(self) -> bool:
        """Nothing running in the background for this dialog (tests wait for this)."""
        return not self.busy and not self.pulling and self.pending == 0 and self.refresh_btn.isEnabled()

    def unsaved_count(self) -> int:
        return len(self.table.checked_cards())

    def keyPressEvent(self, event: Any) -> None:  # type: ignore[override]
        from aqt.qt import Qt as _Qt

        if event.key() == _Qt.Key.Key_Delete and self.table.hasFocus():
            self.delete_selected()
            return
        super().keyPressEvent(event)

    def reject(self) -> None:  # Esc
        self.close()

    def may_close(self) -> bool:
        """Ask before throwing away a running job or cards not added yet."""
        if self.busy:
            made = len(self.table.cards)
            if not askUser("Cards are still being generated (%s so far). Stop and close, "
                           "discarding them?" % plural(made, "card"), parent=self, defaultno=True):
                return False
            self.cancel_job()
        elif self.unsaved_count():
            if not askUser("%s not been added. Close and discard %s?" % (
                    plural(self.unsaved_count(), "checked card has", "checked cards have"),
                    "it" if self.unsaved_count() == 1 else "them"), parent=self, defaultno=True):
                return False
        return True

    def closeEvent(self, event: Any) -> None:  # type: ignore[override]
        if getattr(self, "_cleaned", False):
            super().closeEvent(event)
            return
        if not self.may_close():
            event.ignore()
            return
        self._cleanup()
        super().closeEvent(event)

    def closeWithCallback(self, callback: Callable[[], None]) -> None:
        """Called by Anki when the profile closes (aqt.dialogs)."""
        if self.may_close():
            self._cleanup()
            QDialog.close(self)
            callback()

    def _cleanup(self) -> None:
        if getattr(self, "_cleaned", False):
            return
        self._cleaned = True
        if self._pull_cancel is not None:
            self._pull_cancel.set()
        try:
            self.remember()
        except Exception:
            pass
        saveGeom(self, "ollamaFlashcardsGenerate")
        self.deck_chooser.cleanup()
        aqt.dialogs.markClosed(DIALOG_NAME)
        self.deleteLater()

    def reopen(self, *_args: Any, **source: Any) -> None:
        """aqt.dialogs.open() on an open dialog: take the new source unless a job is running."""
        if source and any(source.values()):
            if self.busy:
                tooltip("Finish or cancel the current generation first.", parent=self)
                return
            self.set_source(**source)
            self.message.clear()


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return ("%.0f %s" if unit in ("B", "KB") else "%.1f %s") % (n, unit)
        n = n / 1024.0
    return "%d B" % n
