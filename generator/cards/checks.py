"""Checks on how a card is built: pure, fast (well under 0.2 ms a card), no model call.

``check_card`` returns named flags, each with a reason a user understands. The checks follow
the rules of good cards (one fact, a question that stands on its own and does not give the
answer away; cloze deletions of key terms). Word lists (generator/wordlists.py) exist for
English, German, French and Spanish; for another language only the checks that need no words
run, and the informational flag ``NO_WORD_LIST`` says so. Informational flags do not make a
card "flagged" (see ``is_flagged``)."""
import functools
import html
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

from .card import CLOZE, REVERSED, Card
from .cloze import CLOZE_RE
from .wordlists import (
    AND,
    CONTEXT_PHRASES,
    LANGUAGE_LABELS,
    NAMES,
    OR,
    PRONOUN_AT_START_ONLY,
    PRONOUNS,
    QUESTION_WORDS,
    STOP,
    YES_NO_ANSWERS,
    YES_NO_OPENERS,
)

__all__ = ["Check", "Flag", "Expectation", "check_card", "check_cards", "expectation",
           "detect_language", "is_flagged", "INFORMATIONAL"]


class Check(Enum):
    ANSWER_IN_QUESTION = "answer_in_question"
    YES_NO = "yes_no_question"
    MISSING_CONTEXT = "missing_antecedent"
    SEVERAL_FACTS = "several_facts"
    LONG_ANSWER = "answer_too_long"
    SAME_SIDES = "front_equals_back"
    EMPTY_SIDE = "empty_side"
    CLOZE_FILLER = "cloze_filler_deletion"
    CLOZE_WHOLE = "cloze_hides_everything"
    CLOZE_HINT = "cloze_hint_gives_answer"
    CLOZE_TOO_MANY = "cloze_too_many_deletions"
    WRONG_LANGUAGE = "wrong_language"
    NO_WORD_LIST = "no_word_list"  # informational: only language-free checks ran


INFORMATIONAL: FrozenSet[str] = frozenset({Check.NO_WORD_LIST.value})


@dataclass(frozen=True)
class Flag:
    check: Check
    reason: str

    def pair(self) -> Tuple[str, str]:
        return (self.check.value, self.reason)


@dataclass(frozen=True)
class Expectation:
    """The language the cards should be in: a code (``""`` = not known) and its label."""

    code: str = ""
    label: str = ""


MAX_ANSWER_WORDS = 25
MAX_ANSWER_SENTENCES = 2
MAX_DELETION_WORDS = 8
MAX_SAME_NUMBER = 2  # blanks on one card
MAX_NUMBERS = 5  # cards from one cloze sentence
LIST_ITEMS = 3  # an answer listing this many short items holds several facts
LIST_ITEM_WORDS = 4

_TAG = re.compile(r"<[^<>]*>")
_BREAK_TAG = re.compile(r"<(?:br|/?li|/?p|/?div|/?tr|/?td)\b[^<>]*>", re.I)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_FIRST_TOKEN = re.compile(r"[\w'’-]+", re.UNICODE)
_FR_INVERTED = re.compile(r"\b\w+-(?:t-)?(il|elle|ils|elles|on)\b")
_SENTENCE_END = re.compile(r"[.!?](?:\s+|$)")
_ITEM_SPLIT = re.compile(r"\s*[;,]\s+|\s*;\s*")
_LI = re.compile(r"<li\b", re.I)

# Words of one language only: the stop words no other listed language has.
_DISTINCT: Dict[str, FrozenSet[str]] = {
    code: frozenset(w for w in words if (len(w) > 1 or not w.isascii())
                    and not any(w in other for c, other in STOP.items() if c != code))
    for code, words in STOP.items()
}


def _fold(text: str) -> str:
    if text.isascii():  # NFKC leaves ASCII as it is
        return text.lower()
    return unicodedata.normalize("NFKC", text).casefold().replace("’", "'")


# The context phrases as they stand among a text's words: (phrase, " word word ").
_PHRASES: Dict[str, Tuple[Tuple[str, str], ...]] = {
    code: tuple((p.strip(), " %s " % " ".join(_WORD.findall(_fold(p)))) for p in phrases)
    for code, phrases in CONTEXT_PHRASES.items()
}


def plain(field_html: str) -> str:
    """A field's visible text, cheaply (fields are sanitized HTML already)."""
    if "<" in field_html:
        field_html = _TAG.sub(" ", _BREAK_TAG.sub(" \n ", field_html))
    if "&" in field_html:
        field_html = html.unescape(field_html)
    return " ".join(field_html.split(" ")).strip()


