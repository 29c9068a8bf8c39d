"""Which unit a card came from, and which old note a new card is the same fact as.

- **A card's unit**: the unit its supporting quote is in (the quote is verbatim from the piece
  of text that was sent); without a quote that is found, the unit of its piece that shares the
  most words with it.
- **Same fact**: a new card and an old note of the same region (or of any changed region: a
  paragraph edited and moved) are compared by their words, weighted by how rare each word is
  among the cards and notes compared (so the words every card shares, "What is the", weigh
  little): 60% the question, 40% the answer. With an embedding model, by meaning too (the
  cosine of the questions). The best pairs are taken first; each card and each note pairs once."""
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from ..cards.card import CLOZE, Card
from ..cards.grounding import normalise
from ..job.chunk import Chunk
from ..notes.add import SOURCE_CLASS, strip_source_line
from .fingerprint import HEADING_UNIT, Unit

MATCH = 0.5  # the least score for a card and a note to be the same fact
SAME_REGION = 0.1  # a pair within one region goes before an equal pair across regions
MEANING = 0.8  # cosine of the questions' embeddings that counts as the same fact
KEY_CHARS = 120

# The span Update from source wraps a source field's text in, to carry its mark (record.stamp).
_SOURCE_SPAN = re.compile(r'<span class="%s"[^>]*>.*?</span>' % SOURCE_CLASS, re.DOTALL)


def strip_source(value: str) -> str:
    """A field's content without the source reference the add-on put in it: its source line,
    or the span of a source field."""
    if SOURCE_CLASS not in value:
        return value
    return _SOURCE_SPAN.sub("", strip_source_line(value)[0])


def plain(value: str) -> str:
    from ..similar.question import plain as question_plain

    return question_plain(strip_source(value))


# --- a card's unit ---------------------------------------------------------------------------

class Attribution:
    """Cards to the units they came from, for the pieces of text that were sent."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self.units = [u for u in units if u.kind != HEADING_UNIT] or list(units)
        self.norm = {u.index: normalise(u.text) for u in self.units}
        self._of_chunk: Dict[str, List[Unit]] = {}

    def units_of_chunk(self, chunk: Chunk) -> List[Unit]:
        found = self._of_chunk.get(chunk.id)
        if found is not None:
            return found
        text = normalise(chunk.text)
        head = text[:KEY_CHARS]
        found = [u for u in self.units if self.norm[u.index][:KEY_CHARS] in text
                 or (head and head in self.norm[u.index])]
        self._of_chunk[chunk.id] = found
        return found

    def unit_of(self, card: Card, chunk: Optional[Chunk]) -> Optional[Unit]:
        candidates = self.units_of_chunk(chunk) if chunk is not None else []
        candidates = candidates or self.units
        if not candidates:
            return None
        quote = normalise(card.quote)
        if len(quote.split()) >= 3:
            padded = " %s " % quote
            for unit in candidates:
                if padded in " %s " % self.norm[unit.index]:
                    return unit
        words = set(normalise(" ".join((card.front, card.back, card.text, card.extra, card.quote))).split())
        return max(candidates, key=lambda u: (len(words & set(self.norm[u.index].split())), -u.index))


def attribute(cards: Sequence[Card], chunks: Sequence[Chunk], units: Sequence[Unit]) -> List[Optional[Unit]]:
    """Each card's unit (None only when the document has no unit at all)."""
    by_id = {c.id: c for c in chunks}
    attribution = Attribution(units)
    return [attribution.unit_of(card, by_id.get(card.chunk_id)) for card in cards]


# --- same fact ---------------------------------------------------------------------------------

@dataclass
class Side:
    """A card or a note as matching sees it."""

    question: str
    answer: str
    cloze: bool
    region: int = -1  # -1: no region (a note whose unit is in neither the record nor the document)

    def words(self) -> Tuple[Set[str], Set[str]]:
        return set(normalise(self.question).split()), set(normalise(self.answer).split())


