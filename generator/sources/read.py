"""Document readers: files, bytes, pasted text and HTML become a ``Document`` of blocks.

Public API:
    read_path(path, max_bytes)   any supported file (dispatch by extension and content)
    read_bytes(data, name)       bytes of unknown type (uploads)
    read_stream_bytes(f, name)   the bytes of a stream (stdin), within the size and time limits
    read_text(text, name)        pasted text / editor selection (Markdown detected)
    read_html(html, name)        an HTML page or fragment (also Anki note fields)
    iter_blocks_path(path)       blocks of a file, streaming for plain text / Markdown
    display_name(path)           the name a file's document (and its messages) carry
    open_regular(path)           open a regular file for reading (never blocks on a FIFO)
    SUPPORTED_EXTENSIONS         for file dialogs

Every failure on bad input is a SourceError subclass with a message naming the input and a
hint saying what to do; nothing heavy (pypdf, ftfy, bs4) is imported before it is needed.

Files come from outside, so reading is bounded (``limits.py``, configurable): only regular files
are opened (a FIFO, socket or device would block ``open()`` or never end), their size is capped,
and reading one file has a time bound (``bounded.py``): past it the file fails with a
SourceTimeout and the caller goes on. A document without a visible letter or digit is empty.
"""
import io
import os
import re
import stat
from typing import BinaryIO, Callable, Iterator, List, Optional, TypeVar

from .document import Block, Document
from ..errors import (
    BinarySource,
    EmptySource,
    EncryptedSource,
    FlashcardError,
    PartlyRead,
    SourceTimeout,
    SourceTooLarge,
    UnreadableSource,
    UnsupportedSource,
)
from ..outside import shown
from . import limits as _limits
from .bounded import call_with_deadline, iter_with_deadline

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "display_name",
    "open_regular",
    "iter_blocks_path",
    "read_bytes",
    "read_html",
    "read_path",
    "read_stream_bytes",
    "read_text",
]

SUPPORTED_EXTENSIONS = (
    ".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".pdf", ".docx", ".epub",
)
TEXT_EXTENSIONS = (".txt", ".text")
MARKDOWN_EXTENSIONS = (".md", ".markdown")
HTML_EXTENSIONS = (".html", ".htm", ".xhtml")

DEFAULT_MAX_BYTES = _limits.ReadLimits().max_bytes
MAX_HTML_BYTES = _limits.HTML_BYTES
_DEFAULT = -1  # max_bytes not given: the configured limit
STREAM_READ = 1024 * 1024
MAX_LINE_CHARS = 1024 * 1024  # a "line" longer than this is cut at a space

_SUPPORTED_TEXT = "text (.txt), Markdown (.md), HTML, PDF, Word (.docx) and EPUB"
_EMPTY_HINT = "Choose a file (or paste text) that contains the material to learn."
_DAMAGED_HINT = ("The file may be damaged or in an unexpected format. Open it in its application "
                 "and save or export it again (PDF, .docx or .txt), then try again.")

T = TypeVar("T")


# --- helpers -------------------------------------------------------------------------------

def display_name(path: str) -> str:
    """A file's name as documents and messages show it: its base name, with control characters
    and terminal escape sequences neutralised (file names come from outside too)."""
    path = os.fspath(path)
    return shown(os.path.basename(os.path.normpath(path)) or path)


_label = display_name


def _guard(label: str, fn: Callable[[], T]) -> T:
    """Run a reader; anything unexpected becomes an UnreadableSource, never a traceback."""
    try:
        return fn()
    except FlashcardError:
        raise
    except MemoryError:
        raise SourceTooLarge(
            f"'{label}' is too large to read with the memory available.",
            "Split it into smaller files, or convert it to plain text (.txt), which is read as a stream.",
        ) from None
    except RecursionError:
        raise UnreadableSource(
            f"'{label}' is nested too deeply to read.", _DAMAGED_HINT
        ) from None
    except Exception as err:
        raise UnreadableSource(
            f"'{label}' could not be read: {type(err).__name__}: {shown(err)}", _DAMAGED_HINT
        ) from None


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n < 10 * 1024 * 1024 else f"{n // (1024 * 1024)} MB"


