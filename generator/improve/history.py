"""The review history of cards, read with a few SQL queries over the ``cards``, ``notes`` and
``revlog`` tables (never one Python object per card: a 50,000-card collection is listed in well
under a second).

**Struggling cards** (``struggling_cards``) are the cards the collection itself calls hard:

- the note is tagged ``leech`` (Anki tags it when a card's lapses reach the deck's leech
  threshold; the card of such a note with the most lapses is listed);
- the card's lapses are at or above its deck's leech threshold (the deck options' "Leech
  threshold", ``lapse.leechFails``; a card in a filtered deck counts by its home deck);
- with FSRS on: its difficulty is at least ``HIGH_DIFFICULTY`` (90 % on the scale of Anki's
  Browser column), or its retrievability now is below ``LOW_RETRIEVABILITY`` (70 %; suspended
  cards left out) — found by Anki's own search (``prop:d>=0.9``, ``prop:r<0.7``), and read from
  the memory state Anki keeps in the card (``cards.data``) for the figures shown.

Worst first: by ``score`` (lapses relative to the threshold, plus the share of answers that were
"Again", plus FSRS difficulty and how far the card is forgotten). Notes already improved by the
add-on (tag ``IMPROVED_TAG``) come after the others."""
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ..similar.question import note_question, question_fields

LEECH_TAG = "leech"
IMPROVED_TAG = "ollama-flashcards::improved"  # a note rewritten by the improve step
HIGH_DIFFICULTY = 0.9  # FSRS difficulty, 0..1 as Anki shows it (raw 1..10 -> (d - 1) / 9)
LOW_RETRIEVABILITY = 0.7
DEFAULT_LEECH_FAILS = 8  # Anki's default, for a deck whose options cannot be read
QUESTION_CHARS = 160
IDS_PER_QUERY = 5000  # ids written into one "in (...)" list (ints only, never text)
REVIEW_TYPES = (0, 1, 2, 3)  # revlog types that are answers: learn, review, relearn, filtered
DAY_SECONDS = 86400


@dataclass
class CardHistory:
    """What the collection knows of one card's reviews."""

    card_id: int
    note_id: int
    deck_id: int  # the home deck (a card in a filtered deck counts by the deck it came from)
    ord: int = 0  # which card of the note (0 = the first template, or cloze 1)
    lapses: int = 0  # Anki's counter (a card "reset" by the user starts again from 0)
    answers: int = 0  # answers in the review log
    again: int = 0  # of them "Again"
    mean_seconds: float = 0.0  # mean answer time (Anki caps each at the deck's limit, 60 s)
    last_review: int = 0  # ms since the epoch (0 = never reviewed)
    suspended: bool = False
    leech_threshold: int = DEFAULT_LEECH_FAILS
    difficulty: Optional[float] = None  # FSRS, 0..1 as Anki shows it
    stability: Optional[float] = None  # FSRS, days
    retrievability: Optional[float] = None  # FSRS, now, 0..1
    decay: float = 0.5  # FSRS's forgetting curve (FSRS-6 keeps its own in the memory state)
    last_review_known: bool = False  # the memory state says when (else the review log does)

    @property
    def again_rate(self) -> float:
        return self.again / self.answers if self.answers else 0.0


@dataclass
class StrugglingCard:
    """One row of the struggling-cards list."""

    history: CardHistory
    question: str  # the note's question as plain text, shortened
    deck: str  # the home deck's name
    leech_tagged: bool
    improved: bool  # the note was already improved by the add-on
    why: List[str] = field(default_factory=list)  # which of the criteria it meets ("leech", ...)
    score: float = 0.0

    @property
    def card_id(self) -> int:
        return self.history.card_id

    @property
    def note_id(self) -> int:
        return self.history.note_id


@dataclass
class StrugglingList:
    cards: List[StrugglingCard]  # worst first, at most the limit asked for
    total: int  # cards meeting the criteria (also those beyond the limit)
    fsrs: bool  # FSRS is on for the collection
    seconds: float = 0.0


# --- deck options ------------------------------------------------------------------------------

def leech_thresholds(col: Any) -> Dict[int, int]:
    """Deck id -> leech threshold of its options, for every normal deck."""
    out: Dict[int, int] = {}
    conf_fails: Dict[int, int] = {}
    for entry in col.decks.all_names_and_ids(include_filtered=False):
        deck = col.decks.get(entry.id, default=False)
        if not deck or deck.get("dyn"):
            continue
        conf_id = int(deck.get("conf") or 1)
        if conf_id not in conf_fails:
            conf_fails[conf_id] = _fails(col, conf_id)
        out[int(entry.id)] = conf_fails[conf_id]
    return out


