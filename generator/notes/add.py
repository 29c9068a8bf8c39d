"""Cards into an Anki collection: note type by kind (never by its translated name), deck by
name, tags, duplicate checks, and one add_notes call as one undo step."""
import html
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from ..cards.card import CLOZE, REVERSED, Card, SourceRef
from ..cards.fields import clean_chars
from ..cards.checks import is_flagged
from ..cards.sanitize import _clean_text, html_to_text, sanitize_html
from ..errors import CollectionError
from ..images.safety import figure_key
from ..cards.grounding import normalise
from ..config import Settings
from ..outside import shown
from ..writefail import write_failure
from .accounting import CardAccount, Reason

UNDO_LABEL = "Generate Flashcards"
ADDON_TAG = "ollama-flashcards"
UNGROUNDED_TAG = ADDON_TAG + "::ungrounded"
FLAGGED_TAG = ADDON_TAG + "::flagged"  # the card checks flagged it (generator/checks.py)

# Anki's OriginalStockKind values (anki.models.StockNotetype.OriginalStockKind).
STOCK_BASIC, STOCK_REVERSED, STOCK_CLOZE, STOCK_IMAGE_OCCLUSION = 1, 2, 5, 6
STOCK_KIND = {"basic": STOCK_BASIC, REVERSED: STOCK_REVERSED, CLOZE: STOCK_CLOZE}
SOURCE_FIELD_NAMES = ("source", "sources", "reference", "references", "citation", "quelle",
                      "fuente", "fonte", "bron", "źródło", "출처", "出典", "来源")
LOGICAL_FIELDS = ("front", "back", "text", "extra", "source")
SOURCE_CLASS = "ollama-flashcards-source"
# The source line ``source_line`` writes, with the line break before it, wherever it stands in
# the field (an edit may have put text after it); the <div> may carry attributes (a mark).
SOURCE_LINE = re.compile(r'(?:<br\s*/?>)?\s*<div class="%s"[^>]*>.*?</div>' % SOURCE_CLASS,
                         re.IGNORECASE | re.DOTALL)


@dataclass
class NoteTarget:
    deck: str
    kind: str = "basic"
    notetype: str = ""  # a user's note type by name; "" = Anki's stock type for the kind
    field_mapping: Dict[str, str] = field(default_factory=dict)  # logical field -> note field
    tags: List[str] = field(default_factory=list)
    topic_subdecks: bool = False  # a card with a topic goes to "<deck>::<topic title>"

    def deck_name(self, card: Card) -> str:
        deck = self.deck.strip() or "Default"
        if self.topic_subdecks and card.topic.strip():
            part = " ".join(card.topic.replace("::", " ").replace('"', "").split())[:80]
            if part:
                deck = f"{deck}::{part}"
        return deck


# A card an add left out: the card, why in words, and why as a ``Reason`` (for the accounting).
Left = Tuple[Card, str, Reason]


@dataclass
class AddResult:
    note_ids: List[int]
    left: List[Left] = field(default_factory=list)  # each card not added: why, and the reason
    changes: Any = None  # OpChanges, for CollectionOp
    added: List[Tuple[Card, int]] = field(default_factory=list)  # card and the note it became

    @property
    def skipped(self) -> List[Tuple[Card, str]]:
        """Each card not added and why, as a user reads it."""
        return [(card, why) for card, why, _reason in self.left]

    def account(self) -> CardAccount:
        """The add's own accounting: the cards given, those added, the others by reason."""
        out = CardAccount(len(self.note_ids) + len(self.left), len(self.note_ids))
        for _card, _why, reason in self.left:
            out.leave(reason)
        return out


def user_notetypes(col) -> List[Tuple[str, int]]:
    return [(n.name, n.id) for n in col.models.all_names_and_ids()]


def notetype_fields(col, name: str) -> List[str]:
    nt = col.models.by_name(name)
    return [f["name"] for f in nt["flds"]] if nt else []


def shape_of(nt: Dict[str, Any]) -> str:
    """What a note type does, judged by its templates: "cloze", "basic" (one card), "reversed"
    (two cards, both always made) or "" (anything else: typing, optional reverse, image
    occlusion, ...)."""
    templates = nt.get("tmpls") or []
    fronts = [str(t.get("qfmt") or "") for t in templates]
    if nt.get("type") == 1:
        is_cloze = len(fronts) == 1 and "{{cloze:" in fronts[0] and "image-occlusion" not in fronts[0]
        return CLOZE if is_cloze else ""
    if any("{{type:" in f for f in fronts):
        return ""
    if len(fronts) == 1:
        return "basic"
    if len(fronts) == 2 and not any(f.lstrip().startswith("{{#") for f in fronts):
        return REVERSED
    return ""


