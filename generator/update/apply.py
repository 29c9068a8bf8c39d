"""An update's proposal (one entry per note: what happens to it) and applying it in one undo step.

Actions: ``unchanged`` (its unit did not change, or its new card says the same: not touched),
``update`` (same fact, new text: the note is changed in place, so its note id, cards, scheduling
and review history stay), ``add`` (a new fact), ``source-removed`` (its text is gone from the
document: kept, tagged ``ollama-flashcards::source-removed``, its cards suspended if asked) and
``kept-edit`` (same fact, new text, but you edited the note since the add-on wrote it: never
overwritten; tagged ``ollama-flashcards::source-changed``, the new text shown). In the dialog an
update left unchecked is kept as it is (and tagged like a kept edit), a kept edit checked is
overwritten, an add left unchecked is not added."""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from ..cards.card import CLOZE, Card
from ..cards.checks import is_flagged
from ..errors import CollectionError
from ..notes.add import (ADDON_TAG, FLAGGED_TAG, UNGROUNDED_TAG, NoteTarget, add_error, fill_note,
                         mark_duplicates, new_notes, resolve_notetype, shape_for, source_tag,
                         undo_failed_step)
from .match import Embed, Side, attribute, card_side, pair, plain, strip_source
from .plan import UpdatePlan
from .record import DocRecord, TrackedNote, save, stamp, without_mark

UNCHANGED, UPDATE, ADD, SOURCE_REMOVED, KEPT_EDIT = "unchanged", "update", "add", "source-removed", "kept-edit"
ACTIONS = (UNCHANGED, UPDATE, ADD, SOURCE_REMOVED, KEPT_EDIT)
SOURCE_REMOVED_TAG = ADDON_TAG + "::source-removed"
SOURCE_CHANGED_TAG = ADDON_TAG + "::source-changed"
STATUS_TAGS = (UNGROUNDED_TAG, FLAGGED_TAG, SOURCE_REMOVED_TAG, SOURCE_CHANGED_TAG)
UNDO_LABEL = "Update Flashcards from Source"


@dataclass
class Entry:
    action: str
    note_id: Optional[int] = None
    card: Optional[Card] = None  # the new card (update, add, kept-edit)
    unit: str = ""  # the unit the note belongs to after the update
    old: Dict[str, str] = field(default_factory=dict)  # field name -> value now
    new: Dict[str, str] = field(default_factory=dict)  # field name -> value after ({}: as now)
    where: str = ""  # the unit's section and page
    score: float = 0.0  # how sure the match is (update, kept-edit, unchanged in a changed unit)
    tagged: bool = False  # source-removed already (nothing to write)

    @property
    def checked(self) -> bool:
        """Applied unless you say otherwise: all but an overwrite of your own edit."""
        return self.action != KEPT_EDIT

    @property
    def writes(self) -> bool:
        return self.action in (UPDATE, ADD, KEPT_EDIT) or (self.action == SOURCE_REMOVED and not self.tagged)

    def to_json(self, document: str) -> Dict[str, Any]:
        from ..cards.fields import clean_json

        out: Dict[str, Any] = {"document": document, "action": self.action, "note_id": self.note_id,
                               "where": self.where, "old": dict(self.old), "new": dict(self.new)}
        if self.score:
            out["score"] = self.score
        if self.action == SOURCE_REMOVED and self.tagged:
            out["tagged_before"] = True
        return clean_json(out)


@dataclass
class Proposal:
    plan: UpdatePlan
    record: DocRecord  # the document's record (new when it had none)
    target: NoteTarget
    entries: List[Entry] = field(default_factory=list)

    def counts(self) -> Dict[str, int]:
        out = {a: 0 for a in ACTIONS}
        for e in self.entries:
            out[e.action] += 1
        return out

    @property
    def writes(self) -> bool:
        return any(e.writes for e in self.entries) or self.record_changes()

    def record_changes(self) -> bool:
        r = self.plan.record
        return r is None or r.fps != [u.fp for u in self.plan.units] or r.moved != self.moved() \
            or os_path(r.path) != os_path(self.plan.path)

    def moved(self, kept: Sequence[int] = ()) -> Dict[int, str]:
        """The record's "moved" map after the update: notes that stay as they are (unchanged,
        kept) but belong to a unit other than their mark's."""
        marks = {n.id: n.mark.unit for n in self.plan.notes}
        stays = {e.note_id: e.unit for e in self.entries if e.note_id is not None and (
            e.action in (UNCHANGED, SOURCE_REMOVED) or e.note_id in kept)}
        return {nid: unit for nid, unit in sorted(stays.items()) if unit and marks.get(nid, unit) != unit}


