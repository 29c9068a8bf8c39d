"""Reading with a time bound: a reader that runs away (a library looping on a hostile file) is
given up on, and the caller goes on.

* ``call_with_deadline(fn, seconds, on_timeout)`` runs ``fn`` on a thread of its own and waits at
  most ``seconds``; past that the caller gets ``on_timeout()`` raised.
* ``iter_with_deadline(make_iter, seconds, on_timeout)`` does the same for an iterator: the
  items are produced on a thread of their own and handed over in small batches through a
  bounded queue, so memory holds a few batches whatever the consumer does.
* ``Watch`` interrupts the current thread's Python code when a block (``watch.page(seconds)``)
  runs past ``seconds``, with ``Interrupted``: a PDF page that takes too long is skipped, not
  waited for; one thread bounds page after page of one read. ``Alarm(seconds)`` is a ``Watch``
  for a single block.

The thread given up on is interrupted too: ``Interrupted`` is raised in it at its next Python
instruction (``PyThreadState_SetAsyncExc``; the readers are pure Python, so it stops within
moments, between two library calls at worst). ``Interrupted`` derives from BaseException, so a
library's ``except Exception`` does not swallow it. Where that call is not available the thread
is only abandoned: it is a daemon thread, and the byte limits of the readers bound its memory.

Why threads and not a subprocess: inside Anki (23.10 to 25.02 builds) ``sys.executable`` is
Anki itself, not a Python interpreter, and forking a Qt process is unsafe; and a thread costs
~0.07 ms per file (a Watch as much per read) where a fresh interpreter that imports pypdf and
ftfy took ~470 ms per file here (measured on the 2-core test machine under load).
"""
import queue
import threading
import time
from typing import Callable, Iterable, Iterator, List, Optional, TypeVar

T = TypeVar("T")

BATCH_ITEMS = 256  # items handed over at once by iter_with_deadline
BATCH_SECONDS = 0.2  # ... or after this long, whichever comes first
QUEUE_BATCHES = 4


class Interrupted(BaseException):
    """Raised inside a reader thread that ran past its time (never seen by the caller)."""


def _set_async_exc(thread_id: int, exc: Optional[type]) -> bool:
    """Raise ``exc`` in the thread (or clear a pending one with None). False if not possible."""
    try:
        import ctypes

        set_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
        arg = ctypes.py_object(exc) if exc is not None else None
        return set_exc(ctypes.c_ulong(thread_id), arg) == 1
    except Exception:  # no ctypes (some embedded builds), another interpreter
        return False


def interrupt(thread: threading.Thread) -> bool:
    """Ask ``thread`` to stop by raising ``Interrupted`` in it. True if the request was placed."""
    ident = thread.ident
    if ident is None or not thread.is_alive():
        return False
    return _set_async_exc(ident, Interrupted)


class Watch:
    """The time bound of a block, or of block after block of one long read (a PDF's pages), with
    one thread in all: ``with watch.page(seconds):`` raises ``Interrupted`` in the thread running
    the block when it runs past ``seconds`` (catch it around the ``with`` statement: it may
    surface as the block ends). ``close()`` ends the thread (a daemon thread, started at the
    first bounded block)."""

    def __init__(self) -> None:
        self._ident = threading.get_ident()
        self._cond = threading.Condition()
        self._deadline: Optional[float] = None
        self._fired = False
        self._closed = False
        self._thread: Optional[threading.Thread] = None

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if self._deadline is None:
                    self._cond.wait(5.0)
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._deadline = None
                self._fired = _set_async_exc(self._ident, Interrupted)

    def page(self, seconds: Optional[float]) -> "_WatchedPage":
        return _WatchedPage(self, seconds)

    def _arm(self, seconds: Optional[float]) -> None:
        if seconds is None or seconds <= 0:
            return
        with self._cond:
            # The block's own thread: a generator's pages may be read on another thread than
            # the one that made the Watch.
            self._ident = threading.get_ident()
            self._deadline = time.monotonic() + seconds
            self._fired = False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="flashcards-watch", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _disarm(self) -> None:
        with self._cond:
            self._deadline = None
            if self._fired:
                self._fired = False
                _set_async_exc(self._ident, None)  # not delivered yet: drop it

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._deadline = None
            self._cond.notify()


