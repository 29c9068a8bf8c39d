"""The job's focus on what the reader highlighted.

A highlight alone lacks context, and the whole page drowns it. So each highlight becomes the
focus of a request that carries the paragraph it stands in, a paragraph before and after (within
its section, up to ``CONTEXT_TOKENS``) and the heading above; for an export (clippings), the
book's title and the neighbouring highlights. Highlights in the same or adjacent paragraphs share
one request (at most ``MAX_FOCUS`` a request), so a paragraph is not sent twice. The request's
chunk carries its highlights as ``Chunk.focus`` (where they are in its text, the reader's note,
the book): what is asked follows from the chunk alone (``focus_ask``), also for a bulk job
resumed from its journal.

What is asked (``HighlightPlan.ask``): cards about the highlighted sentences only, the rest being
context; the reader's note on a highlight travels with it as what the reader wants of it; the
depth still applies (key ideas: one card a highlight; every fact: one per fact of the
highlighted text). A card must cite a highlighted sentence: one that cites another is grounded
in the highlighted ones if its answer stands there, else dropped. Each card is tagged
``ollama-flashcards::highlight`` (and ``ollama-flashcards::book::<book>`` for an export, whose
book is also the card's topic: with a subdeck per topic, a subdeck per book).

The choice (``HighlightChoice``): ``only`` the highlights, highlights ``first`` then the rest of
the document (its paragraphs without a highlight), or ``ignore`` them; ``colours`` keeps the
highlights of those colours (one without a colour is always kept). A document without
highlights is carded as a whole whatever the choice.

Finding a highlight in the document's text forgives what two readings of one PDF differ in
(spaces, hyphens, case, punctuation): both are compared as their letters and digits only,
casefolded, first on the highlight's page and the page before it. A highlight not found there
(a text layer the reader split differently) is asked about on its own."""
import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from ..cards.card import Card
from ..config import Choice, Depth
from ..job.ask import AskFor, ChunkAsk
from ..job.chunk import Chunk, Focus, Mark
from ..job.chunking import estimate_tokens, render_block
from ..sources.document import HEADING, LIST_ITEM, Block, Document
from .highlight import BOOK_TAG, HIGHLIGHT_TAG, Highlight

CONTEXT_TOKENS = 700  # a request's text at most (the highlighted paragraphs and their neighbours)
MAX_FOCUS = 4  # highlights one request is about
NOTE_CHARS = 300  # of the reader's note, in the request
QUOTE_CHARS = 200  # of the highlighted words, when they are part of a sentence

_WORD = re.compile(r"[^\W_]+")
_NOT_WORD = re.compile(r"[\W_]+")
_STEP = 256  # characters of a block between two counts (``_Index.place``)


class HighlightMode(Choice):
    ONLY = "only"  # the highlights alone
    FIRST = "first"  # the highlights, then the rest of the document
    IGNORE = "ignore"  # the whole document, as if nothing were highlighted


@dataclass(frozen=True)
class HighlightChoice:
    mode: HighlightMode = HighlightMode.ONLY
    colours: Tuple[str, ...] = ()  # empty: every colour

    def chosen(self, doc: Document) -> List[Highlight]:
        """The highlights of ``doc`` this choice asks about (none with ``ignore``)."""
        if self.mode is HighlightMode.IGNORE or doc.highlights is None:
            return []
        items: List[Highlight] = doc.highlights.chosen(self.colours)
        return items


# --- finding a highlight in the document's text ---------------------------------------------