def _not_found(path: str) -> UnreadableSource:
    return UnreadableSource(
        f"File not found: '{shown(path)}'.", "Check the file name and folder, then choose the file again."
    )


def _denied(label: str) -> UnreadableSource:
    return UnreadableSource(
        f"Permission denied: '{label}' cannot be read.",
        "Check the file's permissions, or copy it to a folder you can read, then try again.",
    )


def _not_regular(label: str, mode: int) -> UnreadableSource:
    """A FIFO, socket or device: open() or read() on it could wait forever, or never end."""
    if stat.S_ISFIFO(mode):
        what = "a named pipe (FIFO)"
    elif stat.S_ISSOCK(mode):
        what = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device"
    else:
        what = "a special file"
    return UnreadableSource(
        f"'{label}' is {what}, not a regular file, so it is not read "
        "(reading it could wait forever or never end).",
        "Choose a regular file. To read from a pipe, give '-' as the source and send the text "
        "to standard input.",
    )


def _stat_regular(path: str, label: str) -> os.stat_result:
    """os.stat of a regular file (links resolved); typed errors for everything else."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _not_found(path) from None
    except PermissionError:
        raise _denied(label) from None
    except (OSError, ValueError) as err:
        raise UnreadableSource(
            f"'{label}' cannot be opened: {shown(getattr(err, 'strerror', None) or err)}.",
            "Check the path, then choose the file again.",
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise UnreadableSource(f"'{label}' is a folder, not a file.", "Choose a file inside it.")
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(label, st.st_mode)
    return st


def _check_file(path: str, label: str, max_bytes: Optional[int]) -> int:
    """Size of a readable, non-empty regular file within ``max_bytes``; typed errors else."""
    size = _stat_regular(path, label).st_size
    if max_bytes is not None and size > max_bytes:
        raise SourceTooLarge(
            f"'{label}' is {_mb(size)}; files up to {_mb(max_bytes)} are accepted.",
            "Split it into smaller files, or keep only the chapters you want cards for.",
        )
    if size == 0:
        raise EmptySource(f"'{label}' is empty.", _EMPTY_HINT)
    return size


_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


def _open(path: str, label: str) -> BinaryIO:
    """The file opened for reading, if it is a regular file. Non-blocking, so a file swapped for
    a FIFO after ``_check_file`` cannot block here; then checked again on the open handle."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise _not_found(path) from None
    except PermissionError:
        raise _denied(label) from None
    except OSError as err:
        raise UnreadableSource(
            f"'{label}' cannot be opened: {err.strerror or err}.", "Check the path, then try again."
        ) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UnreadableSource(f"'{label}' is a folder, not a file.", "Choose a file inside it.")
        if not stat.S_ISREG(mode):
            raise _not_regular(label, mode)
        if _OPEN_FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_regular(path: str) -> BinaryIO:
    """A regular file (links resolved) opened for binary reading; UnreadableSource (with a
    message naming it) for a folder, FIFO, socket, device or a file that cannot be opened.
    Never blocks on a special file. For every reader that opens a file by its name."""
    path = os.fspath(path)
    label = display_name(path)
    _stat_regular(path, label)
    return _open(path, label)


def _read_all(f: BinaryIO, label: str, max_bytes: Optional[int]) -> bytes:
    """The rest of ``f``, at most ``max_bytes`` (SourceTooLarge past it)."""
    try:
        data = f.read() if max_bytes is None else f.read(max_bytes + 1)
    except OSError as err:
        raise UnreadableSource(
            f"'{label}' could not be read: {err.strerror or err}.",
            "Check that the disk or network drive is available, then try again.",
        ) from None
    if max_bytes is not None and len(data) > max_bytes:
        raise SourceTooLarge(
            f"'{label}' is larger than {_mb(max_bytes)}.",
            "Split it into smaller files, or keep only the chapters you want cards for.",
        )
    if not data:
        raise EmptySource(f"'{label}' is empty.", _EMPTY_HINT)
    return data


def _reread(f: BinaryIO, label: str, max_bytes: Optional[int]) -> bytes:
    f.seek(0)
    return _read_all(f, label, max_bytes)


