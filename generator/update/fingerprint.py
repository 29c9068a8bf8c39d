"""A document as units an update can compare: a paragraph, a list (its items together), a table
(its rows together) or a heading, each with a fingerprint of its normalised text.

Normalising forgives what does not change a fact: spacing and line breaks, typographic quotes,
dashes and ligatures (NFKC). Everything else (a word, a number, a comma) makes a new fingerprint.
Fingerprints are 32 bits: within one document a changed unit is taken for an old one with a
chance of about one in four million per thousand units, and a record costs 4 bytes a unit."""
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, List, Tuple

from ..job.chunking import render_block
from ..sources.document import HEADING, LIST_ITEM, Block

PARAGRAPH_UNIT, LIST_UNIT, TABLE_UNIT, HEADING_UNIT = "paragraph", "list", "table", "heading"
FP_HEX = 8  # hex digits of a fingerprint

_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
                         "\u00ab": '"', "\u00bb": '"', "\u2013": "-", "\u2014": "-",
                         "\u2212": "-", "\u00a0": " ", "\u00ad": None, "\u200b": None})


def normalised(text: str) -> str:
    """The text as fingerprints see it: NFKC, plain quotes and dashes, spaces folded."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _SPACE.sub(" ", text).strip()


def fingerprint(text: str) -> str:
    """8 hex digits of a hash of the normalised text."""
    data = normalised(text).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=FP_HEX // 2).hexdigest()


@dataclass(frozen=True)
class Unit:
    """One unit of a document: what an update sends again when it changed."""

    index: int
    kind: str  # PARAGRAPH_UNIT, LIST_UNIT, TABLE_UNIT or HEADING_UNIT
    fp: str
    blocks: Tuple[Block, ...]
    heading_path: Tuple[str, ...]  # the headings above it (a heading's own path ends with it)
    location: str = ""  # of its first block ("page 3")

    @property
    def text(self) -> str:
        """As a chunk shows it (list items as "- item" lines)."""
        sep = "\n" if self.kind in (LIST_UNIT, TABLE_UNIT) else "\n\n"
        return sep.join(render_block(b) for b in self.blocks)

    def label(self) -> str:
        """Where it is, for a person: its section and page."""
        parts = [" › ".join(self.heading_path)] if self.heading_path else []
        if self.location:
            parts.append(self.location)
        return " · ".join(parts)


def _is_row(block: Block) -> bool:
    """A table row as the readers give it: one paragraph, "cell | cell"."""
    return block.kind != HEADING and block.kind != LIST_ITEM and " | " in block.text


def _kind_of(block: Block) -> str:
    if block.kind == HEADING:
        return HEADING_UNIT
    if block.kind == LIST_ITEM:
        return LIST_UNIT
    return TABLE_UNIT if _is_row(block) else PARAGRAPH_UNIT


def units_of(blocks: Iterable[Block]) -> List[Unit]:
    """The document's units in order. Consecutive list items make one list, consecutive table
    rows one table; blocks without visible text are left out (as chunking leaves them out)."""
    units: List[Unit] = []
    stack: List[Tuple[int, str]] = []
    group: List[Block] = []
    group_kind = ""

    def close() -> None:
        if not group:
            return
        path = tuple(t for _, t in stack)
        text = "\n".join(b.text for b in group)
        units.append(Unit(len(units), group_kind, fingerprint(group_kind[0] + ":" + text), tuple(group),
                          path, group[0].location))
        group.clear()

    for block in blocks:
        if not block.text.strip():
            continue
        kind = _kind_of(block)
        if kind == HEADING_UNIT:
            close()
            level = block.level if 1 <= block.level <= 6 else 1
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, block.text.strip()))
            units.append(Unit(len(units), HEADING_UNIT, fingerprint("h:" + block.text), (block,),
                              tuple(t for _, t in stack), block.location))
            continue
        if group and (kind != group_kind or kind == PARAGRAPH_UNIT):
            close()
        group_kind = kind
        group.append(block)
    close()
    return units