class _Index:
    """A document's text as letters and digits only, casefolded (``text``), with where each
    block starts in it; ``place`` maps a position back to (block, offset in the block's text)."""

    def __init__(self, blocks: Sequence[Block]) -> None:
        self.blocks = blocks
        parts: List[str] = []
        self.starts: List[int] = []  # where each block starts in ``text``
        self.page_start: Dict[int, int] = {}  # page -> position of its first block
        length = 0
        for b in blocks:
            self.starts.append(length)
            if b.page and b.page not in self.page_start:
                self.page_start[b.page] = length
            folded = _NOT_WORD.sub("", b.text).casefold()
            parts.append(folded)
            length += len(folded)
        self.text = "".join(parts)
        self.starts.append(length)
        self._maps: Dict[int, List[int]] = {}

    def place(self, pos: int) -> Tuple[int, int]:
        """(block, offset in its text) of the character at ``pos`` of ``text``."""
        import bisect

        i = max(0, bisect.bisect_right(self.starts, pos) - 1)
        while i + 1 < len(self.blocks) and self.starts[i + 1] <= pos:  # (empty blocks)
            i += 1
        text = self.blocks[i].text
        counts = self._counts(i)
        left = pos - self.starts[i]
        j = max(0, bisect.bisect_right(counts, left) - 1)
        seen = counts[j]
        for k in range(j * _STEP, min(len(text), (j + 1) * _STEP)):
            c = text[k]
            if c.isalnum():
                seen += len(c.casefold())
                if left < seen:
                    return i, k
        return i, len(text)

    def _counts(self, i: int) -> List[int]:
        """How many characters of ``text`` block ``i``'s text gives before each ``_STEP``
        characters of it (made once a block, when a highlight is found in it)."""
        got = self._maps.get(i)
        if got is None:
            text = self.blocks[i].text
            got = [0]
            for a in range(0, len(text), _STEP):
                got.append(got[-1] + len(_NOT_WORD.sub("", text[a:a + _STEP]).casefold()))
            self._maps[i] = got
        return got

    def region(self, page: int) -> Tuple[int, int]:
        """Where the highlight's page and the one before it are (a paragraph that starts on the
        page before runs onto its page); the whole text when the pages are not known."""
        if not page or page not in self.page_start:
            return 0, len(self.text)
        lo = self.page_start.get(page - 1, self.page_start[page])
        later = [pos for p, pos in self.page_start.items() if p > page]
        return lo, (min(later) if later else len(self.text))

    def find(self, needle: str, page: int, cursor: int) -> Tuple[int, int]:
        """(start, end) of ``needle`` in ``text``: at the cursor or after it on its page, else
        anywhere on its page, else after the cursor, else anywhere; (-1, -1) if nowhere. A
        needle whose whole is not found is found by its start and its end."""
        lo, hi = self.region(page)
        for a, b in ((max(lo, cursor), hi), (lo, hi), (cursor, len(self.text)), (0, len(self.text))):
            pos = self.text.find(needle, a, b)
            if pos >= 0:
                return pos, pos + len(needle)
        if len(needle) < 24:
            return -1, -1
        head, tail = needle[:12], needle[-12:]
        for a, b in ((lo, hi), (0, len(self.text))):
            start = self.text.find(head, a, b)
            while start >= 0:
                end = self.text.find(tail, start + len(head), start + len(needle) * 3 // 2 + 40)
                if end >= 0:
                    return start, end + len(tail)
                start = self.text.find(head, start + 1, b)
        return -1, -1


@dataclass
class Anchor:
    """Where a highlight is: from ``start`` in block ``first`` to ``end`` in block ``last``."""

    highlight: Highlight
    first: int
    start: int
    last: int
    end: int


def locate(doc: Document, highlights: Sequence[Highlight]) -> Tuple[List[Anchor], List[Highlight]]:
    """(the highlights found in the document's blocks, in document order; those not found)."""
    from ..sources.textfix import fix_text

    index = _Index(doc.blocks)
    found: List[Anchor] = []
    lost: List[Highlight] = []
    cursor = 0
    for h in highlights:
        needle = "".join(w.casefold() for w in _WORD.findall(fix_text(h.text)))
        if not needle:
            lost.append(h)
            continue
        start, end = index.find(needle, h.page, cursor)
        if start < 0:
            lost.append(h)
            continue
        cursor = start
        first, offset = index.place(start)
        last, end_offset = index.place(end - 1)
        found.append(Anchor(h, first, offset, last, end_offset + 1))
    found.sort(key=lambda a: (a.first, a.start))
    return found, lost


# --- the requests -------------------------------------------------------------------------

def _headings(blocks: Sequence[Block]) -> List[Tuple[str, ...]]:
    """The heading path above each block (a heading's own ends with it)."""
    out: List[Tuple[str, ...]] = []
    stack: List[Tuple[int, str]] = []
    for b in blocks:
        if b.kind == HEADING:
            level = b.level if 1 <= b.level <= 6 else 1
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, b.text.strip()))
        out.append(tuple(t for _l, t in stack))
    return out


