"""The review table (``ReviewTable``): one row per generated card, editable in place.

Columns: a checkbox (add this card?), the two sides (Front/Back, or Text/Extra for cloze),
the Status (duplicate, not found in the source, regenerating, added ...), and the source.
Hovering a side shows the passage of the source the card came from. Cells show the field HTML
as plain text; a cell the user edits is stored back as escaped text (line breaks become <br>).

The rows' state is a ``ReviewRows`` (``review_rows``, ui/review_rows.py, no Qt): which cards
are rows, by key, in which run, checked, arriving, edited or added, and the rules that decide
it; the table shows it and puts the user's checks and edits back into it. ``append`` and
``update_row`` work on single rows by key, so cards can stream in while a job runs;
``update_row`` never overwrites a row the user edited. ``cards`` is the list of cards still to
review (not added), in row order. Added rows stay, marked "Added" and unchecked, so that an
undo can be followed by a corrected add (``mark_added``/``unmark_added``).

A row streamed in while its chunk is still being written is marked "Arriving…" (``append(...,
arriving=True)``, ``set_arriving``) until the chunk's final list settles it.

Cards similar in meaning to a note of the collection (``card.similar_to``) show "Similar to:
<that note's question>" (note id and score on hover); the card checks' flags show as short
marks (the reason on hover) and a card the rewrite pass rewrote as "Rewritten" (the original
on hover). Which of them arrive unchecked is ``ReviewRows``' rule (the settings
``skip_similar`` and ``uncheck_flagged``)."""
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
from ..generator.outside import shorten
from .common import html_to_plain, plain_to_html, theme_color
from .figure_widgets import Thumbnails
from .review_rows import ReviewRows, Row

COL_CHECK, COL_FRONT, COL_BACK, COL_MARKS, COL_SOURCE = range(5)
ROLE_ORIGINAL = Qt.ItemDataRole.UserRole + 1  # the plain text shown, to tell an edit apart

DUPLICATE_TEXT = {
    "collection": ("Duplicate", "A note of this type already has this front."),
    "near": ("Similar note exists", "A note of this type has almost the same front "
             "(case, accents or punctuation differ)."),
    "batch": ("Duplicate in batch", "Another generated card in this list has the same front."),
}
UNGROUNDED_TEXT = ("Not in source", "The card's answer was not found in the sentence it cites, nor "
                   "anywhere else in the source: check the card before adding it.")
SIMILAR_TIP = ("Note %d asks this in other words (similarity %.2f): “%s”. Check the card to add "
               "it anyway.")
# The card checks' flags (generator/checks.py) as short marks; the reason is the tooltip.
FLAG_TEXT: Dict[str, str] = {
    "answer_in_question": "Answer in question", "yes_no_question": "Yes/no question",
    "missing_antecedent": "Missing context", "several_facts": "Several facts",
    "answer_too_long": "Answer too long", "front_equals_back": "Front = back", "empty_side": "Empty side",
    "cloze_filler_deletion": "Filler word hidden", "cloze_hides_everything": "Hides everything",
    "cloze_hint_gives_answer": "Hint gives answer", "cloze_too_many_deletions": "Too many gaps",
    "wrong_language": "Wrong language", "ambiguous_question": "Many answers",
    "negative_question": "Negative question", "answer_not_in_text": "Answer not in text",
}
REWRITTEN_TEXT = "Rewritten"
ADDED_TEXT = ("Added", "This card is in your collection. If you undo the add, it can be added again.")
FIGURE_TEXT = ("Shows figure", "The card shows the figure it is about (on its first side); the "
               "figure is stored in the collection's media when the card is added.")
