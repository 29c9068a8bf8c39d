"""``MainQueue``: work handed from worker threads to the main thread in order, done in slices of
at most ``budget_ms`` per timer tick, so that a burst (hundreds of cards streaming in at once)
never stalls the window: the rest waits for the next tick and Qt paints and handles input in
between. ``put`` may be called from any thread; the queue runs while its owner lives."""
import collections
import threading
import time
from typing import Callable, Deque, Optional

from aqt.qt import QObject, QTimer

TICK_MS = 20
BUDGET_MS = 8


class MainQueue(QObject):
    def __init__(self, parent: Optional[QObject] = None, tick_ms: int = TICK_MS,
                 budget_ms: int = BUDGET_MS) -> None:
        super().__init__(parent)
        self._items: Deque[Callable[[], None]] = collections.deque()
        self._lock = threading.Lock()
        self.budget = budget_ms / 1000.0
        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.drain)

    def start(self) -> None:
        """Begin draining (call on the main thread)."""
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def put(self, fn: Callable[[], None]) -> None:
        with self._lock:
            self._items.append(fn)

    def pending(self) -> int:
        with self._lock:
            return len(self._items)

    def drain(self) -> None:
        """Run queued work until the budget is spent (at least one item per tick)."""
        deadline = time.perf_counter() + self.budget
        while True:
            with self._lock:
                if not self._items:
                    return
                fn = self._items.popleft()
            fn()
            if time.perf_counter() >= deadline:
                return
