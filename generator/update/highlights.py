"""Clippings grow: a ``My Clippings.txt`` (or an export, or a PDF) read again later gets cards only
for the highlights made since.

Which highlights cards were made of is kept beside the document's record of "when the document
changes" (``update.record``: found by the file's path, or by its content when it moved), in the
collection's config under ``ollamaFlashcards.hl.<document id>``: the highlights' keys (4 bytes
each, ``Highlight.key``: its book and its text, so a highlight is the same wherever it moves in
the file). It is written in the undo step of the notes: undoing the add forgets them again."""
import base64
from typing import Any, Dict, Iterable, Sequence, Set, Tuple

from ..recorded.lookup import HL_PREFIX as CONFIG_PREFIX
from ..recorded.lookup import MAX_KEYS, carded_by_path, highlight_keys
from ..sources.document import Document

__all__ = ["carded_before", "focus_keys", "remember", "remember_keys"]


def _record(col: Any, path: str) -> Any:
    from .record import find_by_path

    return find_by_path(col, path)  # as making cards records it (by its path only)


def carded_before(col: Any, sources: Sequence[Tuple[str, Document]]) -> Dict[str, Set[str]]:
    """By document name: the keys of the highlights of (path, document) cards were made of (the
    records found by path, all at once: ``recorded.lookup.carded_by_path``)."""
    wanted = [(path, doc) for path, doc in sources if doc.highlights is not None and path]
    by_path = carded_by_path(col, [path for path, _doc in wanted])
    return {doc.name: by_path[path] for path, doc in wanted if path in by_path}


def focus_keys(chunks: Iterable[Any], chunk_ids: Iterable[str]) -> Dict[str, Set[str]]:
    """By document name: the keys of the highlights in the focus of the chunks ``chunk_ids``."""
    wanted = set(chunk_ids)
    out: Dict[str, Set[str]] = {}
    for chunk in chunks:
        if chunk.focus and chunk.id in wanted:
            out.setdefault(chunk.document, set()).update(f[4] for f in chunk.focus if f[4])
    return out


def remember(col: Any, sources: Sequence[Tuple[str, Document]], added: Sequence[Tuple[Any, int]],
             chunks: Sequence[Any], merge: bool = True) -> int:
    """After cards were added (and their documents recorded, ``update.track``): remember the
    highlights they were made of, folded into the last undo step (``merge``). Returns how many
    highlights were new to the record."""
    made = focus_keys(chunks, {card.chunk_id for card, _nid in added})
    return remember_keys(col, [(path, doc.name) for path, doc in sources], made, merge)


def remember_keys(col: Any, sources: Sequence[Tuple[str, str]], made: Dict[str, Set[str]],
                  merge: bool = True) -> int:
    """``remember`` for (path, document name) and, by document name, the keys of the highlights
    cards were made of."""
    pos = col.undo_status().last_step if merge else None
    new = 0
    for path, name in sources:
        keys = made.get(name)
        if not keys or not path:
            continue
        record = _record(col, path)
        if record is None:
            continue
        known = highlight_keys(col, record.id)
        fresh = sorted(k for k in keys if k not in known and len(k) == 8)
        if not fresh:
            continue
        new += len(fresh)
        packed = bytes.fromhex("".join(sorted(known) + fresh)[: MAX_KEYS * 8])
        col.set_config(CONFIG_PREFIX + record.id, base64.b64encode(packed).decode("ascii"), undoable=True)
    if pos and new:
        col.merge_undo_entries(pos)
    return new