def _head(f: BinaryIO, label: str, n: int = 2048) -> bytes:
    try:
        head = f.read(n)
        f.seek(0)
        return head
    except OSError as err:
        raise UnreadableSource(
            f"'{label}' could not be read: {err.strerror or err}.",
            "Check that the disk or network drive is available, then try again.",
        ) from None


def is_pdf(head: bytes) -> bool:
    """The first bytes of a file are a PDF's (its header within the first 1,024 bytes, as
    readers accept it)."""
    return b"%PDF-" in head[:1024]


def _sniff(head: bytes) -> Optional[str]:
    """'pdf', 'zip', 'ole', 'rtf' from the first bytes, else None."""
    if is_pdf(head):
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.lstrip()[:5] == b"{\\rtf":
        return "rtf"
    return None


def _zip_kind(source, label: str) -> str:
    """'docx', 'epub', or the name of another ZIP-based format."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            names = set(zf.namelist())
            mimetype = b""
            if "mimetype" in names:
                info = zf.getinfo("mimetype")
                if info.file_size < 200:
                    mimetype = zf.read("mimetype").strip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError) as err:
        raise UnreadableSource(
            f"'{label}' cannot be opened: it looks like a ZIP archive but is damaged ({shown(err)}).",
            "The file may be only partly downloaded. Download or save it again.",
        ) from None
    if mimetype == b"application/epub+zip" or "META-INF/container.xml" in names:
        return "epub"
    if "word/document.xml" in names:
        return "docx"
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return "an OpenDocument file (.odt/.ods/.odp)"
    if any(n.startswith("ppt/") for n in names):
        return "a PowerPoint file (.pptx)"
    if any(n.startswith("xl/") for n in names):
        return "an Excel file (.xlsx)"
    if "[Content_Types].xml" in names:
        return "docx"  # an Office file whose main part has another name: let the reader decide
    return "a ZIP archive"


def _unsupported(label: str, what: str) -> UnsupportedSource:
    return UnsupportedSource(
        f"'{label}' is {what}, which cannot be read.",
        f"Supported are {_SUPPORTED_TEXT} files. Save or export it in one of these formats "
        "(PDF or .docx work for most documents).",
    )


def _ole(data_or_head: bytes, label: str) -> FlashcardError:
    """An OLE2 file: an old .doc/.xls/.ppt, or a password-protected modern Office file."""
    if "EncryptedPackage".encode("utf-16-le") in data_or_head:
        return EncryptedSource(
            f"'{label}' is password-protected.",
            "Open it in Word, remove the password (File > Info > Protect Document), save, and try again.",
        )
    return UnsupportedSource(
        f"'{label}' is in the old Word/Office format (.doc), which cannot be read.",
        "Open it in Word or LibreOffice and save it as .docx (or export it as PDF), then try again.",
    )


def _rtf(label: str) -> UnsupportedSource:
    return UnsupportedSource(
        f"'{label}' is a Rich Text (RTF) file, which cannot be read.",
        "Open it in a word processor and save it as .docx or plain text (.txt), then try again.",
    )


def _binary(label: str, err: BinarySource) -> BinarySource:
    what = err.message
    if what.startswith("This looks like "):
        what = what[len("This looks like "):]
    return BinarySource(
        f"'{label}' looks like {what.rstrip('.')}",
        "Choose a text, Markdown, HTML, PDF, Word (.docx) or EPUB file. If it is a document "
        "in another format, export it as PDF, .docx or .txt first.",
    )


def _decode(data: bytes, label: str) -> str:
    from .textfix import decode_bytes

    try:
        return decode_bytes(data)
    except BinarySource as err:
        raise _binary(label, err) from None


def _looks_like_html(text: str) -> bool:
    head = text[:2048].lstrip().lower()
    if head.startswith(("<!doctype html", "<html", "<?xml")) and "<html" in text[:4096].lower():
        return True
    return head.startswith(("<!doctype html", "<html", "<head", "<body"))


# A letter or a digit in any script: a document without one has nothing to learn from (only
# zero-width, bidi-control, combining or other invisible characters, or symbols).
_VISIBLE = re.compile(r"[^\W_]")


def _visible(blocks: List[Block]) -> bool:
    return any(_VISIBLE.search(b.text) for b in blocks)


def _no_text(label: str) -> EmptySource:
    return EmptySource(f"'{label}' contains no text: no letters or digits, only invisible or "
                       "combining characters or symbols.", _EMPTY_HINT)


def _document(label: str, blocks: List[Block], warnings: Optional[List[str]] = None) -> Document:
    if not blocks:
        raise EmptySource(f"'{label}' contains no text.", _EMPTY_HINT)
    if not _visible(blocks):
        raise _no_text(label)
    return Document(label, blocks, warnings=list(warnings or []))


def _timeout(label: str, seconds: float) -> SourceTimeout:
    return SourceTimeout(
        f"Reading '{label}' took longer than {seconds:g} s and was given up.",
        "The file may be damaged or built to make readers loop. Open it in its application and "
        "save or export it again (PDF, .docx or .txt). If it is just very large, split it, or "
        "raise source_read_seconds in the add-on's config.",
    )


def _limits_for(max_bytes: Optional[int], limits: Optional[_limits.ReadLimits]):
    """(limits, size limit): the configured limits unless given; ``max_bytes`` overrides their
    size limit (None: no size limit)."""
    got = limits or _limits.current()
    return got, (got.max_bytes if max_bytes == _DEFAULT else max_bytes)


# --- public API ----------------------------------------------------------------------------

def read_text(text: str, name: str = "pasted text", markdown: Optional[bool] = None) -> Document:
    """A Document from text (pasted, an editor selection, stdin). ``markdown=None`` detects
    Markdown structure (headings, lists, emphasis); a full HTML page is read as HTML."""
    from .textfix import fix_text

    name = shown(name)
    return _guard(name, lambda: _text_document(fix_text(text or ""), name, markdown))


def _text_document(text: str, name: str, markdown: Optional[bool]) -> Document:
    from .text import text_blocks

    if not text.strip():
        raise EmptySource(f"'{name}' is empty.", _EMPTY_HINT)
    if markdown is None and _looks_like_html(text):
        return _html_document(text, name)
    return _document(name, text_blocks(text, markdown))


def read_html(html: str, name: str) -> Document:
    """A Document from an HTML page or fragment (also Anki note fields)."""
    from .textfix import fix_text

    name = shown(name)
    return _guard(name, lambda: _html_document(fix_text(html or ""), name))


def _html_document(html: str, name: str) -> Document:
    from .html import html_blocks

    if not html.strip():
        raise EmptySource(f"'{name}' is empty.", _EMPTY_HINT)
    return _document(name, html_blocks(html))


def read_bytes(data: bytes, name: str, markdown: Optional[bool] = None,
               limits: Optional[_limits.ReadLimits] = None) -> Document:
    """A Document from bytes of unknown format: PDF, DOCX and EPUB are recognised by their
    content; anything else must be text (any common encoding) or HTML. Bounded in time."""
    name = shown(name)
    got = limits or _limits.current()
    return call_with_deadline(lambda: _guard(name, lambda: _read_bytes(data, name, markdown, None, got)),
                              got.seconds, lambda: _timeout(name, got.seconds))


def read_stream_bytes(stream: BinaryIO, name: str = "stdin", max_bytes: Optional[int] = _DEFAULT,
                      limits: Optional[_limits.ReadLimits] = None) -> bytes:
    """The bytes of a binary stream (stdin), read piece by piece up to the size limit
    (SourceTooLarge past it, before memory fills) and within the time bound (SourceTimeout:
    a pipe that never ends or never sends is given up on)."""
    name = shown(name)
    got, cap = _limits_for(max_bytes, limits)
    read = _chunk_reader(stream)

    def stream_timeout() -> SourceTimeout:
        return SourceTimeout(
            f"Reading '{name}' took longer than {got.seconds:g} s and was given up.",
            "Check the command that sends the text (it may never end), send a file instead, or "
            "raise source_read_seconds in the add-on's config.")

    data = call_with_deadline(lambda: _guard(name, lambda: _read_stream_bytes(read, name, cap)),
                              got.seconds, stream_timeout)
    if not data:
        raise EmptySource(f"'{name}' is empty.", _EMPTY_HINT)
    return data


def _chunk_reader(stream: BinaryIO) -> Callable[[int], bytes]:
    """``read(n)`` for the stream. A real file descriptor (stdin, nothing read from it yet) is
    read through a duplicate of it with os.read: a reader thread given up on while blocked must
    not hold the lock of ``sys.stdin.buffer``, which the interpreter takes when it exits."""
    try:
        fd = os.dup(stream.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return stream.read

    def read(n: int) -> bytes:
        data = os.read(fd, n)
        if not data:
            os.close(fd)
        return data

    return read


def _read_stream_bytes(read: Callable[[int], bytes], name: str, cap: Optional[int]) -> bytes:
    parts: List[bytes] = []
    total = 0
    while True:
        try:
            piece = read(STREAM_READ)
        except OSError as err:
            raise UnreadableSource(f"'{name}' could not be read: {err.strerror or err}.",
                                   "Check what is sent to standard input, then try again.") from None
        if not piece:
            break
        total += len(piece)
        if cap is not None and total > cap:
            raise SourceTooLarge(
                f"'{name}' brings more than {_mb(cap)}; at most that much is read.",
                "Send a smaller document, split it, or raise source_max_mb in the add-on's config.",
            )
        parts.append(piece)
    return b"".join(parts)


def _read_bytes(data: bytes, name: str, markdown: Optional[bool], html: Optional[bool] = None,
                limits: Optional[_limits.ReadLimits] = None) -> Document:
    if not data:
        raise EmptySource(f"'{name}' is empty.", _EMPTY_HINT)
    kind = _sniff(data[:2048])
    if kind == "pdf":
        return _pdf_document(data, name, limits)
    if kind == "zip":
        return _read_zip(data, name, _zip_kind(data, name))
    if kind == "ole":
        raise _ole(data, name)
    if kind == "rtf":
        raise _rtf(name)
    if html or (html is None and name.lower().endswith(HTML_EXTENSIONS)):
        from .html import decode_html

        try:
            text = decode_html(data)
        except BinarySource as err:
            raise _binary(name, err) from None
        return _html_document(text, name)
    text = _decode(data, name)
    if html is None and markdown is None and _looks_like_html(text):
        return _html_document(text, name)
    return _text_document(text, name, markdown)


def _pdf_document(source, label: str, limits: Optional[_limits.ReadLimits]) -> Document:
    """A PDF's Document; pages skipped for their size or time become its warnings."""
    from .pdf import iter_pdf_blocks

    warnings: List[str] = []
    blocks = list(iter_pdf_blocks(source, label, limits, warnings))
    return _document(label, blocks, warnings)


