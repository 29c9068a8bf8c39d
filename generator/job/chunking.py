"""Structure-aware chunking: a document's blocks become chunks that fit a token budget.

Rules:
- A heading closes the current chunk and opens the next one (its text stays in the chunk as a
  line of its own, so the model sees it). Exception: a chunk that is still small (under a
  quarter of the budget, at most 256 tokens: a heading and a short paragraph, say) runs on into
  the next section when that section is under the same parent (a sibling or a subsection) and
  the result stays within the budget. A chunk with headings only always runs on.
- Paragraphs and list items are packed into a chunk up to ``max_tokens``.
- A block longer than the budget is split by sentences, then by words, and as a very last
  resort (a "word" longer than the budget) by characters.
- ``heading_path`` holds the headings that enclose everything in the chunk; ``location`` is
  the location of the chunk's first block; ``marks`` say where each block starts in the text,
  with its page and line (``Chunk.mark_at``); ``id`` is deterministic (sha1 of document name,
  heading path and text) and unique within the document.

``estimate_tokens(chunk.text) <= max_tokens`` holds for every chunk. The budget counts the text
as it is sent, with a marker before each sentence (job/sentences.py): ``MARKER_TOKENS`` for each
sentence, list item, table row and heading of a block (``markers``).
"""
import hashlib
import re
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple

from .chunk import Chunk, Mark
from ..sources.document import HEADING, LIST_ITEM, Block, Document

_CJK_PATTERN = (
    "[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3200-\u9fff"
    "\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0003134f]"
)
_cjk: List["re.Pattern"] = []  # compiled on first use (start-up cost)
_SENTENCE_END = re.compile("[.!?;][\"'\u201d\u2019)\\]]*\\s+|[\u3002\uff01\uff1f\uff1b]+\\s*|\n\\s*")
_WORD = re.compile(r"\S+\s*")
_ORDERED = re.compile(r"^(?:\d{1,3}[.)]|[a-zA-Z]\)|\(\d{1,3}\)|\([a-zA-Z]\))\s")

SEPARATOR = "\n\n"
SEPARATOR_TOKENS = 1  # an upper bound for estimate_tokens(SEPARATOR)
MARKER_TOKENS = 2  # an upper bound for estimate_tokens("[1234] "), the marker of a sentence


def markers(text: str) -> int:
    """The tokens of the markers a block's text is sent with: one per sentence (an upper bound:
    every ". ", "? ", "! " counts), line (table rows, code) or the block itself."""
    units = 1 + text.count(". ") + text.count("? ") + text.count("! ") + text.count("\n")
    return MARKER_TOKENS * units


def estimate_tokens(text: str) -> int:
    """A fast estimate of the tokens a model will count: about 4 characters of ASCII per token,
    2 of other alphabetic scripts, and 1 per CJK character (Han, kana, Hangul)."""
    if not text:
        return 0
    n = len(text)
    if text.isascii():
        return (n + 3) // 4
    if not _cjk:
        _cjk.append(re.compile(_CJK_PATTERN))
    cjk = len(_cjk[0].findall(text))
    ascii_chars = len(text.encode("ascii", "ignore"))
    other = n - cjk - ascii_chars
    return (ascii_chars + 2 * other + 3) // 4 + cjk


def render_block(block: Block) -> str:
    """How a block reads inside a chunk: list items as "- item" lines (numbered items keep
    their number), headings and paragraphs as they are."""
    if block.kind == LIST_ITEM and not _ORDERED.match(block.text):
        return "- " + block.text
    return block.text


def _units(text: str, max_tokens: int) -> Iterator[Tuple[int, int, int]]:
    """(start, end, tokens) slices covering ``text`` in order, each within ``max_tokens``:
    sentences, or words of an over-long sentence, or pieces of an over-long word."""
    pos = 0
    n = len(text)
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if not ends or ends[-1] != n:
        ends.append(n)
    for end in ends:
        if end <= pos:
            continue
        piece = text[pos:end]
        tokens = estimate_tokens(piece) + MARKER_TOKENS
        if tokens <= max_tokens:
            yield pos, end, tokens
        else:
            yield from _word_units(text, pos, end, max_tokens)
        pos = end


def _word_units(text: str, start: int, end: int, max_tokens: int) -> Iterator[Tuple[int, int, int]]:
    pos = start
    if start < end and text[start].isspace():  # leading whitespace sticks to the first word
        m = re.compile(r"\s*").match(text, start, end)
        pos = m.end() if m else start
        if pos >= end:
            yield start, end, estimate_tokens(text[start:end])
            return
        first = True
    else:
        first = False
    for m in _WORD.finditer(text, pos, end):
        s, e = m.start(), m.end()
        if first:
            s, first = start, False
        word = text[s:e]
        tokens = estimate_tokens(word)
        if tokens <= max_tokens:
            yield s, e, tokens
            continue
        # A "word" longer than the whole budget (a URL, base64...): cut it.
        step = max_tokens * 4 if word.isascii() else max_tokens
        for i in range(s, e, step):
            j = min(e, i + step)
            yield i, j, estimate_tokens(text[i:j])