def os_path(path: str) -> str:
    import os

    return os.path.normcase(os.path.abspath(path)) if path else ""


class _Scratch:
    """A note's fields and tags as a dict, for filling without touching the note."""

    def __init__(self, names: Sequence[str], values: Sequence[str], tags: Sequence[str]) -> None:
        self.names = list(names)
        self.values = dict(zip(names, values))
        self.tags = list(tags)

    def keys(self) -> List[str]:
        return list(self.names)

    def __getitem__(self, name: str) -> str:
        return self.values[name]

    def __setitem__(self, name: str, value: str) -> None:
        self.values[name] = value


class NoteTypes:
    """Per note type: its field names, whether it is a cloze type, and the mapping of the
    add-on's fields to its own. The target's type maps as the add maps it (``resolve_notetype``:
    the target's field mapping holds for a stock type too), since its notes are written like
    the new ones; any other type as Improve reads it (``shape_for``: first field the question,
    second the answer; an Image Occlusion note maps nothing, so its masks are never read as a
    question nor written over)."""

    def __init__(self, col: Any, target: NoteTarget) -> None:
        self.col = col
        self.target_nt, self.target_mapping = resolve_notetype(col, target)
        self._cache: Dict[int, Tuple[List[str], bool, Dict[str, str]]] = {}

    def of(self, mid: int) -> Tuple[List[str], bool, Dict[str, str]]:
        found = self._cache.get(mid)
        if found is None:
            target = mid == int(self.target_nt["id"])
            nt = (self.target_nt if target else self.col.models.get(mid)) or {}
            names = [f["name"] for f in nt.get("flds") or []]
            shape = shape_for(nt)
            mapping = dict(self.target_mapping) if target else shape.mapping
            found = self._cache[mid] = (names, shape.kind == CLOZE, mapping)
        return found


def note_side(types: NoteTypes, note: TrackedNote, region: int) -> Side:
    names, cloze, mapping = types.of(note.mid)
    values = dict(zip(names, note.fields))
    first, second = ("text", "extra") if cloze else ("front", "back")
    return Side(plain(values.get(mapping.get(first, ""), "")), plain(values.get(mapping.get(second, ""), "")),
                cloze, region)


def content_of(values: Dict[str, str], mapping: Dict[str, str], cloze: bool) -> Tuple[str, str]:
    first, second = ("text", "extra") if cloze else ("front", "back")
    return (" ".join(strip_source(values.get(mapping.get(first, ""), "")).split()),
            " ".join(strip_source(values.get(mapping.get(second, ""), "")).split()))


def card_content(card: Card) -> Tuple[str, str]:
    from ..cards.fields import clean_chars

    a, b = (card.text, card.extra) if card.kind == CLOZE else (card.front, card.back)
    return " ".join(clean_chars(a).split()), " ".join(clean_chars(b).split())


def status_tags(old: Sequence[str], card: Card, document: str) -> List[str]:
    """The note's tags after an update: yours kept, the add-on's status tags as the new card
    says (grounded, flagged), the source tag of the document."""
    keep = [t for t in old if t not in STATUS_TAGS]
    extra = ([UNGROUNDED_TAG] if not card.grounded else []) + ([FLAGGED_TAG] if is_flagged(card) else [])
    src = source_tag(document)
    if not any(t.lower() == src.lower() for t in keep):
        extra.append(src)
    return list(dict.fromkeys(keep + extra))


