"""Depth: cards asked / facts counted by hand, on tests/data/depth_passages.json, per
depth (key ideas against the hand-counted key ideas; every fact and exhaustive against the facts).
The goals are the bands tests/engine/test_depth.py asserts for every passage; here their median."""
import statistics
from typing import Any, Dict, List, Tuple

from labelled_sets import BANDS, asked, passages

from generator.config import Depth

FIGURES = [
    ("depth_key_ideas_ratio", "D1. Depth key ideas: cards asked / key ideas (median)", "", "0.8-3.0",
     lambda v: 0.8 <= v <= 3.0),
    ("depth_every_fact_ratio", "D2. Depth every fact: cards asked / facts (median)", "", "0.8-2.0",
     lambda v: 0.8 <= v <= 2.0),
    ("depth_exhaustive_ratio", "D3. Depth exhaustive: cards asked / facts (median)", "", "1.0-3.0",
     lambda v: 1.0 <= v <= 3.0),
]


def run(tmp: str, quick: bool) -> Tuple[Dict[str, float], Dict[str, Any], List[str]]:
    rows = passages()
    values: Dict[str, float] = {}
    details: Dict[str, Any] = {}
    lines = []
    for depth in Depth:
        key = BANDS[depth][0]
        ratios = {r["id"]: asked(r["text"], depth) / r[key] for r in rows}
        values["depth_%s_ratio" % depth.value] = statistics.median(ratios.values())
        details["depth_%s" % depth.value] = {k: round(v, 2) for k, v in ratios.items()}
        lines.append("     %-11s per passage: %s" % (depth.value, ", ".join(
            "%s %.2f" % (k, v) for k, v in ratios.items())))
    return values, details, lines
