"""How many cards to ask of a piece of text: a ceiling that follows its content, per depth.

The model is asked for one card per distinct fact the depth covers, *up to* a ceiling; the
ceiling is not a target. It comes from a cheap estimate of the facts in the text:

- a table row gives one fact per cell beyond the first (the row's key), a header row none;
- a list item gives one fact, or one per comma-separated part after a "term:" label;
- a prose sentence gives about one fact, weighted by its share of content words (chatty prose
  with many function words says less per sentence), plus a half per extra clause, and a
  quarter per number or name.

The weights were set on tests/data/depth_passages.json (passages in four languages with their
facts counted by hand); tests/engine/test_depth.py and bench/fig_depth.py check the ratio. The ceiling
is also bounded by the answer room: a card takes about ``ANSWER_TOKENS_PER_CARD`` tokens of
``num_predict``, and ``text_budget`` cuts the text into pieces whose cards fit."""
import functools
import math
import re
from typing import Dict

from ..cards.checks import detect_language, words
from ..config import Depth
from ..cards.wordlists import STOP

# Room one card takes in the answer. A card cites its sentence by number ({"n":3,"front":…,"back":…}:
# about 95 characters, 25-30 tokens, on the labelled good cards; bench figure C1); the rest is
# margin for longer cards, other languages and scripts. (It was 80 when each card copied a quote.)
ANSWER_TOKENS_PER_CARD = 55

# The ceiling per estimated fact: key ideas are about a third of the facts; "every fact" leaves
# room above the estimate (a ceiling must not cut a dense text short); "exhaustive" more still.
FACTOR: Dict[Depth, float] = {Depth.KEY_IDEAS: 0.45, Depth.EVERY_FACT: 1.3, Depth.EXHAUSTIVE: 1.8}
# Tokens of text per card the depth expects of ordinary prose, to size the pieces of text so
# that their cards fit in one answer.
TEXT_TOKENS_PER_CARD: Dict[Depth, int] = {Depth.KEY_IDEAS: 120, Depth.EVERY_FACT: 50, Depth.EXHAUSTIVE: 35}
MIN_TEXT_BUDGET = 300

PROMPT: Dict[Depth, str] = {
    Depth.KEY_IDEAS: "Write one card for each key idea of the text (its main points, not every detail)",
    Depth.EVERY_FACT: "Write one card for every distinct fact worth learning in the text",
    Depth.EXHAUSTIVE: "Write one card for every fact and detail in the text, including names, numbers "
                      "and minor points",
}

_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
_ROW = re.compile(r"^\s*\|.*\|\s*$|^[^\t\n]+\t[^\n]+$")
_RULE = re.compile(r"^[\s|:\-+=]+$")
_ITEM = re.compile(r"^\s*(?:[-*+•▪◦]|\d{1,3}[.)])\s+(.*)$")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"(?<=[\s(])(?:[A-ZÀ-ÖØ-Þ][\w-]*)")
_CLAUSE = re.compile(r",\s|;\s|:\s")


def _cells(line: str) -> int:
    parts = line.split("\t") if "\t" in line and "|" not in line else line.strip().strip("|").split("|")
    return sum(1 for p in parts if p.strip())


# A job asks this of each chunk's text twice (its ceiling, ``cards_for_chunk``; then the bound on
# its answer, ``text_holds``): the second time is a look-up. A few chunks are in flight at once.
@functools.lru_cache(maxsize=64)
def estimate_facts(text: str) -> float:
    """About how many distinct facts the text states (see the module's docstring)."""
    lang, _ = detect_language(words(text[:4000]))
    stop = STOP.get(lang)
    facts = 0.0
    header = True  # the next table row is a header row
    for line in text.split("\n"):
        if not line.strip():
            header = True
            continue
        if _ROW.match(line):
            if not _RULE.match(line):
                if not header:
                    facts += max(1, _cells(line) - 1)
                header = False
            continue
        header = True
        item = _ITEM.match(line)
        if item:
            body = item.group(1)
            label, colon, rest = body.partition(":")
            facts += max(1, sum(1 for p in rest.split(",") if p.strip())) if colon and rest.strip() else 1
            continue
        for sentence in _SENTENCE.split(line):
            tokens = words(sentence)
            if not tokens:
                continue
            if stop is not None:
                share = sum(1 for t in tokens if t not in stop and len(t) >= 3) / len(tokens)
            else:
                share = sum(1 for t in tokens if len(t) >= 4) / len(tokens)
            weight = min(1.2, max(0.25, (share - 0.35) * 4))
            names = 0 if lang == "de" else len(_NAME.findall(sentence))  # German capitalises every noun
            facts += weight * (1 + 0.5 * len(_CLAUSE.findall(sentence)))
            facts += 0.25 * (len(_NUMBER.findall(sentence)) + names)
    return facts


# What a piece of text can hold, whatever was asked: with no number of cards set by the user,
# the cards kept per piece stay within this (the rest is left out, and said). A bound on a
# model in a loop, not a target: the estimate errs (a hand count was up to 1.6 times it on the
# labelled passages) and a model may write good cards beyond the facts, so the bound is twice
# what the exhaustive depth asks, and never below HOLD_MIN.
HOLD_FACTOR = 2 * FACTOR[Depth.EXHAUSTIVE]
HOLD_MIN = 10


def text_holds(text: str) -> int:
    """The most cards ``text`` can give (see ``HOLD_FACTOR``)."""
    return max(HOLD_MIN, math.ceil(estimate_facts(text) * HOLD_FACTOR))


def answer_room_cards(num_predict: int, num_ctx: int) -> int:
    """How many cards fit in one answer."""
    return max(1, min(num_predict, num_ctx // 2) // ANSWER_TOKENS_PER_CARD)


def ceiling(text: str, depth: Depth, room_cards: int) -> int:
    """The most cards to ask of ``text`` at ``depth``: at least 1, at most ``room_cards``.
    (``depth`` may also be its value: a resumed bulk job reads its options back from JSON.)"""
    wanted = math.ceil(estimate_facts(text) * FACTOR[Depth.parse(depth)])
    return max(1, min(room_cards, wanted))


def text_budget(depth: Depth, room_cards: int) -> int:
    """Tokens of text per piece so that the depth's cards for it fit in one answer."""
    return max(MIN_TEXT_BUDGET, room_cards * TEXT_TOKENS_PER_CARD[Depth.parse(depth)])


def prompt_line(depth: Depth, cards: int) -> str:
    """What the user message asks for: one card per fact of the depth, up to the ceiling."""
    s = "s" if cards != 1 else ""
    return (f"{PROMPT[Depth.parse(depth)]}, up to {cards} card{s}: fewer when the text has fewer, "
            "and never a card made up to reach the number.")
