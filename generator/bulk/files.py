"""Bulk job journals on disk, without reading them: which are unfinished, pruning finished ones.

Kept apart from ``journal`` and free of dataclasses and engine imports, so the check Anki runs
at profile open costs next to nothing (a directory listing and each journal's last line)."""
import json
import os
from typing import List

SUFFIX = ".jsonl"
DONE_SUFFIX = ".done.jsonl"
INDEX_NAME = "added-chunks.jsonl"
KEEP_FINISHED = 10  # finished journals kept for reference; older ones are deleted


def unfinished(folder: str) -> List[str]:
    """Paths of journals without an ``end`` record, newest first. Cheap: reads only each file's
    last line (a journal is unfinished when its last good record is not ``end``)."""
    if not os.path.isdir(folder):
        return []
    out = []
    for name in os.listdir(folder):
        if not name.startswith("job-") or not name.endswith(SUFFIX) or name.endswith(DONE_SUFFIX):
            continue
        path = os.path.join(folder, name)
        if not _ends_with_end(path):
            out.append(path)
    return sorted(out, reverse=True)


def _ends_with_end(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 4096))
            tail = f.read()
    except OSError:
        return True  # unreadable: do not offer it
    for line in reversed(tail.split(b"\n")):
        if not line.strip():
            continue
        try:
            rec = json.loads(line.decode("utf-8"))
        except ValueError:
            continue  # torn last line: look at the one before
        return isinstance(rec, dict) and rec.get("t") == "end"
    return False


def prune(folder: str, keep: int = KEEP_FINISHED) -> None:
    try:
        done = sorted(n for n in os.listdir(folder) if n.startswith("job-") and n.endswith(DONE_SUFFIX))
    except OSError:
        return
    for name in done[:-keep] if keep else done:
        try:
            os.remove(os.path.join(folder, name))
        except OSError:
            pass


def safe_folder_name(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name.strip())
    return keep.strip(".") or "profile"