def filled(types: NoteTypes, note: TrackedNote, card: Card, record: DocRecord, unit: str) -> _Scratch:
    """The note's fields and tags as the update would write them (mark included)."""
    names, _cloze, mapping = types.of(note.mid)
    scratch = _Scratch(names, [without_mark(v) for v in note.fields], note.tags)
    fill_note(scratch, card, mapping, [])
    scratch.tags = status_tags(note.tags, card, card.source.document or record.name)
    stamp(scratch, record.id, unit, mapping.get("source", ""))
    return scratch


def _fields(names: Sequence[str], values: Sequence[str]) -> Dict[str, str]:
    return {n: without_mark(v) for n, v in zip(names, values)}


def propose(col: Any, plan: UpdatePlan, cards: Sequence[Card], chunks: Sequence[Any], target: NoteTarget,
            embed: Optional[Embed] = None) -> Proposal:
    """One entry per note of the document (and per new card), from the plan and the new cards of
    what was sent. Reads the collection; writes nothing."""
    record = plan.record or DocRecord.new(plan.path, plan.name)
    proposal = Proposal(plan, record, target)
    types = NoteTypes(col, target)
    labels = {u.fp: u.label() for u in plan.units}
    for note in plan.kept_notes():
        names, _c, _m = types.of(note.mid)
        proposal.entries.append(Entry(UNCHANGED, note.id, unit=note.unit, old=_fields(names, note.fields),
                                      where=labels.get(note.unit, "")))
    old_region, new_region = plan.region_of()
    units = attribute(cards, chunks, plan.units)
    card_sides = [card_side(card, new_region.get(u.index, -1) if u is not None else -1)
                  for card, u in zip(cards, units)]
    open_notes = plan.open_notes()
    note_sides = [note_side(types, n, old_region.get(n.unit, -1)) for n in open_notes]
    pairs = pair(card_sides, note_sides, embed)
    matched_cards = {i for i, _j, _s in pairs}
    matched_notes = {j: (i, s) for i, j, s in pairs}
    first_new = {r.index: plan.units[r.new[0]].fp for r in plan.regions if r.new}
    for j, note in enumerate(open_notes):
        names, cloze, mapping = types.of(note.mid)
        old = _fields(names, note.fields)
        if j not in matched_notes:
            region = old_region.get(note.unit, -1)
            question = old.get(mapping.get("text" if cloze else "front", ""), "")
            if "<img" in question and region in first_new:
                # a figure's card: an update sends text only, so it cannot be asked again; it
                # stays with its changed unit (it goes when the unit goes)
                proposal.entries.append(Entry(UNCHANGED, note.id, unit=first_new[region], old=old,
                                              where=labels.get(first_new[region], "")))
                continue
            proposal.entries.append(Entry(SOURCE_REMOVED, note.id, unit=note.unit, old=old,
                                          tagged=SOURCE_REMOVED_TAG in note.tags))
            continue
        i, score = matched_notes[j]
        card, unit = cards[i], units[i]
        fp = unit.fp if unit is not None else note.unit
        where = labels.get(fp, "")
        values = dict(zip(names, note.fields))
        if content_of(values, mapping, cloze) == card_content(card):
            proposal.entries.append(Entry(UNCHANGED, note.id, card, fp, old, where=where, score=score))
            continue
        scratch = filled(types, note, card, record, fp)
        new = _fields(scratch.names, [scratch[n] for n in scratch.names])
        action = KEPT_EDIT if note.edited else UPDATE
        proposal.entries.append(Entry(action, note.id, card, fp, old, new, where, score))
    for i, card in enumerate(cards):
        if i in matched_cards:
            continue
        unit = units[i]
        fp = unit.fp if unit is not None else ""
        proposal.entries.append(Entry(ADD, None, card, fp, {}, _new_note_fields(types, card),
                                      labels.get(fp, "")))
    return proposal


def _new_note_fields(types: NoteTypes, card: Card) -> Dict[str, str]:
    nt, mapping = types.target_nt, types.target_mapping
    names = [f["name"] for f in nt["flds"]]
    scratch = _Scratch(names, [""] * len(names), [])
    fill_note(scratch, card, mapping, [])
    return {n: scratch[n] for n in names}


