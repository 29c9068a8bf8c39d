"""A Kindle's ``My Clippings.txt``: one entry per highlight, note or bookmark, each closed by a line
of ten "=" signs:

    The Cell (Alberts, Bruce)
    - Your Highlight on page 12 | Location 180-182 | Added on Sunday, 3 March 2019 10:01:02

    Mitochondria make most of the cell's ATP.
    ==========

The second line's words are the device's language: English, German ("Ihre Markierung bei
Position 180-182 | Hinzugefügt am ..."), French, Spanish, Italian, Portuguese and Dutch are
known; in another language a line that names no note or bookmark is taken for a highlight, and
its numbers for its place. A note is the comment of the highlight it was written at (the same
book, its location within or just after the highlight's), else a highlight of its own kind
``note``. Bookmarks carry no text and are left out; a highlight the reader extended later is
kept once, in its longer form. Recognised by its content (``looks_like``), not by its name."""
import re
from typing import Dict, List, Optional, Tuple

from .highlight import (
    COMMENT_CHARS,
    HIGHLIGHT,
    KINDLE_SOURCE,
    MAX_HIGHLIGHTS,
    NOTE,
    TEXT_CHARS,
    TITLE_CHARS,
    Highlight,
    Highlights,
    clean_text,
    dedupe,
)

SEPARATOR = re.compile(r"^\ufeff?={8,12}\s*$")
_META = re.compile(r"^\ufeff?\s*-\s*\S")

NOTE_WORDS = ("note", "notiz", "nota", "notitie", "remarque", "メモ", "笔记", "заметка")
BOOKMARK_WORDS = ("bookmark", "lesezeichen", "signet", "marque-page", "marcador", "segnalibro",
                  "bladwijzer", "ブックマーク", "书签", "закладка")
HIGHLIGHT_WORDS = ("highlight", "markierung", "surlignement", "subrayado", "evidenziazione",
                   "destaque", "markering", "ハイライト", "标注", "выделение")
PAGE_WORDS = ("page", "seite", "página", "pagina", "pág", "bladzijde", "страница", "ページ", "页")
LOCATION_WORDS = ("location", "loc.", "position", "emplacement", "posición", "posizione",
                  "posição", "locatie", "locatie", "位置", "позиция")
ADDED_WORDS = ("added", "hinzugefügt", "ajouté", "añadido", "aggiunto", "adicionado", "toegevoegd",
               "追加", "添加", "добавлено")
_RANGE = re.compile(r"(\d{1,7})(?:\s*[-–]\s*(\d{1,7}))?")
_AUTHOR = re.compile(r"^(.*\S)\s*\(([^()]{1,200})\)\s*$")


