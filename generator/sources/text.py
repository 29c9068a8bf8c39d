"""Plain text and Markdown to blocks, one line at a time (so huge files can be streamed).

Paragraphs are separated by blank lines; lines that start with a bullet or a number are list
items; Markdown headings (``#`` and setext underlines) become headings. Markdown emphasis and
code markers are removed but the words stay; formulas such as ``f(x) = max(0, x)`` and
``a * b`` are left alone. In plain text (no Markdown detected) a short stand-alone line that
looks like a title becomes a heading.
"""
import re
from typing import Iterable, Iterator, List, Optional

from ..documents import HEADING, LIST_ITEM, PARAGRAPH, Block

# A paragraph longer than this is emitted in pieces (at line ends) so memory stays bounded.
MAX_BLOCK_CHARS = 100_000

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_LIST = re.compile(
    r"^([ \t]*)(?:([-*+\u2022\u2023\u25aa\u25ab\u25cf\u25cb\u25a0\u25a1\u25e6\u2043\u2219\u27a2\u25ba\u00b7\u2013])"
    r"|(\d{1,3}[.)]|[a-zA-Z][)]|\(\d{1,3}\)|\([a-zA-Z]\)))[ \t]+(\S.*)$"
)
_TASK = re.compile(r"^\[[ xX]\][ \t]+")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_THEMATIC = re.compile(r"^[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_SETEXT = re.compile(r"^[ \t]{0,3}(=+|-+)[ \t]*$")
_TABLE_SEP = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$")
_BOLD_LINE = re.compile(r"^(?:\*\*([^*]+)\*\*|__([^_]+)__):?$")

# Inline Markdown.
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_REFLINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>")
_CODE = re.compile(r"(`+)(.+?)\1")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM_STAR = re.compile(r"(?<![\w*\\])\*(?=[^\s*])([^*\n]*?[^\s*\\])\*(?![\w*])")
_EM_UNDER = re.compile(r"(?<![\w\\])_(?=[^\s_])([^_\n]*?[^\s_\\])_(?!\w)")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")

_MD_SIGNALS = (
    re.compile(r"^#{1,6}[ \t]+\S", re.M),
    re.compile(r"^[ \t]{0,3}(```|~~~)", re.M),
    re.compile(r"\*\*\S[^*\n]*\*\*|__\S[^_\n]*__"),
    re.compile(r"\[[^\]\n]+\]\([^)\s]+\)"),
    re.compile(r"^[ \t]*\|.*\|[ \t]*$\n^[ \t]*\|?[ \t]*:?-{3,}", re.M),
)

_TITLE_END = ".,;"
_NUMBERED_TITLE = re.compile(r"^(\d+(?:\.\d+)*)\.?[ \t]+\S")
_CHAPTER = re.compile(r"^(chapter|part|book|section|unit|lesson|kapitel|teil|chapitre|partie)\b", re.I)


def looks_like_markdown(sample: str) -> bool:
    """Guess from a sample whether text is Markdown (headings, fences, bold, links, tables)."""
    atx = len(_MD_SIGNALS[0].findall(sample, 0, 200_000))
    others = sum(1 for pattern in _MD_SIGNALS[1:] if pattern.search(sample, 0, 200_000))
    return atx >= 2 or (atx >= 1 and others >= 1) or others >= 2


def strip_inline(text: str) -> str:
    """Remove Markdown inline markup, keep the words (and formulas) as they read."""
    if "`" in text:
        text = _CODE.sub(lambda m: m.group(2).strip() or m.group(2), text)
    if "[" in text:
        text = _IMAGE.sub(r"\1", text)
        text = _LINK.sub(r"\1", text)
        text = _REFLINK.sub(r"\1", text)
    if "<" in text:
        text = _AUTOLINK.sub(r"\1", text)
    if "**" in text or "__" in text:
        text = _STRONG.sub(r"\2", text)
        text = _STRONG.sub(r"\2", text)  # nested ***x*** / **__x__**
    if "*" in text:
        text = _EM_STAR.sub(r"\1", text)
    if "_" in text:
        text = _EM_UNDER.sub(r"\1", text)
    if "~~" in text:
        text = _STRIKE.sub(r"\1", text)
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    return text


def _clean_heading(text: str) -> str:
    text = text.strip()
    while text.endswith(":") or text.endswith("\uff1a"):
        text = text[:-1].rstrip()
    return text


def _plain_title(line: str) -> bool:
    """A stand-alone line in plain text that reads like a heading."""
    if len(line) > 80 or line[-1] in _TITLE_END or len(line.split()) > 12:
        return False
    first = line[0]
    if not (first.isupper() or first.isdigit() or (first.isalpha() and not first.islower())):
        return False
    return any(c.isalpha() for c in line)


def _plain_level(line: str, first_block: bool) -> int:
    if _CHAPTER.match(line):
        return 1
    m = _NUMBERED_TITLE.match(line)
    if m:
        return min(6, m.group(1).count(".") + 2)
    letters = [c for c in line if c.isalpha()]
    if first_block or (len(letters) >= 3 and all(c.isupper() for c in letters)):
        return 1
    return 2


class LineParser:
    """Turns lines (without their newline) into blocks. Feed lines, then call ``finish``."""

    def __init__(self, markdown: bool, location: str = "") -> None:
        self.markdown = markdown
        self.location = location
        self.lines: List[str] = []  # the open paragraph or list item
        self.chars = 0
        self.kind = PARAGRAPH
        self.hard = False  # join lines with "\n" (tables) instead of " "
        self.fence: Optional[str] = None
        self.code: List[str] = []
        self.code_chars = 0
        self.blocks_out = 0
        self.last_heading_level = 0
        self.front_matter: Optional[List[str]] = [] if markdown else None
        self.line_no = 0

    # -- output ----------------------------------------------------------------------------

    def _emit(self, kind: str, text: str, level: int = 0) -> Block:
        self.blocks_out += 1
        if kind == HEADING:
            self.last_heading_level = level
        return Block(kind, text, level, self.location)

    def _flush(self, out: List[Block]) -> None:
        if not self.lines:
            return
        lines = self.lines
        self.lines = []
        self.chars = 0
        if self.hard:
            text = "\n".join(lines)
        elif len(lines) == 1:
            text = lines[0]
        else:
            text = " ".join(lines)
        if self.markdown:
            text = strip_inline(text)
        text = text.strip()
        if not text:
            return
        kind = self.kind
        if kind == PARAGRAPH and len(lines) == 1 and not self.hard:
            if self.markdown:
                m = _BOLD_LINE.match(lines[0])
                if m and len(text) <= 100:
                    level = min(6, self.last_heading_level + 1) if self.last_heading_level else 2
                    out.append(self._emit(HEADING, _clean_heading(text), level))
                    return
            elif _plain_title(text):
                level = _plain_level(text, self.blocks_out == 0)
                out.append(self._emit(HEADING, _clean_heading(text) or text, level))
                return
        out.append(self._emit(kind, text))

    def _flush_code(self, out: List[Block]) -> None:
        code = self.code
        self.code = []
        self.code_chars = 0
        while code and not code[-1].strip():
            code.pop()
        while code and not code[0].strip():
            code.pop(0)
        if code:
            out.append(self._emit(PARAGRAPH, "\n".join(code)))

    # -- input -----------------------------------------------------------------------------

    def feed(self, line: str, out: List[Block]) -> None:
        """Consume one line (no trailing newline); append finished blocks to ``out``."""
        self.line_no += 1
        if self.front_matter is not None:
            if self._front_matter(line, out):
                return
        if self.fence is not None:
            stripped = line.strip()
            if stripped.startswith(self.fence) and not stripped.strip(self.fence[0]):
                self.fence = None
                self._flush_code(out)
                return
            self.code.append(line.rstrip())
            self.code_chars += len(line)
            if self.code_chars > MAX_BLOCK_CHARS:
                self._flush_code(out)
            return
        s = line.strip()
        if not s:
            self._flush(out)
            self.kind = PARAGRAPH
            self.hard = False
            return
        c = s[0]
        # Fast path: an ordinary line of prose continues (or starts) a paragraph.
        if not (c in "#-*+>|`~=_\u2022\u2023\u25aa\u25ab\u25cf\u25cb\u25a0\u25a1\u25e6\u2043\u2219\u27a2\u25ba\u00b7\u2013(" or c.isdigit()
                or (len(s) > 2 and s[1] == ")")):
            if self.hard:
                self._flush(out)
                self.kind = PARAGRAPH
                self.hard = False
            self._add(" ".join(s.split()) if "  " in s or "\t" in s else s, out)
            return
        self._special(line, s, out)

    def _add(self, text: str, out: List[Block]) -> None:
        self.lines.append(text)
        self.chars += len(text)
        if self.chars > MAX_BLOCK_CHARS:
            kind = self.kind
            self._flush(out)
            self.kind = PARAGRAPH if kind == HEADING else kind

    def _start(self, kind: str, text: str, out: List[Block], hard: bool = False) -> None:
        self._flush(out)
        self.kind = kind
        self.hard = hard
        self._add(text, out)

    def _special(self, line: str, s: str, out: List[Block]) -> None:
        markdown = self.markdown
        if markdown:
            m = _FENCE.match(line)
            if m:
                self._flush(out)
                self.kind, self.hard = PARAGRAPH, False
                self.fence = m.group(1)
                return
            if s[0] == "#":
                m = _ATX.match(line)
                if m:
                    self._flush(out)
                    self.kind, self.hard = PARAGRAPH, False
                    text = _clean_heading(strip_inline(m.group(2) or ""))
                    if text:
                        out.append(self._emit(HEADING, text, len(m.group(1))))
                    return
        if s[0] in "=-" and _SETEXT.match(line):
            if (self.lines and len(self.lines) == 1 and self.kind == PARAGRAPH and not self.hard
                    and (s[0] == "=" or len(s) >= 2)):
                text = self.lines[0]
                self.lines = []
                self.chars = 0
                if markdown:
                    text = strip_inline(text)
                text = _clean_heading(text)
                if text:
                    out.append(self._emit(HEADING, text, 1 if s[0] == "=" else 2))
                return
            if s[0] == "=" or _THEMATIC.match(line):
                self._flush(out)
                self.kind, self.hard = PARAGRAPH, False
                return
        if s[0] in "-*_" and _THEMATIC.match(line):
            self._flush(out)
            self.kind, self.hard = PARAGRAPH, False
            return
        if markdown and s[0] == ">":
            inner = s.lstrip(">").strip()
            while inner.startswith(">"):
                inner = inner.lstrip(">").strip()
            if not inner:
                self._flush(out)
                self.kind, self.hard = PARAGRAPH, False
                return
            self.feed_inner(inner, out)
            return
        if markdown and s[0] == "|":
            if _TABLE_SEP.match(s):
                return
            row = " | ".join(cell.strip() for cell in s.strip("|").split("|"))
            if self.hard:
                self._add(row, out)
            else:
                self._start(PARAGRAPH, row, out, hard=True)
            return
        m = _LIST.match(line)
        if m:
            text = m.group(4)
            if markdown and text[:1] == "[":
                text = _TASK.sub("", text)
            text = " ".join(text.split())
            if m.group(3):  # keep numbering: the order is content ("1. Forward pass")
                text = m.group(3) + " " + text
            self._start(LIST_ITEM, text, out)
            return
        if self.hard:
            self._flush(out)
            self.kind, self.hard = PARAGRAPH, False
        self._add(" ".join(s.split()), out)

    def feed_inner(self, text: str, out: List[Block]) -> None:
        """A line inside a block quote: treat it like a line of its own."""
        self.line_no -= 1
        front, self.front_matter = self.front_matter, None
        self.feed(text, out)
        self.front_matter = front

    def _front_matter(self, line: str, out: List[Block]) -> bool:
        """Skip YAML front matter (``---`` ... ``---`` at the very start of a Markdown file)."""
        buf = self.front_matter
        assert buf is not None
        if self.line_no == 1:
            if line.strip() == "---":
                buf.append(line)
                return True
            self.front_matter = None
            return False
        if line.strip() in ("---", "...") and buf:
            self.front_matter = None
            return True
        buf.append(line)
        if len(buf) > 60:  # not front matter after all: replay the lines
            self.front_matter = None
            lines = buf[1:]
            self.line_no = 1
            self._special("---", "---", out)
            for replay in lines:
                self.feed(replay, out)
        return True

    def finish(self, out: List[Block]) -> None:
        if self.front_matter:
            lines = self.front_matter[1:]
            self.front_matter = None
            self._special("---", "---", out)
            for replay in lines:
                self.feed(replay, out)
        if self.fence is not None:
            self.fence = None
            self._flush_code(out)
        self._flush(out)


def iter_text_blocks(lines: Iterable[str], markdown: bool, location: str = "") -> Iterator[Block]:
    """Blocks from an iterable of lines (newline characters are ignored)."""
    parser = LineParser(markdown, location)
    out: List[Block] = []
    feed = parser.feed
    for line in lines:
        feed(line, out)
        if out:
            yield from out
            out.clear()
    parser.finish(out)
    yield from out


def text_blocks(text: str, markdown: Optional[bool] = None, location: str = "") -> List[Block]:
    """Blocks of an already decoded text."""
    if markdown is None:
        markdown = looks_like_markdown(text[:200_000])
    return list(iter_text_blocks(text.split("\n"), markdown, location))
