"""Planning a job whose sources have figures: which chunks carry which figures.

    plan = plan_with_figures(documents, options, graphics)   # graphics: figures.Graphics or None
    run_job(plan.chunks, ...); plan.warnings; plan.store; plan.close()

- The model cannot see (``options.vision`` is not True), or figures are off: the text is
  planned as ``plan_chunks`` does, and a source that has figures gets a warning saying they
  are not used; a source that is only figures (an image file, a scanned PDF) gives nothing
  and says why (``plan.skipped``).
- Slides: a PDF whose pages are mostly figures and short text (or every PDF with
  ``--figures slides``), and a PDF without a text layer, is read page by page: one chunk per
  page with the page rendered (or, without a renderer, the figures found on it) and the
  page's own text.
- Other documents: chunks as usual, a little smaller so that a figure fits beside the text;
  each figure goes with the chunk that holds the text before it (in a PDF: its page), as many
  as the context and ``options.max_images`` allow; what does not fit gets a chunk of its own.
"""
import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..job.chunking import chunk_document, estimate_tokens
from ..job.chunk import Chunk
from ..sources.document import Block, Document
from ..errors import SourceError, UnsupportedSource
from ..images.figure import (
    Figure,
    FigureMode,
    FigureSet,
    Graphics,
    PageStats,
    SourceKind,
    figure_mode,
)
from ..cards.grounding import normalise
from ..images.safety import MAX_PIXELS
from ..outside import shown
from ..job.images import (
    IMAGE_MAX_SIDE,
    FigureStore,
    ImagePart,
    PartKind,
    PartSource,
    SharedRenderer,
    part_tokens,
    sendable_without_graphics,
)

SPARSE_CHARS = 700  # a page with less text than this is "short text"
VISUAL_AREA = 0.2  # a page whose images cover this share is "mostly figure"
VISUAL_DRAWINGS = 25  # ... or that paints this many vector paths
SLIDES_SPARSE_SHARE = 0.7
SLIDES_VISUAL_SHARE = 0.4
MIN_TEXT_BUDGET = 120  # tokens of text a chunk with images keeps at least

_PAGE = re.compile(r"^page (\d+)$")


@dataclass
class FigurePlan:
    chunks: List[Chunk]
    warnings: List[str] = field(default_factory=list)
    skipped: List[SourceError] = field(default_factory=list)  # documents that give nothing
    store: FigureStore = field(default_factory=FigureStore)
    images: int = 0  # images the chunks carry
    slides: List[str] = field(default_factory=list)  # documents read page by page
    renderers: List[SharedRenderer] = field(default_factory=list)

    def close(self) -> None:
        for renderer in self.renderers:
            renderer.close()
        self.renderers = []


def can_see(options: Any) -> bool:
    """Images are sent when the server says the model can see, or, when the server does not
    say, the user asked for slides."""
    vision = getattr(options, "vision", None)
    mode = figure_mode(getattr(options, "figures", "auto"))
    if mode is FigureMode.OFF:
        return False
    return vision is True or (vision is None and mode is FigureMode.SLIDES)


def probe_figures(figset: FigureSet) -> bool:
    """Cheap: does the source hold figures at all (without reading them)?"""
    if figset.kind is SourceKind.IMAGE or figset.no_text is not None or figset.figures:
        return True
    origin = figset.origin
    try:
        if figset.kind is SourceKind.PDF:
            data = origin if isinstance(origin, bytes) else _read_head(origin, 200 * 1024 * 1024)
            return re.search(rb"/Subtype\s*/Image\b", data) is not None
        if figset.kind in (SourceKind.DOCX, SourceKind.EPUB):
            import io
            import zipfile

            src = io.BytesIO(origin) if isinstance(origin, bytes) else origin
            with zipfile.ZipFile(src) as zf:  # type: ignore[arg-type]
                return any(n.lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".webp", ".emf"))
                           for n in zf.namelist())
        if figset.kind is SourceKind.HTML:
            data = origin if isinstance(origin, bytes) else _read_head(origin, 50 * 1024 * 1024)
            return re.search(rb"<img\b", data, re.I) is not None
    except Exception:
        return False
    return False


