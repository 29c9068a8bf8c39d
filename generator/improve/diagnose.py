"""What is known about a note before the model is asked, in plain words (``Diagnosis.reasons``):

- its review history per card: lapses, the share of Again answers, answer times beside the
  collection's usual time, FSRS difficulty and recall chance when present, Anki's leech tag;
- the card checks (generator/cards/checks.py, the same as for new cards);
- its source (``source.SourceReader``): the sentences it was made from, or why they are missing;
- the notes most similar to it: by meaning when an embedding model is set (the cached vectors,
  ``SimilarNotes.neighbours``), else by shared words among the notes of its decks. A similar
  note that was also answered Again on the same days points at interference: the two are
  confused with each other.

``diagnose_notes`` reads the collection only (run it where collection reads belong: a
background QueryOp in Anki); it never calls the model server."""
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from ..cards.card import CLOZE, REVERSED
from ..cards.checks import INFORMATIONAL, STOP, check_card, expectation, words
from ..config import Settings
from .history import (
    IMPROVED_TAG,
    LEECH_TAG,
    CardHistory,
    again_days,
    note_histories,
    typical_answer_seconds,
)
from .notes import NoteCard, NoteShape, Origin, origin_of, plain_text, read_note, shape_for
from .source import Source, SourceFiles, SourceReader

SLOW_FACTOR = 2.0  # answers this many times slower than usual ...
SLOW_EXTRA_SECONDS = 4.0  # ... and at least this much slower count as slow
HIGH_AGAIN_RATE = 0.3
MAX_SIMILAR = 2  # similar notes named per note
WORD_SIMILARITY = 0.5  # shared-word score (Jaccard of content words) that counts as similar
MAX_WORD_NOTES = 20000  # notes of the note's decks compared by words at most
MAX_NOTES = 200  # notes diagnosed (and sent) in one go
_ALL_STOP = frozenset(w for ws in STOP.values() for w in ws)


@dataclass
class Reason:
    kind: str  # history, leech, slow, fsrs, check, media, source, similar, interference, improved
    text: str


@dataclass
class SimilarNote:
    note_id: int
    question: str  # plain text, shortened
    answer: str
    score: float
    by: str  # "meaning" or "words"
    struggling: bool  # it has lapses too
    shared_again_days: int = 0


@dataclass
class Diagnosis:
    note: NoteCard
    origin: Origin
    histories: List[CardHistory]
    reasons: List[Reason] = field(default_factory=list)
    source: Source = field(default_factory=lambda: Source("", ""))
    similar: List[SimilarNote] = field(default_factory=list)
    flags: List[Tuple[str, str]] = field(default_factory=list)
    skip: str = ""  # why the note is not sent ("" = it is)
    deck_id: int = 0  # the home deck of its first card (where a split's notes go)

    @property
    def note_id(self) -> int:
        return self.note.note_id

    def texts(self) -> List[str]:
        return [r.text for r in self.reasons]


def _pct(x: float) -> str:
    return "%d%%" % round(100 * x)


def _card_name(h: CardHistory, nc: NoteCard, many: bool) -> str:
    if not many:
        return "The card"
    if nc.shape.kind == CLOZE:
        return f"Cloze {h.ord + 1}"
    if nc.shape.kind == REVERSED:
        return "The reverse card" if h.ord == 1 else "The forward card"
    return f"Card {h.ord + 1}"


def history_reasons(nc: NoteCard, histories: Sequence[CardHistory], typical: float) -> List[Reason]:
    out: List[Reason] = []
    many = len(histories) > 1
    if LEECH_TAG in [t.lower() for t in nc.tags]:
        suspended = any(h.suspended for h in histories)
        out.append(Reason("leech", "Anki tagged it a leech%s." % (" and suspended it" if suspended else "")))
    if IMPROVED_TAG in nc.tags:
        out.append(Reason("improved", "It was improved with the add-on before (the history below "
                                      "includes the reviews since)."))
    answered = [h for h in histories if h.answers]
    if not answered:
        out.append(Reason("history", "No reviews yet: judged by its wording only."))
    for h in answered:
        name = _card_name(h, nc, many)
        if h.lapses or h.again:
            text = "%s was forgotten %d time%s in %d answer%s (Again %s)" % (
                name, h.lapses, "" if h.lapses == 1 else "s", h.answers, "" if h.answers == 1 else "s",
                _pct(h.again_rate))
            if h.lapses >= h.leech_threshold:
                text += "; its deck calls a card a leech at %d lapses" % h.leech_threshold
            out.append(Reason("history", text + "."))
        elif len(answered) == 1 or h.answers >= 3:
            out.append(Reason("history", "%s was answered %d time%s, never forgotten." % (
                name, h.answers, "" if h.answers == 1 else "s")))
        if typical > 0 and h.mean_seconds >= max(SLOW_FACTOR * typical, typical + SLOW_EXTRA_SECONDS):
            out.append(Reason("slow", "%s takes %.0f s to answer on average, against %.0f s usually: "
                                      "it may ask too much at once or be hard to recall." % (
                                          name, h.mean_seconds, typical)))
        if h.difficulty is not None:
            text = "%s: FSRS difficulty %s" % (name, _pct(h.difficulty))
            if h.retrievability is not None:
                text += ", chance to recall it now %s" % _pct(h.retrievability)
            out.append(Reason("fsrs", text + "."))
    return out


