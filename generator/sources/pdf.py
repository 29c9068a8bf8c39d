"""PDF to blocks with pypdf (bundled in the add-on's vendor folder, loaded lazily).

Pages are read one at a time. Each block's location is "page N" and its ``page`` N (of its
first line). Headings
are recognised cheaply from font size (text drawn clearly larger than the page's body text);
paragraphs end at blank lines or at a short line that ends a sentence; lines starting with a
bullet or a number are list items; words hyphenated across lines are joined; page numbers and
running headers/footers repeated on every page are dropped.

Work is bounded (``limits.py``): a page whose content streams are larger than ``page_bytes``
(decompressed; pypdf's own decompression caps are set to the same) or whose text takes longer
than ``page_seconds`` to extract is skipped and reported (the caller's ``warnings`` list, or
PartlyRead at the end), and the content of all pages together is capped at ``document_bytes``.
"""
import contextlib
import math
import re
from typing import Any, Dict, Iterator, List, Optional, Tuple, Type

from .document import HEADING, LIST_ITEM, PARAGRAPH, Block
from ..errors import EncryptedSource, NoTextLayer, PartlyRead, SourceTooLarge, UnreadableSource
from .bounded import Alarm, Interrupted, Watch
from .limits import MB, ReadLimits, current

MAX_PAGES = 5000

_BULLET = re.compile(
    r"^(?:([\u2022\u2023\u25aa\u25cf\u25cb\u25a0\u25e6\u2043\u2219\u27a2\u25ba\u00b7\u2013*-])"
    r"|(\d{1,3}[.)]|[a-z]\)|\(\d{1,3}\)|\([a-z]\)))\s+(\S.*)$"
)
_PAGE_NUMBER = re.compile(r"^(?:page\s+|seite\s+|p\.\s*)?[-\u2013]?\s*\d{1,5}\s*[-\u2013]?(?:\s*(?:/|of|von|sur)\s*\d{1,5})?$", re.I)
_DIGITS = re.compile(r"\d+")
_SENTENCE_END = ".!?:;\u3002\uff01\uff1f\"'\u201d\u2019)"

_NO_TEXT_HINT = "Run OCR on it first, e.g. with ocrmypdf (`ocrmypdf in.pdf out.pdf`), then try again."


def _mul(m1: List[float], m2: List[float]) -> List[float]:
    """m1 x m2 for 2D affine matrices [a b c d e f]."""
    a1, b1, c1, d1, e1, f1 = m1
    a2, b2, c2, d2, e2, f2 = m2
    return [a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2,
            e1 * a2 + f1 * c2 + e2, e1 * b2 + f1 * d2 + f2]


def _key(text: str) -> str:
    return "".join(text.split())


