"""Repair of UTF-8 text that was decoded through a single-byte code page: Mac Roman, or
Windows-1252 / Latin-1 (one family: Latin-1's C1 controls are the bytes Windows-1252 leaves
undefined or that a tool passed through).

The repair is structural: a run of characters is only a candidate if the bytes they stand for
in that code page form valid UTF-8 (a lead byte and the right number of continuation bytes) and
decode to a character that text really uses (accented Latin letters, Greek, Cyrillic, Hebrew,
Arabic, punctuation and symbols, CJK, Hangul, emoji). A candidate is then

* **strong** when real text in that code page practically never looks like it: a 4-byte emoji
  (``\\uf8ffüìö`` is 📚 through Mac Roman, where U+F8FF, the Apple logo, is byte F0), a 3-byte
  symbol (``â€™`` / ``‚Äô`` is ’), a C1 control, a lead that is a symbol before a letter
  (``√©`` or ``Ã©`` is é), two or more sequences in a row, or a place ftfy's badness test flags;
* **weak** otherwise (``ÅŸ`` is ş, but ``Å“`` might be a Swedish word in capitals before a
  closing quote).

Strong candidates are repaired; weak ones only when the same text has a strong candidate of the
same code page (and a weak letter of another script only when strong ones show that script), so
text that really is in one of these code pages (German, French, Icelandic, Turkish, Swedish...)
is left as it is. A decoded letter of an alphabet other than Latin glued to Latin letters is
never taken (``“über`` is not Cyrillic ҟ + "ber"), nor a weak one after a capital and before
punctuation (``PÅ”`` is Swedish in capitals). Text misread twice is repaired in a second round.

``repair(text, bad_re)`` is the entry point; it costs two regex scans for text with no
candidates. Nothing heavy is imported.
"""
import bisect
import re
from typing import Dict, List, Set, Tuple

# Code points a repaired sequence may produce, as (first, last) ranges.
_ALLOWED_2 = (
    (0x00A0, 0x017F),  # Latin-1 symbols and letters, Latin Extended-A (Turkish, Polish, Czech...)
    (0x0192, 0x0192), (0x01A0, 0x01A1), (0x01AF, 0x01B0),  # ƒ, Vietnamese ơ ư
    (0x0218, 0x021B), (0x0259, 0x0259),  # Romanian ș ț, schwa
    (0x0386, 0x03CE),  # Greek
    (0x0400, 0x045F), (0x0490, 0x0491),  # Cyrillic
    (0x05D0, 0x05EA),  # Hebrew letters
    (0x0600, 0x06FF),  # Arabic
)
_ALLOWED_3 = (
    (0x0900, 0x0DFF), (0x0E00, 0x0E7F),  # Indic scripts, Thai
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese)
    (0x2000, 0x27BF), (0x2900, 0x2BFF),  # punctuation, currency, arrows, maths, symbols, dingbats
    (0x3000, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),  # CJK punctuation, kana, ideographs
    (0xAC00, 0xD7A3),  # Hangul
    (0xFE0F, 0xFE0F), (0xFF01, 0xFFEF),  # emoji presentation selector, full-width forms
    (0xF8FF, 0xF8FF),  # Mac Roman's Apple logo: text misread twice ('Ô£ø' is U+F8FF)
)
_ALLOWED_4 = ((0x1F000, 0x1FAFF),)  # emoji and pictographs
_SYMBOLS_3 = ((0x2000, 0x27BF), (0x2900, 0x2BFF), (0xFE0F, 0xFE0F))

MAC = "mac_roman"
WIN = "cp1252"
_FAMILIES = (WIN, MAC)
# Leads that are symbols, which real text never puts right before a letter or another symbol
# of the upper half: 'Ã'/'Â' in Windows-1252, '√', '¬', 'ƒ', '≈', '∆' in Mac Roman.
_STRONG_LEADS = {WIN: frozenset("ÂÃ"), MAC: frozenset("¬√ƒ≈∆")}
# Continuations that real text never puts right after a letter or a punctuation mark
# ('ÅŸ' is ş, 'Å‚' is ł, 'åž‹' is 型).
_STRONG_CONTS = {WIN: frozenset("‚„†‡ˆ‰Š‹ŒŽ˜šœžŸƒ¡¤¦¨ª¬¯´¸º¼½¾¿"),
                 MAC: frozenset("†°¢£§•¶®©™´¨≠∞±≤≥¥µ∂∑∏π∫ªºΩ")}