def check_reasons(nc: NoteCard, language: str) -> Tuple[List[Reason], List[Tuple[str, str]]]:
    text = " ".join(plain_text(nc.value(f)) for f in nc.shape.main_fields)
    flags = [f.pair() for f in check_card(nc.card, expectation(language, text))]
    reasons = [Reason("check", "Card check: " + reason) for check, reason in flags if check not in INFORMATIONAL]
    return reasons, flags


def _content(text: str) -> Set[str]:
    return {w for w in words(text) if w not in _ALL_STOP and (len(w) >= 3 or w.isdigit())}


class WordIndex:
    """The notes of some decks by their content words, for similar notes without embeddings:
    similar when the questions share most of their words (two cards that ask alike and answer
    differently are the ones confused), or the whole notes do."""

    def __init__(self, col: Any, deck_ids: Sequence[int]) -> None:
        self.words: Dict[int, Set[str]] = {}  # the whole note
        self.questions: Dict[int, Set[str]] = {}  # its first field
        self.postings: Dict[str, List[int]] = {}
        if not deck_ids:
            return
        ids = ",".join(str(int(d)) for d in sorted(set(deck_ids)))
        rows = col.db.all(
            "select distinct n.id, n.flds from notes n join cards c on c.nid = n.id "
            f"where c.did in ({ids}) or c.odid in ({ids}) limit ?", MAX_WORD_NOTES)
        for nid, flds in rows:
            parts = [plain_text(p) for p in str(flds).split("\x1f")[:2]]
            question = _content(parts[0])
            ws = question | _content(" ".join(parts[1:]))
            self.questions[int(nid)] = question
            self.words[int(nid)] = ws
            for w in ws:
                self.postings.setdefault(w, []).append(int(nid))

    def similar(self, nid: int, k: int = MAX_SIMILAR) -> List[Tuple[int, float]]:
        mine = self.words.get(nid)
        if not mine:
            return []
        question = self.questions.get(nid, set())
        candidates: Set[int] = set()
        for w in mine:
            posting = self.postings.get(w, [])
            if len(posting) <= 2000:  # a word most notes share says nothing
                candidates.update(posting)
        candidates.discard(nid)
        scored = []
        for other in candidates:
            score = max(_jaccard(question, self.questions.get(other, set())), _jaccard(mine, self.words[other]))
            if score >= WORD_SIMILARITY:
                scored.append((other, score))
        scored.sort(key=lambda x: -x[1])
        return scored[:k]


