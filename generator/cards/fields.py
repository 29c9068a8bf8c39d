"""A model's text made into a card field: what no note can store removed, the length bounded,
Anki's own markup defused, and emptiness judged on what a reader would see.

Order, for every field of every card (``field_html``):

1. **Bound** the raw text first (``RAW_FACTOR`` x the field's limit), so a 50 MB answer field
   costs no more than a few tens of kilobytes of work after it.
2. **Clean** characters no note can store or show: lone surrogates (a note's text must be valid
   UTF-8: one of them makes ``add_notes`` fail for the whole batch), noncharacters (U+FFFE,
   U+FFFF and the U+FDD0-U+FDEF block, in every plane), NUL and the other C0/C1 controls except
   tab and newline (``\\r\\n`` and ``\\r`` become ``\\n``).
3. Markdown to HTML and the allow-list sanitizer (``formatting.to_field_html``).
4. **Cut** to the field's limit of *visible* characters, at a word where one is near, with a
   marker (`` […]``) and a note on the card saying what was cut.
5. **Escape** Anki's own markup: ``[sound:…]``, ``[anki:tts…]``, ``[anki:play:…]`` (audio and
   text-to-speech on review) and ``[latex]``, ``[$]``, ``[$$]`` (run through LaTeX when the user
   has it installed) get their ``[`` written as ``&#91;``: shown as text, never acted on.

Limits: a card is short. The front (or a cloze's text) is a question or a sentence: 2,000
visible characters is several times the longest a good card needs, and what a reviewer can
read at a glance. A back (or a cloze's extra) may hold a list, a table or a code listing:
10,000 visible characters. A model's answer within its default ``num_predict`` (1,024 tokens,
about 4,000 characters for *all* its cards) never comes near either; only a server that
ignores the limit, or a hostile one, does."""
import re
import unicodedata
from typing import Any, Dict, List, Optional, Tuple

__all__ = ["FRONT_LIMIT", "BACK_LIMIT", "QUOTE_LIMIT", "RAW_FACTOR", "clean_chars", "bound_raw",
           "visible_text", "is_blank", "says_nothing", "escape_anki_markup", "cut_visible", "field_html",
           "clean_json", "card_label"]

FRONT_LIMIT = 2000  # visible characters of a front, or of a cloze's text
BACK_LIMIT = 10000  # visible characters of a back, or of a cloze's extra
QUOTE_LIMIT = 500  # characters of a card's source quote
RAW_FACTOR = 4  # raw characters kept per visible one before formatting (markup, entities)
CUT_MARKER = " […]"

_NONCHARS = "\ufdd0-\ufdef" + "".join(
    "%s%s" % (chr(plane * 0x10000 + 0xFFFE), chr(plane * 0x10000 + 0xFFFF)) for plane in range(17))
# C0 controls but tab and newline, DEL, C1 controls, noncharacters, surrogates.
_UNSTORABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f%s\ud800-\udfff]" % _NONCHARS)
# Characters that render as nothing but are letters or symbols by category (fillers, blank
# braille pattern) and so would make a side look filled.
_BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
# Anki's own markup, opened by "[": audio, TTS and replay tags, and LaTeX.
_ANKI_MARKUP = re.compile(r"\[(?=/?(?:sound:|anki:|latex\]|\$\$?\]))", re.I)
_TOKENS = re.compile(r"<[^<>]*>|&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);|[^<&]+|[<&]")


def clean_chars(text: str) -> str:
    """``text`` without the characters no note can store (see the module doc); surrogate pairs
    written as two code points are joined into the character they stand for first."""
    if not text:
        return ""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _UNSTORABLE.search(text) is None:
        return text
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        # Pairs become the astral character; what is left alone is dropped.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")
    return _UNSTORABLE.sub("", text)


def bound_raw(text: str, limit: int) -> str:
    """At most ``RAW_FACTOR * limit`` characters of ``text``: enough for ``limit`` visible
    characters with their markup, and a bound on every step after this one."""
    cap = RAW_FACTOR * limit
    return text if len(text) <= cap else text[:cap]


def _visible_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK_LOOKALIKES


class _Invisible(Dict[int, Optional[int]]):
    """A ``str.translate`` table that deletes what shows nothing (``_visible_char``): each code
    point is judged once and remembered, so text is filtered at C speed. ASCII is filled in up
    front; the others as they are met, up to ``MAX`` remembered (a text with more kinds of
    character is still filtered right, just judged again)."""

    MAX = 65536

    def __init__(self) -> None:
        super().__init__((c, c if _visible_char(chr(c)) else None) for c in range(128))

    def __missing__(self, code: int) -> Optional[int]:
        keep: Optional[int] = code if _visible_char(chr(code)) else None
        if len(self) < self.MAX:
            self[code] = keep
        return keep


