"""Image Occlusion notes: one per figure, of Anki's own Image Occlusion note type (made with
``col.add_image_occlusion_notetype()`` when the collection lacks it, found by its stock kind
and its fields by the roles Anki tags them with, never by their translated names), its image
in the collection's media (``col.media.write_data``, named by its content hash), the header
and, as the back extra, the source line with the page.

The occlusions are Anki's own text, as its editor writes them: one
``{{cN::image-occlusion:rect:left=.1234:top=...:width=...:height=...:oi=1}}`` per mask, shares
of the image, masks of one group sharing their N (one card per group), and ``oi=1`` on every
one: "hide all, guess one". Anki's editor opens such notes for the user to move the masks.

All notes of a batch are added with one ``add_notes`` call in one undo step, as cards are.
"""
import functools
import html
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..cards.card import SourceRef
from ..cards.fields import clean_chars
from ..errors import CollectionError
from ..images.safety import ImageFormat, media_name
from ..notes.add import (ADDON_TAG, STOCK_IMAGE_OCCLUSION, UNDO_LABEL, add_error, source_line, source_tag,
                         undo_failed_step)
from ..outside import shown
from ..writefail import write_failure
from .find import Box
from .masks import Mask

OCCLUSION_TAG = ADDON_TAG + "::occlusion"
CHECK_MASKS_TAG = ADDON_TAG + "::check-masks"  # masks placed by a model that can see
# Anki's ImageOcclusionField roles, as its note type tags its fields.
ROLE_OCCLUSIONS, ROLE_IMAGE, ROLE_HEADER, ROLE_BACK_EXTRA = 0, 1, 2, 3


@dataclass
class OcclusionNote:
    """One figure as an Image Occlusion note, before it is added."""

    image: bytes
    format: ImageFormat
    width: int
    height: int
    masks: List[Mask]
    header: str  # plain text
    source: SourceRef
    labels: List[str] = field(default_factory=list)  # every label of the figure, hidden or not
    check_masks: bool = False  # the masks come from a model that can see: the user checks them
    checked: bool = True  # the user keeps it (a note whose masks need checking starts unchecked)
    note: str = ""  # what the user should know (the rules chose the labels, ...)
    area: Optional[Box] = None  # the part of the PDF page the image shows (points, as shown)
    offered: bool = False  # found beside cards of another kind: shown unchecked in review

    @functools.cached_property
    def media_name(self) -> str:
        """The figure's name in the media folder, a hash of its bytes (worked out once: the
        review table asks for it as rows are drawn)."""
        return media_name(self.image, self.format)

    @property
    def cards(self) -> int:
        return len({m.ordinal for m in self.masks})

    def occlusions(self) -> str:
        return occlusion_text(self.masks)

    def to_json(self) -> Dict[str, Any]:
        return {"kind": "occlusion", "header": self.header, "image": self.media_name,
                "width": self.width, "height": self.height, "cards": self.cards,
                "masks": [{"ordinal": m.ordinal, "text": m.text, "left": round(m.left, 4),
                           "top": round(m.top, 4), "width": round(m.width, 4),
                           "height": round(m.height, 4)} for m in self.masks],
                "labels": list(self.labels), "check_masks": self.check_masks, "note": self.note,
                "source": {"document": self.source.document, "page": self.source.page,
                           "label": self.source.label(), "link": self.source.link()}}


def share(value: float) -> str:
    """A share of the image as Anki's editor writes it: four decimals, no leading zero."""
    text = "%.4f" % min(1.0, max(0.0, value))
    return text.lstrip("0") if text != "0.0000" else ".0000"


def occlusion_text(masks: Sequence[Mask]) -> str:
    """The Occlusion field: each mask a rectangle of its group's cloze, every one "hide all,
    guess one" (``oi=1``)."""
    parts = []
    for mask in sorted(masks, key=lambda m: m.ordinal):
        parts.append("{{c%d::image-occlusion:rect:left=%s:top=%s:width=%s:height=%s:oi=1}}" % (
            mask.ordinal, share(mask.left), share(mask.top), share(mask.width), share(mask.height)))
    return "<br>".join(parts)


def find_occlusion_notetype(col: Any) -> Optional[Dict[str, Any]]:
    """Anki's Image Occlusion note type in the collection, or None (nothing is added)."""
    for entry in col.models.all_names_and_ids():
        nt = col.models.get(entry.id)
        if nt and nt.get("originalStockKind") == STOCK_IMAGE_OCCLUSION and nt.get("type") == 1:
            return nt
    return None


