"""Labelled figures on PDF pages: where short text labels stand on or around a drawing or an
embedded image, with few sentences among them, and the caption when there is one.

A page is read through the renderer the caller hands in (``images.figure.PageRenderer``): its
text layer as runs of text with their boxes, and, only when it has enough label-like runs, the
page drawn small in grey. The grey page with the text erased is where the drawings and images
are (vector paths, embedded images and shadings alike, on a rotated or cropped page too: the
boxes and the drawing are both of the page as shown). Ink that stands together is one graphic;
graphics near each other or sharing labels are one figure; the labels are the short runs on or
near it. Slides are pages like any other.

Bounded: at most ``MAX_PAGES`` pages and ``MAX_PAGE_CHARS`` characters (``MAX_RUNS`` runs) of text
a page are read, the grey page is ``GRAY_SIDE`` px and its ``MAX_GRAPHICS`` largest graphics are
looked at, and the whole search stops at its deadline (the pages after it are named in a note).
"""
import re
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

from ..images.figure import Gray, PageRenderer

MAX_PAGES = 5000
MAX_PAGE_CHARS = 20_000
MAX_FIGURES = 300  # a document gives at most this many
MAX_RUNS = 2000  # text runs of a page looked at
MAX_GRAPHICS = 200  # graphics of a page looked at (the largest)
SEARCH_SECONDS = 120.0
MIN_LABELS = 3  # a figure has at least this many labels
MAX_LABEL_WORDS = 4
MAX_LABEL_CHARS = 40
GRAY_SIDE = 192  # px, the long side of the page drawn in grey
CELL = 3  # px of the grey page a cell of the ink grid holds (1.5% of the page's long side)
INK_LEVEL = 180  # grey below this is ink
NEAR = 0.04  # a label this close to a graphic (share of the page's long side) belongs to it
PAD = 0.012  # the figure's area reaches this far beyond its ink and labels
MIN_GRAPHIC = 0.008  # a figure's graphics cover at least this share of the page (their bounding box)
MIN_CELLS = 3  # ink in fewer cells than this is a speck
BACKGROUND = 0.85  # a graphic wider and higher than this share of the page is a background
CAPTION_GAP = 0.15  # a caption stands within this share of the page's height of its figure
CAPTION_LINES = 4

_BULLET = re.compile(r"^\s*(?:[-–—•▪●◦‣*]|\d{1,2}[.)])\s")
_CAPTION = re.compile(r"^\s*(?:fig(?:ure)?s?\.?|abb(?:ildung)?\.?|figura|illustration|diagram|"
                      r"plate|schema|table|tab\.|tabelle)\s*[A-Z]?\d", re.I)
