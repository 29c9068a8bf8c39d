"""Reading a source with its highlights (``Document.highlights``, a ``Highlights``):

    doc = read_with_highlights("paper.pdf", FigureMode.AUTO)

- a PDF is read as always (``sources.with_figures``), and its markup annotations beside it
  (``pdf.read_pdf_highlights``, bounded by the same time as the text's reading);
- a text file that is a highlights export (Kindle's ``My Clippings.txt``, a Readwise CSV or
  Markdown export, Zotero's annotations as Markdown, each recognised by its content) becomes a
  document of its highlights: a heading per book, a paragraph per highlight (its place as the
  paragraph's location), so that "ignore highlights" still makes cards of all of it;
- anything else is read as always, without highlights.

Reading the highlights never costs the document: a PDF whose annotations cannot be read is the
text alone, with a warning saying so."""
import os
from typing import List, Optional

from ..config import FigureMode
from ..errors import FlashcardError
from ..sources.document import HEADING, PARAGRAPH, Block, Document
from .highlight import Highlights

EXPORT_HEAD = 64 * 1024  # what is read of a text file to recognise an export


def export_kind(text: str) -> str:
    """"kindle", "readwise-csv", "readwise-md", "zotero" or "" for the start of a text file."""
    from . import kindle, readwise, zotero

    if kindle.looks_like(text):
        return "kindle"
    if readwise.looks_like_csv(text):
        return "readwise-csv"
    if zotero.looks_like(text):
        return "zotero"
    if readwise.looks_like_markdown(text):
        return "readwise-md"
    return ""


def read_export(text: str, kind: str, name: str) -> Highlights:
    from . import kindle, readwise, zotero

    if kind == "kindle":
        return kindle.read_clippings(text)
    if kind == "readwise-csv":
        return readwise.read_csv(text)
    if kind == "readwise-md":
        return readwise.read_markdown(text, name)
    return zotero.read_annotations(text, name)


def export_document(highlights: Highlights, name: str, path: str = "") -> Document:
    """The document of an export: a heading per book (with its author), a paragraph per
    highlight (its location and page on the block)."""
    blocks: List[Block] = []
    book: Optional[str] = None
    for h in highlights.items:
        if h.book != book:
            book = h.book
            if book:
                blocks.append(Block(HEADING, book + (f" ({h.author})" if h.author else ""), 1, h.location, h.page))
        blocks.append(Block(PARAGRAPH, h.text, 0, h.location, h.page))
    doc = Document(name, blocks, path=os.path.abspath(path) if path else "")
    doc.highlights = highlights
    doc.warnings.extend(highlights.warnings)
    return doc


def _head(path: str) -> bytes:
    """The first bytes of a file (b"" when it cannot be read: the readers say why)."""
    from ..sources.read import open_regular

    try:
        with open_regular(path) as f:
            return f.read(EXPORT_HEAD)
    except (OSError, FlashcardError):
        return b""


def _text_head(head: bytes) -> str:
    """The start of a file as text ("" when it is not text: a PDF, a ZIP, an image ...)."""
    from ..sources.read import is_pdf
    from ..sources.textfix import decode_bytes

    if not head or head.startswith((b"PK", b"\x89PNG", b"\xff\xd8", b"GIF8")) or is_pdf(head):
        return ""
    try:
        return decode_bytes(head)
    except Exception:  # binary: the readers say what it is
        return ""


def _read_export_file(path: str, kind: str) -> Document:
    from ..sources.bounded import call_with_deadline
    from ..sources.limits import current
    from ..sources.read import _timeout, display_name, open_regular, read_stream_bytes
    from ..sources.textfix import decode_bytes

    label = display_name(path)
    limits = current()

    def read() -> Document:
        with open_regular(path) as f:
            data = read_stream_bytes(f, label)
        highlights = read_export(decode_bytes(data), kind, os.path.splitext(label)[0])
        if not highlights.items:
            from ..errors import EmptySource

            raise EmptySource(f"'{label}' is a highlights export without a highlight.",
                              "Check that it is the right file (or export again).")
        return export_document(highlights, label, path)

    return call_with_deadline(read, limits.seconds, lambda: _timeout(label, limits.seconds))


def read_with_highlights(path: str, mode: FigureMode = FigureMode.AUTO) -> Document:
    """The document at ``path`` with its figures and its highlights (see the module's doc)."""
    from ..sources.with_figures import read_source_path

    path = os.fspath(path)
    head = _head(path)
    kind = export_kind(_text_head(head))
    if kind:
        return _read_export_file(path, kind)
    doc = read_source_path(path, mode)
    add_pdf_highlights(doc, path, head)
    return doc


