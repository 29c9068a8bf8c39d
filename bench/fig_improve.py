"""Improving struggling cards: listing them in a large collection.

I1. The struggling-cards list (generator/improve/history.struggling_cards: the criteria, the
    review-log figures of every card that meets one, sorted worst first, the worst 500 named) of
    a 50,000-card collection with about 700,000 reviews, FSRS off. Goal <= 2 s.
I2. The same with FSRS on (every review card's memory state read, its retrievability computed).
    Goal <= 2 s.

The collection is made for the figure (``history_collection``): 50,000 basic notes in 20 decks,
their cards set to review with a history written straight into the cards and revlog tables
(answering 700,000 times through the scheduler would take hours): 4-24 answers a card, lapses
mostly 0-2 and a few percent at or above the leech threshold (8), those notes tagged leech, as
Anki does. The median of three listings (the first, cold, is reported beside)."""
import os
import random
import statistics
import time
from typing import Any, Dict, List, Tuple

FIGURES = [
    ("improve_list_s", "I1. Struggling cards: listing 50,000 cards (700,000 reviews)", "s", "<= 2 s",
     lambda v: v <= 2),
    ("improve_list_fsrs_s", "I2. Struggling cards: the same with FSRS on", "s", "<= 2 s", lambda v: v <= 2),
]

DAY_MS = 86400 * 1000


def history_collection(path: str, cards: int, seed: int = 5, fsrs: bool = False) -> Any:
    """A collection of ``cards`` basic notes whose cards have a review history (see the module)."""
    import json

    from anki.collection import AddNoteRequest, Collection
    from anki.lang import set_lang

    set_lang("en")
    rng = random.Random(seed)
    col = Collection(path)
    nt = col.models.by_name("Basic")
    decks = [col.decks.id("Bench::Deck %02d" % i, create=True) for i in range(20)]
    requests = []
    for i in range(cards):
        note = col.new_note(nt)
        note["Front"] = "Question %d about topic %d?" % (i, i % 997)
        note["Back"] = "Answer %d" % i
        requests.append(AddNoteRequest(note, decks[i % len(decks)]))
    col.add_notes(requests)
    now_ms = int(time.time() * 1000)
    today = int(col.sched.today)
    card_rows = col.db.all("select id, nid from cards")
    updates: List[Tuple[Any, ...]] = []
    revlog: List[Tuple[Any, ...]] = []
    leeches: List[int] = []
    rid = now_ms - 400 * DAY_MS
    for cid, nid in card_rows:
        answers = rng.randint(4, 24)
        lapses = min(answers // 2, int(rng.expovariate(0.9)))
        if rng.random() < 0.03:
            lapses = min(answers // 2, rng.randint(8, 14))
        again = set(rng.sample(range(1, answers), lapses)) if lapses else set()
        ivl = rng.randint(1, 120)
        for k in range(answers):
            rid += 1
            ease = 1 if k in again else rng.choice((2, 3, 3, 3, 4))
            revlog.append((rid, cid, -1, ease, ivl if ease > 1 else -600, ivl, 2500,
                           rng.randint(1500, 30000), 1 if k else 0))
        s = max(0.05, ivl * rng.uniform(0.5, 2.0) / (1 + lapses))
        d = min(10.0, 1 + lapses * 0.9 + rng.uniform(0, 3))
        data = json.dumps({"s": round(s, 3), "d": round(d, 3), "dr": 0.9, "decay": 0.154,
                           "lrt": int((now_ms - rng.randint(0, ivl) * DAY_MS) / 1000)}) if fsrs else ""
        updates.append((ivl, today + rng.randint(-5, ivl), answers, lapses, data, cid))
        if lapses >= 8:
            leeches.append(nid)
    if fsrs:
        col.set_config("fsrs", True)
    col.close()
    # Written with sqlite3 on the closed file: through Anki's DB proxy each row is a round trip
    # (140,000 rows took six minutes); the tables are Anki's own, reopened by Anki below.
    import sqlite3

    db = sqlite3.connect(path)
    try:
        db.executemany("update cards set type = 2, queue = 2, ivl = ?, due = ?, reps = ?, lapses = ?, "
                       "data = ? where id = ?", updates)
        db.executemany("insert into revlog values (?, ?, ?, ?, ?, ?, ?, ?, ?)", revlog)
        db.executemany("update notes set tags = ' leech ' where id = ?", [(n,) for n in leeches])
        db.commit()
    finally:
        db.close()
    return Collection(path)


def list_figure(tmp: str, cards: int, fsrs: bool) -> Dict[str, Any]:
    from generator.improve.history import struggling_cards

    path = os.path.join(tmp, "improve-%s.anki2" % ("fsrs" if fsrs else "sm2"))
    t0 = time.perf_counter()
    col = history_collection(path, cards, fsrs=fsrs)
    build_s = time.perf_counter() - t0
    try:
        reviews = col.db.scalar("select count() from revlog")
        times = []
        found = None
        for _ in range(4):
            t = time.perf_counter()
            found = struggling_cards(col, limit=500)
            times.append(time.perf_counter() - t)
        assert found is not None
        return {"cards": cards, "reviews": reviews, "listed": len(found.cards), "struggling": found.total,
                "first_s": round(times[0], 3), "seconds": round(statistics.median(times[1:]), 3),
                "all_s": [round(x, 3) for x in times], "build_s": round(build_s, 1)}
    finally:
        col.close()


def run(tmp: str, quick: bool) -> Tuple[Dict[str, float], Dict[str, Any], List[str]]:
    n = 10000 if quick else 50000
    sm2 = list_figure(tmp, n, fsrs=False)
    fsrs = list_figure(tmp, n, fsrs=True)
    values = {"improve_list_s": sm2["seconds"], "improve_list_fsrs_s": fsrs["seconds"]}
    lines = ["struggling cards: %d cards, %d reviews: %d struggling (FSRS off) listed in %.2f s (cold %.2f s); "
             "with FSRS %d struggling in %.2f s (cold %.2f s); collections built in %.0f + %.0f s" % (
                 sm2["cards"], sm2["reviews"], sm2["struggling"], sm2["seconds"], sm2["first_s"],
                 fsrs["struggling"], fsrs["seconds"], fsrs["first_s"], sm2["build_s"], fsrs["build_s"])]
    return values, {"improve_list": sm2, "improve_list_fsrs": fsrs}, lines