@dataclass
class NoteShape:
    """How a note type's fields map to a card's: ``kind`` and logical field -> field name."""

    kind: str
    mapping: Dict[str, str]
    notetype: str  # its name
    why_not: str = ""  # why notes of this type are not changed ("" = they can be)

    @property
    def main_fields(self) -> Tuple[str, str]:
        return ("text", "extra") if self.kind == CLOZE else ("front", "back")


def shape_for(nt: Dict[str, Any], settings: Optional[Settings] = None) -> NoteShape:
    """How notes of the type ``nt`` are read as cards (by Improve and Update from source): its
    shape by its templates (``shape_of``), else cloze for a cloze type and basic for any other;
    the first field the question and the second the answer (a field called like "Source" left
    alone), the settings' ``field_mapping`` for the note type they name. Image Occlusion notes
    map nothing: their fields are masks, not text."""
    name = str(nt.get("name") or "")
    names = [str(f.get("name") or "") for f in nt.get("flds") or []]
    if nt.get("originalStockKind") == STOCK_IMAGE_OCCLUSION or \
            any("image-occlusion" in str(t.get("qfmt") or "") for t in nt.get("tmpls") or []):
        return NoteShape("basic", {}, name, "Image occlusion notes are not changed.")
    shape = shape_of(nt)
    kind = shape or (CLOZE if nt.get("type") == 1 else "basic")
    mapping = default_mapping(names, kind)
    if settings is not None and settings.note_type and settings.note_type == name:
        for logical, field_name in settings.field_mapping.items():
            if field_name in names:
                mapping[logical] = field_name
            elif not field_name:
                mapping.pop(logical, None)
    main = "text" if kind == CLOZE else "front"
    if not mapping.get(main):
        return NoteShape(kind, mapping, name, f"No field of “{name}” holds the question.")
    return NoteShape(kind, mapping, name)


def stock_notetype(col, kind: str) -> Dict[str, Any]:
    """The stock note type for a card kind, found by kind and shape (never by its translated
    name); re-created if the user deleted it. The shape check matters: Anki 23.10 labels the
    stock types' originalStockKind off by one for the reversed variants."""
    wanted = STOCK_KIND.get(kind, STOCK_BASIC)
    shape = CLOZE if kind == CLOZE else (REVERSED if kind == REVERSED else "basic")
    candidates = [col.models.get(entry.id) for entry in col.models.all_names_and_ids()]
    candidates = [nt for nt in candidates if nt and shape_of(nt) == shape]
    for nt in candidates:
        if nt.get("originalStockKind") == wanted:
            return nt
    for nt in candidates:  # a stock-derived type of the right shape, whatever its label
        if nt.get("originalStockKind"):
            return nt
    from anki.stdmodels import get_stock_notetypes

    for _name, make in get_stock_notetypes(col):
        nt = make(col)
        if shape_of(nt) == shape:
            col.models.add(nt)
            return col.models.by_name(nt["name"])
    raise CollectionError("Anki has no note type for this kind of card.",
                          "Choose one of your own note types with a field mapping.")


def resolve_notetype(col, target: NoteTarget) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """The note type to use and the complete mapping of our logical fields to its field names."""
    if target.notetype:
        nt = col.models.by_name(target.notetype)
        if nt is None:
            raise CollectionError(f"There is no note type called '{target.notetype}'.",
                                  "Choose an existing note type in the settings or the dialog.")
    else:
        nt = stock_notetype(col, target.kind)
    names = [f["name"] for f in nt["flds"]]
    mapping = default_mapping(names, target.kind)
    for logical, name in target.field_mapping.items():
        if logical not in LOGICAL_FIELDS:
            continue
        if name and name not in names:
            raise CollectionError(f"The note type '{nt['name']}' has no field '{name}'.",
                                  "Fix the field mapping in the settings.")
        if name:
            mapping[logical] = name
        else:
            mapping.pop(logical, None)
    first = mapping.get("text" if target.kind == CLOZE else "front")
    if not first:
        raise CollectionError(f"No field of '{nt['name']}' is mapped to the card's "
                              f"{'text' if target.kind == CLOZE else 'front'}.",
                              "Fix the field mapping in the settings.")
    return nt, mapping


