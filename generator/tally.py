"""Counts that worker threads add to at the same time: a pass's statistics (the rewrite pass's
``ReviewStats``, Improve's ``ImproveStats``) are dataclasses of ints built on ``Tally``."""
import threading
from dataclasses import dataclass


@dataclass
class Tally:
    """A dataclass of int fields; ``add(name=n, …)`` adds to them under one lock."""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)