def _in(cp: int, ranges: Tuple[Tuple[int, int], ...]) -> bool:
    for lo, hi in ranges:
        if lo <= cp <= hi:
            return True
    return False


def _chars_of(encoding: str) -> Dict[int, List[str]]:
    """byte (0x80-0xFF) -> the characters that stand for it when read through ``encoding``."""
    out: Dict[int, List[str]] = {}
    for b in range(0x80, 0x100):
        try:
            c = bytes((b,)).decode(encoding)
        except UnicodeDecodeError:
            c = chr(b)  # the five bytes Windows-1252 leaves undefined pass through as C1
        out[b] = [c]
        if encoding == WIN and b < 0xA0 and c != chr(b):
            out[b].append(chr(b))  # Latin-1 reads 0x80-0x9F as C1 controls
    return out


def _class(chars: List[str]) -> str:
    return "[" + "".join("\\u%04x" % ord(c) for c in sorted(set(chars))) + "]"


def _pattern(encoding: str) -> Tuple[str, Dict[str, int]]:
    """A regex matching one candidate sequence, and the char -> byte map of ``encoding``."""
    chars = _chars_of(encoding)
    to_byte = {c: b for b, cs in chars.items() for c in cs}

    def cls(byte_values: Set[int]) -> str:
        return _class([c for b in sorted(byte_values) for c in chars[b]])

    # (lead byte, second byte) pairs that can start an allowed character.
    seconds: Dict[int, Set[int]] = {}
    for ranges in (_ALLOWED_2, _ALLOWED_3):
        for lo, hi in ranges:
            for cp in range(lo, hi + 1):
                b = chr(cp).encode("utf-8")
                seconds.setdefault(b[0], set()).add(b[1])
    cont = cls(set(range(0x80, 0xC0)))
    branches = ["%s%s%s%s" % (cls({0xF0}), cls({0x9F}), cls(set(range(0x80, 0xAC))), cont)]
    for lead in sorted(seconds):
        tail = cont if lead >= 0xE0 else ""
        branches.append(cls({lead}) + cls(seconds[lead]) + tail)
    return "|".join(branches), to_byte


_compiled: Dict[str, Tuple["re.Pattern", Dict[str, int]]] = {}


def _regex(encoding: str) -> Tuple["re.Pattern", Dict[str, int]]:
    got = _compiled.get(encoding)
    if got is None:
        pattern, to_byte = _pattern(encoding)
        got = (re.compile(pattern), to_byte)
        _compiled[encoding] = got
    return got


class _Run:
    """Adjacent candidate sequences of one code page."""

    __slots__ = ("start", "end", "text", "count", "strong")

    def __init__(self, start: int, end: int, text: str, strong: bool) -> None:
        self.start, self.end, self.text, self.count, self.strong = start, end, text, 1, strong


def _is_latin_letter(c: str) -> bool:
    return c.isalpha() and (c < "\u0250" or "\u1e00" <= c <= "\u1eff")


