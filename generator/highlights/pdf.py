"""A PDF's highlights: its markup annotations of kind Highlight, Underline, Squiggly and StrikeOut
(what Acrobat, Preview, Zotero, Okular and the browsers write), each with the text under its
quadrilaterals (``/QuadPoints``; its ``/Rect`` when it has none), its page, its colour and the
reader's comment (the annotation's ``/Contents``, and the replies that point to it with
``/IRT``; Preview stores the highlighted text itself there, which is then no comment).

The text comes from the page's text layer (``glyphs.GlyphWalk``): the glyphs whose centre lies
inside a quadrilateral, in the order the page draws them, with a space where a gap or a line
break separates them and a hyphen at a line's end joined.

Bounded like the text's reading (``sources.limits``): a page's time (``page_seconds``) and
content size (``page_bytes``); at most ``MAX_ANNOTATIONS_PER_PAGE`` annotations looked at on a
page and ``MAX_ANNOTATIONS`` in all, ``MAX_QUADS`` quadrilaterals an annotation; coordinates
that are not finite numbers within ``COORDINATE_LIMIT``, and quadrilaterals wholly off their
page, are left out; what is left out is said in the result's warnings."""
import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..sources.bounded import Alarm, Interrupted, Watch
from ..sources.limits import ReadLimits, current
from .glyphs import Box, Glyph, GlyphWalk
from .highlight import (
    COMMENT_CHARS,
    HIGHLIGHT,
    MAX_HIGHLIGHTS,
    PDF_SOURCE,
    SQUIGGLY,
    STRIKEOUT,
    TEXT_CHARS,
    UNDERLINE,
    Highlight,
    Highlights,
    clean_text,
    colour_name,
)

MARKUP = {"/Highlight": HIGHLIGHT, "/Underline": UNDERLINE, "/Squiggly": SQUIGGLY, "/StrikeOut": STRIKEOUT}
MAX_ANNOTATIONS_PER_PAGE = 2_000
MAX_ANNOTATIONS = 50_000
MAX_QUADS = 500
COORDINATE_LIMIT = 1e6
MAX_PAGES = 5000

Point = Tuple[float, float]
Quad = Tuple[Point, Point, Point, Point]  # in order around it


def _num(value: Any) -> Optional[float]:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and abs(x) <= COORDINATE_LIMIT else None


def _around(points: Sequence[Point]) -> Quad:
    """The four corners in order around their centre (writers differ: Acrobat puts them
    upper-left, upper-right, lower-left, lower-right; the specification counter-clockwise)."""
    cx = sum(p[0] for p in points) / 4
    cy = sum(p[1] for p in points) / 4
    ordered = sorted(points, key=lambda p: math.atan2(p[1] - cy, p[0] - cx))
    return (ordered[0], ordered[1], ordered[2], ordered[3])


def _box(quad: Quad, margin: float = 0.0) -> Box:
    xs = [p[0] for p in quad]
    ys = [p[1] for p in quad]
    return (min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin)


def _overlaps(a: Box, b: Box) -> bool:
    return not (a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3])


def _inside(quad: Quad, x: float, y: float) -> bool:
    """Whether (x, y) lies in the convex quadrilateral (its edge counts)."""
    sign = 0
    for i in range(4):
        (x1, y1), (x2, y2) = quad[i], quad[(i + 1) % 4]
        cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
        if abs(cross) < 1e-9:
            continue
        s = 1 if cross > 0 else -1
        if sign and s != sign:
            return False
        sign = s
    return True


def quads_of(annot: Any) -> List[Quad]:
    """The annotation's quadrilaterals (its /Rect as one when it has no usable /QuadPoints);
    numbers that are not finite, too large or an odd count are left out."""
    raw = annot.get("/QuadPoints")
    quads: List[Quad] = []
    try:
        values = list(raw.get_object())[: MAX_QUADS * 8] if raw is not None else []
    except Exception:
        values = []
    for i in range(0, len(values) - 7, 8):
        nums = [n for n in (_num(v) for v in values[i:i + 8]) if n is not None]
        if len(nums) == 8:
            quads.append(_around([(nums[k], nums[k + 1]) for k in range(0, 8, 2)]))
    if quads:
        return quads
    try:
        rect = [n for n in (_num(v) for v in list(annot.get("/Rect").get_object())[:4]) if n is not None]
    except Exception:
        return []
    if len(rect) != 4:
        return []
    x0, x1 = min(rect[0], rect[2]), max(rect[0], rect[2])
    y0, y1 = min(rect[1], rect[3]), max(rect[1], rect[3])
    return [_around([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])]