# --- applying ----------------------------------------------------------------------------------

@dataclass
class ApplyResult:
    counts: Dict[str, int]  # unchanged, updated, added, source_removed, kept, not_added, gone
    changes: Any = None  # OpChanges, for CollectionOp
    added: List[int] = field(default_factory=list)
    updated: List[int] = field(default_factory=list)
    skipped: List[Tuple[Card, str]] = field(default_factory=list)  # adds Anki refused, duplicates

    @property
    def changed(self) -> bool:
        c = self.counts
        return bool(c["updated"] or c["added"] or c["tagged"])


def summary(counts: Dict[str, int]) -> str:
    """The line that adds up: every note of the document in exactly one group."""
    parts = ["%d unchanged" % counts.get("unchanged", 0), "%d updated" % counts.get("updated", 0),
             "%d added" % counts.get("added", 0), "%d source removed" % counts.get("source_removed", 0),
             "%d kept your edits" % counts.get("kept", 0)]
    if counts.get("not_added"):
        parts.append("%d not added" % counts["not_added"])
    if counts.get("gone"):
        parts.append("%d deleted meanwhile" % counts["gone"])
    return ", ".join(parts)


def planned_counts(proposal: Proposal) -> Dict[str, int]:
    """What applying every entry as checked would give (for --dry-run)."""
    c = proposal.counts()
    return {"unchanged": c[UNCHANGED], "updated": c[UPDATE], "added": c[ADD],
            "source_removed": c[SOURCE_REMOVED], "kept": c[KEPT_EDIT], "not_added": 0, "gone": 0,
            "tagged": 0}


def apply_update(col: Any, proposal: Proposal, accepted: Optional[Set[int]] = None,
                 suspend_removed: bool = False, skip_duplicates: bool = True) -> ApplyResult:
    """Apply the proposal in one undo step (``UNDO_LABEL``): ``accepted`` holds the indexes of
    the entries you checked (None: each entry's default). The notes and the document's record
    change together; a failure changes nothing. Run it where collection work belongs (a
    CollectionOp in Anki)."""
    if accepted is None:
        accepted = {i for i, e in enumerate(proposal.entries) if e.checked}
    counts = {"unchanged": 0, "updated": 0, "added": 0, "source_removed": 0, "kept": 0, "not_added": 0,
              "gone": 0, "tagged": 0}
    result = ApplyResult(counts)
    if not proposal.writes:
        counts["unchanged"] = sum(1 for e in proposal.entries if e.action == UNCHANGED)
        counts["source_removed"] = sum(1 for e in proposal.entries if e.action == SOURCE_REMOVED)
        return result
    types = NoteTypes(col, proposal.target)
    record = proposal.record
    pos = col.add_custom_undo_entry(UNDO_LABEL)
    try:
        notes, kept, adds, suspend = _entries(col, proposal, accepted, suspend_removed, types, result)
        if notes:
            col.update_notes(notes)
        if adds:
            _add(col, types, proposal, adds, skip_duplicates, result)
        if suspend:
            col.sched.suspend_cards(suspend)
        record.path = proposal.plan.path
        record.name = proposal.plan.name
        record.fps = [u.fp for u in proposal.plan.units]
        record.moved = proposal.moved(kept)
        target = proposal.target
        record.deck, record.kind, record.notetype = target.deck, target.kind, target.notetype
        record.field_mapping = dict(target.field_mapping)
        save(col, record)
        result.changes = col.merge_undo_entries(pos)
    except Exception as e:
        undo_failed_step(col, pos, UNDO_LABEL)
        raise add_error(e, "Nothing was changed.",
                        "Nothing was changed. Check the deck and note type, then try again.") from e
    return result