def card_side(card: Card, region: int = -1) -> Side:
    if card.kind == CLOZE:
        return Side(plain(card.text), plain(card.extra), True, region)
    return Side(plain(card.front), plain(card.back), False, region)


def _weighted_jaccard(a: Set[str], b: Set[str], idf: Dict[str, float]) -> float:
    if not a and not b:
        return 1.0
    union = sum(idf.get(w, 1.0) for w in a | b)
    return sum(idf.get(w, 1.0) for w in a & b) / union if union else 0.0


Embed = Callable[[List[str]], List[List[float]]]


def embedder(backend: Any, model: str, on_error: Optional[Callable[[str], None]] = None) -> Optional[Embed]:
    """Questions by meaning through ``backend`` (None when no embedding model is set). A server
    that cannot embed costs nothing: matching goes by words, and ``on_error`` hears why, once."""
    if not model:
        return None
    failed: List[str] = []

    def embed(texts: List[str]) -> List[List[float]]:
        from ..errors import FlashcardError, describe

        if failed:
            return []
        try:
            return backend.embed(model, texts)
        except FlashcardError as e:
            failed.append(describe(e))
            if on_error is not None:
                on_error(failed[0])
            return []

    return embed


def _cosines(embed: Optional[Embed], cards: Sequence[Side], notes: Sequence[Side]) -> Optional[List[List[float]]]:
    if embed is None or not cards or not notes:
        return None
    vectors = embed([s.question for s in cards] + [s.question for s in notes])
    if len(vectors) != len(cards) + len(notes):
        return None

    def unit(v: Sequence[float]) -> List[float]:
        n = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / n for x in v]

    cv = [unit(v) for v in vectors[:len(cards)]]
    nv = [unit(v) for v in vectors[len(cards):]]
    return [[sum(x * y for x, y in zip(c, n)) for n in nv] for c in cv]


def pair(cards: Sequence[Side], notes: Sequence[Side], embed: Optional[Embed] = None
         ) -> List[Tuple[int, int, float]]:
    """(card index, note index, score) of the pairs that are the same fact, best first, each
    card and note at most once."""
    if not cards or not notes:
        return []
    sides = [s.words() for s in list(cards) + list(notes)]
    df: Dict[str, int] = {}
    for q, a in sides:
        for w in q | a:
            df[w] = df.get(w, 0) + 1
    n = len(sides)
    idf = {w: math.log(1.0 + n / d) for w, d in df.items()}
    card_words, note_words = sides[:len(cards)], sides[len(cards):]
    cosines = _cosines(embed, cards, notes)
    # only pairs that share a word (or are close in meaning) are scored
    by_word: Dict[str, List[int]] = {}
    for j, (q, a) in enumerate(note_words):
        for w in q | a:
            by_word.setdefault(w, []).append(j)
    scored: List[Tuple[float, float, int, int]] = []
    for i, (cq, ca) in enumerate(card_words):
        near: Set[int] = set()
        for w in cq | ca:
            near.update(by_word.get(w, ()))
        if cosines is not None:
            near.update(j for j, c in enumerate(cosines[i]) if c >= MEANING)
        for j in near:
            if cards[i].cloze != notes[j].cloze:
                continue
            nq, na = note_words[j]
            qs = 1.0 if cq and cq == nq else _weighted_jaccard(cq, nq, idf)
            score = qs if not (ca or na) else 0.6 * qs + 0.4 * _weighted_jaccard(ca, na, idf)
            if cosines is not None and cosines[i][j] >= MEANING:
                score = max(score, cosines[i][j])
            if score < MATCH:
                continue
            same = cards[i].region >= 0 and cards[i].region == notes[j].region
            scored.append((score + (SAME_REGION if same else 0.0), score, i, j))
    scored.sort(key=lambda t: (-t[0], t[2], t[3]))
    used_cards: Set[int] = set()
    used_notes: Set[int] = set()
    out: List[Tuple[int, int, float]] = []
    for _rank, score, i, j in scored:
        if i in used_cards or j in used_notes:
            continue
        used_cards.add(i)
        used_notes.add(j)
        out.append((i, j, round(score, 3)))
    return out