ARRIVING_TEXT = ("Arriving…", "The model is still writing this part of the text: the card may still "
                 "change when its part ends (unless you edit it). You can check, edit or delete it now.")


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
    """Shows a ``ReviewRows`` (``review_rows``): a row per card, its check box, sides, marks and
    source; what the user does (check, edit) goes back into the state."""

    checked_changed = pyqtSignal(int)  # number of checked cards
    edited = pyqtSignal(int)  # the key of a row the user just edited

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(0, 5, parent)
        self.review_rows = ReviewRows()
        self.kind = "basic"
        self._filling = False
        self.thumbnails: Optional[Thumbnails] = None  # thumbnails of figure cards (the dialog's)
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
    def rows(self) -> List[Row]:
        """The rows in order (the state's)."""
        return self.review_rows.rows

    @property
    def cards(self) -> List[Card]:
        """The cards still to review (not added), in row order."""
        return self.review_rows.cards

    def checked_cards(self) -> List[Card]:
        return self.review_rows.checked_cards()

    def row_of(self, card: Card) -> int:
        return self.review_rows.index_of(card)

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        sides = ("Text", "Extra") if kind == CLOZE else ("Front", "Back")
        self.setHorizontalHeaderLabels(["", sides[0], sides[1], "Status", "Source"])

    def append(self, card: Card, run: int = 0, arriving: bool = False) -> int:
        """One new row (checked unless the card is a duplicate or not in the source); its key.
        ``arriving``: streamed in while its chunk is still being written (``set_arriving``)."""
        row = self.review_rows.append(card, run, arriving)
        self._fill_row(len(self.rows) - 1)
        return row.key

    def add_cards(self, cards: Sequence[Card], run: int = 0) -> List[int]:
        keys = [self.append(card, run) for card in cards]
        for index in range(len(self.rows) - len(keys), len(self.rows)):
            self.resizeRowToContents(index)  # the new rows only: the others keep their height
        self.emit_checked()
        return keys

    def emit_checked(self) -> None:
        """Say how many cards are checked (also after changes made with ``emit=False``)."""
        self.checked_changed.emit(len(self.checked_cards()))

    def update_row(self, key: int, card: Card, emit: bool = True) -> bool:
        """Show ``card`` in the row ``key``; False (and nothing changes) when the user edited
        that row or it is gone. ``emit=False``: the caller calls ``emit_checked`` after a batch."""
        index = self.review_rows.index_of_key(key)
        if index < 0 or self.rows[index].edited:
            return False
        self._replace_at(index, card, emit)
        return True

    def set_arriving(self, key: int, arriving: bool) -> None:
        index = self.review_rows.index_of_key(key)
        if index < 0 or self.rows[index].arriving == arriving:
            return
        row = self.rows[index]
        if arriving or row.edited or row.added is not None:
            row.arriving = arriving
            self._fill_marks(index)
            return
        self._set_checked_quietly(index, self.review_rows.settle(index))
        self._fill_row(index)
        self.resizeRowToContents(index)
        self.emit_checked()

    def replace_card(self, old: Card, new: Card) -> None:
        index = self.row_of(old)
        if index >= 0:
            self._replace_at(index, new)

    def _replace_at(self, index: int, new: Card, emit: bool = True) -> None:
        old = self.rows[index].card
        checked = self.review_rows.replace(index, new)
        if (_sides(old), old.quote, old.source) == (_sides(new), new.quote, new.source):
            # the same card as shown (e.g. streamed, then final): its marks and box only
            self._set_checked_quietly(index, checked)
            self._fill_marks(index)
        else:
            self.review_rows.set_checked(index, checked)
            self._fill_row(index)
            self.resizeRowToContents(index)  # the height follows the text
        if emit:
            self.emit_checked()

    def remove_cards(self, cards: Sequence[Card], by_user: bool = False) -> None:
        for index in self.review_rows.remove(cards, by_user):
            self.removeRow(index)
        self.emit_checked()

    def remove(self, key: int) -> None:
        row = self.review_rows.row_at(key)
        if row is not None:
            self.remove_cards([row.card])

    def clear_cards(self) -> None:
        self.review_rows.clear()
        self.setRowCount(0)
        self.emit_checked()

    # --- added --------------------------------------------------------------------------------
    def mark_added(self, added: Sequence[Tuple[Card, NoteId]]) -> None:
        """These cards are notes now: unchecked, marked "Added", kept in the list."""
        for index in self.review_rows.mark_added(added):
            self._fill_row(index)
        self.emit_checked()

    def unmark_added(self, gone: Sequence[int]) -> int:
        """Notes that are gone again (an undo): their rows can be reviewed and added again."""
        changed = self.review_rows.unmark_added(gone)
        for index in changed:
            self._fill_row(index)
        self.emit_checked()
        return len(changed)

    # --- checkboxes and selection -------------------------------------------------------------
    def is_checked(self, row: int) -> bool:
        return self.review_rows.is_checked(row)

    def set_checked(self, row: int, checked: bool) -> None:
        item = self.item(row, COL_CHECK)
        if item is not None and self.review_rows.set_checked(row, checked):
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _set_checked_quietly(self, row: int, checked: bool) -> None:
        """``set_checked`` without taking it for a click (no signal, no count)."""
        if checked == self.is_checked(row):
            return
        was, self._filling = self._filling, True
        try:
            self.set_checked(row, checked)
        finally:
            self._filling = was

    def set_all_checked(self, checked: bool) -> None:
        for row in range(self.rowCount()):
            self._set_checked_quietly(row, checked)
        self.emit_checked()

    def selected_cards(self) -> List[Card]:
        rows = sorted({i.row() for i in self.selectedIndexes()})
        if not rows and self.currentRow() >= 0:
            rows = [self.currentRow()]
        return [self.rows[r].card for r in rows if 0 <= r < len(self.rows)]

    # --- marks --------------------------------------------------------------------------------
    def uncheck_duplicates(self) -> int:
        """Uncheck every card marked as a duplicate; returns how many."""
        indices = self.review_rows.duplicates_to_uncheck()
        for index in indices:
            self._set_checked_quietly(index, False)
        self.emit_checked()
        return len(indices)

    def show_similar(self, cards: Sequence[Card]) -> int:
        """Cards just compared by meaning: show their marks and, with ``uncheck_similar``,
        uncheck the similar ones that are not added yet. Returns how many were unchecked."""
        n = 0
        for card in cards:
            row = self.row_of(card)
            if row < 0:
                continue
            self._fill_marks(row)
            if self.review_rows.similar_to_uncheck(row):
                self._set_checked_quietly(row, False)
                n += 1
        self.resizeColumnToContents(COL_MARKS)
        self.emit_checked()
        return n

    def set_busy(self, card: Card, what: Optional[str]) -> None:
        if what:
            self.review_rows.busy[id(card)] = what
        else:
            self.review_rows.busy.pop(id(card), None)
        row = self.row_of(card)
        if row >= 0:
            self._fill_marks(row)

    def set_not_added(self, card: Card, reason: str) -> None:
        self.review_rows.not_added[id(card)] = reason
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
        index = self.row_of(card)
        return marks(self.rows[index] if index >= 0 else None, card, self.review_rows)

    # --- rows ---------------------------------------------------------------------------------
    def _fill_row(self, row: int) -> None:
        """Every cell of a row, from its state (its box as ``Row.checked`` says)."""
        was, self._filling = self._filling, True
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
            check.setCheckState(Qt.CheckState.Checked if self.rows[row].checked else Qt.CheckState.Unchecked)
            check.setToolTip(ADDED_TEXT[1] if added else "Add this card")
            self.setItem(row, COL_CHECK, check)
            tip = _quote_tip(card)
            for col, value in zip((COL_FRONT, COL_BACK), _sides(card)):
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
                    self._show_figure(item, card.figure)
                elif col == COL_FRONT and card.occlusion is not None:
                    from .occlusion_view import hover_html, thumbnail_key

                    self._show_figure(item, thumbnail_key(card))
                    item.setToolTip(hover_html(card.occlusion))
                self.setItem(row, col, item)
            source = QTableWidgetItem(card.source.label() if card.source else "")
            source.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            source.setToolTip(tip)
            self.setItem(row, COL_SOURCE, source)
            self._fill_marks(row)
        finally:
            self._filling = was

    def _fill_marks(self, row: int) -> None:
        shown = self.rows[row]
        card = shown.card
        was, self._filling = self._filling, True
        try:
            item = QTableWidgetItem("\n".join(marks(shown, card, self.review_rows)))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            item.setToolTip("\n".join(t for t in _mark_tips(shown, card) if t))
            if shown.added is not None:
                item.setForeground(QColor(theme_color("FG_SUBTLE")))
            elif (card.duplicate or not card.grounded or id(card) in self.review_rows.not_added
                  or card.similar_to is not None or is_flagged(card)):
                item.setForeground(QColor(theme_color("ACCENT_DANGER")))
            else:
                item.setForeground(QColor(theme_color("FG_SUBTLE")))
            self.setItem(row, COL_MARKS, item)
            self._fit_cell(row, COL_MARKS)
        finally:
            self._filling = was

    def _show_figure(self, item: QTableWidgetItem, name: str) -> None:
        pixmap = self.thumbnails.pixmap(name) if self.thumbnails is not None else None
        if pixmap is not None:
            item.setData(Qt.ItemDataRole.DecorationRole, pixmap)
            if self.thumbnails is not None and self.iconSize() != self.thumbnails.size():
                self.setIconSize(self.thumbnails.size())

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        row, col = item.row(), item.column()
        if not 0 <= row < len(self.rows):
            return
        if col == COL_CHECK:
            self.rows[row].checked = item.checkState() == Qt.CheckState.Checked  # a click
            self.emit_checked()
            return
        text = item.text()
        if col not in (COL_FRONT, COL_BACK) or text == item.data(ROLE_ORIGINAL):
            return  # unchanged: keep the original HTML (with its formatting)
        card = self.rows[row].card
        self.rows[row].edited = True
        self.edited.emit(self.rows[row].key)
        _set_side(card, col, text)
        was, self._filling = self._filling, True
        try:
            item.setData(ROLE_ORIGINAL, text)
        finally:
            self._filling = was
        if col == COL_FRONT and card.duplicate:
            card.duplicate = None  # the front changed: checked again before adding
            self._fill_marks(row)
        self.resizeRowToContents(row)

    def edit_cell(self, card: Card, column: int, text: str) -> None:
        """Set a cell as if the user had typed ``text`` (tests and scripting)."""
        item = self.item(self.row_of(card), column)
        if item is not None:
            item.setText(text)