def default_mapping(names: Sequence[str], kind: str) -> Dict[str, str]:
    """First field = front (or cloze text), second = back (or extra); a field named like
    'Source' gets the source reference."""
    mapping: Dict[str, str] = {}
    source = next((n for n in names if n.strip().lower() in SOURCE_FIELD_NAMES), "")
    others = [n for n in names if n != source]
    main, second = ("text", "extra") if kind == CLOZE else ("front", "back")
    if others:
        mapping[main] = others[0]
    if len(others) > 1:
        mapping[second] = others[1]
    if source:
        mapping["source"] = source
    return mapping


def plain_key(html_text: str) -> str:
    """A field's text as the duplicate check compares it: what a reader sees, spaces folded,
    and the add-on's figure it shows. Text with no markup (no ``<`` or ``&``: most fields)
    skips the HTML parser: the same result, 3-8x faster (measured on 40-1000 characters)."""
    if "<" not in html_text and "&" not in html_text:
        return " ".join(_clean_text(html_text).split())
    return html_to_text(html_text).strip() + figure_key(html_text)


def field_keys(col, mid: int, index: int) -> Iterator[Tuple[int, str]]:
    """(note id, ``plain_key`` of its field ``index``) of every note of the note type ``mid``
    that has the field, in one query."""
    for nid, flds in col.db.all("select id, flds from notes where mid = ?", mid):
        parts = flds.split("\x1f")
        if index < len(parts):
            yield int(nid), plain_key(parts[index])


def existing_keys(col, nt: Dict[str, Any], field_name: str) -> Tuple[Set[str], Set[str]]:
    """Exact (``plain_key`` of the field) and normalised texts of one field over all notes of a
    note type, in one query."""
    index = [f["name"] for f in nt["flds"]].index(field_name)
    exact = {key for _nid, key in field_keys(col, nt["id"], index)}
    return exact, {normalise(text) for text in exact}


def mark_duplicates(col, cards: Sequence[Card], target: NoteTarget) -> None:
    """Set ``card.duplicate``: "collection" (same first field as a note of the type), "near"
    (the same after case, accents and punctuation are folded) or "batch" (twice in this batch).
    A figure's Image Occlusion note shown as a card (``Card.occlusion``) is not compared: its
    front is a header, not a question."""
    cards = [c for c in cards if c.occlusion is None]
    nt, mapping = resolve_notetype(col, target)
    first = mapping["text" if target.kind == CLOZE else "front"]
    exact, near = existing_keys(col, nt, first)
    keys = [plain_key(card.key_text()) for card in cards]
    set_duplicates(cards, keys, [normalise(k) for k in keys], exact, near)


def set_duplicates(cards: Sequence[Card], keys: Sequence[str], norms: Sequence[str],
                   exact: Set[str], near: Set[str]) -> None:
    """Set each card's ``duplicate`` from its first field's plain text (``keys``) and its folded
    form (``norms``), against the collection's ``exact`` and ``near`` keys and the batch itself."""
    seen: Set[str] = set()
    for card, key, norm in zip(cards, keys, norms):
        if key in exact:
            card.duplicate = "collection"
        elif norm in near:
            card.duplicate = "near"
        elif norm in seen:
            card.duplicate = "batch"
        else:
            card.duplicate = None
        seen.add(norm)


def source_tag(document: str, page: int = 0) -> str:
    """The tag naming a card's document: ``ollama-flashcards::source::lecture3.pdf``, and its page
    as a child when known (``…::lecture3.pdf::p12``): in the Browser, ``tag:`` of the document
    finds its cards from every page, and of the page those from that page."""
    slug = re.sub(r"[\s\"]+", "_", document.strip()).replace("::", "_").strip("_:") or "text"
    tag = f"{ADDON_TAG}::source::{slug[:80]}"
    return f"{tag}::p{page}" if page > 0 else tag


def source_html(source: SourceRef) -> str:
    """A card's source as HTML: its label, as a link that opens the document at the place
    (``SourceRef.link``) when it was read from a file; sanitized with that one link."""
    if not source.document:
        return ""
    label = html.escape(source.label())
    link = source.link()
    if not link:
        return label
    return sanitize_html(f'<a href="{html.escape(link)}">{label}</a>', links={link})


