"""Grounding from the citation: a card cites the numbered sentence(s) it rests on
(``sentences``), and is grounded when its answer's names, numbers and terms stand in them
(``cards.grounding.unsupported_terms``, the one check of an answer against its support, which
the card check "answer not in the text" uses too).

- The cited sentences support the answer: grounded there.
- They do not (a wrong number), but a neighbour does with them, or another sentence (or two
  adjacent ones) of the piece does: grounded there, and the citation is corrected to it (the
  nearest to what was cited).
- An answer in the old form (a copied quote instead of a number) is cited where the quote
  stands, then checked the same way.
- A citation of an image's marker: grounded by the image (its page is the place, set by
  ``images.attach_figure``).
- Otherwise not grounded ("Not in source"); the citation, if it named real sentences, is kept
  so the user sees what the model pointed at.

What the user sees is as before: the card's ``quote`` is the text of the sentence(s) it rests on
(on hover in the review table, in ``--json`` and the journal); ``Card.sentences`` has their
numbers and the card's source its page or line."""
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

from .chunk import Chunk
from ..cards.grounding import Support, answer_terms, is_grounded, missing_terms, normalise, stem, unsupported_terms
from .sentences import MAX_CITED, Numbered, numbered, parse_citation

if TYPE_CHECKING:
    from ..cards.checks import Expectation

__all__ = ["Grounded", "Grounder", "CITATION_KEYS", "citation_value"]

_DIGIT = re.compile(r"\d")

# Key names models use for the sentence number(s), ours ("n") first.
CITATION_KEYS: Tuple[str, ...] = ("n", "sentence", "sentences", "source", "sources", "ref", "refs", "cite",
                                  "cites", "citation", "citations", "s", "src", "number", "sentence_number")


def citation_value(item: Dict[str, Any]) -> Tuple[Any, str]:
    """(the citation the item gives, the key it was under); (None, "") when none. A string is a
    citation only when it is mostly numbers ("3", "[3, 4]", "sentence 3"): a longer one under
    "source" or "citation" is an old-style quote, read as such."""
    for key in CITATION_KEYS:
        value = item.get(key)
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, (int, float, list, tuple)):
            return value, key
        if isinstance(value, str) and _looks_numeric(value):
            return value, key
    return None, ""


def _looks_numeric(text: str) -> bool:
    text = text.strip()[:80]
    if not text or not any(c.isdigit() for c in text):
        return False
    letters = sum(1 for c in text if c.isalpha())
    return letters <= 12 and len(text.split()) <= 6


@dataclass
class Grounded:
    grounded: bool
    numbers: List[int]  # the sentences (and image markers) it rests on, corrected
    quote: str  # their text
    corrected: bool = False  # the model cited other sentences (or none)