def join_glyphs(glyphs: Sequence[Glyph]) -> str:
    """The text of glyphs in drawing order: a space where they stand apart (a gap of more than
    0.15 em on a line, or another line), a word hyphenated at a line's end joined again."""
    out: List[str] = []
    prev: Optional[Glyph] = None
    for g in glyphs:
        text = g[0]
        if prev is not None and out:
            gap = math.hypot(g[3] - prev[5], g[4] - prev[6])
            size = max(g[7], prev[7], 1.0)
            if gap > 0.15 * size and not out[-1].endswith(" ") and not text.startswith(" "):
                last = out[-1]
                if gap > 1.2 * size and last.endswith("-") and len(last) >= 1 and text[:1].islower() \
                        and len(out) >= 2 and out[-2][-1:].isalpha():
                    out[-1] = last[:-1]  # a word hyphenated at the line's end
                else:
                    out.append(" ")
        out.append(text)
        prev = g
    return "".join(out)


def _string(value: Any, limit: int) -> str:
    try:
        value = value.get_object() if hasattr(value, "get_object") else value
    except Exception:
        return ""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return clean_text(value, limit) if isinstance(value, str) else ""


def _colour(annot: Any) -> str:
    try:
        values = list(annot.get("/C").get_object())[:4] if annot.get("/C") is not None else []
    except Exception:
        return ""
    return colour_name(values) if values else ""


def _page_box(page: Any) -> Optional[Box]:
    try:
        box = page.mediabox
        x0, y0, x1, y1 = (float(box.left), float(box.bottom), float(box.right), float(box.top))
    except Exception:
        return None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1, y1)


def _folded(text: str) -> str:
    return " ".join("".join(c for c in text.casefold() if c.isalnum() or c.isspace()).split())


class _Mark:
    """A markup annotation found on a page, before its text is read."""

    __slots__ = ("kind", "quads", "colour", "contents", "ref", "replies")

    def __init__(self, kind: str, quads: List[Quad], colour: str, contents: str, ref: Any) -> None:
        self.kind = kind
        self.quads = quads
        self.colour = colour
        self.contents = contents
        self.ref = ref
        self.replies: List[str] = []


class _Counts:
    def __init__(self) -> None:
        self.looked = 0
        self.too_many_on = 0  # pages with more annotations than are looked at
        self.unplaced = 0  # markup without any usable quadrilateral or rect
        self.off_page = 0
        self.no_text = 0
        self.skipped_pages: List[str] = []
        self.over = False  # more than MAX_HIGHLIGHTS
        self.fonts: Dict[Any, Any] = {}  # the fonts read, shared by the pages


def _marks_of(page: Any, counts: _Counts) -> List[_Mark]:
    """The markup annotations of a page (bounded), with the replies that point at them."""
    try:
        annots = page.get("/Annots")
        annots = annots.get_object() if annots is not None else None
    except Exception:
        return []
    if not isinstance(annots, list) or not annots:
        return []
    if len(annots) > MAX_ANNOTATIONS_PER_PAGE:
        counts.too_many_on += 1
    marks: List[_Mark] = []
    by_ref: Dict[int, _Mark] = {}
    replies: List[Tuple[int, str]] = []
    for ref in annots[:MAX_ANNOTATIONS_PER_PAGE]:
        if counts.looked >= MAX_ANNOTATIONS:
            break
        counts.looked += 1
        try:
            annot = ref.get_object()
            subtype = annot.get("/Subtype")
        except Exception:
            continue
        if not hasattr(annot, "get"):
            continue
        kind = MARKUP.get(str(subtype)) if subtype is not None else None
        if kind is None:
            irt = annot.get("/IRT")
            idnum = getattr(irt, "idnum", None)
            if idnum is not None:
                replies.append((idnum, _string(annot.get("/Contents"), COMMENT_CHARS)))
            continue
        quads = quads_of(annot)
        if not quads:
            counts.unplaced += 1
            continue
        mark = _Mark(kind, quads, _colour(annot), _string(annot.get("/Contents"), COMMENT_CHARS),
                     getattr(ref, "idnum", None))
        marks.append(mark)
        if mark.ref is not None:
            by_ref[mark.ref] = mark
    for idnum, text in replies:
        target = by_ref.get(idnum)
        if target is not None and text:
            target.replies.append(text)
    return marks