def _runs(s: str, encoding: str, bad_re) -> List[_Run]:
    regex, to_byte = _regex(encoding)
    strong_leads = _STRONG_LEADS[encoding]
    strong_conts = _STRONG_CONTS[encoding]
    runs: List[_Run] = []
    for m in regex.finditer(s):
        seq = m.group(0)
        try:
            decoded = bytes(to_byte[c] for c in seq).decode("utf-8")
        except (KeyError, UnicodeDecodeError):
            continue
        cp = ord(decoded)
        n = len(seq)
        if not _in(cp, _ALLOWED_4 if n == 4 else _ALLOWED_3 if n == 3 else _ALLOWED_2):
            continue
        strong = (n == 4 or (n == 3 and _in(cp, _SYMBOLS_3)) or seq[0] in strong_leads
                  or any(c in strong_conts or "\x80" <= c <= "\x9f" for c in seq[1:])
                  or (bad_re is not None and bad_re.search(seq) is not None))
        last = runs[-1] if runs else None
        if last is not None and last.end == m.start():
            last.end = m.end()
            last.text += decoded
            last.count += 1
            last.strong = last.strong or strong or last.count >= 2
        else:
            runs.append(_Run(m.start(), m.end(), decoded, strong))
    # A letter of another script is glued to Latin letters only in scripts written without
    # spaces ("“über" is not "ҟber"); a capital before punctuation is real text ('PÅ”', 'TVÅ…').
    kept = []
    for run in runs:
        before = s[run.start - 1] if run.start else " "
        after = s[run.end] if run.end < len(s) else " "
        foreign = _scripts(run.text)
        if foreign:
            if foreign - {"cjk", "hangul"} and (_is_latin_letter(before) or _is_latin_letter(after)):
                continue
        elif not run.strong and before.isupper() and not after.isalpha():
            continue
        kept.append(run)
    return kept


_SCRIPTS = ((0x0370, 0x03FF, "greek"), (0x0400, 0x052F, "cyrillic"), (0x0590, 0x05FF, "hebrew"),
            (0x0600, 0x06FF, "arabic"), (0x0900, 0x0DFF, "indic"), (0x0E00, 0x0E7F, "thai"),
            (0x3000, 0x9FFF, "cjk"), (0xFF00, 0xFFEF, "cjk"), (0xAC00, 0xD7AF, "hangul"))


def _scripts(text: str) -> Set[str]:
    """The scripts other than Latin of the letters in ``text``."""
    found: Set[str] = set()
    for c in text:
        if c.isalpha() and not _is_latin_letter(c):
            cp = ord(c)
            for lo, hi, name in _SCRIPTS:
                if lo <= cp <= hi:
                    found.add(name)
                    break
            else:
                found.add("other")
    return found


def _accepted(runs: List[_Run]) -> List[_Run]:
    """The runs of one code page to repair, given that at least one is strong: all strong ones,
    weak ones of Latin letters and symbols, and weak letters of another script only where the
    strong ones show that script (a lone 'с' in Russian; never a lone ideograph in French)."""
    shown_scripts: Set[str] = set()
    for run in runs:
        if run.strong:
            shown_scripts |= _scripts(run.text)
    return [r for r in runs if r.strong or _scripts(r.text) <= shown_scripts]


def repair(s: str, bad_re=None) -> str:
    """``s`` with UTF-8 sequences misread through Mac Roman or Windows-1252/Latin-1 decoded,
    also text misread twice (one more round for each, at most three).

    ``bad_re`` is ftfy's badness regex when available (one more sign of a strong candidate)."""
    for _ in range(3):
        fixed = _repair_once(s, bad_re)
        if fixed == s:
            break
        s = fixed
    return s


def _repair_once(s: str, bad_re) -> str:
    found = []
    for encoding in _FAMILIES:
        runs = _runs(s, encoding, bad_re)
        evidence = sum(r.end - r.start for r in runs if r.strong)
        if evidence:  # the weak runs too: this text has this code page's mojibake
            found.append((evidence, _accepted(runs)))
    if not found:
        return s
    # The code page with more evidence first; the other's runs only where they do not overlap.
    found.sort(key=lambda item: -item[0])
    chosen: List[_Run] = list(found[0][1])
    if len(found) > 1:
        taken = sorted((r.start, r.end) for r in chosen)
        for run in found[1][1]:
            i = bisect.bisect_right(taken, (run.start, len(s) + 1))
            if (i and taken[i - 1][1] > run.start) or (i < len(taken) and taken[i][0] < run.end):
                continue
            chosen.append(run)
    chosen.sort(key=lambda r: r.start)
    out = []
    pos = 0
    for run in chosen:
        out.append(s[pos:run.start])
        out.append(run.text)
        pos = run.end
    out.append(s[pos:])
    return "".join(out)

