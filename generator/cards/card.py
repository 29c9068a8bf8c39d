"""Cards as the engine passes them around: kind-independent, before they become notes."""
from dataclasses import asdict, dataclass, field
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

    def label(self) -> str:
        parts = [self.document]
        if self.heading_path:
            parts.append(" › ".join(self.heading_path))
        if self.location:
            parts.append(self.location)
        return " · ".join(p for p in parts if p)


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
    quote: str = ""
    grounded: bool = True
    source: SourceRef = field(default_factory=lambda: SourceRef(""))
    chunk_id: str = ""
    duplicate: Optional[str] = None  # None, "batch", "collection" or "near"
    tags: List[str] = field(default_factory=list)
    topic: str = ""  # the chosen topic the card belongs to (topics first), "" when none
    figure: str = ""  # media file name of the picture the card shows (vision.attach_figures)
    # (check, reason) pairs from generator/checks.py; see checks.is_flagged.
    flags: List[Tuple[str, str]] = field(default_factory=list)
    # The card the rewrite pass replaced (its fields and "reasons"); empty = not rewritten.
    original: Dict[str, str] = field(default_factory=dict)
    similar_to: Optional[SimilarNote] = None  # a note that asks the same in other words
    # What the user should know about this card (a field that was cut, ...); shown, never stored.
    warnings: List[str] = field(default_factory=list)

    @property
    def rewritten(self) -> bool:
        return bool(self.original)

    def key_text(self) -> str:
        """The text that identifies the card (Anki's duplicate check uses the first field)."""
        return self.text if self.kind == CLOZE else self.front

    def to_json(self) -> Dict[str, Any]:
        """The card as JSON-ready data, every string fit for UTF-8 output."""
        from .fields import clean_json

        d = asdict(self)
        d["source"] = {
            "document": self.source.document,
            "location": self.source.location,
            "heading_path": list(self.source.heading_path),
            "label": self.source.label(),
        }
        d["flags"] = [{"check": check, "reason": reason} for check, reason in self.flags]
        d["rewritten"] = self.rewritten
        return clean_json(d)
