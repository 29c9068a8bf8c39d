"""Figures: the pictures of a source (image files, images in PDF/DOCX/EPUB/HTML, rendered PDF
pages) and the adapter through which the engine renders and resizes them without importing Qt.

    doc = read_source_path("slides.pdf", FigureMode.AUTO)   # a Document; doc.figures: FigureSet
    graphics = qt_graphics()                                  # the Qt adapter, or None (no PyQt6)

A ``FigureSet`` is filled lazily (``sources.pictures.load_figures``), only when a job will
send images: reading a PDF for its pictures costs a second pass over its pages.
"""
import importlib
import os
import sys
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, List, Optional, Protocol, Tuple, Union

from .config import FigureMode
from .documents import Document
from .errors import FlashcardError, NoTextLayer, SourceError, UnsupportedSource
from .images import (
    IMAGE_EXTENSIONS,
    MAX_IMAGE_BYTES,
    ImageInfo,
    ImageRejected,
    check_image,
    looks_like_svg,
    sniff,
)
from .outside import shown


# An encoded picture as the adapter hands it back: (bytes, "png" | "jpeg", width, height).
Encoded = Tuple[bytes, str, int, int]


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
    """One picture of a document, checked (``images.check_image``) but never decoded."""

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

    def close(self) -> None:
        ...


class Graphics(Protocol):
    """What the engine needs from a graphics library (Qt in the add-on and the CLI)."""

    def open_pdf(self, source: Union[str, bytes]) -> Optional[PageRenderer]:
        ...

    def resize(self, data: bytes, max_side: int) -> Optional[Encoded]:
        """The image decoded, scaled down to at most ``max_side`` px on the long side (never
        up) and encoded again as PNG or JPEG; None if it cannot be decoded."""
        ...


def qt_graphics() -> Optional[Graphics]:
    """The Qt adapter (``ui/pdf_render.py``, which imports only PyQt6) when PyQt6 can be
    imported, else None. For the CLI; inside Anki the dialogs pass the same adapter in."""
    try:
        graphics: Graphics = _pdf_render_module().QtGraphics()
    except Exception:  # no PyQt6, no QtPdf, or no ui package next to the engine
        return None
    return graphics


def _pdf_render_module() -> Any:
    """``ui/pdf_render.py`` beside this engine: as ``<add-on>.ui.pdf_render`` inside Anki; run as
    the top-level package ``generator`` (the CLI), loaded from its file, so that no other
    module called ``ui`` on sys.path can stand in for it."""
    parent = (__package__ or "").rpartition(".")[0]
    if parent:
        return importlib.import_module(parent + ".ui.pdf_render")
    name = "_ollama_flashcards_pdf_render"
    module = sys.modules.get(name)
    if module is None:
        import importlib.util

        path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ui",
                            "pdf_render.py")
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return module


# --- reading a source with its figures ----------------------------------------------------------

def _kind_of(head: bytes, label: str) -> Optional[SourceKind]:
    if head.startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return SourceKind.PDF
    if head.startswith(b"PK\x03\x04"):
        ext = os.path.splitext(label)[1].lower()
        return {".docx": SourceKind.DOCX, ".epub": SourceKind.EPUB}.get(ext)
    if sniff(head) is not None:
        return SourceKind.IMAGE
    low = label.lower()
    if low.endswith((".html", ".htm", ".xhtml")):
        return SourceKind.HTML
    return None


def _zip_kind(document_source: Union[str, bytes]) -> Optional[SourceKind]:
    import io
    import zipfile

    try:
        src = io.BytesIO(document_source) if isinstance(document_source, bytes) else document_source
        with zipfile.ZipFile(src) as zf:
            names = set(zf.namelist())
    except Exception:
        return None
    if "META-INF/container.xml" in names:
        return SourceKind.EPUB
    if any(n.startswith("word/") for n in names):
        return SourceKind.DOCX
    return None


def _svg_refused(label: str) -> ImageRejected:
    return ImageRejected(
        f"'{shown(label, 120)}' is an SVG drawing. SVG is never read or sent: it is a document "
        "that can load other files and run scripts.",
        "Export or screenshot it as PNG, then use the PNG.",
    )


def _image_document(data: bytes, label: str, mode: FigureMode) -> Document:
    info = check_image(data, label)
    if mode is FigureMode.OFF:
        raise UnsupportedSource(
            f"'{shown(label, 120)}' is an image, and figures are switched off.",
            "Switch figures on (--figures auto, or 'figures' in the settings) and choose a model "
            "that can see (its capabilities include 'vision').",
        )
    figures = FigureSet(SourceKind.IMAGE, None, figures=[Figure(data, info, caption="")], loaded=True)
    return Document(label, [], figures=figures)


def read_source_bytes(data: bytes, label: str, mode: FigureMode = FigureMode.AUTO) -> Document:
    """``sources.read_bytes`` with figures: an image is a document of one figure; a PDF without
    text layer is kept (as a document of pages) unless figures are off."""
    from .sources import read_bytes

    head = data[:4096]
    if sniff(head) is not None:
        return _image_document(data, label, mode)
    if looks_like_svg(head) or label.lower().endswith((".svg", ".svgz")):
        raise _svg_refused(label)
    kind = _kind_of(head, label)
    if kind is SourceKind.PDF and mode is not FigureMode.OFF:
        try:
            doc = read_bytes(data, label)
        except NoTextLayer as err:
            doc = Document(label, [])
            doc.figures = FigureSet(SourceKind.PDF, data, no_text=err)
            return doc
    else:
        doc = read_bytes(data, label)
    if kind is not None and head.startswith(b"PK"):
        kind = _zip_kind(data)
    if kind is not None and mode is not FigureMode.OFF:
        doc.figures = FigureSet(kind, data)
    return doc


def read_source_path(path: str, mode: FigureMode = FigureMode.AUTO) -> Document:
    """``sources.read_path`` with figures (see ``read_source_bytes``); image files (.png .jpg
    .jpeg .webp .gif) are sources too, SVG is refused."""
    from .sources import display_name, open_regular, read_path

    path = os.fspath(path)
    label = display_name(path)
    ext = os.path.splitext(label)[1].lower()
    head = b""
    try:
        with open_regular(path) as f:  # a FIFO or device would block open()
            head = f.read(4096)
    except (OSError, FlashcardError):
        pass  # read_path gives the right message (not found, a folder, a FIFO, permission ...)
    if ext in (".svg", ".svgz") or (head and looks_like_svg(head) and ext not in (".html", ".htm", ".xhtml")):
        raise _svg_refused(label)
    if head and (sniff(head) is not None or ext in IMAGE_EXTENSIONS):
        try:
            with open_regular(path) as f:
                data = f.read(MAX_IMAGE_BYTES + 1)  # check_image refuses more, by its size
        except (OSError, FlashcardError):
            return read_path(path)  # the readers' messages for files that cannot be read
        return _image_document(data, label, mode)
    kind = _kind_of(head, label) if head else None
    if kind is SourceKind.PDF and mode is not FigureMode.OFF:
        try:
            doc = read_path(path)
        except NoTextLayer as err:
            doc = Document(label, [])
            doc.figures = FigureSet(SourceKind.PDF, path, no_text=err)
            return doc
    else:
        doc = read_path(path)
    if kind is not None and head.startswith(b"PK"):
        kind = _zip_kind(path)
    if kind is not None and mode is not FigureMode.OFF:
        doc.figures = FigureSet(kind, path, base_dir=os.path.dirname(os.path.abspath(path)))
    return doc