class Grounder:
    """Grounds answers in one chunk's numbered sentences (reused for all its cards).
    ``expected``: the language the cards should be in (``checks.expectation``: the user's
    setting, else the source's), whose word lists the answers are read with, as the checks read
    them; computed from the chunk when first needed if not given."""

    def __init__(self, chunk: Chunk, images: Optional[int] = None, expected: Optional["Expectation"] = None) -> None:
        self.chunk = chunk
        self.numbered: Numbered = numbered(chunk)
        self.images = len(chunk.images) if images is None else images
        self._padded: Dict[Tuple[int, ...], str] = {}
        self._supports: Dict[Tuple[int, ...], Support] = {}
        self._word_sets: Dict[Tuple[int, ...], FrozenSet[str]] = {}
        self._lang: Optional[str] = expected.code if expected is not None else None

    @property
    def lang(self) -> str:
        """The language whose word lists the answers are read with."""
        if self._lang is None:
            from ..cards.checks import expectation

            self._lang = expectation("", self.chunk.text).code
        return self._lang

    @property
    def limit(self) -> int:
        """The highest number a card may cite (sentences, then images)."""
        return len(self.numbered) + self.images

    def citation(self, value: Any) -> List[int]:
        return parse_citation(value, self.limit)

    def padded(self, numbers: Sequence[int]) -> str:
        key = tuple(numbers)
        got = self._padded.get(key)
        if got is None:
            got = " " + " ".join(self.numbered.norm(n) for n in numbers) + " "
            if len(self._padded) < 4096:
                self._padded[key] = got
        return got

    def backs(self, answer: str, numbers: Sequence[int]) -> bool:
        """The sentences ``numbers`` hold the answer's names, numbers and terms."""
        key = tuple(numbers)
        if not _DIGIT.search(answer):
            # Most answers are words of their sentence as they stand: no index needed for them.
            words = normalise(answer).split()
            if words and set(words) <= self._words(key):
                return True
        support = self._supports.get(key)
        if support is None:
            support = Support(self.numbered.text_of(list(numbers)))
            if len(self._supports) < 4096:
                self._supports[key] = support
        return not unsupported_terms(answer, support, self.lang)

    def _words(self, key: Tuple[int, ...]) -> FrozenSet[str]:
        got = self._word_sets.get(key)
        if got is None:
            got = frozenset(" ".join(self.numbered.norm(n) for n in key).split())
            if len(self._word_sets) < 4096:
                self._word_sets[key] = got
        return got

    def cited_by_quote(self, quote: str) -> List[int]:
        """The sentences an old-style quote was copied from (none when it is not in the text)."""
        norm = normalise(quote)
        if len(norm.split()) < 3:
            return []
        hits = [s.number for s in self.numbered.sentences if is_grounded(quote, self.numbered.norm(s.number))]
        if hits:
            return hits[:MAX_CITED]
        # a quote over two sentences
        for s in self.numbered.sentences[:-1]:
            pair = (s.number, s.number + 1)
            if is_grounded(quote, self.padded(pair).strip()):
                return list(pair)
        return []

    def ground(self, answer: str, cited: List[int], quote: str = "") -> Grounded:
        """Where the answer ``answer`` (plain text: a basic card's back, a cloze's deleted terms)
        stands, given what the card cited (numbers, or an old-style ``quote``)."""
        count = len(self.numbered)
        for n in cited:
            if self.numbered.image_of(n, self.images) >= 0:
                # Its image is the evidence; which image, and its page as the card's place, is
                # read from the card's sentences when the figures are attached (images.attach_figure).
                return Grounded(True, [n], "")
        text_cited = [n for n in cited if n <= count]
        if not text_cited and quote:
            text_cited = self.cited_by_quote(quote)
        if text_cited and self.backs(answer, text_cited):
            return Grounded(True, text_cited, self.numbered.text_of(text_cited))
        found = self._search(answer, text_cited)
        if found:
            return Grounded(True, found, self.numbered.text_of(found), corrected=True)
        if not text_cited and quote and not cited:
            # an old-style quote that is nowhere in the text: as before, "Not in source"
            return Grounded(False, [], "")
        return Grounded(False, text_cited, self.numbered.text_of(text_cited), corrected=bool(cited))

    def _search(self, answer: str, near: List[int]) -> List[int]:
        """The sentence that holds the answer, nearest to ``near``; else the cited sentences with
        a neighbour; else two adjacent sentences, nearest first."""
        count = len(self.numbered)
        if not count or answer_terms(answer) == ([], []):
            return []  # nothing in it to look for
        centre = near[0] if near else 1
        order = sorted(range(1, count + 1), key=lambda n: (abs(n - centre), n))
        for n in order:
            if self.backs(answer, (n,)):
                return [n]
        if near:
            first, last = min(near), max(near)
            for pair in ((first - 1, last), (first, last + 1)):
                if pair[0] >= 1 and pair[1] <= count and pair[1] - pair[0] < MAX_CITED:
                    span = list(range(pair[0], pair[1] + 1))
                    if self.backs(answer, span):
                        return span
        for n in order:
            if n < count and self.backs(answer, (n, n + 1)):
                return [n, n + 1]
        return []

    def place(self, numbers: Sequence[int]) -> Tuple[int, int, Tuple[str, ...]]:
        """(page, line, heading path) of the first cited sentence; the chunk's own when none."""
        text_numbers = [n for n in numbers if n <= len(self.numbered)]
        chunk = self.chunk
        if not text_numbers:
            return chunk.page(), (chunk.marks[0][2] if chunk.marks else 0), chunk.heading_path
        first = min(text_numbers)
        page, line = self.numbered.place(first)
        return page, line, self.heading_path(first)

    def heading_path(self, n: int) -> Tuple[str, ...]:
        """The chunk's heading path, made precise by the heading sentence ``n`` stands under."""
        path = self.chunk.heading_path
        heading = self.numbered.heading_of(n)
        if not heading:
            return path
        if heading in path:
            return path[: path.index(heading) + 1]
        # A chunk's path is what encloses all of it: a heading inside it that is not on the
        # path stands below the path's end (a sibling of that end would have cut it off).
        return path + (heading,)

    def ground_topic(self, title: str, cited: List[int], quote: str = "", summary: str = "") -> Grounded:
        """Where a topic is: the sentence it cites and the two after it (a topic spans some
        sentences) name it (its numbers and at least half its words: a title names a subject
        rather than stating a fact, so the test is looser than an answer's) or say what its
        summary says (as an answer is checked); else the first place whose sentence names it
        (the citation corrected); else not grounded."""
        text_cited = [n for n in cited if n <= len(self.numbered)]
        if not text_cited and quote:
            text_cited = self.cited_by_quote(quote)
        numbers, words = answer_terms(title)
        said = answer_terms(summary) if summary else ([], [])

        def names(start: int, width: int = 3, by_summary: bool = False) -> bool:
            span = [k for k in range(start, start + width) if k <= len(self.numbered)]
            padded = self.padded(span)
            if by_summary and (said[0] or said[1]) and not missing_terms(said[0], said[1], padded):
                return True
            if any(f" {normalise(x)} " not in padded for x in numbers):
                return False
            found = sum(1 for w in words if " " + stem(w) in padded)
            return found * 2 >= len(words) and (found > 0 or not words)

        if text_cited and names(text_cited[0], by_summary=True):
            first = text_cited[0]
            return Grounded(True, [first], self.numbered.text_of([first]))
        if numbers or words:
            centre = text_cited[0] if text_cited else 1
            order = sorted(range(1, len(self.numbered) + 1), key=lambda k: (abs(k - centre), k))
            for width in (1, 3):  # the sentence that names it, else the start of a few that do
                for n in order:
                    if names(n, width):
                        return Grounded(True, [n], self.numbered.text_of([n]), corrected=True)
        return Grounded(False, text_cited[:1], self.numbered.text_of(text_cited[:1]), corrected=bool(cited))
