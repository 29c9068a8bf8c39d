"""Collections whose cards have a real review history: every answer goes through Anki's own
scheduler (``col.sched.answer_card``), so the review log, lapses, leech tags and (with FSRS) the
memory state are what Anki itself writes.

    nid = add_basic(col, "Bio", "Which organelle makes ATP?", "The mitochondrion")
    forget(col, card_ids(col, nid)[0], times=8)     # graduate, then Again/Good eight times
"""
import time
from typing import Any, List, Optional, Sequence

import anki.collection  # noqa: F401  (anki.scheduler imports it; first, or the import is circular)
from anki.scheduler.v3 import CardAnswer

AGAIN, HARD, GOOD, EASY = CardAnswer.AGAIN, CardAnswer.HARD, CardAnswer.GOOD, CardAnswer.EASY


def answer(col: Any, cid: int, rating: Any, seconds: float = 5.0) -> None:
    """Answer the card as a learner would, having taken ``seconds`` to answer."""
    card = col.get_card(cid)
    card.timer_started = time.time() - seconds
    states = col._backend.get_scheduling_states(card.id)
    col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=rating))


def learn(col: Any, cid: int, seconds: float = 5.0) -> None:
    """A new card graduated to review (Easy)."""
    if col.get_card(cid).type in (0, 1):
        answer(col, cid, EASY, seconds)


def forget(col: Any, cid: int, times: int, seconds: float = 12.0, good_seconds: float = 6.0) -> None:
    """Graduate the card, then forget it ``times`` times (Again, then Good to relearn it)."""
    learn(col, cid, good_seconds)
    for _ in range(times):
        answer(col, cid, AGAIN, seconds)
        answer(col, cid, GOOD, good_seconds)


def remember(col: Any, cid: int, times: int, seconds: float = 4.0) -> None:
    learn(col, cid, seconds)
    for _ in range(times):
        answer(col, cid, GOOD, seconds)


def deck(col: Any, name: str, leech_fails: Optional[int] = None, leech_action: int = 1) -> int:
    """A deck with options of its own (leech threshold; 1 = tag only, 0 = suspend)."""
    did = col.decks.id(name, create=True)
    if leech_fails is not None:
        conf = col.decks.add_config_returning_id(name + " options")
        cfg = col.decks.get_config(conf)
        cfg["lapse"]["leechFails"] = leech_fails
        cfg["lapse"]["leechAction"] = leech_action
        col.decks.update_config(cfg)
        d = col.decks.get(did)
        d["conf"] = conf
        col.decks.save(d)
    return did


def stock(col: Any, kind: int) -> Any:
    """A stock note type by kind (1 basic, 2 basic and reversed, 5 cloze), found as the add-on
    finds it (Anki 23.10 labels the reversed variants' originalStockKind off by one)."""
    from generator.notes.add import stock_notetype

    return stock_notetype(col, {1: "basic", 2: "reversed", 5: "cloze"}[kind])


def add_note(col: Any, deck_name: str, kind: int, fields: Sequence[str], tags: Sequence[str] = ()) -> int:
    nt = stock(col, kind)
    note = col.new_note(nt)
    for i, value in enumerate(fields):
        note.fields[i] = value
    note.tags = list(tags)
    col.add_note(note, col.decks.id(deck_name, create=True))
    return int(note.id)


def add_basic(col: Any, deck_name: str, front: str, back: str, tags: Sequence[str] = ()) -> int:
    return add_note(col, deck_name, 1, [front, back], tags)


def card_ids(col: Any, nid: int) -> List[int]:
    return sorted(int(c) for c in col.card_ids_of_note(nid))


def revlog(col: Any, cids: Sequence[int]) -> List[tuple]:
    ids = ",".join(str(c) for c in cids)
    return [tuple(r) for r in col.db.all(f"select * from revlog where cid in ({ids}) order by id")]
