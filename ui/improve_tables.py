"""The two tables of improving struggling cards.

- ``StrugglingTable``: one row per struggling card (``generator.improve.history``) with its
  figures: lapses, answers, the share of Again answers, the mean answer time, FSRS difficulty and
  recall chance, why it is listed; a check box per row (the notes to improve).
- ``ProposalTable``: one row per note being improved: what is known (the diagnosis), the note
  before, and what the model proposes (after), with the reasons; a check box per row, checked
  by default for a change that passed the checks, unchecked (with why) for one that did not, and
  none for a note that stays as it is. Rows appear when the diagnosis is read and fill in as
  the answers come."""
from typing import Dict, List, Optional, Sequence

from aqt.qt import QAbstractItemView, QHeaderView, Qt, QTableWidget, QTableWidgetItem, QTimer, QWidget, pyqtSignal

from ..generator.improve.diagnose import Diagnosis
from ..generator.improve.history import StrugglingCard
from ..generator.improve.notes import plain_text
from ..generator.improve.request import FAILED, KEEP, REWRITE, SKIPPED, SPLIT, Proposal
from ..generator.outside import shorten
from .common import plural

WHY_TEXT = {"leech": "tagged leech", "lapses": "lapses ≥ leech threshold", "difficulty": "FSRS: hard",
            "retrievability": "FSRS: fading"}
CELL_CHARS = 600




def _item(text: str, tip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(shorten(text, CELL_CHARS))
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    item.setToolTip(shorten(tip or text, 3000))
    return item


def _check(checked: bool, enabled: bool = True) -> QTableWidgetItem:
    item = QTableWidgetItem()
    flags = Qt.ItemFlag.ItemIsSelectable
    if enabled:
        flags |= Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled
    item.setFlags(flags)
    item.setCheckState(Qt.CheckState.Checked if checked and enabled else Qt.CheckState.Unchecked)
    return item


def _pct(x: Optional[float]) -> str:
    return "" if x is None else "%d%%" % round(100 * x)


class StrugglingTable(QTableWidget):
    """The struggling cards, worst first; ``checked_notes`` are the notes of the checked rows.
    Rows are filled ``BATCH`` at a time, one batch per turn of the event loop, so that a long
    list never holds the main thread (``filled`` says when all are in)."""

    checked_changed = pyqtSignal()
    filled = pyqtSignal()
    HEADERS = ("", "Question", "Deck", "Lapses", "Answers", "Again", "Time", "Difficulty", "Recall", "Why")
    WIDTHS = (28, 380, 150, 60, 64, 56, 52, 72, 60, 230)
    BATCH = 60

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.rows: List[StrugglingCard] = []
        self.done = 0  # rows filled so far
        self.checked_first = 0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._fill_batch)
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()  # type: ignore[union-attr]
        header = self.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)  # sizing to contents reads every cell
        header.setStretchLastSection(True)
        for col, width in enumerate(self.WIDTHS):
            self.setColumnWidth(col, width)
        self.itemChanged.connect(lambda _item: self.checked_changed.emit())

    def show_cards(self, cards: Sequence[StrugglingCard], checked: int, fsrs: bool = False) -> None:
        """Fill the table; the first ``checked`` rows start checked; the FSRS columns only with
        FSRS on (or a card that has a memory state)."""
        memory = fsrs or any(s.history.difficulty is not None for s in cards)
        self.setColumnHidden(7, not memory)
        self.setColumnHidden(8, not memory)
        self.rows = list(cards)
        self.done = 0
        self.checked_first = checked
        self.setRowCount(len(self.rows))
        self._fill_batch()

    @property
    def filling(self) -> bool:
        return self.done < len(self.rows)

    def _fill_batch(self) -> None:
        self.blockSignals(True)
        end = min(len(self.rows), self.done + self.BATCH)
        for row in range(self.done, end):
            self._fill_row(row, self.rows[row])
        self.done = end
        self.blockSignals(False)
        if self.filling:
            self.timer.start()
        else:
            self.checked_changed.emit()
            self.filled.emit()

    def _fill_row(self, row: int, s: StrugglingCard) -> None:
        h = s.history
        self.setItem(row, 0, _check(row < self.checked_first))
        self.setItem(row, 1, _item(s.question, "%s\n\nNote %d, card %d" % (s.question, s.note_id, s.card_id)))
        self.setItem(row, 2, _item(s.deck))
        self.setItem(row, 3, _item(str(h.lapses), "The deck calls a card a leech at %d lapses." % h.leech_threshold))
        self.setItem(row, 4, _item(str(h.answers)))
        self.setItem(row, 5, _item(_pct(h.again_rate) if h.answers else ""))
        self.setItem(row, 6, _item("%.0f s" % h.mean_seconds if h.answers else ""))
        self.setItem(row, 7, _item(_pct(h.difficulty)))
        self.setItem(row, 8, _item(_pct(h.retrievability)))
        why = [WHY_TEXT.get(w, w) for w in s.why] + (["suspended"] if h.suspended else []) + (
            ["improved before"] if s.improved else [])
        self.setItem(row, 9, _item(", ".join(why)))

    def is_checked(self, row: int) -> bool:
        item = self.item(row, 0)
        return item is not None and item.checkState() == Qt.CheckState.Checked

    def set_all_checked(self, checked: bool) -> None:
        self.blockSignals(True)
        for row in range(self.rowCount()):
            item = self.item(row, 0)
            if item is not None:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.blockSignals(False)
        self.checked_changed.emit()

    def checked_notes(self) -> List[int]:
        return list(dict.fromkeys(s.note_id for row, s in enumerate(self.rows[:self.done]) if self.is_checked(row)))