def _groups(anchors: List[Anchor], blocks: Sequence[Block], budget: int) -> List[List[Anchor]]:
    """Highlights in the same or adjacent blocks, a few at a time."""
    groups: List[List[Anchor]] = []
    for a in anchors:
        if groups:
            g = groups[-1]
            last = max(x.last for x in g)
            tokens = sum(estimate_tokens(blocks[i].text) for i in range(g[0].first, max(last, a.last) + 1))
            if len(g) < MAX_FOCUS and a.first <= last + 1 and tokens <= budget:
                g.append(a)
                continue
        groups.append([a])
    return groups


class _Text:
    """A request's text being put together: blocks, their marks, the highlights' places."""

    def __init__(self) -> None:
        self.parts: List[str] = []
        self.length = 0
        self.marks: List[Mark] = []
        self.last_kind = ""

    def add(self, text: str, block: Block) -> int:
        """Append a block's rendered text; where it starts."""
        sep = ""
        if self.parts:
            sep = "\n" if block.kind == LIST_ITEM and self.last_kind == LIST_ITEM else "\n\n"
        start = self.length + len(sep)
        self.marks.append((start, block.page, block.line, 1 if block.kind == HEADING else 0))
        self.parts.append(sep + text)
        self.length += len(sep) + len(text)
        self.last_kind = block.kind
        return start


def _window(text: str, lo: int, hi: int, chars: int) -> Tuple[int, int]:
    """The part of a long block around [lo, hi): about ``chars`` characters, cut at sentences."""
    room = max(0, chars - (hi - lo)) // 2
    a, b = max(0, lo - room), min(len(text), hi + room)
    if a > 0:
        cut = text.rfind(". ", a - 200 if a > 200 else 0, lo)
        a = cut + 2 if cut >= 0 and cut + 2 <= lo else a
    if b < len(text):
        cut = text.find(". ", hi, b + 200)
        b = cut + 1 if cut >= 0 else b
    return a, b


def _context(group: List[Anchor], blocks: Sequence[Block], budget: int) -> Tuple[int, int]:
    """The blocks a request carries: the highlighted ones and their neighbours within the
    section, while they fit ``budget`` tokens."""
    first, last = group[0].first, max(a.last for a in group)
    tokens = sum(estimate_tokens(blocks[i].text) for i in range(first, last + 1))
    lo, hi = first, last
    for _ in range(2):
        for step in (-1, 1):
            i = lo - 1 if step < 0 else hi + 1
            if 0 <= i < len(blocks) and blocks[i].kind != HEADING:
                cost = estimate_tokens(blocks[i].text) + 1
                if tokens + cost <= budget:
                    tokens += cost
                    lo, hi = (i, hi) if step < 0 else (lo, i)
    return lo, hi


def focus_chunk(doc: Document, group: List[Anchor], paths: List[Tuple[str, ...]], budget: int,
                index: int) -> Chunk:
    """The request's chunk for highlights in nearby blocks (see the module's doc)."""
    blocks = doc.blocks
    lo, hi = _context(group, blocks, budget)
    path = paths[group[0].first]
    out = _Text()
    heading = next((blocks[i] for i in range(lo - 1, -1, -1) if blocks[i].kind == HEADING), None)
    if heading is not None and path:
        out.add(heading.text.strip(), heading)
        path = path[:-1] if path and path[-1] == heading.text.strip() and len(path) > 1 else path
    spans: Dict[int, Tuple[int, int]] = {}  # block -> (its start in the text, where its part begins)
    chars = budget * 4
    for i in range(lo, hi + 1):
        b = blocks[i]
        rendered = render_block(b)
        lead = len(rendered) - len(b.text) if rendered.endswith(b.text) else 0
        cut = (0, len(b.text))
        if estimate_tokens(b.text) > budget:  # a paragraph longer than a request: around the highlights
            mine = [(a.start if a.first == i else 0, a.end if a.last == i else len(b.text))
                    for a in group if a.first <= i <= a.last]
            if not mine:
                continue
            cut = _window(b.text, min(s for s, _e in mine), max(e for _s, e in mine), chars)
            rendered, lead = b.text[cut[0]:cut[1]], 0
        spans[i] = (out.add(rendered, b) + lead, cut[0])
    focus: List[Focus] = []
    for a in group:
        if a.first not in spans or a.last not in spans:
            continue
        s0, c0 = spans[a.first]
        s1, c1 = spans[a.last]
        start, end = s0 + max(0, a.start - c0), s1 + max(0, a.end - c1)
        if end > start:
            focus.append((start, min(end, out.length), a.highlight.comment, a.highlight.book, a.highlight.key))
    text = "".join(out.parts)
    key = "\x1f".join(["highlight", doc.name] + [a.highlight.key for a in group])
    first = group[0].highlight
    return Chunk(hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:16], doc.name, text,
                 path, first.location or blocks[group[0].first].location, index, marks=tuple(out.marks),
                 path=doc.path, focus=tuple(focus))