def _read_zip(source, label: str, kind: str) -> Document:
    if kind == "docx":
        from .docx import docx_blocks

        return _document(label, docx_blocks(source, label))
    if kind == "epub":
        from .epub import epub_blocks

        return _document(label, epub_blocks(source, label))
    raise _unsupported(label, kind)


def read_path(path: str, max_bytes: Optional[int] = _DEFAULT,
              limits: Optional[_limits.ReadLimits] = None) -> Document:
    """A Document from a regular file. Dispatch by extension, checked against the file's
    content. ``max_bytes``: the size limit (default: the configured one; None: none). Reading
    is bounded in time: past ``limits.seconds`` it raises SourceTimeout."""
    path = os.fspath(path)
    label = display_name(path)
    got, cap = _limits_for(max_bytes, limits)
    doc = call_with_deadline(lambda: _guard(label, lambda: _read_path(path, label, cap, got)),
                             got.seconds, lambda: _timeout(label, got.seconds))
    doc.path = os.path.abspath(path)
    return doc


def _read_path(path: str, label: str, max_bytes: Optional[int],
               limits: Optional[_limits.ReadLimits] = None) -> Document:
    _check_file(path, label, max_bytes)
    with _open(path, label) as f:
        return _read_open(f, label, max_bytes, limits)


