"""``TopicStep``: the optional first step of the Generate and the Bulk dialogs, one widget for
both: the topic checklist (``TopicChecklist``) and the ``TopicRunner`` that fills it.

The dialog checks that it may ask (a source or files, a model) when "Find topics" is pressed
(``find_requested``) and calls ``ask`` with the job's settings and options and the documents
(Generate) or the files (Bulk). The step shows its progress in the dialog's ``ProgressRow``,
streams the topics into the list, and says how it went in the dialog's ``MessageBar``; a fatal
error goes to the dialog (``failed``), which knows its own actions (Retry, Settings…, Pull).
``ended`` says the step is over (the dialog's buttons follow; a closing dialog finishes
closing). ``chunks`` are the chunks the topics point at (Generate asks those chunks only), and
``source_changed`` forgets topics that no longer match the source."""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from aqt.qt import QWidget, pyqtSignal

from ..generator.config import Settings
from ..generator.job.chunk import Chunk
from ..generator.sources.document import Document
from .common import esc, is_alive, plural
from .message_bar import MessageBar
from .progress_row import ProgressRow
from .topic_list import TopicChecklist
from .topic_runner import TopicOutcome, TopicRunner

if TYPE_CHECKING:
    from ..generator.job.run import JobOptions
    from ..generator.job.topics import Topic


class TopicStep(TopicChecklist):
    ended = pyqtSignal()
    failed = pyqtSignal(object)  # BaseException: the step could not run (no server, no model ...)

    def __init__(self, progress: ProgressRow, message: MessageBar, of_files: bool = False,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.progress = progress
        self.message = message
        self.of_files = of_files  # the Bulk dialog's files, not one source
        self.runner: Optional[TopicRunner] = None
        self.chunks: Optional[List[Chunk]] = None  # the chunks the listed topics point at
        self.files = 0  # how many files the topics were found in

    @property
    def running(self) -> bool:
        return self.runner is not None

    def chosen(self) -> Optional[List[Topic]]:
        """The topics to make cards for (None: no topics, the whole source)."""
        return self.topics() if self.has_topics() else None

    def ask(self, settings: Settings, options: JobOptions, model: str,
             documents: Optional[List[Document]] = None, files: Optional[List[str]] = None) -> None:
        runner = TopicRunner(settings, options, documents=documents, files=files, parent=self)
        runner.wire(planned=lambda n: self.progress.show_progress(
            0, max(1, n), "Finding topics · part 1 of %d" % n), topic=self.add_topic,
            chunk_done=self._on_chunk, finished=self._on_done, failed=self._on_failed)
        self.runner = runner
        self.chunks = None
        self.files = len(files or [])
        self.set_topics([])
        self.set_busy(True, "Finding topics…")
        self.message.clear()
        self.progress.begin(("Reading the files, then asking %s for their key topics…" if files
                             else "Asking %s for the key topics…") % model)
        runner.start()

    def cancel(self) -> None:
        if self.runner is not None and not self.runner.cancelled:
            self.runner.cancel()
            self.progress.stopping("Stopping… (the topics found so far stay)")

    def source_changed(self) -> None:
        """The source (or the file list) changed: topics found in the old one are forgotten."""
        if self.has_topics() and self.runner is None:
            self.clear()
            self.chunks = None
            self.message.show_message(
                "The %s changed: %s topics are cleared. Find topics again, or generate from %s." % (
                    ("files", "their", "all of the files") if self.of_files
                    else ("source", "its", "the whole text")), "info", topic="topics")

    # --- the runner's reports -----------------------------------------------------------------
    def _on_chunk(self, done: int, total: int) -> None:
        if self.runner is not None and not self.runner.cancelled:
            self.progress.show_progress(done, total, "Finding topics · part %d of %d · %s" % (
                min(done + 1, total), total, plural(len(self.topics()), "topic")))

    def _end(self) -> bool:
        """The step is over; False when the dialog has gone meanwhile (nothing more to show)."""
        if self.runner is not None:
            self.runner.deleteLater()
        self.runner = None
        self.set_busy(False)
        self.progress.end()
        self.ended.emit()
        window = self.window()
        return is_alive(self) and window is not None and window.isVisible()

    def _on_failed(self, err: BaseException) -> None:
        if self._end():
            self.failed.emit(err)

    def _on_done(self, outcome: TopicOutcome) -> None:
        result = outcome.result
        if not self._end():
            return
        self.set_topics(result.topics)
        self.chunks = outcome.chunks
        if result.fatal is not None:
            self.failed.emit(result.fatal)
            return
        notes = self._notes(outcome)
        n = len(result.topics)
        if result.cancelled:
            self.message.show_message("Stopped. %s found so far." % plural(n, "topic"), "info")
        elif n == 0:
            self.message.show_message(
                "The model found no topics. Generate from %s, or try another model. %s" % (
                    "all of the files" if self.of_files else "the whole text", " ".join(notes)),
                "warning", [("Retry", self.find_requested.emit)])
        else:
            where = " in %s" % plural(self.files, "file") if self.files else ""
            self.message.show_message(
                "Found %s%s. Uncheck what you do not want to learn, add your own, then Generate. %s"
                % (plural(n, "topic"), where, " ".join(notes)),
                "warning" if result.failures or outcome.unreadable else "success", topic="topics")

    def _notes(self, outcome: TopicOutcome) -> List[str]:
        """What went wrong on the way: files not read, parts without topics, lists cut short,
        topics whose quote is not in the text."""
        result = outcome.result
        notes = []
        if outcome.unreadable:
            notes.append("%s could not be read." % plural(len(outcome.unreadable), "file"))
        if result.failures:
            notes.append("%s of %d gave no topics: %s." % (
                plural(len(result.failures), "part"), len(outcome.chunks),
                esc(result.failures[0].message.rstrip("."))))
        if result.cut:
            notes.append("%s cut short (the topics before the cut are listed)." % plural(
                len(result.cut), "list was", "lists were"))
        off = sum(1 for t in result.topics if not t.grounded)
        if off:
            notes.append("%s marked ⚠: the quote is not in the text." % plural(off, "topic is", "topics are"))
        return notes
