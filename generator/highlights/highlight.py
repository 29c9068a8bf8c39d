"""What a reader marked: a ``Highlight`` (its text, the reader's comment, its colour and its place)
and ``Highlights``, those of one source (a PDF's annotations, a Kindle ``My Clippings.txt``, a
Readwise or Zotero export), with what could not be read.

Everything here came from outside (a file): texts are bounded and cleaned when a reader makes
them (``clean_text``), colours are names from a fixed list."""
import colorsys
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..outside import neutralise

HIGHLIGHT_TAG = "ollama-flashcards::highlight"
BOOK_TAG = "ollama-flashcards::book::"

TEXT_CHARS = 4000  # a highlight's text (a few paragraphs at most; longer is cut)
COMMENT_CHARS = 1000
TITLE_CHARS = 200
MAX_HIGHLIGHTS = 20_000  # of one source: more are left out, and said

# Kinds of marks, as the sources name them.
HIGHLIGHT, UNDERLINE, SQUIGGLY, STRIKEOUT, NOTE = "highlight", "underline", "squiggly", "strikeout", "note"

# A Markdown heading of an export (Readwise's, Zotero's): its level's hashes and its text.
MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")

# Colour names a reader picks from (the apps' palettes: Acrobat, Preview, Zotero, Kindle, Readwise).
COLOURS: Tuple[str, ...] = ("yellow", "orange", "red", "pink", "purple", "blue", "green", "gray")
NO_COLOUR = ""

PDF_SOURCE, KINDLE_SOURCE, READWISE_SOURCE, ZOTERO_SOURCE = "pdf", "kindle", "readwise", "zotero"

_SPACE = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def clean_text(value: object, limit: int) -> str:
    """Outside text as one plain line of at most ``limit`` characters (whitespace folded,
    control and direction characters dropped; a cut ends in "…")."""
    if not isinstance(value, str):
        return ""
    text = _CONTROL.sub("", neutralise(value[: limit * 4 + 64]))
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def colour_name(rgb: Sequence[float]) -> str:
    """The name of a colour given as 1 (gray), 3 (RGB) or 4 (CMYK) numbers from 0 to 1; ""
    for anything else."""
    try:
        values = [float(v) for v in rgb]
    except (TypeError, ValueError):
        return NO_COLOUR
    if any(not (0.0 <= v <= 1.0) for v in values):  # also NaN
        return NO_COLOUR
    if len(values) == 1:
        return "gray"
    if len(values) == 4:
        c, m, y, k = values
        values = [(1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)]
    if len(values) != 3:
        return NO_COLOUR
    h, s, v = colorsys.rgb_to_hsv(*values)
    if s < 0.2 or v < 0.2:
        return "gray"
    deg = h * 360
    if deg < 15 or deg >= 345:
        return "red" if s > 0.55 and v < 0.95 or s > 0.8 else "pink"
    if deg < 40:
        return "orange"
    if deg < 70:
        return "yellow"
    if deg < 170:
        return "green"
    if deg < 260:
        return "blue"
    if deg < 300:
        return "purple"
    return "pink"


def colour_of_word(word: str) -> str:
    """A colour named in an export ("yellow", "Gelb", "#ffd400", "rgb(...)"): one of COLOURS, or ""."""
    w = word.strip().lower()
    if not w:
        return NO_COLOUR
    if w in COLOURS:
        return w
    names = {"grey": "gray", "gelb": "yellow", "grün": "green", "gruen": "green", "blau": "blue",
             "rot": "red", "rosa": "pink", "lila": "purple", "violett": "purple", "violet": "purple",
             "magenta": "pink", "orange": "orange", "grau": "gray", "jaune": "yellow", "vert": "green",
             "bleu": "blue", "rouge": "red", "rose": "pink", "amarillo": "yellow", "verde": "green",
             "azul": "blue", "rojo": "red"}
    if w in names:
        return names[w]
    m = re.fullmatch(r"#?([0-9a-f]{6})", w)
    if m:
        hexed = m.group(1)
        return colour_name([int(hexed[i:i + 2], 16) / 255 for i in (0, 2, 4)])
    return NO_COLOUR


