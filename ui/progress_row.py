"""A job's progress row (``ProgressRow``): a bar, a line of text and a Cancel button, hidden
while no job runs. It knows nothing of the job: the dialog calls ``begin``/``show_progress``/
``stopping``/``end`` and connects ``cancel_requested``."""
from typing import Optional

from aqt.qt import QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QWidget, pyqtSignal

from .common import button


class ProgressRow(QWidget):
    cancel_requested = pyqtSignal()

    def __init__(self, cancel_tip: str, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(14)
        self.label = QLabel("")
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.cancel_btn = button("Cancel", self.cancel_requested.emit)
        self.cancel_btn.setToolTip(cancel_tip)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 1)
        row.addWidget(self.label, 2)
        row.addWidget(self.cancel_btn)
        self.hide()

    def begin(self, text: str) -> None:
        """Show the row with a busy bar (the size of the job is not known yet)."""
        self.bar.setRange(0, 0)
        self.label.setText(text)
        self.label.setToolTip("")
        self.cancel_btn.setEnabled(True)
        self.show()

    def show_progress(self, done: int, total: int, text: str, tip: str = "") -> None:
        if total:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        self.label.setText(text)
        self.label.setToolTip(tip)

    def stopping(self, text: str) -> None:
        self.cancel_btn.setEnabled(False)
        self.label.setText(text)

    def end(self) -> None:
        self.hide()
