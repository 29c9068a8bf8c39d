"""Plain text and Markdown to blocks, one line at a time (so huge files can be streamed).

Paragraphs are separated by blank lines; lines that start with a bullet or a number are list
items; Markdown headings (``#`` and setext underlines) become headings. Markdown emphasis and
code markers are removed but the words stay; formulas such as ``f(x) = max(0, x)`` and
``a * b`` are left alone. In plain text (no Markdown detected) a short stand-alone line that
looks like a title becomes a heading.
"""
import operator
import re
from typing import Iterable, Iterator, List, Optional

from .document import HEADING, LIST_ITEM, PARAGRAPH, Block

# A paragraph longer than this is emitted in pieces (at line ends) so memory stays bounded.
MAX_BLOCK_CHARS = 100_000

_TASK = re.compile(r"^\[[ xX]\][ \t]+")
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
    return atx >= 1 or others >= 2


_G1 = operator.itemgetter(1)
_G2 = operator.itemgetter(2)


def _code_span(m: "re.Match") -> str:
    return m.group(2).strip() or m.group(2)


def strip_inline(text: str) -> str:
    """Remove Markdown inline markup, keep the words (and formulas) as they read."""
    if "`" in text:
        text = _CODE.sub(_code_span, text)
    if "[" in text:
        text = _IMAGE.sub(_G1, text)
        text = _LINK.sub(_G1, text)
        text = _REFLINK.sub(_G1, text)
    if "<" in text:
        text = _AUTOLINK.sub(_G1, text)
    if "**" in text or "__" in text:
        text = _STRONG.sub(_G2, text)
        if "**" in text or "__" in text:
            text = _STRONG.sub(_G2, text)  # nested ***x*** / **__x__**
    if "*" in text:
        text = _EM_STAR.sub(_G1, text)
    if "_" in text:
        text = _EM_UNDER.sub(_G1, text)
    if "~~" in text:
        text = _STRIKE.sub(_G1, text)
    if "\\" in text:
        text = _ESCAPE.sub(_G1, text)
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


_BULLETS = "-*+\u2022\u2023\u25aa\u25ab\u25cf\u25cb\u25a0\u25a1\u25e6\u2043\u2219\u27a2\u25ba\u00b7\u2013"
# First characters of lines that may be more than prose (checked before any regex runs).
_SPECIAL_FIRST = frozenset("#=_>|`~(" + _BULLETS)
# One regex classifies a stripped line that starts with a special character.
_LINE = re.compile(
    r"(?P<fence>`{3,}|~{3,})"
    r"|(?P<hash>\#{1,6})(?:[ \t]+(?P<htext>.*?))?(?:[ \t]+\#+)?[ \t]*$"
    r"|(?P<rule>(?P<rc>[-*_])(?:[ \t]*(?P=rc)){2,}[ \t]*$)"
    r"|(?P<eq>=+)[ \t]*$"
    r"|(?P<dash>-{1,2})[ \t]*$"
    r"|(?:(?P<bullet>[" + _BULLETS + r"])|(?P<num>\d{1,3}[.)]|[a-zA-Z]\)|\(\d{1,3}\)|\([a-zA-Z]\)))"
    r"[ \t]+(?P<item>\S.*)"
    r"|(?P<quote>>)"
    r"|(?P<pipe>\|)"
)
_ITEM = re.compile(
    r"(?:([" + _BULLETS + r"])|(\d{1,3}[.)]|[a-zA-Z]\)|\(\d{1,3}\)|\([a-zA-Z]\)))[ \t]+(\S.*)"
)
_INLINE_MARKUP = re.compile(r"[`\[<*_~\\]")


