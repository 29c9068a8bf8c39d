"""``GenerationRunner``: one generation job (prepare the model, plan the chunks, ask the model
for each) on a worker thread, reporting to the main thread through signals:

- ``planned(n)``: the text is cut into n chunks;
- ``progress(Progress)``: after each chunk (chunk k of n, cards, tokens/s, failures);
- ``chunk(Chunk, cards)``: the cards of one chunk, as soon as it is done (cards made from notes
  of the Browser already carry their ``from-note`` tag);
- ``finished(GenerationOutcome)`` or ``failed(error)``: once, at the end.

A runner runs one job; ``cancel()`` stops it within a request (the cards made so far are
kept). The dialog makes a new runner per job, so a late signal of an old job reaches nobody.
Streaming rows into the table, and a "Find topics" step before generating, hang on these
signals: topics will be one more runner of this shape."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Dict, List, Optional

from anki.notes import NoteId
from aqt.qt import QObject, pyqtSignal

from ..generator.cards import Card
from ..generator.chunks import Chunk
from ..generator.config import Settings
from ..generator.documents import Document
from .common import is_alive, on_main, run_long

if TYPE_CHECKING:
    from ..generator.job import JobOptions, JobResult, Progress

FROM_NOTE_TAG = "ollama-flashcards::from-note::%d"


@dataclass
class GenerationOutcome:
    options: JobOptions  # as prepared for the model (num_ctx capped, thinking off ...)
    result: JobResult
    chunks: Dict[str, Chunk] = field(default_factory=dict)  # chunk id -> chunk, to regenerate one


class GenerationRunner(QObject):
    planned = pyqtSignal(int)
    progress = pyqtSignal(object)  # Progress
    chunk = pyqtSignal(object, object)  # Chunk, List[Card]
    finished = pyqtSignal(object)  # GenerationOutcome
    failed = pyqtSignal(object)  # BaseException

    def __init__(self, settings: Settings, options: JobOptions, documents: List[Document],
                 note_refs: Dict[str, NoteId], parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.options = options
        self.documents = list(documents)
        self.note_refs = dict(note_refs)
        self.cancel_event = threading.Event()

    def start(self) -> None:
        run_long(self._run, lambda outcome: self._emit(lambda: self.finished.emit(outcome)),
                 lambda err: self._emit(lambda: self.failed.emit(err)))

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    # --- on the worker ------------------------------------------------------------------------
    def _run(self) -> GenerationOutcome:
        from ..generator.backends import make_backend
        from ..generator.job import plan_chunks, prepare_job, run_job

        backend = make_backend(self.settings)
        try:
            opts = prepare_job(backend, self.options)
            chunks = plan_chunks(self.documents, opts)
            on_main(lambda: self._emit(lambda: self.planned.emit(len(chunks))))
            result = run_job(chunks, backend, opts, on_progress=self._on_progress,
                             cancel=self.cancel_event, on_chunk=self._on_chunk)
            return GenerationOutcome(opts, result, {c.id: c for c in chunks})
        finally:
            backend.close()

    def _on_progress(self, p: Progress) -> None:
        on_main(lambda: self._emit(lambda: self.progress.emit(p)))

    def _on_chunk(self, chunk: Chunk, cards: List[Card]) -> None:
        nid = self.note_refs.get(chunk.document)
        if nid:
            for card in cards:
                card.tags.append(FROM_NOTE_TAG % nid)
        on_main(lambda: self._emit(lambda: self.chunk.emit(chunk, cards)))

    def _emit(self, emit: Callable[[], None]) -> None:
        """Emit on the main thread, unless the runner is gone (its dialog was closed)."""
        if is_alive(self):
            emit()
