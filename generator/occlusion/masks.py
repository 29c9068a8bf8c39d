"""Masks from label boxes: a label's box as the text layer gives it is the ink of its letters
(capitals to the baseline for "Aorta", x-height only for "vena"); a mask covers the whole line
the label stands on, from the font's ascent to its descent, and a little beyond its ends, and
then becomes a share of the rendered area (Anki's occlusions are stored as shares of the image:
left, top, width and height from 0 to 1).

The font's size is judged from the box and the letters in it: a box of capitals or letters with
ascenders is about 0.72 of the font's size high, one of x-height letters about 0.52, and
descenders add about 0.21. A mask reaches at most ``MAX_REACH`` of the page's width beyond the
box on any side, so it never hides more than its label."""
from dataclasses import dataclass
from typing import List, Sequence, Tuple

from .find import Box, Run

ASCENT = 0.80  # of the font's size above the baseline a mask covers (Helvetica's ascent: 0.718)
DESCENT = 0.25  # below it (Helvetica's descent: 0.207)
SIDE = 0.15  # of the font's size beyond each end of the label
MIN_PAD = 1.0  # points
MAX_REACH = 0.009  # of the page's width, on any side
_TALL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789bdfhijklt()[]{}/|!?%&#@$'\"ÄÖÜÉÈÀßäöüéèàçñ")
_DEEP = frozenset("gjpqyQ(),;[]{}|ç")


@dataclass(frozen=True)
class Mask:
    """One occlusion: a share of the image (0..1) and the card (cloze number) it belongs to."""

    left: float
    top: float
    width: float
    height: float
    ordinal: int  # 1-based: labels of one group share it and are hidden on one card
    text: str = ""  # the label it hides

    def on_page(self, area: Box) -> Box:
        """The mask in the page's points, for an image of ``area``."""
        return Box(area.left + self.left * area.width, area.top + self.top * area.height,
                   area.left + (self.left + self.width) * area.width,
                   area.top + (self.top + self.height) * area.height)


def label_box(run: Run, page_width: float) -> Box:
    """The box a mask covers for a label: its line from ascent to descent, a little longer.

    The text may run in any of four directions (a page turned by /Rotate shows its text turned
    too, and the text layer's boxes do not say which way up a line is), so the mask reaches as
    far on both sides across the line as the farther of ascent and descent needs."""
    box = run.box
    upright = box.height > box.width * 1.5 and len(run.text) > 2
    across = box.width if upright else box.height
    tall = any(c in _TALL for c in run.text) or not any(c.isalpha() for c in run.text)
    deep = any(c in _DEEP for c in run.text)
    ink = (0.72 if tall else 0.52) + (0.21 if deep else 0.0)  # of the font's size
    size = across / ink
    reach = MAX_REACH * page_width
    pad = max(ASCENT - (0.72 if tall else 0.52), DESCENT - (0.21 if deep else 0.0)) * size
    pad = min(reach, max(MIN_PAD / 2, pad))
    side = min(reach, max(MIN_PAD, SIDE * size))
    if upright:
        return Box(box.left - pad, box.top - side, box.right + pad, box.bottom + side)
    return Box(box.left - side, box.top - pad, box.right + side, box.bottom + pad)


def to_image(box: Box, area: Box) -> Tuple[float, float, float, float]:
    """A box on the page as (left, top, width, height), shares of ``area``, kept inside it."""
    w, h = max(area.width, 1e-9), max(area.height, 1e-9)
    left = min(1.0, max(0.0, (box.left - area.left) / w))
    top = min(1.0, max(0.0, (box.top - area.top) / h))
    right = min(1.0, max(0.0, (box.right - area.left) / w))
    bottom = min(1.0, max(0.0, (box.bottom - area.top) / h))
    return left, top, max(0.0, right - left), max(0.0, bottom - top)


def masks_for(groups: Sequence[Sequence[Run]], area: Box, page_width: float) -> List[Mask]:
    """One mask per label, numbered by group (the first group is card 1)."""
    masks = []
    for ordinal, group in enumerate(groups, start=1):
        for run in group:
            left, top, width, height = to_image(label_box(run, page_width), area)
            if width > 0 and height > 0:
                masks.append(Mask(left, top, width, height, ordinal, run.text))
    return masks
