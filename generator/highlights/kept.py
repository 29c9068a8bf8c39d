"""The highlights a bulk job's focus chunks ask about, kept from when a file is read until the
chunks' cards are added: the cards name their chunk only, and the record of which highlights
cards were made of (``update.highlights``, clippings grow) needs the highlights."""
import threading
from collections import OrderedDict
from typing import Any, Dict, Iterable, Set, Tuple

MAX_KEPT = 100_000  # chunks (the oldest are dropped: their highlights are then asked again later)

_KEPT: "OrderedDict[str, Tuple[str, Tuple[str, ...]]]" = OrderedDict()  # chunk id -> (document, keys)
_LOCK = threading.Lock()


def keep_focus(chunks: Iterable[Any]) -> None:
    """Keep the highlights of these chunks (those with a focus) for ``kept_focus``."""
    with _LOCK:
        for chunk in chunks:
            keys = tuple(f[4] for f in chunk.focus if f[4])
            if keys:
                _KEPT[chunk.id] = (chunk.document, keys)
                _KEPT.move_to_end(chunk.id)
        while len(_KEPT) > MAX_KEPT:
            _KEPT.popitem(last=False)


def kept_focus(chunk_ids: Iterable[str]) -> Dict[str, Set[str]]:
    """By document name: the highlights kept of the chunks ``chunk_ids``."""
    out: Dict[str, Set[str]] = {}
    with _LOCK:
        for chunk_id in set(chunk_ids):
            found = _KEPT.get(chunk_id)
            if found is not None:
                out.setdefault(found[0], set()).update(found[1])
    return out
