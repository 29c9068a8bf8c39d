"""What a bulk job reports: per-file status, per-section coverage, progress and the result."""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from ..cards.card import Card
from ..errors import FlashcardError
from ..notes.accounting import WAITING_FOR_REVIEW, WAITING_TO_BE_ADDED, CardAccount, summed

# File states
WAITING, READING, GENERATING, DONE, FAILED, STOPPED = (
    "waiting", "reading", "generating", "done", "failed", "stopped")



@dataclass
class FileStatus:
    path: str
    name: str
    state: str = WAITING
    chunks_total: Optional[int] = None  # known once the file is read to its end
    chunks_read: int = 0  # read so far
    chunks_done: int = 0  # answered (this run or an earlier one) or skipped
    chunks_failed: int = 0
    chunks_skipped: int = 0  # already in the collection
    cards: int = 0
    added: int = 0
    flagged: int = 0  # cards the checks flagged (generator/checks.py)
    error: str = ""
    in_flight: int = 0
    # made, added, each reason a card was not added (all the job's runs; from the journal)
    account: CardAccount = field(default_factory=CardAccount)
    review: bool = False  # "review all before adding": what is not added waits for review
    flagged_left_out: bool = False  # flagged cards are skipped (the account says so already)

    def total(self) -> int:
        return self.chunks_total if self.chunks_total is not None else self.chunks_read

    def text(self) -> str:
        """The status as the dialog shows it: the file's account of its cards, and the rest."""
        cards = self.account.text(WAITING_FOR_REVIEW if self.review else WAITING_TO_BE_ADDED)
        extra = []
        if self.chunks_failed:
            extra.append("%d section%s failed" % (self.chunks_failed, "" if self.chunks_failed == 1 else "s"))
        if self.chunks_skipped:
            extra.append("%d section%s already in the collection" % (
                self.chunks_skipped, "" if self.chunks_skipped == 1 else "s"))
        if self.flagged and not self.flagged_left_out:
            extra.append("%d flagged by the card checks" % self.flagged)
        tail = (" (" + ", ".join(extra) + ")") if extra else ""
        if self.state == WAITING:
            return "Waiting"
        if self.state == READING and not self.chunks_read:
            return "Reading…"
        if self.state == FAILED:
            return "Failed: " + self.error
        if self.state == DONE:
            if self.error:  # read in part: the rest of the file could not be read
                return "Done · %s%s; the rest could not be read: %s" % (cards, tail, self.error)
            return "Done · " + cards + tail
        done = self.chunks_done + self.chunks_failed
        if self.state == STOPPED and not done and not self.chunks_done:
            return "Stopped before it started" + (": " + self.error if self.error else "")
        if self.state == STOPPED:
            return "Stopped at chunk %d/%d · %s%s" % (done, self.total(), cards, tail)
        total = str(self.chunks_total) if self.chunks_total is not None else "%d+" % self.chunks_read
        return "Chunk %d/%s · %s%s" % (min(done + 1, max(1, self.total())), total, cards, tail)


@dataclass
class Section:
    """Coverage of one section (heading path) of one file."""

    file: int
    name: str
    heading: Tuple[str, ...]
    chunks: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    cards: int = 0
    errors: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)  # e.g. cards kept from a cut answer

    def label(self) -> str:
        return " › ".join(self.heading) or "(start of the document)"


@dataclass
class BulkProgress:
    chunks_done: int
    chunks_total: int
    reading: bool  # some file is still being read: chunks_total may still grow
    chunks_failed: int
    cards: int
    added: int
    elapsed: float
    remaining: Optional[float]  # seconds; None while unknown
    tokens_per_s: float = 0.0

    def fraction(self) -> float:
        return self.chunks_done / self.chunks_total if self.chunks_total else 0.0


@dataclass
class BulkResult:
    files: List[FileStatus]
    sections: List[Section]
    pending: List[Card]  # generated, not added (review mode; or an add that failed)
    note_ids: List[int]  # every note this job added (all of its runs)
    cancelled: bool = False
    fatal: Optional[FlashcardError] = None  # stopped the job (server gone, model missing, add failed)
    journal_path: str = ""
    finished: bool = False  # the journal ended: nothing left to resume
    chunks_generated: int = 0  # asked of the model in this run
    seconds: float = 0.0

    def failed_sections(self) -> List[Section]:
        return [s for s in self.sections if s.failed]

    def warned_sections(self) -> List[Section]:
        return [s for s in self.sections if s.warnings]

    def failed_files(self) -> List[FileStatus]:
        return [f for f in self.files if f.state == FAILED]

    @property
    def account(self) -> CardAccount:
        """The job's cards: made, added, and each reason a card was not added (every file)."""
        return summed([f.account for f in self.files])

    def summary(self) -> str:
        """``"240 cards made from 8 files: 192 added, 48 duplicates in the batch; ..."``: the
        account first (it adds up), then flagged cards, failures, a stop."""
        account = self.account
        review = any(f.review for f in self.files)
        head = "%s card%s made from %d file%s" % (format(account.made, ","), "" if account.made == 1 else "s",
                                                  len(self.files), "" if len(self.files) == 1 else "s")
        if account.made:
            head += ": " + ", ".join(account.parts(WAITING_FOR_REVIEW if review else WAITING_TO_BE_ADDED))
        parts = [head]
        flagged = sum(f.flagged for f in self.files if not f.flagged_left_out)
        if flagged:
            parts.append("%d flagged by the card checks" % flagged)
        failed_chunks = sum(s.failed for s in self.sections)
        if failed_chunks:
            parts.append("%d section%s failed" % (failed_chunks, "" if failed_chunks == 1 else "s"))
        if self.failed_files():
            n = len(self.failed_files())
            parts.append("%d file%s could not be read" % (n, "" if n == 1 else "s"))
        if self.cancelled:
            parts.append("stopped")
        return parts[0] + ("; " + ", ".join(parts[1:]) if parts[1:] else "") + "."