def _read_open(f: BinaryIO, label: str, max_bytes: Optional[int],
               limits: Optional[_limits.ReadLimits]) -> Document:
    """The document in the open file ``f`` (never opened again by name: no race with a file
    swapped for a FIFO)."""
    ext = os.path.splitext(label)[1].lower()
    head = _head(f, label)
    if not head:
        raise EmptySource(f"'{label}' is empty.", _EMPTY_HINT)
    kind = _sniff(head)
    if ext == ".pdf" and kind != "pdf":
        raise _not_what(label, "PDF", head, kind)
    if kind == "pdf":
        return _pdf_document(f, label, limits)
    if ext in (".docx", ".epub") and kind != "zip":
        if kind == "ole" and ext == ".docx":
            raise _ole(_reread(f, label, max_bytes), label)
        raise _not_what(label, "Word document" if ext == ".docx" else "EPUB book", head, kind)
    if kind == "zip":
        return _read_zip(f, label, _zip_kind(f, label))  # the content decides, not the name
    if kind == "ole":
        raise _ole(_reread(f, label, max_bytes), label)
    if kind == "rtf":
        raise _rtf(label)
    if ext in HTML_EXTENSIONS:
        return _read_bytes(_html_bytes(f, label, max_bytes), label, None, html=True)
    # Text, Markdown, or an unknown extension (text if it decodes as text, else unsupported):
    # the streaming reader, so that memory holds the blocks only, not bytes + text + lines.
    markdown = True if ext in MARKDOWN_EXTENSIONS else None
    known = ext in TEXT_EXTENSIONS or ext in MARKDOWN_EXTENSIONS
    return _document(label, list(_stream_text(f, label, markdown, known)))


