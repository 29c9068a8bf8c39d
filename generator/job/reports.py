"""What a job reports while it runs, and who hears it: ``Progress`` after every chunk,
``ChunkWarning`` for a chunk that gave cards but should say something, ``ChunkFailure`` for one
that failed, and ``JobListener``, the one interface the CLI, the Generate runner and the bulk job
implement to hear a job (``run.Job``). Light on purpose: a dialog may import it at start-up."""
from dataclasses import dataclass
from enum import Enum
from typing import List

from ..cards.card import Card
from ..errors import FlashcardError
from .chunk import Chunk
from ..notes.accounting import Reason


@dataclass
class Progress:
    chunks_done: int
    chunks_total: int  # 0 while unknown (streamed input)
    cards: int
    tokens: int
    tokens_per_s: float
    failed: int
    label: str = ""  # heading path of the chunk that just finished
    review_tokens: int = 0  # answer tokens of the rewrite pass (not in ``tokens``)


@dataclass
class ChunkFailure:
    chunk: Chunk
    error: FlashcardError

    @property
    def message(self) -> str:
        return self.error.user_text()


class WarningKind(Enum):
    ANSWER_CUT = "answer_cut"  # the answer broke off: only its complete cards were kept
    FIELD_CUT = "field_cut"  # a card's field was longer than a card may be, and was cut
    OVER_BOUND = "over_bound"  # more cards than the text can hold: the rest were left out


@dataclass
class ChunkWarning:
    """Something the user should know about a chunk that did give cards (said by the CLI, the
    dialogs' message bar and the bulk report)."""

    chunk: Chunk
    kind: WarningKind
    message: str


class JobListener:
    """Everything a job reports, one method each. Each does nothing here: a listener (the CLI's
    ``LivePrinter``, the Generate runner, ``BulkRun``) overrides what it needs.

    - ``on_card``: each card the moment it is written (its object in the streamed answer
      closed), on a worker thread, before its chunk ends, in any order across chunks, and never
      more than ``max_cards``. ``on_chunk``'s list is authoritative (``stream.reconcile`` maps
      the early cards to it). What it raises is logged and costs nothing.
    - ``on_answer``: a chunk's cards the moment they are ready, on its worker (any order, before
      ``max_cards`` cuts them), before that worker asks for another chunk: a journal that keeps
      them there loses, in a crash, only the requests in flight (at most ``parallel``), never
      answers waiting behind a slower chunk. What it raises stops the job, and ``run`` raises it.
    - ``on_warning``: what a chunk that gave cards should tell the user (its answer broke off, a
      field was cut), on the job's thread, before that chunk's ``on_chunk``.
    - ``on_chunk``: a finished chunk's cards, in document order, on the job's thread: a journal
      or a UI can keep what is done even if the job is cancelled or dies later.
    - ``on_failure``: a chunk that failed, like ``on_chunk`` (same order, same thread).
    - ``on_progress``: at the start and after every chunk, on the job's thread.
    - ``on_left_out``: cards a chunk made that the job left out, how many and why
      (``notes.accounting.Reason``: over what the text can hold, flagged and dropped by the
      rewrite pass, on its worker just before ``on_answer``; over the number of cards set, on
      the job's thread before ``on_chunk``). Made = the chunk's cards + these."""

    def on_card(self, chunk: Chunk, card: Card) -> None:
        pass

    def on_answer(self, chunk: Chunk, cards: List[Card]) -> None:
        pass

    def on_warning(self, warning: ChunkWarning) -> None:
        pass

    def on_chunk(self, chunk: Chunk, cards: List[Card]) -> None:
        pass

    def on_failure(self, chunk: Chunk, error: FlashcardError) -> None:
        pass

    def on_progress(self, progress: Progress) -> None:
        pass

    def on_left_out(self, chunk: Chunk, reason: Reason, count: int) -> None:
        pass
