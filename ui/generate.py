"""The Generate dialog: source → options → model → generate (in the background) → review → add.

Nothing slow runs on the main thread: the model list and file reading are
``QueryOp(...).without_collection()``; generation, pulls and regenerate-one (minutes) run on
a worker via ``common.run_long`` (a QueryOp would blank the Browser's rows for that long);
the duplicate check is a read-only QueryOp; adding is a ``CollectionOp`` (one undo step).
Every engine error is shown in the dialog's message bar (``describe(err)``), never as a
traceback."""
import threading
from typing import Any, Callable, Dict, List, Optional

from aqt import mw
from aqt.qt import QDialog, Qt, QWidget
from aqt.utils import askUser, restoreGeom, tooltip

from ..generator.cards import CLOZE, Card
from ..generator.documents import Document
from .common import (
    ensure_log,
    error_text,
    esc,
    get_config,
    is_alive,
    plural,
    run_long,
    run_with_collection,
    show_in_browser,
)
from .dialog_close import ClosingDialog
from .field_mapping import NOT_USED, FieldMapping  # noqa: F401  (kept importable from here)
from .generate_choices import GenerateChoices
from .generate_job import FROM_NOTE_TAG, GenerateJob
from .generate_layout import GenerateLayout
from .generate_models import GenerateModels, same_model  # noqa: F401
from .generate_source import PREVIEW_CHARS, GenerateSource  # noqa: F401

DIALOG_NAME = "OllamaFlashcardsGenerate"
TITLE = "Generate Flashcards"


class GenerateDialog(GenerateLayout, GenerateChoices, GenerateSource, GenerateModels, GenerateJob,
                     ClosingDialog, QDialog):
    """The dialog: its state, the review list, adding, closing. Building the widgets, the
    choices, the source, the model list and the job are its mixins (ui/generate_*.py)."""

    silentlyClose = False
    DIALOG_NAME = DIALOG_NAME
    GEOMETRY_KEY = "ollamaFlashcardsGenerate"

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
        restoreGeom(self, self.GEOMETRY_KEY, adjustSize=False)
        if self.width() < 400:
            self.resize(1000, 680)
        self.set_source(**source)
        self.refresh_models()

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
        show_in_browser(self.last_added)

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

    def closeWithCallback(self, callback: Callable[[], None]) -> None:
        """Called by Anki when the profile closes (aqt.dialogs)."""
        if self.may_close():
            self._cleanup()
            QDialog.close(self)
            callback()

    def _stop_background(self) -> None:  # at clean-up (ClosingDialog)
        if self._pull_cancel is not None:
            self._pull_cancel.set()

    def reopen(self, *_args: Any, **source: Any) -> None:
        """aqt.dialogs.open() on an open dialog: take the new source unless a job is running."""
        if source and any(source.values()):
            if self.busy:
                tooltip("Finish or cancel the current generation first.", parent=self)
                return
            self.set_source(**source)
            self.message.clear()
