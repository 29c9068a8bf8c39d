"""Cloze deletions: turn whatever a model wrote into well-formed Anki ``{{cN::answer::hint}}``.

Recognised openers (case-insensitive, spaces allowed): ``{{c1::``, ``{{c1:``, ``{{c::``,
``{c1::`` (single brace needs the ``c``), bare ``{{`` (not inside MathJax, where ``{{`` is
LaTeX grouping), and ``[[`` / ``[[c1::`` when the text has no brace deletion at all.
A deletion ends at ``}}`` (or a lone ``}``, or ``]]``) that is not part of a LaTeX ``{...}``
group inside the answer, so ``{{c1::\\frac{1}{2}}}`` keeps its fraction.

Output: numbers renumbered c1, c2, ... by first appearance (a number the model reused stays
shared; each unnumbered deletion gets its own), nested deletions flattened into their parent,
empty deletions and unclosed openers removed (their text kept). Answers never contain ``}}``
and never end in ``}``, ``:`` or a backslash right before the marker, because Anki's cloze
parser is non-greedy and would cut them short (and ``\\}`` is an escaped brace).
"""
import bisect
import re
from html import escape
from typing import Callable, Dict, List, Optional, Set, Tuple, Union

from .sanitize import html_to_text

__all__ = ["normalize_cloze", "has_cloze", "ensure_cloze", "drop_blank_deletions", "CLOZE_RE"]

# A well-formed deletion as Anki parses it.
CLOZE_RE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.S)

_NUMBERED = re.compile(r"\{\{\s*c\s*(\d*)\s*:{1,2}\s*", re.I)
_SINGLE = re.compile(r"\{\s*c\s*(?:(\d+)\s*:{1,2}|::)\s*", re.I)
_BARE = re.compile(r"\{\{\s*")
_BRACKET = re.compile(r"\[\[\s*(?:c\s*(\d*)\s*:{1,2}\s*)?", re.I)
_MATH = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]", re.S)
_SPECIAL = re.compile(r"[{}\[\]:\\]")
_TAGS = re.compile(r"<[^<>]*>|&nbsp;|&#160;")
_MAX_PASSES = 32


class _Cloze:
    __slots__ = ("kind", "number", "start", "answer", "hint", "depth")

    def __init__(self, kind: str, number: Optional[int], start: int) -> None:
        self.kind = kind  # "{{", "{" or "[["
        self.number = number
        self.start = start
        self.answer: List[str] = []
        self.hint: Optional[List[str]] = None
        self.depth = 0  # LaTeX brace depth inside the answer

    def parts(self) -> List[str]:
        return self.hint if self.hint is not None else self.answer


_Part = Union[str, Tuple[Optional[int], str, str]]  # text, or (number, answer, hint)


def _opener(
    text: str, i: int, in_math: bool, brackets: bool
) -> Optional[Tuple["re.Match[str]", str, Optional[int]]]:
    """The opener at ``i``: (match, kind, number), or None."""
    if i and text[i - 1] == "\\":
        return None  # \{ is a literal brace in LaTeX
    c = text[i]
    if c == "{":
        m = _NUMBERED.match(text, i)
        if m:
            return m, "{{", int(m.group(1)) if m.group(1) else None
        m = _SINGLE.match(text, i)
        if m:
            return m, "{", int(m.group(1)) if m.group(1) else None
        m = _BARE.match(text, i)
        if m and not in_math:
            return m, "{{", None
    elif c == "[" and brackets:
        m = _BRACKET.match(text, i)
        if m and text.startswith("[[", i):
            return m, "[[", int(m.group(1)) if m.group(1) else None
    return None


def _closer(text: str, i: int, frame: _Cloze) -> int:
    """Length of the closing marker at ``i`` for ``frame``, 0 if none."""
    if frame.kind == "[[":
        return 2 if text.startswith("]]", i) else 0
    if text[i] != "}" or frame.depth:
        return 0
    return 2 if text.startswith("}}", i) else 1