def _html_bytes(f: BinaryIO, label: str, max_bytes: Optional[int]) -> bytes:
    limit = MAX_HTML_BYTES if max_bytes is None else min(max_bytes, MAX_HTML_BYTES)
    size = os.fstat(f.fileno()).st_size
    if size > limit:
        raise SourceTooLarge(
            f"'{label}' is {_mb(size)}; HTML files up to {_mb(limit)} are accepted.",
            "Save the page as plain text (.txt), which is read as a stream, or split it.",
        )
    return _reread(f, label, limit)


def _not_what(label: str, what: str, head: bytes, kind: Optional[str]) -> UnreadableSource:
    from .charset import binary_kind

    if kind == "zip":
        actual = "a ZIP archive"
    elif kind == "ole":
        actual = "an old Microsoft Office file"
    elif kind == "pdf":
        actual = "a PDF"
    else:
        actual = binary_kind(head) or ("a web page" if b"<html" in head.lower() else "text")
    return UnreadableSource(
        f"'{label}' is not a valid {what}: its content is {actual}.",
        "It may be damaged, only partly downloaded, or an error page saved in its place. "
        "Download or export it again.",
    )


def iter_blocks_path(path: str, max_bytes: Optional[int] = _DEFAULT,
                     limits: Optional[_limits.ReadLimits] = None) -> Iterator[Block]:
    """Blocks of a regular file. Plain text and Markdown are read incrementally (bounded memory
    for huge files: the encoding is detected from the first 64 KB); other formats are read
    whole. The reading runs on a thread of its own and is bounded in time: past
    ``limits.seconds`` the iteration raises SourceTimeout (the blocks so far were yielded).
    Pages of a PDF skipped for their size or time raise PartlyRead after all the others."""
    path = os.fspath(path)
    label = display_name(path)
    got, cap = _limits_for(max_bytes, limits)
    return iter_with_deadline(lambda: _iter_blocks(path, label, cap, got), got.seconds,
                              lambda: _timeout(label, got.seconds))


def _iter_blocks(path: str, label: str, max_bytes: Optional[int],
                 limits: _limits.ReadLimits) -> Iterator[Block]:
    _guard(label, lambda: _check_file(path, label, max_bytes))
    f = _guard(label, lambda: _open(path, label))
    with f:
        ext = os.path.splitext(label)[1].lower()
        head = _guard(label, lambda: _head(f, label))
        if not head:
            raise EmptySource(f"'{label}' is empty.", _EMPTY_HINT)
        kind = _sniff(head)
        if kind == "pdf" and ext not in (".docx", ".epub"):  # as _read_open decides
            yield from _iter_pdf(f, label, limits)
            return
        streamable = ext in TEXT_EXTENSIONS or ext in MARKDOWN_EXTENSIONS or (
            ext not in SUPPORTED_EXTENSIONS and kind is None)
        if not streamable or kind is not None:
            yield from _guard(label, lambda: _read_open(f, label, max_bytes, limits)).blocks
            return
        markdown = True if ext in MARKDOWN_EXTENSIONS else None
        known = ext in TEXT_EXTENSIONS or ext in MARKDOWN_EXTENSIONS
        yield from _guarded_iter(label, _stream_text(f, label, markdown, known))