def _fails(col: Any, conf_id: int) -> int:
    try:
        conf = col.decks.get_config(conf_id) or {}
        value = int((conf.get("lapse") or {}).get("leechFails") or DEFAULT_LEECH_FAILS)
    except Exception:
        return DEFAULT_LEECH_FAILS
    return max(1, value)


def fsrs_on(col: Any) -> bool:
    try:
        return bool(col.get_config("fsrs", False))
    except Exception:
        return False


# --- FSRS memory state ---------------------------------------------------------------------------

def default_decay() -> float:
    """The forgetting curve's decay when the memory state does not carry one: FSRS-4 (Anki 23.10)
    has 1.0, FSRS-4.5 and FSRS-5 (Anki 23.12 on) 0.5."""
    try:
        from anki.utils import point_version

        return 1.0 if point_version() < 231200 else 0.5
    except Exception:
        return 0.5


def recall(stability: float, days: float, decay: float = 0.5) -> Optional[float]:
    """FSRS's forgetting curve: the chance to recall a card ``days`` after its last review."""
    try:
        if stability <= 0 or decay <= 0:
            return None
        factor = 0.9 ** (-1.0 / decay) - 1.0
        r = (1.0 + factor * max(0.0, days) / stability) ** (-decay)
    except (ValueError, OverflowError, ZeroDivisionError):
        return None
    return r if math.isfinite(r) else None


def memory_state(data: str, now: float, today: int, due: int, ivl: int, ctype: int
                 ) -> Tuple[Optional[float], Optional[float], Optional[float]]:
    """(difficulty 0..1, stability in days, retrievability now) from a card's ``data`` JSON, or
    Nones when it holds no FSRS memory state. Retrievability follows FSRS's forgetting curve
    R = (1 + f·t/S)^(-decay), f = 0.9^(-1/decay) - 1, with t the days
    since the last review (``lrt``; for older cards from due - interval, and the review log
    once it is read). Without a decay in the state: ``default_decay``."""
    if not data or '"s"' not in data:
        return None, None, None
    try:
        state = json.loads(data)
        s = float(state["s"])
        d = float(state["d"])
    except (ValueError, KeyError, TypeError):
        return None, None, None
    difficulty = min(1.0, max(0.0, (d - 1.0) / 9.0))
    r: Optional[float] = None
    try:
        decay = float(state.get("decay") or default_decay())
        last = state.get("lrt")
        if last:
            r = recall(s, (now - float(last)) / DAY_SECONDS, decay)
        elif ctype == 2:  # a review card: it was last reviewed ivl days before it is due
            r = recall(s, float(today - (due - ivl)), decay)
    except (ValueError, TypeError):
        r = None
    return difficulty, s, r


# --- the review log ------------------------------------------------------------------------------

def _chunks(ids: Sequence[int], size: int = IDS_PER_QUERY) -> Iterable[str]:
    for i in range(0, len(ids), size):
        yield ",".join(str(int(x)) for x in ids[i:i + size])


def revlog_figures(col: Any, card_ids: Sequence[int]) -> Dict[int, Tuple[int, int, float, int]]:
    """Card id -> (answers, of them Again, mean answer seconds, last answer in ms)."""
    out: Dict[int, Tuple[int, int, float, int]] = {}
    types = ",".join(str(t) for t in REVIEW_TYPES)
    for ids in _chunks(sorted(set(card_ids))):
        rows = col.db.all(
            "select cid, count(), sum(ease = 1), avg(time), max(id) from revlog "
            f"where cid in ({ids}) and ease > 0 and type in ({types}) group by cid")
        for cid, n, again, mean_ms, last in rows:
            out[int(cid)] = (int(n), int(again or 0), float(mean_ms or 0) / 1000.0, int(last or 0))
    return out