def source_line(source: SourceRef) -> str:
    """The small line that names the source under a card's back (or in its extra) when no field
    holds it; "" without a document. Update from source puts its mark on the ``<small>``, so the
    ``<div>`` stays as written here, which ``strip_source_line`` finds."""
    body = source_html(source)
    return f'<div class="{SOURCE_CLASS}"><small>Source: {body}</small></div>' if body else ""


def strip_source_line(value: str) -> Tuple[str, str]:
    """A field without the add-on's source line (with the ``<br>`` before it), and the line
    taken off ("" when it has none; the last one if it has several)."""
    if SOURCE_CLASS not in value:
        return value, ""
    line = ""
    parts: List[str] = []
    end = 0
    for m in SOURCE_LINE.finditer(value):
        parts.append(value[end:m.start()])
        line, end = m.group(0), m.end()
    parts.append(value[end:])
    return "".join(parts), line


def fill_note(note, card: Card, mapping: Dict[str, str], tags: Sequence[str]) -> None:
    values: Dict[str, str] = {}
    if card.kind == CLOZE:
        values["text"], values["extra"] = card.text, card.extra
    else:
        values["front"], values["back"] = card.front, card.back
    if "source" in mapping:
        source = source_html(card.source)
        if source:
            values["source"] = source
    else:  # no field for it: a small line under the back (or the cloze's extra)
        line = source_line(card.source)
        if line:
            side = "extra" if card.kind == CLOZE else "back"
            values[side] = (values.get(side) or "") + ("<br>" if values.get(side) else "") + line
    for logical, value in values.items():
        name = mapping.get(logical)
        if name:
            # Cards are clean when the engine makes them; a journal from before, a file name or
            # an edit may still bring a character no note can store (a lone surrogate).
            note[name] = clean_chars(value)
    all_tags = (list(tags) + list(card.tags) + [source_tag(card.source.document, card.source.page)]
                + ([UNGROUNDED_TAG] if not card.grounded else [])
                + ([FLAGGED_TAG] if is_flagged(card) else []))
    note.tags = list(dict.fromkeys(t for t in (clean_chars(str(t)) for t in all_tags) if t))


def skip_reason(card: Card, skip_duplicates: bool, skip_similar: bool,
                skip_flagged: bool = False) -> Optional[Tuple[str, Reason]]:
    """Why the add leaves ``card`` out before trying it (a duplicate, a similar note, a flagged
    card a bulk job skips), or None."""
    if skip_duplicates and card.duplicate:
        return (f"duplicate ({card.duplicate})",
                Reason.BATCH if card.duplicate == "batch" else Reason.COLLECTION)
    if skip_similar and card.similar_to is not None:
        return (f"similar to note {card.similar_to.note_id} ({card.similar_to.score:.2f})",
                Reason.SIMILAR)
    if skip_flagged and is_flagged(card):
        return "flagged by the card checks", Reason.FLAGGED
    return None


def new_notes(col, nt: Dict[str, Any], mapping: Dict[str, str], target: NoteTarget,
              cards: Sequence[Card], skip_duplicates: bool, skip_similar: bool = False,
              skip_flagged: bool = False) -> Tuple[List[Tuple[int, Any]], List[Left]]:
    """Add notes for ``cards`` to the target deck (created if need be) with one add_notes call;
    run it inside the caller's undo step. Returns the (index in ``cards``, note) pairs added
    and the cards skipped, with why (in words and as a ``Reason``)."""
    from anki.collection import AddNoteRequest

    deck_ids: Dict[str, Any] = {}  # deck name -> DeckId, created if need be
    added: List[Tuple[int, Any]] = []
    skipped: List[Left] = []
    requests = []
    for i, card in enumerate(cards):
        before = skip_reason(card, skip_duplicates, skip_similar, skip_flagged)
        if before is not None:
            skipped.append((card, before[0], before[1]))
            continue
        try:  # one card that cannot become a note never costs the others
            note = col.new_note(nt)
            fill_note(note, card, mapping, target.tags)
            if card.kind == CLOZE and note.fields_check() != 0:  # 0 = NORMAL
                skipped.append((card, "not a valid cloze", Reason.UNUSABLE))
                continue
        except Exception as e:
            if write_failure(e) is not None:
                raise
            skipped.append((card, "could not be made into a note: %s" % shown(e), Reason.UNUSABLE))
            continue
        added.append((i, note))
        deck = clean_chars(target.deck_name(card)).strip() or "Default"
        if deck not in deck_ids:
            deck_ids[deck] = col.decks.id(deck, create=True)
        requests.append(AddNoteRequest(note, deck_ids[deck]))
    if not requests:
        return added, skipped
    try:
        col.add_notes(requests)
    except Exception as e:
        if write_failure(e) is not None:
            raise
        # Something in one note made the whole call fail: add them one by one (in the same undo
        # step) and skip only the notes that fail.
        kept: List[Tuple[int, Any]] = []
        for (i, note), request in zip(added, requests):
            try:
                col.add_note(note, request.deck_id)
            except Exception as one:
                if write_failure(one) is not None:
                    raise
                skipped.append((cards[i], "could not be added: %s" % shown(one), Reason.UNUSABLE))
                continue
            kept.append((i, note))
        if not kept:  # not one note's fault: fail as a whole (the caller undoes the step)
            raise e
        added = kept
    return added, skipped


