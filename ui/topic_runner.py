"""``TopicRunner``: the "Find topics" step on a worker thread (prepare the model, cut the text
into chunks, ask the model for each chunk's key topics: ``generator.job.topics.find_topics``),
reporting to the main thread through signals, in order (a ``MainQueue``):

- ``planned(n)``: the source is cut into n chunks;
- ``topic(Topic)``: a topic the moment the model has written it (not merged yet);
- ``chunk_done(done, total)``: after each chunk;
- ``finished(TopicOutcome)`` or ``failed(error)``: once, at the end (``JobRunner``).

For the Generate dialog the documents are given; for the Bulk dialog the files (read and cut
exactly as the bulk job will: ``generator.bulk.topics``). ``cancel()`` stops within a request."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, List, Optional, Tuple

from aqt.qt import QObject, pyqtSignal

from ..generator.job.chunk import Chunk
from ..generator.config import Settings
from ..generator.sources.document import Document
from .job_runner import JobRunner

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


class TopicRunner(JobRunner):
    planned = pyqtSignal(int)
    topic = pyqtSignal(object)  # Topic
    chunk_done = pyqtSignal(int, int)

    def __init__(self, settings: Settings, options: JobOptions, documents: Optional[List[Document]] = None,
                 files: Optional[List[str]] = None, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.options = options
        self.documents = list(documents or [])
        self.files = list(files or [])

    # --- on the worker ------------------------------------------------------------------------
    def work(self) -> TopicOutcome:
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
            self.post(lambda: self.planned.emit(len(chunks)))
            result = find_topics(chunks, backend, opts, self.cancel_event,
                                 on_topic=lambda chunk, t: self.post(lambda: self.topic.emit(t)),
                                 on_chunk=lambda done, total: self.post(lambda: self.chunk_done.emit(done, total)))
            return TopicOutcome(opts, result, chunks, unreadable)
        finally:
            backend.close()
