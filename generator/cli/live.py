"""The CLI's options for topics first, focus and cards as they are written (``generator.cli.main``
stays the entry point; this module holds the logic).

``--jsonl`` prints one card per line the moment it is written. Each line is the card's JSON
(as ``--json`` prints it) with an ``"id"`` (``<chunk id>#<n>``). A chunk's final list is
authoritative (``stream_cards.reconcile``): when the chunk ends, a card of the final list that was
not printed is printed then (with ``"replaces": <id>`` when it took the place of one that was), and
a printed card that is not in the final list is withdrawn by a line ``{"id": ..., "withdrawn":
true}``. With a well-formed answer neither happens: the lines are the cards."""
import argparse
import sys
import threading
from typing import Any, Dict, List, Optional, Sequence, TextIO, Tuple

from ..cards.card import Card
from ..job.chunk import Chunk
from .run import json_text
from ..errors import FlashcardError, UnreadableSource, describe
from ..job.reports import JobListener, Progress
from ..job.run import JobOptions, JobResult
from ..outside import shown
from ..job.stream import LiveDuplicates, reconcile
from ..job.topics import (
    TOPICS_FILE_BYTES,
    Topic,
    TopicPlan,
    TopicResult,
    find_topics,
    read_topics,
    topics_json,
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jsonl", action="store_true",
                   help="print each card on stdout as one JSON line the moment it is written")
    p.add_argument("--focus", default=None, metavar="TEXT",
                   help='what to concentrate on, sent with every request (e.g. "only the pharmacology")')
    p.add_argument("--topics-only", action="store_true",
                   help="find the sources' key topics, print them as JSON and add nothing")
    p.add_argument("--topics", default=None, metavar="FILE",
                   help="write cards only for these topics: JSON as --topics-only prints it "
                        "(entries with \"checked\": false are left out) or one title per line")
    p.add_argument("--topic-subdecks", action="store_true",
                   help="with --topics: one subdeck per topic (DECK::Topic title)")


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class LivePrinter(JobListener):
    """The CLI's listener of a job: cards as they come, a stderr line per card (unless quiet)
    and, with ``jsonl``, a stdout line per card; a progress line per chunk (unless quiet).
    ``on_card`` may be called from any thread; ``on_chunk`` settles a chunk."""

    def __init__(self, jsonl: bool, quiet: bool, total_chunks: int,
                 duplicates: Optional[LiveDuplicates] = None, out: Optional[TextIO] = None) -> None:
        self.jsonl = jsonl
        self.quiet = quiet
        self.total_chunks = total_chunks
        self.duplicates = duplicates or LiveDuplicates()
        self.out = out or sys.stdout
        self.count = 0  # cards written so far (early ones; the final count is the job's)
        self._early: Dict[str, List[Tuple[str, Card]]] = {}
        self._next: Dict[str, int] = {}
        self._lock = threading.Lock()

    def _id(self, chunk: Chunk) -> str:
        n = self._next.get(chunk.id, 0) + 1
        self._next[chunk.id] = n
        return f"{chunk.id}#{n}"

    def _line(self, obj: Dict[str, Any]) -> None:
        self.out.write(json_text(obj, indent=None) + "\n")
        self.out.flush()

    def _card_line(self, card_id: str, card: Card, replaces: str = "") -> None:
        obj = card.to_json()
        obj["id"] = card_id
        if replaces:
            obj["replaces"] = replaces
        self._line(obj)

    def on_card(self, chunk: Chunk, card: Card) -> None:
        self.duplicates.mark(card)
        with self._lock:
            card_id = self._id(chunk)
            self._early.setdefault(chunk.id, []).append((card_id, card))
            self.count += 1
            if self.jsonl:
                self._card_line(card_id, card)
            if not self.quiet:
                where = f"chunk {chunk.index + 1}" + (f"/{self.total_chunks}" if self.total_chunks else "")
                err(f"card {self.count} ({where}): {shown(card.key_text(), 70)}")

    def on_chunk(self, chunk: Chunk, cards: List[Card]) -> None:
        with self._lock:
            early = self._early.pop(chunk.id, [])
            rec = reconcile([c for _i, c in early], cards)
            for j in rec.added + [j for _i, j in rec.replaced]:
                self.duplicates.mark(cards[j])
                self.count += 1
            if self.jsonl:
                for i, j in rec.replaced:
                    self._card_line(self._id(chunk), cards[j], replaces=early[i][0])
                for i in rec.withdrawn:
                    self._line({"id": early[i][0], "withdrawn": True})
                for j in rec.added:
                    self._card_line(self._id(chunk), cards[j])
            self._next.pop(chunk.id, None)

    def on_progress(self, p: Progress) -> None:
        if self.quiet:
            return
        total = f"/{p.chunks_total}" if p.chunks_total else ""
        where = f" · {shown(p.label, 120)}" if p.label else ""
        review = f" (+{p.review_tokens} rewriting)" if p.review_tokens else ""
        err(shown(f"chunk {p.chunks_done}{total} · {p.cards} cards · {p.tokens} tokens{review} · "
                  f"{p.tokens_per_s:.1f} tok/s{' · ' + str(p.failed) + ' failed' if p.failed else ''}"
                  f"{where}", 4000, keep_newlines=True))


