"""A document's labelled figures made into Image Occlusion notes.

    run = OcclusionRun(graphics, backend, options, cancel)   # graphics: images.figure.Graphics
    result = run.documents(documents, on_note)                # result.notes, result.messages

For a PDF: its pages are searched for labelled figures (``find``); for each, the model chooses
the labels to hide and writes the header (``choose``), the figure's area is rendered, and the
labels' boxes become masks (``masks``). Figures that are only pixels (image files, the images
inside DOCX and EPUB files, scanned pages) need a model that can see (``raster``); without one
the result says which sources they were and what would help.

Without a graphics adapter (the CLI without PyQt6) nothing can be rendered: the result says so.
"""
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Sequence, Union

from ..backends.base import Backend
from ..cards.card import SourceRef
from ..errors import Cancelled
from ..images.figure import Graphics, PageRenderer, SourceKind
from ..images.safety import ImageFormat, image_or_none
from ..outside import shown
from .choose import choose
from .find import SEARCH_SECONDS, LabelledFigure, find_figures
from .masks import masks_for
from .notes import OcclusionNote
from .raster import raster_notes

IMAGE_SIDE = 1280  # px, the long side of a figure's image on its note
NO_GRAPHICS = ("Image occlusion notes need PyQt6 with QtPdf to render the figures (Anki has it; "
               "on the command line, run python flashcards.py with PyQt6 installed).")

NoteCallback = Callable[[OcclusionNote], None]


@dataclass
class OcclusionResult:
    notes: List[OcclusionNote] = field(default_factory=list)
    messages: List[str] = field(default_factory=list)  # for the user, one line each
    figures: int = 0  # labelled figures found (some may give no note)
    pages: int = 0  # PDF pages searched
    cancelled: bool = False


def pdf_origin(doc: Any) -> Optional[Union[str, bytes]]:
    """The PDF a document was read from (its path, or its bytes when read from stdin)."""
    figset = getattr(doc, "figures", None)
    if figset is not None and figset.kind is SourceKind.PDF and figset.origin is not None:
        origin: Union[str, bytes] = figset.origin
        return origin
    path = getattr(doc, "path", "") or ""
    return path if path.lower().endswith(".pdf") else None


def has_raster_figures(doc: Any) -> bool:
    """Whether a document's figures are pixels only: an image file, a DOCX or EPUB with images,
    a PDF without text."""
    figset = getattr(doc, "figures", None)
    if figset is None:
        return False
    if figset.kind is SourceKind.IMAGE or figset.no_text is not None:
        return True
    if figset.kind in (SourceKind.DOCX, SourceKind.EPUB):
        from ..figures.plan import probe_figures

        return probe_figures(figset)
    return False


class OcclusionRun:
    """Makes the notes of one job; ``cancel`` stops it between figures."""

    def __init__(self, graphics: Optional[Graphics], backend: Optional[Backend], options: Any,
                 cancel: Optional[threading.Event] = None, seconds: float = SEARCH_SECONDS,
                 raster: bool = True) -> None:
        """``raster``: also the figures that are only pixels (sent to a model that can see);
        False beside cards of another kind, where only what the text layer gives is offered."""
        self.graphics = graphics
        self.raster = raster
        self.backend = backend
        self.options = options
        self.cancel = cancel or threading.Event()
        self.seconds = seconds

    def documents(self, documents: Sequence[Any], on_note: Optional[NoteCallback] = None) -> OcclusionResult:
        result = OcclusionResult()
        raster = []
        for doc in documents:
            if self.cancel.is_set():
                result.cancelled = True
                break
            origin = pdf_origin(doc)
            if origin is not None and not getattr(getattr(doc, "figures", None), "no_text", None):
                self.pdf(doc, origin, result, on_note)
            elif self.raster and has_raster_figures(doc):
                raster.append(doc)
        if raster and not result.cancelled:
            raster_notes(raster, self.graphics, self.backend, self.options, self.cancel, result, on_note)
        result.messages = list(dict.fromkeys(result.messages))
        return result

    def pdf(self, doc: Any, origin: Union[str, bytes], result: OcclusionResult,
            on_note: Optional[NoteCallback]) -> None:
        name = shown(getattr(doc, "name", "") or "document", 120)
        if self.graphics is None:
            result.messages.append(f"'{name}': {NO_GRAPHICS}")
            return
        try:
            renderer = self.graphics.open_pdf(origin)
        except Exception:
            renderer = None
        if renderer is None:
            result.messages.append(f"'{name}': its pages could not be rendered, so it gives no image "
                                   "occlusion notes.")
            return
        try:
            search = find_figures(renderer, name, seconds=self.seconds, origin=origin)
            result.pages += search.pages
            result.figures += len(search.figures)
            result.messages.extend(search.notes)
            for figure in search.figures:
                if self.cancel.is_set():
                    result.cancelled = True
                    return
                note = self.figure_note(renderer, figure, doc, result)
                if note is not None:
                    result.notes.append(note)
                    if on_note is not None:
                        on_note(note)
        finally:
            renderer.close()

    def figure_note(self, renderer: PageRenderer, figure: LabelledFigure, doc: Any,
                    result: OcclusionResult) -> Optional[OcclusionNote]:
        name = getattr(doc, "name", "") or "document"
        where = f"'{shown(name, 120)}', page {figure.page}"
        try:
            from ..job.run import base_request

            base = base_request(self.options) if self.backend is not None else None
            choice = choose(figure, self.backend, base, name, getattr(self.options, "language", ""),
                            self.cancel)
        except Cancelled:
            result.cancelled = True
            return None
        if not choice.worth or not choice.groups:
            result.messages.append(f"{where}: a labelled figure with no label worth hiding was left out.")
            return None
        area = figure.area
        encoded = renderer.render_area(figure.page - 1, (area.left, area.top, area.right, area.bottom),
                                       IMAGE_SIDE)
        if encoded is None:
            result.messages.append(f"{where}: a labelled figure could not be rendered.")
            return None
        data, fmt, width, height = encoded
        info, problem = image_or_none(data, where)
        if info is None:
            result.messages.append(f"{where}: {problem}")
            return None
        source = SourceRef(name, f"page {figure.page}", page=figure.page, path=getattr(doc, "path", "") or "")
        if choice.note:
            result.messages.append(f"{where}: {choice.note}")
        return OcclusionNote(data, ImageFormat(fmt) if fmt in ("png", "jpeg") else info.format, width, height,
                             masks_for(choice.groups, area, figure.page_width), choice.header, source,
                             [r.text for r in figure.labels], note=choice.note, area=area)
