"""Figures: the figures of a source (image files, those inside PDF/DOCX/EPUB/HTML, rendered PDF
pages) as data, and the adapter through which the engine renders and resizes them without
importing Qt: the caller that composes the parts hands it in (the dialogs, and
``flashcards.py``, the command line beside generator/).

Sources are read with their figures by ``sources.with_figures`` (``Document.figures`` is a
``FigureSet``). A ``FigureSet`` is filled lazily (``sources.figures.load_figures``), only when
a job will send images: reading a PDF for its figures costs a second pass over its pages.
"""
from dataclasses import dataclass, field
from enum import Enum
from typing import List, Optional, Protocol, Tuple, Union

from ..config import FigureMode
from ..errors import SourceError
from .safety import ImageInfo


# An encoded image as the adapter hands it back: (bytes, "png" | "jpeg", width, height).
Encoded = Tuple[bytes, str, int, int]
# A run of text on a page as the adapter reads it from the text layer: (text, left, top, right,
# bottom) in points, the page as it is shown (rotation and crop box applied, origin top left).
TextRun = Tuple[str, float, float, float, float]
# A page drawn small in 8-bit grey: (width, height, one byte a pixel, rows packed).
Gray = Tuple[int, int, bytes]
# An area of a page as shown, in points: (left, top, right, bottom).
Area = Tuple[float, float, float, float]


def figure_mode(value: object) -> FigureMode:
    """The mode for a setting or option value; anything unknown is "auto"."""
    try:
        return FigureMode.parse(value)
    except ValueError:
        return FigureMode.AUTO


class SourceKind(Enum):
    PDF = "pdf"
    DOCX = "docx"
    EPUB = "epub"
    HTML = "html"
    IMAGE = "image"


@dataclass
class Figure:
    """One figure of a document, checked (``images.check_image``) but never decoded."""

    data: bytes
    info: ImageInfo
    location: str = ""  # "page 4" in a PDF; "" where the document has no pages
    page: int = 0  # 1-based PDF page, 0 otherwise
    caption: str = ""  # alt text or the like, shortened
    anchor: str = ""  # the text just before it, to find the chunk it belongs to


@dataclass
class PageStats:
    """What one PDF page holds, from its content stream (no rendering)."""

    number: int  # 1-based
    width: float = 612.0  # points
    height: float = 792.0
    image_area: float = 0.0  # share of the page covered by images, 0..1
    drawings: int = 0  # painted vector paths (diagrams, charts)
    largest_image: int = 0  # the most pixels one image on the page declares
    chars: int = 0  # characters of text on the page (from the text reader's blocks)


@dataclass
class FigureSet:
    kind: SourceKind
    origin: Union[str, bytes, None] = None  # the file (path or bytes) the figures come from
    base_dir: str = ""  # HTML files: the only folder local images may come from
    no_text: Optional[SourceError] = None  # a PDF without text layer: the reader's error
    figures: List[Figure] = field(default_factory=list)
    pages: List[PageStats] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)  # images skipped, and why (one line each)
    loaded: bool = False


class PageRenderer(Protocol):
    """One open PDF, rendered page by page. Implementations bound the size they render to
    (``max_side`` pixels on the long side) and may be called from worker threads."""

    def page_count(self) -> int:
        ...

    def render(self, index: int, max_side: int) -> Optional[Encoded]:
        """Page ``index`` (0-based) on white, the long side at most ``max_side`` px; None if
        the page cannot be rendered."""
        ...

    def page_size(self, index: int) -> Optional[Tuple[float, float]]:
        """Page ``index`` as shown (rotation and crop box applied), in points; None if there is
        no such page."""
        ...

    def text_runs(self, index: int, max_chars: int) -> Optional[List[TextRun]]:
        """The page's text layer as runs of text with their boxes (a run: the words of one line
        that stand together, so two labels on one line are two runs), in reading order, from at
        most ``max_chars`` characters of it; None if the text layer cannot be read."""
        ...

    def text_turned(self) -> bool:
        """True when ``text_runs`` gives boxes on the page as shown. False for readers that
        give them in the page's own coordinates with y measured down from the shown page's
        height, whatever its /Rotate and crop box (QtPdf before Qt 6.8 or so): the caller turns
        them with the page's /Rotate and crop box."""
        ...

    def gray(self, index: int, max_side: int) -> Optional[Gray]:
        """The page drawn in grey on white, its long side ``max_side`` px, for finding where
        its drawings and images are; None if it cannot be rendered."""
        ...

    def render_area(self, index: int, area: Area, max_side: int) -> Optional[Encoded]:
        """An area of the page (points, as shown) on white, its long side at most ``max_side``
        px (scaled up at most ``AREA_MAX_SCALE`` times); None if it cannot be rendered."""
        ...

    def close(self) -> None:
        ...


AREA_MAX_SCALE = 4.0  # an area is rendered at most at 288 dpi, however small it is


class Graphics(Protocol):
    """What the engine needs from a graphics library (Qt in the add-on and the CLI)."""

    def open_pdf(self, source: Union[str, bytes]) -> Optional[PageRenderer]:
        ...

    def resize(self, data: bytes, max_side: int) -> Optional[Encoded]:
        """The image decoded, scaled down to at most ``max_side`` px on the long side (never
        up) and encoded again as PNG or JPEG; None if it cannot be decoded."""
        ...
