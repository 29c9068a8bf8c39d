"""Figures in a bulk job: the reader plans each file that can hold figures (PDF, DOCX, EPUB,
HTML, image files) with ``figure_plan.plan_with_figures`` instead of streaming its text; the
chunks go through the spool as usual and get their images back by id when generation reads
them (``attach``). The figures that cards show are kept next to the job's journal
(``<job>.figures/``) the moment their chunk is journaled, so a job resumed after a crash still
has them, and are written into the collection's media just before their notes are added
(``write_media``, called by the note writer). The folder goes when the job is done.

Never imports aqt or Qt (the Qt adapter, if any, is given by the caller)."""
import os
import shutil
import tempfile
import threading
from dataclasses import replace
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from .. import log
from ..cards.card import Card
from ..job.chunk import Chunk
from ..config import FigureMode
from ..images.figure import Graphics, figure_mode
from .files import DONE_SUFFIX, SUFFIX
from ..job.images import FigureStore

# Files planned with their figures; anything else is streamed as text.
FIGURE_EXTENSIONS = (".pdf", ".docx", ".epub", ".html", ".htm", ".xhtml", ".png", ".jpg", ".jpeg",
                      ".webp", ".gif")


def figures_folder(journal_path: str) -> str:
    """Where a job keeps the figures its cards show: beside its journal."""
    base = journal_path
    for suffix in (DONE_SUFFIX, SUFFIX):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base + ".figures"


class BulkFigures:
    """One bulk run's figures (see the module doc). Thread-safe: the reader thread plans,
    generation attaches, the run keeps."""

    def __init__(self, options: Any, graphics: Optional[Graphics], journal_path: str,
                 on_note: Optional[Callable[[str, str], None]] = None) -> None:
        self.options = options
        self.graphics = graphics
        self.folder = figures_folder(journal_path)
        self.store = FigureStore()
        self.on_note = on_note or (lambda path, text: None)
        self._parts: Dict[str, Tuple[Any, ...]] = {}
        self._planned: Set[str] = set()
        self._plans: List[Any] = []
        self._lock = threading.Lock()
        self.budget = 0  # the job's text budget (set by the run)

    @classmethod
    def for_run(cls, options: Any, graphics: Optional[Graphics], journal_path: str,
                on_note: Optional[Callable[[str, str], None]] = None) -> Optional["BulkFigures"]:
        if figure_mode(getattr(options, "figures", "auto")) is FigureMode.OFF:
            return None
        return cls(options, graphics, journal_path, on_note)

    # -- reading --------------------------------------------------------------------------
    def chunks_for(self, path: str, budget: int = 0) -> Optional[List[Chunk]]:
        """The file's chunks with their images (text pieces of ``budget`` tokens, as the job's
        other files), or None when it is read as a stream of text, as without figures (a model
        that cannot see reads a document's text as before; an image file gives its error)."""
        from ..figures.plan import can_see, plan_with_figures
        from ..images.safety import IMAGE_EXTENSIONS
        from ..sources.with_figures import read_source_path

        low = path.lower()
        if not low.endswith(FIGURE_EXTENSIONS) or not (can_see(self.options) or low.endswith(IMAGE_EXTENSIONS)):
            return None
        doc = read_source_path(path, figure_mode(self.options.figures))
        if doc.figures is None:
            return None
        plan = plan_with_figures([doc], self.options, self.graphics, self.store, budget or None)
        with self._lock:
            self._plans.append(plan)
            self._planned.add(path)
            for chunk in plan.chunks:
                if chunk.images:
                    self._parts[chunk.id] = chunk.images
        for text in plan.warnings:
            self.on_note(path, text)
        if not plan.chunks and plan.skipped:
            raise plan.skipped[0]
        return [replace(c, images=()) for c in plan.chunks]  # the spool holds the text only

    def attach(self, chunk: Chunk, path: str = "") -> Chunk:
        """``chunk`` with its images again (a failed chunk run again: its file is planned once
        more to find them)."""
        with self._lock:
            parts = self._parts.pop(chunk.id, None)
            planned = path in self._planned
        if parts is None and path and not planned:
            try:
                self.chunks_for(path, self.budget)
            except Exception as e:  # the chunk goes without its images; the text still counts
                log.event("figures of a file not found again: %s", type(e).__name__)
            with self._lock:
                parts = self._parts.pop(chunk.id, None)
        return replace(chunk, images=parts) if parts else chunk

    # -- keeping and writing ---------------------------------------------------------------
    def keep(self, cards: Sequence[Card]) -> None:
        """The figures of ``cards`` onto disk beside the journal, before the journal names them."""
        for card in cards:
            name = card.figure
            if not name:
                continue
            data = self.store.get(name)
            target = os.path.join(self.folder, name)
            if data is None or os.path.exists(target):
                continue
            os.makedirs(self.folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".part-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, target)
            except OSError:
                try:
                    os.remove(tmp)
                except OSError:
                    pass
                raise

    def close(self) -> None:
        with self._lock:
            plans, self._plans = self._plans, []
        for plan in plans:
            plan.close()


def write_media(col: Any, cards: Sequence[Card], journal_path: str) -> List[str]:
    """Before a batch of a bulk job's notes is added: the figures its cards show, from beside
    the journal into the collection's media. Cards whose figure is gone lose it (a message)."""
    if not any(c.figure for c in cards):
        return []
    from ..figures.media import write_figures

    folder = figures_folder(journal_path)
    store = FigureStore()
    for card in cards:
        if card.figure and store.get(card.figure) is None:
            try:
                with open(os.path.join(folder, os.path.basename(card.figure)), "rb") as f:
                    store.put(card.figure, f.read())
            except OSError:
                pass  # write_figures takes the figure off the card and says so
    return write_figures(col, cards, store)


def remove_folder(journal_path: str) -> None:
    """The job is done: its figures are in the collection (or were not wanted)."""
    shutil.rmtree(figures_folder(journal_path), ignore_errors=True)
