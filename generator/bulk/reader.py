"""Reading ahead for a bulk job: the files are read and chunked, on a thread of their own, into
a spool on disk that generation reads behind them."""
import json
import os
import shutil
import tempfile
import threading
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set

from .status import READING
from ..job.chunk import Chunk
from .journal import chunk_from_json, chunk_to_json


def document_name(path: str) -> str:
    """The name a file's cards carry as their source (as the single-file reader names it)."""
    from ..sources.read import display_name

    return display_name(path)


def highlight_chunks(path: str, budget: int, choice: Any, done: Optional[Set[str]] = None) -> Optional[List[Chunk]]:
    """The chunks of a file that has highlights, as ``choice`` wants them (each highlight the
    focus of a chunk; with "first", the rest of the file after them, without its figures);
    None for a file without highlights: it is read as usual. A highlights export (a Kindle
    ``My Clippings.txt`` ...) whose highlights are ignored is cut as the document of all its
    highlights, as the CLI reads it and as its cards are recorded (``update``). ``done``: the
    keys of its highlights cards were made of before (not asked again; all of them: no chunk)."""
    from ..highlights.focus import HighlightMode, plan_highlights
    from ..highlights.read import read_export_path, read_if_highlighted
    from ..job.chunking import chunk_document

    if choice.mode is HighlightMode.IGNORE:
        export = read_export_path(path)
        return None if export is None else chunk_document(export, budget)
    doc = read_if_highlighted(path)  # a PDF's annotations read once, its text only if it has some
    if doc is None or doc.highlights is None:
        return None
    plan = plan_highlights([doc], choice, budget, {doc.name: set(done)} if done else None)
    from ..highlights.kept import keep_focus

    keep_focus(plan.chunks)  # remembered when their cards are added (``update.track``)
    chunks = plan.chunks + [c for d in plan.rest for c in chunk_document(d, budget)]
    if not chunks and plan.before:
        return []  # nothing new since: the file is done without a request
    if not chunks:
        from ..errors import EmptySource

        raise EmptySource("None of its %d highlights is of the colours chosen." % len(doc.highlights),
                          "Choose its colours too, or \"Ignore highlights\" to make cards of all of it.")
    return chunks


class Planner:
    """Reads and chunks the files in order, on a thread of its own, into a spool on disk.

    Generation reads the spool behind it (``iter_file``), so reading never waits for the model
    and the model never waits for reading more than the first chunk. Memory holds one block and
    one chunk at a time, whatever the size of the input."""

    def __init__(self, paths: Sequence[str], budget: int, spool_dir: Optional[str] = None,
                 on_event: Optional[Callable[[int, str, Any], None]] = None,
                 figures: Any = None, highlights: Any = None,
                 carded: Optional[Dict[str, Set[str]]] = None) -> None:
        self.paths = list(paths)
        self.figures = figures  # bulk.figures.BulkFigures: files planned with their figures
        self.highlights = highlights  # highlights.focus.HighlightChoice: files with highlights
        self.carded = carded or {}  # by path: highlights cards were made of before (not asked)
        self.budget = budget
        self._own_spool = spool_dir is None
        self.spool_dir = spool_dir or tempfile.mkdtemp(prefix="of-spool-")
        os.makedirs(self.spool_dir, exist_ok=True)
        self.on_event = on_event or (lambda i, kind, data: None)
        n = len(self.paths)
        self.counts = [0] * n
        self.finished = [False] * n
        self.errors: List[Optional[BaseException]] = [None] * n
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="flashcards-reader", daemon=True)

    def start(self) -> "Planner":
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def close(self) -> None:
        self.stop()
        # The reader checks for stop between chunks; do not let a slow page hold up a cancel.
        self._thread.join(timeout=0.5)
        if self._own_spool:
            shutil.rmtree(self.spool_dir, ignore_errors=True)

    def _spool(self, i: int) -> str:
        return os.path.join(self.spool_dir, "%d.jsonl" % i)

    def _run(self) -> None:
        for i in range(len(self.paths)):
            if self._stop:
                break
            self._read(i)

    def _read(self, i: int) -> None:
        from ..job.chunking import iter_chunks
        from ..sources.read import iter_blocks_path

        path = self.paths[i]
        self.on_event(i, READING, None)
        try:
            planned = highlight_chunks(path, self.budget, self.highlights, self.carded.get(path)) \
                if self.highlights is not None else None
            nothing_new = planned == []
            if planned is None and self.figures is not None:
                planned = self.figures.chunks_for(path, self.budget)
            with open(self._spool(i), "w", encoding="utf-8") as spool:
                for chunk in planned if planned is not None else \
                        iter_chunks(iter_blocks_path(path), document_name(path), self.budget,
                                    os.path.abspath(path)):
                    if self._stop:
                        return
                    spool.write(json.dumps(chunk_to_json(chunk), ensure_ascii=False) + "\n")
                    spool.flush()
                    with self._cond:
                        self.counts[i] += 1
                        self._cond.notify_all()
            if not self.counts[i] and not self._stop and not nothing_new:
                from ..errors import EmptySource

                raise EmptySource("The file has no text to make cards from.",
                                  "Check that it is the right file; a scanned PDF needs OCR first.")
        except BaseException as e:  # any failure is this file's, never the job's
            self.errors[i] = e
        finally:
            with self._cond:
                self.finished[i] = True
                self._cond.notify_all()
            if not self._stop:
                self.on_event(i, "read", (self.errors[i], self.counts[i]))

    def iter_file(self, i: int, stop: Optional[threading.Event] = None) -> Iterator[Chunk]:
        """The file's chunks as the reader spools them; ends early when ``stop`` is set."""
        read = 0
        f = None
        try:
            while True:
                with self._cond:
                    while (self.counts[i] <= read and not self.finished[i] and not self._stop
                           and not (stop is not None and stop.is_set())):
                        self._cond.wait(0.05)
                    available = self.counts[i]
                    finished = self.finished[i]
                if (stop is not None and stop.is_set()) or self._stop:
                    return
                if read < available:
                    if f is None:
                        f = open(self._spool(i), encoding="utf-8")
                    while read < available:
                        line = f.readline()
                        read += 1
                        chunk = chunk_from_json(json.loads(line))
                        yield self.figures.attach(chunk) if self.figures is not None else chunk
                elif finished:
                    return
        finally:
            if f is not None:
                f.close()
            if self.finished[i]:
                try:
                    os.remove(self._spool(i))
                except OSError:
                    pass