def _common_prefix(a: Tuple[str, ...], b: Tuple[str, ...]) -> Tuple[str, ...]:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return a[:n]


class _Pending:
    """A closed chunk before it gets its id and index."""

    __slots__ = ("text", "tokens", "path", "location", "top_level", "marks")

    def __init__(self, text: str, tokens: int, path: Tuple[str, ...], location: str, top_level: int,
                 marks: List[Mark]) -> None:
        self.text = text
        self.tokens = tokens
        self.path = path
        self.location = location
        self.top_level = top_level
        self.marks = marks


class _Builder:
    def __init__(self, name: str, max_tokens: int, file_path: str = "") -> None:
        self.name = name
        self.file_path = file_path
        self.max = max(1, int(max_tokens))
        # A chunk smaller than this runs on into the next section under the same parent: a
        # request per paragraph-sized section would spend more tokens on the fixed prompt
        # (~300) than on the text. About a quarter of the budget, at most ~1000 characters.
        self.tiny = max(1, min(self.max // 4, 256))
        self.stack: List[Tuple[int, str]] = []
        self.parts: List[str] = []
        self.length = 0  # characters in parts
        self.marks: List[Mark] = []
        self.tokens = 0
        self.path: Tuple[str, ...] = ()
        self.location = ""
        self.top_level = 1
        self.has_content = False
        self.last_kind = ""
        self.by_heading = False  # the open chunk starts with a heading (not a continuation)
        self.held: Optional[_Pending] = None  # the last closed chunk, not yet emitted
        self.index = 0
        self.seen: Set[str] = set()
        self.repeats: Dict[str, int] = {}

    # -- chunk life cycle ------------------------------------------------------------------

    def _stack_path(self) -> Tuple[str, ...]:
        return tuple(text for _, text in self.stack)

    def _open(self, location: str, top_level: int, by_heading: bool = False) -> None:
        self.parts = []
        self.length = 0
        self.marks = []
        self.tokens = 0
        self.path = self._stack_path()
        self.location = location
        self.top_level = top_level
        self.has_content = False
        self.last_kind = ""
        self.by_heading = by_heading

    def _close(self) -> Optional[Chunk]:
        """Close the open chunk. A small closing section under the same parent as the chunk
        before it joins that chunk (a short trailing "Applications" list, say), so the previous
        chunk is held back until the next one is known. Returns a chunk ready to emit, if any."""
        if not self.parts:
            return None
        closed = _Pending("".join(self.parts), self.tokens, self.path, self.location, self.top_level,
                          self.marks)
        self.parts = []
        self.length = 0
        self.marks = []
        self.tokens = 0
        held = self.held
        if held is not None and self.by_heading and closed.tokens < self.tiny \
                and closed.top_level >= held.top_level \
                and held.tokens + SEPARATOR_TOKENS + closed.tokens <= self.max:
            shift = len(held.text) + len(SEPARATOR)
            held.marks.extend((m[0] + shift, m[1], m[2], m[3]) for m in closed.marks)
            held.text += SEPARATOR + closed.text
            held.tokens += SEPARATOR_TOKENS + closed.tokens
            held.path = _common_prefix(held.path, closed.path)
            return None
        self.held = closed
        return self._emit(held) if held is not None else None

    def _emit(self, pending: "_Pending") -> Chunk:
        text = pending.text
        key = "\x1f".join((self.name,) + pending.path) + "\x1e" + text
        digest = hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        if digest in self.seen:  # the same text twice in one document: keep ids unique
            base = digest
            n = self.repeats.get(base, 1)
            while digest in self.seen:
                n += 1
                digest = hashlib.sha1((key + "\x1d" + str(n)).encode("utf-8", "surrogatepass")).hexdigest()[:16]
            self.repeats[base] = n
        self.seen.add(digest)
        chunk = Chunk(digest, self.name, text, pending.path, pending.location, self.index,
                      marks=tuple(pending.marks), path=self.file_path)
        self.index += 1
        return chunk

    def _room(self, tokens: int) -> bool:
        extra = SEPARATOR_TOKENS if self.parts else 0
        return self.tokens + extra + tokens <= self.max

    def _append(self, text: str, tokens: int, block: Block) -> None:
        kind = block.kind
        if self.parts:
            self.tokens += SEPARATOR_TOKENS
            sep = "\n" if kind == LIST_ITEM and self.last_kind == LIST_ITEM else SEPARATOR
            self.marks.append((self.length + len(sep), block.page, block.line, 1 if kind == HEADING else 0))
            text = sep + text
        else:
            self.marks.append((0, block.page, block.line, 1 if kind == HEADING else 0))
        self.parts.append(text)
        self.length += len(text)
        self.tokens += tokens
        self.last_kind = kind

    # -- blocks ----------------------------------------------------------------------------

    def heading(self, block: Block, out: List[Chunk]) -> None:
        level = block.level if 1 <= block.level <= 6 else 1
        text = block.text.strip()
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text))
        tokens = estimate_tokens(text) + MARKER_TOKENS
        if self.parts:
            runs_on = not self.has_content or (self.tokens < self.tiny and level >= self.top_level)
            if runs_on and self._room(tokens):
                if self.has_content:
                    self.path = _common_prefix(self.path, self._stack_path())
                else:  # headings only so far ("Title" then "Chapter 1"): the deeper path
                    self.path = self._stack_path()
                self._append(text, tokens, block)
                return
            chunk = self._close()
            if chunk:
                out.append(chunk)
        self._open(block.location, level, by_heading=True)
        if tokens <= self.max:
            self._append(text, tokens, block)
        else:
            self._split(text, block, out)

    def content(self, block: Block, text: str, tokens: int, out: List[Chunk]) -> None:
        """A paragraph or list item, already rendered (``text``) and estimated (``tokens``)."""
        if not self.parts:
            self._open(block.location, (self.stack[-1][0] + 1) if self.stack else 1)
        if self._room(tokens):
            self._append(text, tokens, block)
            self.has_content = True
            return
        if tokens <= self.max and self.has_content:
            chunk = self._close()
            if chunk:
                out.append(chunk)
            self._open(block.location, (self.stack[-1][0] + 1) if self.stack else 1)
            self._append(text, tokens, block)
            self.has_content = True
            return
        self._split(text, block, out)

    def _split(self, text: str, block: Block, out: List[Chunk]) -> None:
        """Pack an over-long block sentence by sentence, filling the open chunk first."""
        location = block.location
        start = end = None
        piece_tokens = 0
        for s, e, tokens in _units(text, self.max):
            extra = SEPARATOR_TOKENS if (self.parts and start is None) else 0
            if self.tokens + piece_tokens + extra + tokens <= self.max:
                if start is None:
                    start = s
                    piece_tokens += extra
                end = e
                piece_tokens += tokens
                continue
            if start is not None:
                self._commit(text[start:end], piece_tokens, block)
            chunk = self._close()
            if chunk:
                out.append(chunk)
            self._open(location, (self.stack[-1][0] + 1) if self.stack else 1)
            start, end, piece_tokens = s, e, tokens
        if start is not None:
            self._commit(text[start:end], piece_tokens, block)

    def _commit(self, piece: str, tokens: int, block: Block) -> None:
        kind = block.kind
        piece = piece.strip()
        if not piece:
            return
        # ``tokens`` already includes the separator when the chunk was not empty
        sep = ""
        if self.parts:
            sep = "\n" if kind == LIST_ITEM and self.last_kind == LIST_ITEM else SEPARATOR
            piece = sep + piece
        self.marks.append((self.length + len(sep), block.page, block.line, 1 if kind == HEADING else 0))
        self.parts.append(piece)
        self.length += len(piece)
        self.tokens += tokens
        self.last_kind = kind
        if kind != HEADING:
            self.has_content = True

    def finish(self, out: List[Chunk]) -> None:
        chunk = self._close()
        if chunk:
            out.append(chunk)
        if self.held is not None:
            out.append(self._emit(self.held))
            self.held = None


