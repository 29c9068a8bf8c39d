"""Cards as the engine passes them around: kind-independent, before they become notes."""
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Dict, List, Optional, Tuple

from ..config import CardKind

BASIC = CardKind.BASIC
REVERSED = CardKind.REVERSED
CLOZE = CardKind.CLOZE
KINDS: Tuple[str, ...] = tuple(CardKind)


@dataclass
class SourceRef:
    document: str  # file name (or "pasted text", "selection", ...)
    location: str = ""  # page/section as the reader knew it
    heading_path: Tuple[str, ...] = ()
    page: int = 0  # the page the card's sentence is on (PDF, DOCX); 0 = not known
    line: int = 0  # the line it starts on in a text or Markdown file; 0 = not known
    path: str = ""  # the file's absolute path, when it was read from a file

    def place(self) -> str:
        """Where in the document: "p. 12", "line 40", or the reader's own location (an EPUB
        chapter); "" when nothing is known."""
        if self.page:
            return f"p. {self.page}"
        if self.line and self.path:  # a line of pasted text or a note means nothing to look up
            return f"line {self.line}"
        return self.location

    def label(self) -> str:
        """The source line of a card: "lecture3.pdf · p. 12 · Glycolysis"."""
        parts = [self.document, self.place()]
        if self.location and self.location != parts[1] and not self.location.startswith("page "):
            if not self.heading_path or self.location != self.heading_path[0]:
                parts.append(self.location)  # an EPUB chapter beside a page is still news
        if self.heading_path:
            parts.append(" › ".join(self.heading_path))
        seen = []
        for p in parts:
            if p and p not in seen:
                seen.append(p)
        return " · ".join(seen)

    def link(self) -> str:
        """A link that opens the document at this place, where the viewer can: a ``file:`` URL
        of the file, with ``#page=N`` for a PDF (browsers' PDF viewers and most others go to
        the page); "" when the card was not made from a file. Built only from the path the
        add-on read (see ``sanitize.is_source_link`` for the one form allowed)."""
        from .sanitize import source_link

        return source_link(self.path, self.page) if self.path else ""


@dataclass
class SimilarNote:
    """The collection's note nearest in meaning to a new card (duplicates by meaning)."""

    note_id: int
    front: str  # its question, as plain text (shortened)
    score: float  # cosine similarity of the two questions' embeddings


@dataclass
class Card:
    """One generated card. ``front``/``back`` for basic and reversed, ``text``/``extra`` for cloze.
    All text fields are sanitized HTML by the time a Card leaves the validator."""

    kind: str
    front: str = ""
    back: str = ""
    text: str = ""
    extra: str = ""
    quote: str = ""  # the text it rests on: its cited sentence(s) (or a quote the model copied)
    grounded: bool = True
    source: SourceRef = field(default_factory=lambda: SourceRef(""))
    chunk_id: str = ""
    duplicate: Optional[str] = None  # None, "batch", "collection" or "near"
    tags: List[str] = field(default_factory=list)
    topic: str = ""  # the chosen topic the card belongs to (topics first), "" when none
    figure: str = ""  # media file name of the figure the card shows (vision.attach_figures)
    sentences: List[int] = field(default_factory=list)  # the numbered sentences it cites (job/sentences.py)
    # (check, reason) pairs from generator/checks.py; see checks.is_flagged.
    flags: List[Tuple[str, str]] = field(default_factory=list)
    # The card the rewrite pass replaced (its fields and "reasons"); empty = not rewritten.
    original: Dict[str, str] = field(default_factory=dict)
    similar_to: Optional[SimilarNote] = None  # a note that asks the same in other words
    # What the user should know about this card (a field that was cut, ...); shown, never stored.
    warnings: List[str] = field(default_factory=list)
    # A figure's Image Occlusion note (generator/occlusion/notes.OcclusionNote) shown as a card
    # in review: kind "occlusion", front its header, back the labels it hides.
    occlusion: Optional[Any] = field(default=None, compare=False, repr=False)

    @property
    def rewritten(self) -> bool:
        return bool(self.original)

    def key_text(self) -> str:
        """The text that identifies the card (Anki's duplicate check uses the first field)."""
        return self.text if self.kind == CLOZE else self.front

    def to_json(self) -> Dict[str, Any]:
        """The card as JSON-ready data, every string fit for UTF-8 output."""
        from .fields import clean_json

        occlusion = self.occlusion
        d = asdict(replace(self, occlusion=None))
        d.pop("occlusion", None)
        if occlusion is not None:
            d["occlusion"] = occlusion.to_json()
        d["source"] = {
            "document": self.source.document,
            "location": self.source.location,
            "heading_path": list(self.source.heading_path),
            "page": self.source.page,
            "line": self.source.line,
            "label": self.source.label(),
            "link": self.source.link(),
        }
        d["flags"] = [{"check": check, "reason": reason} for check, reason in self.flags]
        d["rewritten"] = self.rewritten
        return clean_json(d)
