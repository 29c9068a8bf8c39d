"""Zotero's annotations as Markdown (a note made with "Add Note from Annotations", exported as
Markdown, or Zotero 7's annotation export): each highlight a paragraph, the text in quotes, then
its citation and a link to the annotation in the PDF, then the reader's comment:

    # Annotations
    (3/14/2024, 10:00:00 AM)

    “Mitochondria make most of the cell's ATP.” ([Alberts, 2015, p. 12](zotero://select/library/items/ABCD1234)) ([pdf](zotero://open-pdf/library/items/EFGH5678?page=12&annotation=IJKL9012)) Why so many?

The page is the link's ``page=`` (else the citation's "p. 12"). Recognised by its content
(``looks_like``): ``zotero://`` links beside quoted text. A heading above the highlights that is
not "Annotations" names the book."""
import re
from typing import List, Tuple

from .highlight import (
    COMMENT_CHARS,
    HIGHLIGHT,
    MARKDOWN_HEADING,
    MAX_HIGHLIGHTS,
    NOTE,
    TEXT_CHARS,
    TITLE_CHARS,
    ZOTERO_SOURCE,
    Highlight,
    Highlights,
    clean_text,
    colour_of_word,
    dedupe,
)

_QUOTED = re.compile(r"^\s*(?:>\s*)?[“\"«„](?P<text>.+?)[”\"»“]\s*(?P<rest>\(.*)?$", re.S)
_LINK = re.compile(r"\(\[(?P<label>[^\]]{0,300})\]\((?P<url>zotero://[^)\s]{0,1000})\)\)")
_PAGE_IN_URL = re.compile(r"[?&]page=(\d{1,6})")
_PAGE_IN_LABEL = re.compile(r"\bp(?:p|age)?\.?\s*(\d{1,6})", re.I)
_COLOUR = re.compile(r'<span[^>]*(?:color|background-color)\s*:\s*(#[0-9a-fA-F]{6})', re.I)
_TAGS = re.compile(r"<[^<>]{0,500}>")


def looks_like(text: str) -> bool:
    head = text[:20000]
    return "zotero://" in head and bool(re.search(r"[“\"«„][^\n]{3,}[”\"»“]\s*\(\[", head))


def _paragraphs(text: str) -> List[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text.lstrip("\ufeff").replace("\r\n", "\n"))
            if p.strip()]


def _split(rest: str) -> Tuple[int, str]:
    """(page, the comment after the links) of what follows a quoted highlight."""
    page = 0
    last = 0
    for m in _LINK.finditer(rest):
        url_page = _PAGE_IN_URL.search(m.group("url"))
        label_page = _PAGE_IN_LABEL.search(m.group("label"))
        if url_page and not page:
            page = int(url_page.group(1))
        elif label_page and not page:
            page = int(label_page.group(1))
        last = m.end()
    return page, rest[last:]


def _attach(h: Highlight, comment: str) -> None:
    """A comment written below a highlight (a note annotation with its own citation) joins the
    highlight's comment."""
    comment = clean_text(comment, COMMENT_CHARS)
    if comment:
        h.comment = clean_text(f"{h.comment} {comment}" if h.comment else comment, COMMENT_CHARS)


def read_annotations(text: str, name: str = "") -> Highlights:
    book = ""
    items: List[Highlight] = []
    for para in _paragraphs(text):
        if len(items) >= MAX_HIGHLIGHTS:
            break
        heading = MARKDOWN_HEADING.match(para)
        if heading and "\n" not in para:
            title = heading.group(2).strip()
            if title.lower() not in ("annotations", "anmerkungen", "annotationen", "notes"):
                book = clean_text(_TAGS.sub("", title), TITLE_CHARS)
            continue
        colour = _COLOUR.search(para)
        plain = _TAGS.sub("", para)
        m = _QUOTED.match(plain)
        if not m:
            if "zotero://" in plain and items:  # a comment of its own paragraph under a highlight
                _attach(items[-1], _LINK.sub(" ", plain))
            continue
        page, after = _split(m.group("rest") or "")
        comment = clean_text(after, COMMENT_CHARS)
        body = clean_text(m.group("text"), TEXT_CHARS)
        if body:
            items.append(Highlight(text=body, kind=HIGHLIGHT, comment=comment, page=page,
                                   colour=colour_of_word(colour.group(1)) if colour else "",
                                   book=book or clean_text(name, TITLE_CHARS)))
        elif comment:
            items.append(Highlight(text=comment, kind=NOTE, page=page, book=book or clean_text(name, TITLE_CHARS)))
    items = dedupe(items)
    for n, h in enumerate(items):
        h.order = n
    return Highlights(ZOTERO_SOURCE, items, [])
