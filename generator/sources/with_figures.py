"""Reading a source with its figures (``Document.figures``): ``sources.read_path`` and
``read_bytes`` for the text, plus what only a model that can see can use.

    doc = read_source_path("slides.pdf", FigureMode.AUTO)   # doc.figures: a FigureSet

An image file (.png .jpg .jpeg .webp .gif) is a document of one figure; a PDF without a text
layer is kept as a document of pages (unless figures are off); SVG is refused."""
import os
from typing import Optional, Union

from ..config import FigureMode
from .document import Document
from ..errors import FlashcardError, NoTextLayer, UnsupportedSource
from ..images.figure import Figure, FigureSet, SourceKind
from ..images.safety import (
    IMAGE_EXTENSIONS,
    MAX_IMAGE_BYTES,
    ImageRejected,
    check_image,
    looks_like_svg,
    sniff,
)
from ..outside import shown


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

    from .read import open_regular

    try:
        src = io.BytesIO(document_source) if isinstance(document_source, bytes) \
            else open_regular(document_source)
        with src, zipfile.ZipFile(src) as zf:
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
    from .read import read_bytes

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
    from .read import display_name, open_regular, read_path

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
        doc = _image_document(data, label, mode)
        doc.path = os.path.abspath(path)
        return doc
    kind = _kind_of(head, label) if head else None
    if kind is SourceKind.PDF and mode is not FigureMode.OFF:
        try:
            doc = read_path(path)
        except NoTextLayer as err:
            doc = Document(label, [], path=os.path.abspath(path))
            doc.figures = FigureSet(SourceKind.PDF, path, no_text=err)
            return doc
    else:
        doc = read_path(path)
    if kind is not None and head.startswith(b"PK"):
        kind = _zip_kind(path)
    if kind is not None and mode is not FigureMode.OFF:
        doc.figures = FigureSet(kind, path, base_dir=os.path.dirname(os.path.abspath(path)))
    return doc


def figure_set_for_path(path: str) -> Optional[FigureSet]:
    """An unread ``FigureSet`` for a file that can hold figures (by its first bytes and name),
    e.g. to ask ``figures.plan.probe_figures`` before a bulk job; None for other files."""
    from .read import display_name, open_regular

    label = display_name(path)
    try:
        with open_regular(path) as f:
            head = f.read(4096)
    except (OSError, FlashcardError):
        return None
    kind = _kind_of(head, label) if head else None
    if kind is None:
        return None
    if head.startswith(b"PK"):
        kind = _zip_kind(path)
        if kind is None:
            return None
    if kind is SourceKind.IMAGE:
        return FigureSet(SourceKind.IMAGE, path, loaded=True)
    return FigureSet(kind, path, base_dir=os.path.dirname(os.path.abspath(path)))
