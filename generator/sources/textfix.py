"""Bytes to clean text: encoding detection and repair of mojibake.

``decode_bytes`` tries, in order: a byte-order mark (UTF-8/16/32), strict UTF-8, UTF-16/32 without
a BOM (many NUL bytes), mostly-UTF-8 with a few stray Windows-1252 bytes, and finally a
single-byte guess (Windows-1252 unless the text clearly is something else, with help from
charset_normalizer). The result goes through ``fix_text``.

``fix_text`` repairs mojibake: UTF-8 read through Mac Roman, Windows-1252 or Latin-1 by its byte
structure (``mojibake.py``), what else looks broken with ftfy (loaded lazily, run only on words
that look broken); it turns
every newline convention into ``\\n``, drops control characters other than ``\\n``/``\\t`` and
NFC-normalises.

Nothing heavy is imported at module level.
"""
import re
import unicodedata
from typing import Dict, List, Optional, Tuple

# The byte level (encoding detection, binary kinds) lives in charset: import its names from there.
from .charset import SAMPLE_SIZE, detect_encoding, incremental_decoder
from .mojibake import repair as repair_mojibake


def decode_bytes(data: bytes) -> str:
    """Decode text of unknown encoding and clean it with ``fix_text``.

    Returns a str for anything that is text (possibly ""); raises BinarySource for data that is
    clearly not text (NUL bytes that are not UTF-16/32, known binary signatures)."""
    if not data:
        return ""
    sample = data if len(data) <= SAMPLE_SIZE else data[:SAMPLE_SIZE]
    encoding, skip = detect_encoding(sample, complete=len(data) <= SAMPLE_SIZE)
    if len(data) > SAMPLE_SIZE and encoding == "utf-8":
        try:
            return fix_text(data.decode("utf-8"))
        except UnicodeDecodeError:
            encoding = "utf-8+cp1252"
    text = incremental_decoder(encoding).decode(data[skip:] if skip else data, True)
    return fix_text(text)


# --- text level ----------------------------------------------------------------------------

# Control characters other than \t and \n, lone surrogates, the replacement character, the
# byte-order mark / zero-width no-break space, and soft hyphens.
_CTRL_BYTES_ALL = bytes(list(range(0, 9)) + list(range(11, 32)) + [127])  # all but \t \n
_STRIP = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffd\ufeff\u00ad]")
_C1 = re.compile("[\x80-\x9f]")
_NEWLINES = re.compile("\r\n?|[\x0b\x0c\u2028\u2029]")
_LIGATURES = {
    ord("\ufb00"): "ff",
    ord("\ufb01"): "fi",
    ord("\ufb02"): "fl",
    ord("\ufb03"): "ffi",
    ord("\ufb04"): "ffl",
    ord("\ufb05"): "st",
    ord("\ufb06"): "st",
}
_LIGATURE_RE = re.compile("[\ufb00-\ufb06]")
_SURROGATE = re.compile("[\ud800-\udfff]")

_ftfy_state = {"loaded": False, "fix": None, "bad_re": None}  # type: dict


def _ftfy():
    """(fix_line, badness_regex) from ftfy, or (None, None) if ftfy cannot be loaded."""
    if not _ftfy_state["loaded"]:
        _ftfy_state["loaded"] = True
        try:
            from ..libs import load

            ftfy = load("ftfy")
            badness = load("ftfy.badness")
            config = ftfy.TextFixerConfig(
                unescape_html=False,
                remove_terminal_escapes=True,
                fix_encoding=True,
                restore_byte_a0=True,
                replace_lossy_sequences=True,
                decode_inconsistent_utf8=True,
                fix_c1_controls=True,
                fix_latin_ligatures=False,
                fix_character_width=False,
                uncurl_quotes=False,
                fix_line_breaks=False,
                fix_surrogates=True,
                remove_control_chars=False,
                normalization=None,
                explain=False,
            )

            def fix(line: str) -> str:
                return ftfy.fix_text(line, config)

            _ftfy_state["fix"] = fix
            _ftfy_state["bad_re"] = getattr(badness, "BADNESS_RE", None)
            if _ftfy_state["bad_re"] is None:  # another ftfy version: use its public test
                _ftfy_state["bad_re"] = _PublicBadness(badness.is_bad)
        except Exception:
            _ftfy_state["fix"] = None
    return _ftfy_state["fix"], _ftfy_state["bad_re"]