def live_duplicates(col: Any, target: Any) -> LiveDuplicates:
    return LiveDuplicates.for_target(col, target)


def focus_of(args: argparse.Namespace) -> Optional[str]:
    if args.focus is None:
        return None
    return " ".join(str(args.focus).split())


def load_topics(path: str) -> List[Topic]:
    """The topics of ``--topics FILE`` (``-`` is not allowed: stdin may hold the source)."""
    from ..sources.read import open_regular

    try:
        with open_regular(path) as f:  # a FIFO or device would block open() or never end
            data = f.read(TOPICS_FILE_BYTES + 1)
    except OSError as e:
        raise UnreadableSource(f"The topics file '{shown(path, 120)}' cannot be read: {e.strerror}.",
                               "Check the path.") from None
    except UnreadableSource as e:
        raise UnreadableSource(f"The topics file cannot be read: {e.message}", "Check the path.") from None
    if len(data) > TOPICS_FILE_BYTES:
        raise UnreadableSource("The topics file is larger than 1 MB.", "A topics file holds titles only.")
    return read_topics(data.decode("utf-8", errors="replace"))


def run_topics_only(chunks: Sequence[Chunk], backend: Any, options: JobOptions, quiet: bool,
                    cancel: threading.Event) -> Tuple[TopicResult, int]:
    """Find the topics, print them as JSON on stdout; returns the result and the exit code."""
    found = [0]

    def on_topic(chunk: Chunk, topic: Topic) -> None:
        found[0] += 1
        if not quiet:
            err(f"topic {found[0]} (chunk {chunk.index + 1}/{len(chunks)}): {shown(topic.title, 70)}")

    def on_chunk(done: int, total: int) -> None:
        if not quiet:
            err(f"topics: chunk {done}/{total}")

    result = find_topics(chunks, backend, options, cancel, on_topic, on_chunk)
    for failure in result.failures + result.cut:
        where = failure.chunk.heading_label() or f"chunk {failure.chunk.index + 1}"
        label = "failed" if failure in result.failures else "cut short"
        err(f"{label}: {shown(failure.chunk.document, 80)} · {shown(where, 80)}: "
            f"{shown(failure.message, 1000, keep_newlines=True)}")
    if result.fatal is not None and not result.topics:
        err(shown(describe(result.fatal), 2000, keep_newlines=True))
        return result, result.fatal.exit_code
    print(topics_json(result.topics))
    if not quiet:
        ungrounded = sum(1 for t in result.topics if not t.grounded)
        err(f"{len(result.topics)} topic(s) from {len(chunks)} chunk(s)"
            + (f", {ungrounded} whose quote is not in the text" if ungrounded else "")
            + f"; {result.prompt_tokens + result.answer_tokens} tokens.")
    return result, (1 if result.failures or result.cut or result.cancelled else 0)


def topic_plan(topics: Sequence[Topic], options: JobOptions, chunks: Sequence[Chunk],
               quiet: bool) -> TopicPlan:
    plan = TopicPlan.for_options(topics, options, chunks)
    if not quiet:
        asked = sum(1 for c in chunks if plan.here(c))
        err(f"{len(plan.chosen)} topic(s) chosen; {asked} of {len(chunks)} chunk(s) hold one")
    return plan


def report_cut(result: JobResult) -> None:
    for cut in result.cut:
        where = cut.chunk.heading_label() or f"chunk {cut.chunk.index + 1}"
        err(f"cut short: {shown(cut.chunk.document, 80)} · {shown(where, 80)}: "
            f"{shown(cut.message, 1000, keep_newlines=True)}")

