"""The Bulk dialog's Review tab (``ReviewPane``): in "review all before adding" mode the cards
of a job wait here (a ``ReviewTable``) until they are added (``add_requested``) or discarded
(``discard_requested``). The collection work is the dialog's; the pane shows and counts."""
from typing import Optional

from aqt.qt import QHBoxLayout, QLabel, QVBoxLayout, QWidget, pyqtSignal

from .common import button, plural
from .review import ReviewTable


class ReviewPane(QWidget):
    add_requested = pyqtSignal()
    discard_requested = pyqtSignal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        rv = QVBoxLayout(self)
        head = QHBoxLayout()
        self.label = QLabel("In “Review all cards before adding” mode the cards wait here.")
        self.label.setWordWrap(True)
        head.addWidget(self.label, 1)
        self.table = ReviewTable(self)
        self.select_all_btn = button("Select all", lambda: self.table.set_all_checked(True))
        self.select_none_btn = button("Select none", lambda: self.table.set_all_checked(False))
        head.addWidget(self.select_all_btn)
        head.addWidget(self.select_none_btn)
        rv.addLayout(head)
        rv.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.discard_btn = button("Discard all", self.discard_requested.emit)
        self.add_btn = button("Add 0 cards", self.add_requested.emit)
        row.addWidget(self.discard_btn)
        row.addWidget(self.add_btn)
        rv.addLayout(row)

    def update_buttons(self, idle: bool, waiting: bool) -> None:
        """``waiting``: a job's cards wait for review here."""
        n = len(self.table.checked_cards())
        self.add_btn.setText("Add %s" % plural(n, "card"))
        self.add_btn.setEnabled(idle and n > 0 and waiting)
        self.discard_btn.setEnabled(idle and waiting)
        self.select_all_btn.setEnabled(bool(self.table.cards))
        self.select_none_btn.setEnabled(bool(self.table.cards))