_INVISIBLE = _Invisible()
_ASCII_INVISIBLE = re.compile("[\x00-\x20\x7f]+")


def visible_text(html: str) -> str:
    """What a reader sees of a field: its text without markup, entities decoded, and without
    the characters that show nothing (spaces, zero-width and bidi controls, lone combining
    marks, fillers)."""
    from .sanitize import html_to_text

    # Text with no markup and no entity reads as itself: the sanitizer and the text extractor
    # would only drop controls and fold spaces, and the filter below drops those anyway.
    text = html if "<" not in html and "&" not in html else html_to_text(html)
    if text.isascii():
        return _ASCII_INVISIBLE.sub("", text)
    return text.translate(_INVISIBLE)


def is_blank(html: str) -> bool:
    """True if a reader would see nothing in the field: only markup (``<b> </b>``, ``<br>``),
    ``&nbsp;`` or invisible characters (U+200B, U+200E, ...)."""
    return not visible_text(html)


_ASCII_WORD_CHAR = re.compile("[A-Za-z0-9]")


def says_nothing(html: str) -> bool:
    """True if a card's side holds no letter and no digit once its markup is gone: blank, or
    only punctuation and symbols (``**  **`` left by Markdown bold around spaces, ``...``,
    ``?``, ``→``), which no question or answer is. A cloze deletion is judged by ``is_blank``
    instead: deleting a lone ``+`` of a formula is a card."""
    text = visible_text(html)
    if text.isascii():
        return _ASCII_WORD_CHAR.search(text) is None
    return not any(unicodedata.category(ch)[0] in "LN" for ch in text)


def escape_anki_markup(html: str) -> str:
    """``[sound:x]`` -> ``&#91;sound:x]`` (and the same for the TTS, replay and LaTeX tags), so
    Anki shows the text instead of playing, speaking or typesetting it."""
    return _ANKI_MARKUP.sub("&#91;", html) if "[" in html else html


def cut_visible(html: str, limit: int) -> Tuple[str, int]:
    """Sanitized ``html`` cut after ``limit`` visible characters (counting every character of
    text, spaces too), at a space where one is near, tags kept balanced. Returns the html
    (unchanged if it was short enough) and the number of text characters it had."""
    from .sanitize import sanitize_html

    count = 0
    out: List[str] = []
    cut = False
    for m in _TOKENS.finditer(html):
        token = m.group(0)
        if token.startswith("<") and len(token) > 1:
            if not cut:
                out.append(token)
            continue
        size = 1 if token.startswith("&") else len(token)
        if not cut and count + size > limit:
            if not token.startswith("&"):
                keep = token[: limit - count]
                space = keep.rfind(" ")
                if space > len(keep) * 0.8:
                    keep = keep[:space]
                out.append(keep.rstrip())
            cut = True
        elif not cut:
            out.append(token)
        count += size
    if not cut:
        return html, count
    # The sanitizer closes the tags the cut left open (and drops an empty trailing element).
    return sanitize_html("".join(out) + CUT_MARKER), count


def field_html(raw: str, limit: int, name: str, notes: Optional[List[str]] = None,
               received: Optional[int] = None) -> str:
    """A model's raw field text as field HTML (the whole pipeline of the module doc). When the
    field had to be cut, a sentence saying so is appended to ``notes``. ``received``: the
    length of the text as the model sent it, if ``raw`` was bounded already."""
    from .formatting import to_field_html
    from .sanitize import sanitize_html

    received = len(raw) if received is None else max(received, len(raw))
    bounded = received > RAW_FACTOR * limit
    html = to_field_html(clean_chars(bound_raw(raw, limit)))
    html, length = cut_visible(html, limit)
    if bounded and length <= limit:  # what was kept fits: still say that it was cut
        html = sanitize_html(html + CUT_MARKER)
    if (bounded or length > limit) and notes is not None:
        notes.append("The %s was %s characters long; it was cut to %s." % (
            name, "{:,}".format(received if bounded else length), "{:,}".format(limit)))
    return escape_anki_markup(html)


def card_label(card: Any, limit: int = 60) -> str:
    """A card's first field as a short line of plain text, safe to show."""
    from ..outside import shown
    from .sanitize import html_to_text

    return shown(html_to_text(card.key_text()[: RAW_FACTOR * limit * 4]), limit)


def clean_json(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, strings, numbers) with every string cleaned of the
    characters no UTF-8 output can carry, for printing or writing it as JSON."""
    if isinstance(value, str):
        return clean_chars(value)
    if isinstance(value, dict):
        return {clean_chars(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    return value