def _jaccard(a: Set[str], b: Set[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _short(text: str, n: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1] + "…"


def diagnose_notes(col: Any, note_ids: Sequence[int], settings: Optional[Settings] = None,
                   similar: Any = None, now: Optional[float] = None,
                   files: Optional[SourceFiles] = None) -> List[Diagnosis]:
    """A diagnosis per note (at most ``MAX_NOTES``), in the order given. ``similar``: the notes by
    meaning (``SimilarNotes``) when an embedding model is set; what it has cached is used as it is.
    ``files``: the source files, read here unless ``SourceFiles(read=False)``: then, when some
    are wanted (``files.waiting``), the diagnoses are not complete (no sources from files, no
    similar notes): read them apart from the collection and diagnose again."""
    settings = settings or Settings()
    now = time.time() if now is None else now
    note_ids = list(dict.fromkeys(int(n) for n in note_ids))[:MAX_NOTES]
    histories = note_histories(col, note_ids, now)
    typical = typical_answer_seconds(col)
    shapes: Dict[int, NoteShape] = {}
    reader = SourceReader(col, files)
    out: List[Diagnosis] = []
    for nid in note_ids:
        try:
            note = col.get_note(nid)
        except Exception:
            continue  # deleted since it was chosen
        mid = int(note.mid)
        if mid not in shapes:
            shapes[mid] = shape_for(note.note_type() or {}, settings)
        nc = read_note(note, shapes[mid])
        cards = histories.get(nid, [])
        d = Diagnosis(nc, origin_of(nc), cards, deck_id=cards[0].deck_id if cards else 0)
        if nc.shape.why_not:
            d.skip = nc.shape.why_not
            d.reasons.append(Reason("skip", nc.shape.why_not))
            out.append(d)
            continue
        d.reasons.extend(history_reasons(nc, cards, typical))
        checks, d.flags = check_reasons(nc, settings.language)
        d.reasons.extend(checks)
        for logical in nc.media_fields:
            name = nc.shape.mapping.get(logical, logical)
            d.reasons.append(Reason("media", f"The field “{name}” holds an image or a sound: it is kept as it is."))
        for logical in nc.long_fields:
            name = nc.shape.mapping.get(logical, logical)
            d.reasons.append(Reason("media", f"The field “{name}” is long: its start is sent, and it is kept "
                                             "as it is."))
        d.source = reader.source_of(nc, d.origin)
        d.reasons.append(Reason("source", d.source.said))
        out.append(d)
    if files is not None and files.waiting:
        return out
    _add_similar(col, [d for d in out if not d.skip], similar)
    return out


def _add_similar(col: Any, diagnoses: List[Diagnosis], similar: Any) -> None:
    if not diagnoses:
        return
    found: Dict[int, List[Tuple[int, float]]] = {}
    by = "words"
    if similar is not None:
        try:
            found = similar.neighbours([d.note_id for d in diagnoses], MAX_SIMILAR)
            by = "meaning"
            found = {nid: [(o, s) for o, s in hits if s >= similar.threshold] for nid, hits in found.items()}
        except Exception:  # a damaged cache: fall back to words
            found = {}
    by_meaning = {nid for nid, hits in found.items() if hits}
    missing = [d for d in diagnoses if d.note_id not in by_meaning]
    if missing:
        index = WordIndex(col, [d.deck_id for d in missing if d.deck_id])
        for d in missing:
            found[d.note_id] = index.similar(d.note_id)
    others = sorted({o for hits in found.values() for o, _s in hits})
    if not others:
        return
    info = note_histories(col, others)
    mine_ids = [h.card_id for d in diagnoses for h in d.histories]
    other_ids = [h.card_id for hs in info.values() for h in hs]
    days = again_days(col, mine_ids + other_ids)
    fields: Dict[int, List[str]] = {}
    ids = ",".join(str(o) for o in others)
    for nid, flds in col.db.all(f"select id, flds from notes where id in ({ids})"):
        fields[int(nid)] = [plain_text(p) for p in str(flds).split("\x1f")[:2]]
    for d in diagnoses:
        mine_days: Set[int] = set()
        for h in d.histories:
            mine_days |= days.get(h.card_id, set())
        for other, score in found.get(d.note_id, []):
            parts = fields.get(other)
            if not parts:
                continue
            cards = info.get(other, [])
            their_days: Set[int] = set()
            for h in cards:
                their_days |= days.get(h.card_id, set())
            struggling = any(h.lapses for h in cards)
            s = SimilarNote(other, _short(parts[0]), _short(parts[1] if len(parts) > 1 else ""),
                            round(score, 3), by if d.note_id in by_meaning else "words", struggling,
                            len(mine_days & their_days))
            d.similar.append(s)
            what = "in meaning" if s.by == "meaning" else "in wording"
            if s.shared_again_days and d.histories and any(h.lapses for h in d.histories):
                d.reasons.append(Reason("interference", "Similar %s to note %d (“%s”), which was also "
                                        "forgotten on %d of the same day%s: the two are likely confused; "
                                        "make each clearly different." % (
                                            what, other, s.question, s.shared_again_days,
                                            "" if s.shared_again_days == 1 else "s")))
            else:
                d.reasons.append(Reason("similar", "Similar %s to note %d (“%s”)%s." % (
                    what, other, s.question, ", which is forgotten often too" if struggling else "")))