def undo_failed_step(col, pos: Any, label: str = UNDO_LABEL) -> None:
    """After a failure inside the undo step opened at ``pos`` (named ``label``): close it and
    undo what it did."""
    try:
        col.merge_undo_entries(pos)
        if col.undo_status().undo == label:
            col.undo()
    except Exception:
        # The failed operation took the undo step with it (a full disk does: "target undo op
        # not found"); its transaction was rolled back, so there is nothing left to undo.
        pass


def add_error(err: BaseException, nothing_added: str, hint: str) -> CollectionError:
    """The typed error for a failed add: a full disk or another failed write as such, anything
    else as "could not be added" with the (shortened) reason."""
    failed = write_failure(err, nothing_added)
    if failed is not None:
        return failed
    return CollectionError("The cards could not be added: %s" % shown(err), hint)


def add_cards(col, cards: Sequence[Card], target: NoteTarget, skip_duplicates: bool = True,
              skip_similar: bool = False) -> AddResult:
    """Add the cards as notes in one transaction and one undo step labelled UNDO_LABEL.
    A card that cannot become a note is skipped (with why in ``skipped``); the others go in.
    A failed write (a full disk, ...) adds none and raises ``CollectionWriteFailed``; any other
    failure adds none either (and leaves no deck behind)."""
    nt, mapping = resolve_notetype(col, target)
    mark_duplicates(col, cards, target)
    pos = col.add_custom_undo_entry(UNDO_LABEL)
    try:
        added, skipped = new_notes(col, nt, mapping, target, cards, skip_duplicates, skip_similar)
        changes = col.merge_undo_entries(pos)
    except Exception as e:
        undo_failed_step(col, pos)
        raise add_error(e, "Nothing was added.",
                        "Nothing was changed. Check the deck and note type, then try again.") from e
    return AddResult([n.id for _i, n in added], list(skipped), changes, [(cards[i], n.id) for i, n in added])


def open_collection(path: str):
    """Open a collection file for the CLI; refuses one that Anki has open."""
    import os

    from anki.collection import Collection
    from anki.lang import set_lang

    set_lang("en")
    if not path.endswith(".anki2"):
        raise CollectionError(f"'{path}' is not an Anki collection (.anki2) file.",
                              "Pass the path of collection.anki2 in your Anki profile folder.")
    if not os.path.exists(os.path.dirname(os.path.abspath(path))):
        raise CollectionError(f"The folder of '{path}' does not exist.")
    try:
        return Collection(path)
    except Exception as e:
        text = shown(e)
        failed = write_failure(e, "")
        if failed is not None:
            raise failed from None
        if "already open" in text.lower() or "locked" in text.lower():
            raise CollectionError(
                f"The collection '{path}' is open in Anki.",
                "Close Anki (or switch it to another profile) first, or use the add-on inside Anki.",
            ) from None
        raise CollectionError(f"The collection '{path}' could not be opened: {text}",
                              "Check the path and that the file is an Anki collection.") from None


def find_added(col, note_ids: Sequence[int]) -> Optional[str]:
    """A Browser search that shows the given notes."""
    return "nid:" + ",".join(str(i) for i in note_ids) if note_ids else None
