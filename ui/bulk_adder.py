"""``QtAdder``: the bulk job's adder in "add as they come" mode. Each batch of cards goes to a
``CollectionOp`` on the main thread (serialized with Anki's other collection work, one undo
step per batch); the job's thread never touches the collection. Imported when a job starts
(it builds on the engine's note writer)."""
import threading
from typing import Any, Callable, List, Optional

from anki.collection import Collection
from aqt import mw

from ..generator.bulk.writer import AddOutcome, Adder, NoteWriter
from ..generator.cards.card import Card
from .common import on_main


class QtAdder(Adder):
    """Hands each batch to a ``CollectionOp`` on the main thread (serialized with Anki's other
    collection work, one undo step per batch); the job's thread never touches the collection."""

    def __init__(self, writer: NoteWriter) -> None:
        self.writer = writer
        self._pending = 0
        self._cond = threading.Condition()

    def submit(self, chunk_ids: List[str], cards: List[Card],
               done: Callable[[Optional[AddOutcome], Optional[BaseException]], None]) -> None:
        with self._cond:
            self._pending += 1

        def finish(outcome: Optional[AddOutcome], error: Optional[BaseException]) -> None:
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
            def op(col: Collection) -> Any:  # an AddOutcome: it has the op's ``changes``
                return self.writer.add(col, chunk_ids, cards)

            CollectionOp(parent=mw, op=op) \
                .success(lambda outcome: finish(outcome, None)) \
                .failure(lambda err: finish(None, err)) \
                .run_in_background()

        on_main(start)

    def wait(self, timeout: Optional[float] = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)
