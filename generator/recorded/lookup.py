"""Reading the collection's index of recorded documents (``update.record`` writes it), the
highlights cards were made of (``update.highlights`` writes them), and whether notes carry the
add-on's mark: plain config reads and one SQL query, nothing of the engine imported."""
import base64
import binascii
import os
import re
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

INDEX_KEY = "ollamaFlashcards.docs"  # document id -> its path
DOC_PREFIX = "ollamaFlashcards.doc."  # + document id: the document's record
HL_PREFIX = "ollamaFlashcards.hl."  # + document id: the highlights cards were made of
MARK_ATTR = "data-ollama-flashcards"
MAX_PATH = 4096
MAX_KEYS = 200_000
DOC_ID = re.compile(r"^[0-9a-f]{8}$")


def load_index(col: Any) -> Dict[str, str]:
    """Document id -> path of every recorded document."""
    data = col.get_config(INDEX_KEY, None)
    if not isinstance(data, dict):
        return {}
    return {k: str(v)[:MAX_PATH] for k, v in data.items() if isinstance(k, str) and DOC_ID.match(k)}


def _file_id(path: str) -> Optional[Tuple[int, int]]:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def ids_at(index: Dict[str, str], paths: Sequence[str]) -> Dict[str, List[str]]:
    """For each of ``paths`` recorded in ``index`` (document id -> path): the ids of its records,
    in the index's order. By the normalised paths first; only paths not found so are looked up
    on the disk (each file stat'ed once: a link, another spelling of the same file)."""
    by_name: Dict[str, List[str]] = {}
    for doc_id, recorded in index.items():
        if recorded:
            by_name.setdefault(os.path.normcase(os.path.abspath(recorded)), []).append(doc_id)
    out: Dict[str, List[str]] = {}
    missing: Dict[Tuple[int, int], List[str]] = {}
    for path in paths:
        if not path:
            continue
        found = by_name.get(os.path.normcase(os.path.abspath(path)))
        if found:
            out[path] = list(found)
            continue
        fid = _file_id(path)
        if fid is not None:
            missing.setdefault(fid, []).append(path)
    if missing:
        for doc_id, recorded in index.items():
            fid = _file_id(recorded) if recorded else None
            for path in missing.get(fid, ()) if fid is not None else ():
                out.setdefault(path, []).append(doc_id)
    return out


def recorded_among(col: Any, paths: Sequence[str]) -> List[str]:
    """Those of ``paths`` that cards were made from before (a document recorded at that path)."""
    found = ids_at(load_index(col), paths)
    return [p for p in paths if p in found]


def highlight_keys(col: Any, doc_id: str) -> Set[str]:
    """The keys of the highlights of the document ``doc_id`` cards were made of (8 hex digits
    each; kept as 4 bytes a highlight, checked and bounded: the config may come from elsewhere)."""
    raw = col.get_config(HL_PREFIX + doc_id, None)
    if not isinstance(raw, str):
        return set()
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return set()
    if len(data) % 4 or len(data) > MAX_KEYS * 4:
        return set()
    hexed = data.hex()
    return {hexed[i:i + 8] for i in range(0, len(hexed), 8)}


def carded_by_path(col: Any, paths: Sequence[str]) -> Dict[str, Set[str]]:
    """By path (as given): the keys of the highlights cards were made of, for the files among
    ``paths`` recorded before (found by their paths alone, without reading them)."""
    out: Dict[str, Set[str]] = {}
    for path, ids in ids_at(load_index(col), [p for p in paths if p]).items():
        for doc_id in ids:
            if isinstance(col.get_config(DOC_PREFIX + doc_id, None), dict):  # the record is there
                keys = highlight_keys(col, doc_id)
                if keys:
                    out[path] = keys
                break
    return out


def has_marked_notes(col: Any, nids: Sequence[Any], limit: int = 2000) -> bool:
    """Whether one of the notes ``nids`` (at most ``limit`` looked at: a menu asks this) carries
    the add-on's mark, i.e. was made from a file the add-on follows: one query."""
    ids = [int(n) for n in list(nids)[:limit]]
    if not ids:
        return False
    return bool(col.db.scalar("select 1 from notes where id in (%s) and flds like ? limit 1"
                              % ",".join(map(str, ids)), "%" + MARK_ATTR + "=%"))
