"""Images in requests and on cards.

A chunk that carries images holds ``ImagePart``s (``Chunk.images``): each knows how to make
its image ready to send (``prepare``: a PDF page rendered, or a figure of the document resized
and re-encoded through the ``Graphics`` adapter; without one, a PNG/JPEG within the size limit
as it is), lazily, in the worker thread that sends the request. ``with_images`` puts them on a
``ChatRequest`` (raw base64, the schema's "figure" field, a note in the user message);
``attach_figures`` turns a card's "figure": "2" into the figure on the card: the prepared
bytes go into the job's ``FigureStore`` under a content-hash name, and the card's first field
gets ``<img src="name">`` (the sanitizer lets through exactly the names the store holds).
"""
import re
import threading
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Callable, Dict, List, Optional, Sequence

from .. import log
from ..cards.card import CLOZE, Card, SourceRef
from .chunking import estimate_tokens
from .chunk import Chunk
from ..errors import SourceError
from ..images.figure import Figure, Graphics, PageRenderer
from ..images.safety import (
    ImageFormat,
    b64,
    declared_size,
    fit_within,
    image_tokens,
    media_name,
    sniff,
)
from ..outside import shown

IMAGE_MAX_SIDE = 1024  # px, the long side of an image as sent
MAX_SEND_BYTES = 8 * 1024 * 1024  # one prepared image
TEXT_TOKENS_PER_IMAGE = 360  # an image counts like this much text when cards are shared out
STORE_LIMIT = 256 * 1024 * 1024  # bytes of the figures a job keeps for its cards

# One image is made ready at a time in the whole process (rendering, decoding, encoding are
# CPU-bound): with several requests in flight the others wait, and the machine's other core
# stays free for Anki's main thread.
IMAGE_WORK = threading.Lock()


class PartKind(Enum):
    PAGE = "page"  # a PDF page rendered (slides, scanned pages, vector diagrams)
    FIGURE = "figure"  # a figure found in the document, or an image file


@dataclass(frozen=True)
class Prepared:
    data: bytes
    format: ImageFormat
    width: int
    height: int
    part: Optional["ImagePart"] = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return media_name(self.data, self.format)


class FigureStore:
    """The figures a job's cards show, by media file name (thread-safe, bounded)."""

    def __init__(self, limit: int = STORE_LIMIT) -> None:
        self._lock = threading.Lock()
        self._data: Dict[str, bytes] = {}
        self._size = 0
        self.limit = limit

    def put(self, name: str, data: bytes) -> bool:
        with self._lock:
            if name in self._data:
                return True
            if self._size + len(data) > self.limit:
                return False
            self._data[name] = data
            self._size += len(data)
            return True

    def get(self, name: str) -> Optional[bytes]:
        with self._lock:
            return self._data.get(name)

    def names(self) -> List[str]:
        with self._lock:
            return list(self._data)


class SharedRenderer:
    """A ``PageRenderer`` used by several worker threads: one page at a time."""

    def __init__(self, renderer: PageRenderer) -> None:
        self.renderer = renderer
        self.lock = threading.Lock()

    def render(self, index: int, max_side: int) -> Optional[Any]:
        with self.lock:
            return self.renderer.render(index, max_side)

    def close(self) -> None:
        with self.lock:
            try:
                self.renderer.close()
            except Exception:
                pass


@dataclass(frozen=True)
class PartSource:
    """Where a part's image comes from: page ``page_index`` (0-based) of a shared renderer,
    or a figure of the document, resized through ``graphics`` when there is one."""

    figure: Optional[Figure] = None
    graphics: Optional[Graphics] = None
    renderer: Optional[SharedRenderer] = None
    page_index: int = -1