def looks_like(text: str) -> bool:
    """Whether ``text`` (its start) is a Kindle clippings file: entries closed by "=========="
    whose second line starts with "- " and has a "|" (or names a location)."""
    head = text[:20000].replace("\r\n", "\n").replace("\r", "\n")
    entries = [e for e in re.split(r"\n\ufeff?={8,12}[ \t]*(?:\n|$)", "\n" + head) if e.strip()]
    if not entries:
        return False
    if "==========" not in head:  # one entry longer than the start read: its second line decides
        lines = entries[0].strip("\n").split("\n")
        meta = lines[1].lower() if len(lines) >= 2 else ""
        return bool(_META.match(meta)) and "|" in meta and any(
            w in meta for w in HIGHLIGHT_WORDS + NOTE_WORDS + LOCATION_WORDS)
    good = 0
    for entry in entries[:20]:
        lines = [ln for ln in entry.strip("\n").split("\n")]
        if len(lines) >= 2 and _META.match(lines[1]) and (
                "|" in lines[1] or any(w in lines[1].lower() for w in LOCATION_WORDS + PAGE_WORDS)):
            good += 1
    return good >= max(1, min(len(entries), 20) // 2)


def _kind(meta: str) -> str:
    low = meta.lower()
    head = low.split("|")[0]
    if any(w in head for w in BOOKMARK_WORDS):
        return "bookmark"
    if any(w in head for w in NOTE_WORDS) and not any(w in head for w in HIGHLIGHT_WORDS):
        return NOTE
    return HIGHLIGHT


def _place(meta: str) -> Tuple[int, str, Tuple[int, int], str]:
    """(page, location as shown, location range, date) from an entry's second line."""
    page = 0
    location = ""
    span = (0, 0)
    added = ""
    parts = [p.strip() for p in meta.lstrip("\ufeff").lstrip(" -").split("|")]
    unnamed: List[Tuple[int, int]] = []
    for part in parts:
        low = part.lower()
        if any(w in low for w in ADDED_WORDS):
            added = clean_text(part.split(" ", 1)[1] if " " in part else part, 80)
            for w in ("on ", "am ", "le ", "el ", "in data ", "em ", "op "):
                if added.lower().startswith(w):
                    added = added[len(w):]
                    break
            continue
        m = _RANGE.search(part)
        if not m:
            continue
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        if b < a and m.group(2) and len(m.group(2)) < len(m.group(1)):  # "Loc. 1234-40"
            b = int(m.group(1)[: len(m.group(1)) - len(m.group(2))] + m.group(2))
        if any(w in low for w in LOCATION_WORDS):
            span = (a, max(a, b))
        elif any(w in low for w in PAGE_WORDS) and not page:
            page = a
        else:
            unnamed.append((a, max(a, b)))
    if span == (0, 0) and unnamed:
        span = unnamed[-1]  # a language not known: its last number is the location
    if span != (0, 0):
        location = f"loc. {span[0]}" + (f"–{span[1]}" if span[1] != span[0] else "")
    return page, location, span, added


def _title(line: str) -> Tuple[str, str]:
    line = line.lstrip("\ufeff").strip()
    m = _AUTHOR.match(line)
    if m:
        return clean_text(m.group(1), TITLE_CHARS), clean_text(m.group(2), TITLE_CHARS)
    return clean_text(line, TITLE_CHARS), ""


def _entries(text: str) -> List[List[str]]:
    out: List[List[str]] = []
    current: List[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if SEPARATOR.match(line):
            if current:
                out.append(current)
            current = []
            if len(out) > MAX_HIGHLIGHTS * 2:
                break
            continue
        current.append(line)
    if current and any(ln.strip() for ln in current):
        out.append(current)
    return out


def read_clippings(text: str) -> Highlights:
    """The highlights of a clippings file (its notes attached to them: see the module's doc)."""
    found: List[Tuple[Highlight, Tuple[int, int]]] = []
    notes: List[Tuple[Highlight, Tuple[int, int]]] = []
    skipped = 0
    for lines in _entries(text):
        while lines and not lines[0].strip():
            lines = lines[1:]
        if len(lines) < 2 or not _META.match(lines[1]):
            skipped += 1 if any(ln.strip() for ln in lines) else 0
            continue
        book, author = _title(lines[0])
        kind = _kind(lines[1])
        if kind == "bookmark":
            continue
        page, location, span, added = _place(lines[1])
        body = clean_text("\n".join(lines[2:]), TEXT_CHARS if kind != NOTE else COMMENT_CHARS)
        if not body:
            continue
        h = Highlight(text=body, kind=kind, page=page, location=location, book=book, author=author,
                      added=added)
        (notes if kind == NOTE else found).append((h, span))
    orphans = _attach(found, notes)
    items = [h for h, _s in found] + orphans
    books: Dict[str, int] = {}
    for h in items:  # books in the order they first appear in the file
        books.setdefault(h.book, len(books))
    items.sort(key=lambda h: (books[h.book], h.order))
    items = dedupe(items)[:MAX_HIGHLIGHTS]
    for n, h in enumerate(items):
        h.order = n
    warnings = [f"{skipped} entr{'y' if skipped == 1 else 'ies'} of the clippings could not be read "
                "and were left out."] if skipped else []
    return Highlights(KINDLE_SOURCE, items, warnings)


def _attach(found: List[Tuple[Highlight, Tuple[int, int]]],
            notes: List[Tuple[Highlight, Tuple[int, int]]]) -> List[Highlight]:
    """Each note becomes the comment of the highlight of its book it was written at; the notes
    that belong to none are returned (highlights of kind ``note``). Every item gets its order:
    its location in the book where known, else its place in the file."""
    for n, (h, span) in enumerate(found):
        h.order = span[0] * 1000 + n % 1000 if span[0] else n
    by_book: Dict[str, List[Tuple[Highlight, Tuple[int, int]]]] = {}
    for h, span in found:
        by_book.setdefault(h.book, []).append((h, span))
    orphans = []
    for k, (note, span) in enumerate(notes):
        target = _written_at(by_book.get(note.book, []), span)
        if target is not None:
            target.comment = clean_text((target.comment + " " + note.text).strip(), COMMENT_CHARS)
        else:
            note.order = span[0] * 1000 + 999 if span[0] else len(found) + k
            orphans.append(note)
    return orphans


def _written_at(candidates: List[Tuple[Highlight, Tuple[int, int]]],
                span: Tuple[int, int]) -> Optional[Highlight]:
    if not span[0]:
        return None
    best: Optional[Highlight] = None
    for h, (a, b) in candidates:
        if a and a <= span[0] <= b + 1:
            best = h  # the last one that ends there (a later highlight of the same place wins)
    return best