@dataclass
class Highlight:
    text: str  # what was marked, plain (for a note without a highlight: the note)
    kind: str = HIGHLIGHT
    comment: str = ""  # the reader's own words about it
    colour: str = NO_COLOUR  # one of COLOURS, or "" when the source gives none
    page: int = 0  # from 1; 0 = not known
    location: str = ""  # the source's own place ("loc. 180–182"), "" when a page says it
    book: str = ""  # its book's title (clippings and exports; "" for a PDF's own)
    author: str = ""
    added: str = ""  # when, as the source wrote it
    order: int = 0  # its place in reading order within the source

    @property
    def key(self) -> str:
        """8 hex digits naming the highlight within its source: its book and its text (the same
        highlight read again later has the same key, wherever it moved in the file)."""
        text = unicodedata.normalize("NFKC", self.book + "\x1f" + self.text).casefold()
        return hashlib.blake2b(_SPACE.sub(" ", text).strip().encode("utf-8", "surrogatepass"),
                               digest_size=4).hexdigest()

    def place(self) -> str:
        """Where it is, as a card's source line says it: "p. 12", "loc. 180–182", both, or ""."""
        parts = [f"p. {self.page}"] if self.page else []
        if self.location:
            parts.append(self.location)
        return " · ".join(parts)


@dataclass
class Highlights:
    source: str  # PDF_SOURCE, KINDLE_SOURCE, READWISE_SOURCE or ZOTERO_SOURCE
    items: List[Highlight] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)  # what was left out, for the user

    def __len__(self) -> int:
        return len(self.items)

    def colours(self) -> Dict[str, int]:
        """How many highlights of each colour ("" for those without one), in COLOURS order."""
        counts: Dict[str, int] = {}
        for h in self.items:
            counts[h.colour] = counts.get(h.colour, 0) + 1
        order = {c: i for i, c in enumerate(COLOURS)}
        return dict(sorted(counts.items(), key=lambda kv: order.get(kv[0], len(order))))

    def chosen(self, colours: Optional[Iterable[str]] = None) -> List[Highlight]:
        """The highlights of the ``colours`` chosen (None or empty: all). A highlight without
        a colour is always chosen: the reader could not have told it apart."""
        wanted = {c.strip().lower() for c in colours or () if c.strip()}
        if not wanted:
            return list(self.items)
        wanted = {colour_of_word(c) or c for c in wanted}
        return [h for h in self.items if not h.colour or h.colour in wanted]


def dedupe(items: List[Highlight]) -> List[Highlight]:
    """The highlights without repeats: the same text twice in one book, or (a reader who
    extended a highlight writes it anew) one that the next of the same book contains."""
    out: List[Highlight] = []
    seen: Dict[Tuple[str, str], int] = {}
    for h in items:
        norm = _words(h.text)
        if not norm:
            continue
        key = (h.book, norm)
        if key in seen:
            kept = out[seen[key]]
            if h.comment and h.comment not in kept.comment:
                kept.comment = (kept.comment + " " + h.comment).strip()[:COMMENT_CHARS]
            continue
        if out and out[-1].book == h.book and h.kind == out[-1].kind:
            prev = _words(out[-1].text)
            if prev and prev in norm and (out[-1].location == h.location or _near(out[-1], h)):
                out[-1] = _merged(h, out[-1])
                seen[key] = len(out) - 1
                continue
        seen[key] = len(out)
        out.append(h)
    return out


_WORDS = re.compile(r"[^\W_]+")


def _words(text: str) -> str:
    """The text's words only, casefolded (punctuation and spacing do not make a new highlight)."""
    return " ".join(_WORDS.findall(text.casefold()))


def _near(a: Highlight, b: Highlight) -> bool:
    return bool(a.page and a.page == b.page) or bool(a.location and b.location and
                                                     a.location.split("–")[0] == b.location.split("–")[0])


def _merged(longer: Highlight, shorter: Highlight) -> Highlight:
    if shorter.comment and shorter.comment not in longer.comment:
        longer.comment = (shorter.comment + " " + longer.comment).strip()[:COMMENT_CHARS]
    return longer