class ImagePart:
    """One image of a request, made ready on first use."""

    def __init__(self, kind: PartKind, label: str, location: str, tokens: int, store: FigureStore,
                 source: PartSource, max_side: int = IMAGE_MAX_SIDE, caption: str = "") -> None:
        self.kind = kind
        self.label = label  # "page 4", "the image 'cell.png'"
        self.location = location  # the card's source location when it shows this figure
        self.tokens = tokens
        self.store = store
        self.source = source
        self.max_side = max_side
        self.caption = caption
        self.problem = ""

    def prepare(self) -> Optional[Prepared]:
        """The image as it is sent, or None (``problem`` says why). Not cached: a chunk
        prepares its images once per request; the store keeps those cards use."""
        self.problem = ""
        with IMAGE_WORK:
            return self._prepare()

    def _prepare(self) -> Optional[Prepared]:
        try:
            source = self.source
            if source.renderer is not None:
                encoded = source.renderer.render(source.page_index, self.max_side)
                if encoded is None:
                    self.problem = f"{self.label} could not be rendered"
                    return None
                return self._checked(encoded[0])
            if source.figure is not None:
                return self._figure(source.figure)
        except MemoryError:
            self.problem = f"{self.label} needs more memory than is available"
        except Exception as err:  # an adapter's failure must not cost the chunk
            self.problem = f"{self.label} could not be prepared ({type(err).__name__})"
        return None

    def _figure(self, figure: Figure) -> Optional[Prepared]:
        info = figure.info
        if self.source.graphics is not None:
            encoded = self.source.graphics.resize(figure.data, self.max_side)
            if encoded is None:
                self.problem = f"{self.label} is damaged (it cannot be decoded)"
                return None
            return self._checked(encoded[0])
        if info.format not in (ImageFormat.PNG, ImageFormat.JPEG):
            self.problem = (f"{self.label} is {info.format.value.upper()}, which is sent only after "
                            "conversion with Qt (PyQt6)")
            return None
        if info.long_side > self.max_side or len(figure.data) > MAX_SEND_BYTES:
            self.problem = (f"{self.label} is {info.width} x {info.height} pixels; without Qt (PyQt6) "
                            f"it cannot be made smaller than the {self.max_side}-pixel limit")
            return None
        return Prepared(figure.data, info.format, info.width, info.height)

    def _checked(self, data: bytes) -> Optional[Prepared]:
        """What the adapter made is checked before it is sent: its format and declared size
        (its structure is the adapter's own work)."""
        fmt = sniff(data[:16])
        size = declared_size(data, fmt) if fmt is not None else None
        if fmt is None or size is None:
            self.problem = f"{self.label} could not be encoded"
            return None
        if max(size) > self.max_side + 1 or len(data) > MAX_SEND_BYTES:
            self.problem = f"{self.label} came out larger than the limit"
            return None
        return Prepared(data, fmt, size[0], size[1])


def sendable_without_graphics(figure: Figure, max_side: int = IMAGE_MAX_SIDE) -> str:
    """"" if the figure can be sent as it is; else why not (for the plan's warnings)."""
    info = figure.info
    if info.format not in (ImageFormat.PNG, ImageFormat.JPEG):
        return f"{info.format.value.upper()} images are sent only after conversion with Qt (PyQt6)"
    if info.long_side > max_side or len(figure.data) > MAX_SEND_BYTES:
        return (f"images larger than {max_side} pixels cannot be made smaller without Qt (PyQt6) "
                f"(one is {info.width} x {info.height})")
    return ""


def part_tokens(width: float, height: float, max_side: int = IMAGE_MAX_SIDE) -> int:
    w, h = fit_within(max(1, int(width)), max(1, int(height)), max_side)
    return image_tokens(w, h)


CARDS_PER_IMAGE = 3  # asked of each image when the number of cards is automatic


def image_cards(chunk: Chunk) -> int:
    """Cards to ask for the chunk's images, beside those for its text."""
    return CARDS_PER_IMAGE * len(chunk.images)


def content_tokens(chunk: Chunk) -> int:
    """The chunk's weight when cards are shared out: its text, and its images as text."""
    return estimate_tokens(chunk.text) + TEXT_TOKENS_PER_IMAGE * len(chunk.images)


# --- requests --------------------------------------------------------------------------------

def prepare_images(chunk: Chunk) -> List[Prepared]:
    """The chunk's images ready to send (in the worker thread). Images that cannot be
    prepared are left out and logged; a chunk with neither text nor an image left fails with
    a message saying which."""
    prepared: List[Prepared] = []
    missing: List[str] = []
    for part in chunk.images:
        p = part.prepare()
        if p is None:
            missing.append(part.problem or part.label)
            log.event("chunk %s: image left out: %s", chunk.id, part.problem)
        else:
            prepared.append(replace(p, part=part))
    if chunk.images and not prepared and not chunk.text.strip():
        raise SourceError(f"{chunk.document}: {shown('; '.join(missing), 200)}.",
                          "Open the file and export the page as PNG or JPEG, then use that.")
    return prepared


def figure_schema(schema: Dict[str, Any]) -> Dict[str, Any]:
    """The answer schema with a "figure" string on every card (flat: no enums or patterns)."""
    import copy

    out = copy.deepcopy(schema)
    items = out.get("properties", {}).get("cards", {}).get("items")
    if isinstance(items, dict):
        items.setdefault("properties", {})["figure"] = {"type": "string"}
        required = items.setdefault("required", [])
        if "figure" not in required:
            required.append("figure")
    return out


