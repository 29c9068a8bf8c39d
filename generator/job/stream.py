"""Cards as they are written: the model's answer is read while it streams, and each card is
validated, cleaned and grounded the moment its JSON object closes, then handed on at once.

- :class:`ObjectStream` finds the items of a JSON list (the outermost objects inside an array)
  in text that arrives in pieces. It skips a leading ``<think>…</think>``, prose and code fences
  before the JSON (as ``answers.parse_json`` does), reads in linear time, and keeps only the
  object being read (an item over ``MAX_OBJECT_CHARS`` is left to the final parse).
- :class:`CardStream` turns those items into cards with the same :class:`answers.CardMaker`
  the final parse uses, up to the chunk's limit, and calls ``on_card`` for each.
- When the answer is complete, :meth:`CardStream.settle` parses it whole (the tolerant parser:
  fences, ``<think>``, prose, key aliases, one bare card); **that list is authoritative**. A card
  the final parse makes equal to one handed on early is the same object, so callers can follow it
  by identity. An answer that stopped before its JSON closed (cut at the token limit, or broken)
  keeps the cards whose objects closed before the break, and ``cut`` says so.
- :func:`reconcile` maps the cards handed on early to the final list (same, replaced, withdrawn,
  added), for a display or a ``--jsonl`` printer that showed cards before the chunk ended.
- :class:`LiveDuplicates` marks a card as a duplicate as it arrives (against the collection's
  keys, read once, and the job's earlier cards); the add step checks again, authoritatively.

Never imports aqt or Qt."""
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from .. import log, safejson
from .answers import CardMaker, card_items, no_usable_cards, parse_json
from ..cards.card import Card
from ..cards.checks import Expectation
from .chunk import Chunk
from ..cards.grounding import normalise

MAX_OBJECT_CHARS = 64_000  # a card is short; a longer item is left to the final parse

_OUTSIDE = re.compile(r'[{}\[\]"]')
_INSIDE = re.compile(r'["\\]')
_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"
_LEAD, _THINK, _SCAN, _DONE = range(4)

CardCallback = Callable[[Card], None]
CardFinish = Callable[[Card], Optional[Card]]  # maps (tags, topic, checks) or drops a card


class ObjectStream:
    """The items of the first JSON list in a streamed text, each handed to ``on_object`` (as a
    dict) as soon as its closing brace arrives. Not thread-safe: one reader feeds it."""

    def __init__(self, on_object: Callable[[Dict[str, Any]], None]) -> None:
        self.on_object = on_object
        self.items = 0  # objects handed on
        self.chars = 0  # characters fed
        self._buf = ""
        self._pos = 0  # next character of _buf to look at
        self._mode = _LEAD
        self._stack: List[str] = []
        self._in_str = False
        self._esc = False
        self._start = -1  # index in _buf of the open item's "{"; -1 when no item is open
        self._item_depth = 0
        self._list_closed = False

    @property
    def open(self) -> bool:
        """A JSON value was begun and has not closed: the answer stopped in the middle."""
        return bool(self._stack) or self._in_str

    @property
    def broken(self) -> bool:
        """Items were read, and their list never closed: the answer broke off after them."""
        return self.items > 0 and not self._list_closed

    @property
    def complete(self) -> bool:
        """A JSON value that held items has closed (the rest of the answer is not read)."""
        return self._mode == _DONE

    def feed(self, delta: str) -> None:
        if not delta or self._mode == _DONE:
            return
        self.chars += len(delta)
        self._buf += delta
        if self._mode == _LEAD:
            head = self._buf.lstrip()
            if not head:
                self._buf = ""
                return
            low = head[:len(_THINK_OPEN)].lower()
            if low.startswith(_THINK_OPEN):
                self._mode = _THINK
                self._buf = head[len(_THINK_OPEN):]
            elif _THINK_OPEN.startswith(low):
                return  # may still become "<think>"
            else:
                self._mode = _SCAN
        if self._mode == _THINK:
            at = self._buf.lower().find(_THINK_CLOSE)
            if at < 0:
                self._buf = self._buf[-len(_THINK_CLOSE):]  # the close tag may be split
                return
            self._buf = self._buf[at + len(_THINK_CLOSE):]
            self._pos = 0
            self._mode = _SCAN
        self._scan()

    def _scan(self) -> None:
        buf, pos, end = self._buf, self._pos, len(self._buf)
        stack = self._stack
        while pos < end and self._mode == _SCAN:
            if self._esc:
                self._esc = False
                pos += 1
                continue
            if self._in_str:
                m = _INSIDE.search(buf, pos)
                if m is None:
                    pos = end
                    break
                pos = m.end()
                if m.group() == '"':
                    self._in_str = False
                else:
                    self._esc = True
                continue
            m = _OUTSIDE.search(buf, pos)
            if m is None:
                pos = end
                break
            ch, at, pos = m.group(), m.start(), m.end()
            if ch == '"':
                self._in_str = bool(stack)  # quotes in prose before the JSON mean nothing
            elif ch in "{[":
                if ch == "{" and self._start < 0 and stack and stack[-1] == "[":
                    self._start, self._item_depth = at, len(stack)
                stack.append(ch)
            elif stack:
                opener = stack.pop()
                if (opener == "{") != (ch == "}"):  # mismatched: not JSON after all
                    stack.clear()
                    self._start = -1
                    continue
                if ch == "}" and self._start >= 0 and len(stack) == self._item_depth:
                    text, self._start = buf[self._start:at + 1], -1
                    self._item(text)
                elif ch == "]" and self.items and len(stack) == self._item_depth - 1:
                    self._list_closed = True
                if not stack and self.items:
                    self._mode = _DONE
        self._pos = pos
        # Keep only the open item (or nothing): memory stays bounded by one card.
        keep = self._start if self._start >= 0 else self._pos
        if self._start >= 0 and self._pos - self._start > MAX_OBJECT_CHARS:
            keep, self._start = self._pos, -1
        if keep:
            self._buf = self._buf[keep:]
            self._pos -= keep
            if self._start >= 0:
                self._start -= keep

    def _item(self, text: str) -> None:
        try:
            obj = safejson.loads(text)
        except ValueError:  # also nested too deep
            return
        if isinstance(obj, dict):
            self.items += 1
            self.on_object(obj)