def _on_page(marks: List[_Mark], box: Optional[Box], counts: _Counts) -> List[_Mark]:
    """The marks with their quadrilaterals cut to those that touch the page (a margin of a
    tenth of its size around it forgiven)."""
    if box is None:
        return marks
    mx, my = (box[2] - box[0]) * 0.1, (box[3] - box[1]) * 0.1
    near = (box[0] - mx, box[1] - my, box[2] + mx, box[3] + my)
    kept = []
    for mark in marks:
        mark.quads = [q for q in mark.quads if _overlaps(_box(q), near)]
        if mark.quads:
            kept.append(mark)
        else:
            counts.off_page += 1
    return kept


def _comment(mark: _Mark, text: str) -> str:
    parts = list(mark.replies)
    if mark.contents and _folded(mark.contents) not in (_folded(text), ""):
        # Preview puts the highlighted text itself into /Contents: that is no comment
        if not _folded(text) or _folded(mark.contents) not in _folded(text):
            parts.insert(0, mark.contents)
    return clean_text(" ".join(parts), COMMENT_CHARS)


def _page_highlights(reader: Any, page: Any, number: int, marks: List[_Mark],
                     counts: _Counts) -> List[Tuple[int, Highlight]]:
    """(order on the page, highlight) of each mark with text under it (its text repaired as the
    page's own text is: ligatures, mojibake)."""
    from ..sources.textfix import fix_text

    areas: List[Box] = []
    owner: List[Tuple[int, Quad]] = []  # area -> (its mark, its quad)
    for k, mark in enumerate(marks):
        for q in mark.quads:
            areas.append(_box(q, 1.0))
            owner.append((k, q))
    walk = GlyphWalk(reader, areas, counts.fonts)
    glyphs = walk.page(page)
    inside: Dict[int, List[Tuple[int, Glyph]]] = {}  # mark -> (order, glyph) in one of its quads
    last: Dict[int, int] = {}
    for i, (g, area) in enumerate(zip(glyphs, walk.where)):
        k, q = owner[area]
        if last.get(k) != id(g) and _inside(q, g[1], g[2]):  # (a glyph in two quads of one mark: once)
            inside.setdefault(k, []).append((i, g))
            last[k] = id(g)
    found: List[Tuple[int, Highlight]] = []
    for k, mark in enumerate(marks):
        mine = inside.get(k, [])
        text = clean_text(fix_text(join_glyphs([g for _i, g in mine])), TEXT_CHARS)
        if not any(c.isalnum() for c in text):
            counts.no_text += 1
            continue
        found.append((mine[0][0] if mine else k, Highlight(
            text=text, kind=mark.kind, comment=_comment(mark, text), colour=mark.colour, page=number)))
    return found