def words(text: str) -> List[str]:
    return _WORD.findall(_fold(text))


def _scores(tokens: Sequence[str]) -> Tuple[str, int, int]:
    """The listed language whose own function words the tokens use most, its hits and the
    runner-up's hits."""
    scores = sorted(((sum(1 for t in tokens if t in distinct), code) for code, distinct in _DISTINCT.items()),
                    reverse=True)
    return scores[0][1], scores[0][0], scores[1][0]


def detect_language(tokens: Sequence[str]) -> Tuple[str, int]:
    """(code, hits) of the listed language the tokens are clearly in; ("", 0) when none clearly
    leads (at least two of its own function words, twice as many as any other language's)."""
    code, best, second = _scores(tokens)
    if best >= 2 and best >= 2 * second:
        return code, best
    return "", 0


def expectation(asked: str, source_text: str = "") -> Expectation:
    """The language cards should be in: the one the user asked for, else the source's."""
    asked = asked.strip()
    if asked:
        key = _fold(asked).split("-")[0].split("_")[0].strip()
        code = NAMES.get(key, "")
        return Expectation(code, LANGUAGE_LABELS.get(code, asked))
    code, _ = detect_language(words(source_text[:4000]))
    return Expectation(code, LANGUAGE_LABELS.get(code, ""))


def _letters(text: str) -> int:
    return sum(1 for c in text if c.isalnum())


def _content(tokens: Sequence[str], lang: str) -> List[str]:
    stop = STOP.get(lang)
    if stop is None:
        return [t for t in tokens if len(t) >= 4 or t.isdigit()]
    return [t for t in tokens if t not in stop and (len(t) >= 2 or t.isdigit())]


def _same_word(a: str, b: str) -> bool:
    return a == b or (len(a) >= 5 and len(b) >= 5 and a[:5] == b[:5] and abs(len(a) - len(b)) <= 4)


def _covered(needles: Sequence[str], haystack: Sequence[str]) -> int:
    """How many needles are ``_same_word`` as a word of the haystack (words of five letters or
    more are looked up by their first five, so this stays linear)."""
    hay = set(haystack)
    lengths: Dict[str, Set[int]] = {}
    for h in hay:
        if len(h) >= 5:
            lengths.setdefault(h[:5], set()).add(len(h))
    hits = 0
    for n in needles:
        if n in hay:
            hits += 1
        elif len(n) >= 5 and any(abs(len(n) - k) <= 4 for k in lengths.get(n[:5], ())):
            hits += 1
    return hits


def _gives_away(answer: Sequence[str], question: Sequence[str]) -> bool:
    """Most of the answer's content words already stand in the question."""
    if not answer:
        return False
    hits = _covered(answer, question)
    return hits == len(answer) if len(answer) <= 2 else hits >= 0.8 * len(answer)


def _fr_uninvert(folded: str) -> str:
    """French inversion: "que produit-il" keeps the pronoun ("que il": it needs an antecedent),
    "pourquoi les feuilles paraissent-elles" drops it (it repeats the noun before it)."""
    m = _FR_INVERTED.search(folded)
    if not m:
        return folded
    before = [t for t in words(folded[:m.start()]) if t not in STOP["fr"] and t not in QUESTION_WORDS["fr"]]
    return folded[:m.start()] + ("" if before else m.group(1)) + folded[m.end():]


def _missing_antecedent(text: str, lang: str) -> str:
    """Why the text leans on something it does not carry ("the text", or a pronoun with no
    content word before it), or ""."""
    folded = _fold(text)
    if lang == "fr":
        folded = _fr_uninvert(folded.replace("est-ce", "est"))
    tokens = _WORD.findall(folded)
    padded = f" {' '.join(tokens)} "
    for phrase, folded_phrase in _PHRASES.get(lang, ()):
        if folded_phrase in padded:
            return f"It refers to “{phrase}”, which the card does not carry: name the subject instead."
    pronouns = PRONOUNS.get(lang, frozenset())
    stop = STOP.get(lang, frozenset())
    questions = QUESTION_WORDS.get(lang, frozenset())
    # A pronoun needs a noun before it; in a question, a single content word before it is most
    # likely the verb ("What causes it?", "Was produziert es?", "Comment s'appelle ce …").
    content: List[int] = []
    for i, t in enumerate(tokens):
        if t in pronouns and not (t in PRONOUN_AT_START_ONLY and i > 0):
            if not content or (len(content) == 1 and tokens[0] in questions):
                return f"“{t}” refers to something the card does not name: say what it is."
            return ""
        if t not in stop and t not in questions:
            content.append(i)
            if len(content) > 1:
                return ""
    return ""


