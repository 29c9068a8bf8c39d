"""``JobRunner``: what the three runners (``GenerationRunner``, ``TopicRunner``, ``BulkRunner``)
share: start, cancel, end.

A runner does one job on a worker thread (``work``, started by ``start``) and reports to the
main thread in order through a ``MainQueue``: what it ``post``s on the way (a card, a chunk, the
progress), then ``finished(value)`` or ``failed(error)`` once, after everything it posted.
``cancel()`` sets the event the job watches (it stops within a request). Nothing is emitted
once the runner is gone (its dialog was closed): a late report of an old job reaches nobody."""
import threading
from typing import Any, Callable, Optional

from aqt.qt import QObject, pyqtSignal

from .common import is_alive, run_long
from .main_queue import MainQueue


class JobRunner(QObject):
    finished = pyqtSignal(object)  # the job's outcome
    failed = pyqtSignal(object)  # BaseException

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.cancel_event = threading.Event()
        self.queue = MainQueue(self)

    def wire(self, **slots: Callable[..., Any]) -> "JobRunner":
        """Connect the signals named to their slots: ``wire(finished=..., failed=...)``."""
        for name, slot in slots.items():
            getattr(self, name).connect(slot)
        return self

    def start(self) -> None:
        """Run ``work`` on a worker; its value or error ends the job."""
        self.queue.start()
        run_long(self.work, self.finish_later, self.fail_later)

    def work(self) -> Any:
        """The job itself, on the worker (subclasses)."""
        raise NotImplementedError

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def post(self, emit: Callable[[], None]) -> None:
        """From any thread: ``emit`` on the main thread, in order, unless the runner is gone."""
        self.queue.put(lambda: self._alive(emit))

    def finish_later(self, value: Any) -> None:
        """From any thread: the job ended with ``value`` (after what was posted before)."""
        self.queue.put(lambda: self.end(self.finished, value))

    def fail_later(self, err: BaseException) -> None:
        self.queue.put(lambda: self.end(self.failed, err))

    def end(self, signal: Any, value: Any) -> None:
        """On the main thread: stop reporting, then say how the job ended."""
        self.stopped()
        self._alive(lambda: signal.emit(value))

    def stopped(self) -> None:
        """The job is over: nothing more to pass on."""
        self.queue.stop()

    def _alive(self, emit: Callable[[], None]) -> None:
        if is_alive(self):
            emit()
