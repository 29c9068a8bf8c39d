"""The review table: one row per generated card, editable in place.

Columns: a checkbox (add this card?), the two sides (Front/Back, or Text/Extra for cloze),
marks (duplicate, not found in the source, regenerating...), and the source. Hovering a side
shows the passage of the source the card came from. Cells show the field HTML as plain text;
a cell the user edits is stored back as escaped text (line breaks become <br>)."""
from typing import Dict, List, Optional, Sequence

from aqt.qt import (
    QAbstractItemView,
    QColor,
    QHeaderView,
    QPlainTextEdit,
    QStyledItemDelegate,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    pyqtSignal,
)

from ..generator.cards import CLOZE, Card
from .common import html_to_plain, plain_to_html, theme_color

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


class _CellEditor(QStyledItemDelegate):
    """Multi-line editing; Enter ends the edit, Shift+Enter makes a new line."""

    def createEditor(self, parent, option, index):  # type: ignore[override]
        if index.column() not in (COL_FRONT, COL_BACK):
            return super().createEditor(parent, option, index)
        editor = _PlainEditor(parent)
        editor.committed.connect(lambda: self._commit(editor))
        return editor

    def _commit(self, editor: "_PlainEditor") -> None:
        self.commitData.emit(editor)
        self.closeEditor.emit(editor)

    def setEditorData(self, editor, index):  # type: ignore[override]
        if isinstance(editor, _PlainEditor):
            editor.setPlainText(index.data(Qt.ItemDataRole.EditRole) or "")
            editor.selectAll()
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor, model, index):  # type: ignore[override]
        if isinstance(editor, _PlainEditor):
            model.setData(index, editor.toPlainText(), Qt.ItemDataRole.EditRole)
        else:
            super().setModelData(editor, model, index)

    def updateEditorGeometry(self, editor, option, index):  # type: ignore[override]
        rect = option.rect
        rect.setHeight(max(rect.height(), 80))
        editor.setGeometry(rect)


class _PlainEditor(QPlainTextEdit):
    committed = pyqtSignal()

    def keyPressEvent(self, event):  # type: ignore[override]
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self.committed.emit()
            return
        super().keyPressEvent(event)


