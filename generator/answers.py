"""Turn a model's raw answer into validated cards. The answer is untrusted input: it may be
wrapped in fences or prose, use other key names, or break the schema."""
import json
import re
from typing import Any, Dict, List, Optional, Tuple

from .cards import CLOZE, Card, SourceRef
from .chunks import Chunk
from .errors import InvalidAnswer
from .grounding import is_grounded, normalise
from .prompts import PLACEHOLDERS

_THINK = re.compile(r"^\s*<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)

# Key names models use instead of ours, per our field.
ALIASES: Dict[str, Tuple[str, ...]] = {
    "front": ("front", "question", "q", "prompt", "term"),
    "back": ("back", "answer", "a", "definition", "response"),
    "text": ("text", "cloze", "sentence", "front"),
    "extra": ("extra", "back_extra", "context", "back", "note"),
    "quote": ("quote", "source_quote", "evidence", "source", "citation"),
    "topic": ("topic", "topic_title", "subject"),
}


def parse_json(content: str) -> Any:
    """The first JSON value in the answer, tolerating <think> blocks, code fences and stray prose."""
    text = _THINK.sub("", content or "").strip()
    if not text:
        raise InvalidAnswer("The model gave an empty answer.", "Try again, or choose another model.")
    candidates = [text] + [m.group(1) for m in _FENCE.finditer(text)]
    for candidate in candidates:
        try:
            return json.loads(candidate, strict=False)
        except ValueError:
            pass
    decoder = json.JSONDecoder(strict=False)
    for start, ch in enumerate(text):
        if ch in "{[":
            try:
                return decoder.raw_decode(text, start)[0]
            except ValueError:
                continue
    raise InvalidAnswer("The model's answer is not JSON.", "Try again, or choose a model that follows "
                        "instructions better (e.g. llama3.2 or qwen2.5).")


def card_items(answer: Any) -> List[Dict[str, Any]]:
    """The list of card objects in a parsed answer ({"cards": [...]}, a bare list, or one card)."""
    if isinstance(answer, dict):
        for key in ("cards", "flashcards", "items", "data"):
            if isinstance(answer.get(key), list):
                answer = answer[key]
                break
        else:
            answer = [answer]
    if not isinstance(answer, list):
        raise InvalidAnswer("The answer has no list of cards.")
    return [item for item in answer if isinstance(item, dict)]


def pick(item: Dict[str, Any], field: str) -> str:
    """The field's value under our name or an alias; "" when missing or a copied placeholder."""
    lowered = {str(k).lower(): v for k, v in item.items()}
    for key in ALIASES.get(field, (field,)):
        value = lowered.get(key)
        if isinstance(value, (str, int, float)) and str(value).strip():
            text = str(value).strip()
            return "" if text.lower() in PLACEHOLDERS else text
    return ""


def build_cards(content: str, chunk: Chunk, kind: str, limit: int) -> List[Card]:
    """Validated, sanitized cards from one answer; raises InvalidAnswer when none are usable."""
    items = card_items(parse_json(content))
    maker = CardMaker(chunk, kind)
    cards: List[Card] = []
    for item in items:
        if len(cards) >= limit:
            break
        card = maker.card(item)
        if card is not None:
            cards.append(card)
    if not cards:
        raise no_usable_cards(kind)
    return cards


def no_usable_cards(kind: str) -> InvalidAnswer:
    return InvalidAnswer(
        f"The answer held no usable {'cloze ' if kind == CLOZE else ''}cards "
        f"(expected a list of objects with {', '.join(required_fields(kind))}).",
    )


class CardMaker:
    """One card from one answer item: validated, sanitized and grounded in its chunk, or None.
    The same for a whole answer (build_cards) and for an item as it streams in (stream_cards)."""

    def __init__(self, chunk: Chunk, kind: str, with_topic: bool = False) -> None:
        self.chunk = chunk
        self.kind = kind
        self.with_topic = with_topic  # keep the item's "topic" (raw; the caller maps it)
        self.source = SourceRef(chunk.document, chunk.location, chunk.heading_path)
        self.norm_chunk = normalise(chunk.text)

    def card(self, item: Dict[str, Any]) -> Optional[Card]:
        from .cloze import ensure_cloze, normalize_cloze
        from .formatting import to_field_html

        kind = self.kind
        quote = pick(item, "quote")
        card = Card(kind=kind, quote=quote[:500], source=self.source, chunk_id=self.chunk.id,
                    grounded=is_grounded(quote, self.norm_chunk),
                    topic=pick(item, "topic")[:200] if self.with_topic else "",
                    figure=pick(item, "figure")[:8] if self.chunk.images else "")
        if kind == CLOZE:
            text = normalize_cloze(pick(item, "text"))
            cloze = ensure_cloze(text, pick(item, "back") or pick(item, "answer")) if text else None
            if not cloze:
                return None
            card.text = to_field_html(cloze)
            extra = pick(item, "extra")
            card.extra = to_field_html(extra) if extra and extra != pick(item, "text") else ""
            if not card.text:
                return None
        else:
            card.front = to_field_html(pick(item, "front"))
            card.back = to_field_html(pick(item, "back"))
            if not card.front or not card.back or normalise(card.front) == normalise(card.back):
                return None
        return card


def required_fields(kind: str) -> Tuple[str, ...]:
    return ("text", "quote") if kind == CLOZE else ("front", "back", "quote")

