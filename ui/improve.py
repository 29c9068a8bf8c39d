"""Improving the cards a learner struggles with, inside Anki.

- ``StrugglingDialog`` (Tools → Improve struggling cards…): the cards the collection calls hard,
  worst first, with their figures (read in a background collection read: never on the main
  thread); the worst ``PRESELECT`` start checked; *Improve N notes…* opens the next dialog.
- ``ImproveDialog`` (also the Browser's right-click → Improve with Ollama…): each note's
  diagnosis (a background collection read), then the model's proposals as they come (worker
  threads, no collection), before → after with the reasons, checked by default when the change
  passed the checks; *Apply* changes the checked ones in ONE undo step (a ``CollectionOp``:
  Edit → Undo Improve with Ollama). Nothing is changed before Apply. Options: reset the
  scheduling of rewritten cards, suspend the original of a split note (both off).

``open_improve`` and ``open_struggling`` are what the menus call."""
from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple

import aqt
from anki.collection import Collection, OpChanges
from anki.notes import NoteId
from aqt import gui_hooks, mw
from aqt.qt import QCheckBox, QHBoxLayout, QLabel, QWidget
from aqt.utils import tooltip

from .anki_window import AnkiWindow, ModelWindow, OpenSettings
from .common import (button, ensure_log, error_text, esc, get_settings, is_alive, on_main, plural,
                     register_dialog, run_long, run_with_collection, show_in_browser)
from .improve_tables import ProposalTable, StrugglingTable

IMPROVE_NAME = "OllamaFlashcardsImprove"
STRUGGLING_NAME = "OllamaFlashcardsStruggling"
PRESELECT = 10  # struggling cards checked when the list opens
LIST_LIMIT = 500


# --- the struggling cards ----------------------------------------------------------------------

class StrugglingDialog(AnkiWindow):
    NAME = STRUGGLING_NAME
    SIZE = (1000, 560)

    def __init__(self, parent: Optional[QWidget]) -> None:
        super().__init__(parent, "Struggling cards")
        self.fit()
        self.loading = False
        self.total = 0
        self.intro = QLabel("Reading the review history…")
        self.intro.setWordWrap(True)
        self.table = StrugglingTable(self)
        self.improve_btn = button("Improve notes…", self.improve)
        self.browse_btn = button("Show in Browser", self.show_checked)
        self._lay_out()
        self.table.checked_changed.connect(self.update_buttons)
        self.table.filled.connect(self._filled)
        self.load()

    def _lay_out(self) -> None:
        self.outer.addWidget(self.intro)
        self.outer.addWidget(self.table, 1)
        self.lay_out_bottom([self.browse_btn, button("Check all", lambda: self.table.set_all_checked(True)),
                             button("Check none", lambda: self.table.set_all_checked(False))],
                            [self.improve_btn, button("Close", self.close)])
        self.improve_btn.setDefault(True)
        self.update_buttons()

    def load(self) -> None:
        from ..generator.improve.history import struggling_cards

        self.loading = True
        run_with_collection(self, lambda col: struggling_cards(col, limit=LIST_LIMIT), self._loaded, self._failed)

    def _loaded(self, found: Any) -> None:
        if not is_alive(self):
            return
        self.total = found.total
        criteria = "tagged leech, or lapses at or above their deck's leech threshold"
        if found.fsrs:
            criteria += ", or (FSRS) a difficulty of 90% or more or a chance to recall them below 70%"
        shown = "" if found.total <= len(found.cards) else " (the worst %d shown)" % len(found.cards)
        self.intro.setText("%s your collection calls hard%s: %s. Worst first; read in %.2f s." % (
            plural(found.total, "card"), shown, criteria, found.seconds))
        self.table.show_cards(found.cards, PRESELECT, found.fsrs)  # in batches: ``_filled`` at the end
        if not found.cards:
            self.message.show_message("No struggling cards: nothing needs improving. To improve other notes, "
                                      "select them in the Browser and right-click → Improve with Ollama…",
                                      "success")

    def _filled(self) -> None:
        self.loading = False
        self.update_buttons()

    def _failed(self, err: Exception) -> None:
        self.loading = False
        if is_alive(self):
            self.message.show_message(esc(error_text(err)), "error")

    def update_buttons(self) -> None:
        n = len(self.table.checked_notes())
        self.improve_btn.setText("Improve %s…" % plural(n, "note") if n else "Improve notes…")
        self.improve_btn.setEnabled(n > 0)
        self.browse_btn.setEnabled(n > 0)

    def show_checked(self) -> None:
        show_in_browser([NoteId(n) for n in self.table.checked_notes()])

    def improve(self) -> None:
        nids = self.table.checked_notes()
        if nids:
            open_improve_dialog(nids, self)


