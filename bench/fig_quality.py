"""Card quality (issue 8): the checks on the project's labelled set (tests/data/labelled_cards.json):
recall on the cards with a known defect, the share of good cards flagged, and the checks' cost
per card. The rewrite pass's extra tokens are figure fig_rewrite's."""
import time
from typing import Any, Dict, List, Tuple

from test_checks import evaluate, labelled

FIGURES = [
    ("checks_recall", "Q1. Card checks: recall on defective labelled cards", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_false_rate", "Q2. Card checks: good labelled cards flagged", "", "<= 0.05",
     lambda v: v <= 0.05),
    ("checks_ms_per_card", "Q3. Card checks: cost per card", "ms", "<= 0.2 ms", lambda v: v <= 0.2),
]


def cost_per_card(rows: List[dict], rounds: int) -> float:
    from generator.cards import Card
    from generator.checks import check_cards, expectation

    groups = []
    for asked in sorted({r["asked"] for r in rows}):
        cards = [Card(kind=r["kind"], front=r.get("front", ""), back=r.get("back", ""), text=r.get("text", ""),
                      extra=r.get("extra", "")) for r in rows if r["asked"] == asked]
        groups.append((cards, expectation(asked)))
    n = sum(len(cards) for cards, _ in groups) * rounds
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(rounds):
            for cards, expected in groups:
                check_cards(cards, expected)
        best = min(best, time.perf_counter() - t)
    return best / n * 1000


def run(tmp: str, quick: bool) -> Tuple[Dict[str, float], Dict[str, Any], List[str]]:
    rows = labelled()
    result = evaluate(rows)
    ms = cost_per_card(rows, 5 if quick else 30)
    values = {"checks_recall": result["recall"], "checks_false_rate": result["false_rate"],
              "checks_ms_per_card": ms}
    details = {"checks": {"cards": len(rows), "defective": result["defective"], "good": result["good"],
                          "misses": [[r.get("front") or r.get("text"), r["expect"], got]
                                     for r, got in result["misses"]]}}
    lines = ["     labelled set: %d cards (%d with one known defect, %d good), en/de/fr/es, basic/reversed/cloze"
             % (len(rows), result["defective"], result["good"])]
    return values, details, lines
