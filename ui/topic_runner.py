"""``TopicRunner``: the "Find topics" step on a worker thread (prepare the model, cut the text
into chunks, ask the model for each chunk's key topics: ``generator.job.topics.find_topics``),
reporting to the main thread through signals, in order (a ``MainQueue``):

- ``planned(n)``: the source is cut into n chunks;
- ``topic(Topic)``: a topic the moment the model has written it (not merged yet);
- ``chunk_done(done, total)``: after each chunk;
- ``finished(TopicOutcome)`` or ``failed(error)``: once, at the end.

For the Generate dialog the documents are given; for the Bulk dialog the files (read and cut
exactly as the bulk job will: ``generator.bulk.topics``). ``cancel()`` stops within a request."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

from aqt.qt import QObject, pyqtSignal

from ..generator.job.chunk import Chunk
from ..generator.config import Settings
from ..generator.sources.document import Document
from .common import is_alive, run_long
from .main_queue import MainQueue

if TYPE_CHECKING:
    from ..generator.errors import FlashcardError
    from ..generator.job.run import JobOptions
    from ..generator.job.topics import Topic, TopicResult


@dataclass
class TopicOutcome:
    options: JobOptions  # as prepared for the model
    result: TopicResult
    chunks: List[Chunk] = field(default_factory=list)  # the chunks the topics point at
    unreadable: List[Tuple[str, FlashcardError]] = field(default_factory=list)  # bulk: files


class TopicRunner(QObject):
    planned = pyqtSignal(int)
    topic = pyqtSignal(object)  # Topic
    chunk_done = pyqtSignal(int, int)
    finished = pyqtSignal(object)  # TopicOutcome
    failed = pyqtSignal(object)  # BaseException

    def __init__(self, settings: Settings, options: JobOptions, documents: Optional[List[Document]] = None,
                 files: Optional[List[str]] = None, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.options = options
        self.documents = list(documents or [])
        self.files = list(files or [])
        self.cancel_event = threading.Event()
        self.queue = MainQueue(self)

    def start(self) -> None:
        self.queue.start()
        run_long(self._run, lambda outcome: self.queue.put(lambda: self._end(self.finished, outcome)),
                 lambda err: self.queue.put(lambda: self._end(self.failed, err)))

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def _end(self, signal: Any, value: Any) -> None:
        self.queue.stop()
        if is_alive(self):
            signal.emit(value)

    def _put(self, fn: Any) -> None:
        self.queue.put(lambda: fn() if is_alive(self) else None)

    # --- on the worker ------------------------------------------------------------------------
    def _run(self) -> TopicOutcome:
        from ..generator.backends import make_backend
        from ..generator.bulk.topics import chunks_of_files
        from ..generator.job.run import chunk_budget, plan_chunks, prepare_job
        from ..generator.job.topics import find_topics

        backend = make_backend(self.settings)
        try:
            opts = prepare_job(backend, self.options)
            unreadable: List[Tuple[str, FlashcardError]] = []
            if self.files:
                chunks, unreadable = chunks_of_files(self.files, chunk_budget(opts), self.cancel_event)
            else:
                chunks = plan_chunks(self.documents, opts)
            self._put(lambda: self.planned.emit(len(chunks)))
            result = find_topics(chunks, backend, opts, self.cancel_event,
                                 on_topic=lambda chunk, t: self._put(lambda: self.topic.emit(t)),
                                 on_chunk=lambda done, total: self._put(lambda: self.chunk_done.emit(done, total)))
            return TopicOutcome(opts, result, chunks, unreadable)
        finally:
            backend.close()
