"""``GenerationRunner``: one generation job (prepare the model, plan the chunks, ask the model
for each) on a worker thread, reporting to the main thread through signals:

- ``planned(n)``: the text is cut into n chunks;
- ``figure_notes(list)``: what the plan says about the source's figures (refused ones, a model
  that cannot see them), before the first chunk (without topics, the plan is
  ``generator.figures.plan``'s, through the dialog's ``FigureJob``);
- ``progress(Progress)``: after each chunk (chunk k of n, cards, tokens/s, failures);
- ``card(Chunk, Card)``: one card the moment the model has written it (its JSON object closed),
  validated, grounded and marked as a duplicate against the keys given (``duplicates``); a copy,
  so the table may edit it while the engine goes on;
- ``chunk(Chunk, cards)``: the cards of one chunk, as soon as it is done: the chunk's
  authoritative list (``generator.job.stream.reconcile`` maps the early cards to it; cards
  made from notes of the Browser already carry their ``from-note`` tag);
- ``finished(GenerationOutcome)`` or ``failed(error)``: once, at the end, after every card and
  chunk signal (``JobRunner``: start, cancel, end).

Cards, chunks and the end reach the main thread through a ``MainQueue``, in order and in
slices of a few milliseconds, so hundreds of cards streaming in never stall the window.
With the kind "Image occlusion" the job is a note per labelled figure (``OcclusionRows``), each
handed over as a ``chunk`` of one card; with other kinds the labelled figures found are offered
too, after the cards (unless figures are off). With ``topics`` (topics first) only the chunks holding a checked topic are asked, and only for
those topics (``generator.job.topics.TopicPlan``); ``chunks`` are the topic step's, so the topics'
chunk ids hold. A runner runs one job; ``cancel()`` stops it within a request (the cards made
so far are kept). The dialog makes a new runner per job, so a late signal of an old job
reaches nobody."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Set

from anki.notes import NoteId
from aqt.qt import QObject, pyqtSignal

from ..generator.cards.card import Card
from ..generator.job.chunk import Chunk
from ..generator.config import CardKind, Settings
from ..generator.job.reports import JobListener
from .figure_widgets import FigureJob
from .job_runner import JobRunner
from .occlusion_view import NO_FIGURES, OcclusionRows

if TYPE_CHECKING:
    from ..generator.job.reports import Progress
    from ..generator.job.run import JobOptions, JobResult
    from ..generator.job.stream import LiveDuplicates
    from ..generator.job.topics import Topic
    from ..generator.similar.search import SimilarNotes
    from ..generator.sources.document import Document

FROM_NOTE_TAG = "ollama-flashcards::from-note::%d"


@dataclass
class GenerationInput:
    """What one job reads: the ``documents`` (the runner cuts them into chunks, with their
    figures) or, topics first, the topic step's ``chunks`` and the ``topics`` chosen;
    ``note_refs``: the note of the Browser each document was made from, by document name."""

    documents: List[Document]
    note_refs: Dict[str, NoteId] = field(default_factory=dict)
    topics: Optional[List[Topic]] = None
    chunks: Optional[List[Chunk]] = None
    highlights: Any = None  # highlights.focus.HighlightChoice (None: ignore them)
    done: Dict[str, Set[str]] = field(default_factory=dict)  # highlights carded before, by document


@dataclass
class GenerationOutcome:
    options: JobOptions  # as prepared for the model (num_ctx capped, thinking off ...)
    result: JobResult
    chunks: Dict[str, Chunk] = field(default_factory=dict)  # chunk id -> chunk, to regenerate one


class GenerationRunner(JobRunner, JobListener):
    """The job's listener too (``on_progress``, ``on_card``, ``on_chunk``): what it hears goes
    to the main thread as its signals."""

    planned = pyqtSignal(int)
    figure_notes = pyqtSignal(object)  # List[str]
    progress = pyqtSignal(object)  # Progress
    card = pyqtSignal(object, object)  # Chunk, Card (a copy)
    chunk = pyqtSignal(object, object)  # Chunk, List[Card]

    def __init__(self, settings: Settings, options: JobOptions, source: GenerationInput,
                 parent: Optional[QObject] = None, similar: Optional[SimilarNotes] = None,
                 figures: Optional[FigureJob] = None) -> None:
        from ..generator.similar.search import SimilarCheck

        super().__init__(parent)
        self.figures = figures or FigureJob()
        self.settings = settings
        self.similar = SimilarCheck(similar)  # duplicates by meaning (None: off)
        self._backend: Any = None
        self.options = options
        self.documents = list(source.documents)
        self.note_refs = dict(source.note_refs)
        self.topics = list(source.topics) if source.topics else None
        self.given_chunks = list(source.chunks) if source.chunks else None
        self.highlights = source.highlights
        self.done = dict(source.done)
        self.duplicates: Optional[LiveDuplicates] = None  # set by the dialog once the keys are read

    @property
    def similar_error(self) -> str:
        """Why the cards could not be compared with the notes by meaning ("" if they were)."""
        return self.similar.error

    # --- on the worker ------------------------------------------------------------------------
    def work(self) -> GenerationOutcome:
        from ..generator.backends import make_backend
        from ..generator.job.run import prepare_job, run_job
        from ..generator.job.topics import TopicPlan

        backend = make_backend(self.settings)
        self._backend = backend
        try:
            opts = prepare_job(backend, self.options)
            if opts.kind == CardKind.OCCLUSION:
                return self._occlusion_job(backend, opts)
            chunks = self.given_chunks or self._plan(opts)
            self.post(lambda: self.planned.emit(len(chunks)))
            plan = TopicPlan.for_options(self.topics, opts, chunks) if self.topics else None
            asks: Any = plan.ask if plan is not None else None
            if any(c.focus for c in chunks):
                from ..generator.highlights.focus import asks_with_focus

                asks = asks_with_focus(opts, asks)
            result = run_job(chunks, backend, opts, self, self.cancel_event, asks=asks)
            if not self.given_chunks and OcclusionRows.wanted(opts) and not result.fatal:
                self._occlusion_rows().run(self.documents, backend, opts, self.cancel_event, offered=True)
            return GenerationOutcome(opts, result, {c.id: c for c in chunks})
        finally:
            backend.close()

    def _occlusion_rows(self) -> OcclusionRows:
        return OcclusionRows(self.figures.thumbnails, self.figures.graphics,
                             lambda chunk, cards: self.post(lambda: self.chunk.emit(chunk, cards)))

    def _occlusion_job(self, backend: Any, opts: JobOptions) -> GenerationOutcome:
        """The kind "Image occlusion": a note per labelled figure of the documents, each shown as
        it is made; what could not be made is said (``figure_notes``)."""
        from ..generator.job.run import JobResult

        total = len(self.documents)
        self.post(lambda: self.planned.emit(total))
        rows = self._occlusion_rows()
        cards = rows.run(self.documents, backend, opts, self.cancel_event)
        notes = rows.messages or ([] if cards else [NO_FIGURES % ""])
        if notes:
            self.post(lambda: self.figure_notes.emit(notes))
        result = JobResult(cards=cards, chunks_done=total, chunks_total=total,
                           cancelled=self.cancel_event.is_set())
        return GenerationOutcome(opts, result, {})

    def _plan(self, opts: JobOptions) -> List[Chunk]:
        """The chunks, with the images the model can see; what the plan says goes to the
        dialog (``figure_notes``)."""
        from ..generator.errors import describe
        from ..generator.highlights.focus import HighlightChoice, HighlightMode, plan_highlights
        from ..generator.job.run import chunk_budget

        marked = plan_highlights(self.documents, self.highlights or HighlightChoice(HighlightMode.IGNORE),
                                 chunk_budget(opts), self.done)
        plan = self.figures.plan(marked.rest, opts) if marked.rest else None
        if plan is not None and not plan.chunks and plan.skipped and not marked.chunks:
            raise plan.skipped[0]
        notes = ([describe(e) for e in plan.skipped] + plan.warnings) if plan is not None else []
        if notes:
            self.post(lambda: self.figure_notes.emit(notes))
        chunks: List[Chunk] = marked.chunks + (plan.chunks if plan is not None else [])
        return chunks

    def on_progress(self, p: Progress) -> None:
        self.post(lambda: self.progress.emit(p))

    def _tag(self, chunk: Chunk, card: Card) -> None:
        nid = self.note_refs.get(chunk.document)
        if nid and FROM_NOTE_TAG % nid not in card.tags:
            card.tags.append(FROM_NOTE_TAG % nid)

    def on_card(self, chunk: Chunk, card: Card) -> None:
        if self.duplicates is not None:
            self.duplicates.mark(card)
        shown = copy.deepcopy(card)  # the table's own: the user may edit it while the engine goes on
        self._tag(chunk, shown)
        self.figures.make_thumbnails([shown])  # decoded here, on the worker
        self.post(lambda: self.card.emit(chunk, shown))

    def on_chunk(self, chunk: Chunk, cards: List[Card]) -> None:
        for card in cards:
            self._tag(chunk, card)
        self.figures.make_thumbnails(cards)
        self.similar.mark(cards, self._backend)  # on this worker, before the rows are shown
        self.post(lambda: self.chunk.emit(chunk, cards))
