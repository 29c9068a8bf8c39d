"""What the user chose in the Generate dialog (deck, card type or note type, fields, tags,
language, count, model), and remembering it (a mixin of ``GenerateDialog``)."""
from typing import Any, Dict, List

from aqt import mw

from .common import language_value, save_config
from .field_mapping import CardTypeChoice


class GenerateChoices(CardTypeChoice):
    """Deck, card type or note type, field mapping, tags, language, count and model (the card
    type and field mapping are ``CardTypeChoice``, shared with the bulk dialog)."""

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

    def _kind_changed(self) -> None:  # CardTypeChoice
        self.table.set_kind(self.kind())

    def tags(self) -> List[str]:
        return [t for t in self.tags_edit.text().split() if t]

    def deck_name(self) -> str:
        return self.deck_chooser.selected_deck_name()

    def model(self) -> str:
        return self.model_combo.currentText().strip()

    def target(self) -> Any:
        return self.note_target(self.deck_name(), self.tags())

    def choices(self) -> Dict[str, Any]:
        """What the user chose, as config keys (remembered for next time)."""
        return {
            "deck": self.deck_name(),
            "card_kind": self.kind(),
            "note_type": self.notetype(),
            "field_mapping": self.field_mapping(),
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
