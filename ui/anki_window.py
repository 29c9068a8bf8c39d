"""A window of the add-on that Anki manages like its own (``aqt.dialogs``): it keeps its size
between sessions, closes once whichever way it is closed (Esc, its Close button, Anki closing
the profile), stops what it runs in the background, and then lets Anki forget it."""
from typing import Any, Optional

import aqt
from aqt.qt import QCloseEvent, QDialog, Qt, QWidget
from aqt.utils import restoreGeom, saveGeom


class AnkiWindow(QDialog):
    """``NAME`` is the window's name for ``aqt.dialogs`` and for its saved size. A subclass
    builds its widgets, then calls ``fit()``; ``stop_background`` is where it stops its work."""

    NAME = ""
    SIZE = (1000, 640)

    def __init__(self, parent: Optional[QWidget], title: str) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName(self.NAME)
        self.setWindowTitle(title)
        self.cleaned = False

    def fit(self) -> None:
        """The size the user left it at, or ``SIZE`` the first time."""
        restoreGeom(self, self.NAME, adjustSize=False)
        if self.width() < 400:
            self.resize(*self.SIZE)

    def stop_background(self) -> None:
        """Stop what runs for this window (it is closing)."""

    def closeEvent(self, event: Optional[QCloseEvent]) -> None:
        self.cleanup()
        super().closeEvent(event)

    def reject(self) -> None:  # Esc
        self.close()

    def closeWithCallback(self, callback: Any) -> None:
        """Anki closes the profile (aqt.dialogs)."""
        self.cleanup()
        QDialog.close(self)
        callback()

    def cleanup(self) -> None:
        if self.cleaned:
            return
        self.cleaned = True
        self.stop_background()
        saveGeom(self, self.NAME)
        aqt.dialogs.markClosed(self.NAME)
        self.hide()
        self.deleteLater()