def same_card(a: Card, b: Card) -> bool:
    return (a.kind, a.front, a.back, a.text, a.extra) == (b.kind, b.front, b.back, b.text, b.extra)


class CardStream:
    """One answer's cards, each handed to ``on_card`` as soon as its object closes.

    ``finish`` runs on every card (early and final alike) after validation: it may tag or map
    the card, or drop it (None). ``allow_empty``: an empty list is a valid answer (e.g. a chunk
    with nothing on the chosen topics). ``expected``: the cards' language, computed once for the
    chunk (``checks.expectation``)."""

    def __init__(self, chunk: Chunk, kind: str, limit: int, on_card: Optional[CardCallback] = None,
                 finish: Optional[CardFinish] = None, with_topic: bool = False,
                 allow_empty: bool = False, expected: Optional[Expectation] = None) -> None:
        self.maker = CardMaker(chunk, kind, with_topic, expected)
        self.limit = max(1, limit)
        self.on_card = on_card
        self.finish = finish
        self.allow_empty = allow_empty
        self.cards: List[Card] = []  # handed on so far, in answer order
        # Every streamed item made, in answer order, with what it made (None: dropped), or None
        # where making it raised: the final parse takes these instead of making them again.
        self._made: List[Optional[Tuple[Dict[str, Any], Optional[Card]]]] = []
        self.cut = False  # set by settle: the answer broke off; the cards before the break were kept
        # Items of the answer past ``limit``, not made into cards: counted, so they can be said
        # (the streamed ones until settle, then the final parse's).
        self.beyond = 0
        self.objects = ObjectStream(self._on_object)

    def feed(self, delta: str) -> None:
        self.objects.feed(delta)

    def _make(self, item: Dict[str, Any]) -> Optional[Card]:
        card = self.maker.card(item)
        if card is not None and self.finish is not None:
            card = self.finish(card)
        return card

    def _on_object(self, item: Dict[str, Any]) -> None:
        if len(self.cards) >= self.limit:
            self.beyond += 1
            return
        try:
            card = self._make(item)
        except Exception as e:  # the final parse meets the same item and decides
            log.event("stream: item skipped: %s", type(e).__name__)
            self._made.append(None)
            return
        self._made.append((item, card))
        if card is None:
            return
        self.cards.append(card)
        if self.on_card is not None:
            try:
                self.on_card(card)
            except Exception as e:  # a display's trouble must not cost the chunk its cards
                log.event("stream: on_card failed: %s: %s", type(e).__name__, e)

    def settle(self, content: str) -> List[Card]:
        """The chunk's final cards from the whole answer (authoritative). Raises AnswerError
        when nothing is usable; an answer that broke off keeps the cards that closed before
        the break (and sets ``cut``)."""
        from ..errors import AnswerError

        streamed = self.beyond
        try:
            final = self._final(content)
        except AnswerError:
            if self.cards and self.objects.broken:
                self.cut = True
                self.beyond = streamed
                return list(self.cards)
            raise
        if self.cards and self.objects.broken:
            # The tolerant parse of a cut answer finds only its first object; the stream saw more.
            self.cut = True
            if len(self.cards) >= len(final):
                self.beyond = streamed
                return list(self.cards)
        return final

    def _final(self, content: str) -> List[Card]:
        items = card_items(parse_json(content))
        cards: List[Card] = []
        made = self._made
        self.beyond = 0
        for k, item in enumerate(items):
            if len(cards) >= self.limit:
                self.beyond = len(items) - k
                break
            # The stream made this very item already (the usual case: the final list is the
            # streamed list): its card is taken as it is, not made a second time.
            early_made = made[k] if k < len(made) else None
            if early_made is not None and early_made[0] == item:
                card = early_made[1]
            else:
                card = self._make(item)
            if card is None:
                continue
            early = self.cards[len(cards)] if len(cards) < len(self.cards) else None
            cards.append(early if early is not None and same_card(early, card) else card)
        if not cards and not (self.allow_empty and not items):
            raise no_usable_cards(self.maker.kind)
        return cards


