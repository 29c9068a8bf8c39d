"""``JobDialog``: how the Generate and Bulk dialogs close. Esc closes; a close asks first
(``may_close``), may finish later once a job has stopped (``close_later``), and cleans up
exactly once (``cleanup``: stop background work, remember the choices, save the geometry,
let Anki forget the dialog, delete it). Subclasses override the hooks, nothing else."""
from typing import Any, Callable, Optional

import aqt
from aqt.qt import QCloseEvent, QDialog, Qt, QWidget
from aqt.utils import restoreGeom, saveGeom


class JobDialog(QDialog):
    silentlyClose = False

    def __init__(self, parent: Optional[QWidget], dialog_name: str, geometry_key: str) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.dialog_name = dialog_name
        self.geometry_key = geometry_key
        self.cleaned = False

    def restore_geometry(self, width: int, height: int) -> None:
        restoreGeom(self, self.geometry_key, adjustSize=False)
        if self.width() < 400:
            self.resize(width, height)

    # --- hooks --------------------------------------------------------------------------------
    def may_close(self) -> bool:
        """Ask before closing (a running job, cards not added); False keeps the dialog open."""
        return True

    def close_later(self) -> bool:
        """True to finish closing later (e.g. once a job has stopped); the close is ignored."""
        return False

    def stop_background(self) -> None:
        """Stop what runs in the background for this dialog (at clean-up)."""

    def remember(self) -> None:
        """Store the user's choices (at clean-up)."""

    def release(self) -> None:
        """Let go of parts that hold on to Anki (e.g. a deck chooser's hooks)."""

    # --- closing ------------------------------------------------------------------------------
    def reject(self) -> None:  # Esc
        self.close()

    def closeEvent(self, event: Optional[QCloseEvent]) -> None:
        if event is None or self.cleaned:
            super().closeEvent(event)
            return
        if not self.may_close() or self.close_later():
            event.ignore()
            return
        self.cleanup()
        super().closeEvent(event)

    def closeWithCallback(self, callback: Callable[[], Any]) -> None:
        """Anki closes the profile (aqt.dialogs)."""
        if self.may_close():
            self.cleanup()
            QDialog.close(self)
            callback()

    def cleanup(self) -> None:
        if self.cleaned:
            return
        self.cleaned = True
        self.stop_background()
        try:
            self.remember()
        except Exception as e:  # remembering must never keep a dialog from closing
            print("ollama-flashcards: could not remember the choices:", e)
        saveGeom(self, self.geometry_key)
        self.release()
        aqt.dialogs.markClosed(self.dialog_name)
        self.hide()
        self.deleteLater()
