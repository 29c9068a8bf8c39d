"""Turn a model's raw answer into validated cards. The answer is untrusted input: it may be
wrapped in fences or prose, use other key names, or break the schema."""
import itertools
import json
import re
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from .. import safejson
from ..cards.card import CLOZE, Card, SourceRef
from ..cards.fields import (
    BACK_LIMIT,
    FRONT_LIMIT,
    QUOTE_LIMIT,
    RAW_FACTOR,
    clean_chars,
    field_html,
    is_blank,
    says_nothing,
)
from .chunk import Chunk
from ..errors import InvalidAnswer
from ..cards.grounding import normalise
from .prompts import PLACEHOLDERS

if TYPE_CHECKING:
    from ..cards.checks import Expectation

_THINK = re.compile(r"^\s*<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
MAX_ATTEMPTS = 32  # places in an answer where a JSON value is looked for

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
    candidates = [text] + [m.group(1) for m in _FENCE.finditer(text)][:MAX_ATTEMPTS]
    for candidate in candidates:
        try:
            return safejson.loads(candidate)
        except ValueError:  # also JSON nested too deep
            pass
    decoder = json.JSONDecoder(strict=False)
    starts = (i for i, ch in enumerate(text) if ch in "{[")
    for start in itertools.islice(starts, MAX_ATTEMPTS):  # each try may read to the end
        try:
            return safejson.raw_decode(decoder, text, start)[0]
        except ValueError:  # also nested too deep
            if text[start] == "[":
                items = complete_items(text, start, decoder)
                if items:
                    return items
            continue
    raise InvalidAnswer("The model's answer is not JSON.", "Try again, or choose a model that follows "
                        "instructions better (e.g. llama3.2 or qwen2.5).")


def complete_items(text: str, start: int, decoder: json.JSONDecoder) -> List[Dict[str, Any]]:
    """The complete objects at the start of the list that opens at ``text[start]`` and does not
    close (an answer cut at the token limit): ``[{...}, {...}, {"front": "Wh`` gives two."""
    items: List[Dict[str, Any]] = []
    pos = start + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        try:
            value, pos = safejson.raw_decode(decoder, text, pos)
        except ValueError:
            return items
        if not isinstance(value, dict):
            return items
        items.append(value)


def answer_items(answer: Any, keys: Sequence[str], what: str) -> List[Dict[str, Any]]:
    """The objects of a parsed answer: the list under the first of ``keys`` that holds one, a
    bare list, or one object; ``what`` names them in the error ("cards", "topics")."""
    if isinstance(answer, dict):
        for key in keys:
            if isinstance(answer.get(key), list):
                answer = answer[key]
                break
        else:
            answer = [answer]
    if not isinstance(answer, list):
        raise InvalidAnswer("The answer has no list of %s." % what)
    return [item for item in answer if isinstance(item, dict)]


def card_items(answer: Any) -> List[Dict[str, Any]]:
    """The card objects of a parsed answer ({"cards": [...]}, a bare list, or one card)."""
    return answer_items(answer, ("cards", "flashcards", "items", "data"), "cards")


def lowered_keys(item: Dict[str, Any]) -> Dict[str, Any]:
    """``item`` with its keys in lower case (what ``pick_raw`` looks fields up in)."""
    return {str(k).lower(): v for k, v in item.items()}


def pick_raw(item: Dict[str, Any], field: str, lowered: Optional[Dict[str, Any]] = None) -> Tuple[str, int]:
    """The field's value under our name or an alias, bounded (``RAW_FACTOR`` x the longest
    field) and cleaned of characters no note can store, with the length the model sent;
    ("", 0) when missing or a copied placeholder. ``lowered``: ``lowered_keys(item)``, when
    the caller picks several fields of one item."""
    if lowered is None:
        lowered = lowered_keys(item)
    cap = RAW_FACTOR * BACK_LIMIT
    for key in ALIASES.get(field, (field,)):
        value = lowered.get(key)
        if not isinstance(value, (str, int, float)):
            continue
        value = str(value)
        received = len(value)
        text = clean_chars(value[: cap + 1024].strip()[:cap]).strip()
        if text:
            return ("", 0) if text.lower() in PLACEHOLDERS else (text, received)
    return "", 0


def pick(item: Dict[str, Any], field: str, lowered: Optional[Dict[str, Any]] = None) -> str:
    """The field's value under our name or an alias (bounded and cleaned, see ``pick_raw``);
    "" when missing or a copied placeholder."""
    return pick_raw(item, field, lowered)[0]


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
    The same for a whole answer (build_cards) and for an item as it streams in (stream_cards).

    Every field goes through ``cardtext.field_html`` (bounded, cleaned of what no note can
    store, formatted, sanitized, cut, Anki's markup escaped); a side a reader would see as empty
    drops the card, and so does one with no letter or digit (``says_nothing``); a cloze is judged
    on its deletions as they are after sanitizing. The card is grounded from the sentence
    number(s) it cites (``citations.Grounder``; an old-style quote is read too), and its source
    is the place of that sentence. ``expected``: the cards' language (``checks.expectation``),
    computed once for the chunk by the caller; the grounding reads the answers in it."""

    def __init__(self, chunk: Chunk, kind: str, with_topic: bool = False,
                 expected: Optional["Expectation"] = None) -> None:
        from .citations import Grounder

        self.chunk = chunk
        self.kind = kind
        self.with_topic = with_topic  # keep the item's "topic" (raw; the caller maps it)
        self.grounder = Grounder(chunk, expected=expected)

    def card(self, item: Dict[str, Any]) -> Optional[Card]:
        from .citations import citation_value

        item = lowered_keys(item)  # looked up once for all its fields
        value, key = citation_value(item)
        cited = self.grounder.citation(value) if key else []
        quote = "" if cited else pick_quote(item)
        notes: List[str] = []
        card = Card(kind=self.kind, chunk_id=self.chunk.id,
                    topic=pick(item, "topic", item)[:200] if self.with_topic else "",
                    figure=pick(item, "figure", item)[:8] if self.chunk.images else "", warnings=notes)
        if self.kind == CLOZE:
            if not self._cloze(card, item, notes):
                return None
        else:
            front, received = pick_raw(item, "front", item)
            card.front = field_html(front, FRONT_LIMIT, "front", notes, received)
            back, received = pick_raw(item, "back", item)
            card.back = field_html(back, BACK_LIMIT, "back", notes, received)
            if says_nothing(card.front) or says_nothing(card.back) or normalise(card.front) == normalise(card.back):
                return None
        self.ground(card, cited, quote)
        return card

    def ground(self, card: Card, cited: List[int], quote: str = "") -> None:
        """Set the card's grounding, sentences, quote and source from what it cited."""
        found = self.grounder.ground(answer_of(card), cited, quote)
        card.grounded = found.grounded
        card.sentences = found.numbers
        card.quote = (found.quote or quote)[:QUOTE_LIMIT]
        page, line, path = self.grounder.place(found.numbers)
        chunk = self.chunk
        card.source = SourceRef(chunk.document, chunk.location, path, page, line, chunk.path)

    @staticmethod
    def _cloze(card: Card, item: Dict[str, Any], notes: List[str]) -> bool:
        """Fill a cloze card's text and extra; False if no deletion survives sanitizing."""
        from ..cards.cloze import CLOZE_RE, drop_blank_deletions, ensure_cloze, normalize_cloze

        text, received = pick_raw(item, "text", item)  # item: its keys lowered by card()
        hint = pick(item, "back", item) or pick(item, "answer", item)
        raw = ensure_cloze(normalize_cloze(text), hint) if text else None
        if not raw:
            return False
        # Validity after sanitizing: a deletion that held only a script or markup is gone now.
        card.text = drop_blank_deletions(field_html(raw, FRONT_LIMIT, "cloze text", notes, received), is_blank)
        if not CLOZE_RE.search(card.text):
            rescued = ensure_cloze(card.text, hint) if hint and not says_nothing(card.text) else None
            card.text = drop_blank_deletions(rescued, is_blank) if rescued else ""
            if not CLOZE_RE.search(card.text):
                return False
        if says_nothing(CLOZE_RE.sub(lambda m: m.group(2), card.text)):  # "{{c1::...}} ?"
            return False
        extra, received = pick_raw(item, "extra", item)
        if extra and extra != text:
            card.extra = field_html(extra, BACK_LIMIT, "extra", notes, received)
            if says_nothing(card.extra):
                card.extra = ""
        return True


def required_fields(kind: str) -> Tuple[str, ...]:
    return ("n", "text") if kind == CLOZE else ("n", "front", "back")


def pick_quote(item: Dict[str, Any]) -> str:
    """An old-style quote (the text copied from the source) under our old name or an alias."""
    return pick(item, "quote", item)[:QUOTE_LIMIT]


def answer_of(card: Card) -> str:
    """What a card's answer says, as plain text: a cloze's deleted terms, else its back."""
    from ..cards.checks import plain
    from ..cards.cloze import CLOZE_RE

    if card.kind == CLOZE:
        return " ".join(m.group(2) for m in CLOZE_RE.finditer(plain(card.text)))
    return plain(card.back)

