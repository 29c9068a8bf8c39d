"""An update's plan: a document compared with its record, before any model time is spent.

Units whose fingerprint the record holds are *unchanged* (also when they moved): they are not
sent, and their notes are not touched. The rest are found by aligning the old and the new
sequence of fingerprints (difflib): a stretch where old units gave way to new ones is a
*region* of *changed* units; new units with no old ones beside them are *new*; old units with
no new ones are *removed*. The changed and new units are sent (with the headings above them, so
the model and the cards' source references know where they are), cut into pieces as a normal
job cuts a document; each region's old notes are what their new cards are matched with."""
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from ..job.chunk import Chunk
from ..job.chunking import iter_chunks
from ..sources.document import HEADING, Block, Document
from .fingerprint import HEADING_UNIT, Unit, units_of
from .record import DocRecord, TrackedNote, find, tracked_notes

UNCHANGED, CHANGED, NEW = "unchanged", "changed", "new"


@dataclass
class Region:
    """Old units that gave way to new ones (either side may be empty)."""

    index: int
    old: List[str] = field(default_factory=list)  # fingerprints of the old units
    new: List[int] = field(default_factory=list)  # indexes of the new units


@dataclass
class UpdatePlan:
    path: str
    name: str
    units: List[Unit]
    record: Optional[DocRecord]  # None: the document was never recorded
    status: List[str] = field(default_factory=list)  # per unit: UNCHANGED, CHANGED or NEW
    regions: List[Region] = field(default_factory=list)
    notes: List[TrackedNote] = field(default_factory=list)  # every followed note of the document

    # -- what the plan says ---------------------------------------------------------------------
    @property
    def fps(self) -> Set[str]:
        return {u.fp for u in self.units}

    def sent_units(self) -> List[Unit]:
        """The units to send: changed and new ones that have text to learn from."""
        return [u for u, s in zip(self.units, self.status) if s != UNCHANGED and u.kind != HEADING_UNIT]

    def removed(self) -> List[str]:
        return [fp for r in self.regions if not r.new for fp in r.old]

    def counts(self) -> Dict[str, int]:
        """Units unchanged, changed, new and removed."""
        return {"unchanged": self.status.count(UNCHANGED), "changed": self.status.count(CHANGED),
                "new": self.status.count(NEW), "removed": len(self.removed())}

    def kept_notes(self) -> List[TrackedNote]:
        """Notes of units still in the document: not touched."""
        fps = self.fps
        return [n for n in self.notes if n.unit in fps]

    def open_notes(self) -> List[TrackedNote]:
        """Notes whose unit changed or is gone: matched with the new cards."""
        fps = self.fps
        return [n for n in self.notes if n.unit not in fps]

    def region_of(self) -> Tuple[Dict[str, int], Dict[int, int]]:
        """Old fingerprint -> region, new unit index -> region."""
        old = {fp: r.index for r in self.regions for fp in r.old}
        new = {i: r.index for r in self.regions for i in r.new}
        return old, new

    # -- what is sent ---------------------------------------------------------------------------
    def blocks_to_send(self) -> List[Block]:
        """The sent units' blocks, each stretch under the headings that hold it."""
        out: List[Block] = []
        heading_at: Dict[Tuple[str, ...], Block] = {}  # a heading's path -> its block (the last one)
        shown: Tuple[str, ...] = ()
        sending = {u.index for u in self.sent_units()}
        for unit in self.units:
            if unit.kind == HEADING_UNIT:
                heading_at[unit.heading_path] = unit.blocks[0]
                continue
            if unit.index not in sending:
                continue
            path = unit.heading_path
            if path != shown:
                for k in range(1, len(path) + 1):
                    block = heading_at.get(path[:k])
                    if block is not None:
                        level = block.level if 1 <= block.level <= 6 else 1
                        out.append(Block(HEADING, block.text.strip(), level, block.location))
                shown = path
            out.extend(unit.blocks)
        return out

    def chunks(self, budget: int) -> List[Chunk]:
        blocks = self.blocks_to_send()
        return list(iter_chunks(blocks, self.name, budget)) if blocks else []


def align(old: Sequence[str], new: Sequence[Unit]) -> Tuple[List[str], List[Region]]:
    """Each new unit's status, and the regions where old units gave way to new ones."""
    new_fps = [u.fp for u in new]
    status = [NEW] * len(new)
    left: Dict[str, int] = {}
    for fp in old:
        left[fp] = left.get(fp, 0) + 1
    matcher = SequenceMatcher(None, list(old), new_fps, autojunk=False)
    opcodes = matcher.get_opcodes()
    for tag, _i1, _i2, j1, j2 in opcodes:
        if tag == "equal":
            for j in range(j1, j2):
                status[j] = UNCHANGED
                left[new_fps[j]] -= 1
    for j, fp in enumerate(new_fps):  # moved: elsewhere in the old document
        if status[j] != UNCHANGED and left.get(fp, 0) > 0:
            status[j] = UNCHANGED
            left[fp] -= 1
    regions: List[Region] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        olds = []
        for fp in old[i1:i2]:
            if left.get(fp, 0) > 0:  # not found anywhere in the new document
                olds.append(fp)
                left[fp] -= 1
        news = [j for j in range(j1, j2) if status[j] != UNCHANGED]
        if not olds and not news:
            continue
        for k, j in enumerate(news):  # as many changed as old units gave way; the rest new
            status[j] = CHANGED if k < len(olds) else NEW
        regions.append(Region(len(regions), olds, news))
    return status, regions


def plan_update(col: Any, path: str, document: Document, record: Optional[DocRecord] = None) -> UpdatePlan:
    """The plan for the document read from ``path`` (its record found by path or by units)."""
    units = units_of(document.blocks)
    if record is None:
        record = find(col, path, units)
    if record is None:
        status = [NEW] * len(units)
        regions = [Region(0, [], list(range(len(units))))] if units else []
        return UpdatePlan(path, document.name, units, None, status, regions, [])
    status, regions = align(record.fps, units)
    return UpdatePlan(path, document.name, units, record, status, regions, tracked_notes(col, record))
