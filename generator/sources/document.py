"""What a reader produces: a document as a flat list of structural blocks."""
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, List, Optional

if TYPE_CHECKING:
    from ..images.figure import FigureSet

HEADING = "heading"
PARAGRAPH = "paragraph"
LIST_ITEM = "list_item"


@dataclass
class Block:
    kind: str  # HEADING, PARAGRAPH or LIST_ITEM
    text: str  # plain text, whitespace-normalised within the block, no markup
    level: int = 0  # heading level 1..6 (0 for other blocks)
    location: str = ""  # e.g. "page 3", "chapter2.xhtml"; empty when the format has none
    page: int = 0  # the page it starts on (PDF, DOCX when Word saved its page breaks); 0 = unknown
    line: int = 0  # the line it starts on, from 1 (plain text and Markdown files); 0 = unknown


@dataclass
class Document:
    name: str  # file name shown to the user and used for the source tag
    blocks: List[Block] = field(default_factory=list)
    figures: Optional["FigureSet"] = None  # its figures, when read with them (with_figures.py)
    # what was not read, for the user (e.g. "page 7 was skipped: ..."); the rest is usable
    warnings: List[str] = field(default_factory=list)
    path: str = ""  # the file's absolute path when read from a file (the card's link to it)
    # what the reader marked (highlights.highlight.Highlights), when read with its highlights
    highlights: Any = None

    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)