# --- improving notes ---------------------------------------------------------------------------

class ImproveDialog(ModelWindow):
    NAME = IMPROVE_NAME
    SIZE = (1150, 700)
    STOP_TIP = "Stop asking: the notes answered so far stay in the list"

    def __init__(self, parent: Optional[QWidget], note_ids: Sequence[int], open_settings: OpenSettings) -> None:
        super().__init__(parent, "Improve with Ollama", open_settings, get_settings().model)
        self.fit()
        self.left_out = 0  # selected notes beyond MAX_NOTES, not improved this time
        self.note_ids = self._take(note_ids)
        self.diagnoses: List[Any] = []
        self.keys: Any = None
        self.asking = False
        self.reading = False
        self.applying = False
        self.answered = 0
        self.run = 0  # counts reads and asks: a late answer of an earlier one is ignored
        self.cancel = threading.Event()
        self.backend: Any = None
        self.last_applied: Dict[str, Any] = {}
        self.reset_box = QCheckBox("Reset the scheduling of rewritten cards (they start again as new "
                                   "cards; their review history is kept)")
        self.suspend_box = QCheckBox("Suspend the original of a note that is split")
        self.table = ProposalTable(self)
        self.apply_btn = button("Apply", self.apply)
        self.ask_btn = button("Ask again", self.ask)
        self.browse_btn = button("Show in Browser", self.show_notes)
        self._lay_out()
        self._connect()
        self.models.refresh()
        self.read()

    def _lay_out(self) -> None:
        self.outer.addWidget(self.models)
        options = QHBoxLayout()
        options.addWidget(self.reset_box)
        options.addWidget(self.suspend_box)
        options.addStretch(1)
        self.outer.addLayout(options)
        self.outer.addWidget(self.table, 1)
        self.lay_out_bottom([self.browse_btn, self.ask_btn], [self.apply_btn, button("Close", self.close)])
        self.apply_btn.setDefault(True)
        self.update_buttons()

    def _connect(self) -> None:
        self.table.checked_changed.connect(self.update_buttons)
        self.models.changed.connect(self.update_buttons)
        self.progress.cancel_requested.connect(self.stop)
        gui_hooks.operation_did_execute.append(self._on_operation)

    def reopen(self, _parent: Any, note_ids: Sequence[int]) -> None:
        """Opened again from a menu: start over with these notes (what runs is stopped)."""
        if self.applying:
            tooltip("Wait until the changes are applied.", parent=self)
            return
        self.stop_background(keep_hook=True)
        self.note_ids = self._take(note_ids)
        self.diagnoses = []
        self.last_applied = {}
        self.asking = False
        self.message.clear()
        self.read()

    def _take(self, note_ids: Sequence[int]) -> List[int]:
        """The notes to improve now: at most ``MAX_NOTES`` at a time, and the user is told."""
        from ..generator.improve.diagnose import MAX_NOTES

        ids = list(dict.fromkeys(int(n) for n in note_ids))
        self.left_out = max(0, len(ids) - MAX_NOTES)
        return ids[:MAX_NOTES]

    def idle(self) -> bool:
        """Nothing runs in the background for this dialog (tests wait for it)."""
        return not (self.reading or self.asking or self.applying or self.models.busy())

    # --- reading: the diagnosis --------------------------------------------------------------
    def read(self) -> None:
        from ..generator.improve.source import SourceFiles
        from .similar_cache import CACHE

        settings = get_settings()
        similar = CACHE.get(settings)
        if similar is not None:
            CACHE.start_build(settings)  # new and edited notes; what is cached is used meanwhile
        nids = list(self.note_ids)
        self.run += 1
        run = self.run
        self.reading = True
        self.progress.begin("Reading %s…" % plural(len(nids), "note"))
        files = SourceFiles(read=False)  # read on a worker, never while holding the collection

        def op(col: Collection) -> Optional[Tuple[List[Any], Any]]:
            from ..generator.improve.diagnose import diagnose_notes
            from ..generator.improve.request import DuplicateKeys

            diagnoses = diagnose_notes(col, nids, settings, similar, files=files)
            if files.waiting:
                return None  # diagnosed again once the source files are read
            return diagnoses, DuplicateKeys(col, diagnoses)

        def diagnosed(result: Optional[Tuple[List[Any], Any]]) -> None:
            if result is not None or not is_alive(self) or run != self.run:
                self._read(result, run)
                return
            run_long(files.read_wanted, lambda _r: again(), lambda e: self._failed(e, run))

        def again() -> None:
            if is_alive(self) and run == self.run:
                run_with_collection(self, op, lambda result: self._read(result, run),
                                    lambda e: self._failed(e, run))

        run_with_collection(self, op, diagnosed, lambda e: self._failed(e, run))

    def _read(self, result: Optional[Tuple[List[Any], Any]], run: int) -> None:
        if result is None or not is_alive(self) or run != self.run:
            return
        self.reading = False
        self.diagnoses, self.keys = result
        self.table.show_diagnoses(self.diagnoses)
        if not self.diagnoses:
            self.progress.end()
            self.message.show_message("The notes no longer exist.", "warning")
            return
        self.ask()

    # --- asking: the proposals -----------------------------------------------------------------
    def ask(self) -> None:
        from ..generator.backends import make_backend

        if self.asking or not self.diagnoses:
            return
        settings = get_settings().replace(model=self.models.model() or get_settings().model)
        self.cancel = cancel = threading.Event()
        self.backend = backend = make_backend(settings)
        self.run += 1
        run = self.run
        self.asking = True
        self.answered = 0
        self.table.show_diagnoses(self.diagnoses)
        self.message.clear()
        sent = [d for d in self.diagnoses if not d.skip]
        self.progress.begin("Asking %s about %s…" % (esc(settings.model), plural(len(sent), "note")))
        self.update_buttons()
        ds, keys = list(self.diagnoses), self.keys
        from .similar_cache import CACHE

        similar = CACHE.get(settings)  # on the main thread: it may start following the profile

        def op() -> Any:
            from ..generator.improve.request import AnswerChecks, base_for, improve, mark_similar

            base, parallel = base_for(backend, settings)
            proposals = improve(ds, backend, base, AnswerChecks(settings.language, keys), parallel, cancel,
                                lambda got: on_main(lambda: self._answered(got, len(sent), run)))
            before = {p.note_id: len(p.problems) for p in proposals}
            problem = mark_similar(proposals, similar, backend)
            # what the rows do not show yet: marks of similar notes, notes not asked (cancelled)
            changed = [p for p in proposals if len(p.problems) != before[p.note_id]]
            return proposals, changed, problem

        run_long(op, lambda result: self._asked(result, run), lambda e: self._failed(e, run))

    def _answered(self, got: List[Any], total: int, run: int) -> None:
        if not is_alive(self) or run != self.run:
            return
        self.answered += len(got)
        self.table.show_proposals(got)
        self.progress.show_progress(self.answered, total, "%d of %s answered" % (
            self.answered, plural(total, "note")))

    def _asked(self, result: Tuple[List[Any], List[Any], str], run: int) -> None:
        if not is_alive(self) or run != self.run:
            return
        self.asking = False
        self._close_backend()
        proposals, changed, problem = result
        self.progress.end()
        shown = self.table.proposals
        again = {p.note_id for p in changed}
        self.table.show_proposals([p for p in proposals if p.note_id in again or shown.get(p.note_id) is not p])
        changes = sum(1 for p in proposals if p.changes_something)
        held = sum(1 for p in proposals if p.changes_something and not p.checked)
        text = "%s proposed for %s" % (plural(changes, "change"), plural(len(proposals), "note"))
        if held:
            text += "; %s unchecked: look at the ⚠ first" % plural(held, "is", "are")
        text += ". Nothing is changed until you press Apply."
        if self.left_out:
            text += " %s more selected %s not asked: at most %d at a time." % (
                plural(self.left_out, "note"), "was" if self.left_out == 1 else "were", len(self.note_ids))
        if problem:
            text += "<br>" + esc(problem)
        self.message.show_message(text, "warning" if problem else "info")
        self.update_buttons()

    def stop(self) -> None:
        self.cancel.set()
        if self.backend is not None:
            self.backend.abort(self.cancel)
        self.progress.stopping("Stopping…")

    def _close_backend(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            backend.close()

    def _failed(self, err: Exception, run: int) -> None:
        if not is_alive(self) or run != self.run:
            return
        self.reading = self.asking = False
        self._close_backend()
        self.progress.end()
        self.message.show_message(esc(error_text(err)) + "<br>Nothing was changed.", "error")
        self.update_buttons()

    # --- applying ------------------------------------------------------------------------------
    def apply(self) -> None:
        from aqt.operations import CollectionOp

        from ..generator.improve.apply import ApplyOptions, apply_proposals

        chosen = self.table.checked_proposals()
        if not chosen or self.applying:
            return
        options = ApplyOptions(self.reset_box.isChecked(), self.suspend_box.isChecked())
        holder: Dict[str, Any] = {}
        self.applying = True
        self.update_buttons()

        def op(col: Collection) -> OpChanges:
            holder["applied"] = apply_proposals(col, chosen, options)
            return holder["applied"].changes or OpChanges()

        CollectionOp(parent=self, op=op).success(lambda _c: self._applied(holder.get("applied"))) \
            .failure(self._apply_failed).run_in_background(initiator=self)

    def _applied(self, applied: Any) -> None:
        self.applying = False
        if applied is None or not is_alive(self):
            return
        self.last_applied = {"rewritten": list(applied.rewritten), "added": dict(applied.added)}
        done: Dict[int, str] = {nid: "Rewritten" for nid in applied.rewritten}
        done.update({nid: "Split into %s" % plural(len(ids), "note") for nid, ids in applied.added.items()})
        self.table.mark_applied(done)
        text = "Done: %s. Edit → Undo Improve with Ollama takes it back." % esc(applied.summary())
        for nid, why in applied.skipped:
            text += "<br>Note %d was not changed: %s." % (nid, esc(why))
        tooltip("Improved: %s." % esc(applied.summary()), parent=self)
        self.message.show_message(text, "warning" if applied.skipped else "success",
                                  [("Show in Browser", self.show_notes)])
        self.update_buttons()

    def _apply_failed(self, err: Exception) -> None:
        self.applying = False
        if is_alive(self):
            self.message.show_message(esc(error_text(err)), "error")
            self.update_buttons()

    def _on_operation(self, changes: OpChanges, handler: Optional[object]) -> None:
        """After an undo (or any change to the notes): applied rows whose change is gone are
        offered again."""
        if not is_alive(self) or handler is self or not changes.note or not self.table.applied:
            return
        col = mw.col
        if col is None:
            return
        from ..generator.improve.history import IMPROVED_TAG

        # one query for all the notes (this runs on the main thread after every operation)
        applied = [int(nid) for nid in self.table.applied]
        added = self.last_applied.get("added", {})
        split = {nid: [int(n) for n in added.get(nid) or []] for nid in applied}
        rewritten = [nid for nid in applied if not split[nid]]
        ids = [n for nid in applied for n in split[nid]]
        query = " OR ".join(q for q in (
            "nid:%s" % ",".join(map(str, ids)) if ids else "",
            "(nid:%s tag:%s)" % (",".join(map(str, rewritten)), IMPROVED_TAG) if rewritten else "") if q)
        found = set(col.find_notes(query))
        # a split is undone when none of its new notes is left; a rewrite when its note lost the tag
        gone = [nid for nid in applied
                if not (any(n in found for n in split[nid]) if split[nid] else nid in found)]
        if gone and self.table.unmark_applied(gone):
            self.message.show_message("%s undone: checked again to apply." % plural(len(gone), "change"), "info")
            for nid in gone:
                self.table.set_checked(nid, True)
            self.update_buttons()

    # --- the rest ------------------------------------------------------------------------------
    def update_buttons(self, *_args: Any) -> None:
        n = len(self.table.checked_proposals())
        self.apply_btn.setText("Apply %s" % plural(n, "change") if n else "Apply")
        self.apply_btn.setEnabled(n > 0 and not self.asking and not self.applying)
        self.ask_btn.setEnabled(not self.asking and not self.reading and not self.applying
                                and bool(self.diagnoses) and self.models.server_ok)

    def show_notes(self) -> None:
        ids = list(self.note_ids)
        for added in self.last_applied.get("added", {}).values():
            ids.extend(added)
        show_in_browser([NoteId(n) for n in ids])

    def stop_background(self, keep_hook: bool = False) -> None:
        self.cancel.set()
        if self.backend is not None:
            self.backend.abort(self.cancel)
            self._close_backend()
        if not keep_hook:
            try:
                gui_hooks.operation_did_execute.remove(self._on_operation)
            except ValueError:
                pass


# --- entry points ----------------------------------------------------------------------------

def open_improve_dialog(note_ids: Sequence[int], parent: Optional[QWidget] = None) -> ImproveDialog:
    """The Improve dialog for these notes (an open one starts over with them)."""
    ensure_log()

    def create(parent: Any, note_ids: Sequence[int]) -> ImproveDialog:
        from .launch import open_settings

        dialog = ImproveDialog(parent, note_ids, open_settings)
        dialog.show()
        return dialog

    register_dialog(IMPROVE_NAME, create)
    return aqt.dialogs.open(IMPROVE_NAME, parent or mw, note_ids=list(note_ids))


def open_improve(browser: Any, note_ids: Sequence[int]) -> ImproveDialog:
    """The Browser's right-click on selected notes."""
    return open_improve_dialog(note_ids, browser)


def open_struggling() -> StrugglingDialog:
    """Tools → Improve struggling cards… (or the open list brought forward)."""
    ensure_log()

    def create(parent: Any) -> StrugglingDialog:
        dialog = StrugglingDialog(parent)
        dialog.show()
        return dialog

    register_dialog(STRUGGLING_NAME, create)
    return aqt.dialogs.open(STRUGGLING_NAME, mw)