def iter_chunks(blocks: Iterable[Block], name: str, max_tokens: int, path: str = "") -> Iterator[Chunk]:
    """Chunks of a stream of blocks, produced as they are ready (bounded memory). ``path``: the
    file they were read from (kept on the chunks, for the cards' link to it)."""
    b = _Builder(name, max_tokens, path)
    out: List[Chunk] = []
    limit = b.max - SEPARATOR_TOKENS
    for block in blocks:
        kind = block.kind
        if kind == HEADING:
            if block.text.strip():
                b.heading(block, out)
        else:
            text = block.text
            if kind == LIST_ITEM:
                c = text[:1]
                if not ((c.isdigit() or c == "(" or text[1:2] == ")") and _ORDERED.match(text)):
                    text = "- " + text
            text = text.strip()
            if not text:
                continue
            tokens = ((len(text) + 3) >> 2 if text.isascii() else estimate_tokens(text)) + markers(text)
            parts = b.parts
            # Fast path: the block fits into the open chunk.
            if parts and b.tokens + tokens <= limit:
                if kind == LIST_ITEM and b.last_kind == LIST_ITEM:
                    b.marks.append((b.length + 1, block.page, block.line, 0))
                    parts.append("\n" + text)
                    b.length += len(text) + 1
                else:
                    b.marks.append((b.length + 2, block.page, block.line, 0))
                    parts.append(SEPARATOR + text)
                    b.length += len(text) + 2
                b.tokens += tokens + SEPARATOR_TOKENS
                b.last_kind = kind
                b.has_content = True
                continue
            b.content(block, text, tokens, out)
        if out:
            yield from out
            out.clear()
    b.finish(out)
    yield from out


def chunk_document(doc: Document, max_tokens: int) -> List[Chunk]:
    """All chunks of a document, in document order (``index`` counts from 0)."""
    return list(iter_chunks(doc.blocks, doc.name, max_tokens, doc.path))