def lone_chunk(doc: Document, h: Highlight, index: int) -> Chunk:
    """A highlight not found in the text, asked about on its own."""
    key = "\x1f".join(["highlight", doc.name, h.key, "alone"])
    return Chunk(hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:16], doc.name, h.text,
                 (h.book,) if h.book else (), h.location or (f"page {h.page}" if h.page else ""), index,
                 marks=((0, h.page, 0, 0),), path=doc.path, focus=((0, len(h.text), h.comment, h.book, h.key),))


# --- the plan -------------------------------------------------------------------------------

@dataclass
class HighlightPlan:
    """The focus chunks of the documents' highlights, and the documents (or their parts) still to
    be cut into chunks as usual (``rest``), in the order the choice asks."""

    chunks: List[Chunk] = field(default_factory=list)
    rest: List[Document] = field(default_factory=list)
    used: Dict[str, int] = field(default_factory=dict)  # document name -> its highlights asked about
    lost: int = 0  # highlights not found in their document's text (asked about on their own)
    before: int = 0  # highlights left out because cards were made of them before (``done``)

    @property
    def highlights(self) -> int:
        return sum(self.used.values())


def plan_highlights(documents: Sequence[Document], choice: HighlightChoice, budget: int,
                    done: Optional[Dict[str, Set[str]]] = None) -> HighlightPlan:
    """The plan for ``documents`` (see the module's doc); ``budget``: the job's tokens of text
    a request (the focus chunks take at most ``CONTEXT_TOKENS`` of it); ``done``: by document
    name, the keys of highlights cards were made of before (``update.highlights``), not asked again."""
    plan = HighlightPlan()
    context = max(100, min(budget, CONTEXT_TOKENS))
    for doc in documents:
        chosen = choice.chosen(doc)
        if not chosen:
            if choice.mode is HighlightMode.IGNORE or doc.highlights is None or not len(doc.highlights):
                plan.rest.append(doc)
            elif choice.mode is HighlightMode.FIRST:
                plan.rest.append(doc)  # none of the chosen colours: the rest is all of it
            continue
        # Every chosen highlight is located (the rest leaves out the paragraphs of all of them),
        # those cards were made of before are not asked again.
        before = (done or {}).get(doc.name) or set()
        anchors, lost = locate(doc, chosen)
        fresh = [a for a in anchors if a.highlight.key not in before]
        lost_fresh = [h for h in lost if h.key not in before]
        plan.before += len(anchors) - len(fresh) + len(lost) - len(lost_fresh)
        paths = _headings(doc.blocks)
        for group in _groups(fresh, doc.blocks, context):
            plan.chunks.append(focus_chunk(doc, group, paths, context, len(plan.chunks)))
        for h in lost_fresh:
            plan.chunks.append(lone_chunk(doc, h, len(plan.chunks)))
        plan.lost += len(lost_fresh)
        plan.used[doc.name] = len(fresh) + len(lost_fresh)
        if choice.mode is HighlightMode.FIRST:
            marked = {i for a in anchors for i in range(a.first, a.last + 1)}
            left = [b for i, b in enumerate(doc.blocks) if i not in marked]
            if any(b.kind != HEADING for b in left):
                plan.rest.append(replace(doc, blocks=left, highlights=None))
    return plan


# --- what a focus chunk asks ------------------------------------------------------------------

def focus_numbers(chunk: Chunk) -> Dict[int, List[int]]:
    """Focus k -> the numbers of the sentences it covers (``job.sentences``)."""
    from ..job.sentences import numbered

    sentences = [s for s in numbered(chunk).sentences if not s.heading]
    out: Dict[int, List[int]] = {}
    for k, (start, end, _note, _book, _key) in enumerate(chunk.focus):
        out[k] = [s.number for s in sentences if s.start < end and s.end > start] or \
            [s.number for s in sentences if s.start <= start <= s.end][:1]
    return out


def _quoted(text: str, limit: int) -> str:
    text = " ".join(text.replace("\u201d", "'").replace("\u201c", "'").split())
    return "\u201c" + (text if len(text) <= limit else text[: limit - 1].rstrip() + "…") + "\u201d"


