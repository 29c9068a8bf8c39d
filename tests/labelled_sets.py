"""The project's hand-labelled sets, for the tests and the benchmark (bench/fig_depth.py,
bench/fig_quality.py): passages with their facts and key ideas counted by hand
(tests/data/depth_passages.json) and the bands the cards asked of them must land in; cards
labelled with the defect they have, if any (tests/data/labelled_cards.json, the "tuned" set, with
the passages they were written from), the "untuned" set written by someone who never read the
checks (tests/data/untuned/cards.json; looked into while the checks were improved, so a
development set since), the "held-out" set written later by someone else who read neither the
checks nor the other sets (tests/data/heldout/cards.json; measured, then looked into), the
"unseen" set written by two more such helpers (tests/data/unseen/cards.json; its first measurement
is in its "about", looked into since), the "fresh" set by two more (tests/data/fresh/cards.json;
first measurement in its "about", looked into since), the "blind" set by two more
(tests/data/blind/cards.json; the same), the "final" set written last by two others
(tests/data/final/cards.json; measured once, never looked into), and the checks' recall and false
flags on them."""
import json
import os
from typing import Dict, List, Tuple

from generator.cards.card import Card
from generator.cards.checks import check_cards, expectation, is_flagged
from generator.config import Depth
from generator.job.chunk import Chunk
from generator.job.run import JobOptions, cards_for_chunk

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
DEPTH_PASSAGES = os.path.join(DATA, "depth_passages.json")
LABELLED_CARDS = os.path.join(DATA, "labelled_cards.json")
LABELLED_PASSAGES = os.path.join(DATA, "labelled_passages.json")  # the texts the cards were written from


# --- depth ---------------------------------------------------------------------------------------

# (hand count to compare with, lowest ratio, highest ratio): a ceiling below the hand count
# would cut the model short; far above it would invite padding.
BANDS: Dict[Depth, Tuple[str, float, float]] = {
    Depth.KEY_IDEAS: ("key_ideas", 0.8, 3.0),
    Depth.EVERY_FACT: ("facts", 0.8, 2.0),
    Depth.EXHAUSTIVE: ("facts", 1.0, 3.0),
}


def passages() -> List[dict]:
    with open(DEPTH_PASSAGES, encoding="utf-8") as f:
        return json.load(f)


def asked(text: str, depth: Depth, **kw) -> int:
    return cards_for_chunk(Chunk(id="p", document="p.txt", text=text), JobOptions(model="m", depth=depth, **kw), 0)


# --- card checks ---------------------------------------------------------------------------------

def labelled() -> List[dict]:
    """The tuned set: each card with ``support``, the text of the passage it was written from."""
    with open(LABELLED_CARDS, encoding="utf-8") as f:
        rows = json.load(f)
    with open(LABELLED_PASSAGES, encoding="utf-8") as f:
        texts = {p["id"]: p["text"] for p in json.load(f)["passages"]}
    for row in rows:
        row["support"] = texts.get(row.get("passage", ""), "")
    return rows


# The sets of cards written by someone who never read the checks, in the order they were
# written: (folder under tests/data, what the bench calls it, who wrote it, its first bench figure).
CARD_SETS: List[Tuple[str, str, str, int]] = [
    ("untuned", "untuned", "a helper who never read the checks", 5),
    ("heldout", "held-out", "another, who read neither the checks nor the other sets", 8),
    ("unseen", "unseen", "two more, given only the defect kinds", 11),
    ("fresh", "fresh", "two more, the same way", 17),
    ("blind", "blind", "two more; natural good cards", 20),
    ("final", "final", "two more, while the checks changed; measured once, never looked into", 14),
]
# The untuned set's defect kinds and the checks that catch each (any one of them will do).
DEFECT_CHECKS: Dict[str, List[str]] = {
    "answer_leak": ["answer_in_question", "cloze_hint_gives_answer"],
    "yes_no": ["yes_no_question"],
    "vague_reference": ["missing_antecedent"],
    "several_facts": ["several_facts"],
    "answer_too_long": ["answer_too_long"],
    "ambiguous": ["ambiguous_question"],
    "unsupported": ["answer_not_in_text"],
    "negation": ["negative_question"],
    "wrong_language": ["wrong_language"],
    "empty_side": ["empty_side"],
    "same_sides": ["front_equals_back", "answer_in_question"],  # the back repeats the question's words
    "cloze_filler": ["cloze_filler_deletion"],
    "cloze_whole_sentence": ["cloze_hides_everything", "answer_too_long"],
    "cloze_leaking_hint": ["cloze_hint_gives_answer"],
    "cloze_too_many": ["cloze_too_many_deletions"],
    "cloze_list": ["several_facts"],
}