def read_pdf_highlights(source: Any, label: str, limits: Optional[ReadLimits] = None) -> Highlights:
    """The highlights of a PDF given as a path, bytes or an open binary file (see the module's
    doc). Raises the text reader's errors for a PDF that cannot be opened at all; a page that
    cannot be read is skipped and said in the warnings."""
    from ..sources.pdf import content_bytes, open_pdf, pypdf_caps

    limits = limits or current()
    pypdf, reader = open_pdf(source, label, limits)
    caps = pypdf_caps(pypdf, limits)
    counts = _Counts()
    found: List[Tuple[int, int, Highlight]] = []
    try:
        with Alarm(limits.page_seconds):
            total = min(len(reader.pages), MAX_PAGES)
    except Interrupted:
        total = 0
    except Exception:
        total = 0
    watch = Watch()  # one thread bounds every page's time
    try:
        for index in range(total):
            if counts.looked >= MAX_ANNOTATIONS or len(found) >= MAX_HIGHLIGHTS:
                counts.over = len(found) >= MAX_HIGHLIGHTS
                break
            try:
                with watch.page(limits.page_seconds), caps():
                    page = reader.pages[index]
                    marks = _on_page(_marks_of(page, counts), _page_box(page), counts)
                    if not marks:
                        continue
                    content_bytes(page, limits.page_bytes)
                    for order, h in _page_highlights(reader, page, index + 1, marks, counts):
                        found.append((index, order, h))
            except Interrupted:
                counts.skipped_pages.append(f"page {index + 1} (it took longer than {limits.page_seconds:g} s)")
            except Exception as err:  # a page too large, or damaged: its highlights are not read
                counts.skipped_pages.append(f"page {index + 1} ({type(err).__name__})")
    finally:
        watch.close()
    found.sort(key=lambda t: (t[0], t[1]))
    items = _once([h for _p, _o, h in found[:MAX_HIGHLIGHTS]])
    for n, h in enumerate(items):
        h.order = n
    return Highlights(PDF_SOURCE, items, _warnings(label, counts))


def _once(items: List[Highlight]) -> List[Highlight]:
    """The highlights without repeats: the same words marked twice on one page are one highlight
    (their comments joined)."""
    seen: Dict[Tuple[int, str], Highlight] = {}
    out = []
    for h in items:
        key = (h.page, _folded(h.text))
        kept = seen.get(key)
        if kept is None:
            seen[key] = h
            out.append(h)
        elif h.comment and h.comment not in kept.comment:
            kept.comment = clean_text(kept.comment + " " + h.comment, COMMENT_CHARS)
    return out


def count_pdf_highlights(source: Any, label: str, limits: Optional[ReadLimits] = None) -> Highlights:
    """A PDF's markup annotations that say where they are, without the text under them (their
    ``text`` empty): how many there are, of which colours, on which pages. Bounded as the read."""
    from ..sources.pdf import open_pdf

    limits = limits or current()
    _pypdf, reader = open_pdf(source, label, limits)
    counts = _Counts()
    items: List[Highlight] = []
    try:
        with Alarm(limits.seconds):
            for index in range(min(len(reader.pages), MAX_PAGES)):
                if counts.looked >= MAX_ANNOTATIONS or len(items) >= MAX_HIGHLIGHTS:
                    break
                page = reader.pages[index]
                for mark in _on_page(_marks_of(page, counts), _page_box(page), counts):
                    items.append(Highlight(text="", kind=mark.kind, colour=mark.colour, page=index + 1))
    except Interrupted:
        pass
    except Exception:  # a damaged page list: what was counted so far
        pass
    return Highlights(PDF_SOURCE, items[:MAX_HIGHLIGHTS], [])


def _warnings(label: str, counts: _Counts) -> List[str]:
    out = []
    if counts.skipped_pages:
        shown = ", ".join(counts.skipped_pages[:5]) + (" …" if len(counts.skipped_pages) > 5 else "")
        out.append(f"'{label}': the highlights of {len(counts.skipped_pages)} page(s) could not be "
                   f"read: {shown}.")
    if counts.too_many_on or counts.looked >= MAX_ANNOTATIONS:
        out.append(f"'{label}': it has more annotations than are read (at most "
                   f"{MAX_ANNOTATIONS_PER_PAGE:,} a page and {MAX_ANNOTATIONS:,} in all); the rest "
                   "were left out.")
    if counts.over:
        out.append(f"'{label}': only its first {MAX_HIGHLIGHTS:,} highlights are used.")
    if counts.off_page:
        out.append(f"'{label}': {counts.off_page} highlight(s) lie outside their page and were left out.")
    if counts.unplaced:
        out.append(f"'{label}': {counts.unplaced} highlight(s) say nothing of where they are "
                   "(no quadrilaterals, no rectangle) and were left out.")
    if counts.no_text:
        out.append(f"'{label}': {counts.no_text} highlight(s) cover no text (a scanned page needs "
                   "OCR first) and were left out.")
    return out