def focus_instructions(chunk: Chunk) -> str:
    """What the request adds: which sentences the reader highlighted (with the words, when they
    are part of a sentence), their notes, and that the rest is context."""
    from ..job.sentences import numbered

    text = numbered(chunk)
    numbers = focus_numbers(chunk)
    marked: List[str] = []
    notes: List[str] = []
    for k, (start, end, note, _book, _key) in enumerate(chunk.focus):
        cited = numbers.get(k) or []
        if not cited:
            continue
        label = ", ".join("[%d]" % n for n in cited)
        words = chunk.text[start:end]
        whole = text.text_of(cited)
        marked.append(label + (f" (the words {_quoted(words, QUOTE_CHARS)})"
                               if len(words.strip()) < 0.8 * len(whole) else ""))
        if note.strip():
            notes.append(f"The reader's note on {label}: {_quoted(note, NOTE_CHARS)}. Let it guide what "
                         "the card asks.")
    if not marked:
        return ""
    return ("The reader highlighted: " + "; ".join(marked) + ". Write cards only about what the "
            "highlighted sentences say; the other sentences are context, so that each card stands on "
            "its own (name the subject; never say \"the highlight\"). Each card's \"n\" is a "
            "highlighted sentence." + ("\n" + "\n".join(notes) if notes else ""))


def focus_wanted(chunk: Chunk, depth: Depth, room: int) -> int:
    """Cards to ask of a focus chunk: one a highlight for key ideas, else the depth's ceiling
    for each highlighted text."""
    from ..job.depth import ceiling

    if Depth.parse(depth) is Depth.KEY_IDEAS:
        return max(1, min(room, len(chunk.focus)))
    return max(1, min(room, sum(ceiling(chunk.text[f[0]:f[1]], depth, room) for f in chunk.focus)))


def keep_on_focus(card: Card, chunk: Chunk, allowed: Set[int]) -> Optional[Card]:
    """The card, citing a highlighted sentence (re-cited there if it cited another and its answer
    stands in the highlighted sentences alone), tagged; None for a card about the context only."""
    if not set(card.sentences) & allowed:
        from ..cards.grounding import answer_terms, missing_terms
        from ..job.answers import answer_of
        from ..job.citations import Grounder

        grounder = Grounder(chunk)
        cited = sorted(allowed)
        numbers, words = answer_terms(answer_of(card))
        if (not numbers and not words) or missing_terms(numbers, words, grounder.padded(cited)):
            return None
        page, line, path = grounder.place(cited)
        card.grounded, card.sentences = True, cited
        card.quote = grounder.numbered.text_of(cited)[:1000]
        card.source = replace(card.source, page=page, line=line, heading_path=path)
    books = [book for book in dict.fromkeys(f[3] for f in chunk.focus) if book]
    for tag in [HIGHLIGHT_TAG] + [BOOK_TAG + _slug(book) for book in books]:
        if tag not in card.tags:
            card.tags.append(tag)
    if len(books) == 1 and not card.topic:
        card.topic = books[0]  # its book, for a subdeck per book (NoteTarget.topic_subdecks)
    return card


def _slug(book: str) -> str:
    from ..job.topics import slug

    return slug(book)[:50]


def focus_ask(chunk: Chunk, wanted: int, depth: Depth, room: int, by_count: bool) -> ChunkAsk:
    """What a focus chunk's request asks (``ChunkAsk``): ``wanted`` cards when the user set a
    number (``by_count``), else ``focus_wanted``."""
    numbers = focus_numbers(chunk)
    allowed = {n for ns in numbers.values() for n in ns}
    if not allowed:
        return ChunkAsk(skip=True)
    return ChunkAsk(wanted=max(1, wanted) if by_count else focus_wanted(chunk, depth, room),
                    instructions=focus_instructions(chunk),
                    assign=lambda card: keep_on_focus(card, chunk, allowed))


def asks_with_focus(options: Any, other: Optional[AskFor] = None) -> AskFor:
    """The job's ``asks``: a focus chunk's ask, else ``other``'s (topics), else the usual."""
    from ..job.depth import answer_room_cards

    room = answer_room_cards(options.num_predict, options.num_ctx)

    def ask(chunk: Any, wanted: int) -> ChunkAsk:
        if chunk.focus:
            return focus_ask(chunk, wanted, options.depth, room, options.max_cards > 0)
        return other(chunk, wanted) if other is not None else ChunkAsk()

    return ask
