"""The review table (``ReviewTable``): one row per generated card, editable in place.

Columns: a checkbox (add this card?), the two sides (Front/Back, or Text/Extra for cloze),
the Status (duplicate, not found in the source, regenerating, added ...), and the source.
Hovering a side shows the passage of the source the card came from. Cells show the field HTML
as plain text; a cell the user edits is stored back as escaped text (line breaks become <br>).

Rows have a key (an int the table gives out) and belong to a run (one generation): ``append``
and ``update_row`` work on single rows by key, so cards can stream in while a job runs; ``update_row``
never overwrites a row the user edited (``edited``). ``cards`` is the list of cards still to
review (not added), in row order. Cards that are duplicates or whose quote is not in the source
arrive unchecked. Added rows stay, marked "Added" and unchecked, so that an undo can be followed
by a corrected add (``mark_added``/``unmark_added``).

A row streamed in while its chunk is still being written is marked "Arriving…" (``append(...,
arriving=True)``, ``set_arriving``) until the chunk's final list settles it.

Cards similar in meaning to a note of the collection (``card.similar_to``) show "Similar to:
<that note's question>" (note id and score on hover) and arrive unchecked while
``uncheck_similar`` is on (the setting ``skip_similar``); a streamed row whose final card turns
out similar is unchecked when its chunk settles it.

The card checks' flags show as short marks (the reason on hover) and a card the rewrite pass
rewrote as "Rewritten" (the original on hover); flagged rows arrive unchecked while
``uncheck_flagged`` is on (the setting of that name), also when a streamed row's chunk settles
it flagged."""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from aqt.qt import (
    QAbstractItemView,
    QColor,
    QHeaderView,
    QPlainTextEdit,
    QStyledItemDelegate,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QAbstractItemModel,
    QKeyEvent,
    QModelIndex,
    QStyle,
    QStyleOptionViewItem,
    QWidget,
    pyqtSignal,
)

from anki.notes import NoteId

from ..generator.cards.card import CLOZE, Card
from ..generator.cards.checks import INFORMATIONAL, is_flagged
from ..generator.job.images import with_figure
from .common import html_to_plain, plain_to_html, theme_color
from .figure_widgets import Thumbnails

COL_CHECK, COL_FRONT, COL_BACK, COL_MARKS, COL_SOURCE = range(5)
ROLE_ORIGINAL = Qt.ItemDataRole.UserRole + 1  # the plain text shown, to tell an edit apart

DUPLICATE_TEXT = {
    "collection": ("Duplicate", "A note of this type already has this front."),
    "near": ("Similar note exists", "A note of this type has almost the same front "
             "(case, accents or punctuation differ)."),
    "batch": ("Duplicate in batch", "Another generated card in this list has the same front."),
}
UNGROUNDED_TEXT = ("Not in source", "The passage the model quoted for this card was not found "
                   "in the source: check the card before adding it.")
SIMILAR_TIP = ("Note %d asks this in other words (similarity %.2f): “%s”. Check the card to add "
               "it anyway.")
# The card checks' flags (generator/checks.py) as short marks; the reason is the tooltip.
FLAG_TEXT: Dict[str, str] = {
    "answer_in_question": "Answer in question", "yes_no_question": "Yes/no question",
    "missing_antecedent": "Missing context", "several_facts": "Several facts",
    "answer_too_long": "Answer too long", "front_equals_back": "Front = back", "empty_side": "Empty side",
    "cloze_filler_deletion": "Filler word hidden", "cloze_hides_everything": "Hides everything",
    "cloze_hint_gives_answer": "Hint gives answer", "cloze_too_many_deletions": "Too many gaps",
    "wrong_language": "Wrong language",
}
REWRITTEN_TEXT = "Rewritten"
ADDED_TEXT = ("Added", "This card is in your collection. If you undo the add, it can be added again.")
PICTURE_TEXT = ("Shows picture", "The card shows the picture it is about (on its first side); the "
                "picture is stored in the collection's media when the card is added.")
ARRIVING_TEXT = ("Arriving…", "The model is still writing this part of the text: the card may still "
                 "change when its part ends (unless you edit it). You can check, edit or delete it now.")


