"""Figures that are only pixels (image files, the images inside DOCX and EPUB files, scanned
pages): their labels have no text layer, so only a model that can see can say where they are.

With such a model, each figure is sent once and the model lists the text labels it reads with
their boxes (``[left, top, right, bottom]`` in thousandths of the image's width and height; an
answer in pixels of the image it was sent, or in shares, is read as such); then the labels to
hide are chosen as for a PDF (``choose``). A model's boxes can be off, so these notes start
unchecked and say "check the masks" (``OcclusionNote.check_masks``), and they are tagged so. Without
a model that can see, the result says which sources these were and what would help.

Bounded: at most ``MAX_FIGURES`` figures a job and ``MAX_LABELS`` labels a figure are used, a
scanned PDF's first ``MAX_PAGES`` pages, and every label's text and box is checked."""
import threading
from dataclasses import replace
from typing import Any, Callable, List, Optional, Sequence, Tuple

from ..backends.base import Backend
from ..cards.card import SourceRef
from ..errors import Cancelled, FlashcardError, InvalidAnswer
from ..images.figure import Graphics, SourceKind
from ..images.safety import ImageFormat, b64, image_or_none
from ..job.answers import parse_json
from ..job.run import answer_text, is_fatal
from ..outside import neutralise, shown
from .choose import choose
from .find import Box, LabelledFigure, Run
from .masks import masks_for
from .notes import OcclusionNote

NEEDS_TEXT_LABELS = ("its figures are images without a text layer: image occlusion notes need a "
                     "PDF whose labels are text, or a model that can see")
CHECK_MASKS = ("A model that can see placed these masks: check that each covers its label "
               "before adding the note.")
MAX_FIGURES = 40
MAX_LABELS = 60
MAX_PAGES = 50
IMAGE_SIDE = 1280
LABEL_CHARS = 60
ANSWER_TOKENS = 1500

SYSTEM = ("You read the text labels written in a figure and say where each one is. Answer with "
          "JSON only.")
SCHEMA = {
    "type": "object",
    "properties": {"labels": {"type": "array", "items": {
        "type": "object",
        "properties": {"text": {"type": "string"}, "box": {"type": "array", "items": {"type": "number"}}},
        "required": ["text", "box"]}}},
    "required": ["labels"],
}

# (where: "page 3" or "", the image's bytes, its format, width, height, caption)
RasterImage = Tuple[str, bytes, ImageFormat, int, int, str]


def prompt(document: str, where: str) -> str:
    place = f", {where}" if where else ""
    return (f"The image is a figure from '{neutralise(document)}'{place}. List every text label "
            "written in it (names of parts, not numbers on axes or scales), each with its box: "
            "\"box\": [left, top, right, bottom] in thousandths of the image's width and height "
            "(0 is the left or top edge, 1000 the right or bottom edge), tight around the "
            "letters. Only text that is in the image. Answer {\"labels\": [{\"text\": ..., "
            "\"box\": [...]}, ...]}.")


def read_labels(content: str, width: int, height: int) -> List[Run]:
    """The labels of the answer as runs in the image's pixels (InvalidAnswer if it has no list)."""
    data = parse_json(content)
    items = data.get("labels") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InvalidAnswer("The answer has no list of labels.")
    runs = []
    for item in items[:MAX_LABELS * 2]:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue
        text = " ".join(neutralise(item["text"][:LABEL_CHARS * 4]).split())[:LABEL_CHARS]
        box = item.get("box")
        if not text or not isinstance(box, list) or len(box) != 4 \
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box):
            continue
        values = [float(v) for v in box]
        if all(0 <= v <= 1.0 for v in values) and max(values) > 0:
            scale_x, scale_y = float(width), float(height)  # shares
        elif max(values) > 1000:
            scale_x = scale_y = 1.0  # pixels of the image as sent
        else:
            scale_x, scale_y = width / 1000.0, height / 1000.0
        left, right = sorted((values[0] * scale_x, values[2] * scale_x))
        top, bottom = sorted((values[1] * scale_y, values[3] * scale_y))
        left, top = max(0.0, left), max(0.0, top)
        right, bottom = min(float(width), right), min(float(height), bottom)
        if right - left >= 1 and bottom - top >= 1:
            runs.append(Run(text, Box(left, top, right, bottom)))
        if len(runs) >= MAX_LABELS:
            break
    return runs