class _PublicBadness:
    """Adapter giving ftfy.badness.is_bad (other ftfy versions) a regex-like ``search``."""

    def __init__(self, is_bad) -> None:
        self.is_bad = is_bad

    def search(self, text: str, pos: int = 0, endpos: Optional[int] = None):
        end = len(text) if endpos is None else endpos
        return _Span(pos, end) if self.is_bad(text[pos:end]) else None


class _Span:
    def __init__(self, start: int, end: int) -> None:
        self._start, self._end = start, end

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


# Mojibake (UTF-8 read as Windows-1252, Latin-1, Mac Roman, cp1251...) practically always
# leaves one of these traces: a C1 control, 'Â'/'Ã'/'Œ'/'œ'/'ƒ', 'вЂ'/'β€', or a symbol from
# the code pages' upper half (or 'Š'/'Ž'/'Ÿ'...) next to an accented letter or another such
# symbol. Ordinary accented text ("Größe", "l’élève", "« déjà »", Cyrillic, Greek, CJK) has
# none of them, so ftfy's exact (and slow, ~2 MB/s) test only runs in a small window around
# these spots.
_MOJI_SYMBOL = ("\xa0-\xbf\xd7\xf7\u0192\u02c6-\u02dd\u0384\u0385\u2010-\u2044\u20a7\u20ac"
                "\u2116\u2122\u2202-\u2265\u2500-\u25ff\uf8ff\ufb01\ufb02\ufffd")
# the same without common typography (no-break space, guillemets, quotes, dashes, ellipsis)
_MOJI_SYMBOL_RARE = ("\xa1-\xaa\xac-\xb6\xb8-\xba\xbc-\xbf\xd7\xf7\u0192\u02c6-\u02dd\u0384\u0385"
                     "\u2010-\u2012\u2015-\u2017\u201a\u201b\u201e-\u2021\u2023-\u2025\u2027-\u2044"
                     "\u20a7\u20ac\u2116\u2122\u2202-\u2265\u2500-\u25ff\uf8ff\ufb01\ufb02\ufffd")
_LATIN_LETTER = "\xc0-\xd6\xd8-\xf6\xf8-\u017f"
_MOJI_LETTER = _LATIN_LETTER + "\u0386-\u03ce\u0400-\u045f\u0490\u0491"
_SPECIAL_CHARS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u2028\u2029\ud800-\udfff\ufb00-\ufb06\ufeff\ufffd"
# One character class first: the regex engine then skips plain text at C speed and checks
# the context (look-behind on the character itself, look-ahead on the next) only at candidates.
_SCAN_PATTERN = (
    "[" + _SPECIAL_CHARS + "\xc2\xc3\u0152\u0153\u0160\u0161\u017d\u017e\u0178\u0192\u0432\u03b2"
    + _MOJI_SYMBOL_RARE + "]"
    "(?:(?<=[" + _SPECIAL_CHARS + "\xc2\xc3\u0152\u0153\u0192])"
    "|(?<=\u0432)(?=\u0402)"
    "|(?<=\u03b2)(?=\u20ac)"
    "|(?<=[" + _LATIN_LETTER + _MOJI_SYMBOL + "][\u0160\u0161\u017d\u017e\u0178" + _MOJI_SYMBOL_RARE + "])"
    "|(?<=[" + _MOJI_SYMBOL_RARE + "])(?=[" + _MOJI_SYMBOL + _MOJI_LETTER + "]))"
)
_scan_re: List["re.Pattern"] = []  # compiled on first use (start-up cost)
_SPECIAL_SET = frozenset(chr(c) for c in list(range(0, 9)) + list(range(11, 32)) + list(range(0x7f, 0xa0))
                         + [0xad, 0x2028, 0x2029, 0xfeff, 0xfffd] + list(range(0xfb00, 0xfb07)))
