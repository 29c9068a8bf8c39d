"""The project's hand-labelled sets, for the tests and the benchmark (bench/fig_depth.py,
bench/fig_quality.py): passages with their facts and key ideas counted by hand
(tests/data/depth_passages.json) and the bands the cards asked of them must land in; cards
labelled with the defect they have, if any (tests/data/labelled_cards.json), and the checks'
recall and false flags on them."""
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
    with open(LABELLED_CARDS, encoding="utf-8") as f:
        return json.load(f)


def evaluate(rows: List[dict]) -> dict:
    """Recall on defective cards (the expected flag is among the card's flags) and the share of
    good cards that get any flag that is not informational."""
    found = defective = good = false = 0
    misses = []
    for row in rows:
        card = Card(kind=row["kind"], front=row.get("front", ""), back=row.get("back", ""),
                    text=row.get("text", ""), extra=row.get("extra", ""))
        check_cards([card], expectation(row["asked"]))
        got = {c for c, _ in card.flags}
        if row["expect"]:
            defective += 1
            if set(row["expect"]) <= got:
                found += 1
            else:
                misses.append((row, sorted(got)))
        else:
            good += 1
            if is_flagged(card):
                false += 1
                misses.append((row, sorted(got)))
    return {"recall": found / defective, "false_rate": false / good, "defective": defective, "good": good,
            "misses": misses}