def occlusion_roles(nt: Dict[str, Any]) -> Dict[int, str]:
    """The note type's field names by role (its first four fields, in Anki's order, when the
    fields carry no role tags)."""
    fields = nt["flds"]
    roles = {f.get("tag"): f["name"] for f in fields if isinstance(f.get("tag"), int)}
    if not all(r in roles for r in (ROLE_OCCLUSIONS, ROLE_IMAGE, ROLE_HEADER, ROLE_BACK_EXTRA)):
        if len(fields) < 4:  # Anki itself reads the first four fields in this order then
            raise CollectionError(f"The note type '{nt['name']}' is not a usable Image Occlusion type.",
                                  "Check the database (Tools → Check Database) and try again.")
        roles = {i: fields[i]["name"] for i in range(4)}
    return roles


def occlusion_notetype(col: Any) -> Tuple[Dict[str, Any], Dict[int, str]]:
    """Anki's Image Occlusion note type (added if the collection has none: only in a step that
    writes) and its field names by role."""
    nt = find_occlusion_notetype(col)
    if nt is None:
        col.add_image_occlusion_notetype()
        nt = find_occlusion_notetype(col)
    if nt is None:
        raise CollectionError("Anki has no Image Occlusion note type here.",
                              "Image occlusion notes need Anki 23.10 or newer.")
    return nt, occlusion_roles(nt)


@dataclass
class OcclusionAdded:
    note_ids: List[int] = field(default_factory=list)
    skipped: List[Tuple[OcclusionNote, str]] = field(default_factory=list)
    messages: List[str] = field(default_factory=list)
    changes: Any = None


def _note(col: Any, nt: Dict[str, Any], roles: Dict[int, str], item: OcclusionNote, image_name: str,
          tags: Sequence[str]) -> Any:
    note = col.new_note(nt)
    note[roles[ROLE_OCCLUSIONS]] = item.occlusions()
    note[roles[ROLE_IMAGE]] = '<img src="%s">' % html.escape(image_name, quote=True)
    note[roles[ROLE_HEADER]] = clean_chars(html.escape(item.header, quote=False))
    note[roles[ROLE_BACK_EXTRA]] = clean_chars(source_line(item.source))
    all_tags = (list(tags) + [OCCLUSION_TAG, source_tag(item.source.document, item.source.page)]
                + ([CHECK_MASKS_TAG] if item.check_masks else []))
    note.tags = list(dict.fromkeys(t for t in (clean_chars(str(t)) for t in all_tags) if t))
    return note


def _requests(col: Any, items: Sequence[OcclusionNote], deck_id: Any, tags: Sequence[str],
              added: OcclusionAdded) -> List[Tuple[OcclusionNote, Any]]:
    from anki.collection import AddNoteRequest

    nt, roles = occlusion_notetype(col)
    out = []
    for item in items:
        if not item.masks:
            added.skipped.append((item, "no label to hide"))
            continue
        try:
            name = col.media.write_data(item.media_name, item.image)
            note = _note(col, nt, roles, item, name, tags)
        except Exception as err:
            if write_failure(err) is not None:
                raise
            added.skipped.append((item, "could not be made into a note: %s" % shown(err)))
            continue
        out.append((item, AddNoteRequest(note, deck_id)))
    return out


def add_occlusion_notes(col: Any, items: Sequence[OcclusionNote], deck: str,
                        tags: Sequence[str] = ()) -> OcclusionAdded:
    """Add the checked notes to ``deck`` (created if need be) in one undo step. A failed write
    (a full disk, ...) adds none and raises ``CollectionWriteFailed``."""
    added = OcclusionAdded()
    chosen = [item for item in items if item.checked]
    if not chosen:
        return added
    pos = col.add_custom_undo_entry(UNDO_LABEL)
    try:
        deck_id = col.decks.id(clean_chars(deck).strip() or "Default", create=True)
        requests = _requests(col, chosen, deck_id, tags, added)
        if requests:
            col.add_notes([request for _item, request in requests])
            added.note_ids = [request.note.id for _item, request in requests]
        added.changes = col.merge_undo_entries(pos)
    except Exception as e:
        undo_failed_step(col, pos)
        raise add_error(e, "No image occlusion note was added.",
                        "Nothing was changed. Check the deck, then try again.") from e
    return added