def _entries(col: Any, proposal: Proposal, accepted: Set[int], suspend_removed: bool, types: NoteTypes,
             result: ApplyResult) -> Tuple[List[Any], List[int], List[Tuple[int, Entry]], List[int]]:
    """Inside the undo step: the notes to write (updated, tagged), the notes kept as they are,
    the entries to add, the cards to suspend; ``result.counts`` counted as it goes."""
    counts = result.counts
    record = proposal.record
    by_id = {n.id: n for n in proposal.plan.notes}
    notes: List[Any] = []
    kept: List[int] = []
    adds: List[Tuple[int, Entry]] = []
    suspend: List[int] = []
    for index, entry in enumerate(proposal.entries):
        take = index in accepted
        if entry.action == UNCHANGED:
            counts["unchanged"] += 1
            continue
        if entry.action == ADD:
            if take:
                adds.append((index, entry))
            else:
                counts["not_added"] += 1
            continue
        assert entry.note_id is not None
        tracked = by_id.get(entry.note_id)
        try:
            note = col.get_note(entry.note_id)
        except Exception:
            counts["gone"] += 1  # deleted since the plan was made
            continue
        if entry.action == SOURCE_REMOVED:
            counts["source_removed"] += 1
            if take and SOURCE_REMOVED_TAG not in note.tags:
                note.tags = note.tags + [SOURCE_REMOVED_TAG]
                notes.append(note)
                counts["tagged"] += 1
            if take and suspend_removed:
                suspend.extend(note.card_ids())
            continue
        if take and tracked is not None and entry.card is not None:  # update, or overwrite your edit
            scratch = filled(types, tracked, entry.card, record, entry.unit)
            for name in scratch.names:
                if name in note and note[name] != scratch[name]:
                    note[name] = scratch[name]
            note.tags = scratch.tags
            notes.append(note)
            counts["updated"] += 1
            result.updated.append(int(note.id))
            continue
        kept.append(entry.note_id)  # your edit (or an update you did not take) stays
        counts["kept"] += 1
        if SOURCE_CHANGED_TAG not in note.tags:
            note.tags = note.tags + [SOURCE_CHANGED_TAG]
            notes.append(note)
            counts["tagged"] += 1
    return notes, kept, adds, suspend


def _add(col: Any, types: NoteTypes, proposal: Proposal, adds: List[Tuple[int, Entry]],
         skip_duplicates: bool, result: ApplyResult) -> None:
    cards = [e.card for _i, e in adds if e.card is not None]
    units = [e.unit for _i, e in adds if e.card is not None]
    target = proposal.target
    mark_duplicates(col, cards, target)
    added, skipped = new_notes(col, types.target_nt, types.target_mapping, target, cards, skip_duplicates)
    source_field = types.target_mapping.get("source", "")
    stamped = []
    for i, note in added:
        if stamp(note, proposal.record.id, units[i], source_field):
            stamped.append(note)
        result.added.append(int(note.id))
    if stamped:
        col.update_notes(stamped)
    result.counts["added"] += len(added)
    result.counts["not_added"] += len(skipped)
    result.skipped.extend((card, why) for card, why, _r in skipped)


__all__ = ["ACTIONS", "ADD", "ApplyResult", "CollectionError", "Entry", "KEPT_EDIT", "Proposal",
           "SOURCE_CHANGED_TAG", "SOURCE_REMOVED", "SOURCE_REMOVED_TAG", "UNCHANGED", "UNDO_LABEL",
           "UPDATE", "apply_update", "planned_counts", "propose", "summary"]


def apply_all(col: Any, proposals: Sequence[Proposal], accepted: Sequence[Optional[Set[int]]],
              suspend_removed: bool = False, skip_duplicates: bool = True) -> Tuple[List[ApplyResult], Any]:
    """Several documents' proposals in one undo step (``UNDO_LABEL``): all of them, or (a
    failure in one) none. Returns each document's result and the step's OpChanges."""
    pos = col.add_custom_undo_entry(UNDO_LABEL)
    results: List[ApplyResult] = []
    try:
        for proposal, chosen in zip(proposals, accepted):
            results.append(apply_update(col, proposal, chosen, suspend_removed, skip_duplicates))
        changes = col.merge_undo_entries(pos)
    except Exception:
        undo_failed_step(col, pos, UNDO_LABEL)
        raise
    return results, changes


def total_counts(results: Sequence[ApplyResult]) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for r in results:
        for key, value in r.counts.items():
            out[key] = out.get(key, 0) + value
    return out