def images_note(chunk: Chunk, count: int) -> str:
    """What the user message says of its images: each with its own marker, numbered after the
    text's last sentence, which a card cites as its "n" and names in "figure" to show it."""
    from .sentences import numbered

    first = numbered(chunk).image_marker(0)
    labels = [f"[{first + i}] {part.label}" + (f" ({shown(part.caption, 100)})" if part.caption else "")
              for i, part in enumerate(chunk.images[:count])]
    only = "" if chunk.text.strip() else " There is no text besides the images: they are the material."
    return (
        f"\nImages attached, in order: {'; '.join(labels)}.{only}\n"
        "Use what the images show (labels, diagrams, tables, formulas) as material too. A card that "
        'comes from an image cites its number as "n". A card about an image that needs the image '
        'itself to be understood may show it: set "figure" to the image\'s number (e.g. '
        f'"{first}"); otherwise set "figure" to "".'
    )


def with_images(request: Any, chunk: Chunk, prepared: Sequence[Prepared]) -> Any:
    """``request`` (a ChatRequest) with the images and the "figure" field in its schema (the
    user message gets its note from ``user_text``)."""
    if not prepared:
        return request
    return replace(request, images=[b64(p.data) for p in prepared],
                   schema=figure_schema(request.schema))


def user_text(text: str, chunk: Chunk, prepared: Sequence[Prepared]) -> str:
    """The user message with the note on the images it carries."""
    return text + images_note(chunk, len(prepared)) if prepared else text


# --- cards -----------------------------------------------------------------------------------

def _number(text: str) -> int:
    digits = "".join(ch for ch in str(text)[:8] if ch.isdigit())
    return int(digits) if digits else 0


def figure_html(name: str) -> str:
    return f'<div><img src="{name}"></div>'


def with_figure(html: str, name: str) -> str:
    """``html`` (a card side) with the figure ``name`` after it, sanitized (the figure is the
    only image allowed)."""
    from ..cards.sanitize import sanitize_html

    return sanitize_html(html + figure_html(name), images={name})


def attach_figure(card: Card, chunk: Chunk, prepared: Sequence[Prepared]) -> Card:
    """A card that asked for a figure gets it (and is grounded by its place); a card of a page
    read as an image is grounded by the page. Anything else the model put in "figure" is
    dropped."""
    from ..cards.sanitize import sanitize_html

    index = _number(card.figure) if prepared else 0
    if index:
        from .sentences import numbered

        marker = numbered(chunk).image_of(index, len(prepared))
        index = marker + 1 if marker >= 0 else index  # the image's marker, or (before) its place
    card.figure = ""
    if 1 <= index <= len(prepared):
        image = prepared[index - 1]
        part = image.part
        name = image.name
        if part is not None and part.store.put(name, image.data):
            card.figure = name
            html = figure_html(name)
            if card.kind == CLOZE:
                card.text = sanitize_html(card.text + html, images={name})
            else:
                card.front = sanitize_html(card.front + html, images={name})
            card.grounded = True
            location = part.location or chunk.location
            card.source = SourceRef(card.source.document, location, card.source.heading_path,
                                    _page_number(location) or card.source.page, 0, card.source.path)
            return card
    parts = chunk.images
    by_page = any(p.kind is PartKind.PAGE for p in parts) or (bool(parts) and not chunk.text.strip())
    if by_page and not card.grounded:
        card.grounded = True  # the page's image is the evidence; the page is the reference
    cited = _cited_image(card, chunk, prepared)
    if cited is not None and cited.part is not None:
        card.grounded = True  # it cites an image: the image is the evidence, its page the place
        location = cited.part.location or chunk.location
        card.source = SourceRef(card.source.document, location, card.source.heading_path,
                                _page_number(location) or card.source.page, 0, card.source.path)
    return card


def _cited_image(card: Card, chunk: Chunk, prepared: Sequence[Prepared]) -> Optional[Prepared]:
    """The image whose marker the card cites as its "n", if any (citations.Grounder grounded
    the card by it; this is the one place that says which image it is)."""
    from .sentences import numbered

    marks = numbered(chunk)
    for n in card.sentences:
        i = marks.image_of(n, len(prepared))
        if i >= 0:
            return prepared[i]
    return None


_PAGE = re.compile(r"^page (\d{1,6})$")


def _page_number(location: str) -> int:
    m = _PAGE.match(location or "")
    return int(m.group(1)) if m else 0


def attach_figures(cards: List[Card], chunk: Chunk, prepared: Sequence[Prepared]) -> List[Card]:
    return [attach_figure(card, chunk, prepared) for card in cards]


def figure_finish(then: Optional[Callable[[Card], Optional[Card]]], chunk: Chunk,
                  prepared: Sequence[Prepared]) -> Optional[Callable[[Card], Optional[Card]]]:
    """The per-card step of a chunk with images (``attach_figure``), before ``then``."""
    if not chunk.images:
        return then

    def finish(card: Card) -> Optional[Card]:
        card = attach_figure(card, chunk, prepared)
        return then(card) if then is not None else card

    return finish
