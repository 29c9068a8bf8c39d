"""Readwise exports: the CSV of all highlights (columns ``Highlight``, ``Book Title``, ``Book
Author``, ``Note``, ``Color``, ``Location Type``, ``Location``, ``Highlighted at``, ...) and the
Markdown of one book (a ``## Highlights`` list, each item the highlight with its place as a link,
its note and tags indented below it):

    # The Cell
    ## Metadata
    - Author: [[Bruce Alberts]]
    ## Highlights
    - Mitochondria make most of the cell's ATP. ([Location 180](https://readwise.io/to_kindle?...))
        - **Note:** why so many?

Both are recognised by their content (``looks_like_csv``, ``looks_like_markdown``)."""
import csv
import io
import re
from typing import Dict, List, Optional, Tuple

from .highlight import (
    COMMENT_CHARS,
    HIGHLIGHT,
    MARKDOWN_HEADING,
    MAX_HIGHLIGHTS,
    READWISE_SOURCE,
    TEXT_CHARS,
    TITLE_CHARS,
    Highlight,
    Highlights,
    clean_text,
    colour_of_word,
    dedupe,
)

MAX_FIELD = 1_000_000  # characters in one CSV field (csv's own default is 131,072)
_HEADER_NEEDS = ("highlight", "book title")


def _header(text: str) -> List[str]:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    try:
        return [c.strip().lower() for c in next(csv.reader([first]))]
    except (csv.Error, StopIteration):
        return []


def looks_like_csv(text: str) -> bool:
    header = _header(text[:4000])
    return all(name in header for name in _HEADER_NEEDS)


def _location(kind: str, value: str) -> Tuple[int, str]:
    """(page, location as shown) from the Location Type and Location columns."""
    value = value.strip()
    if not value.isdigit():
        return 0, clean_text(value, 40)
    kind = kind.strip().lower()
    if kind in ("page", "seite"):
        return int(value), ""
    if kind in ("order", "offset", "time", ""):
        return 0, ""
    return 0, f"loc. {int(value)}"


def read_csv(text: str) -> Highlights:
    old = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD)
    items: List[Highlight] = []
    bad = 0
    try:
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
        header = [c.strip().lower() for c in next(reader, [])]
        col = {name: i for i, name in enumerate(header)}

        def cell(row: List[str], name: str) -> str:
            i = col.get(name)
            return row[i] if i is not None and i < len(row) else ""

        while len(items) < MAX_HIGHLIGHTS:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error:
                bad += 1
                if bad > 1000:
                    break
                continue
            body = clean_text(cell(row, "highlight"), TEXT_CHARS)
            if not body:
                continue
            page, location = _location(cell(row, "location type"), cell(row, "location"))
            items.append(Highlight(
                text=body, kind=HIGHLIGHT, comment=clean_text(cell(row, "note"), COMMENT_CHARS),
                colour=colour_of_word(cell(row, "color")), page=page, location=location,
                book=clean_text(cell(row, "book title"), TITLE_CHARS),
                author=clean_text(cell(row, "book author"), TITLE_CHARS),
                added=clean_text(cell(row, "highlighted at"), 40)))
    finally:
        csv.field_size_limit(old)
    return _finished(items, bad)


def _finished(items: List[Highlight], bad: int) -> Highlights:
    books: Dict[str, int] = {}
    for n, h in enumerate(items):
        books.setdefault(h.book, len(books))
        h.order = n
    items.sort(key=lambda h: (books[h.book], h.order))
    items = dedupe(items)
    for n, h in enumerate(items):
        h.order = n
    warnings = [f"{bad} row(s) of the export could not be read and were left out."] if bad else []
    return Highlights(READWISE_SOURCE, items, warnings)


# --- Markdown -------------------------------------------------------------------------------

_LINK_PLACE = re.compile(r"\s*\(\[(?P<label>[^\]]{1,80})\]\((?P<url>[^)\s]{0,2000})\)\)\s*$")
_PLAIN_PLACE = re.compile(r"\s*\((?P<label>(?:location|loc\.|page|p\.)\s*\d[\d\s–-]*)\)\s*$", re.I)
_ITEM = re.compile(r"^(?P<indent>[ \t]*)[-*+]\s+(?P<body>.*)$")
_NOTE = re.compile(r"^\*\*(note|notiz|tags?)\s*:?\*\*\s*:?\s*(.*)$", re.I)


def looks_like_markdown(text: str) -> bool:
    head = text[:20000]
    return bool(re.search(r"^#{1,3}\s+Highlights\b", head, re.M | re.I)) and (
        "readwise.io" in head or "rw-book-cover" in head or bool(
            re.search(r"^#{1,3}\s+Metadata\b", head, re.M | re.I)))


def _place_of(body: str) -> Tuple[str, int, str]:
    """(text without its place, page, location as shown)."""
    m = _LINK_PLACE.search(body) or _PLAIN_PLACE.search(body)
    if not m:
        return body, 0, ""
    label = m.group("label").strip()
    rest = body[: m.start()]
    low = label.lower()
    num = re.search(r"\d+", label)
    if num and low.startswith(("page", "p.")):
        return rest, int(num.group()), ""
    if num and low.startswith(("location", "loc")):
        return rest, 0, f"loc. {int(num.group())}"
    return rest, 0, ""  # "View Highlight": no place


def read_markdown(text: str, name: str = "") -> Highlights:
    """The highlights of a Readwise Markdown export (one book a file; more under ``#`` headings)."""
    book = ""
    author = ""
    in_list = False
    items: List[Highlight] = []
    current: Optional[Highlight] = None
    for raw in text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if len(items) >= MAX_HIGHLIGHTS:
            break
        heading = MARKDOWN_HEADING.match(raw)
        if heading:
            level, title = len(heading.group(1)), heading.group(2)
            if level == 1:
                book = clean_text(title, TITLE_CHARS)
            in_list = title.strip().lower().startswith("highlights")
            current = None
            continue
        item = _ITEM.match(raw)
        if not in_list:
            if item and item.group("body").lower().startswith("author:"):
                author = clean_text(re.sub(r"\[\[|\]\]", "", item.group("body")[7:]), TITLE_CHARS)
            elif item and item.group("body").lower().startswith("full title:"):
                book = clean_text(item.group("body")[11:], TITLE_CHARS) or book
            continue
        if item is None:
            if current is not None and raw.strip():  # a highlight of several lines
                current.text = clean_text(current.text + " " + raw.strip(), TEXT_CHARS)
            continue
        body = item.group("body").strip()
        note = _NOTE.match(body)
        if item.group("indent") and current is not None:
            if note and note.group(1).lower() in ("note", "notiz"):
                current.comment = clean_text((current.comment + " " + note.group(2)).strip(), COMMENT_CHARS)
            continue
        body, page, location = _place_of(body)
        current = Highlight(text=clean_text(body, TEXT_CHARS), kind=HIGHLIGHT, page=page, location=location,
                            book=book or clean_text(name, TITLE_CHARS), author=author)
        if current.text:
            items.append(current)
    return _finished(items, 0)
