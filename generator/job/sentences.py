"""Numbered sentences: the text of a request is sent with each sentence, list item, table row
and heading preceded by a marker ``[n]``, numbered from 1 within the request, and the model
answers with the number(s) of the sentence(s) a card rests on instead of copying a quote.
Images sent with the text get their own markers after the last sentence.

The split is a pure function of the chunk's text (and its marks, for headings and places), so
the prompt, the answer's parser and a resumed job all see the same numbers:

- a line is a unit when it is a heading, a list item ("- x", "1. x"), a table row ("a | b") or
  a line of code; other lines (paragraphs) are split into sentences after ``.``, ``!``, ``?``
  (and their CJK forms) when what follows does not start in lower case ("e.g. the" stays whole);
  a piece of fewer than three words joins the next ("Fig. 3 shows ...");
- in the text as sent, every unit gets its marker in front (after a list item's bullet), so
  taking the markers out gives the text back.

``Numbered.place(n)`` gives a unit's page and line (from ``Chunk.marks``), ``heading_of(n)``
the heading it stands under within the chunk."""
import re
import threading
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

from .chunk import Chunk

__all__ = ["Sentence", "Numbered", "numbered", "parse_citation", "unmarked", "MAX_CITED"]

MAX_CITED = 8  # sentence numbers kept from one card's citation
_END = re.compile("[.!?][\"'\u201d\u2019)\\]]*\\s+(?=[^a-z\\s])|[\u3002\uff01\uff1f]+\\s*")
_ITEM = re.compile(r"^(?:[-*\u2022]\s+|\d{1,3}[.)]\s+|[a-zA-Z]\)\s+|\(\d{1,3}\)\s+)")
_BULLET = re.compile(r"^[-*\u2022]\s+")
_NUMBERS = re.compile(r"\d{1,6}")
_MIN_WORDS = 3


@dataclass(frozen=True)
class Sentence:
    number: int  # from 1 within the request
    start: int  # offsets in the chunk's text
    end: int
    text: str
    heading: bool = False


class Numbered:
    """A chunk's text as numbered units, and the text as sent (``marked``)."""

    def __init__(self, chunk: Chunk, sentences: List[Sentence], marked: str) -> None:
        self.chunk = chunk
        self.sentences = sentences
        self.marked = marked
        self._norms: Dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.sentences)

    def get(self, n: int) -> Optional[Sentence]:
        return self.sentences[n - 1] if 1 <= n <= len(self.sentences) else None

    def text_of(self, numbers: Iterable[int]) -> str:
        """The text of the units ``numbers`` (in order, each once), joined by a space."""
        out = []
        for n in sorted(set(numbers)):
            s = self.get(n)
            if s is not None:
                out.append(s.text)
        return " ".join(out)

    def norm(self, n: int) -> str:
        """The unit's text, normalised (cached: grounding compares many answers with it)."""
        got = self._norms.get(n)
        if got is None:
            from ..cards.grounding import normalise

            s = self.get(n)
            got = normalise(s.text) if s is not None else ""
            self._norms[n] = got
        return got

    def place(self, n: int) -> Tuple[int, int]:
        """(page, line) of unit ``n``; (0, 0) when not known."""
        s = self.get(n)
        if s is None:
            return (0, 0)
        mark = self.chunk.mark_at(s.start)
        return mark[1], mark[2]

    def heading_of(self, n: int) -> str:
        """The heading unit ``n`` stands under within the chunk ("" if none)."""
        for k in range(min(n, len(self.sentences)), 0, -1):
            s = self.sentences[k - 1]
            if s.heading:
                return s.text if k != n else ""
        return ""

    def image_marker(self, index: int) -> int:
        """The marker of the chunk's image ``index`` (from 0): after the last unit."""
        return len(self.sentences) + 1 + index

    def image_of(self, n: int, count: int) -> int:
        """The index (from 0) of the image whose marker is ``n``, or -1."""
        i = n - len(self.sentences) - 1
        return i if 0 <= i < count else -1


def _headings(chunk: Chunk) -> Dict[int, bool]:
    return {m[0]: bool(m[3]) for m in chunk.marks}


