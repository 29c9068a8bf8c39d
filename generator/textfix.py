"""Bytes to clean text: encoding detection and repair of mojibake.

``decode_bytes`` tries, in order: a byte-order mark (UTF-8/16/32), strict UTF-8, UTF-16/32 without
a BOM (many NUL bytes), mostly-UTF-8 with a few stray Windows-1252 bytes, and finally a
single-byte guess (Windows-1252 unless the text clearly is something else, with help from
charset_normalizer). The result goes through ``fix_text``.

``fix_text`` repairs mojibake with ftfy (loaded lazily, run only on words that look broken), turns
every newline convention into ``\\n``, drops control characters other than ``\\n``/``\\t`` and
NFC-normalises.

Nothing heavy is imported at module level.
"""
import codecs
import re
import unicodedata
from typing import Dict, List, Optional, Tuple

from .errors import BinarySource

# --- byte level ----------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Magic numbers of common binary formats, so the message can say what the file really is.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office/EPUB file)"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file (.doc/.xls/.ppt)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\xca\xfe\xba\xbe", "a compiled program"),
    (b"\xcf\xfa\xed\xfe", "a program (Mach-O executable)"),
    (b"\x00asm", "a WebAssembly module"),
    (b"OggS", "an Ogg audio/video file"),
    (b"ID3", "an MP3 audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"RIFF", "a RIFF media file (WAV/AVI/WebP)"),
    (b"wOFF", "a web font"),
    (b"\x00\x01\x00\x00\x00", "a font file"),
)

_CTRL_BYTES_ALL = bytes(list(range(0, 9)) + list(range(11, 32)) + [127])  # all but \t \n
_CTRL_BYTES = bytes([b for b in range(32) if b not in (9, 10, 12, 13, 27)] + [127])
_HIGH_BYTES = bytes(range(128, 256))
_UTF8_MULTI = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)

SAMPLE_SIZE = 64 * 1024