def _read_head(path: Any, limit: int) -> bytes:
    if not isinstance(path, str):
        return b""
    from ..sources.read import open_regular

    with open_regular(path) as f:  # opened by name again: never block on a FIFO put in its place
        return f.read(limit)


def _cannot_see_text(options: Any) -> str:
    model = shown(getattr(options, "model", ""), 80)
    if getattr(options, "vision", None) is None:
        return (f"the server does not say whether the model '{model}' can see, so only text is used "
                "(--figures slides, or 'figures': 'slides' in the settings, sends page images anyway)")
    return (f"the model '{model}' cannot see (its capabilities do not include 'vision'), so only "
            "text is used; choose a model that can see to use them")


# --- helpers ---------------------------------------------------------------------------------

def _page_of(location: str) -> int:
    m = _PAGE.match(location or "")
    return int(m.group(1)) if m else 0


def _chunk_id(*parts: str) -> str:
    """A chunk's id from its parts. Ids are stored (a bulk job's journal, the chunks a collection
    already holds), so the words in them ("pictures") stay as they are."""
    key = "\x1f".join(parts)
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def context_room(options: Any) -> int:
    """Tokens a request may hold besides the fixed prompt and the answer: text and images.
    (``job.chunk_budget`` is the text's share, which the depth may keep smaller.)"""
    from ..job.run import fixed_prompt_tokens

    answer = min(options.num_predict, options.num_ctx // 2)
    return int(options.num_ctx - fixed_prompt_tokens(options) - answer - 64)


def is_slides(pages: Sequence[PageStats]) -> bool:
    """Mostly figures and short text, page after page."""
    if not pages:
        return False
    n = len(pages)
    sparse = sum(1 for p in pages if p.chars < SPARSE_CHARS)
    visual = sum(1 for p in pages if is_visual(p))
    return sparse >= SLIDES_SPARSE_SHARE * n and visual >= SLIDES_VISUAL_SHARE * n


def is_visual(page: PageStats) -> bool:
    return page.image_area >= VISUAL_AREA or page.drawings >= VISUAL_DRAWINGS


class _Planner:
    def __init__(self, options: Any, graphics: Optional[Graphics], plan: FigurePlan) -> None:
        from ..job.run import chunk_budget

        self.options = options
        self.graphics = graphics
        self.plan = plan
        self.budget = chunk_budget(options)  # tokens of text per chunk
        self.room = max(self.budget, context_room(options))  # tokens of text and images per request
        self.max_images = max(0, int(getattr(options, "max_images", 4) or 0))
        self.max_side = IMAGE_MAX_SIDE
        self.without_qt: Dict[str, int] = {}

    # -- parts ----------------------------------------------------------------------------

    def figure_part(self, figure: Figure, label: str) -> Optional[ImagePart]:
        if self.graphics is None:
            why = sendable_without_graphics(figure, self.max_side)
            if why:
                self.without_qt[why] = self.without_qt.get(why, 0) + 1
                return None
        return ImagePart(PartKind.FIGURE, label, figure.location,
                         part_tokens(figure.info.width, figure.info.height, self.max_side),
                         self.plan.store, PartSource(figure=figure, graphics=self.graphics),
                         max_side=self.max_side, caption=figure.caption)

    def page_part(self, renderer: SharedRenderer, page: PageStats) -> ImagePart:
        return ImagePart(PartKind.PAGE, f"page {page.number}", f"page {page.number}",
                         part_tokens(page.width, page.height, self.max_side), self.plan.store,
                         PartSource(renderer=renderer, page_index=page.number - 1), max_side=self.max_side)

    def renderer_for(self, figset: FigureSet, label: str) -> Optional[SharedRenderer]:
        if self.graphics is None or figset.origin is None:
            return None
        try:
            opened = self.graphics.open_pdf(figset.origin)
        except Exception:
            opened = None
        if opened is None:
            self.plan.warnings.append(f"'{shown(label, 120)}': its pages could not be rendered; the "
                                      "figures found in it are used instead.")
            return None
        shared = SharedRenderer(opened)
        self.plan.renderers.append(shared)
        return shared

    def fit(self, parts: List[ImagePart], text_tokens: int) -> Tuple[List[ImagePart], List[ImagePart]]:
        """(parts that fit beside ``text_tokens`` of text, the rest)."""
        room = self.room - text_tokens
        taken: List[ImagePart] = []
        for i, part in enumerate(parts):
            if len(taken) >= self.max_images or part.tokens > room:
                return taken, parts[i:]
            taken.append(part)
            room -= part.tokens
        return taken, []

    # -- documents ------------------------------------------------------------------------

    def document(self, doc: Document) -> List[Chunk]:
        figset = doc.figures
        assert figset is not None
        from ..sources.figures import load_figures

        if figset.kind is SourceKind.IMAGE:
            return self.image_document(doc, figset)
        load_figures(figset, doc.name)
        self.plan.warnings.extend(figset.notes)
        if figset.kind is SourceKind.PDF:
            return self.pdf(doc, figset)
        return self.with_figures(doc, chunk_document(doc, self.text_budget(figset)), figset.figures)

    def text_budget(self, figset: FigureSet) -> int:
        """Room for one image beside the text, when the document has figures."""
        if not figset.figures or not self.max_images:
            return self.budget
        reserve = min(part_tokens(f.info.width, f.info.height, self.max_side) for f in figset.figures)
        return max(MIN_TEXT_BUDGET, min(self.budget, self.room - reserve))

    def image_document(self, doc: Document, figset: FigureSet) -> List[Chunk]:
        figure = figset.figures[0]
        part = self.figure_part(figure, f"the image '{shown(doc.name, 80)}'")
        if part is None or not self.max_images:
            why = next(iter(self.without_qt), "no images may be sent (max_images_per_request is 0)")
            self.plan.skipped.append(UnsupportedSource(f"'{shown(doc.name, 120)}': {why}.",
                                                       "Install PyQt6, or save the image as a smaller PNG or JPEG."))
            return []
        digest = hashlib.sha1(figure.data).hexdigest()
        return [Chunk(_chunk_id(doc.name, digest), doc.name, "", (), "", 0, images=(part,), path=doc.path)]

    def pdf(self, doc: Document, figset: FigureSet) -> List[Chunk]:
        pages = figset.pages
        chars: Dict[int, int] = {}
        for block in doc.blocks:
            n = _page_of(block.location)
            chars[n] = chars.get(n, 0) + len(block.text)
        for page in pages:
            page.chars = chars.get(page.number, 0)
        mode = figure_mode(getattr(self.options, "figures", "auto"))
        if figset.no_text is not None or mode is FigureMode.SLIDES or is_slides(pages):
            chunks = self.slides(doc, figset)
            if chunks:
                self.plan.slides.append(doc.name)
                return chunks
            if figset.no_text is not None:
                self.plan.skipped.append(figset.no_text)
                return []
        figures = list(figset.figures)
        with_figures = {f.page for f in figures}
        drawn = [p for p in pages if p.drawings >= VISUAL_DRAWINGS and p.number not in with_figures
                 and p.largest_image <= MAX_PIXELS]
        renderer = self.renderer_for(figset, doc.name) if drawn and self.graphics is not None else None
        budget = self.text_budget(figset) if figures or renderer is not None else self.budget
        if renderer is not None and not figures:
            budget = max(MIN_TEXT_BUDGET, min(self.budget, self.room - part_tokens(drawn[0].width,
                                                                                   drawn[0].height)))
        chunks = chunk_document(doc, budget)
        return self.with_figures(doc, chunks, figures, renderer, drawn if renderer is not None else ())

    def slides(self, doc: Document, figset: FigureSet) -> List[Chunk]:
        renderer = self.renderer_for(figset, doc.name)
        blocks_by_page: Dict[int, List[Block]] = {}
        for block in doc.blocks:
            blocks_by_page.setdefault(_page_of(block.location), []).append(block)
        figures_by_page: Dict[int, List[Figure]] = {}
        for figure in figset.figures:
            figures_by_page.setdefault(figure.page, []).append(figure)
        chunks: List[Chunk] = []
        huge = []
        for page in figset.pages:
            blocks = blocks_by_page.get(page.number, [])
            parts: List[ImagePart] = []
            if renderer is not None and page.largest_image <= MAX_PIXELS:
                parts.append(self.page_part(renderer, page))
            else:
                if renderer is not None:
                    huge.append(page.number)
                for figure in figures_by_page.get(page.number, []):
                    part = self.figure_part(figure, f"the figure on page {page.number}")
                    if part is not None:
                        parts.append(part)
            chunks.extend(self.page_chunks(doc, page, blocks, parts))
        if huge:
            self.plan.warnings.append(
                f"'{shown(doc.name, 120)}': page(s) {', '.join(map(str, huge[:10]))} hold an image "
                f"larger than {MAX_PIXELS // 1_000_000} megapixels and are not rendered (only their "
                "text is used).")
        if not any(c.images for c in chunks):
            return []
        for block in blocks_by_page.get(0, []):  # text the reader could not place on a page
            chunks.extend(replace(c, id=_chunk_id(c.id, "unplaced")) for c in
                          chunk_document(Document(doc.name, [block], path=doc.path), self.budget))
        return [replace(c, index=i) for i, c in enumerate(chunks)]

    def page_chunks(self, doc: Document, page: PageStats, blocks: List[Block],
                    parts: List[ImagePart]) -> List[Chunk]:
        text = "\n\n".join(b.text for b in blocks)
        tokens = estimate_tokens(text)
        taken, rest = self.fit(parts, min(tokens, self.budget, self.room - MIN_TEXT_BUDGET))
        if not taken and parts:
            taken, rest = parts[:1], parts[1:]  # the page image matters more than its text
        room = max(MIN_TEXT_BUDGET, min(self.budget, self.room - sum(p.tokens for p in taken)))
        location = f"page {page.number}"
        heading = tuple(b.text for b in blocks[:1] if b.kind == "heading")
        if tokens <= room:
            first_text, more = text, []
        else:
            pieces = chunk_document(Document(doc.name, blocks, path=doc.path), room)
            first_text = pieces[0].text if pieces else ""
            more = pieces[1:]
        if not first_text.strip() and not taken:
            return []
        marks = ((0, page.number, 0, 1 if heading else 0),)
        chunks = [Chunk(_chunk_id(doc.name, location, first_text), doc.name, first_text, heading,
                        location, 0, images=tuple(taken), marks=marks, path=doc.path)]
        chunks.extend(replace(c, location=location, heading_path=heading,
                              id=_chunk_id(doc.name, location, c.text, str(i))) for i, c in enumerate(more))
        while rest:  # images beyond max_images: a chunk of their own, same page
            taken, rest = self.fit(rest, 0)
            if not taken:
                break
            chunks.append(Chunk(_chunk_id(doc.name, location, "pictures", str(len(chunks))), doc.name,
                                "", heading, location, 0, images=tuple(taken), marks=((0, page.number, 0, 0),),
                                path=doc.path))
        return chunks

    def with_figures(self, doc: Document, chunks: List[Chunk], figures: List[Figure],
                      renderer: Optional[SharedRenderer] = None,
                      drawn: Sequence[PageStats] = ()) -> List[Chunk]:
        if not chunks:  # no text at all (a note that is only figures): the figures alone
            chunks = [Chunk(_chunk_id(doc.name, "pictures"), doc.name, "", (), "", 0, path=doc.path)]
        assigned: Dict[int, List[ImagePart]] = {}
        starts = [_page_of(c.location) for c in chunks]
        paged = any(starts)
        norm = [normalise(c.text) for c in chunks] if not paged else []
        position = 0
        for figure in figures:
            part = self.figure_part(figure, (f"the figure on page {figure.page}" if figure.page
                                             else "a figure" + (f" ('{figure.caption[:60]}')" if figure.caption else "")))
            if part is None:
                continue
            index = self._by_page(starts, figure.page) if paged and figure.page else \
                self._by_anchor(norm, figure.anchor, position)
            position = index
            assigned.setdefault(index, []).append(part)
        if renderer is not None:
            for page in drawn:
                index = self._by_page(starts, page.number)
                assigned.setdefault(index, []).append(self.page_part(renderer, page))
        out: List[Chunk] = []
        for i, chunk in enumerate(chunks):
            parts = assigned.get(i, [])
            if not parts:
                out.append(chunk)
                continue
            if paged:
                parts.sort(key=lambda p: p.location)
            taken, rest = self.fit(parts, estimate_tokens(chunk.text))
            out.append(replace(chunk, images=tuple(taken)))
            n = 0
            while rest:
                taken, rest = self.fit(rest, 0)
                if not taken:
                    break
                n += 1
                label = chunk.heading_label()
                location = taken[0].location or chunk.location
                out.append(Chunk(_chunk_id(chunk.id, "pictures", str(n)), chunk.document,
                                 label, chunk.heading_path, location, 0, images=tuple(taken),
                                 marks=((0, _page_of(location), 0, 0),), path=chunk.path))
        out = [c for c in out if c.text.strip() or c.images]
        return [replace(c, index=i) for i, c in enumerate(out)]

    @staticmethod
    def _by_page(starts: List[int], page: int) -> int:
        first_on = next((i for i, s in enumerate(starts) if s == page), None)
        if first_on is not None:
            return first_on
        before = [i for i, s in enumerate(starts) if 0 < s <= page]
        return before[-1] if before else 0

    @staticmethod
    def _by_anchor(norm: List[str], anchor: str, start: int) -> int:
        key = normalise(anchor)[-40:].strip()
        if not key:
            return start
        if " " in key:
            key = key.split(" ", 1)[1] if len(key) > 20 else key  # drop a cut first word
        for i in range(start, len(norm)):
            if key in norm[i]:
                return i
        for i in range(0, start):
            if key in norm[i]:
                return i
        return start


def plan_with_figures(documents: Sequence[Document], options: Any,
                      graphics: Optional[Graphics] = None,
                      store: Optional[FigureStore] = None,
                      text_budget: Optional[int] = None) -> FigurePlan:
    """Chunks for ``documents``, with figures where the model can see them (module doc).
    ``store``: where the figures cards show are kept (a dialog keeps one across its runs)."""
    from ..job.run import chunk_budget

    plan = FigurePlan([], store=store or FigureStore())
    planner = _Planner(options, graphics, plan)
    if text_budget:  # a bulk job's pieces are sized once, for all its files
        planner.budget = text_budget
        planner.room = max(planner.room, text_budget)
    sees = can_see(options) and planner.max_images > 0
    mode = figure_mode(getattr(options, "figures", "auto"))
    if mode is FigureMode.OFF:
        why = "figures are switched off ('figures' in the settings, or --figures off)"
    elif not planner.max_images:
        why = "no images may be sent ('max_images_per_request' is 0)"
    else:
        why = _cannot_see_text(options)
    for doc in documents:
        figset = doc.figures
        if figset is None or not sees:
            if figset is not None and not doc.blocks:  # only figures: nothing to read
                if figset.no_text is not None and not probe_figures(figset):
                    plan.skipped.append(figset.no_text)
                else:
                    what = "is an image" if figset.kind is SourceKind.IMAGE else "has only figures"
                    hint = figset.no_text.hint if figset.no_text is not None else ""
                    plan.skipped.append(SourceError(f"'{shown(doc.name, 120)}' {what}, but {why}.", hint))
                continue
            if figset is not None and mode is not FigureMode.OFF and probe_figures(figset):
                plan.warnings.append(f"'{shown(doc.name, 120)}' has figures, but {why}.")
            chunks = chunk_document(doc, text_budget or chunk_budget(options))
        else:
            chunks = planner.document(doc)
        plan.chunks.extend(chunks)
    if planner.without_qt:
        for why, count in planner.without_qt.items():
            plan.warnings.append(f"{count} image(s) not used: {why}.")
    plan.images = sum(len(c.images) for c in plan.chunks)
    plan.warnings = list(dict.fromkeys(plan.warnings))
    return plan


MakeGraphics = Callable[[], Optional[Graphics]]  # makes the adapter (may import a graphics library)


def wanted_graphics(documents: Sequence[Document], options: Any,
                    make: Optional[MakeGraphics]) -> Optional[Graphics]:
    """The adapter ``make`` gives, made only when images will be sent (making it may cost the
    import of a graphics library)."""
    if make is None or not can_see(options) or not any(d.figures is not None for d in documents):
        return None
    return make()