_C1_SET = frozenset(chr(c) for c in range(0x80, 0xa0))
_WINDOW = 6  # ftfy's longest mojibake pattern spans 6 characters


_BLANK = " \t\n"


def _scan(s: str, bad_re) -> Tuple[List[Tuple[int, int]], bool]:
    """(spans to repair, whether special characters occur). A span is the run of
    non-blank characters (a word, or words joined by the match) around a place where ftfy's
    badness regex matches: repairing words rather than lines is faster, and a line that mixes
    mojibake with correct accents ("schÃ¶n und Größe") is still repaired."""
    spans: List[Tuple[int, int]] = []
    special = False
    n = len(s)
    skip_to = -1
    if not _scan_re:
        _scan_re.append(re.compile(_SCAN_PATTERN))
    for m in _scan_re[0].finditer(s):
        p = m.start()
        c = s[p]
        if c in _SPECIAL_SET or "\ud800" <= c <= "\udfff":
            special = True
            if c not in _C1_SET:
                continue
        if p < skip_to or bad_re is None:
            continue
        skip_to = p + 1
        # Never search back into the previous span: its (already found) hit would be found
        # again and hide this one.
        lo = max(0, p - _WINDOW, spans[-1][1] if spans else 0)
        hit = bad_re.search(s, lo, min(n, p + _WINDOW + 1))
        if hit is None:
            continue
        start = hit.start()
        while start > 0 and s[start - 1] not in _BLANK:
            start -= 1
        end = hit.end()
        while end < n and s[end] not in _BLANK:
            end += 1
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
        skip_to = end
    return spans, special


_fixed_cache: Dict[str, str] = {}


def _repair_spans(s: str, spans: List[Tuple[int, int]], fix) -> str:
    out = []
    pos = 0
    cache = _fixed_cache
    for start, end in spans:
        out.append(s[pos:start])
        broken = s[start:end]
        fixed = cache.get(broken)
        if fixed is None:
            try:
                fixed = fix(broken)
            except Exception:  # ftfy should never fail; if it does, keep the text as it was
                fixed = broken
            if len(cache) > 4096:
                cache.clear()
            cache[broken] = fixed
        out.append(fixed)
        pos = end
    out.append(s[pos:])
    return "".join(out)


def _c1_to_cp1252(m: "re.Match") -> str:
    try:
        return m.group(0).encode("latin-1").decode("cp1252")
    except UnicodeDecodeError:
        return ""


def fix_text(s: str) -> str:
    """Clean decoded text: repair mojibake, unify newlines, drop control characters, NFC.

    Written for speed on big inputs (a regex pass over 50 MB costs 0.1-0.4 s): ASCII text gets
    one C-speed check, other text one regex scan (special characters and mojibake traces
    together) and the NFC quick check."""
    if not s:
        return s
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    if s.isascii():
        b = s.encode("ascii")
        if len(b.translate(None, _CTRL_BYTES_ALL)) != len(b):
            s = _STRIP.sub("", s.replace("\x0b", "\n").replace("\x0c", "\n"))
        return s
    fix, bad_re = _ftfy()
    s = repair_mojibake(s, bad_re)
    spans, special = _scan(s, bad_re)
    if special:
        s = _NEWLINES.sub("\n", s)
        if _SURROGATE.search(s):
            # Pair up surrogates that arrived as separate code points; drop lone ones.
            s = s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        if spans:  # positions may have moved: scan again
            spans, _ = _scan(s, bad_re)
    if fix is not None and spans:
        s = _repair_spans(s, spans, fix)
    if special:
        if _C1.search(s):
            s = _C1.sub(_c1_to_cp1252, s)
        if _LIGATURE_RE.search(s):
            s = s.translate(_LIGATURES)
        if _STRIP.search(s):
            s = _STRIP.sub("", s)
    if not unicodedata.is_normalized("NFC", s):
        s = unicodedata.normalize("NFC", s)
    return s
