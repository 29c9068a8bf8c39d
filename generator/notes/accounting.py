"""Every card accounted for: how many cards were made, how many were added, and why each of the
others was not, one count per reason. Every summary (the CLI's last line, the Generate dialog,
the bulk job's message, its Summary tab and per-file status) renders a :class:`CardAccount`, so
they all add up the same way:

    made = added + (one count per reason a card was not added) + (cards not settled yet)

"Made" is every card the model wrote that held up as a card (a question and an answer, or a
cloze): those a job kept, and those it left out on the way (over what the text can hold, over
the number of cards set, flagged and dropped by the rewrite pass). The add step leaves out more
(duplicates, similar notes, flagged cards a bulk job skips, cards that cannot become a note),
and the Generate dialog's user may uncheck some. A card not settled yet (waiting for review,
or for an add that failed) is counted apart, so a summary never claims more than happened."""
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple


class Reason(str, Enum):
    """Why a card that was made was not added. The order is the order of every summary."""

    BATCH = "batch"  # the same question as another card of the job
    COLLECTION = "collection"  # its question is a note's already (or the same but for case)
    SIMILAR = "similar"  # similar in meaning to a note (embeddings)
    FLAGGED = "flagged"  # flagged by the checks, and dropped by the rewrite pass or skipped
    UNGROUNDED = "ungrounded"  # not found in the source, and left out
    CUT = "cut"  # over the number of cards set (max_cards)
    BOUND = "bound"  # over what its text can hold (no number set: a model in a loop)
    UNCHECKED = "unchecked"  # left out by the user in the review
    UNUSABLE = "unusable"  # could not be made into a note (not a valid cloze, ...)
    NOT_WRITTEN = "not_written"  # the add failed: nothing was written (disk full, ...)
    DRY_RUN = "dry_run"  # printed, not added (--dry-run)

    def label(self, n: int) -> str:
        one, many = LABELS[self]
        return "%s %s" % (format(n, ","), one if n == 1 else many)


LABELS: Dict[Reason, Tuple[str, str]] = {
    Reason.BATCH: ("duplicate in the batch", "duplicates in the batch"),
    Reason.COLLECTION: ("already in the collection", "already in the collection"),
    Reason.SIMILAR: ("similar to a note", "similar to a note"),
    Reason.FLAGGED: ("flagged and left out", "flagged and left out"),
    Reason.UNGROUNDED: ("not in the source", "not in the source"),
    Reason.CUT: ("over the number of cards set", "over the number of cards set"),
    Reason.BOUND: ("over what the text can hold", "over what the text can hold"),
    Reason.UNCHECKED: ("left out by you", "left out by you"),
    Reason.UNUSABLE: ("could not be made into a note", "could not be made into a note"),
    Reason.NOT_WRITTEN: ("not written (the add failed)", "not written (the add failed)"),
    Reason.DRY_RUN: ("not added (dry run)", "not added (dry run)"),
}

# A card that was made and is not settled yet, as a summary says it.
WAITING_FOR_REVIEW = "waiting for review"
WAITING_TO_BE_ADDED = "waiting to be added"


def reason_of(value: Any) -> Optional[Reason]:
    try:
        return Reason(str(value))
    except ValueError:
        return None


@dataclass
class CardAccount:
    """Counts of one job, file or chunk. ``left`` maps a reason to how many cards it kept out;
    ``waiting`` is what is neither added nor left out (``made - added - sum(left)``)."""

    made: int = 0
    added: int = 0
    left: Dict[Reason, int] = field(default_factory=dict)

    def leave(self, reason: Reason, n: int = 1) -> None:
        if n > 0:
            self.left[reason] = self.left.get(reason, 0) + n

    def take(self, other: "CardAccount") -> "CardAccount":
        """Add ``other``'s counts to these (returns self)."""
        self.made += other.made
        self.added += other.added
        for reason, n in other.left.items():
            self.leave(reason, n)
        return self

    @property
    def left_out(self) -> int:
        return sum(self.left.values())

    @property
    def waiting(self) -> int:
        return self.made - self.added - self.left_out

    @property
    def balanced(self) -> bool:
        """Every card made is added or left out for a reason (nothing waiting, nothing extra)."""
        return self.waiting == 0

    def parts(self, waiting_label: str = WAITING_TO_BE_ADDED) -> List[str]:
        """``["192 added", "48 duplicates in the batch"]``: the added, each reason with its
        count in the fixed order, and what is waiting (said as ``waiting_label``)."""
        out = ["%s added" % format(self.added, ",")]
        out += [reason.label(self.left[reason]) for reason in Reason if self.left.get(reason)]
        if self.waiting > 0:
            out.append("%s %s" % (format(self.waiting, ","), waiting_label))
        return out

    def text(self, waiting_label: str = WAITING_TO_BE_ADDED) -> str:
        """``"240 cards made: 192 added, 48 duplicates in the batch"``."""
        made = "%s card%s made" % (format(self.made, ","), "" if self.made == 1 else "s")
        if not self.made:
            return made
        return made + ": " + ", ".join(self.parts(waiting_label))

    def to_json(self) -> Dict[str, Any]:
        return {"made": self.made, "added": self.added,
                "left": {r.value: n for r, n in self.left.items() if n}}

    @classmethod
    def from_json(cls, d: Any) -> "CardAccount":
        d = d if isinstance(d, dict) else {}
        out = cls(count(d.get("made")), count(d.get("added")))
        out.take_left(d.get("left"))
        return out

    def take_left(self, left: Any) -> None:
        """Add reason counts as a journal keeps them (``{"batch": 2}``; unknown ones ignored)."""
        for key, n in (left.items() if isinstance(left, Mapping) else ()):
            reason = reason_of(key)
            if reason is not None:
                self.leave(reason, count(n))


def count(value: Any) -> int:
    """A count read back from JSON (0 for anything that is not a small natural number)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 40 else 0


def summed(accounts: Sequence[CardAccount]) -> CardAccount:
    total = CardAccount()
    for a in accounts:
        total.take(a)
    return total
