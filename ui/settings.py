"""The add-on's settings (the Config button in Tools > Add-ons): tabs of forms over ``Settings``,
a control per key (ui/settings_pages.py says which page and row, ui/settings_form.py makes the
widget from the key's type and reads it back by key).

The keys without a control (``NO_CONTROL``: the field mapping, set in the Generate dialog, and
the last folder, kept up to date) are listed on the Other page; "Advanced…" shows every
setting as JSON, where they can be edited too (config.md documents every key). Defaults come
from ``Settings`` (generator/config.py), never from here."""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from aqt import mw
from aqt.qt import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
)
from aqt.utils import saveGeom, tooltip

from ..generator.config import DEFAULT_URLS, BackendKind, Settings
from .common import (ADDON, button, ensure_log, error_text, esc, get_settings, is_alive, restore_size, run_network,
                     server_info)
from .message_bar import MessageBar, show_privacy
from .settings_form import ComboControl, SettingsForm, TextControl
from .settings_pages import NO_CONTROL, PAGES, EditableCombo, EmbedModelControl

if TYPE_CHECKING:
    from ..generator.backends.base import ServerInfo

GENERATE_ACTION = "ollamaFlashcardsGenerate"  # objectName of the Tools menu action (__init__.py)
GEOMETRY = "ollamaFlashcardsSettings"
SECRET = "api_key"  # left out of the JSON view, like the password field it has


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
        self.extra: Dict[str, Any] = {}  # keys without a control, as changed in Advanced…
        self.form = SettingsForm(PAGES)
        self.backend = self.form.control("backend", ComboControl).combo
        self.url = self.form.control("url", TextControl).edit
        self.model = self.form.control("model", EditableCombo).combo
        self.embed = self.form.control("embed_model", EmbedModelControl)
        self.embed_model = self.embed.combo
        self.privacy, self.message = MessageBar(self), MessageBar(self)
        self.test_btn = button("Test connection", self.test_connection)
        self.test_label = QLabel("")
        self.buttons = self._buttons()
        self._lay_out()
        self.backend.currentIndexChanged.connect(self._on_backend_changed)
        self.url.textChanged.connect(self._update_privacy)
        self.load(self.settings)
        restore_size(self, GEOMETRY, (620, 640))

    def _buttons(self) -> QDialogButtonBox:
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                               | QDialogButtonBox.StandardButton.Cancel
                               | QDialogButtonBox.StandardButton.RestoreDefaults)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        restore = box.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        assert restore is not None
        restore.clicked.connect(lambda: self.load(Settings()))
        advanced = QPushButton("Advanced…")
        advanced.setToolTip("Every setting as JSON, to read or edit")
        advanced.setAutoDefault(False)
        advanced.clicked.connect(lambda _c=False: self.show_json())
        box.addButton(advanced, QDialogButtonBox.ButtonRole.ActionRole)
        return box

    def _lay_out(self) -> None:
        """The form's tabs; on the Server page, where the text goes (as the URL is typed) and
        Test connection with what it found."""
        self.form.add_after("url", self.privacy)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_btn)
        self.test_label.setWordWrap(True)
        test_row.addWidget(self.test_label, 1)
        self.form.add_after("api_key", self.message)
        self.form.add_after("api_key", test_row, " ")
        outer = QVBoxLayout(self)
        outer.addWidget(self.form, 1)
        outer.addWidget(self.buttons)

    def widget(self, key: str) -> QWidget:
        """The control of a key (tests, and the rows that react to each other)."""
        return self.form.widget_of(key)

    # --- values -------------------------------------------------------------------------------
    def load(self, cfg: Settings) -> None:
        self.form.load(cfg)
        self._on_backend_changed()

    def backend_kind(self) -> BackendKind:
        return BackendKind.parse(self.backend.currentData() or BackendKind.OLLAMA)

    def values(self) -> Dict[str, Any]:
        """The form as config keys (what Save stores)."""
        values = self.form.values()
        values["url"] = values["url"] or self.backend_kind().default_url
        return values

    def save(self) -> Dict[str, Any]:
        cfg = dict(mw.addonManager.getConfig(ADDON) or {})
        old_note_type = cfg.get("note_type", "")
        cfg.update(self.values())
        cfg.update(self.extra)
        if cfg["note_type"] != old_note_type and "field_mapping" not in self.extra:
            cfg["field_mapping"] = {}  # the mapping was for the other note type
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
        saveGeom(self, GEOMETRY)
        tooltip("Settings saved.", parent=self.parentWidget() or mw)
        if self.on_saved is not None:
            self.on_saved()
        super().accept()

    def reject(self) -> None:
        saveGeom(self, GEOMETRY)
        super().reject()

    def _on_backend_changed(self, *_args: Any) -> None:
        kind = self.backend_kind()
        self.url.setPlaceholderText(kind.default_url)
        if self.url.text().strip() in DEFAULT_URLS.values():
            self.url.setText(kind.default_url)
        self.widget("keep_alive").setEnabled(kind == BackendKind.OLLAMA)
        self.widget("response_format").setEnabled(kind == BackendKind.OPENAI)
        self._update_privacy()

    def _update_privacy(self, *_args: Any) -> None:
        show_privacy(self.privacy, self.url.text().strip() or self.backend_kind().default_url)

    # --- every setting as JSON ----------------------------------------------------------------
    def all_values(self) -> Dict[str, Any]:
        """Every key but the API key (never shown): the form's, and those without a control as
        stored (or as edited)."""
        stored = self.settings.to_dict()
        values = {key: self.extra.get(key, stored[key]) for key in NO_CONTROL}
        values.update(self.values())
        del values[SECRET]
        return values

    def show_json(self) -> "JsonView":
        where = os.path.join(mw.addonManager.addonsFolder(ADDON), "meta.json")
        view = JsonView(self, self.all_values(), where, self.apply_json)
        view.show()
        return view

    def apply_json(self, raw: Dict[str, Any]) -> List[str]:
        """Edited JSON into the form (Save stores it); the problems, if it cannot be used."""
        problems: List[str] = []
        settings = Settings.from_dict(dict(raw, **{SECRET: self.values()[SECRET]}), problems)
        if problems:
            return problems
        self.load(settings)
        stored = self.settings.to_dict()
        for key in NO_CONTROL:
            value = settings.to_dict()[key]
            if value != stored[key] or key in self.extra:
                self.extra[key] = value
        return []

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
                    self.model.addItem(name, name)
            self.model.setEditText(current)
            self.embed.offer(embedders, str(self.embed_model.currentData() or ""))

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