@dataclass
class Row:
    key: int
    card: Card
    run: int = 0  # the generation that made it
    added: Optional[NoteId] = None  # the note it became
    edited: bool = False  # the user changed a side: never overwritten
    arriving: bool = False  # streamed in; its chunk has not ended yet
    checked: bool = False  # the check box's state, kept here: reading every row's item is O(rows)


class _CellEditor(QStyledItemDelegate):
    """Multi-line editing; Enter ends the edit, Shift+Enter makes a new line."""

    def createEditor(self, parent: Optional[QWidget], option: QStyleOptionViewItem,
                     index: QModelIndex) -> Optional[QWidget]:
        if index.column() not in (COL_FRONT, COL_BACK):
            return super().createEditor(parent, option, index)
        editor = _PlainEditor(parent)
        editor.committed.connect(lambda: self._commit(editor))
        return editor

    def _commit(self, editor: "_PlainEditor") -> None:
        self.commitData.emit(editor)
        self.closeEditor.emit(editor)

    def setEditorData(self, editor: Optional[QWidget], index: QModelIndex) -> None:
        if isinstance(editor, _PlainEditor):
            editor.setPlainText(index.data(Qt.ItemDataRole.EditRole) or "")
            editor.selectAll()
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor: Optional[QWidget], model: Optional[QAbstractItemModel],
                     index: QModelIndex) -> None:
        if isinstance(editor, _PlainEditor) and model is not None:
            model.setData(index, editor.toPlainText(), Qt.ItemDataRole.EditRole)
        else:
            super().setModelData(editor, model, index)

    def updateEditorGeometry(self, editor: Optional[QWidget], option: QStyleOptionViewItem,
                             index: QModelIndex) -> None:
        rect = option.rect
        rect.setHeight(max(rect.height(), 80))
        if editor is not None:
            editor.setGeometry(rect)


class _PlainEditor(QPlainTextEdit):
    committed = pyqtSignal()

    def keyPressEvent(self, event: Optional[QKeyEvent]) -> None:
        if event is not None and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self.committed.emit()
            return
        super().keyPressEvent(event)


