"""Running a bulk job from the dialog: start, resume, retry the failed sections, progress,
cancel and the end of the run (a mixin of ``BulkDialog``). The run itself is
``..generator.bulk.BulkRun`` on a worker thread; the dialog polls its state."""
import os
import threading
from typing import Any, Callable, List, Optional, Tuple

from aqt import mw

from ..generator.jobfiles import INDEX_NAME
from .bulk_layout import TAB_FILES
from .common import (
    error_text,
    esc,
    get_config,
    is_alive,
    on_main,
    plural,
    run_long,
    run_network,
    run_with_collection,
)


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds) + 0.5)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return "%d:%02d:%02d" % (h, m, s) if h else "%d:%02d" % (m, s)


# --- adding notes from the job's worker thread --------------------------------------------------

class QtAdder:
    """Hands each batch to a ``CollectionOp`` on the main thread (serialized with Anki's other
    collection work, one undo step per batch); the job's thread never touches the collection."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self._pending = 0
        self._cond = threading.Condition()

    def submit(self, chunk_ids: List[str], cards: List[Any],
               done: Callable[[Optional[Any], Optional[BaseException]], None]) -> None:
        with self._cond:
            self._pending += 1

        def finish(outcome: Optional[Any], error: Optional[BaseException]) -> None:
            try:
                done(outcome, error)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

        def start() -> None:
            from aqt.operations import CollectionOp

            if mw.col is None:
                finish(None, RuntimeError("The collection is closed."))
                return
            CollectionOp(parent=mw, op=lambda col: self.writer.add(col, chunk_ids, cards)) \
                .success(lambda outcome: finish(outcome, None)) \
                .failure(lambda err: finish(None, err)) \
                .run_in_background()

        on_main(start)

    def wait(self, timeout: Optional[float] = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)
def _read_closed(path: str) -> Any:
    from ..generator.journal import Journal

    journal = Journal.open(path)
    journal.close()
    return journal


# --- the dialog's part ------------------------------------------------------------------------

class BulkJob:
    """One job at a time: ``start()``, ``resume()``, ``retry_failed()``, ``cancel_job()``."""

    # ==== running ==============================================================================
    def start(self) -> None:
        """Start a new job on the files in the list."""
        if self.busy:
            return
        if not self.paths:
            self.message.show_message("Add some files first.", "warning",
                                      [("Add files…", self.choose_files)])
            return
        if not self.model():
            self.message.show_message("Choose a model first.", "warning")
            self.model_combo.setFocus()
            return
        from ..generator.backends import make_backend
        from ..generator.bulk import start_journal
        from ..generator.job import prepare_job

        self.remember()
        spec = self.spec()
        cfg = get_config()
        folder = self.folder
        self.offered = None
        self._begin("Connecting to the model server…")

        def op() -> Any:
            backend = make_backend(cfg)
            try:
                options = prepare_job(backend, spec.options)  # fails early: no server, no model
            finally:
                backend.close()
            return start_journal(folder, spec, options)

        run_network(self, op, self._prepare_collection, self._on_error)

    def resume(self, only_failed: bool = False) -> None:
        """Resume the offered (or the last) job; ``only_failed`` re-runs just its failed chunks."""
        if self.busy:
            return
        path = self.offered or (self.journal.path if self.journal is not None else None)
        if not path:
            return
        self.offered = None
        self._begin("Resuming…" if not only_failed else "Retrying the failed sections…")
        run_network(self, lambda: _read_closed(path),
                    lambda journal: self._prepare_collection(journal, only_failed), self._on_error)

    def retry_failed(self) -> None:
        self.resume(only_failed=True)

    def _begin(self, label: str) -> None:
        self.busy = True
        self.result = None
        self.message.clear()
        self.progress_row.show()
        self.progress_bar.setRange(0, 0)
        self.progress_label.setText(label)
        self.cancel_btn.setEnabled(True)
        self.cancel_event = threading.Event()
        self.tabs.setCurrentIndex(TAB_FILES)
        self._update_buttons()

    def _prepare_collection(self, journal: Any, only_failed: bool = False) -> None:
        """Collection step: settle adds left in doubt by a crash, find sections already in the
        collection. Then the run itself."""
        from ..generator.bulk import prepare
        from ..generator.journal import ChunkIndex

        if not is_alive(self):
            journal.close()
            return
        self.journal = journal
        self._show_job_files(journal)
        if self.cancel_event is not None and self.cancel_event.is_set():
            self._end()
            self._show_stopped_before_start()
            return
        index = ChunkIndex(os.path.join(self.folder, INDEX_NAME))
        run_with_collection(self, lambda col: prepare(col, journal, index),
                            lambda known: self._run(journal, index, known, only_failed), self._on_error)

    def _show_job_files(self, journal: Any) -> None:
        files = list(journal.state.header.get("files") or [])
        if files != self.paths:
            self.paths = files
            self._fill_table()

    def _run(self, journal: Any, index: Any, known: Any, only_failed: bool) -> None:
        from ..generator.backends import make_backend
        from ..generator.bulk import MODE_ADD, BulkRun, BulkSpec, NoteWriter

        if not is_alive(self):
            return
        spec = BulkSpec.from_header(journal.state.header)
        writer = NoteWriter(journal, spec.target, spec.skip_duplicates, index)
        adder = QtAdder(writer) if spec.mode == MODE_ADD else None
        backend = make_backend(get_config())
        cancel = self.cancel_event or threading.Event()
        run = BulkRun(journal, backend, adder, known, cancel, only_failed=only_failed)
        self.run = run
        self._review_writer = writer
        self._tick()
        self.timer.start()

        def op() -> Any:
            try:
                return run.run()
            finally:
                backend.close()
                journal.close()

        # Not a QueryOp: Anki would count the whole job as "the backend is blocking" (the
        # Browser shows blank rows meanwhile). The job never touches the collection itself.
        run_long(op, self._on_finished, self._on_error)

    def cancel_job(self) -> None:
        if self.cancel_event is not None and not self.cancel_event.is_set():
            self.cancel_event.set()
            self.cancel_btn.setEnabled(False)
            self.progress_label.setText("Stopping… (what is done is kept)")

    def _tick(self) -> None:
        run = self.run
        if run is None or not is_alive(self):
            return
        files, p = run.snapshot()
        self._show_statuses(files)
        if self.cancel_event is not None and self.cancel_event.is_set():
            return
        if p.chunks_total:
            self.progress_bar.setRange(0, p.chunks_total)
            self.progress_bar.setValue(min(p.chunks_done, p.chunks_total))
        parts = []
        if p.chunks_total:
            parts.append("%d of %d%s chunks" % (p.chunks_done, p.chunks_total, "+" if p.reading else ""))
        else:
            parts.append("Reading…")
        parts.append(plural(p.cards, "card"))
        if p.added:
            parts.append("%d added" % p.added)
        if p.chunks_failed:
            parts.append("%d failed" % p.chunks_failed)
        parts.append(_clock(p.elapsed) + " elapsed")
        if p.remaining is not None and p.chunks_done < p.chunks_total:
            parts.append("about %s left" % _clock(p.remaining))
        self.progress_label.setText(" · ".join(parts))

    def _end(self) -> None:
        self.timer.stop()
        self.busy = False
        self.progress_row.hide()
        self.cancel_event = None
        self._update_buttons()
        callbacks, self._close_callbacks = self._close_callbacks, []
        if self._closing:
            self._cleanup()
        for cb in callbacks:
            cb()

    def _on_error(self, err: Exception) -> None:
        """A failure before or outside the run (server down, model missing, collection)."""
        if not is_alive(self):
            return
        self.run = None
        self._end()
        from ..generator.errors import ModelNotFound, NotAModelServer, ServerUnreachable

        actions: List[Tuple[str, Callable[[], None]]] = []
        if isinstance(err, (ServerUnreachable, NotAModelServer)):
            actions = [("Retry", self._retry_last), ("Settings…", self.open_settings)]
        elif isinstance(err, ModelNotFound):
            actions = [("Settings…", self.open_settings)]
        elif self.journal is not None:
            actions = [("Resume", self.resume)]
        self.message.show_message(esc(error_text(err)), "error", actions)

    def _retry_last(self) -> None:
        if self.journal is not None and not self.journal.ended:
            self.resume()
        else:
            self.start()

    def _show_stopped_before_start(self) -> None:
        self.message.show_message("Stopped before it began. Resume it any time.", "info",
                                  [("Resume", self.resume)])

    def _on_finished(self, result: Any) -> None:
        if not is_alive(self):
            return
        self.result = result
        self._show_statuses(result.files)
        self.run = None
        self._end()
        if self._closing:
            return
        self._fill_summary(result)
        self._report(result)
        if result.pending and self.journal is not None \
                and self.journal.state.header.get("mode") == "review":
            self._show_review(result)