def raster_images(doc: Any, graphics: Optional[Graphics]) -> List[RasterImage]:
    """The figures of a source that are only pixels, ready for a note (at most ``IMAGE_SIDE``
    px; without a graphics adapter, PNG and JPEG figures as they are)."""
    figset = doc.figures
    found: List[RasterImage] = []
    if figset.kind is SourceKind.PDF and figset.no_text is not None:
        if graphics is None:
            return found
        renderer = graphics.open_pdf(figset.origin)
        if renderer is None:
            return found
        try:
            for index in range(min(renderer.page_count(), MAX_PAGES)):
                encoded = renderer.render(index, IMAGE_SIDE)
                if encoded is not None:
                    found.append((f"page {index + 1}", encoded[0], ImageFormat(encoded[1]), encoded[2],
                                  encoded[3], ""))
        finally:
            renderer.close()
        return found
    if figset.kind in (SourceKind.DOCX, SourceKind.EPUB):
        from ..sources.figures import load_figures

        load_figures(figset, getattr(doc, "name", ""))
    for figure in figset.figures:
        data, fmt, w, h = figure.data, figure.info.format, figure.info.width, figure.info.height
        if graphics is not None:
            resized = graphics.resize(figure.data, IMAGE_SIDE)
            if resized is None:
                continue
            data, w, h = resized[0], resized[2], resized[3]
            fmt = ImageFormat(resized[1])
        elif fmt not in (ImageFormat.PNG, ImageFormat.JPEG):
            continue
        found.append((figure.location, data, fmt, w, h, figure.caption))
    return found


def ask_labels(backend: Backend, base: Any, document: str, image: RasterImage,
               cancel: Optional[threading.Event]) -> List[Run]:
    where, data, _fmt, width, height, _caption = image
    request = replace(base, system=SYSTEM, user=prompt(document, where), schema=SCHEMA,
                      num_predict=ANSWER_TOKENS, images=[b64(data)])
    try:
        return read_labels(answer_text(backend.chat(request, cancel)), width, height)
    except InvalidAnswer:
        return []


def figure_note(doc: Any, image: RasterImage, runs: List[Run], backend: Backend, base: Any,
                options: Any, cancel: Optional[threading.Event]) -> Tuple[Optional[OcclusionNote], str]:
    where, data, fmt, width, height, caption = image
    name = getattr(doc, "name", "") or "image"
    page = int(where.split()[-1]) if where.startswith("page ") and where.split()[-1].isdigit() else 0
    area = Box(0.0, 0.0, float(width), float(height))
    figure = LabelledFigure(page, float(width), float(height), area, runs, caption)
    choice = choose(figure, backend, base, name, getattr(options, "language", ""), cancel)
    if not choice.worth or not choice.groups:
        return None, "a figure with no label worth hiding was left out"
    info, problem = image_or_none(data, name)
    if info is None:
        return None, problem
    source = SourceRef(name, where, page=page, path=getattr(doc, "path", "") or "")
    note = OcclusionNote(data, fmt, width, height, masks_for(choice.groups, area, float(width)),
                         choice.header, source, [r.text for r in runs], check_masks=True, checked=False,
                         note=" ".join(x for x in (CHECK_MASKS, choice.note) if x))
    return note, ""


def raster_notes(documents: Sequence[Any], graphics: Optional[Graphics], backend: Optional[Backend],
                 options: Any, cancel: threading.Event, result: Any,
                 on_note: Optional[Callable[[OcclusionNote], None]]) -> None:
    """Notes for the figures of ``documents`` that are only pixels, added to ``result``."""
    if backend is None or getattr(options, "vision", None) is not True:
        for doc in documents:
            result.messages.append(f"'{shown(getattr(doc, 'name', ''), 120)}': {NEEDS_TEXT_LABELS}.")
        return
    from ..job.run import base_request

    base = base_request(options)
    sent = 0
    for doc in documents:
        name = shown(getattr(doc, "name", "") or "image", 120)
        for image in raster_images(doc, graphics):
            if cancel.is_set():
                result.cancelled = True
                return
            if sent >= MAX_FIGURES:
                result.messages.append(f"Only the first {MAX_FIGURES} figures without text labels were "
                                       "sent to the model.")
                return
            sent += 1
            where = f"'{name}'" + (f", {image[0]}" if image[0] else "")
            try:
                runs = ask_labels(backend, base, name, image, cancel)
                note, why = figure_note(doc, image, runs, backend, base, options, cancel) if runs \
                    else (None, "the model found no text label in it")
            except Cancelled:
                result.cancelled = True
                return
            except FlashcardError as err:
                if is_fatal(err):
                    raise
                note, why = None, f"the model could not be asked ({shown(err.message, 200)})"
            result.figures += 1
            if note is None:
                result.messages.append(f"{where}: {why}.")
                continue
            result.notes.append(note)
            if on_note is not None:
                on_note(note)