class JsonView(QDialog):
    """Every setting as JSON, to read or edit: OK puts it into the settings form (which Save
    stores); JSON that is not valid, or a value the add-on cannot use, is said and kept."""

    def __init__(self, parent: QWidget, values: Dict[str, Any], where: str,
                 apply: Callable[[Dict[str, Any]], List[str]]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Ollama Flashcards Settings (JSON)")
        self.setObjectName("OllamaFlashcardsSettingsJson")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.apply = apply
        self.edit = QPlainTextEdit(json.dumps(values, indent=2, sort_keys=True, ensure_ascii=False))
        self.message = MessageBar(self)
        where_label = QLabel("Anki keeps these in %s (as its \"config\"); config.md in the add-on's "
                             "folder describes every key. The API key is left out (it is set on the "
                             "Server page). OK puts the changes into the settings window; Save there "
                             "stores them." % where)
        where_label.setTextFormat(Qt.TextFormat.PlainText)
        where_label.setWordWrap(True)
        where_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        v = QVBoxLayout(self)
        v.addWidget(where_label)
        v.addWidget(self.edit, 1)
        v.addWidget(self.message)
        v.addWidget(buttons)
        self.resize(560, 620)

    def accept(self) -> None:
        try:
            raw = json.loads(self.edit.toPlainText())
        except ValueError as e:
            self.message.show_message("This is not valid JSON: %s" % esc(str(e)), "error")
            return
        if not isinstance(raw, dict):
            self.message.show_message("The settings are one JSON object: { … }.", "error")
            return
        problems = self.apply(raw)
        if problems:
            self.message.show_message("<br>".join(esc(p) for p in problems), "error")
            return
        super().accept()


def _apply_shortcut(sequence: str) -> None:
    """Give the Tools menu action its new shortcut at once (no restart needed)."""
    for action in mw.form.menuTools.actions():
        if action.objectName() == GENERATE_ACTION:
            action.setShortcut(QKeySequence(sequence))