def _cp1252_fallback(err: UnicodeError) -> Tuple[str, int]:
    """Codec error handler: decode invalid bytes one by one as Windows-1252 (Latin-1 for the
    five bytes cp1252 leaves undefined). Used for mostly-UTF-8 text with a few stray bytes."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start:err.end]
    return "".join(_byte_cp1252(b) for b in bad), err.end


def _byte_cp1252(b: int) -> str:
    try:
        return bytes((b,)).decode("cp1252")
    except UnicodeDecodeError:
        return chr(b)


codecs.register_error("flashcards-cp1252", _cp1252_fallback)
ERRORS = "flashcards-cp1252"


def binary_kind(sample: bytes) -> Optional[str]:
    """What a sample of bytes is, if it is clearly not text (e.g. 'a PNG image'), else None.

    Call only after a BOM and UTF-16/32 have been ruled out."""
    for magic, kind in _MAGIC:
        if kind and sample.startswith(magic):
            return kind
    if b"\x00" in sample:
        return "a binary file"
    if sample:
        ctrl = len(sample) - len(sample.translate(None, _CTRL_BYTES))
        if ctrl > max(8, len(sample) // 20):
            return "a binary file"
    return None


def _utf16_without_bom(sample: bytes) -> Optional[str]:
    """Guess UTF-16/32 without a BOM from where the NUL bytes sit (text in Latin, Cyrillic,
    Greek... scripts has NULs in the high bytes of spaces, digits and punctuation)."""
    n = len(sample)
    nuls = sample.count(0)
    if n < 4 or not nuls:
        return None
    q = max(1, n // 4)
    quarter = [sample[i::4].count(0) for i in range(4)]
    if nuls >= n // 2:
        if min(quarter[2], quarter[3]) > 0.9 * q and quarter[0] < 0.5 * q:
            return "utf-32-le"
        if min(quarter[0], quarter[1]) > 0.9 * q and quarter[3] < 0.5 * q:
            return "utf-32-be"
    half = max(1, n // 2)
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd >= 0.05 * half and even <= odd // 10:
        return "utf-16-le"
    if even >= 0.05 * half and odd <= even // 10:
        return "utf-16-be"
    return None


def _valid_as(sample: bytes, encoding: str) -> bool:
    """Does the sample decode (ignoring a cut-off tail) without errors, NULs or many controls?"""
    try:
        text = codecs.getincrementaldecoder(encoding)("strict").decode(sample, False)
    except (UnicodeDecodeError, LookupError):
        return False
    if not text or "\x00" in text:
        return False
    head = text[:8192]
    ctrl = sum(1 for c in head if (c < " " and c not in "\t\n\r\f") or "\x7f" <= c < "\xa0")
    return ctrl <= len(head) // 100


def _utf8_prefix_ok(sample: bytes, complete: bool) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, complete)
        return True
    except UnicodeDecodeError:
        return False


def _mostly_utf8(sample: bytes) -> bool:
    """Valid UTF-8 multi-byte sequences clearly outnumber stray high bytes."""
    high = len(sample) - len(sample.translate(None, _HIGH_BYTES))
    if not high:
        return True
    multi = _UTF8_MULTI.findall(sample)
    if not multi:
        return False
    covered = sum(len(m) for m in multi)
    stray = high - covered
    return stray <= len(multi)


# --- single-byte guessing ------------------------------------------------------------------

_OK_SYMBOLS = frozenset("€£¥¢°§©®™·•–—‘’‚“”„«»‹›…×÷±½¼¾¹²³µ¶¿¡\u00a0ªº")
_GLUE_OK = frozenset("’‘·–—")


def _western_badness(text: str) -> int:
    """How un-Western-European a decoding looks: non-ASCII symbols that real prose rarely has
    or has only between spaces, and capital accented letters glued after small letters
    ('fŸr', 'wÈre')."""
    bad = 0
    prev = ""
    n = len(text)
    for i, c in enumerate(text):
        if c >= "\x80":
            if c.isalpha():
                if c.isupper() and prev.islower():
                    bad += 1
            elif c not in _OK_SYMBOLS:
                bad += 1
            elif c not in _GLUE_OK and prev.isalpha() and i + 1 < n and text[i + 1].isalpha():
                bad += 1
        prev = c
    return bad


def _looks_western(text: str) -> bool:
    """Mostly ASCII letters, and the accented letters sit inside words made of ASCII letters
    (German, French, Spanish...), unlike Cyrillic or CJK misread as Windows-1252."""
    foreign = 0
    attached = 0
    letters = 0
    prev = " "
    n = len(text)
    for i, c in enumerate(text):
        if c.isalpha():
            letters += 1
            if c >= "\x80" and (c.islower() or c.isupper()):  # not modifier letters like 'ˆ'
                foreign += 1
                nxt = text[i + 1] if i + 1 < n else " "
                if (prev.isalpha() and prev < "\x80") or (nxt.isalpha() and nxt < "\x80"):
                    attached += 1
        prev = c
    if not foreign:
        return True
    if attached < 0.4 * foreign or "\u0192" in text:  # 'ƒ': Shift-JIS read as cp1252
        return False
    return foreign <= 0.3 * letters or (letters < 40 and foreign <= 0.5 * letters)


def _ascii_compatible(encoding: str) -> bool:
    try:
        return "Az 09.\n".encode(encoding) == b"Az 09.\n"
    except (LookupError, UnicodeError):
        return False


def _script_score(text: str) -> float:
    """Share of the non-ASCII characters that are lowercase or caseless letters: high for real
    prose in any script, low for text decoded with the wrong code page (which turns small
    letters into capitals, symbols or half-width katakana)."""
    total = good = 0
    for c in text:
        if c >= "\x80":
            total += 1
            if c.isalpha() and not c.isupper() and not ("\uff61" <= c <= "\uff9f"):
                good += 1
    return good / total if total else 0.0


_CJK_UTF16_PATTERN = ("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]")


_CJK_MARKS_PATTERN = ("[\u3000-\u30ff\uff01-\uff65]")  # kana and CJK punctuation


def _cjk_utf16(sample: bytes) -> Optional[str]:
    """UTF-16 without a BOM and with few NULs: East Asian text. Shift-JIS or GBK bytes can
    also pair up into valid ideographs, so ask for NULs (spaces, newlines, digits) or for kana
    and CJK punctuation, which such accidental pairs rarely produce."""
    if len(sample) < 32:
        return None
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = codecs.getincrementaldecoder(encoding)("strict").decode(sample, False)
        except UnicodeDecodeError:
            continue
        n = len(text)
        cjk = len(re.findall(_CJK_UTF16_PATTERN, text))
        plain = sum(1 for c in text if " " <= c <= "~" or c in "\n\r\t")
        if cjk < 0.3 * n or cjk + plain < 0.98 * n:
            continue
        if b"\x00" in sample or len(re.findall(_CJK_MARKS_PATTERN, text)) >= 0.05 * n:
            return encoding
    return None


def _decode_single(data: bytes, encoding: str) -> str:
    if encoding == "cp1252":
        return data.decode("cp1252", ERRORS)
    return data.decode(encoding, "replace")


def _guess_single_byte(sample: bytes) -> str:
    text = _decode_single(sample, "cp1252")
    if _looks_western(text):
        # Western European text: choose between Windows-1252 and Mac Roman.
        mac = sample.decode("mac_roman", "replace")
        if _western_badness(mac) < _western_badness(text):
            return "mac_roman"
        return "cp1252"
    # Mostly non-ASCII letters: Cyrillic, Greek, CJK... Common Cyrillic and Greek code pages
    # compete with what charset_normalizer proposes; the proposal wins ties.
    proposal = None
    try:
        from .libs import load

        best = load("charset_normalizer").from_bytes(sample).best()
        if best is not None and best.encoding:
            proposal = best.encoding
    except Exception:
        pass
    scores = {}
    for encoding in (proposal, "cp1251", "koi8_r", "cp1253"):
        if not encoding or encoding in scores or not _ascii_compatible(encoding):
            continue
        try:
            decoded = codecs.getincrementaldecoder(encoding)("strict").decode(sample, False)
        except (UnicodeDecodeError, LookupError):
            continue
        scores[encoding] = _script_score(decoded)
    if not scores:
        return "cp1252"
    top = max(scores.values())
    if top < 0.5:
        return "cp1252"
    for encoding, score in scores.items():  # proposal first, then the fixed order
        if score >= top - 0.05:
            return encoding
    return "cp1252"


def detect_encoding(sample: bytes, complete: bool = False) -> Tuple[str, int]:
    """Choose an encoding for data that starts with ``sample``.

    Returns (codec name, number of BOM bytes to skip). ``complete`` says the sample is the whole
    input (so a cut-off multi-byte character at its end is an error). Raises BinarySource
    (without a file name; callers re-raise with one) for data that is not text.
    The codec name may be ``"utf-8+cp1252"``: UTF-8 with stray bytes read as Windows-1252.
    """
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding, len(bom)
    if b"\x00" not in sample and _utf8_prefix_ok(sample, complete):
        return "utf-8", 0
    wide = _utf16_without_bom(sample)
    if wide and _valid_as(sample, wide):
        return wide, 0
    wide = _cjk_utf16(sample)
    if wide:
        return wide, 0
    kind = binary_kind(sample)
    if kind:
        raise BinarySource(f"This looks like {kind}, not text.", _BINARY_HINT)
    if _mostly_utf8(sample):
        return "utf-8+cp1252", 0
    return _guess_single_byte(sample), 0


_BINARY_HINT = (
    "Choose a text, Markdown, HTML, PDF, Word (.docx) or EPUB file. "
    "If this is a document in another format, export it as PDF, .docx or .txt first."
)


def incremental_decoder(encoding: str) -> "codecs.IncrementalDecoder":
    """An incremental decoder for a name returned by ``detect_encoding``."""
    if encoding in ("utf-8", "utf-8+cp1252"):
        # invalid bytes after the sample (a stray Windows-1252 "é") are kept, not dropped
        return codecs.getincrementaldecoder("utf-8")(ERRORS)
    if encoding == "cp1252":
        return codecs.getincrementaldecoder("cp1252")(ERRORS)
    return codecs.getincrementaldecoder(encoding)("replace")


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
            from .libs import load

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


# Fallback without ftfy: runs of characters that UTF-8 mojibake is made of.
_MOJI_RUN_PATTERN = ("[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
                       "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
                       "\u0131\u02c7\u02d8-\u02dd\u03a9\u03c0\u2202\u2206\u220f\u2211\u221a\u221e"
                       "\u222b\u2248\u2260\u2264\u2265\u25ca\uf8ff\ufb01\ufb02\u2044\u02da\u00b8]{2,}")


def _char_bytes(c: str, encoding: str) -> bytes:
    """The byte a character came from in a single-byte code page (Latin-1 for the bytes
    Windows-1252 leaves undefined, which survive as C1 characters)."""
    try:
        return c.encode(encoding)
    except UnicodeEncodeError:
        if encoding == "cp1252" and c < "\u0100":
            return bytes((ord(c),))
        raise


_moji_run: List["re.Pattern"] = []  # compiled lazily: only needed when ftfy is missing


def _fallback_fix(s: str) -> str:
    if not _moji_run:
        _moji_run.append(re.compile(_MOJI_RUN_PATTERN))

    def repair(m: "re.Match") -> str:
        run = m.group(0)
        for enc in ("cp1252", "mac_roman"):
            try:
                raw = b"".join(_char_bytes(c, enc) for c in run)
                fixed = raw.decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if len(fixed) < len(run):
                return fixed
        return run

    return _moji_run[0].sub(repair, s)


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
        hit = bad_re.search(s, max(0, p - _WINDOW), min(n, p + _WINDOW + 1))
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
    spans, special = _scan(s, bad_re)
    if special:
        s = _NEWLINES.sub("\n", s)
        if _SURROGATE.search(s):
            # Pair up surrogates that arrived as separate code points; drop lone ones.
            s = s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        if spans:  # positions may have moved: scan again
            spans, _ = _scan(s, bad_re)
    if fix is None:
        s = _fallback_fix(s)
    elif spans:
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