class LineParser:
    """Turns lines (without their newline) into blocks. Feed lines, then call ``finish``.

    Written for speed: ordinary prose lines take a short path with no regex at all; every
    other line is classified by a single regex."""

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
        self.started = False
        self.lineno = 0  # lines read so far (the current line's number, from 1)
        self.first = 0  # the line the open paragraph or list item started on
        self.code_first = 0  # the line after the open code fence

    # -- output ----------------------------------------------------------------------------

    def _emit(self, out: List[Block], kind: str, text: str, level: int = 0, line: int = 0) -> None:
        self.blocks_out += 1
        if kind == HEADING:
            self.last_heading_level = level
        out.append(Block(kind, text, level, self.location, 0, line or self.lineno))

    def _flush(self, out: List[Block]) -> None:
        lines = self.lines
        if not lines:
            return
        self.lines = []
        self.chars = 0
        single = len(lines) == 1
        if single:
            text = lines[0]
        else:
            text = ("\n" if self.hard else " ").join(lines)
        if self.markdown and _INLINE_MARKUP.search(text):
            text = strip_inline(text).strip()
            if not text:
                return
        kind = self.kind
        if kind == PARAGRAPH and single and not self.hard:
            if self.markdown:
                first = lines[0][:2]
                if first == "**" or first == "__":
                    if _BOLD_LINE.match(lines[0]) and len(text) <= 100:
                        level = min(6, self.last_heading_level + 1) if self.last_heading_level else 2
                        self._emit(out, HEADING, _clean_heading(text) or text, level, self.first)
                        return
            elif _plain_title(text):
                level = _plain_level(text, self.blocks_out == 0)
                self._emit(out, HEADING, _clean_heading(text) or text, level, self.first)
                return
        self.blocks_out += 1
        out.append(Block(kind, text, 0, self.location, 0, self.first))

    def _flush_code(self, out: List[Block]) -> None:
        code = self.code
        self.code = []
        self.code_chars = 0
        while code and not code[-1].strip():
            code.pop()
        start = 0
        while start < len(code) and not code[start].strip():
            start += 1
        first, self.code_first = self.code_first + start, self.lineno + 1
        if start < len(code):
            self._emit(out, PARAGRAPH, "\n".join(code[start:]), 0, first)

    def _overflow(self, out: List[Block]) -> None:
        """The open paragraph is too long: emit it now; the rest continues as a new block."""
        kind = self.kind
        self._flush(out)
        self.kind = kind

    # -- input -----------------------------------------------------------------------------

    def feed(self, line: str, out: List[Block]) -> None:
        """Consume one line (no trailing newline); append finished blocks to ``out``."""
        self.feed_lines((line,), out)

    def feed_lines(self, lines: Iterable[str], out: List[Block], count: int = 1) -> None:
        """Consume lines (no trailing newlines); append finished blocks to ``out``. ``count``:
        0 when the lines are read again (a quote's inside, front matter replayed), so that
        line numbers stay those of the file."""
        it = iter(lines)
        if self.front_matter is not None:
            for line in it:
                self.lineno += count
                if not self._front_matter(line, out):
                    self.lineno -= count
                    self._line(line, out, count)
                if self.front_matter is None:
                    break
        special_first = _SPECIAL_FIRST
        item_match = _ITEM.match
        n = self.lineno
        numbered = enumerate(it, n + 1) if count else ((n, line) for line in it)
        for n, line in numbered:
            if self.fence is not None:
                self.lineno = n
                self._code_line(line, out)
                continue
            s = line.strip()
            if not s:
                if self.lines:
                    self._flush(out)
                self.kind = PARAGRAPH
                self.hard = False
                continue
            c = s[0]
            if c in special_first or c.isdigit() or s[1:2] == ")":
                if (c == "*" or c == "_") and s[1:2] == c and s.strip("*_ \t"):
                    c = ""  # "**Bold** text": prose (below)
                else:
                    c = "special"
            if c == "special":
                self.lineno = n
                s0 = s[0]
                # Fast path for the commonest special line, a list item ("- x", "1. x").
                if s0 not in "-*_" or s.strip("-*_ \t"):
                    m = item_match(s)
                    if m is not None:
                        self._item(m.group(3), m.group(2), out)
                        continue
                self._special(s, out)
                continue
            # An ordinary line of prose continues (or starts) a paragraph or list item
            # (``_text_line`` inlined: this is the hottest path, and the call costs ~4%).
            if self.hard:
                self._flush(out)
                self.kind = PARAGRAPH
                self.hard = False
            if "  " in s or "\t" in s:
                s = " ".join(s.split())
            lines = self.lines
            if not lines:
                self.first = n
            lines.append(s)
            self.chars += len(s)
            if self.chars > MAX_BLOCK_CHARS:
                self._overflow(out)
        self.lineno = n

    def _line(self, line: str, out: List[Block], count: int = 1) -> None:
        """Process one line normally (front matter handling is over)."""
        self.front_matter = None
        if count:
            self.feed_lines((line,), out)
        else:
            self.feed_lines((line,), out, count=0)

    def _code_line(self, line: str, out: List[Block]) -> None:
        fence = self.fence
        assert fence is not None
        stripped = line.strip()
        if stripped.startswith(fence) and not stripped.strip(fence[0]):
            self.fence = None
            self._flush_code(out)
            return
        if not self.code:
            self.code_first = self.lineno
        self.code.append(line.rstrip())
        self.code_chars += len(line)
        if self.code_chars > MAX_BLOCK_CHARS:
            self._flush_code(out)

    def _text_line(self, s: str, out: List[Block]) -> None:
        if self.hard:
            self._flush(out)
            self.kind = PARAGRAPH
            self.hard = False
        if "  " in s or "\t" in s:
            s = " ".join(s.split())
        if not self.lines:
            self.first = self.lineno
        self.lines.append(s)
        self.chars += len(s)
        if self.chars > MAX_BLOCK_CHARS:
            self._overflow(out)

    def _item(self, text: str, num: Optional[str], out: List[Block]) -> None:
        """A list item starts: ``text`` follows its bullet; ``num`` is its numbering or None."""
        if text[:1] == "[" and self.markdown:
            text = _TASK.sub("", text) or text
        if "  " in text or "\t" in text:
            text = " ".join(text.split())
        if num:  # keep numbering: the order is content ("1. Forward pass")
            text = num + " " + text
        if self.lines:
            self._flush(out)
        self.kind = LIST_ITEM
        self.hard = False
        self.first = self.lineno
        self.lines.append(text)
        self.chars = len(text)

    def _special(self, s: str, out: List[Block]) -> None:
        m = _LINE.match(s)
        if m is None:
            self._text_line(s, out)
            return
        group = m.lastgroup
        markdown = self.markdown
        if group == "item":
            self._item(m.group("item"), m.group("num"), out)
            return
        if group == "fence" or group == "htext" or group == "hash":
            if not markdown:
                self._text_line(s, out)
                return
            self._flush(out)
            self.kind, self.hard = PARAGRAPH, False
            if group == "fence":
                self.fence = m.group("fence")
                return
            text = _clean_heading(strip_inline(m.group("htext") or ""))
            if text:
                self._emit(out, HEADING, text, len(m.group("hash")))
            return
        if group in ("rule", "rc", "eq", "dash"):
            underline = s[0] in "=-" and " " not in s and "\t" not in s
            if underline and len(self.lines) == 1 and self.kind == PARAGRAPH and not self.hard \
                    and (s[0] == "=" or len(s) >= 2):
                text = self.lines[0]
                self.lines = []
                self.chars = 0
                if markdown:
                    text = strip_inline(text)
                text = _clean_heading(text)
                if text:
                    self._emit(out, HEADING, text, 1 if s[0] == "=" else 2, self.first)
                return
            if group == "dash":  # "-" or "--" alone is just text
                self._text_line(s, out)
                return
            self._flush(out)
            self.kind, self.hard = PARAGRAPH, False
            return
        if group == "quote":
            if not markdown:
                self._text_line(s, out)
                return
            inner = s.lstrip(">").strip()
            while inner.startswith(">"):
                inner = inner.lstrip(">").strip()
            if not inner:
                self._flush(out)
                self.kind, self.hard = PARAGRAPH, False
                return
            self.feed_lines((inner,), out, count=0)
            return
        if group == "pipe":
            if not markdown:
                self._text_line(s, out)
                return
            if _TABLE_SEP.match(s):
                return
            row = " | ".join(cell.strip() for cell in s.strip("|").split("|"))
            if not self.hard:
                self._flush(out)
                self.kind = PARAGRAPH
                self.hard = True
            if not self.lines:
                self.first = self.lineno
            self.lines.append(row)
            self.chars += len(row)
            if self.chars > MAX_BLOCK_CHARS:
                self._overflow(out)
            return
        self._text_line(s, out)

    def _front_matter(self, line: str, out: List[Block]) -> bool:
        """Skip YAML front matter (``---`` ... ``---`` at the very start of a Markdown file).
        Returns False if ``line`` is not part of it (and front matter handling is over)."""
        buf = self.front_matter
        assert buf is not None
        if not self.started:
            self.started = True
            if line.strip() == "---":
                buf.append(line)
                return True
            self.front_matter = None
            return False
        if line.strip() in ("---", "..."):
            self.front_matter = None
            return True
        buf.append(line)
        if len(buf) > 60:  # not front matter after all: replay the lines
            self._replay_front_matter(out)
        return True

    def _replay_front_matter(self, out: List[Block]) -> None:
        buf = self.front_matter or []
        self.front_matter = None
        self._flush(out)  # the opening "---" is a rule
        now = self.lineno
        self.lineno = now - len(buf) + 1  # the lines after the "---", read again
        self.feed_lines(buf[1:], out)
        self.lineno = now

    def finish(self, out: List[Block]) -> None:
        if self.front_matter:
            self._replay_front_matter(out)
        self.front_matter = None
        if self.fence is not None:
            self.fence = None
            self._flush_code(out)
        self._flush(out)


def iter_text_blocks(lines: Iterable[str], markdown: bool, location: str = "") -> Iterator[Block]:
    """Blocks from an iterable of lines (newline characters are ignored)."""
    parser = LineParser(markdown, location)
    out: List[Block] = []
    if isinstance(lines, list):
        parser.feed_lines(lines, out)  # blocks are produced in one go: a list is in memory anyway
        parser.finish(out)
        yield from out
        return
    for line in lines:
        parser.feed_lines((line,), out)
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
