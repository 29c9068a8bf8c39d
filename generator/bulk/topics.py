"""Topics first for a bulk job: the files are read and chunked exactly as the job will read them
(same reader, same names, same chunk budget, so the same chunk ids), and the model lists their
topics (``topics.find_topics``). The chosen topics then go into the job's ``BulkSpec.topics``,
and so into its journal: a resumed job asks for the same topics, with the same focus.

The topic step holds the chunks' text in memory (the job itself streams it): it is meant for a
job of some documents, not for a library. Never imports aqt or Qt."""
import os
import threading
from typing import Callable, List, Optional, Sequence, Tuple

from ..backends.base import Backend
from .reader import document_name
from ..job.chunk import Chunk
from ..errors import EmptySource, FlashcardError, UnreadableSource
from ..job.run import JobOptions, chunk_budget
from ..job.topics import Topic, TopicResult, find_topics


def chunks_of_files(files: Sequence[str], budget: int,
                    cancel: Optional[threading.Event] = None) -> Tuple[List[Chunk], List[Tuple[str, FlashcardError]]]:
    """Every file's chunks, as ``bulk_reader.Planner`` makes them; a file that cannot be read is
    reported (path, error) and the others go on."""
    from ..job.chunking import iter_chunks
    from ..sources.read import iter_blocks_path

    chunks: List[Chunk] = []
    errors: List[Tuple[str, FlashcardError]] = []
    for path in files:
        if cancel is not None and cancel.is_set():
            break
        try:
            before = len(chunks)
            chunks.extend(iter_chunks(iter_blocks_path(path), document_name(path), budget,
                                      os.path.abspath(path)))
            if len(chunks) == before:
                raise EmptySource("The file has no text to make cards from.")
        except Exception as e:  # any failure is this file's, never the step's
            errors.append((path, e if isinstance(e, FlashcardError) else UnreadableSource(
                f"The file could not be read: {type(e).__name__}: {e}")))
    return chunks, errors


def find_topics_in_files(
    files: Sequence[str], backend: Backend, options: JobOptions,
    cancel: Optional[threading.Event] = None,
    on_topic: Optional[Callable[[Chunk, Topic], None]] = None,
    on_chunk: Optional[Callable[[int, int], None]] = None,
) -> Tuple[TopicResult, List[Tuple[str, FlashcardError]]]:
    """The topics of a bulk job's files. ``options`` as ``prepare_job`` returned them (the same
    the job's journal is started with, so the chunk budget and ids agree)."""
    chunks, errors = chunks_of_files(files, chunk_budget(options), cancel)
    return find_topics(chunks, backend, options, cancel, on_topic, on_chunk), errors
