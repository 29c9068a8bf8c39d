"""Choosing what kind of notes to make: a stock card kind or one of the user's note types,
with which field gets each part of a card. Shared by the Generate and the bulk dialogs."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

from aqt import mw
from aqt.qt import QComboBox, QFormLayout, QGridLayout, QLabel, QWidget

from ..generator.cards import CLOZE, KINDS
from .common import KIND_LABELS

NOT_USED = "(not used)"


class FieldMapping(QWidget):
    """Which field of a user's note type gets the card's front/back (or text/extra) and source."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.combos: Dict[str, QComboBox] = {}

    def set_fields(self, kind: str, fields: Sequence[str], mapping: Dict[str, str]) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        self.combos = {}
        logical = ("text", "extra", "source") if kind == CLOZE else ("front", "back", "source")
        titles = {"front": "Front →", "back": "Back →", "text": "Text →", "extra": "Extra →",
                  "source": "Source →"}
        for row, name in enumerate(logical):
            label = QLabel(titles[name])
            combo = QComboBox()
            combo.addItem(NOT_USED, "")
            for f in fields:
                combo.addItem(f, f)
            wanted = mapping.get(name, "")
            index = combo.findData(wanted) if wanted else 0
            combo.setCurrentIndex(max(0, index))
            self.grid.addWidget(label, row, 0)
            self.grid.addWidget(combo, row, 1)
            self.combos[name] = combo

    def mapping(self) -> Dict[str, str]:
        return {name: combo.currentData() or "" for name, combo in self.combos.items()}


class CardTypeChoice:
    """A mixin for a dialog with a "Card type" combo listing the stock kinds and the user's note
    types (``kind_combo``), and a ``FieldMapping`` (``mapping``, titled ``mapping_label``) shown
    for a note type. ``add_card_type_rows`` builds them; ``_kind_changed`` is the dialog's hook."""

    def add_card_type_rows(self, form: QFormLayout) -> None:
        self.kind_combo = QComboBox()
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        form.addRow("Card type", self.kind_combo)
        self.mapping = FieldMapping()
        self.mapping_label = QLabel("Fields")
        form.addRow(self.mapping_label, self.mapping)

    def _fill_kinds(self) -> None:
        from ..generator.notes import user_notetypes

        self.kind_combo.blockSignals(True)
        self.kind_combo.clear()
        for kind, title in KIND_LABELS:
            self.kind_combo.addItem(title, "kind:" + kind)
        self.kind_combo.insertSeparator(self.kind_combo.count())
        for name, _ntid in sorted(user_notetypes(mw.col), key=lambda x: x[0].lower()):
            self.kind_combo.addItem("Note type: %s" % name, "notetype:" + name)
        self.kind_combo.blockSignals(False)

    def select_kind(self, kind: str, notetype: str = "", mapping: Optional[Dict[str, str]] = None) -> None:
        """Choose a card kind, or (with ``notetype``) one of the user's note types."""
        self._wanted_mapping = dict(mapping or {})
        index = -1
        if notetype:
            index = self.kind_combo.findData("notetype:" + notetype)
        if index < 0:
            index = self.kind_combo.findData("kind:" + (kind if kind in KINDS else "basic"))
        self.kind_combo.setCurrentIndex(max(0, index))
        self._on_kind_changed()

    def _kind_data(self) -> Tuple[str, str]:
        """("kind", "basic"|"reversed"|"cloze") or ("notetype", name)."""
        data = str(self.kind_combo.currentData() or "kind:basic")
        what, _, value = data.partition(":")
        return what, value

    def notetype(self) -> str:
        what, value = self._kind_data()
        return value if what == "notetype" else ""

    def kind(self) -> str:
        what, value = self._kind_data()
        if what == "kind":
            return value
        nt = mw.col.models.by_name(value)
        return CLOZE if nt and nt.get("type") == 1 else "basic"

    def field_mapping(self) -> Dict[str, str]:
        """The chosen mapping; {} for a stock kind."""
        return self.mapping.mapping() if self.notetype() else {}

    def _on_kind_changed(self, *_args: Any) -> None:
        name = self.notetype()
        if name:
            from ..generator.notes import default_mapping, notetype_fields

            fields = notetype_fields(mw.col, name)
            mapping = default_mapping(fields, self.kind())
            saved = getattr(self, "_wanted_mapping", None) or {}
            mapping.update({k: v for k, v in saved.items() if not v or v in fields})
            self.mapping.set_fields(self.kind(), fields, mapping)
            self._wanted_mapping = {}
        self.mapping.setVisible(bool(name))
        self.mapping_label.setVisible(bool(name))
        self._kind_changed()

    def _kind_changed(self) -> None:
        """Called after the card type changed (the dialog may override)."""

    def note_target(self, deck: str, tags: List[str]) -> Any:
        from ..generator.notes import NoteTarget

        return NoteTarget(deck=deck, kind=self.kind(), notetype=self.notetype(),
                          field_mapping=self.field_mapping(), tags=tags)
