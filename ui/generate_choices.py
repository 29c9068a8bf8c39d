"""What the user chose in the Generate dialog (deck, card type or note type, fields, tags,
language, count, model), and remembering it (a mixin of ``GenerateDialog``)."""
from typing import Any, Dict, List, Optional, Tuple

from aqt import mw

from ..generator.cards import CLOZE, KINDS
from .common import KIND_LABELS, language_value, save_config


class GenerateChoices:
    """Deck, card type or note type, field mapping, tags, language, count and model."""

    def _load_choices(self) -> None:
        cfg = self.cfg
        did = mw.col.decks.id_for_name(str(cfg.get("deck") or "")) if cfg.get("deck") else None
        if did:
            self.deck_chooser.selected_deck_id = did
        self._fill_kinds()
        self.select_kind(str(cfg.get("card_kind") or "basic"), str(cfg.get("note_type") or ""),
                         dict(cfg.get("field_mapping") or {}))
        tags = cfg.get("tags") or []
        if isinstance(tags, str):
            tags = tags.split()
        self.tags_edit.setText(" ".join(tags))
        self.set_language(str(cfg.get("language") or ""))
        self.count_spin.setValue(int(cfg.get("max_cards") or 0))
        model = str(cfg.get("model") or "")
        self.model_combo.setEditText(model)

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

    def set_language(self, value: str) -> None:
        index = self.language_combo.findData(value)
        if index < 0:
            index = self.language_combo.findText(value)
        if index >= 0:
            self.language_combo.setCurrentIndex(index)
        else:
            self.language_combo.setEditText(value)

    def language(self) -> str:
        return language_value(self.language_combo)

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
        self.table.set_kind(self.kind())

    def tags(self) -> List[str]:
        return [t for t in self.tags_edit.text().split() if t]

    def deck_name(self) -> str:
        return self.deck_chooser.selected_deck_name()

    def model(self) -> str:
        return self.model_combo.currentText().strip()

    def target(self) -> Any:
        from ..generator.notes import NoteTarget

        return NoteTarget(deck=self.deck_name(), kind=self.kind(), notetype=self.notetype(),
                          field_mapping=self.mapping.mapping() if self.notetype() else {},
                          tags=self.tags())

    def choices(self) -> Dict[str, Any]:
        """What the user chose, as config keys (remembered for next time)."""
        return {
            "deck": self.deck_name(),
            "card_kind": self.kind(),
            "note_type": self.notetype(),
            "field_mapping": self.mapping.mapping() if self.notetype() else {},
            "tags": self.tags(),
            "language": self.language(),
            "max_cards": self.count_spin.value(),
            "model": self.model(),
        }

    def remember(self) -> None:
        changes = self.choices()
        if not changes["model"]:
            changes.pop("model")
        self.cfg.update(save_config(changes))
