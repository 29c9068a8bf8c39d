"""``CardAdder``: adding the Generate dialog's checked cards, and what follows.

``add(cards, target)`` adds them in one undo step (a ``CollectionOp``; the figures the cards
show are written to the media first), then marks their rows "Added" (or says why a card was
not added) and offers "Show in Browser". The user's checkboxes decide: a checked duplicate was
checked on purpose. After any change to the notes (e.g. Edit → Undo), added rows whose notes
are gone can be added again (``on_operation``). ``keep_in_reach`` puts the cards added while a
job ran back into a later message, with "Show in Browser"."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

from anki.collection import Collection, OpChanges
from anki.notes import NoteId
from aqt import gui_hooks, mw
from aqt.qt import QWidget
from aqt.utils import tooltip

from ..generator.cards.card import Card
from .common import error_text, esc, is_alive, plural, show_in_browser
from .figure_widgets import FigureJob
from .message_bar import Action, MessageBar
from .review import ReviewTable

CHECKED_NOT_ADDED = "checked, not added yet"

if TYPE_CHECKING:
    from ..generator.notes.add import AddResult, NoteTarget


class CardAdder:
    """``figure_job``: the dialog's figures, written before the cards that show them (None: its
    cards show none); ``noun``: what the messages call a card (one, many); ``follow_undo``:
    rows whose notes an undo removed can be added again (``on_operation``)."""

    def __init__(self, parent: QWidget, table: ReviewTable, message: MessageBar,
                 figure_job: Optional[FigureJob], changed: Callable[[], None],
                 noun: Tuple[str, str] = ("card", "cards"), follow_undo: bool = True) -> None:
        self.parent = parent
        self.table = table
        self.message = message
        self.figure_job = figure_job
        self.changed = changed  # what can be done changed (the dialog's buttons follow)
        self.noun = noun
        self.adding = False  # an add is in progress
        self.last_added: List[NoteId] = []  # note ids of the last add
        self.added_at = 0.0  # when (time.monotonic()) the last add was done
        self.follow_undo = follow_undo
        if follow_undo:
            gui_hooks.operation_did_execute.append(self.on_operation)

    def close(self) -> None:
        if self.follow_undo:
            gui_hooks.operation_did_execute.remove(self.on_operation)

    def add(self, cards: List[Card], target: NoteTarget, files: Sequence[Any] = (),
            chunks: Sequence[Any] = (), then: Optional[Callable[[], None]] = None) -> None:
        """``files``: (path, document) of the documents read from files, whose cards are then
        recorded as made from them (``generator.update.track``) in the same undo step; ``then``
        runs once they were added (not when adding failed)."""
        from aqt.operations import CollectionOp

        from ..generator.occlusion.cards import add_all
        from ..generator.update.highlights import remember as remember_highlights
        from ..generator.update.track import track_files

        holder: Dict[str, Any] = {}
        self.adding = True
        self.changed()

        def op(col: Collection) -> OpChanges:
            if self.figure_job is not None:  # before the notes that show them
                holder["figures"] = self.figure_job.write(col, cards)
            result = add_all(col, cards, target, skip_duplicates=False)  # and Image Occlusion notes
            holder["result"] = result
            carded = [(c, n) for c, n in result.added if c.occlusion is None]
            track_files(col, files, carded, chunks, target)
            remember_highlights(col, [(p, d) for p, d in files if d.highlights is not None],
                                carded, chunks)
            return result.changes

        def done(_changes: OpChanges) -> None:
            self.adding = False
            result = holder.get("result")
            if result is not None and is_alive(self.parent):
                self._added(result, target, holder.get("figures") or [])
                if then is not None:
                    then()

        def failed(err: Exception) -> None:
            self.adding = False
            if is_alive(self.parent):
                self.changed()
                self.message.show_message(esc(error_text(err)), "error")

        CollectionOp(parent=self.parent, op=op).success(done).failure(failed) \
            .run_in_background(initiator=self.parent)

    def _added(self, result: AddResult, target: NoteTarget, figure_messages: List[str]) -> None:
        self.table.mark_added([(card, NoteId(nid)) for card, nid in result.added])
        for card, reason in result.skipped:
            self.table.set_not_added(card, reason)
        self.last_added = [NoteId(n) for n in result.note_ids]
        self.added_at = time.monotonic()
        n = len(result.note_ids)
        one, many = self.noun
        text = "Added %s to <b>%s</b>." % (plural(n, one, many), esc(target.deck))
        if result.skipped:
            text += " %s not added (see the list)." % plural(len(result.skipped), one + " was", many + " were")
        # every card of the list, added or not and why, adding up to the cards made
        text += " %s." % esc(self.table.review_rows.account().text(CHECKED_NOT_ADDED))
        for line in figure_messages:
            text += "<br>" + esc(line)
        tooltip("Added %s to %s." % (plural(n, one, many), esc(target.deck)), parent=self.parent)
        actions: List[Action] = [("Show in Browser", self.show_added)] if n else []
        self.message.show_message(text, "success" if n else "warning", actions)
        self.changed()

    def show_added(self) -> None:
        show_in_browser(self.last_added)

    def keep_in_reach(self, since: float) -> None:
        """Cards added after ``since`` (while a job ran) stay one click away when a later message
        (the job's end, its duplicate check) takes the bar: their count and "Show in Browser"."""
        if (self.last_added and self.added_at >= since
                and "Show in Browser" not in self.message.action_titles()):
            self.message.extend(" Added %s." % plural(len(self.last_added), "card"),
                                [("Show in Browser", self.show_added)])

    def on_operation(self, changes: OpChanges, handler: Optional[object]) -> None:
        """After any change to the notes (e.g. Edit → Undo): added rows whose notes are gone
        can be added again."""
        if not is_alive(self.parent) or not changes.note:
            return
        added = self.table.review_rows.added_note_ids()
        if not added or mw.col is None:
            return
        existing = set(mw.col.find_notes("nid:" + ",".join(str(n) for n in added)))
        gone = [n for n in added if n not in existing]
        if gone:
            undone = set(gone)
            self.last_added = [n for n in self.last_added if n not in undone]
        if gone and self.table.unmark_added(gone):
            self.message.show_message(
                "%s no longer in your collection (undone): back in the list to add again."
                % plural(len(gone), "added card is", "added cards are"), "info")
            self.changed()
