"""Which field of a user's note type gets each part of a card (``FieldMapping``): front, back
and source (or text, extra and source for a cloze type), one list of the type's fields each."""
from typing import Dict, Optional, Sequence

from aqt.qt import QComboBox, QGridLayout, QLabel, QWidget

from ..generator.cards.card import CLOZE

NOT_USED = "(not used)"
TITLES = {"front": "Front →", "back": "Back →", "text": "Text →", "extra": "Extra →",
          "source": "Source →"}


class FieldMapping(QWidget):
    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.combos: Dict[str, QComboBox] = {}

    def set_fields(self, kind: str, fields: Sequence[str], mapping: Dict[str, str]) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.combos = {}
        logical = ("text", "extra", "source") if kind == CLOZE else ("front", "back", "source")
        for row, name in enumerate(logical):
            combo = QComboBox()
            combo.addItem(NOT_USED, "")
            for f in fields:
                combo.addItem(f, f)
            wanted = mapping.get(name, "")
            index = combo.findData(wanted) if wanted else 0
            combo.setCurrentIndex(max(0, index))
            self.grid.addWidget(QLabel(TITLES[name]), row, 0)
            self.grid.addWidget(combo, row, 1)
            self.combos[name] = combo

    def mapping(self) -> Dict[str, str]:
        return {name: combo.currentData() or "" for name, combo in self.combos.items()}