class _WatchedPage:
    def __init__(self, watch: Watch, seconds: Optional[float]) -> None:
        self.watch = watch
        self.seconds = seconds

    def __enter__(self) -> "_WatchedPage":
        self.watch._arm(self.seconds)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.watch._disarm()


class Alarm:
    """``with Alarm(seconds):`` bounds one block: a ``Watch`` for that block alone."""

    def __init__(self, seconds: Optional[float]) -> None:
        self._watch = Watch()
        self._page = self._watch.page(seconds)

    def __enter__(self) -> "Alarm":
        self._page.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._page.__exit__(*exc_info)
        finally:
            self._watch.close()


class _Outcome:
    __slots__ = ("value", "error", "done")

    def __init__(self) -> None:
        self.value: object = None
        self.error: Optional[BaseException] = None
        self.done = threading.Event()


def call_with_deadline(fn: Callable[[], T], seconds: Optional[float],
                       on_timeout: Callable[[], BaseException], name: str = "flashcards-read") -> T:
    """``fn()`` on a thread of its own; raises ``on_timeout()`` if it has not returned within
    ``seconds`` (None: no bound, ``fn`` runs in this thread)."""
    if seconds is None or seconds <= 0:
        return fn()
    outcome = _Outcome()

    def run() -> None:
        try:
            try:
                outcome.value = fn()
            except BaseException as e:  # handed to the caller as it is
                outcome.error = e
            finally:
                outcome.done.set()
        except Interrupted:  # arrived after fn() had ended: nothing to do
            pass

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    if not outcome.done.wait(seconds):
        interrupt(worker)
        raise on_timeout()
    if outcome.error is not None:
        raise outcome.error
    return outcome.value  # type: ignore[return-value]


_END = object()


def iter_with_deadline(make_iter: Callable[[], Iterable[T]], seconds: Optional[float],
                       on_timeout: Callable[[], BaseException],
                       name: str = "flashcards-read") -> Iterator[T]:
    """The items of ``make_iter()``, produced on a thread of their own; raises ``on_timeout()``
    when the whole iteration has not ended within ``seconds`` (None: no bound, no thread)."""
    if seconds is None or seconds <= 0:
        yield from make_iter()
        return
    deadline = time.monotonic() + seconds
    handover: "queue.Queue[object]" = queue.Queue(maxsize=QUEUE_BATCHES)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handover.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        batch: List[T] = []
        last = time.monotonic()
        try:
            for item in make_iter():
                batch.append(item)
                now = time.monotonic()
                if len(batch) >= BATCH_ITEMS or now - last >= BATCH_SECONDS:
                    if not put(batch):
                        return
                    batch = []
                    last = now
        except Interrupted:
            raise
        except BaseException as e:  # the items so far, then the error, as a plain loop has them
            if not batch or put(batch):
                put(e)
            return
        if not batch or put(batch):
            put(_END)

    def run() -> None:
        try:
            produce()
        except Interrupted:  # given up on (deadline or the consumer left)
            pass

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    ended = False
    try:
        while True:
            left = deadline - time.monotonic()
            try:
                got = handover.get(timeout=left) if left > 0 else handover.get_nowait()
            except queue.Empty:
                raise on_timeout() from None
            if got is _END or isinstance(got, BaseException):
                ended = True
                if got is _END:
                    return
                raise got  # type: ignore[misc]
            yield from got  # type: ignore[misc]
    finally:
        stop.set()
        if not ended:  # timed out, or the consumer left early: stop the work too
            interrupt(worker)
