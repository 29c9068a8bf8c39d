"""How the Generate and Bulk dialogs close: Esc closes, a close asks first (``may_close``),
may wait for a running job to stop, and cleans up exactly once (a mixin, listed before
``QDialog``)."""
from typing import Any

import aqt
from aqt.utils import saveGeom


class ClosingDialog:
    """The dialog sets ``DIALOG_NAME`` (its aqt.dialogs name) and ``GEOMETRY_KEY``, and has
    ``may_close()``, ``remember()`` and ``deck_chooser``."""

    DIALOG_NAME = ""
    GEOMETRY_KEY = ""

    def reject(self) -> None:  # Esc
        self.close()

    def closeEvent(self, event: Any) -> None:  # type: ignore[override]
        if getattr(self, "_cleaned", False):
            super().closeEvent(event)
            return
        if not self.may_close():
            event.ignore()
            return
        if self._close_later():
            event.ignore()
            return
        self._cleanup()
        super().closeEvent(event)

    def _close_later(self) -> bool:
        """True to finish closing later (e.g. once a job has stopped); the close is ignored."""
        return False

    def _stop_background(self) -> None:
        """Stop what runs in the background for this dialog (at clean-up)."""

    def _cleanup(self) -> None:
        if getattr(self, "_cleaned", False):
            return
        self._cleaned = True
        self._stop_background()
        try:
            self.remember()
        except Exception:
            pass
        saveGeom(self, self.GEOMETRY_KEY)
        self.deck_chooser.cleanup()
        aqt.dialogs.markClosed(self.DIALOG_NAME)
        self._before_delete()
        self.deleteLater()

    def _before_delete(self) -> None:
        """The last step before the dialog is deleted."""
