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
import threading
from typing import Any, Callable, Dict, List, Optional

import aqt
from aqt import mw
from aqt.qt import QDialog, Qt, QTimer, QWidget
from aqt.utils import askUser, restoreGeom, tooltip

from ..generator.jobfiles import unfinished  # noqa: F401  (kept importable from here)
from . import resume
from .bulk_files import BulkFiles, expand_paths, supported_extensions  # noqa: F401
from .bulk_job import BulkJob, QtAdder  # noqa: F401
from .bulk_layout import (  # noqa: F401  (the names ui.bulk had before the split)
    COL_FILE,
    COL_STATUS,
    COL_TYPE,
    TAB_FILES,
    TAB_REVIEW,
    TAB_SUMMARY,
    BulkLayout,
)
from .bulk_report import BulkReport
from .bulk_review import BulkReview
from .bulk_unfinished import BulkUnfinished
from .dialog_close import ClosingDialog
from .field_mapping import CardTypeChoice
from .common import (
    error_text,
    esc,
    get_config,
    is_alive,
    plural,
    register_dialog,
    run_network,
    save_config,
    server_info,
)

DIALOG_NAME = "OllamaFlashcardsBulk"
TITLE = "Bulk Generate from Files"
REFRESH_MS = 250  # how often the dialog shows the job's state while it runs


def bulk_folder() -> str:
    """Where this profile's journals live: the add-on's ``user_files`` (kept on upgrades)."""
    return resume.bulk_folder(mw)


# --- the dialog --------------------------------------------------------------------------------

class BulkDialog(BulkLayout, BulkFiles, BulkJob, BulkReport, BulkReview, BulkUnfinished,
                 CardTypeChoice, ClosingDialog, QDialog):
    """The dialog: its state, the job's settings, closing. Building the widgets, the file list,
    running a job, reporting it, review mode and offering unfinished jobs are its mixins
    (ui/bulk_*.py); the card type or note type with its field mapping is ``CardTypeChoice``
    (ui/field_mapping.py, shared with the Generate dialog)."""

    silentlyClose = False
    DIALOG_NAME = DIALOG_NAME
    GEOMETRY_KEY = "ollamaFlashcardsBulk"

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
        restoreGeom(self, self.GEOMETRY_KEY, adjustSize=False)
        if self.width() < 400:
            self.resize(900, 600)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._tick)
        self._update_buttons()
        self.refresh_models()
        self.check_unfinished()

    # ==== the job's settings ====================================================================
    def model(self) -> str:
        return self.model_combo.currentText().strip()

    def mode(self) -> str:
        return "review" if self.mode_review.isChecked() else "add"

    def spec(self) -> Any:
        from ..generator.bulk import BulkSpec
        from ..generator.job import JobOptions

        cfg = get_config()
        options = JobOptions.from_config(cfg, model=self.model(), kind=self.kind(),
                                         parallel=self.parallel_spin.value(), max_cards=0)
        # The job's journal keeps the target (note type and field mapping too): resuming uses it.
        target = self.note_target(self.deck_chooser.selected_deck_name() or "Default",
                                  self.tags_edit.text().split())
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
        for w in (self.kind_combo, self.mapping, self.tags_edit, self.model_combo, self.parallel_spin,
                  self.mode_add, self.mode_review, self.skip_known, self.deck_widget):
            w.setEnabled(idle)

    def idle(self) -> bool:
        """Nothing running in the background for this dialog (tests wait for this)."""
        return not self.busy and self.pending == 0

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

    def _close_later(self) -> bool:  # ClosingDialog
        if self.busy:  # stopping: finish closing when the job has stopped (within a second)
            self._closing = True
            self.hide()
            return True
        return False

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

    def _stop_background(self) -> None:  # at clean-up (ClosingDialog)
        self.timer.stop()

    def _before_delete(self) -> None:  # ClosingDialog
        self.hide()

    def reopen(self, *_args: Any, **_kwargs: Any) -> None:
        if not self.busy:
            self._refill_kinds()
            self.check_unfinished()

    def _refill_kinds(self) -> None:
        """List the note types again (one may have been added), keeping the choice."""
        kind, notetype, mapping = self.kind(), self.notetype(), self.field_mapping()
        self._fill_kinds()
        self.select_kind(kind, notetype, mapping)


def _warm_up() -> None:
    """Import what a job uses (on a worker thread): importing it on the main thread when the
    user clicks Generate would freeze the window for tens of milliseconds."""
    from ..generator import bulk, chunking, notes, sources  # noqa: F401
    from ..generator.backends import http, ollama  # noqa: F401
    from . import review  # noqa: F401

    import requests  # noqa: F401


# --- entry points --------------------------------------------------------------------------------

def _register() -> None:
    def create(parent: Any) -> BulkDialog:
        dialog = BulkDialog(parent)
        dialog.show()
        return dialog

    register_dialog(DIALOG_NAME, create)


def open_bulk_dialog(main_window: Any = None) -> BulkDialog:
    """Open the bulk dialog (or bring the open one forward)."""
    _register()
    return aqt.dialogs.open(DIALOG_NAME, main_window or mw)


def offer_resume(main_window: Any = None) -> None:
    """At profile open: if a bulk job was left unfinished, open this dialog a moment later,
    offering to resume it (``ui.resume`` does the cheap check; Anki's hook calls that)."""
    resume.offer_resume(main_window or mw)