def _yes_no(front: str, back_tokens: List[str], lang: str) -> bool:
    if back_tokens and back_tokens[0] in YES_NO_ANSWERS and len(back_tokens) <= 6:
        return True
    folded = _fold(front).lstrip("¿¡\"'“«( ")
    first = _FIRST_TOKEN.match(folded)
    if not first:
        return False
    if any(t in OR.get(lang, ()) for t in words(front)):
        return False  # "Is it A or B?" is a choice
    token = first.group(0)
    if lang == "fr":
        if folded.startswith(("est-ce que", "est ce que", "y a-t-il")):
            return True
        inverted = _FR_INVERTED.search(folded)
        # Inversion without a question word before it: "La cellule a-t-elle un noyau ?"
        if inverted is None:
            return False
        return not any(t in QUESTION_WORDS["fr"] for t in words(folded[:inverted.end()]))
    return token in YES_NO_OPENERS.get(lang, frozenset())


def _several_questions(front: str, tokens: List[str], lang: str) -> bool:
    if front.count("?") >= 2:
        return True
    ands, qwords = AND.get(lang, frozenset()), QUESTION_WORDS.get(lang, frozenset())
    return any(t in ands and tokens[i + 1] in qwords for i, t in enumerate(tokens[:-1]))


def _list_answer(back_html: str, back: str, lang: str) -> int:
    """How many items the answer lists (0 when it is not a list)."""
    items = len(_LI.findall(back_html))
    if items >= 2:
        return items
    lines = [ln for ln in back.split("\n") if ln.strip()]
    if len(lines) >= LIST_ITEMS:
        return len(lines)
    if back.rstrip().endswith(".") and len(back.split()) >= 8:
        return 0  # a sentence (its commas separate clauses, not items)
    parts = [p for p in _ITEM_SPLIT.split(back.strip().rstrip(".")) if p.strip()]
    if parts:
        last = parts[-1].split()
        ands = AND.get(lang, frozenset()) | OR.get(lang, frozenset())
        for i, w in enumerate(last):
            if _fold(w) in ands and 0 < i < len(last) - 1:
                parts[-1:] = [" ".join(last[:i]), " ".join(last[i + 1:])]
                break
    if len(parts) >= LIST_ITEMS and all(len(p.split()) <= LIST_ITEM_WORDS for p in parts):
        return len(parts)
    return 0


def _basic_checks(card: Card, lang: str, flags: List[Flag]) -> None:
    front, back = plain(card.front), plain(card.back)
    if not front.strip() or not back.strip():
        flags.append(Flag(Check.EMPTY_SIDE, "One side of the card is empty."))
        return
    ft, bt = words(front), words(back)
    if ft == bt:
        flags.append(Flag(Check.SAME_SIDES, "Front and back say the same thing."))
        return
    fc, bc = _content(ft, lang), _content(bt, lang)
    if _gives_away(bc, fc):
        flags.append(Flag(Check.ANSWER_IN_QUESTION, "The question already contains the answer."))
    elif card.kind == REVERSED and _gives_away(fc, bc):
        flags.append(Flag(Check.ANSWER_IN_QUESTION,
                          "The back repeats the front, so the reverse card gives the answer away."))
    if _yes_no(front, bt, lang):
        flags.append(Flag(Check.YES_NO, "A yes/no question: ask for the fact itself instead."))
    why = _missing_antecedent(front, lang)
    if why:
        flags.append(Flag(Check.MISSING_CONTEXT, why))
    items = _list_answer(card.back, back, lang)
    if _several_questions(front, ft, lang):
        flags.append(Flag(Check.SEVERAL_FACTS, "The front asks two questions: make one card for each."))
    elif items:
        flags.append(Flag(Check.SEVERAL_FACTS,
                          f"The answer lists {items} items: make one card (or one cloze) per item."))
    sentences = len(_SENTENCE_END.findall(back.strip() + " "))
    if len(bt) > MAX_ANSWER_WORDS or sentences > MAX_ANSWER_SENTENCES:
        flags.append(Flag(Check.LONG_ANSWER,
                          f"The answer is too long to recall ({len(bt)} words): keep it to one short fact."))


