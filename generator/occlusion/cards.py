"""Image Occlusion notes among the cards a dialog reviews: each note is shown as a ``Card`` of
kind "occlusion" (``as_card``: the header on the front, the labels it hides on the back, the
note itself in ``Card.occlusion``), checked or unchecked like any card; ``add_all`` adds a
review's checked cards and notes together, in one undo step; ``mark_known`` marks a figure
already in the collection as a duplicate."""
import html
import re
from typing import Any, List, Sequence, Tuple

from ..cards.card import Card
from ..config import CardKind
from ..errors import FlashcardError
from ..notes.accounting import Reason
from ..notes.add import UNDO_LABEL, AddResult, NoteTarget, add_cards, add_error, undo_failed_step
from .notes import ROLE_IMAGE, OcclusionNote, add_occlusion_notes

OCCLUSION = CardKind.OCCLUSION
MAX_LISTED = 12  # labels named on the card's back in review


def hidden_labels(note: OcclusionNote) -> str:
    """What the note hides, one card a line: "Left atrium", "Right atrium + Right ventricle"."""
    groups: List[List[str]] = []
    ordinals: List[int] = []
    for mask in sorted(note.masks, key=lambda m: m.ordinal):
        if mask.ordinal not in ordinals:
            ordinals.append(mask.ordinal)
            groups.append([])
        groups[-1].append(mask.text)
    lines = [" + ".join(g) for g in groups[:MAX_LISTED]]
    if len(groups) > MAX_LISTED:
        lines.append("… and %d more" % (len(groups) - MAX_LISTED))
    return "<br>".join(html.escape(line) for line in lines)


def as_card(note: OcclusionNote) -> Card:
    """The note as a row of the review list."""
    return Card(kind=OCCLUSION, front=html.escape(note.header), back=hidden_labels(note),
                source=note.source, occlusion=note)


def occlusion_of(card: Card) -> Any:
    return card.occlusion if card.kind == OCCLUSION else None


def mark_known(col: Any, cards: Sequence[Card]) -> int:
    """Mark the Image Occlusion notes among ``cards`` whose figure is already the image of such a
    note in the collection (``duplicate = "collection"``), or comes twice in the list
    ("batch"); returns how many. The figure is known by its media name, a hash of its bytes."""
    from .notes import find_occlusion_notetype, occlusion_roles

    shown = [(c, occlusion_of(c)) for c in cards if occlusion_of(c) is not None]
    if not shown:
        return 0
    known = set()
    nt = find_occlusion_notetype(col)  # read only: a collection without the type has no such note
    if nt is not None:
        index = [f["name"] for f in nt["flds"]].index(occlusion_roles(nt)[ROLE_IMAGE])
        for flds in col.db.list("select flds from notes where mid = ?", nt["id"]):
            parts = flds.split("\x1f")
            if index < len(parts):
                known.update(re.findall(r'src="([^"<>]{1,200})"', parts[index]))
    seen = set()
    marked = 0
    for card, note in shown:
        name = note.media_name
        card.duplicate = "collection" if name in known else "batch" if name in seen else None
        seen.add(name)
        marked += card.duplicate is not None
    return marked


def add_all(col: Any, cards: Sequence[Card], target: NoteTarget, skip_duplicates: bool = True,
            skip_similar: bool = False) -> AddResult:
    """``notes.add.add_cards`` for the cards, and the Image Occlusion notes among them (as checked
    by the user: every one passed is added) into the same deck with the same tags, all in one
    undo step. The header is the card's front as the user left it."""
    from ..cards.sanitize import html_to_text

    notes: List[Tuple[Card, OcclusionNote]] = []
    others: List[Card] = []
    for card in cards:
        note = occlusion_of(card)
        if note is None:
            others.append(card)
            continue
        note.checked = True
        note.header = " ".join(html_to_text(card.front).split())[:160] or note.header
        notes.append((card, note))
    if not notes:
        return add_cards(col, others, target, skip_duplicates, skip_similar)
    pos = col.add_custom_undo_entry(UNDO_LABEL)
    try:
        result = add_cards(col, others, target, skip_duplicates, skip_similar) if others \
            else AddResult([])
        added = add_occlusion_notes(col, [n for _c, n in notes], target.deck, target.tags)
        changes = col.merge_undo_entries(pos)
    except Exception as e:
        undo_failed_step(col, pos)
        if isinstance(e, FlashcardError):
            raise  # add_cards and add_occlusion_notes say what failed themselves
        raise add_error(e, "Nothing was added.",
                        "Nothing was changed. Check the deck and note type, then try again.") from e
    by_note = {id(n): c for c, n in notes}
    skipped_ids = {id(n) for n, _why in added.skipped}
    kept = [(c, n) for c, n in notes if id(n) not in skipped_ids]
    result.added.extend((card, nid) for (card, _n), nid in zip(kept, added.note_ids))
    result.note_ids.extend(added.note_ids)
    # an occlusion note not made (no label to hide, an image that could not be written)
    result.left.extend((by_note[id(n)], why, Reason.UNUSABLE) for n, why in added.skipped)
    result.changes = changes
    return result
