"""The JSON Schema sent as the answer format: flat and simple, so small models' grammars hold."""
from typing import Any, Dict, Tuple

from ..cards.card import CLOZE

# The fields of one card, per kind. Every field is a required string: no $ref, anyOf,
# nullable types or patterns (they have broken Ollama's grammar conversion).
BASIC_FIELDS: Tuple[str, ...] = ("front", "back", "quote")
CLOZE_FIELDS: Tuple[str, ...] = ("text", "extra", "quote")


def card_fields(kind: str) -> Tuple[str, ...]:
    return CLOZE_FIELDS if kind == CLOZE else BASIC_FIELDS


def answer_schema(kind: str) -> Dict[str, Any]:
    fields = card_fields(kind)
    return {
        "type": "object",
        "properties": {
            "cards": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {name: {"type": "string"} for name in fields},
                    "required": list(fields),
                },
            }
        },
        "required": ["cards"],
    }