def _cloze_checks(card: Card, lang: str, flags: List[Flag]) -> None:
    text = plain(card.text)
    deletions = list(CLOZE_RE.finditer(text))
    if not deletions:
        flags.append(Flag(Check.EMPTY_SIDE, "The cloze text hides nothing."))
        return
    shown = CLOZE_RE.sub(lambda m: m.group(2), text)
    stop = STOP.get(lang)
    numbers: Dict[str, int] = {}
    for m in deletions:
        numbers[m.group(1)] = numbers.get(m.group(1), 0) + 1
    filler = hint_gives = long_one = given = False
    for m in deletions:
        answer, hint = m.group(2), m.group(3) or ""
        at = words(answer)
        if not at or (stop is not None and all(t in stop for t in at)):
            filler = True
        if len(at) > MAX_DELETION_WORDS:
            long_one = True
        if hint.strip():
            ht = words(hint)
            ac = _content(at, lang) or at
            if " ".join(at) and (" ".join(at) in " ".join(ht) or _gives_away(ac, _content(ht, lang) or ht)):
                hint_gives = True
        # What this card shows: its own deletions hidden, the other numbers' answers visible.
        visible = CLOZE_RE.sub(lambda d: " " if d.group(1) == m.group(1) else d.group(2), text)
        if _gives_away(_content(at, lang), _content(words(visible), lang)):
            given = True
    if filler:
        flags.append(Flag(Check.CLOZE_FILLER,
                          "A deletion hides a filler word or punctuation: hide the key term instead."))
    hidden_all = CLOZE_RE.sub(" ", text)
    if not _content(words(hidden_all), lang) or _letters(hidden_all) < 0.3 * _letters(shown):
        flags.append(Flag(Check.CLOZE_WHOLE, "The deletions hide (nearly) the whole text: nothing is left to cue the answer."))
    if hint_gives:
        flags.append(Flag(Check.CLOZE_HINT, "The hint contains the answer."))
    most = max(numbers.values())
    if most > MAX_SAME_NUMBER:
        flags.append(Flag(Check.CLOZE_TOO_MANY, f"One card hides {most} gaps at once: a puzzle, not a fact."))
    elif len(numbers) > MAX_NUMBERS:
        flags.append(Flag(Check.CLOZE_TOO_MANY, f"{len(numbers)} deletions in one sentence: split it."))
    if given:
        flags.append(Flag(Check.ANSWER_IN_QUESTION, "The hidden answer can be read elsewhere in the text."))
    if long_one:
        flags.append(Flag(Check.LONG_ANSWER, "A deletion is too long to recall: hide a term, not a clause."))
    why = _missing_antecedent(shown, lang)
    if why:
        flags.append(Flag(Check.MISSING_CONTEXT, why))


def check_card(card: Card, expected: Optional[Expectation] = None) -> List[Flag]:
    """The flags of one card, in a stable order; empty when nothing is wrong."""
    expected = expected or Expectation()
    fields = (card.text, card.extra) if card.kind == CLOZE else (card.front, card.back)
    tokens = words(plain(" ".join(fields)))
    code, best, second = _scores(tokens)
    found = code if best >= 2 and best >= 2 * second else ""
    # The word lists of the language the card is clearly in, else of the one asked for, else
    # of the one it leans to.
    lang = found or (expected.code if expected.code in STOP else "") or (code if best > second else "")
    flags: List[Flag] = []
    if card.kind == CLOZE:
        _cloze_checks(card, lang, flags)
    else:
        _basic_checks(card, lang, flags)
    if found and expected.code and found != expected.code and (expected.code in STOP or best >= 3):
        asked = expected.label or expected.code
        flags.append(Flag(Check.WRONG_LANGUAGE,
                          f"The card is in {LANGUAGE_LABELS.get(found, found)}, not {asked} as asked."))
    if not lang:
        label = expected.label or "this card's language"
        flags.append(Flag(Check.NO_WORD_LIST,
                          f"No word list for {label}: only the checks that need no words ran."))
    return flags


def check_cards(cards: Sequence[Card], expected: Optional[Expectation] = None) -> None:
    """Set every card's ``flags`` (the pairs (check, reason) the card carries)."""
    for card in cards:
        card.flags = list(_pairs(card.kind, card.front, card.back, card.text, card.extra,
                                 expected or Expectation()))


@functools.lru_cache(maxsize=256)  # the cards of a few chunks in flight
def _pairs(kind: str, front: str, back: str, text: str, extra: str,
           expected: Expectation) -> Tuple[Tuple[str, str], ...]:
    """The flags of a card with these fields (what ``check_card`` reads of it), remembered: a
    card checked as it streams in is checked again with its chunk's list, at no cost then."""
    card = Card(kind=kind, front=front, back=back, text=text, extra=extra)
    return tuple(f.pair() for f in check_card(card, expected))


def is_flagged(card: Card) -> bool:
    """True when a card has a flag that is not merely informational."""
    return any(check not in INFORMATIONAL for check, _ in card.flags)