class ReviewTable(QTableWidget):
    """Holds the cards; ``cards`` is the list in row order."""

    checked_changed = pyqtSignal(int)  # number of checked cards

    def __init__(self, parent=None) -> None:
        super().__init__(0, 5, parent)
        self.cards: List[Card] = []
        self.kind = "basic"
        self.busy_rows: Dict[int, str] = {}  # id(card) -> what is happening to it
        self.not_added: Dict[int, str] = {}  # id(card) -> why add_cards skipped it
        self._filling = False
        self.setItemDelegate(_CellEditor(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(COL_CHECK, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_FRONT, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_BACK, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_MARKS, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_SOURCE, QHeaderView.ResizeMode.Interactive)
        self.setColumnWidth(COL_SOURCE, 120)
        self.set_kind("basic")
        self.itemChanged.connect(self._on_item_changed)

    # --- content ------------------------------------------------------------------------------
    def set_kind(self, kind: str) -> None:
        self.kind = kind
        sides = ("Text", "Extra") if kind == CLOZE else ("Front", "Back")
        self.setHorizontalHeaderLabels(["", sides[0], sides[1], "Status", "Source"])

    def add_cards(self, cards: Sequence[Card]) -> None:
        for card in cards:
            self.cards.append(card)
            self._fill_row(len(self.cards) - 1, checked=True)
        self.resizeRowsToContents()
        self._emit_checked()

    def replace_card(self, old: Card, new: Card) -> None:
        row = self.row_of(old)
        if row < 0:
            return
        checked = self.is_checked(row)
        self.busy_rows.pop(id(old), None)
        self.cards[row] = new
        self._fill_row(row, checked=checked)
        self.resizeRowToContents(row)
        self._emit_checked()

    def remove_cards(self, cards: Sequence[Card]) -> None:
        ids = {id(c) for c in cards}
        for row in reversed(range(len(self.cards))):
            if id(self.cards[row]) in ids:
                self.busy_rows.pop(id(self.cards[row]), None)
                self.not_added.pop(id(self.cards[row]), None)
                del self.cards[row]
                self.removeRow(row)
        self._emit_checked()

    def clear_cards(self) -> None:
        self.cards = []
        self.busy_rows = {}
        self.not_added = {}
        self.setRowCount(0)
        self._emit_checked()

    def row_of(self, card: Card) -> int:
        for row, c in enumerate(self.cards):
            if c is card:
                return row
        return -1

    # --- checkboxes and selection -------------------------------------------------------------
    def is_checked(self, row: int) -> bool:
        item = self.item(row, COL_CHECK)
        return item is not None and item.checkState() == Qt.CheckState.Checked

    def set_checked(self, row: int, checked: bool) -> None:
        item = self.item(row, COL_CHECK)
        if item is not None:
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
        return [c for row, c in enumerate(self.cards) if self.is_checked(row)]

    def selected_cards(self) -> List[Card]:
        rows = sorted({i.row() for i in self.selectedIndexes()})
        if not rows and self.currentRow() >= 0:
            rows = [self.currentRow()]
        return [self.cards[r] for r in rows if 0 <= r < len(self.cards)]

    def _emit_checked(self) -> None:
        self.checked_changed.emit(len(self.checked_cards()))

    # --- marks --------------------------------------------------------------------------------
    def uncheck_duplicates(self) -> int:
        """Uncheck every card marked as a duplicate; returns how many."""
        n = 0
        self._filling = True
        try:
            for row, card in enumerate(self.cards):
                if card.duplicate and self.is_checked(row):
                    self.set_checked(row, False)
                    n += 1
        finally:
            self._filling = False
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
        for row in range(len(self.cards)):
            self._fill_marks(row)
        self.resizeColumnToContents(COL_MARKS)

    def marks_of(self, card: Card) -> List[str]:
        """The short marks shown for a card (tests and screen readers)."""
        out = []
        if id(card) in self.busy_rows:
            out.append(self.busy_rows[id(card)])
        if card.duplicate:
            out.append(DUPLICATE_TEXT.get(card.duplicate, ("Duplicate", ""))[0])
        if not card.grounded:
            out.append(UNGROUNDED_TEXT[0])
        if id(card) in self.not_added:
            out.append("Not added: " + self.not_added[id(card)])
        return out

    # --- rows ---------------------------------------------------------------------------------
    def _sides(self, card: Card):
        return (card.text, card.extra) if card.kind == CLOZE else (card.front, card.back)

    def _fill_row(self, row: int, checked: bool) -> None:
        self._filling = True
        try:
            if row >= self.rowCount():
                self.insertRow(row)
            card = self.cards[row]
            check = QTableWidgetItem()
            check.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled
                           | Qt.ItemFlag.ItemIsSelectable)
            check.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            check.setToolTip("Add this card")
            self.setItem(row, COL_CHECK, check)
            tip = self._quote_tip(card)
            for col, value in zip((COL_FRONT, COL_BACK), self._sides(card)):
                text = html_to_plain(value or "")
                item = QTableWidgetItem(text)
                item.setData(ROLE_ORIGINAL, text)
                item.setToolTip(tip)
                item.setFlags(Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsEnabled
                              | Qt.ItemFlag.ItemIsSelectable)
                self.setItem(row, col, item)
            source = QTableWidgetItem(card.source.label() if card.source else "")
            source.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            source.setToolTip(tip)
            self.setItem(row, COL_SOURCE, source)
            self._fill_marks(row)
        finally:
            self._filling = False

    def _fill_marks(self, row: int) -> None:
        card = self.cards[row]
        was = self._filling
        self._filling = True
        try:
            marks = self.marks_of(card)
            tips = []
            if card.duplicate:
                tips.append(DUPLICATE_TEXT.get(card.duplicate, ("", ""))[1])
            if not card.grounded:
                tips.append(UNGROUNDED_TEXT[1])
            item = QTableWidgetItem("\n".join(marks))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            item.setToolTip("\n".join(t for t in tips if t))
            if card.duplicate or not card.grounded or id(card) in self.not_added:
                item.setForeground(QColor(theme_color("ACCENT_DANGER", "#c62828", "#ef9a9a")))
            else:
                item.setForeground(QColor(theme_color("FG_SUBTLE", "#666666", "#aaaaaa")))
            self.setItem(row, COL_MARKS, item)
        finally:
            self._filling = was

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
        if not 0 <= row < len(self.cards):
            return
        if col == COL_CHECK:
            self._emit_checked()
            return
        if col not in (COL_FRONT, COL_BACK):
            return
        text = item.text()
        if text == item.data(ROLE_ORIGINAL):
            return  # unchanged: keep the original HTML (with its formatting)
        card = self.cards[row]
        value = plain_to_html(text)
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
        row = self.row_of(card)
        self.item(row, column).setText(text)