def read_as_carded(path: str) -> Document:
    """The text of the document at ``path`` as cards are made from it, for whatever compares a
    file with what its cards were made from (an update, the record of a bulk job's files, a
    note's source): a highlights export as the document of its highlights (as
    ``read_with_highlights`` reads it), anything else as ``sources.read_path`` reads it. Its
    figures and a PDF's annotations are not read: they do not change its text."""
    from ..sources.read import read_path

    doc = read_export_path(path)
    return doc if doc is not None else read_path(path)


def read_export_path(path: str, head: bytes = b"") -> Optional[Document]:
    """The document of the highlights export at ``path`` (``head``: its first bytes when read
    already); None when the file is not one."""
    path = os.fspath(path)
    kind = export_kind(_text_head(head or _head(path)))
    return _read_export_file(path, kind) if kind else None


def read_bytes_with_highlights(data: bytes, label: str, mode: FigureMode = FigureMode.AUTO) -> Document:
    """``read_with_highlights`` for bytes (standard input)."""
    from ..sources.textfix import decode_bytes
    from ..sources.with_figures import read_source_bytes

    from ..sources.read import is_pdf

    if not data.startswith(b"PK") and not is_pdf(data):
        try:
            text = decode_bytes(data)
        except Exception:
            text = ""
        kind = export_kind(text[:EXPORT_HEAD]) if text else ""
        if kind:
            return export_document(read_export(text, kind, label), label)
    doc = read_source_bytes(data, label, mode)
    add_pdf_highlights(doc, data)
    return doc


def add_pdf_highlights(doc: Document, source: object, head: bytes = b"") -> None:
    """Set ``doc.highlights`` from the PDF at ``source`` (a path or bytes; ``head``: the path's
    first bytes when read already) when it has any; what could not be read becomes the
    document's warnings."""
    from ..sources.read import is_pdf

    if isinstance(source, bytes):
        head = source[:1024]
    elif isinstance(source, str) and not head:
        head = _head(source)
    if not is_pdf(head) or not doc.blocks:
        return
    try:
        found = _pdf_annotations(source, doc.name)
    except (FlashcardError, TimeoutError, OSError) as err:
        why = "it took too long" if isinstance(err, TimeoutError) else str(getattr(err, "message", err))
        doc.warnings.append(f"The highlights of '{doc.name}' could not be read ({why}); its text "
                            "is read as a whole.")
        return
    doc.warnings.extend(found.warnings)
    if found.items:
        doc.highlights = found


def _pdf_annotations(source: object, label: str) -> Highlights:
    """The highlights of the PDF at ``source`` (a path or bytes), bounded in time as a read
    (TimeoutError past it)."""
    from ..sources.bounded import call_with_deadline
    from ..sources.limits import current
    from .pdf import read_pdf_highlights

    limits = current()

    def read() -> Highlights:
        if isinstance(source, bytes):
            return read_pdf_highlights(source, label, limits)
        from ..sources.read import open_regular

        with open_regular(str(source)) as f:
            return read_pdf_highlights(f, label, limits)

    return call_with_deadline(read, limits.seconds, lambda: TimeoutError())


def read_if_highlighted(path: str) -> Optional[Document]:
    """The document at ``path`` with its highlights (without its figures) when it has any,
    else None, for files read one after another (a bulk job reads a file without highlights
    as usual). A PDF's annotations are read first, once, and its text only when it has some;
    a PDF whose annotations cannot be read is taken as one without."""
    from ..sources.read import display_name, is_pdf, read_path

    path = os.fspath(path)
    head = _head(path)
    export = read_export_path(path, head)
    if export is not None:
        return export
    try:
        if not is_pdf(head):
            return None
        found = _pdf_annotations(path, display_name(path))
    except (FlashcardError, TimeoutError, OSError):
        return None
    if not found.items:
        return None
    doc = read_path(path)
    if doc.blocks:
        doc.highlights = found
        doc.warnings.extend(found.warnings)
    return doc


def count_highlights(path: str) -> Highlights:
    """The highlights of a file without reading its text (for a list of files): an export's
    highlights, or a PDF's markup annotations with a place (their text left empty); an empty
    ``Highlights`` for other files and files that cannot be read."""
    from .pdf import count_pdf_highlights

    path = os.fspath(path)
    head = _head(path)
    kind = export_kind(_text_head(head))
    try:
        if kind:
            return _read_export_file(path, kind).highlights or Highlights("")
        from ..sources.read import display_name, is_pdf, open_regular

        if not is_pdf(head):
            return Highlights("")
        with open_regular(path) as f:
            return count_pdf_highlights(f, display_name(path))
    except (FlashcardError, OSError):
        return Highlights("")