ACTION_TEXT = {KEEP: "Keep as it is", REWRITE: "Rewrite", SPLIT: "Split", FAILED: "Not improved",
               SKIPPED: "Not sent"}


def before_text(d: Diagnosis) -> str:
    nc = d.note
    return "\n".join("%s: %s" % (nc.shape.mapping.get(f, f), plain_text(nc.value(f)))
                     for f in nc.shape.main_fields if nc.shape.mapping.get(f))


def after_text(p: Proposal) -> str:
    nc = p.diagnosis.note
    lines = []
    title = ACTION_TEXT.get(p.action, p.action)
    if p.action == SPLIT:
        title = "Split into %s" % plural(len(p.split), "note")
    lines.append("%s — %s" % (title, p.reason) if p.reason else title)
    if p.action == REWRITE:
        for f in nc.shape.main_fields:
            name = nc.shape.mapping.get(f)
            if name:
                mark = "" if f in p.changed else " (unchanged)"
                lines.append("%s%s: %s" % (name, mark, plain_text(p.changed.get(f, nc.value(f)))))
    for i, card in enumerate(p.split, 1):
        lines.append("%d. %s" % (i, " → ".join(plain_text(getattr(card, f)) for f in nc.shape.main_fields
                                               if getattr(card, f))))
    lines += ["⚠ " + x for x in p.problems]
    lines += ["· " + x for x in p.notes]
    return "\n".join(lines)


class ProposalTable(QTableWidget):
    """Before → after per note, checked by default when the change passed the checks."""

    checked_changed = pyqtSignal()
    HEADERS = ("", "Note", "What is known", "Before", "After")
    ASKING = "Asking the model…"

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.row_of: Dict[int, int] = {}  # note id -> row
        self.proposals: Dict[int, Proposal] = {}
        self.applied: Dict[int, str] = {}  # note id -> what was done
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.setWordWrap(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().hide()  # type: ignore[union-attr]
        header = self.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in ((0, 28), (1, 160), (2, 300), (3, 260)):
            self.setColumnWidth(col, width)
        self.itemChanged.connect(lambda _item: self.checked_changed.emit())

    def show_diagnoses(self, diagnoses: Sequence[Diagnosis]) -> None:
        self.blockSignals(True)
        self.setRowCount(len(diagnoses))
        self.row_of = {}
        self.proposals = {}
        self.applied = {}
        for row, d in enumerate(diagnoses):
            self.row_of[d.note_id] = row
            self.setItem(row, 0, _check(False, enabled=False))
            question = plain_text(d.note.value(d.note.shape.main_fields[0]))
            self.setItem(row, 1, _item(question, "%s\n\nNote %d (%s)" % (question, d.note_id, d.note.shape.notetype)))
            self.setItem(row, 2, _item("\n".join("• " + t for t in d.texts())))
            self.setItem(row, 3, _item(before_text(d)))
            self.setItem(row, 4, _item(d.skip or self.ASKING))
        self.blockSignals(False)
        self.resizeRowsToContents()
        self.checked_changed.emit()

    def show_proposals(self, proposals: Sequence[Proposal]) -> None:
        self.blockSignals(True)
        for p in proposals:
            row = self.row_of.get(p.note_id)
            if row is None:
                continue
            self.proposals[p.note_id] = p
            self.setItem(row, 0, _check(p.checked, enabled=p.changes_something))
            self.setItem(row, 2, _item("\n".join("• " + t for t in p.diagnosis.texts())))
            self.setItem(row, 4, _item(after_text(p)))
            self.resizeRowToContents(row)
        self.blockSignals(False)
        self.checked_changed.emit()

    def is_checked(self, note_id: int) -> bool:
        row = self.row_of.get(note_id)
        item = self.item(row, 0) if row is not None else None
        return item is not None and item.checkState() == Qt.CheckState.Checked

    def set_checked(self, note_id: int, checked: bool) -> None:
        row = self.row_of.get(note_id)
        item = self.item(row, 0) if row is not None else None
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsEnabled:
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def checked_proposals(self) -> List[Proposal]:
        return [p for nid, p in self.proposals.items()
                if self.is_checked(nid) and p.changes_something and nid not in self.applied]

    def mark_applied(self, done: Dict[int, str]) -> None:
        """Rows whose change is in the collection now: unchecked, the check box off, said."""
        self.blockSignals(True)
        for nid, what in done.items():
            self.applied[nid] = what
            row = self.row_of.get(nid)
            if row is None:
                continue
            self.setItem(row, 0, _check(False, enabled=False))
            item = self.item(row, 4)
            if item is not None:
                item.setText("✓ %s\n%s" % (what, item.text()))
            self.resizeRowToContents(row)
        self.blockSignals(False)
        self.checked_changed.emit()

    def unmark_applied(self, note_ids: Sequence[int]) -> int:
        """Rows whose change was undone: offered again (as the proposal had them)."""
        back = [nid for nid in note_ids if nid in self.applied]
        for nid in back:
            del self.applied[nid]
        self.show_proposals([self.proposals[nid] for nid in back if nid in self.proposals])
        return len(back)