def with_checks(finish: Optional[CardFinish], expected: Expectation, support: str = "") -> CardFinish:
    """``finish`` followed by the card checks (generator/checks.py), so a card shown early carries
    its flags as it arrives; the chunk's final list is checked again (``rewrite``). ``expected``:
    the cards' language (``checks.expectation``, computed once for the chunk); ``support``: the
    text the cards' answers are looked up in (``checks.check_card``)."""
    from ..cards.checks import check_cards

    def run(card: Card) -> Optional[Card]:
        out = finish(card) if finish is not None else card
        if out is not None:
            check_cards([out], expected, support)  # remembered: the final list's check reuses it
        return out

    return run


@dataclass
class Reconciled:
    """How the cards shown early (``early``) map to a chunk's final list (``final``)."""

    same: List[Tuple[int, int]] = field(default_factory=list)  # (early, final): the same card
    replaced: List[Tuple[int, int]] = field(default_factory=list)  # (early, final): its place taken
    withdrawn: List[int] = field(default_factory=list)  # early cards not in the final list
    added: List[int] = field(default_factory=list)  # final cards not shown early


def reconcile(early: Sequence[Card], final: Sequence[Card]) -> Reconciled:
    """The rule: a final card is the same as an early one when it is that object, or has the same
    fields (first match in order); what is left over is paired in order (the final card replaces
    the early one in its place); the rest of the early cards are withdrawn, the rest of the final
    ones added."""
    out = Reconciled()
    used: Set[int] = set()
    unmatched_final: List[int] = []
    for j, card in enumerate(final):
        hit = next((i for i, e in enumerate(early) if i not in used and e is card), None)
        if hit is None:
            hit = next((i for i, e in enumerate(early) if i not in used and same_card(e, card)), None)
        if hit is None:
            unmatched_final.append(j)
        else:
            used.add(hit)
            out.same.append((hit, j))
    left = [i for i in range(len(early)) if i not in used]
    for i, j in zip(left, unmatched_final):
        out.replaced.append((i, j))
    out.withdrawn = left[len(unmatched_final):]
    out.added = unmatched_final[len(left):]
    out.same.sort(key=lambda p: p[1])
    return out


class LiveDuplicates:
    """Marks each card as it arrives: "collection" (its first field is a note's), "near" (the
    same after folding case, accents and punctuation) or "batch" (an earlier card of the job).
    Thread-safe. The keys come from :func:`generator.notes.add.existing_keys` (read once)."""

    def __init__(self, exact: Iterable[str] = (), near: Iterable[str] = ()) -> None:
        self.exact: Set[str] = set(exact)
        self.near: Set[str] = set(near)
        self.seen: Set[str] = set()
        self._lock = threading.Lock()

    @classmethod
    def for_target(cls, col: Any, target: Any) -> "LiveDuplicates":
        """The keys of the target note type's notes (read once; the add checks again). Also
        checks the note type and field mapping before any model time is spent."""
        from ..notes.add import existing_keys, resolve_notetype

        nt, mapping = resolve_notetype(col, target)
        exact, near = existing_keys(col, nt, mapping["text" if target.kind == "cloze" else "front"])
        return cls(exact, near)

    def mark(self, card: Card) -> Card:
        from ..notes.add import plain_key

        key = plain_key(card.key_text())
        norm = normalise(key)
        with self._lock:
            if key in self.exact:
                card.duplicate = "collection"
            elif norm in self.near:
                card.duplicate = "near"
            elif norm in self.seen:
                card.duplicate = "batch"
            else:
                card.duplicate = None
            self.seen.add(norm)
        return card