def _iter_pdf(f: BinaryIO, label: str, limits: _limits.ReadLimits) -> Iterator[Block]:
    """A PDF's blocks as its pages are read; skipped pages end it with PartlyRead (the bulk
    job keeps the other pages' cards and shows the message)."""
    from .pdf import iter_pdf_blocks

    visible = False
    try:
        for block in _guarded_iter(label, iter_pdf_blocks(f, label, limits)):
            visible = visible or _VISIBLE.search(block.text) is not None
            yield block
    except PartlyRead:
        if not visible:
            raise _no_text(label) from None
        raise
    if not visible:
        raise _no_text(label)


def _guarded_iter(label: str, gen: Iterator[Block]) -> Iterator[Block]:
    try:
        yield from gen
    except FlashcardError:
        raise
    except MemoryError:
        raise SourceTooLarge(
            f"'{label}' is too large to read with the memory available.",
            "Split it into smaller files.",
        ) from None
    except RecursionError:
        raise UnreadableSource(f"'{label}' is nested too deeply to read.", _DAMAGED_HINT) from None
    except Exception as err:
        raise UnreadableSource(
            f"'{label}' could not be read: {type(err).__name__}: {shown(err)}", _DAMAGED_HINT
        ) from None


def _stream_text(f: BinaryIO, label: str, markdown: Optional[bool], known_text: bool) -> Iterator[Block]:
    from .charset import SAMPLE_SIZE, detect_encoding, incremental_decoder
    from .textfix import fix_text
    from .text import LineParser, looks_like_markdown

    sample = f.read(SAMPLE_SIZE)
    if not sample:
        raise EmptySource(f"'{label}' is empty.", _EMPTY_HINT)
    more = f.read(STREAM_READ)
    try:
        encoding, skip = detect_encoding(sample, complete=not more)
    except BinarySource as err:
        if known_text:
            raise _binary(label, err) from None
        raise _unsupported(label, err.message.split(" looks like ", 1)[-1].rstrip(".")) from None
    if markdown is None:
        preview = fix_text(incremental_decoder(encoding).decode(sample[skip:], False))
        if _looks_like_html(preview):  # a web page saved as .txt, or without extension
            yield from _read_bytes(_html_bytes(f, label, None), label, None, html=True).blocks
            return
        markdown = looks_like_markdown(preview)
    decoder = incremental_decoder(encoding)
    parser = LineParser(markdown)
    out: List[Block] = []
    feed_lines = parser.feed_lines
    carry = ""
    data = sample[skip:] + more
    blocks = visible = False
    while True:
        final = not data
        text = decoder.decode(data, final)
        if carry:
            text = carry + text
            carry = ""
        if "\r" in text:
            if text.endswith("\r") and not final:
                carry = "\r"  # may be the first half of \r\n
                text = text[:-1]
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if final:
            piece = text
        else:
            cut = text.rfind("\n")
            if cut < 0:
                if len(text) + len(carry) < MAX_LINE_CHARS:
                    carry = text + carry
                    data = f.read(STREAM_READ)
                    continue
                cut = max(text.rfind(" ", 0, MAX_LINE_CHARS), 0) or min(len(text), MAX_LINE_CHARS)
                piece, carry = text[:cut], text[cut:] + carry
            else:
                piece, carry = text[:cut], text[cut + 1:] + carry
        feed_lines(fix_text(piece).split("\n"), out)
        if out:
            blocks = True
            visible = visible or _visible(out)
            yield from out
            out.clear()
        if final:
            break
        data = f.read(STREAM_READ)
    parser.finish(out)
    if out:
        blocks = True
        visible = visible or _visible(out)
        yield from out
    if not blocks:
        raise EmptySource(f"'{label}' contains no text.", _EMPTY_HINT)
    if not visible:
        raise _no_text(label)