def named_set(name: str) -> List[dict]:
    """One of ``CARD_SETS`` (tests/data/NAME/cards.json); [] when it is not there."""
    return card_set(os.path.join(DATA, name, "cards.json"))


def untuned() -> List[dict]:
    """The first set written by someone who never read the checks."""
    return named_set("untuned")


def card_set(path: str) -> List[dict]:
    """A set of cards with their passages, each card good or with one named defect (the untuned
    and held-out sets' form), as ``evaluate`` rows: the language asked is the passage's, the
    support its text; [] when the file is not there."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    passages = {p["id"]: p for p in data.get("passages", [])}
    rows = []
    for c in data.get("cards", []):
        passage = passages.get(c.get("passage"), {})
        kind = c.get("kind") if c.get("kind") in ("basic", "reversed", "cloze") else "basic"
        row = {"lang": passage.get("lang") or c.get("lang", ""), "kind": kind, "support": passage.get("text", ""),
               "id": c.get("id"), "defect": c.get("defect") or None, "quote": c.get("quote", "")}
        row["asked"] = row["lang"]
        if kind == "cloze":
            row["text"], row["extra"] = c.get("text") or c.get("front", ""), c.get("extra") or c.get("back", "")
        else:
            row["front"], row["back"] = c.get("front", ""), c.get("back", "")
        if row["defect"]:
            row["accept"] = DEFECT_CHECKS.get(row["defect"], [row["defect"]])
        rows.append(row)
    return rows


def evaluate(rows: List[dict]) -> dict:
    """Recall on defective cards and the share of good cards that get any flag that is not
    informational, in all and per language and defect kind. A row names its defect by
    ``expect`` (checks that must all be among the card's flags) or ``accept`` (any one of them
    will do); ``support`` is the text the card was written from ("" = not known)."""
    found = defective = good = false = 0
    misses = []
    by: Dict[str, Dict[str, List[int]]] = {"lang": {}, "kind": {}, "good_lang": {}}
    for row in rows:
        card = Card(kind=row["kind"], front=row.get("front", ""), back=row.get("back", ""),
                    text=row.get("text", ""), extra=row.get("extra", ""))
        check_cards([card], expectation(row["asked"]), row.get("support", ""))
        got = {c for c, _ in card.flags}
        lang = row.get("lang", "")
        if row.get("expect") or row.get("accept"):
            defective += 1
            hit = set(row["expect"]) <= got if row.get("expect") else bool(set(row["accept"]) & got)
            kind = row.get("defect") or "+".join(row["expect"])
            for key, name in (("lang", lang), ("kind", kind)):
                counts = by[key].setdefault(name, [0, 0])
                counts[0] += hit
                counts[1] += 1
            if hit:
                found += 1
            else:
                misses.append((row, sorted(got)))
        else:
            good += 1
            counts = by["good_lang"].setdefault(lang, [0, 0])
            counts[1] += 1
            if is_flagged(card):
                false += 1
                counts[0] += 1
                misses.append((row, sorted(got)))
    return {"recall": found / max(1, defective), "false_rate": false / max(1, good), "defective": defective,
            "good": good, "misses": misses, "by_lang": by["lang"], "by_kind": by["kind"],
            "false_by_lang": by["good_lang"]}
