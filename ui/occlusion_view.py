"""Image Occlusion notes in the dialogs' review lists: each note is a row (a card of kind
"occlusion", ``generator.occlusion.cards``) whose thumbnail is the figure with its masks drawn,
and whose front cell's hover shows it larger; a note whose masks a model that can see placed
arrives unchecked, marked "Check the masks", with its masks outlined in red.

``OcclusionRows`` makes the notes of a job on the runner's worker (the figures found, the
model's choice, the masks, the thumbnails) and hands each to the main thread as a chunk of one
card, so the review list shows it like any card: for the kind "Image occlusion" they are the
job; beside other kinds, the labelled figures found are offered too (unchecked)."""
from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence

from aqt.qt import QBrush, QColor, QImage, QPainter, QPen, QRectF, Qt

from ..generator.cards.card import Card
from ..generator.config import CardKind, FigureMode
from .figure_widgets import THUMB, png_bytes, scaled_image

if TYPE_CHECKING:
    from ..generator.occlusion.notes import OcclusionNote

HOVER = 360  # px, the long side of the figure shown when hovering its row
FILL = QColor(255, 235, 162, 235)  # Anki's colour of a hidden mask
EDGE = QColor(33, 33, 33)
CHECK_EDGE = QColor(214, 39, 40)  # masks a model that can see placed: check them
CHECK_MASKS_TEXT = ("Check the masks", "A model that can see placed these masks: they may miss "
                    "their labels. Check them (Edit in Anki's Image Occlusion editor after adding).")
OCCLUSION_TEXT = ("Image occlusion", "An Image Occlusion note of Anki's own type: each mask hides "
                  "a label, one card per mask or group (hide all, guess one).")
NO_FIGURES = ("No labelled figure was found%s: image occlusion notes are made from figures whose "
              "labels are text in a PDF (or, with a model that can see, from images).")  # % where
OFFERED_TEXT = ("Offered", "A labelled figure found beside the cards: check it to add it as an "
                "Image Occlusion note.")


def thumbnail_key(card: Card) -> str:
    note = card.occlusion
    return "occlusion:" + note.media_name if note is not None else ""


def masked(note: OcclusionNote, side: int) -> Optional[QImage]:
    """The figure at most ``side`` px with its masks drawn (any thread)."""
    image = scaled_image(note.image, side)
    if image is None:
        return None
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    w, h = image.width(), image.height()
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(CHECK_EDGE if note.check_masks else EDGE)
        pen.setWidthF(max(1.0, side / 240.0) * (2 if note.check_masks else 1))
        painter.setPen(pen)
        painter.setBrush(QBrush(FILL))
        for mask in note.masks:
            painter.drawRect(QRectF(mask.left * w, mask.top * h, mask.width * w, mask.height * h))
    finally:
        painter.end()
    return image


_HOVERS: Dict[str, str] = {}  # media name -> hover HTML, made once (on the worker)
MAX_HOVERS = 300


def hover_html(note: OcclusionNote) -> str:
    """The front cell's hover: the figure with its masks, larger."""
    key = note.media_name + ("!" if note.check_masks else "") + str(len(note.masks))
    if key in _HOVERS:
        return _HOVERS[key]
    image = masked(note, HOVER)
    if image is None:
        return ""
    data = base64.b64encode(png_bytes(image)).decode("ascii")
    html = '<img src="data:image/png;base64,%s" width="%d" height="%d">' % (
        data, image.width(), image.height())
    if len(_HOVERS) >= MAX_HOVERS:
        _HOVERS.clear()
    _HOVERS[key] = html
    return html


def marks_of(card: Card) -> List[str]:
    note = card.occlusion
    if note is None:
        return []
    out = [OCCLUSION_TEXT[0]]
    if note.check_masks:
        out.append(CHECK_MASKS_TEXT[0])
    if note.offered:
        out.append(OFFERED_TEXT[0])
    return out


def tips_of(card: Card) -> List[str]:
    note = card.occlusion
    if note is None:
        return []
    tips = [OCCLUSION_TEXT[1]]
    if note.check_masks:
        tips.append(CHECK_MASKS_TEXT[1])
    if note.offered:
        tips.append(OFFERED_TEXT[1])
    if note.note and not note.check_masks:
        tips.append(note.note)
    return tips


class OcclusionRows:
    """The Image Occlusion notes of one job, made on the runner's worker. ``emit(chunk, cards)``
    hands each to the main thread (the runner's ``chunk`` signal); ``thumbnails``: the dialog's
    (``figure_widgets.Thumbnails``)."""

    def __init__(self, thumbnails: Any, graphics: Callable[[], Any],
                 emit: Callable[[Any, List[Card]], None]) -> None:
        self.thumbnails = thumbnails
        self.graphics = graphics
        self.emit = emit
        self.messages: List[str] = []
        self.count = 0

    @staticmethod
    def wanted(options: Any) -> bool:
        """Whether a job makes notes: the kind "Image occlusion", or figures not switched off."""
        if getattr(options, "kind", "") == CardKind.OCCLUSION:
            return True
        return str(getattr(options, "figures", "auto")) != FigureMode.OFF.value

    def run(self, documents: Sequence[Any], backend: Any, options: Any, cancel: Any,
            offered: bool = False) -> List[Card]:
        """The notes of ``documents``, each shown as it is made; ``offered``: beside other kinds
        (they arrive unchecked, and only PDF figures with text labels are looked for: no image
        is sent to the model for them)."""
        from ..generator.occlusion.make import OcclusionRun

        cards: List[Card] = []

        def shown(note: OcclusionNote) -> None:
            from ..generator.job.chunk import Chunk
            from ..generator.occlusion.cards import as_card

            if offered:
                note.checked = False
                note.offered = True
            card = as_card(note)
            image = masked(note, THUMB)
            if image is not None:
                self.thumbnails.put(thumbnail_key(card), image)
            hover_html(note)  # made here, on the worker
            self.count += 1
            cards.append(card)
            chunk = Chunk("occlusion-%d-%s" % (self.count, note.media_name[:12]), note.source.document, "",
                          location=note.source.location, path=note.source.path)
            self.emit(chunk, [card])

        result = OcclusionRun(self.graphics(), backend, options, cancel, raster=not offered) \
            .documents(documents, shown)
        self.messages = list(result.messages)
        return cards