_TABLE = re.compile(r"^\s*(?:table|tab\.|tabelle)\b", re.I)
_LETTER_OR_DIGIT = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Box:
    """A box on a page as shown, in points (origin top left)."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    def center(self) -> Tuple[float, float]:
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2

    def grown(self, by: float) -> "Box":
        return Box(self.left - by, self.top - by, self.right + by, self.bottom + by)

    def union(self, other: "Box") -> "Box":
        return Box(min(self.left, other.left), min(self.top, other.top),
                   max(self.right, other.right), max(self.bottom, other.bottom))

    def meets(self, other: "Box") -> bool:
        return not (other.left > self.right or other.right < self.left
                    or other.top > self.bottom or other.bottom < self.top)

    def holds(self, x: float, y: float) -> bool:
        return self.left <= x <= self.right and self.top <= y <= self.bottom

    def clipped(self, width: float, height: float) -> "Box":
        return Box(max(0.0, self.left), max(0.0, self.top), min(width, self.right), min(height, self.bottom))


@dataclass(frozen=True)
class Run:
    """A run of text on the page: a label, a line of a sentence, a caption."""

    text: str
    box: Box


@dataclass
class LabelledFigure:
    """A figure with text labels on one page of a PDF."""

    page: int  # 1-based
    page_width: float  # points, the page as shown
    page_height: float
    area: Box  # what is rendered for the note
    labels: List[Run]  # every short run inside the area, in reading order
    caption: str = ""
    title: str = ""  # the page's heading (a slide's title) when there is no caption
    sentences: int = 0  # runs of running text inside the area
    graphics: List[Box] = field(default_factory=list)


@dataclass
class FigureSearch:
    figures: List[LabelledFigure] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)  # pages not searched, and why
    pages: int = 0  # pages searched
    drawn: int = 0  # pages drawn in grey (those with enough labels)


def is_label(text: str) -> bool:
    """A short run that can name a part of a figure: one to four words, no list bullet, no
    sentence, no caption."""
    words = text.split()
    if not words or len(words) > MAX_LABEL_WORDS or len(text) > MAX_LABEL_CHARS:
        return False
    if not _LETTER_OR_DIGIT.search(text) or _BULLET.match(text) or _CAPTION.match(text):
        return False
    return not (len(words) >= 3 and text.rstrip().endswith((".", "!", "?")))


def _ink_cells(gray: Gray, scale: float, runs: Sequence[Run]) -> Tuple[bytearray, int, int]:
    """The ink grid: 1 for each cell of ``CELL`` px that holds ink once the text is erased."""
    width, height, data = gray
    ink = bytearray(data[:width * height].translate(bytes(1 if v < INK_LEVEL else 0 for v in range(256))))
    for run in runs:  # erase the text: only drawings and images are left
        x0 = max(0, int(run.box.left * scale) - 1)
        x1 = min(width, int(run.box.right * scale) + 2)
        y0 = max(0, int(run.box.top * scale) - 1)
        y1 = min(height, int(run.box.bottom * scale) + 2)
        if x1 > x0:
            blank = bytes(x1 - x0)
            for y in range(y0, y1):
                ink[y * width + x0:y * width + x1] = blank
    cols, rows = -(-width // CELL), -(-height // CELL)
    cells = bytearray(cols * rows)
    for y in range(height):
        row = y // CELL * cols
        start = y * width
        end = start + width
        pos = ink.find(1, start, end)
        while pos >= 0:
            x = pos - start
            cells[row + x // CELL] = 1
            pos = ink.find(1, start + (x // CELL + 1) * CELL, end)
    return cells, cols, rows


def _components(cells: bytearray, cols: int, rows: int) -> List[Tuple[int, int, int, int, int]]:
    """Groups of ink cells that touch (or nearly: one empty cell between them), as (left, top,
    right, bottom, cells) in cells."""
    seen = bytearray(len(cells))
    found = []
    for start in range(len(cells)):
        if not cells[start] or seen[start]:
            continue
        seen[start] = 1
        stack = [start]
        x0 = x1 = start % cols
        y0 = y1 = start // cols
        count = 0
        while stack:
            i = stack.pop()
            count += 1
            cx, cy = i % cols, i // cols
            x0, x1, y0, y1 = min(x0, cx), max(x1, cx), min(y0, cy), max(y1, cy)
            for ny in range(max(0, cy - 2), min(rows, cy + 3)):
                base = ny * cols
                for nx in range(max(0, cx - 2), min(cols, cx + 3)):
                    j = base + nx
                    if cells[j] and not seen[j]:
                        seen[j] = 1
                        stack.append(j)
        found.append((x0, y0, x1 + 1, y1 + 1, count))
    return found


def graphic_boxes(gray: Gray, page_width: float, page_height: float, runs: Sequence[Run]) -> List[Box]:
    """Where the page's drawings and images are (its ink without the text), as boxes in points;
    specks and backgrounds left out (small parts count: several of them may make one figure)."""
    width = gray[0]
    scale = width / max(1.0, page_width)
    cells, cols, rows = _ink_cells(gray, scale, runs)
    to_points = CELL / scale
    boxes = []
    for x0, y0, x1, y1, count in _components(cells, cols, rows):
        box = Box(x0 * to_points, y0 * to_points, min(page_width, x1 * to_points),
                  min(page_height, y1 * to_points))
        if count < MIN_CELLS:
            continue
        if box.width > BACKGROUND * page_width and box.height > BACKGROUND * page_height:
            continue
        boxes.append(box)
    return boxes


def _groups(graphics: Sequence[Box], labels: Sequence[Run], near: float) -> List[Tuple[List[int], Set[int]]]:
    """Graphics that stand close or share a label, with the labels near them: (graphic
    indices, label indices) per group."""
    parent = list(range(len(graphics)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    reach = [g.grown(near) for g in graphics]
    near_labels = [{j for j, run in enumerate(labels) if reach[i].meets(run.box)} for i in range(len(graphics))]
    for i in range(len(graphics)):
        for k in range(i + 1, len(graphics)):
            if reach[i].meets(graphics[k]) or near_labels[i] & near_labels[k]:
                parent[root(i)] = root(k)
    groups: Dict[int, Tuple[List[int], Set[int]]] = {}
    for i in range(len(graphics)):
        members, attached = groups.setdefault(root(i), ([], set()))
        members.append(i)
        attached |= near_labels[i]
    return list(groups.values())


def _caption(runs: Sequence[Run], area: Box, page_width: float, page_height: float) -> Tuple[str, List[Run]]:
    """The figure's caption ("Figure 3. ...", and the lines that go on with it) below or above
    its area (or beside it: on a page turned by /Rotate the caption's line runs upright), and
    the runs it is made of."""
    best: Optional[int] = None
    best_gap = CAPTION_GAP * max(page_width, page_height)
    for i, run in enumerate(runs):
        if not _CAPTION.match(run.text):
            continue
        box = run.box
        if not (box.right < area.left or box.left > area.right):  # under or over it
            gap = max(box.top - area.bottom, area.top - box.bottom, 0.0)
            if gap > CAPTION_GAP * page_height:
                continue
        elif not (box.bottom < area.top or box.top > area.bottom):  # beside it
            gap = max(box.left - area.right, area.left - box.right, 0.0)
            if gap > CAPTION_GAP * page_width:
                continue
        else:
            continue
        if gap <= best_gap:
            best, best_gap = i, gap
    if best is None:
        return "", []
    lines = [runs[best]]
    for run in runs[best + 1:best + CAPTION_LINES]:
        last = lines[-1].box
        if 0 <= run.box.top - last.bottom <= 0.8 * max(1.0, last.height) and run.box.left < last.right \
                and not _CAPTION.match(run.text):
            lines.append(run)
        else:
            break
    return " ".join(r.text for r in lines), lines


def _title(runs: Sequence[Run], area: Box, skip: Sequence[Run]) -> str:
    """The tallest line above the figure (a slide's title), if it is not running text."""
    above = [r for r in runs if r.box.bottom <= area.top + 1 and r not in skip and 1 <= len(r.text) <= 120]
    if not above:
        return ""
    return max(above, key=lambda r: (round(r.box.height, 1), -r.box.top)).text


def reading_order(runs: Sequence[Run]) -> List[Run]:
    """Top to bottom in rows, left to right within a row (labels whose tops differ by less than
    half their height stand in one row, whatever their letters' heights)."""
    rows: List[List[Run]] = []
    for run in sorted(runs, key=lambda r: r.box.top):
        if rows and run.box.top - rows[-1][0].box.top < 0.5 * max(1.0, rows[-1][0].box.height):
            rows[-1].append(run)
        else:
            rows.append([run])
    return [run for row in rows for run in sorted(row, key=lambda r: r.box.left)]


def page_figures(runs: Sequence[Run], gray: Gray, page: int, page_width: float,
                 page_height: float) -> List[LabelledFigure]:
    """The labelled figures of one page, from its text runs and the page drawn in grey."""
    captions = [r for r in runs if _CAPTION.match(r.text)]
    labels = [r for r in runs if is_label(r.text)]
    graphics = graphic_boxes(gray, page_width, page_height, runs)
    near = NEAR * max(page_width, page_height)
    figures = []
    for members, attached in _groups(graphics, labels, near):
        if len(attached) < MIN_LABELS:
            continue
        area = graphics[members[0]]
        for i in members[1:]:
            area = area.union(graphics[i])
        if area.area < MIN_GRAPHIC * page_width * page_height:
            continue
        for j in attached:
            area = area.union(labels[j].box)
        area = area.grown(PAD * max(page_width, page_height)).clipped(page_width, page_height)
        caption, caption_runs = _caption(runs, area, page_width, page_height)
        if _TABLE.match(caption):
            continue  # a table's cells are short texts in a grid of lines, not a figure's labels
        inside = [r for r in runs if area.holds(*r.box.center()) and r not in caption_runs]
        own = [r for r in inside if is_label(r.text)]
        sentences = len(inside) - len(own)
        if len(own) < MIN_LABELS or sentences > max(2, len(own) // 2):
            continue
        figures.append(LabelledFigure(page, page_width, page_height, area, reading_order(own), caption,
                                      "" if caption else _title(runs, area, inside), sentences,
                                      [graphics[i] for i in members]))
    return _without_overlaps(figures)


def _without_overlaps(figures: List[LabelledFigure]) -> List[LabelledFigure]:
    """Two figures whose areas overlap share labels: the larger one is kept."""
    kept: List[LabelledFigure] = []
    for figure in sorted(figures, key=lambda f: -f.area.area):
        if not any(figure.area.meets(k.area) for k in kept):
            kept.append(figure)
    return sorted(kept, key=lambda f: (f.area.top, f.area.left))


# A page's /Rotate (0, 90, 180, 270) and crop box (left, bottom, right, top) in its own coordinates.
Turn = Tuple[int, Tuple[float, float, float, float]]


def page_turns(origin: Union[str, bytes, None], count: int) -> Dict[int, Turn]:
    """Each page's /Rotate and crop box, read with pypdf (for text layers that do not apply
    them); pages it cannot read are left out."""
    from ..sources.pdf_figures import _open

    turns: Dict[int, Turn] = {}
    if origin is None:
        return turns
    try:
        reader, handle = _open(origin)
    except Exception:
        return turns
    try:
        for index in range(min(count, len(reader.pages), MAX_PAGES)):
            try:
                page = reader.pages[index]
                box = page.cropbox
                rotate = int(round((int(page.rotation or 0) % 360) / 90.0)) * 90 % 360
                turns[index] = (rotate, (float(box.left), float(box.bottom), float(box.right), float(box.top)))
            except Exception:
                continue
    finally:
        if handle is not None:
            handle.close()
    return turns


def turned(box: Box, turn: Turn, shown_height: float) -> Box:
    """A box in the page's own coordinates (y measured down from the shown height, as older
    QtPdf gives them) on the page as shown."""
    rotate, (left, bottom, right, top) = turn
    w, h = right - left, top - bottom
    corners = []
    for x, y_down in ((box.left, box.top), (box.right, box.bottom)):
        u, v = x - left, top - (shown_height - y_down)
        corners.append({90: (h - v, u), 180: (w - u, h - v), 270: (v, w - u)}.get(rotate, (u, v)))
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return Box(min(xs), min(ys), max(xs), max(ys))


def read_runs(renderer: PageRenderer, index: int, turn: Optional[Turn] = None,
              shown_height: float = 0.0) -> List[Run]:
    """The page's text runs; ``turn``: the page's /Rotate and crop box, for a text layer that
    does not apply them."""
    raw = (renderer.text_runs(index, MAX_PAGE_CHARS) or [])[:MAX_RUNS]
    runs = []
    for text, left, top, right, bottom in raw:
        text = " ".join(str(text).split())
        if text and right > left and bottom > top:
            box = Box(float(left), float(top), float(right), float(bottom))
            runs.append(Run(text, turned(box, turn, shown_height) if turn is not None else box))
    return runs


def find_figures(renderer: PageRenderer, label: str, pages: Optional[Sequence[int]] = None,
                 seconds: float = SEARCH_SECONDS, origin: Union[str, bytes, None] = None) -> FigureSearch:
    """The labelled figures of an open PDF (``pages``: 0-based indices, default all), in page
    order. A page the renderer cannot read is passed over; past ``seconds`` the search stops and
    says which pages it did not look at. ``origin``: the PDF's path or bytes, read for its
    pages' /Rotate and crop box when the renderer's text layer does not apply them."""
    deadline = time.monotonic() + seconds
    search = FigureSearch()
    indices = list(pages) if pages is not None else list(range(min(renderer.page_count(), MAX_PAGES)))
    turns = page_turns(origin, max(indices, default=-1) + 1) if not renderer.text_turned() else None
    for n, index in enumerate(indices):
        if time.monotonic() > deadline:
            search.notes.append(f"'{label}': pages {index + 1} to {indices[-1] + 1} were not searched "
                                f"for labelled figures (it took longer than {seconds:.0f} s).")
            break
        if len(search.figures) >= MAX_FIGURES:
            search.notes.append(f"'{label}' has more than {MAX_FIGURES} labelled figures; the rest "
                                "are not used.")
            break
        search.pages = n + 1
        try:
            size = renderer.page_size(index)
            turn = turns.get(index, (0, (0.0, 0.0, size[0], size[1])) if size else None) \
                if turns is not None else None
            runs = read_runs(renderer, index, turn, size[1]) if size else []
            if size is None or sum(1 for r in runs if is_label(r.text)) < MIN_LABELS:
                continue
            gray = renderer.gray(index, GRAY_SIDE)
        except Exception:  # an adapter's failure on one page must not cost the others
            continue
        if gray is None:
            continue
        search.drawn += 1
        search.figures.extend(page_figures(runs, gray, index + 1, size[0], size[1]))
    return search