def _sides(card: Card) -> Tuple[str, str]:
    return (card.text, card.extra) if card.kind == CLOZE else (card.front, card.back)


def _set_side(card: Card, col: int, text: str) -> None:
    """A side the user typed, as escaped text (line breaks as <br>); the figure stays with
    the side that shows it."""
    value = plain_to_html(text)
    if col == COL_FRONT and card.figure:
        from ..generator.job.images import with_figure

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


def _quote_tip(card: Card) -> str:
    parts = []
    if card.source and card.source.label():
        parts.append("Source: " + card.source.label())
    if card.quote:
        parts.append("“%s”" % html_to_plain(card.quote))
    return "\n".join(parts)


def marks(row: Optional[Row], card: Card, state: ReviewRows) -> List[str]:
    """The short marks a row shows (``row`` None: a card not in the list)."""
    out = []
    added = row is not None and row.added is not None
    if added:
        out.append(ADDED_TEXT[0])
    elif row is not None and row.arriving:
        out.append(ARRIVING_TEXT[0])
    if id(card) in state.busy:
        out.append(state.busy[id(card)])
    if card.duplicate and not added:
        out.append(DUPLICATE_TEXT.get(card.duplicate, ("Duplicate", ""))[0])
    if not card.grounded:
        out.append(UNGROUNDED_TEXT[0])
    if card.similar_to is not None and not added:
        out.append("Similar to: " + shorten(card.similar_to.front, 50))
    out.extend(FLAG_TEXT.get(check, check) for check, _ in card.flags if check not in INFORMATIONAL)
    if card.rewritten:
        out.append(REWRITTEN_TEXT)
    if id(card) in state.not_added:
        out.append("Not added: " + state.not_added[id(card)])
    if card.figure:
        out.append(FIGURE_TEXT[0])
    if card.occlusion is not None:
        from .occlusion_view import marks_of

        out.extend(marks_of(card))
    return out


