"""Bytes to an encoding: byte-order marks, strict UTF-8, UTF-16/32 without a BOM, mostly-UTF-8
with stray Windows-1252 bytes, a single-byte guess (with help from charset_normalizer), and
known binary formats (``BinarySource``). ``textfix.decode_bytes`` puts it to use.

Nothing heavy is imported at module level.
"""
import codecs
import re
from typing import Optional, Tuple

from ..errors import BinarySource

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


_TURKISH_ONLY = frozenset("ýþðÝÞÐ")  # ı ş ğ İ Ş Ğ of Windows-1254, read as Windows-1252
_ICELANDIC_ONLY = frozenset("áéíóúæÁÉÍÓÚÆ")  # letters Icelandic has besides þ ð ý, Turkish not
_TURKISH_ALSO = frozenset("üçÜÇ")  # ... and Turkish has, Icelandic not


def _turkish_in_1252(text: str) -> bool:
    """Is this Turkish (Windows-1254) read as Windows-1252? Its 'ı', 'ş', 'ğ' become 'ý', 'þ',
    'ð', letters only Icelandic has, and Icelandic also has 'á', 'é', 'æ'... but no 'ü' or 'ç'."""
    turkish = sum(1 for c in text if c in _TURKISH_ONLY)
    if not turkish:
        return False
    icelandic = sum(1 for c in text if c in _ICELANDIC_ONLY)
    if any(c in _TURKISH_ALSO for c in text):
        return icelandic * 10 < turkish
    # Turkish 'ı' is far more common than 'ğ'; Icelandic 'ð' than 'ý'.
    dotless = text.count("ý") + text.count("Ý")
    return turkish >= 3 and icelandic == 0 and dotless > text.count("ð") + text.count("Ð")


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
    mac = sample.decode("mac_roman", "replace")
    western, western_mac = _looks_western(text), _looks_western(mac)
    if western or western_mac:
        # Western European text: choose between Windows-1252 and Mac Roman (dense accents in
        # Mac Roman look un-Western read as Windows-1252: 'dŽjˆ lÕŽtŽ').
        if western_mac and _western_badness(mac) < _western_badness(text):
            return "mac_roman"
        return "cp1254" if _turkish_in_1252(text) else "cp1252"
    # Mostly non-ASCII letters: Cyrillic, Greek, CJK... Common Cyrillic and Greek code pages
    # compete with what charset_normalizer proposes; the proposal wins ties.
    proposal = None
    try:
        from ..libs import load

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
