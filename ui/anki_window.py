"""A window of the add-on that Anki manages like its own (``aqt.dialogs``): it keeps its size
between sessions, closes once whichever way it is closed (Esc, its Close button, Anki closing
the profile), stops what it runs in the background, and then lets Anki forget it.

Its layout (``outer``) ends with what every window of the add-on has at its bottom
(``lay_out_bottom``): the progress row (``progress``, hidden while nothing runs), the message
bar (``message``) and a row of buttons. ``ModelWindow`` adds the model picker (``models``) and
the settings, opened through a callback (the window opens no other dialog itself)."""
from typing import Any, Callable, Optional, Sequence

import aqt
from aqt.qt import QCloseEvent, QDialog, QHBoxLayout, Qt, QVBoxLayout, QWidget
from aqt.utils import saveGeom

from .common import is_alive, restore_size
from .message_bar import MessageBar
from .model_picker import ModelPicker
from .progress_row import ProgressRow

OpenSettings = Callable[[QWidget, Callable[[], None]], Any]


class AnkiWindow(QDialog):
    """``NAME`` is the window's name for ``aqt.dialogs`` (and its object name), ``GEOMETRY``
    the key its size is saved under (``NAME`` when empty), ``SIZE`` its first size, ``STOP_TIP``
    the tip of its progress row's Cancel button. A subclass builds its widgets, then calls
    ``fit()``; ``stop_background`` is where it stops its work."""

    silentlyClose = False  # aqt.dialogs: closing the profile calls closeWithCallback
    NAME = ""
    GEOMETRY = ""
    SIZE = (1000, 640)
    STOP_TIP = ""

    def __init__(self, parent: Optional[QWidget], title: str) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName(self.NAME)
        self.setWindowTitle(title)
        self.cleaned = False
        self.outer = QVBoxLayout(self)
        self.message = MessageBar(self)
        self.progress = ProgressRow(self.STOP_TIP)

    def lay_out_bottom(self, left: Sequence[QWidget], right: Sequence[QWidget]) -> None:
        """At the bottom of ``outer``: the progress row, the message bar, and a row of buttons
        (``left``, a stretch, ``right``)."""
        self.outer.addWidget(self.progress)
        self.outer.addWidget(self.message)
        row = QHBoxLayout()
        for b in left:
            row.addWidget(b)
        row.addStretch(1)
        for b in right:
            row.addWidget(b)
        self.outer.addLayout(row)

    def fit(self) -> None:
        """The size the user left it at, or ``SIZE`` the first time."""
        restore_size(self, self.GEOMETRY or self.NAME, self.SIZE)

    # --- hooks --------------------------------------------------------------------------------
    def stop_background(self) -> None:
        """Stop what runs for this window (it is closing)."""

    def close_now(self) -> bool:
        """Whether a close goes ahead now; False ignores it (the user chose to keep the window,
        or it finishes closing later)."""
        return True

    def remember(self) -> Any:
        """Store the user's choices (at clean-up)."""

    def release(self) -> None:
        """Let go of parts that hold on to Anki (e.g. a deck chooser's hooks)."""

    # --- closing ------------------------------------------------------------------------------
    def closeEvent(self, event: Optional[QCloseEvent]) -> None:
        if event is not None and not self.cleaned and not self.close_now():
            event.ignore()
            return
        self.cleanup()
        super().closeEvent(event)

    def reject(self) -> None:  # Esc
        self.close()

    def closeWithCallback(self, callback: Callable[[], Any]) -> None:
        """Anki closes the profile (aqt.dialogs)."""
        self.cleanup()
        QDialog.close(self)
        callback()

    def cleanup(self) -> None:
        """Exactly once: stop the background work, remember the choices, save the size, let
        go of Anki's parts, let Anki forget the window, delete it."""
        if self.cleaned:
            return
        self.cleaned = True
        self.stop_background()
        try:
            self.remember()
        except Exception as e:  # remembering must never keep a window from closing
            print("ollama-flashcards: could not remember the choices:", e)
        saveGeom(self, self.GEOMETRY or self.NAME)
        self.release()
        aqt.dialogs.markClosed(self.NAME)
        self.hide()
        self.deleteLater()


class ModelWindow(AnkiWindow):
    """A window that asks a model: its ``ModelPicker`` (``models``, saying its problems in the
    message bar unless ``model_messages`` is False), whose "Settings…" opens the add-on's
    settings through ``open_settings``; once they are saved, the model list is read again."""

    def __init__(self, parent: Optional[QWidget], title: str, open_settings: OpenSettings, model: str,
                 model_messages: bool = True) -> None:
        super().__init__(parent, title)
        self._open_settings = open_settings
        self.models = ModelPicker(self.message if model_messages else None, self.open_settings)
        self.models.set_model(model)

    def open_settings(self) -> None:
        self._open_settings(self, self.settings_saved)

    def settings_saved(self) -> None:
        if is_alive(self):
            self.models.refresh()