def _mark_tips(row: Row, card: Card) -> List[str]:
    """What hovering the marks says."""
    tips = []
    if row.added is not None:
        tips.append(ADDED_TEXT[1])
    elif row.arriving:
        tips.append(ARRIVING_TEXT[1])
    elif card.duplicate:
        tips.append(DUPLICATE_TEXT.get(card.duplicate, ("", ""))[1])
    if not card.grounded:
        tips.append(UNGROUNDED_TEXT[1])
    if card.similar_to is not None:
        s = card.similar_to
        tips.append(SIMILAR_TIP % (s.note_id, s.score, shorten(s.front, 200)))
    tips.extend(reason for _, reason in card.flags)
    if card.rewritten:
        tips.append(rewritten_tip(card))
    if card.figure:
        tips.append(FIGURE_TEXT[1])
    if card.occlusion is not None:
        from .occlusion_view import tips_of

        tips.extend(tips_of(card))
    return tips




def rewritten_tip(card: Card) -> str:
    """The hover text of a rewritten card: what the model had written, and why it was sent back."""
    names = ("text", "extra") if card.kind == CLOZE else ("front", "back")
    before = " → ".join(html_to_plain(card.original.get(n, "")) for n in names if card.original.get(n))
    why = card.original.get("reasons", "")
    return "Rewritten by the model. Before: %s%s" % (before, " (%s)" % why if why else "")


def _header(header: Optional[QHeaderView]) -> QHeaderView:
    assert header is not None
    return header