class ReviewTable(QTableWidget):
    checked_changed = pyqtSignal(int)  # number of checked cards
    edited = pyqtSignal(int)  # the key of a row the user just edited

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(0, 5, parent)
        self.rows: List[Row] = []  # in row order
        self.kind = "basic"
        self.busy_rows: Dict[int, str] = {}  # id(card) -> what is happening to it
        self.not_added: Dict[int, str] = {}  # id(card) -> why add_cards skipped it
        self.uncheck_similar = True  # cards similar in meaning to a note arrive unchecked
        self.uncheck_flagged = True  # the setting: flagged cards arrive unchecked
        self._next_key = 1
        self._filling = False
        self.thumbnails: Optional[Thumbnails] = None  # small pictures of figure cards (the dialog's)
        self.setItemDelegate(_CellEditor(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        _header(self.verticalHeader()).setVisible(False)
        header = _header(self.horizontalHeader())
        # Not ResizeToContents: with it every cell change measures the whole column again (a
        # second for the marks of 240 rows); a changed cell widens its column (_fit_cell), and a
        # full refresh measures once.
        header.setSectionResizeMode(COL_CHECK, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_FRONT, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_BACK, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_MARKS, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_SOURCE, QHeaderView.ResizeMode.Interactive)
        self.setColumnWidth(COL_SOURCE, 120)
        style = self.style()
        box = style.pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth) if style is not None else 16
        self.setColumnWidth(COL_CHECK, box + 14)
        self.setColumnWidth(COL_MARKS, 60)
        self.set_kind("basic")
        self.itemChanged.connect(self._on_item_changed)

    # --- content ------------------------------------------------------------------------------
    @property
    def cards(self) -> List[Card]:
        """The cards still to review (not added), in row order."""
        return [r.card for r in self.rows if r.added is None]

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        sides = ("Text", "Extra") if kind == CLOZE else ("Front", "Back")
        self.setHorizontalHeaderLabels(["", sides[0], sides[1], "Status", "Source"])

    def append(self, card: Card, run: int = 0, arriving: bool = False) -> int:
        """One new row (checked unless the card is a duplicate or not in the source); its key.
        ``arriving``: streamed in while its chunk is still being written (``set_arriving``)."""
        row = Row(self._next_key, card, run, arriving=arriving)
        self._next_key += 1
        self.rows.append(row)
        self._fill_row(len(self.rows) - 1, checked=_wanted(card, self.uncheck_flagged) and not (
            self.uncheck_similar and card.similar_to is not None))
        return row.key

    def add_cards(self, cards: Sequence[Card], run: int = 0) -> List[int]:
        start = len(self.rows)
        keys = [self.append(card, run) for card in cards]
        for index in range(len(self.rows) - len(keys), len(self.rows)):
            self.resizeRowToContents(index)  # the new rows only: the others keep their height
        self._emit_checked()
        return keys

    def emit_checked(self) -> None:
        """Say how many cards are checked (after changes made with ``emit=False``)."""
        self._emit_checked()

    def update_row(self, key: int, card: Card, emit: bool = True) -> bool:
        """Show ``card`` in the row ``key``; False (and nothing changes) when the user edited
        that row or it is gone. ``emit=False``: the caller calls ``emit_checked`` after a batch."""
        index = self._index_of_key(key)
        if index < 0 or self.rows[index].edited:
            return False
        self._replace_at(index, card, emit)
        return True

    def set_arriving(self, key: int, arriving: bool) -> None:
        index = self._index_of_key(key)
        if index >= 0 and self.rows[index].arriving != arriving:
            row = self.rows[index]
            row.arriving = arriving
            if arriving or row.edited or row.added is not None:
                self._fill_marks(index)
                return
            # Settled: the chunk's checks and rewrite pass may have changed the card in place.
            checked = self.is_checked(index) and not (self.uncheck_flagged and is_flagged(row.card))
            self._fill_row(index, checked=checked)
            self.resizeRowToContents(index)
            self._emit_checked()

    def row_at(self, key: int) -> Optional[Row]:
        index = self._index_of_key(key)
        return self.rows[index] if index >= 0 else None

    def replace_card(self, old: Card, new: Card) -> None:
        index = self.row_of(old)
        if index >= 0:
            self._replace_at(index, new)

    def _replace_at(self, index: int, new: Card, emit: bool = True) -> None:
        old = self.rows[index].card
        checked = self.is_checked(index)
        if self.uncheck_similar and new.similar_to is not None and old.similar_to is None:
            checked = False  # it turned out similar in meaning to a note
        if self.uncheck_flagged and is_flagged(new) and not is_flagged(old):
            checked = False  # flagged since it was shown (e.g. by the rewrite pass's checks)
        elif (not checked and self.uncheck_flagged and is_flagged(old) and not is_flagged(new)
              and _wanted(new, True)):
            checked = True  # it arrived flagged (and so unchecked); its rewrite is fine
        self.busy_rows.pop(id(old), None)
        self.rows[index].card = new
        self.rows[index].edited = False
        if (self._sides(old), old.quote, old.source) == (self._sides(new), new.quote, new.source):
            # the same card as shown (e.g. streamed, then final): its marks and box only
            if checked != self.is_checked(index):
                was, self._filling = self._filling, True
                try:
                    self.set_checked(index, checked)
                finally:
                    self._filling = was
            self._fill_marks(index)
        else:
            self._fill_row(index, checked=checked)
            self.resizeRowToContents(index)  # the height follows the text
        if emit:
            self._emit_checked()

    def remove_cards(self, cards: Sequence[Card]) -> None:
        ids = {id(c) for c in cards}
        for index in reversed(range(len(self.rows))):
            card = self.rows[index].card
            if id(card) in ids:
                self.busy_rows.pop(id(card), None)
                self.not_added.pop(id(card), None)
                del self.rows[index]
                self.removeRow(index)
        self._emit_checked()

    def remove(self, key: int) -> None:
        index = self._index_of_key(key)
        if index >= 0:
            self.remove_cards([self.rows[index].card])

    def clear_cards(self) -> None:
        self.rows = []
        self.busy_rows = {}
        self.not_added = {}
        self.setRowCount(0)
        self._emit_checked()

    def row_of(self, card: Card) -> int:
        for index, row in enumerate(self.rows):
            if row.card is card:
                return index
        return -1

    def key_of(self, card: Card) -> int:
        index = self.row_of(card)
        return self.rows[index].key if index >= 0 else 0

    def card_of(self, key: int) -> Optional[Card]:
        index = self._index_of_key(key)
        return self.rows[index].card if index >= 0 else None

    def _index_of_key(self, key: int) -> int:
        for index, row in enumerate(self.rows):
            if row.key == key:
                return index
        return -1

    def cards_of_run(self, run: int) -> List[Card]:
        """The cards of one generation still to review (each run's duplicates are its own)."""
        return [r.card for r in self.rows if r.run == run and r.added is None]

    def runs(self) -> List[int]:
        return sorted({r.run for r in self.rows if r.added is None})

    # --- added --------------------------------------------------------------------------------
    def mark_added(self, added: Sequence[Tuple[Card, NoteId]]) -> None:
        """These cards are notes now: unchecked, marked "Added", kept in the list."""
        notes = {id(card): nid for card, nid in added}
        for index, row in enumerate(self.rows):
            if id(row.card) in notes:
                row.added = notes[id(row.card)]
                self.not_added.pop(id(row.card), None)
                self._fill_row(index, checked=False)
        self._emit_checked()

    def added_note_ids(self) -> List[NoteId]:
        return [r.added for r in self.rows if r.added is not None]

    def unmark_added(self, gone: Sequence[NoteId]) -> int:
        """Notes that are gone again (an undo): their rows can be reviewed and added again."""
        wanted = set(gone)
        n = 0
        for index, row in enumerate(self.rows):
            if row.added is not None and row.added in wanted:
                row.added = None
                row.card.duplicate = None
                self._fill_row(index, checked=False)
                n += 1
        self._emit_checked()
        return n

    def is_added(self, card: Card) -> bool:
        index = self.row_of(card)
        return index >= 0 and self.rows[index].added is not None

    # --- checkboxes and selection -------------------------------------------------------------
    def is_checked(self, row: int) -> bool:
        return 0 <= row < len(self.rows) and self.rows[row].checked

    def set_checked(self, row: int, checked: bool) -> None:
        item = self.item(row, COL_CHECK)
        if item is not None and self.rows[row].added is None:
            self.rows[row].checked = checked
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def set_all_checked(self, checked: bool) -> None:
        self._filling = True
        try:
            for row in range(self.rowCount()):
                self.set_checked(row, checked)
        finally:
            self._filling = False
        self._emit_checked()

    def checked_cards(self) -> List[Card]:
        return [r.card for r in self.rows if r.added is None and r.checked]

    def selected_cards(self) -> List[Card]:
        rows = sorted({i.row() for i in self.selectedIndexes()})
        if not rows and self.currentRow() >= 0:
            rows = [self.currentRow()]
        return [self.rows[r].card for r in rows if 0 <= r < len(self.rows)]

    def _emit_checked(self) -> None:
        self.checked_changed.emit(len(self.checked_cards()))

    # --- marks --------------------------------------------------------------------------------
    def uncheck_duplicates(self) -> int:
        """Uncheck every card marked as a duplicate; returns how many."""
        n = 0
        self._filling = True
        try:
            for index, row in enumerate(self.rows):
                if row.card.duplicate and self.is_checked(index):
                    self.set_checked(index, False)
                    n += 1
        finally:
            self._filling = False
        self._emit_checked()
        return n

    def show_similar(self, cards: Sequence[Card]) -> int:
        """Cards just compared by meaning: show their marks and, with ``uncheck_similar``,
        uncheck the similar ones that are not added yet. Returns how many were unchecked."""
        n = 0
        self._filling = True
        try:
            for card in cards:
                row = self.row_of(card)
                if row < 0:
                    continue
                self._fill_marks(row)
                if (self.uncheck_similar and card.similar_to is not None
                        and not self.is_added(card) and self.is_checked(row)):
                    self.set_checked(row, False)
                    n += 1
        finally:
            self._filling = False
        self.resizeColumnToContents(COL_MARKS)
        self._emit_checked()
        return n

    def set_busy(self, card: Card, what: Optional[str]) -> None:
        if what:
            self.busy_rows[id(card)] = what
        else:
            self.busy_rows.pop(id(card), None)
        row = self.row_of(card)
        if row >= 0:
            self._fill_marks(row)

    def set_not_added(self, card: Card, reason: str) -> None:
        self.not_added[id(card)] = reason
        row = self.row_of(card)
        if row >= 0:
            self._fill_marks(row)

    def refresh_marks(self) -> None:
        for row in range(len(self.rows)):
            self._fill_marks(row)
        self.resizeColumnToContents(COL_MARKS)  # may also narrow it

    def _fit_cell(self, row: int, col: int) -> None:
        """Widen ``col`` for the cell just filled (one cell measured, not the column)."""
        item = self.item(row, col)
        if item is None:
            return
        lines = item.text().split("\n") if item.text() else [""]
        width = max(self.fontMetrics().horizontalAdvance(line) for line in lines) + 16
        if width > self.columnWidth(col):
            self.setColumnWidth(col, width)

    def marks_of(self, card: Card) -> List[str]:
        """The short marks shown for a card (tests and screen readers)."""
        return self._marks_at(self.row_of(card), card)

    def _marks_at(self, index: int, card: Card) -> List[str]:
        out = []
        added = index >= 0 and self.rows[index].added is not None
        if added:
            out.append(ADDED_TEXT[0])
        elif index >= 0 and self.rows[index].arriving:
            out.append(ARRIVING_TEXT[0])
        if id(card) in self.busy_rows:
            out.append(self.busy_rows[id(card)])
        if card.duplicate and not added:
            out.append(DUPLICATE_TEXT.get(card.duplicate, ("Duplicate", ""))[0])
        if not card.grounded:
            out.append(UNGROUNDED_TEXT[0])
        if card.similar_to is not None and not added:
            out.append("Similar to: " + _short(card.similar_to.front, 50))
        out.extend(FLAG_TEXT.get(check, check) for check, _ in card.flags if check not in INFORMATIONAL)
        if card.rewritten:
            out.append(REWRITTEN_TEXT)
        if id(card) in self.not_added:
            out.append("Not added: " + self.not_added[id(card)])
        if card.figure:
            out.append(PICTURE_TEXT[0])
        return out

    # --- rows ---------------------------------------------------------------------------------
    def _sides(self, card: Card) -> Tuple[str, str]:
        return (card.text, card.extra) if card.kind == CLOZE else (card.front, card.back)

    def _fill_row(self, row: int, checked: bool) -> None:
        self._filling = True
        try:
            if row >= self.rowCount():
                self.insertRow(row)
            card = self.rows[row].card
            added = self.rows[row].added is not None
            check = QTableWidgetItem()
            flags = Qt.ItemFlag.ItemIsSelectable
            if not added:
                flags |= Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled
            check.setFlags(flags)
            check.setCheckState(Qt.CheckState.Checked if checked and not added else Qt.CheckState.Unchecked)
            self.rows[row].checked = checked and not added
            check.setToolTip(ADDED_TEXT[1] if added else "Add this card")
            self.setItem(row, COL_CHECK, check)
            tip = self._quote_tip(card)
            for col, value in zip((COL_FRONT, COL_BACK), self._sides(card)):
                text = html_to_plain(value or "")
                item = QTableWidgetItem(text)
                item.setData(ROLE_ORIGINAL, text)
                item.setToolTip(tip)
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                if not added:
                    flags |= Qt.ItemFlag.ItemIsEditable
                item.setFlags(flags)
                if added:
                    item.setForeground(QColor(theme_color("FG_DISABLED")))
                if col == COL_FRONT and card.figure:
                    self._show_picture(item, card.figure)
                self.setItem(row, col, item)
            source = QTableWidgetItem(card.source.label() if card.source else "")
            source.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            source.setToolTip(tip)
            self.setItem(row, COL_SOURCE, source)
            self._fill_marks(row)
        finally:
            self._filling = False

    def _fill_marks(self, row: int) -> None:
        card = self.rows[row].card
        was = self._filling
        self._filling = True
        try:
            marks = self._marks_at(row, card)
            tips = []
            if self.rows[row].added is not None:
                tips.append(ADDED_TEXT[1])
            elif self.rows[row].arriving:
                tips.append(ARRIVING_TEXT[1])
            elif card.duplicate:
                tips.append(DUPLICATE_TEXT.get(card.duplicate, ("", ""))[1])
            if not card.grounded:
                tips.append(UNGROUNDED_TEXT[1])
            if card.similar_to is not None:
                s = card.similar_to
                tips.append(SIMILAR_TIP % (s.note_id, s.score, _short(s.front, 200)))
            tips.extend(reason for _, reason in card.flags)
            if card.rewritten:
                tips.append(rewritten_tip(card))
            if card.figure:
                tips.append(PICTURE_TEXT[1])
            item = QTableWidgetItem("\n".join(marks))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            item.setToolTip("\n".join(t for t in tips if t))
            if self.rows[row].added is not None:
                item.setForeground(QColor(theme_color("FG_SUBTLE")))
            elif (card.duplicate or not card.grounded or id(card) in self.not_added
                  or card.similar_to is not None or is_flagged(card)):
                item.setForeground(QColor(theme_color("ACCENT_DANGER")))
            else:
                item.setForeground(QColor(theme_color("FG_SUBTLE")))
            self.setItem(row, COL_MARKS, item)
            self._fit_cell(row, COL_MARKS)
        finally:
            self._filling = was

    def _show_picture(self, item: QTableWidgetItem, name: str) -> None:
        pixmap = self.thumbnails.pixmap(name) if self.thumbnails is not None else None
        if pixmap is not None:
            item.setData(Qt.ItemDataRole.DecorationRole, pixmap)
            if self.thumbnails is not None and self.iconSize() != self.thumbnails.size():
                self.setIconSize(self.thumbnails.size())

    def _quote_tip(self, card: Card) -> str:
        parts = []
        if card.source and card.source.label():
            parts.append("Source: " + card.source.label())
        if card.quote:
            parts.append("“%s”" % html_to_plain(card.quote))
        return "\n".join(parts)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        row, col = item.row(), item.column()
        if not 0 <= row < len(self.rows):
            return
        if col == COL_CHECK:
            self.rows[row].checked = item.checkState() == Qt.CheckState.Checked  # a click
            self._emit_checked()
            return
        if col not in (COL_FRONT, COL_BACK):
            return
        text = item.text()
        if text == item.data(ROLE_ORIGINAL):
            return  # unchanged: keep the original HTML (with its formatting)
        card = self.rows[row].card
        self.rows[row].edited = True
        self.edited.emit(self.rows[row].key)
        value = plain_to_html(text)
        if col == COL_FRONT and card.figure:  # the picture stays with the side that shows it
            value = with_figure(value, card.figure)
        if card.kind == CLOZE:
            if col == COL_FRONT:
                card.text = value
            else:
                card.extra = value
        elif col == COL_FRONT:
            card.front = value
        else:
            card.back = value
        self._filling = True
        try:
            item.setData(ROLE_ORIGINAL, text)
        finally:
            self._filling = False
        if col == COL_FRONT and card.duplicate:
            card.duplicate = None  # the front changed: checked again before adding
            self._fill_marks(row)
        self.resizeRowToContents(row)

    def edit_cell(self, card: Card, column: int, text: str) -> None:
        """Set a cell as if the user had typed ``text`` (tests and scripting)."""
        item = self.item(self.row_of(card), column)
        if item is not None:
            item.setText(text)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _wanted(card: Card, uncheck_flagged: bool = True) -> bool:
    """Checked when it arrives: not a duplicate, found in the source and (unless the setting
    says otherwise) not flagged by the card checks."""
    return not card.duplicate and card.grounded and not (uncheck_flagged and is_flagged(card))


def rewritten_tip(card: Card) -> str:
    """The hover text of a rewritten card: what the model had written, and why it was sent back."""
    names = ("text", "extra") if card.kind == CLOZE else ("front", "back")
    before = " → ".join(html_to_plain(card.original.get(n, "")) for n in names if card.original.get(n))
    why = card.original.get("reasons", "")
    return "Rewritten by the model. Before: %s%s" % (before, " (%s)" % why if why else "")


def _header(header: Optional[QHeaderView]) -> QHeaderView:
    assert header is not None
    return header
