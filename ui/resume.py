"""At profile open: is there a bulk job to resume? Light to import (no Qt widgets, no engine,
no dataclasses) and cheap to run (one directory listing), so it adds nothing measurable to
Anki's start. Only when a job was left unfinished is ``open_bulk`` called (a moment later),
which opens the bulk dialog; that offers resuming the job."""
import os
from typing import Any, Callable, List, Set

from ..generator.bulk.files import safe_folder_name, unfinished

ADDON = __name__.split(".")[0]  # "ollama_flashcards", or AnkiWeb's numeric folder name
RESUME_DELAY_MS = 1200  # after profile open, before the offer (let Anki settle first)

_offered: Set[str] = set()  # journals offered in this session (not again at a profile switch)


def bulk_folder(mw: Any) -> str:
    """Where the profile's bulk journals live: the add-on's ``user_files`` (kept on upgrades)."""
    profile = safe_folder_name(str(getattr(mw.pm, "name", "") or "profile"))
    return os.path.join(mw.addonManager.addonsFolder(ADDON), "user_files", "bulk", profile)


def pending(mw: Any) -> List[str]:
    """Unfinished journals not offered yet in this session."""
    try:
        return [p for p in unfinished(bulk_folder(mw)) if p not in _offered]
    except Exception:
        return []


def offer_resume(mw: Any, open_bulk: Callable[[], Any]) -> None:
    """If a job was left unfinished, call ``open_bulk`` a moment later (the dialog offers the
    newest unfinished job)."""
    fresh = pending(mw)
    if not fresh:
        return
    _offered.update(fresh)

    def show() -> None:
        if mw.col is not None:
            open_bulk()

    mw.progress.single_shot(RESUME_DELAY_MS, show, True)