def again_days(col: Any, card_ids: Sequence[int]) -> Dict[int, Set[int]]:
    """Card id -> the days (counted from the collection's creation) it was answered Again."""
    out: Dict[int, Set[int]] = {}
    crt = int(col.crt)
    for ids in _chunks(sorted(set(card_ids))):
        for cid, rid in col.db.all(f"select cid, id from revlog where cid in ({ids}) and ease = 1"):
            out.setdefault(int(cid), set()).add((int(rid) // 1000 - crt) // DAY_SECONDS)
    return out


def typical_answer_seconds(col: Any, sample: int = 20000) -> float:
    """The median answer time of the collection's latest answers (0 when there are none)."""
    times = sorted(t for (t,) in col.db.all(
        "select time from revlog where ease > 0 and time > 0 order by id desc limit ?", sample))
    if not times:
        return 0.0
    return times[len(times) // 2] / 1000.0


# --- cards ----------------------------------------------------------------------------------------

_CARD_COLUMNS = "c.id, c.nid, c.did, c.odid, c.ord, c.lapses, c.queue, c.type, c.due, c.ivl, c.data"


def _history(row: Sequence[Any], thresholds: Dict[int, int], now: float, today: int,
             fsrs: bool) -> CardHistory:
    cid, nid, did, odid, ord_, lapses, queue, ctype, due, ivl, data = row[:11]
    home = int(odid or did)
    h = CardHistory(int(cid), int(nid), home, int(ord_), int(lapses), suspended=int(queue) == -1,
                    leech_threshold=thresholds.get(home, DEFAULT_LEECH_FAILS))
    if fsrs or (data and '"s"' in data):
        h.difficulty, h.stability, h.retrievability = memory_state(
            data or "", now, today, int(due), int(ivl), int(ctype))
        h.last_review_known = '"lrt"' in (data or "")
        h.decay = default_decay()
        if h.stability is not None and '"decay"' in data:
            try:
                h.decay = float(json.loads(data).get("decay") or h.decay)
            except (ValueError, TypeError, AttributeError):
                pass
    return h


def card_histories(col: Any, card_ids: Sequence[int], now: Optional[float] = None
                   ) -> Dict[int, CardHistory]:
    """Card id -> its history (the card's own figures and its review log)."""
    now = time.time() if now is None else now
    thresholds = leech_thresholds(col)
    today = int(col.sched.today)
    fsrs = fsrs_on(col)
    out: Dict[int, CardHistory] = {}
    for ids in _chunks(sorted(set(card_ids))):
        for row in col.db.all(f"select {_CARD_COLUMNS} from cards c where c.id in ({ids})"):
            h = _history(row, thresholds, now, today, fsrs)
            out[h.card_id] = h
    _add_revlog(col, out, now)
    return out


def note_histories(col: Any, note_ids: Sequence[int], now: Optional[float] = None
                   ) -> Dict[int, List[CardHistory]]:
    """Note id -> the histories of its cards, in template order."""
    cids: List[int] = []
    for ids in _chunks(sorted(set(note_ids))):
        cids.extend(int(c) for (c,) in col.db.all(f"select id from cards where nid in ({ids})"))
    out: Dict[int, List[CardHistory]] = {}
    for h in sorted(card_histories(col, cids, now).values(), key=lambda h: (h.note_id, h.ord)):
        out.setdefault(h.note_id, []).append(h)
    return out


def _add_revlog(col: Any, histories: Dict[int, CardHistory], now: Optional[float] = None) -> None:
    now = time.time() if now is None else now
    for cid, (n, again, mean, last) in revlog_figures(col, list(histories)).items():
        h = histories.get(cid)
        if h is not None:
            h.answers, h.again, h.mean_seconds, h.last_review = n, again, mean, last
            if h.stability is not None and not h.last_review_known and last:
                # An older memory state does not say when the card was last reviewed: the log does.
                h.retrievability = recall(h.stability, (now - last / 1000.0) / DAY_SECONDS, h.decay)


def _has_tag(tags: str, tag: str) -> bool:
    return f" {tag.lower()} " in f" {tags.lower()} "


def struggling_cards(col: Any, limit: int = 500, now: Optional[float] = None) -> StrugglingList:
    """The cards the collection calls hard (see the module's docstring), worst first."""
    started = time.perf_counter()
    now = time.time() if now is None else now
    thresholds = leech_thresholds(col)
    fsrs = fsrs_on(col)
    today = int(col.sched.today)
    lowest = min(thresholds.values()) if thresholds else DEFAULT_LEECH_FAILS
    by_search = fsrs_by_search(col) if fsrs else {}
    # One pass over the cards that can qualify: enough lapses for the most demanding deck, a
    # note tagged leech, or (FSRS) what Anki's own search finds (else every memory state).
    # Tags are stored as " tag1 tag2 ".
    select = f"select {_CARD_COLUMNS}, n.tags from cards c join notes n on n.id = c.nid "
    where = ["c.lapses >= ?", "n.tags like ?"]
    if fsrs and by_search is None:
        where.append("c.data like '%\"s\":%'")
    rows = col.db.all(select + f"where {' or '.join(where)}", lowest, f"% {LEECH_TAG} %")
    if by_search:
        seen = {int(r[0]) for r in rows}
        wanted = sorted(set().union(*by_search.values()) - seen)
        for ids in _chunks(wanted):
            rows.extend(col.db.all(select + f"where c.id in ({ids})"))
    candidates: Dict[int, CardHistory] = {}
    why: Dict[int, List[str]] = {}
    tagged: Dict[int, List[CardHistory]] = {}  # note id -> its cards (notes tagged leech)
    tags_of: Dict[int, str] = {}
    for row in rows:
        h = _history(row, thresholds, now, today, fsrs)
        tags = str(row[11] or "")
        tags_of[h.note_id] = tags
        reasons: List[str] = []
        if h.lapses >= h.leech_threshold:
            reasons.append("lapses")
        if by_search:
            reasons.extend(why for why, ids in by_search.items() if h.card_id in ids)
        elif fsrs:
            if h.difficulty is not None and h.difficulty >= HIGH_DIFFICULTY:
                reasons.append("difficulty")
            if h.retrievability is not None and h.retrievability < LOW_RETRIEVABILITY and not h.suspended:
                reasons.append("retrievability")
        if _has_tag(tags, LEECH_TAG):
            tagged.setdefault(h.note_id, []).append(h)
        if reasons:
            candidates[h.card_id] = h
            why[h.card_id] = reasons
    for nid, cards in tagged.items():  # the tag is on the note: its most-lapsed card is the leech
        worst = max(cards, key=lambda h: (h.lapses, -h.ord))
        candidates.setdefault(worst.card_id, worst)
        why.setdefault(worst.card_id, []).insert(0, "leech")
    _add_revlog(col, candidates, now)
    listed: List[StrugglingCard] = []
    for cid, h in candidates.items():
        tags = tags_of.get(h.note_id, "")
        item = StrugglingCard(h, "", "", _has_tag(tags, LEECH_TAG), _has_tag(tags, IMPROVED_TAG),
                              why[cid], score_of(h))
        listed.append(item)
    listed.sort(key=lambda s: (s.improved, -s.score, -s.history.lapses, s.card_id))
    total = len(listed)
    shown = listed[:max(0, limit)]
    _fill_names(col, shown)
    return StrugglingList(shown, total, fsrs, time.perf_counter() - started)


def fsrs_by_search(col: Any) -> Optional[Dict[str, Set[int]]]:
    """The FSRS criteria as Anki's own search states them ("difficulty" -> card ids of
    ``prop:d>=0.9``, "retrievability" -> of ``prop:r<0.7``, suspended cards left out), found by
    Anki in its own code; None when this Anki's search has no such properties, or (Anki 23.10)
    finds by ``prop:r`` other cards than its card info shows a low retrievability for."""
    try:
        from anki.utils import point_version

        if point_version() < 231200:
            return None
        return {
            "difficulty": {int(c) for c in col.find_cards(f"prop:d>={HIGH_DIFFICULTY}")},
            "retrievability": {int(c) for c in col.find_cards(f"prop:r<{LOW_RETRIEVABILITY} -is:suspended")},
        }
    except Exception:
        return None


def score_of(h: CardHistory) -> float:
    """How badly the card goes: lapses relative to its deck's leech threshold, plus the share of
    Again answers, plus (FSRS) its difficulty and how far it is forgotten now."""
    score = h.lapses / max(1, h.leech_threshold) + h.again_rate
    if h.difficulty is not None:
        score += h.difficulty
    if h.retrievability is not None and not h.suspended:
        score += 1.0 - h.retrievability
    return round(score, 4)


def _fill_names(col: Any, cards: Sequence[StrugglingCard]) -> None:
    """The question and deck name of the listed cards (one query for their notes)."""
    if not cards:
        return
    fields_of: Dict[int, List[int]] = {}
    texts: Dict[int, str] = {}
    nids = sorted({c.note_id for c in cards})
    for ids in _chunks(nids):
        for nid, mid, flds in col.db.all(f"select id, mid, flds from notes where id in ({ids})"):
            mid = int(mid)
            if mid not in fields_of:
                nt = col.models.get(mid)
                fields_of[mid] = question_fields(nt) if nt else [0]
            text = note_question(str(flds).split("\x1f"), fields_of[mid] or [0])
            texts[int(nid)] = text if len(text) <= QUESTION_CHARS else text[:QUESTION_CHARS - 1] + "…"
    names: Dict[int, str] = {}
    for c in cards:
        did = c.history.deck_id
        if did not in names:
            names[did] = col.decks.name_if_exists(did) or ""
        c.deck = names[did]
        c.question = texts.get(c.note_id, "")
