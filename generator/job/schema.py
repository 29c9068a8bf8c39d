"""The JSON Schema sent as the answer format: flat and simple, so small models' grammars hold."""
from typing import Any, Dict, Tuple

from ..cards.card import CLOZE

# The fields of one card, per kind: "n" is the number of the sentence the card rests on
# (job/sentences.py), an integer; the others are strings. Every field is required but a cloze's
# "extra" (most cloze cards have none, and an empty field still costs the model its key): no
# $ref, anyOf, nullable types or patterns (they have broken Ollama's grammar conversion).
BASIC_FIELDS: Tuple[str, ...] = ("n", "front", "back")
CLOZE_FIELDS: Tuple[str, ...] = ("n", "text", "extra")
OPTIONAL_FIELDS = frozenset({"extra"})


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
                    "properties": {name: {"type": "integer" if name == "n" else "string"} for name in fields},
                    "required": [name for name in fields if name not in OPTIONAL_FIELDS],
                },
            }
        },
        "required": ["cards"],
    }
