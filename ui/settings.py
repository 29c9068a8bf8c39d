"""The add-on's settings (the Config button in Tools > Add-ons): a form over ``Settings``.

Every key a user sets has a control here; field_mapping is set in the Generate dialog when a
note type is chosen, bulk_mode/bulk_skip_known in the Bulk dialog, busy_retries/busy_backoff and
response_format only in the JSON (config.md documents every key for those who edit it by hand).
Defaults come from ``Settings`` (generator/config.py), never from here."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from aqt import mw
from aqt.qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QKeySequence,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)
from aqt.utils import restoreGeom, saveGeom, tooltip

from ..generator.config import DEFAULT_URLS, BackendKind, Settings
from .common import (
    ADDON,
    KIND_LABELS,
    button,
    ensure_log,
    error_text,
    esc,
    get_settings,
    is_alive,
    language_combo,
    language_value,
    run_network,
    server_info,
)
from .message_bar import MessageBar, show_privacy

if TYPE_CHECKING:
    from ..generator.backends.base import ServerInfo

BACKENDS = [(BackendKind.OLLAMA, "Ollama"),
            (BackendKind.OPENAI, "OpenAI-compatible (LM Studio, llama.cpp, vLLM…)")]
GENERATE_ACTION = "ollamaFlashcardsGenerate"  # objectName of the Tools menu action (__init__.py)


class SettingsDialog(QDialog):
    def __init__(self, parent: Optional[QWidget] = None,
                 on_saved: Optional[Callable[[], None]] = None) -> None:
        super().__init__(parent or mw)
        self.setWindowTitle("Ollama Flashcards Settings")
        self.setObjectName("OllamaFlashcardsSettings")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.on_saved = on_saved
        ensure_log()
        self.settings = get_settings()
        outer = QVBoxLayout(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        v = QVBoxLayout(body)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        server = QGroupBox("Server")
        f = QFormLayout(server)
        self.backend = QComboBox()
        for value, title in BACKENDS:
            self.backend.addItem(title, value.value)
        self.backend.currentIndexChanged.connect(self._on_backend_changed)
        f.addRow("Protocol", self.backend)
        self.url = QLineEdit()
        self.url.setPlaceholderText(BackendKind.OLLAMA.default_url)
        self.url.textChanged.connect(self._update_privacy)
        f.addRow("Server URL", self.url)
        self.privacy = MessageBar(server)  # where the text goes, as the URL is typed
        f.addRow(self.privacy)
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("only if the server needs one")
        f.addRow("API key", self.api_key)
        test_row = QHBoxLayout()
        self.test_btn = button("Test connection", self.test_connection)
        test_row.addWidget(self.test_btn)
        self.test_label = QLabel("")
        self.test_label.setWordWrap(True)
        test_row.addWidget(self.test_label, 1)
        f.addRow("", test_row)
        self.message = MessageBar(server)
        f.addRow(self.message)
        self.connect_timeout = _spin(1, 120, " s")
        f.addRow("Connect timeout", self.connect_timeout)
        self.read_timeout = _spin(10, 3600, " s",
                                  tip="How long to wait for one answer of the model")
        f.addRow("Answer timeout", self.read_timeout)
        self.parallel = _spin(1, 16, tip="Requests sent at once. More helps only if the server "
                                         "runs several in parallel (OLLAMA_NUM_PARALLEL).")
        f.addRow("Parallel requests", self.parallel)
        v.addWidget(server)

        model = QGroupBox("Model")
        f = QFormLayout(model)
        self.model = QComboBox()
        self.model.setEditable(True)
        f.addRow("Default model", self.model)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setDecimals(2)
        self.temperature.setToolTip("Lower = more literal cards, higher = more varied")
        f.addRow("Temperature", self.temperature)
        self.num_ctx = _spin(0, 262144, " tokens", step=1024,
                             tip="Context window per request (capped by the model's own); "
                                 "auto = the context the server loaded the model with")
        self.num_ctx.setSpecialValueText("auto")  # shown for 0
        f.addRow("Context size", self.num_ctx)
        self.num_predict = _spin(64, 32768, " tokens", step=256,
                                 tip="The longest answer a request may get")
        f.addRow("Answer length", self.num_predict)
        self.seed = _spin(0, 2 ** 31 - 1)
        self.seed.setSpecialValueText("Random")
        f.addRow("Seed", self.seed)
        self.keep_alive = QLineEdit()
        self.keep_alive.setToolTip("How long Ollama keeps the model loaded after a request "
                                   "(e.g. 10m, 1h, 0 to unload at once, -1 forever)")
        f.addRow("Keep model loaded", self.keep_alive)
        v.addWidget(model)

        cards = QGroupBox("Cards")
        f = QFormLayout(cards)
        self.deck = QComboBox()
        self.deck.setEditable(True)
        for entry in sorted(mw.col.decks.all_names_and_ids(), key=lambda d: d.name.lower()):
            self.deck.addItem(entry.name)
        f.addRow("Default deck", self.deck)
        self.card_kind = QComboBox()
        for kind, kind_title in KIND_LABELS:
            self.card_kind.addItem(kind_title, kind.value)
        f.addRow("Card type", self.card_kind)
        self.note_type = QComboBox()
        self.note_type.addItem("Anki's own type for the card type", "")
        for entry in sorted(mw.col.models.all_names_and_ids(), key=lambda m: m.name.lower()):
            self.note_type.addItem(entry.name, entry.name)
        self.note_type.setToolTip("Use one of your note types instead; choose which field gets "
                                  "what in the Generate dialog")
        f.addRow("Note type", self.note_type)
        self.tags = QLineEdit()
        self.tags.setPlaceholderText("space-separated")
        f.addRow("Tags", self.tags)
        self.language = language_combo()
        f.addRow("Language", self.language)
        self.max_cards = _spin(0, 1000,
                               tip="How many cards one generation makes in all; Auto = by length")
        self.max_cards.setSpecialValueText("Auto")
        f.addRow("Number of cards", self.max_cards)
        self.skip_duplicates = QCheckBox("Uncheck cards whose front is already in the collection")
        f.addRow("", self.skip_duplicates)
        self.prompt_additions = QPlainTextEdit()
        self.prompt_additions.setPlaceholderText(
            "Extra instructions for the model, e.g. “Ask about definitions and dates.”")
        self.prompt_additions.setMaximumHeight(80)
        f.addRow("Extra instructions", self.prompt_additions)
        v.addWidget(cards)

        similar = QGroupBox("Similar cards (duplicates by meaning)")
        f = QFormLayout(similar)
        self.embed_model = QComboBox()
        self.embed_model.setToolTip(
            "An embedding model on the server (e.g. all-minilm, nomic-embed-text) compares new "
            "cards with your notes by meaning. Test connection lists the server's embedding models.")
        f.addRow("Embedding model", self.embed_model)
        self.similarity_threshold = QDoubleSpinBox()
        self.similarity_threshold.setRange(0.5, 0.99)
        self.similarity_threshold.setSingleStep(0.01)
        self.similarity_threshold.setDecimals(2)
        self.similarity_threshold.setToolTip(
            "How close in meaning counts as similar (0.86 measured with all-minilm); lower finds "
            "more rephrasings, and more notes that are only related")
        f.addRow("Similar from", self.similarity_threshold)
        self.skip_similar = QCheckBox("Uncheck similar cards (bulk import: do not add them)")
        f.addRow("", self.skip_similar)
        v.addWidget(similar)

        other = QGroupBox("Other")
        f = QFormLayout(other)
        self.shortcut = QKeySequenceEdit()
        f.addRow("Shortcut", self.shortcut)
        self.log_content = QCheckBox("Write prompts and answers to the add-on's log (to debug)")
        f.addRow("", self.log_content)
        v.addWidget(other)
        v.addStretch(1)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel
                                        | QDialogButtonBox.StandardButton.RestoreDefaults)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        restore = self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        assert restore is not None
        restore.clicked.connect(
            lambda: self.load(Settings()))
        outer.addWidget(self.buttons)
        self.load(self.settings)
        restoreGeom(self, "ollamaFlashcardsSettings", adjustSize=False)
        if self.width() < 400:
            self.resize(620, 720)

    # --- values -------------------------------------------------------------------------------
    def load(self, cfg: Settings) -> None:
        _select(self.backend, cfg.backend.value)
        self.url.setText(cfg.url)
        self.api_key.setText(cfg.api_key)
        self.connect_timeout.setValue(int(cfg.connect_timeout))
        self.read_timeout.setValue(int(cfg.read_timeout))
        self.parallel.setValue(cfg.parallel_requests)
        self.model.setEditText(cfg.model)
        self.temperature.setValue(cfg.temperature)
        self.num_ctx.setValue(cfg.num_ctx if isinstance(cfg.num_ctx, int) else 0)  # 0 shows "auto"
        self.num_predict.setValue(cfg.num_predict)
        self.seed.setValue(cfg.seed)
        self.keep_alive.setText(cfg.keep_alive)
        self.deck.setEditText(cfg.deck)
        _select(self.card_kind, cfg.card_kind.value)
        _select(self.note_type, cfg.note_type)
        self.tags.setText(" ".join(cfg.tags))
        if not _select(self.language, cfg.language):
            self.language.setEditText(cfg.language)
        self.max_cards.setValue(cfg.max_cards)
        self.skip_duplicates.setChecked(cfg.skip_duplicates)
        self._offer_embed_models([], cfg.embed_model)
        self.similarity_threshold.setValue(cfg.similarity_threshold)
        self.skip_similar.setChecked(cfg.skip_similar)
        self.prompt_additions.setPlainText(cfg.prompt_additions)
        self.shortcut.setKeySequence(QKeySequence(cfg.shortcut))
        self.log_content.setChecked(cfg.log_content)
        self._update_privacy()

    def backend_kind(self) -> BackendKind:
        return BackendKind.parse(self.backend.currentData() or BackendKind.OLLAMA)

    def values(self) -> Dict[str, Any]:
        """The form as config keys (what Save stores)."""
        language = language_value(self.language)
        return {
            "backend": self.backend_kind().value,
            "url": self.url.text().strip() or self.backend_kind().default_url,
            "api_key": self.api_key.text().strip(),
            "connect_timeout": self.connect_timeout.value(),
            "read_timeout": self.read_timeout.value(),
            "parallel_requests": self.parallel.value(),
            "model": self.model.currentText().strip(),
            "temperature": round(self.temperature.value(), 2),
            "num_ctx": max(512, self.num_ctx.value()) if self.num_ctx.value() else "auto",
            "num_predict": self.num_predict.value(),
            "seed": self.seed.value(),
            "keep_alive": self.keep_alive.text().strip() or Settings().keep_alive,
            "deck": self.deck.currentText().strip() or Settings().deck,
            "card_kind": str(self.card_kind.currentData()),
            "note_type": self.note_type.currentData() or "",
            "tags": self.tags.text().split(),
            "language": language,
            "max_cards": self.max_cards.value(),
            "skip_duplicates": self.skip_duplicates.isChecked(),
            "embed_model": str(self.embed_model.currentData() or ""),
            "similarity_threshold": round(self.similarity_threshold.value(), 2),
            "skip_similar": self.skip_similar.isChecked(),
            "prompt_additions": self.prompt_additions.toPlainText().strip(),
            "shortcut": self.shortcut.keySequence().toString(),
            "log_content": self.log_content.isChecked(),
        }

    def save(self) -> Dict[str, Any]:
        cfg = dict(mw.addonManager.getConfig(ADDON) or {})
        old_note_type = cfg.get("note_type", "")
        cfg.update(self.values())
        if cfg["note_type"] != old_note_type:
            cfg["field_mapping"] = {}
        mw.addonManager.writeConfig(ADDON, cfg)
        _apply_shortcut(cfg["shortcut"])
        ensure_log()  # log_content may have changed
        return cfg

    def accept(self) -> None:
        self.save()
        settings = get_settings()
        if settings.embed_model:  # switched on (or changed): build the notes' cache now
            from .similar_cache import CACHE

            CACHE.start_build(settings)
        saveGeom(self, "ollamaFlashcardsSettings")
        tooltip("Settings saved.", parent=self.parentWidget() or mw)
        if self.on_saved is not None:
            self.on_saved()
        super().accept()

    def reject(self) -> None:
        saveGeom(self, "ollamaFlashcardsSettings")
        super().reject()

    def _on_backend_changed(self, *_args: Any) -> None:
        kind = self.backend_kind()
        self.url.setPlaceholderText(kind.default_url)
        if self.url.text().strip() in DEFAULT_URLS.values():
            self.url.setText(kind.default_url)
        self.keep_alive.setEnabled(kind == BackendKind.OLLAMA)
        self._update_privacy()

    def _update_privacy(self, *_args: Any) -> None:
        show_privacy(self.privacy, self.url.text().strip() or self.backend_kind().default_url)

    # --- test connection ----------------------------------------------------------------------
    def test_connection(self) -> None:
        cfg = self.settings.replace(**self.values())
        self.test_btn.setEnabled(False)
        self.test_label.setText("Connecting…")
        self.message.clear()

        def done(found: Tuple[ServerInfo, List[str]]) -> None:
            info, embedders = found
            if not is_alive(self):
                return
            self.test_btn.setEnabled(True)
            self.test_label.setText("✓ " + info.status_line())
            current = self.model.currentText()
            self.model.clear()
            for name in info.models:
                if name not in embedders:
                    self.model.addItem(name)
            self.model.setEditText(current)
            self._offer_embed_models(embedders, str(self.embed_model.currentData() or ""))

        def failed(err: Exception) -> None:
            if not is_alive(self):
                return
            self.test_btn.setEnabled(True)
            self.test_label.setText("")
            self.message.show_message(esc(error_text(err, cfg.api_key)), "error")

        def ask() -> Tuple[ServerInfo, List[str]]:
            from ..generator.backends import make_backend
            from ..generator.similar.search import embedding_models

            info = server_info(cfg)
            backend = make_backend(cfg)
            try:
                return info, embedding_models(backend, info.models)
            finally:
                backend.close()

        run_network(self, ask, done, failed)

    def _offer_embed_models(self, names: List[str], current: str) -> None:
        """Off, the server's embedding models, and the one set now (even if not listed)."""
        self.embed_model.clear()
        self.embed_model.addItem("Off", "")
        for name in names:
            self.embed_model.addItem(name, name)
        if current and self.embed_model.findData(current) < 0:
            self.embed_model.addItem(current, current)
        _select(self.embed_model, current)


def _apply_shortcut(sequence: str) -> None:
    """Give the Tools menu action its new shortcut at once (no restart needed)."""
    for action in mw.form.menuTools.actions():
        if action.objectName() == GENERATE_ACTION:
            action.setShortcut(QKeySequence(sequence))


def _spin(low: int, high: int, suffix: str = "", step: int = 1, tip: str = "") -> QSpinBox:
    s = QSpinBox()
    s.setRange(low, high)
    s.setSingleStep(step)
    if suffix:
        s.setSuffix(suffix)
    if tip:
        s.setToolTip(tip)
    return s


def _select(combo: QComboBox, value: str) -> bool:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)
        return True
    return False

