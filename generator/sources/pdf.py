"""PDF to blocks with pypdf (bundled in the add-on's vendor folder, loaded lazily).

Pages are read one at a time. Each block's location is "page N" (of its first line). Headings
are recognised cheaply from font size (text drawn clearly larger than the page's body text);
paragraphs end at blank lines or at a short line that ends a sentence; lines starting with a
bullet or a number are list items; words hyphenated across lines are joined; page numbers and
running headers/footers repeated on every page are dropped.
"""
import math
import re
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from ..documents import HEADING, LIST_ITEM, PARAGRAPH, Block
from ..errors import EncryptedSource, NoTextLayer, SourceTooLarge, UnreadableSource

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


def _open(source: Union[str, bytes], label: str):
    from ..libs import load

    pypdf = load("pypdf")
    errors = pypdf.errors
    # pypdf logs every quirk of a damaged file as a warning; the user gets our error instead.
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        import io

        stream = io.BytesIO(source) if isinstance(source, bytes) else source
        reader = pypdf.PdfReader(stream, strict=False)
    except errors.DependencyError as err:
        raise _needs_library(label, err) from None
    except (errors.FileNotDecryptedError, errors.WrongPasswordError):
        raise _encrypted(label) from None
    except Exception as err:  # pypdf raises many kinds on damaged files
        raise UnreadableSource(
            f"'{label}' could not be read as a PDF: {type(err).__name__}: {err}.",
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


def _needs_library(label: str, err: Exception) -> EncryptedSource:
    return EncryptedSource(
        f"'{label}' is encrypted with a method that needs an extra library ({err}).",
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
            out.append(Block(self.kind, text, 0, self.location))

    def add(self, line: str, location: str, width: int, big: Dict[str, int], out: List[Block]) -> None:
        level = _heading_level(line, big)
        if level:
            self.flush(out)
            text = " ".join(line.split()).rstrip(":").rstrip()
            if text:
                out.append(Block(HEADING, text, level, location))
            return
        m = _BULLET.match(line)
        if m:
            self.flush(out)
            self.kind = LIST_ITEM
            self.location = location
            self.lines = [(m.group(2) + " " if m.group(2) else "") + m.group(3)]
            return
        if not self.lines:
            self.kind = PARAGRAPH
            self.location = location
        self.lines.append(line)
        # A short line that ends a sentence ends the paragraph.
        if line[-1] in _SENTENCE_END and len(line) < 0.75 * width:
            self.flush(out)


def _running(key: str) -> bool:
    return 0 < len(key) <= 80 and key[-1] not in _SENTENCE_END + ",-"


def _page_lines(text: str) -> List[str]:
    return [" ".join(line.split()) for line in text.split("\n")]


def iter_pdf_blocks(source: Union[str, bytes], label: str) -> Iterator[Block]:
    """Blocks of a PDF given as a path or bytes, page by page. Raises EncryptedSource,
    NoTextLayer, SourceTooLarge or UnreadableSource."""
    from ..textfix import fix_text

    pypdf, reader = _open(source, label)
    try:
        count = len(reader.pages)
    except Exception as err:
        raise UnreadableSource(
            f"'{label}' could not be read as a PDF: its page list is damaged ({err}).",
            "Open it in a PDF viewer and save or print it to a new PDF, then try again.",
        ) from None
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
    for index in range(count):
        location = f"page {index + 1}"
        layout = _PageLayout()
        try:
            page = reader.pages[index]
            raw = page.extract_text(visitor_text=layout.visit) or ""
        except Exception as err:  # one broken page should not lose the whole document
            failed += 1
            last_error = f"{type(err).__name__}: {err}"
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
            paragraphs.add(line, location, width, big, out)
        if out:
            yield from out
            out.clear()
    paragraphs.flush(out)
    yield from out
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