def _parse(text: str, brackets: bool) -> Optional[List[_Part]]:
    """Split ``text`` into plain text and deletions.

    An opener that never closes (or a ``[[`` whose braces do not balance) is not an opener:
    its position is disabled and the text scanned again, so the result is the same as if the
    marker had never been there. In ``brackets`` mode a broken ``[[`` gives None instead: then
    none of the brackets are taken for deletions. Iterative, so deep nesting cannot exhaust
    the stack."""
    math = [(m.start(), m.end()) for m in _MATH.finditer(text)]
    starts = [s for s, _ in math]

    def in_math(i: int) -> bool:
        k = bisect.bisect_right(starts, i) - 1
        return k >= 0 and i < math[k][1]

    disabled: Set[int] = set()
    for _ in range(_MAX_PASSES):
        parts, unclosed = _scan(text, disabled, in_math, brackets)
        if not unclosed:
            break
        if brackets and any(text.startswith("[[", i) for i in unclosed):
            return None
        disabled |= unclosed
    # Past _MAX_PASSES (only reached by pathological input such as "{{c1::{" * 1000) the
    # unclosed markers of the last pass are dropped in place.
    return parts


def _scan(
    text: str, disabled: Set[int], in_math: Callable[[int], bool], brackets: bool
) -> Tuple[List[_Part], Set[int]]:
    """One pass: the parts, and the positions of openers that did not close (to disable)."""
    root: List[_Part] = []
    stack: List[_Cloze] = []

    def emit(s: str) -> None:
        if s:
            if stack:
                stack[-1].parts().append(s)
            else:
                root.append(s)

    i, n = 0, len(text)
    while i < n:
        m = _SPECIAL.search(text, i)
        j = m.start() if m else n
        emit(text[i:j])
        if j >= n:
            break
        i = j
        c = text[i]
        top = stack[-1] if stack else None
        if c == "\\" and i + 1 < n and text[i + 1] in "{}[]":
            emit(text[i:i + 2])
            i += 2
            continue
        if top is not None:
            size = _closer(text, i, top)
            if size:
                if top.kind == "[[" and top.depth:
                    return [], {top.start}
                stack.pop()
                answer = "".join(top.answer)
                hint = "".join(top.hint or [])
                if stack:
                    emit(answer)  # nested deletion: keep its answer as plain text of the parent
                else:
                    root.append((top.number, answer, hint))
                i += size
                continue
            if c == "}":
                if not top.depth:  # only reachable in [[...]]: braces cannot balance
                    return [], {top.start}
                top.depth -= 1
            elif text.startswith("::", i) and top.hint is None:
                top.hint = []
                i += 2
                continue
        # A bare {{ inside a deletion is LaTeX grouping, not another deletion.
        opened = _opener(text, i, bool(stack) or in_math(i), brackets) if c in "{[" else None
        if opened:
            m, kind, number = opened
            if i not in disabled:
                stack.append(_Cloze(kind, number, i))
            i = m.end()
            continue
        if top is not None and c == "{":
            top.depth += 1
        emit(c)
        i += 1
    unclosed = {frame.start for frame in stack}
    while stack:
        frame = stack.pop()
        emit("".join(frame.answer) + ("::" + "".join(frame.hint) if frame.hint is not None else ""))
    return root, unclosed


def _is_empty(answer: str) -> bool:
    return not _TAGS.sub("", answer).strip()


def _tidy(s: str) -> str:
    """Keep Anki's non-greedy parser from ending the deletion early (see module doc)."""
    s = s.strip()
    while "}}" in s:
        s = s.replace("}}", "} }")
    return s + " " if s.endswith(("}", ":", "\\")) else s


def _format(number: int, answer: str, hint: str) -> str:
    hint = _tidy(hint)
    return "{{c%d::%s%s}}" % (number, _tidy(answer), "::" + hint if hint else "")


