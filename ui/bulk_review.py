"""The bulk dialog's review mode: the cards of a job wait in the Review tab until they are
added or discarded (a mixin of ``BulkDialog``)."""
import os
from typing import Any, Dict

from aqt.qt import QTimer
from aqt.utils import askUser, tooltip

from ..generator.jobfiles import INDEX_NAME
from .bulk_layout import TAB_REVIEW
from .common import error_text, esc, is_alive, plural, run_with_collection


class BulkReview:
    """Cards waiting for review: show them, add the checked ones, or discard them all."""

    # ==== review mode ==========================================================================
    def _show_review(self, result: Any) -> None:
        from ..generator.bulk import BulkSpec, NoteWriter

        journal = self.journal
        spec = BulkSpec.from_header(journal.state.header)
        writer = NoteWriter(journal, spec.target, spec.skip_duplicates, self._index())
        self._review_writer = writer
        self._review_chunks = [r.id for r in journal.state.pending_chunks()]
        cards = list(result.pending)
        self.review.clear_cards()
        self.review.set_kind(spec.target.kind)

        def op(col: Any) -> None:
            writer.mark(col, cards)

        def done(_: Any) -> None:
            self.pending -= 1
            if not is_alive(self):
                return
            self.review.add_cards(cards)
            if spec.skip_duplicates:
                self.review.uncheck_duplicates()
            self.review_label.setText("%s from %s. Check the ones to keep, double-click to edit."
                                      % (plural(len(cards), "card"), plural(len(spec.files), "file")))
            self.tabs.setCurrentIndex(TAB_REVIEW)
            self._update_buttons()

        def failed(err: Exception) -> None:
            self.pending -= 1
            if is_alive(self):
                self.review.add_cards(cards)
                self.tabs.setCurrentIndex(TAB_REVIEW)
                self._update_buttons()

        self.pending += 1
        run_with_collection(self, op, done, failed)

    def _on_tab_changed(self, index: int) -> None:
        """The review table wants the width; the job's options are not needed while reviewing."""
        self.options_box.setVisible(index != TAB_REVIEW)
        if index == TAB_REVIEW and self.review.cards:
            QTimer.singleShot(0, self.review.resizeRowsToContents)  # rows for the new width

    def _index(self) -> Any:
        from ..generator.journal import ChunkIndex

        return ChunkIndex(os.path.join(self.folder, INDEX_NAME))

    def add_reviewed(self) -> None:
        from aqt.operations import CollectionOp

        writer = self._review_writer
        journal = self.journal
        if writer is None or journal is None or self.busy:
            return
        keep = self.review.checked_cards()
        chunk_ids = list(self._review_chunks)
        holder: Dict[str, Any] = {}
        self.add_reviewed_btn.setEnabled(False)

        def op(col: Any) -> Any:
            outcome = writer.add_reviewed(col, keep, chunk_ids)
            holder["outcome"] = outcome
            if outcome.changes is None:
                from anki.collection import OpChanges

                return OpChanges()
            return outcome.changes

        def done(_changes: Any) -> None:
            self.pending -= 1
            journal.finish("done")
            outcome = holder.get("outcome")
            if not is_alive(self) or outcome is None:
                return
            self.review.clear_cards()
            self._review_chunks = []
            if self.result is not None:
                self.result.note_ids = list(journal.state.note_ids)
                self.result.pending = []
            n = len(outcome.note_ids)
            text = "Added %s." % plural(n, "card")
            if outcome.skipped:
                text += " %s not added (duplicates or invalid)." % plural(len(outcome.skipped), "card was", "cards were")
            tooltip(text, parent=self)
            self.message.show_message(esc(text), "success" if n else "info",
                                      [("Show in Browser", self.show_added)] if n else [])
            self._update_buttons()

        def failed(err: Exception) -> None:
            self.pending -= 1
            if is_alive(self):
                self.message.show_message(esc(error_text(err)), "error")
                self._update_buttons()

        self.pending += 1
        CollectionOp(parent=self, op=op).success(done).failure(failed).run_in_background(initiator=self)

    def discard_review(self) -> None:
        journal = self.journal
        if journal is None or not self._review_chunks:
            return
        if not askUser("Discard all %s without adding them?" % plural(len(self.review.cards), "card"),
                       parent=self, defaultno=True):
            return
        journal.discard(self._review_chunks)
        journal.finish("discarded")
        self._review_chunks = []
        self.review.clear_cards()
        self.message.show_message("Discarded the cards.", "info")
        self._update_buttons()