def _split_line(line: str) -> List[Tuple[int, int]]:
    """(start, end) of the sentences of one line of prose, relative to the line."""
    cuts = [m.end() for m in _END.finditer(line)]
    pieces: List[Tuple[int, int]] = []
    pos = 0
    for end in cuts + [len(line)]:
        if end <= pos:
            continue
        piece = line[pos:end]
        if piece.strip():
            pieces.append((pos, end))
        pos = end
    merged: List[Tuple[int, int]] = []
    carry: Optional[int] = None
    for start, end in pieces:
        if carry is not None:
            start, carry = carry, None
        if len(line[start:end].split()) < _MIN_WORDS and (start, end) != pieces[-1]:
            carry = start  # too short to stand alone: it opens the next piece
            continue
        merged.append((start, end))
    if carry is not None:
        merged.append((carry, len(line)))
    return merged


_LITERAL = re.compile(r"\[(\d{1,6})\]")


def _own(text: str) -> str:
    """The text's own words as sent: a bracketed number it has itself (a reference in a paper,
    "[12]") becomes "(12)", so that it cannot pass for a marker."""
    return _LITERAL.sub(r"(\1)", text) if "[" in text else text


def split(chunk: Chunk) -> Numbered:
    text = chunk.text
    headings = _headings(chunk)
    sentences: List[Sentence] = []
    out: List[str] = []
    pos = 0
    for raw in text.split("\n"):
        line_start = pos
        pos += len(raw) + 1
        stripped = raw.strip()
        if not stripped:
            out.append(raw)
            continue
        lead = len(raw) - len(raw.lstrip())
        begin = line_start + lead
        is_heading = headings.get(line_start, False) or headings.get(begin, False)
        whole = is_heading or _ITEM.match(stripped) is not None or " | " in stripped or lead >= 4
        if whole:
            number = len(sentences) + 1
            bullet = _BULLET.match(stripped)
            cut = bullet.end() if bullet else 0
            body = stripped[cut:]
            sentences.append(Sentence(number, begin + cut, line_start + len(raw.rstrip()), body, is_heading))
            out.append(raw[:lead + cut] + "[%d] " % number + _own(raw[lead + cut:]))
            continue
        parts: List[str] = [raw[:lead]]
        last = 0
        body = raw[lead:]
        for s, e in _split_line(body):
            number = len(sentences) + 1
            piece = body[s:e]
            stripped_piece = piece.strip()
            front = len(piece) - len(piece.lstrip())
            sentences.append(Sentence(number, begin + s + front, begin + s + front + len(stripped_piece),
                                      stripped_piece))
            parts.append(_own(body[last:s + front]) + "[%d] " % number)
            last = s + front
        parts.append(_own(body[last:]))
        out.append("".join(parts))
    return Numbered(chunk, sentences, "\n".join(out))


_CACHE: Dict[int, Tuple[Chunk, Numbered]] = {}
_CACHE_SIZE = 64
_CACHE_LOCK = threading.Lock()  # the workers of a job ask at once


def numbered(chunk: Chunk) -> Numbered:
    """The chunk's numbered units (remembered for the last chunks: the prompt, the stream's
    cards and the rewrite pass of one chunk all ask)."""
    key = id(chunk)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None and hit[0] is chunk:
        return hit[1]
    result = split(chunk)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = (chunk, result)
    return result


def parse_citation(value: object, limit: int) -> List[int]:
    """The sentence numbers a card cites, from what a model wrote: 3, "3", [3, 4], "3-4",
    "[3], [5]", "sentences 3 and 4"; only numbers from 1 to ``limit``, each once, at most
    ``MAX_CITED``. A range gives its ends and what lies between (at most ``MAX_CITED``)."""
    found: List[int] = []

    def add(n: int) -> None:
        if 1 <= n <= limit and n not in found and len(found) < MAX_CITED:
            found.append(n)

    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        if value == value and abs(value) < 1e9:  # not NaN
            add(int(value))
        return found
    if isinstance(value, (list, tuple)):
        for item in list(value)[:MAX_CITED * 4]:
            for n in parse_citation(item, limit):
                add(n)
        return found
    if not isinstance(value, str):
        return []
    text = value[:200]
    ranged = re.search(r"(\d{1,6})\s*(?:-|–|to|bis|à|a)\s*(\d{1,6})", text)
    if ranged:
        a, b = int(ranged.group(1)), int(ranged.group(2))
        if 0 < b - a < MAX_CITED:
            for n in range(a, b + 1):
                add(n)
            return found
    for m in _NUMBERS.finditer(text):
        add(int(m.group()))
    return found


_MARKER = re.compile(r"\[\d{1,6}\] ")


def unmarked(marked: str) -> str:
    """The text as sent with its markers taken out: the chunk's own text (but for bracketed
    numbers of its own, sent in parentheses)."""
    return _MARKER.sub("", marked)