def _render(parts: List[_Part]) -> str:
    """Join the parts, numbering deletions c1, c2, ... by first appearance."""
    renumber: Dict[int, int] = {}
    out: List[str] = []
    count = 0
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        old, answer, hint = part
        if _is_empty(answer):
            continue
        if old is not None and old in renumber:
            number = renumber[old]
        else:
            count += 1
            number = count
            if old is not None:
                renumber[old] = number
        if out and out[-1].endswith(("{", "\\")):
            out.append(" ")  # "{" or "\\" right before "{{c1::" would change how it parses
        out.append(_format(number, answer, hint))
    return "".join(out)


def normalize_cloze(text: str) -> str:
    """Rewrite every deletion form in ``text`` as well-formed, densely numbered ``{{cN::...}}``."""
    if not text:
        return ""
    out = _render(_parse(text, False) or [])
    # [[...]] counts only when there is no usable brace deletion (else it is a wiki link), and
    # it is judged on the text as it is after the brace pass, so a second pass changes nothing.
    if "[[" in out and not CLOZE_RE.search(out):
        alt = _render(_parse(out, True) or [])
        if CLOZE_RE.search(alt):
            out = alt
    return out


def has_cloze(text: str) -> bool:
    """True if ``text`` holds at least one non-empty deletion once normalised."""
    return bool(CLOZE_RE.search(normalize_cloze(text)))


def ensure_cloze(text: str, answer_hint: str = "") -> Optional[str]:
    """Normalised ``text`` with at least one deletion, or None.

    If the model forgot to mark a deletion, wrap the first occurrence of ``answer_hint`` (case-
    insensitive, any run of whitespace matching any other, preferring whole words, never cutting
    into an HTML tag or entity) in ``{{c1::...}}``."""
    norm = normalize_cloze(text)
    if CLOZE_RE.search(norm):
        return norm
    needles = []
    for candidate in (answer_hint, html_to_text(answer_hint), escape(html_to_text(answer_hint), quote=False)):
        words = candidate.split()
        if words and words not in needles:
            needles.append(words)
    markup = [(m.start(), m.end()) for m in re.finditer(r"<[^<>]*>|&#?\w+;", norm)]

    def inside_tag(start: int, end: int) -> bool:
        """Overlaps a tag or an entity (wrapping "amp" in "&amp;" would break it)."""
        return any(s < end and start < e and not (start <= s and e <= end) for s, e in markup)

    for whole_words in (True, False):
        for words in needles:
            pattern = r"\s+".join(re.escape(w) for w in words)
            if whole_words:
                pattern = r"(?<!\w)%s(?!\w)" % pattern
            for m in re.finditer(pattern, norm, re.I):
                if inside_tag(m.start(), m.end()) or _is_empty(m.group(0)):
                    continue
                result = normalize_cloze(norm[: m.start()] + _format(1, m.group(0), "") + norm[m.end():])
                if CLOZE_RE.search(result):
                    return result
    return None


def drop_blank_deletions(text: str, blank: Callable[[str], bool]) -> str:
    """``text`` (well-formed, e.g. sanitized after ``normalize_cloze``) without the deletions whose
    answer ``blank`` judges empty, the rest renumbered c1, c2, ... by first appearance. Run it
    after sanitizing: a deletion that held only a script or invisible characters is empty then."""
    if "{{c" not in text:
        return text
    kept = CLOZE_RE.sub(lambda m: "" if blank(m.group(2)) else m.group(0), text)
    numbers: Dict[str, int] = {}

    def renumber(m: "re.Match[str]") -> str:
        number = numbers.setdefault(m.group(1), len(numbers) + 1)
        hint = "::" + m.group(3) if m.group(3) is not None else ""
        return "{{c%d::%s%s}}" % (number, m.group(2), hint)

    return CLOZE_RE.sub(renumber, kept)
