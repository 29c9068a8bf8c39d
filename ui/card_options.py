"""The card options form (``CardOptions``), one widget for the Generate and the Bulk dialogs:
deck, card kind (a stock kind, or one of the user's note types with its ``FieldMapping``),
tags, the depth (how many cards), and for the Generate dialog the language and the number of cards. ``target()`` is the
job's ``NoteTarget``; ``choices()`` the config keys to remember; ``load(settings)`` fills it.

API: ``deck_name``/``set_deck``, ``kind``/``notetype``/``field_mapping``/``select_kind``/
``refill_kinds`` (note types added meanwhile), ``tags``, ``language``/``set_language``,
``max_cards``; ``add_row(label, widget)`` lets a dialog add its own rows (the Bulk dialog's
model, requests at once, mode); ``kind_changed`` says the card kind changed.
``focus()`` is the job's free-text focus (a row of the form; per job, so not in ``choices()``).
Next to come here: a depth choice (key ideas / every fact / exhaustive) as a row of this form,
read into ``choices()`` and the job's options."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from anki.collection import Collection
from aqt import mw
from aqt.deckchooser import DeckChooser
from aqt.qt import QComboBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QSpinBox, Qt, QWidget, pyqtSignal
from aqt.tagedit import TagEdit

from ..generator.cards.card import CLOZE
from ..generator.config import CardKind, Depth, Settings
from ..generator.job.prompts import FOCUS_CHARS
from .common import KIND_LABELS, language_combo, language_value
from .field_mapping import FieldMapping

DEPTHS = (
    (Depth.KEY_IDEAS, "Key ideas", "One card per main point of the text"),
    (Depth.EVERY_FACT, "Every fact", "One card per distinct fact (the default)"),
    (Depth.EXHAUSTIVE, "Exhaustive", "One card per fact and detail, names and numbers included"),
)

if TYPE_CHECKING:
    from ..generator.notes.add import NoteTarget


class CardOptions(QGroupBox):
    kind_changed = pyqtSignal(str)  # the card kind now chosen

    def __init__(self, col: Collection, settings: Settings, with_language_and_count: bool = True,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__("Cards", parent)
        self.col = col
        self._wanted_mapping: Dict[str, str] = {}  # a remembered mapping, for the next note type
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)

        self.deck_widget = QWidget()
        did = col.decks.id_for_name(settings.deck) if settings.deck else None
        self.deck_chooser = DeckChooser(mw, self.deck_widget, label=False, starting_deck_id=did) \
            if did else DeckChooser(mw, self.deck_widget, label=False)
        self.form.addRow("Deck", self.deck_widget)

        self.kind_combo = QComboBox()
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        self.form.addRow("Card kind", self.kind_combo)
        self.mapping = FieldMapping()
        self.mapping_label = QLabel("Fields")
        self.form.addRow(self.mapping_label, self.mapping)

        self.tags_edit = TagEdit(self)
        self.tags_edit.setCol(col)
        self.tags_edit.setPlaceholderText("space-separated")
        self.form.addRow("Tags", self.tags_edit)

        self.focus_edit = QLineEdit()
        self.focus_edit.setMaxLength(FOCUS_CHARS)
        self.focus_edit.setPlaceholderText("e.g. only the pharmacology; skip the history")
        self.focus_edit.setToolTip("What to concentrate on: sent with every request of this job "
                                   "(finding topics too). Empty: the whole text.")
        self.form.addRow("Focus", self.focus_edit)

        self.depth_combo = QComboBox()
        for depth, label, tip in DEPTHS:
            self.depth_combo.addItem(label, depth.value)
            self.depth_combo.setItemData(self.depth_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.depth_combo.setToolTip("How many cards the text gets when the number is automatic: one "
                                    "per key idea, per distinct fact, or per fact and detail")
        self.form.addRow("Depth", self.depth_combo)

        self.language_combo: Optional[QComboBox] = None
        self.count_spin: Optional[QSpinBox] = None
        if with_language_and_count:
            self.language_combo = language_combo()
            self.language_combo.setToolTip("The language the cards are written in")
            self.form.addRow("Language", self.language_combo)
            self.count_spin = QSpinBox()
            self.count_spin.setRange(0, 1000)
            self.count_spin.setSpecialValueText("Auto")
            self.count_spin.setToolTip("How many cards to make in all; Auto = by the text's length")
            self.form.addRow("Number of cards", self.count_spin)
        self.load(settings)

    def load(self, settings: Settings) -> None:
        self.refill_kinds()
        self.select_kind(settings.card_kind, settings.note_type, settings.field_mapping)
        self.tags_edit.setText(" ".join(settings.tags))
        self.set_language(settings.language)
        self.set_depth(settings.depth)
        if self.count_spin is not None:
            self.count_spin.setValue(settings.max_cards)

    def add_row(self, label: str, widget: QWidget) -> None:
        self.form.addRow(label, widget)

    # --- deck ---------------------------------------------------------------------------------
    def deck_name(self) -> str:
        return self.deck_chooser.selected_deck_name() or "Default"

    def set_deck(self, deck_id: int) -> None:
        self.deck_chooser.selected_deck_id = deck_id  # type: ignore[assignment]

    # --- card kind ----------------------------------------------------------------------------
    def refill_kinds(self) -> None:
        """List the stock kinds and the user's note types (again), keeping the choice."""
        from ..generator.notes.add import user_notetypes

        had = self.kind_combo.count() > 0
        kind, notetype, mapping = self.kind(), self.notetype(), self.field_mapping()
        self.kind_combo.blockSignals(True)
        self.kind_combo.clear()
        for value, title in KIND_LABELS:
            self.kind_combo.addItem(title, "kind:" + value.value)
        self.kind_combo.insertSeparator(self.kind_combo.count())
        for name, _ntid in sorted(user_notetypes(self.col), key=lambda x: x[0].lower()):
            self.kind_combo.addItem("Note type: %s" % name, "notetype:" + name)
        self.kind_combo.blockSignals(False)
        if had:
            self.select_kind(kind, notetype, mapping)

    def select_kind(self, kind: str, notetype: str = "", mapping: Optional[Dict[str, str]] = None) -> None:
        """Choose a card kind, or (with ``notetype``) one of the user's note types."""
        self._wanted_mapping = dict(mapping or {})
        index = -1
        if notetype:
            index = self.kind_combo.findData("notetype:" + notetype)
        if index < 0:
            index = self.kind_combo.findData("kind:" + (kind if kind in list(CardKind) else "basic"))
        self.kind_combo.setCurrentIndex(max(0, index))
        self._on_kind_changed()

    def _kind_data(self) -> List[str]:
        """["kind", "basic"|"reversed"|"cloze"] or ["notetype", name]."""
        what, _, value = str(self.kind_combo.currentData() or "kind:basic").partition(":")
        return [what, value]

    def notetype(self) -> str:
        what, value = self._kind_data()
        return value if what == "notetype" else ""

    def kind(self) -> CardKind:
        what, value = self._kind_data()
        if what == "kind":
            return CardKind.parse(value)
        nt = self.col.models.by_name(value)
        return CardKind.CLOZE if nt and nt.get("type") == 1 else CardKind.BASIC

    def field_mapping(self) -> Dict[str, str]:
        """The chosen mapping; {} for a stock kind."""
        return self.mapping.mapping() if self.notetype() else {}

    def _on_kind_changed(self, *_args: Any) -> None:
        name = self.notetype()
        if name:
            from ..generator.notes.add import default_mapping, notetype_fields

            fields = notetype_fields(self.col, name)
            mapping = default_mapping(fields, self.kind())
            mapping.update({k: v for k, v in self._wanted_mapping.items() if not v or v in fields})
            self.mapping.set_fields(self.kind(), fields, mapping)
            self._wanted_mapping = {}
        self.mapping.setVisible(bool(name))
        self.mapping_label.setVisible(bool(name))
        self.kind_changed.emit(self.kind().value)

    # --- tags, language, count ----------------------------------------------------------------
    def tags(self) -> List[str]:
        return [t for t in self.tags_edit.text().split() if t]

    def set_language(self, value: str) -> None:
        combo = self.language_combo
        if combo is None:
            return
        index = combo.findData(value)
        if index < 0:
            index = combo.findText(value)
        if index >= 0:
            combo.setCurrentIndex(index)
        else:
            combo.setEditText(value)

    def language(self) -> str:
        return language_value(self.language_combo) if self.language_combo is not None else ""

    def focus(self) -> str:
        """The job's focus (free text; for this job only, not remembered)."""
        return " ".join(self.focus_edit.text().split())

    def set_depth(self, depth: Depth) -> None:
        index = self.depth_combo.findData(Depth.parse(depth).value)
        self.depth_combo.setCurrentIndex(max(0, index))

    def card_depth(self) -> Depth:
        return Depth.parse(self.depth_combo.currentData() or Depth.EVERY_FACT)

    def max_cards(self) -> int:
        return self.count_spin.value() if self.count_spin is not None else 0

    # --- the result ---------------------------------------------------------------------------
    def target(self) -> NoteTarget:
        """Where and as what the job's notes go."""
        from ..generator.notes.add import NoteTarget

        return NoteTarget(deck=self.deck_name(), kind=self.kind(), notetype=self.notetype(),
                          field_mapping=self.field_mapping(), tags=self.tags())

    def choices(self) -> Dict[str, Any]:
        """What the user chose, as config keys (remembered for next time)."""
        out: Dict[str, Any] = {
            "deck": self.deck_name(), "card_kind": self.kind().value, "note_type": self.notetype(),
            "field_mapping": self.field_mapping(), "tags": self.tags(), "depth": self.card_depth().value,
        }
        if self.language_combo is not None:
            out["language"] = self.language()
        if self.count_spin is not None:
            out["max_cards"] = self.max_cards()
        return out

    def is_cloze(self) -> bool:
        return self.kind() == CLOZE

    def kind_title(self) -> str:
        return self.kind_combo.currentText()

    def cleanup(self) -> None:
        self.deck_chooser.cleanup()