class _PageLayout:
    """What extract_text's visitor sees of a page: the effective font size and baseline of
    each text run. Gives the big-font runs (headings) and the runs that start after a vertical
    gap (paragraph starts)."""

    def __init__(self) -> None:
        self.runs: List[Tuple[float, float, str]] = []  # (size, y, text)

    def visit(self, text: Any, cm: Any, tm: Any, font_dict: Any, font_size: Any) -> None:
        if not text or not text.strip():
            return
        try:
            m = _mul([float(v) for v in tm], [float(v) for v in cm])
            size = abs(float(font_size)) * math.hypot(m[2], m[3])
            y = m[5]
        except Exception:
            return
        if 0 < size < 1000:
            self.runs.append((round(size, 1), round(y, 1), text))

    def analyse(self) -> Tuple[Dict[str, int], List[str]]:
        """(heading keys -> level, keys of runs that start a new paragraph)."""
        runs = self.runs
        self.runs = []
        if not runs:
            return {}, []
        chars: Dict[float, int] = {}
        for size, _, text in runs:
            chars[size] = chars.get(size, 0) + len(text.strip())
        body = max(chars.items(), key=lambda kv: kv[1])[0]
        headings: Dict[str, int] = {}
        current: List[str] = []
        current_size = 0.0
        for size, _, text in runs + [(0.0, 0.0, "")]:
            if size == current_size and size:
                current.append(text)
                continue
            if current and current_size >= body * 1.15:
                key = _key("".join(current))
                ratio = current_size / body
                if 2 <= len(key) <= 150:
                    headings[key] = 1 if ratio >= 1.6 else 2 if ratio >= 1.3 else 3
            current = [text]
            current_size = size
        # Vertical gaps: a step between baselines clearly larger than the usual line step.
        steps = []
        prev_y: Optional[float] = None
        for _, y, _ in runs:
            if prev_y is not None and y < prev_y:
                steps.append(prev_y - y)
            prev_y = y
        starts: List[str] = []
        if steps:
            usual = sorted(steps)[len(steps) // 2]
            prev_y = None
            for size, y, text in runs:
                if prev_y is not None and y != prev_y:
                    step = prev_y - y
                    if step > 1.45 * usual or step < -2 * size:
                        key = _key(text)[:12]
                        if key:
                            starts.append(key)
                prev_y = y
        return headings, starts


def _heading_level(line: str, big: Dict[str, int]) -> int:
    if not big or len(line) > 150:
        return 0
    key = _key(line)
    if len(key) < 2:
        return 0
    level = big.get(key)
    if level:
        return level
    for text, lvl in big.items():  # a heading run that pypdf split or joined differently
        if key in text and len(key) >= 0.5 * len(text):
            return lvl
    return 0


class _TooBig(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def _configured(pypdf: Any, limits: ReadLimits) -> Any:
    """A context manager applying pypdf's own decompression caps at our page limit (pypdf 6.x
    has them; with an older pypdf, nothing)."""
    apply = getattr(pypdf, "apply_configuration", None)
    get = getattr(pypdf, "get_configuration", None)
    if apply is None or get is None:
        return contextlib.nullcontext
    cap = max(limits.page_bytes, 4 * MB)  # fonts and CMaps are decompressed too
    names = ("zlib_maximum_output_length", "lzw_maximum_output_length",
             "run_length_maximum_output_length", "brotli_maximum_output_length",
             "array_based_stream_maximum_output_length")
    try:
        base = get()
        config = base.with_overwrites(**{n: min(cap, getattr(base, n)) for n in names if hasattr(base, n)})
    except Exception:
        return contextlib.nullcontext
    return lambda: apply(config)


def _content_bytes(page: Any, limit: int) -> int:
    """Decompressed size of the page's content streams; _TooBig past ``limit`` (before its text
    is parsed: a 100 MB stream would need gigabytes as pypdf's operator objects)."""
    contents = page.get("/Contents")
    if contents is None:
        return 0
    obj = contents.get_object()
    streams = list(obj) if isinstance(obj, list) else [obj]
    if len(streams) > 100_000:
        raise _TooBig(limit + 1)
    total = 0
    for ref in streams:
        stream = ref.get_object()
        raw = getattr(stream, "_data", None)  # the encoded bytes, already read with the object
        if isinstance(raw, (bytes, bytearray)) and len(raw) > limit:
            raise _TooBig(len(raw))
        get_data = getattr(stream, "get_data", None)
        if get_data is None:
            continue
        total += len(get_data())  # decoded once; pypdf caches it for extract_text
        if total > limit:
            raise _TooBig(total)
    return total


def _limit_error(pypdf: Any) -> Tuple[Type[BaseException], ...]:
    """pypdf's exception for its own resource caps (pypdf >= 5), as an except clause."""
    err = getattr(pypdf.errors, "LimitReachedError", None)
    return (err,) if isinstance(err, type) and issubclass(err, BaseException) else ()


def _open(source: Any, label: str, limits: Optional[ReadLimits] = None):
    from ..libs import load

    limits = limits or current()
    pypdf = load("pypdf")
    errors = pypdf.errors
    # pypdf logs every quirk of a damaged file as a warning; the user gets our error instead.
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    import io

    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        try:
            with Alarm(limits.page_seconds), _configured(pypdf, limits)():
                reader = pypdf.PdfReader(stream, strict=False)
        except Interrupted:
            raise UnreadableSource(
                f"'{label}' could not be opened as a PDF within {limits.page_seconds:g} s: its "
                "structure (cross-reference table) is damaged or built to make readers loop.",
                "Open it in a PDF viewer and save or print it to a new PDF, then try again.",
            ) from None
    except UnreadableSource:
        raise
    except errors.DependencyError as err:
        raise _needs_library(label, err) from None
    except (errors.FileNotDecryptedError, errors.WrongPasswordError):
        raise _encrypted(label) from None
    except Exception as err:  # pypdf raises many kinds on damaged files
        raise UnreadableSource(
            f"'{label}' could not be read as a PDF: {type(err).__name__}: {_short(err)}.",
            "The file may be damaged or only partly downloaded. Open it in a PDF viewer and "
            "save or print it to a new PDF, then try again.",
        ) from None
    if reader.is_encrypted:
        try:
            ok = reader.decrypt("")
        except errors.DependencyError as err:
            raise _needs_library(label, err) from None
        except Exception:
            ok = 0
        if not ok:
            raise _encrypted(label)
    return pypdf, reader


_SKIPPED_HINT = ("To read the skipped pages, print the PDF to a new PDF (or split it), or raise "
                 "pdf_page_mb / pdf_page_seconds in the add-on's config.")


def _size(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= 10 * MB else f"{n / MB:.1f} MB"


def _short(err: BaseException) -> str:
    from ..outside import shown

    return shown(err, 160)


def _needs_library(label: str, err: Exception) -> EncryptedSource:
    return EncryptedSource(
        f"'{label}' is encrypted with a method that needs an extra library ({_short(err)}).",
        "Remove the encryption, e.g. `qpdf --decrypt in.pdf out.pdf`, or print it to a new PDF.",
    )


def _encrypted(label: str) -> EncryptedSource:
    return EncryptedSource(
        f"'{label}' is password-protected.",
        "Open it with its password and save an unprotected copy (or run "
        "`qpdf --password=... --decrypt in.pdf out.pdf`), then try again.",
    )


class _Paragraphs:
    """Turns the lines of successive pages into blocks."""

    def __init__(self) -> None:
        self.lines: List[str] = []
        self.kind = PARAGRAPH
        self.location = ""
        self.page = 0
        self.width = 0

    def flush(self, out: List[Block]) -> None:
        if not self.lines:
            return
        text = self.lines[0]
        for line in self.lines[1:]:
            if text.endswith("-") and len(text) > 1 and text[-2].isalpha() and line[:1].islower():
                text = text[:-1] + line  # hyphenation at a line end
            else:
                text = text + " " + line
        self.lines = []
        text = " ".join(text.split())
        if text:
            out.append(Block(self.kind, text, 0, self.location, page=self.page))

    def add(self, line: str, location: str, width: int, big: Dict[str, int], out: List[Block],
            page: int = 0) -> None:
        level = _heading_level(line, big)
        if level:
            self.flush(out)
            text = " ".join(line.split()).rstrip(":").rstrip()
            if text:
                out.append(Block(HEADING, text, level, location, page=page))
            return
        m = _BULLET.match(line)
        if m:
            self.flush(out)
            self.kind = LIST_ITEM
            self.location = location
            self.page = page
            self.lines = [(m.group(2) + " " if m.group(2) else "") + m.group(3)]
            return
        if not self.lines:
            self.kind = PARAGRAPH
            self.location = location
            self.page = page
        self.lines.append(line)
        # A short line that ends a sentence ends the paragraph.
        if line[-1] in _SENTENCE_END and len(line) < 0.75 * width:
            self.flush(out)


def _running(key: str) -> bool:
    return 0 < len(key) <= 80 and key[-1] not in _SENTENCE_END + ",-"


def _page_lines(text: str) -> List[str]:
    return [" ".join(line.split()) for line in text.split("\n")]


def iter_pdf_blocks(source: Any, label: str, limits: Optional[ReadLimits] = None,
                    warnings: Optional[List[str]] = None) -> Iterator[Block]:
    """Blocks of a PDF given as a path, bytes or an open binary file, page by page. Raises
    EncryptedSource, NoTextLayer, SourceTooLarge or UnreadableSource. Pages skipped for their
    size or time are appended to ``warnings`` (one sentence each) if it is given, else reported
    by PartlyRead after the other pages' blocks.

    Long on purpose: one walk over a file that may be hostile, with every bound (pages, time,
    bytes per page and per document) checked where it applies and each page cleaned (page
    numbers, running heads, paragraphs across pages) in the order it is read."""
    from .textfix import fix_text

    limits = limits or current()
    pypdf, reader = _open(source, label, limits)
    configured = _configured(pypdf, limits)
    too_much = _limit_error(pypdf)
    skipped: List[str] = []
    content_total = 0
    try:
        with Alarm(limits.page_seconds):
            count = len(reader.pages)
    except Interrupted:
        count = -1
    except Exception as err:
        raise UnreadableSource(
            f"'{label}' could not be read as a PDF: its page list is damaged ({_short(err)}).",
            "Open it in a PDF viewer and save or print it to a new PDF, then try again.",
        ) from None
    if count < 0:
        raise UnreadableSource(
            f"'{label}' could not be read as a PDF: its page list could not be read within "
            f"{limits.page_seconds:g} s (damaged, or built to make readers loop).",
            "Open it in a PDF viewer and save or print it to a new PDF, then try again.")
    if count > MAX_PAGES:
        raise SourceTooLarge(
            f"'{label}' has {count} pages; at most {MAX_PAGES} are read.",
            "Split the PDF into parts (e.g. `qpdf in.pdf --pages . 1-500 -- part1.pdf`) and "
            "generate cards from the parts you need.",
        )
    if count == 0:
        raise UnreadableSource(f"'{label}' has no pages.", "Check that it is the right file.")
    paragraphs = _Paragraphs()
    out: List[Block] = []
    found_text = False
    failed = 0
    last_error = ""
    prev_first: Optional[str] = None
    prev_last: Optional[str] = None
    watch = Watch()  # one thread bounds every page's time
    try:
        for index in range(count):
            location = f"page {index + 1}"
            layout = _PageLayout()
            try:
                with watch.page(limits.page_seconds), configured():
                    page = reader.pages[index]
                    size = _content_bytes(page, limits.page_bytes)
                    if content_total + size > limits.document_bytes:
                        skipped.append(
                            f"Pages {index + 1}-{count} were not read: the document's content "
                            f"passed {_size(limits.document_bytes)}.")
                        break
                    content_total += size
                    raw = page.extract_text(visitor_text=layout.visit) or ""
            except Interrupted:
                skipped.append(f"Page {index + 1} was skipped: reading it took longer than "
                               f"{limits.page_seconds:g} s.")
                continue
            except _TooBig as over:
                skipped.append(f"Page {index + 1} was skipped: its content is "
                               f"{_size(over.size)}, more than the {_size(limits.page_bytes)} read per page.")
                continue
            except too_much as err:  # pypdf's own caps (decompression, parsing work)
                skipped.append(f"Page {index + 1} was skipped: it is too large to read ({_short(err)}).")
                continue
            except Exception as err:  # one broken page should not lose the whole document
                failed += 1
                last_error = f"{type(err).__name__}: {_short(err)}"
                continue
            text = fix_text(raw)
            lines = _page_lines(text)
            while lines and not lines[0]:
                lines.pop(0)
            while lines and not lines[-1]:
                lines.pop()
            if not lines:
                paragraphs.flush(out)
                continue
            found_text = True
            # Page numbers, then running headers/footers: the same short line (digits aside) that
            # does not end a sentence, at the top/bottom of consecutive pages with real content.
            if _PAGE_NUMBER.match(lines[-1]):
                lines.pop()
            if lines and _PAGE_NUMBER.match(lines[0]):
                lines.pop(0)
            if not lines:
                continue
            first_key = _DIGITS.sub("#", lines[0])
            last_key = _DIGITS.sub("#", lines[-1])
            if len(lines) >= 6:
                if last_key == prev_last and _running(last_key):
                    lines.pop()
                if first_key == prev_first and _running(first_key):
                    lines.pop(0)
            prev_first, prev_last = first_key, last_key
            big, starts = layout.analyse()
            width = max((len(line) for line in lines), default=0)
            # A paragraph left open at the end of the previous page continues here only if this
            # page starts in lower case (mid-sentence); otherwise it ends.
            if paragraphs.lines and not (lines and lines[0][:1].islower()):
                paragraphs.flush(out)
            for line in lines:
                if not line:
                    paragraphs.flush(out)
                    continue
                if starts and paragraphs.lines:
                    key = _key(line)
                    if any(key.startswith(start) for start in starts):
                        paragraphs.flush(out)
                paragraphs.add(line, location, width, big, out, index + 1)
            if out:
                yield from out
                out.clear()
    finally:
        watch.close()
    paragraphs.flush(out)
    yield from out
    if not found_text and skipped:
        raise SourceTooLarge(f"No text could be read from '{label}'. " + " ".join(skipped),
                             _SKIPPED_HINT)
    if skipped:
        if warnings is None:
            raise PartlyRead(f"'{label}': " + " ".join(skipped), "The other pages were read. "
                             + _SKIPPED_HINT)
        warnings.extend(skipped)
    if not found_text:
        if failed:
            raise UnreadableSource(
                f"No text could be read from '{label}' ({failed} of {count} pages failed: {last_error}).",
                "The file may be damaged. Open it in a PDF viewer and save or print it to a new "
                "PDF, then try again.",
            )
        raise NoTextLayer(
            f"'{label}': this PDF has no text layer (it is scanned images).", _NO_TEXT_HINT
        )


# For the other readers of a PDF (its highlights, highlights/pdf.py): the same opening, messages
# and bounds as the text's.
open_pdf = _open
content_bytes = _content_bytes
PageTooBig = _TooBig
pypdf_caps = _configured
caps_reached = _limit_error

