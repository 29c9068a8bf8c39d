"""An update from start to end, for the command line and the dialog: the document read (text
only), planned, its changed units sent (answers kept in a journal as they come, so a crash or a
cancel loses only the requests in flight, and a dry run followed by the real one asks nothing
twice), the proposal made; applying is ``apply.apply_update``.

Journals are the bulk job's (``bulk.journal``), one per update, in a folder of their own (the
bulk job's resume offer does not see them). An update finds the unfinished journal of the same
document, the same units sent and the same model and card kind, and takes the answers it holds."""
import hashlib
import os
import threading
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Dict, List, Optional

from ..bulk.files import SUFFIX, prune, unfinished
from ..bulk.journal import Journal, card_from_json
from ..cards.card import Card
from ..errors import FlashcardError
from ..job.chunk import Chunk
from ..job.reports import ChunkWarning, JobListener, Progress
from ..job.run import JobOptions, JobResult, chunk_budget, run_job
from ..sources.document import Document
from .plan import UpdatePlan

JOURNAL_KEYS = ("model", "kind", "language", "prompt_additions", "depth", "focus")


def journal_folder(base: str, collection_path: str) -> str:
    """The folder of one collection's update journals under ``base``."""
    digest = hashlib.sha1(os.path.abspath(collection_path).encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return os.path.join(base, digest)


def read_document(path: str, settings: Any = None) -> Document:
    """The document as an update reads it: its text as cards are made from it (a Kindle
    ``My Clippings.txt`` or another highlights export as its highlights, so that its parts are
    the ones recorded; images are not sent again)."""
    from ..highlights.read import read_as_carded
    from ..sources.limits import configure

    if settings is not None:
        configure(settings)
    return read_as_carded(path)


@dataclass
class Generated:
    """The new cards of what was sent."""

    chunks: List[Chunk]
    cards: List[Card] = field(default_factory=list)  # in document order
    result: Optional[JobResult] = None  # None when nothing had to be asked
    reused: int = 0  # pieces whose answer came from an earlier, unfinished run
    journal: Optional[Journal] = None

    @property
    def complete(self) -> bool:
        """Every piece has its answer (only then may the proposal mark notes source-removed)."""
        r = self.result
        return r is None or (not r.failures and not r.cancelled and r.fatal is None)

    def finish(self) -> None:
        """The update was applied: its journal is done."""
        if self.journal is not None:
            self.journal.finish("done")
            self.journal = None

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
            self.journal = None


def _header(plan: UpdatePlan, options: JobOptions, budget: int) -> Dict[str, Any]:
    opts = asdict(options)
    return {"update": 1, "path": os.path.abspath(plan.path), "sent": [u.fp for u in plan.sent_units()],
            "budget": budget, "options": {k: str(opts.get(k)) for k in JOURNAL_KEYS}}


def _same_job(header: Dict[str, Any], wanted: Dict[str, Any]) -> bool:
    return all(header.get(k) == wanted[k] for k in ("update", "path", "sent", "budget", "options"))


def open_journal(folder: str, header: Dict[str, Any], sync: bool = True) -> Journal:
    """The unfinished journal of the same update, or a new one."""
    for path in unfinished(folder):
        try:
            journal = Journal.open(path, sync)
        except OSError:
            continue
        if _same_job(journal.state.header, header):
            return journal
        journal.close()
    journal = Journal.create(folder, header, sync)
    _prune_abandoned(folder, keep=journal.path)
    return journal


def _prune_abandoned(folder: str, keep: str, at_most: int = 20) -> None:
    """Unfinished journals of updates never applied (a dry run not followed, a plan that moved
    on): the newest are kept, for a while."""
    old = [p for p in unfinished(folder) if p != keep]
    for path in old[at_most:]:
        try:
            os.remove(path)
        except OSError:
            pass
    prune(folder)


class _Journaling(JobListener):
    """Each answer into the journal the moment it is in; everything else to ``inner``."""

    def __init__(self, journal: Journal, inner: JobListener, kept: Dict[str, List[Card]]) -> None:
        self.journal = journal
        self.inner = inner
        self.kept = kept  # chunk id -> its final cards, in document order

    def on_card(self, chunk: Chunk, card: Card) -> None:
        self.inner.on_card(chunk, card)

    def on_answer(self, chunk: Chunk, cards: List[Card]) -> None:
        self.journal.chunk_done(0, chunk, cards)
        self.inner.on_answer(chunk, cards)

    def on_warning(self, warning: ChunkWarning) -> None:
        self.inner.on_warning(warning)

    def on_chunk(self, chunk: Chunk, cards: List[Card]) -> None:
        self.kept[chunk.id] = list(cards)
        self.inner.on_chunk(chunk, cards)

    def on_failure(self, chunk: Chunk, err: FlashcardError) -> None:
        self.inner.on_failure(chunk, err)

    def on_progress(self, p: Progress) -> None:
        self.inner.on_progress(p)


def generate(plan: UpdatePlan, backend: Any, options: JobOptions, folder: str,
             listener: Optional[JobListener] = None, cancel: Optional[threading.Event] = None,
             sync: bool = True) -> Generated:
    """Ask for the cards of the plan's changed and new units (``options`` as ``prepare_job``
    returned them). Answers an unfinished run of the same update already has are not asked again."""
    options = replace(options, max_cards=0)  # each piece by its length, as a normal job
    budget = chunk_budget(options)
    chunks = plan.chunks(budget)
    out = Generated(chunks)
    if not chunks:
        return out
    journal = open_journal(folder, _header(plan, options, budget), sync)
    out.journal = journal
    done = journal.state.done
    todo = [c for c in chunks if c.id not in done]
    out.reused = len(chunks) - len(todo)
    fresh: Dict[str, List[Card]] = {}
    if todo:
        out.result = run_job(todo, backend, options, _Journaling(journal, listener or JobListener(), fresh),
                             cancel)
    for chunk in chunks:
        if chunk.id in fresh:
            out.cards.extend(fresh[chunk.id])
        elif chunk.id in done:  # an earlier run's answer, or one journaled before a cancel
            out.cards.extend(card_from_json(c) for c in done[chunk.id].cards)
    return out


__all__ = ["Generated", "SUFFIX", "generate", "journal_folder", "open_journal",
           "read_document"]
