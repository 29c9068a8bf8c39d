"""Card quality: the checks on three labelled sets, kept apart. The tuned set
(tests/data/labelled_cards.json) was written by the engineer of the checks: it measures
regressions. The untuned set (tests/data/untuned/cards.json) was written by someone who never
read the checks; its false flags and misses were then read to find which kinds of rule were
wrong, so it became a development set. The held-out set (tests/data/heldout/cards.json), written
later by someone who read neither the checks nor the other sets, was never looked into: it is
the fair measure of how the checks hold on cards nobody tuned them to. For each: recall on the
cards with a known defect (in all, per language, per defect kind) and the share of good cards
flagged (per language); and the checks' cost per card. The rewrite pass's extra tokens are Q4.

The held-out set was looked into after its measurement (3% of good cards flagged, over the goal),
and more sets were written the same way, each measured once before anyone looked at it and
then used to find the kinds of rule that were wrong: "unseen" (first recall 0.919, 10.2% of
good cards flagged), "fresh" (0.881, 7.6%), "blind" (0.925, 2.4%; its good cards natural, not
made to look suspicious). Each file's "about" keeps its first measurement. The "final" set was
written last, while the rules were changed on the others, measured once and never looked into:
the fair measure is the final set's (and each set's first measurement)."""
import time
from typing import Any, Dict, List, Optional, Tuple

from labelled_sets import CARD_SETS, DATA, evaluate, labelled, named_set, untuned

FIGURES = [
    ("checks_recall", "Q1. Card checks, tuned set: recall on defective cards", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_false_rate", "Q2. Card checks, tuned set: good cards flagged", "", "<= 0.02",
     lambda v: v <= 0.02),
    ("checks_ms_per_card", "Q3. Card checks: cost per card", "ms", "<= 0.2 ms", lambda v: v <= 0.2),
    # three figures for each set of labelled_sets.CARD_SETS (a literal: tools/gen_docs.py reads
    # this list without running the module)
    ("checks_untuned_recall", "Q5. Card checks, untuned set: recall on defective cards", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_untuned_min_lang_recall", "Q6. Card checks, untuned set: recall, weakest language", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_untuned_false_rate", "Q7. Card checks, untuned set: good cards flagged", "", "<= 0.02",
     lambda v: v <= 0.02),
    ("checks_heldout_recall", "Q8. Card checks, held-out set: recall on defective cards", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_heldout_min_lang_recall", "Q9. Card checks, held-out set: recall, weakest language", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_heldout_false_rate", "Q10. Card checks, held-out set: good cards flagged", "", "<= 0.02",
     lambda v: v <= 0.02),
    ("checks_unseen_recall", "Q11. Card checks, unseen set: recall on defective cards", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_unseen_min_lang_recall", "Q12. Card checks, unseen set: recall, weakest language", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_unseen_false_rate", "Q13. Card checks, unseen set: good cards flagged", "", "<= 0.02",
     lambda v: v <= 0.02),
    ("checks_final_recall", "Q14. Card checks, final set: recall on defective cards", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_final_min_lang_recall", "Q15. Card checks, final set: recall, weakest language", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_final_false_rate", "Q16. Card checks, final set: good cards flagged", "", "<= 0.02",
     lambda v: v <= 0.02),
    ("checks_fresh_recall", "Q17. Card checks, fresh set: recall on defective cards", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_fresh_min_lang_recall", "Q18. Card checks, fresh set: recall, weakest language", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_fresh_false_rate", "Q19. Card checks, fresh set: good cards flagged", "", "<= 0.02",
     lambda v: v <= 0.02),
    ("checks_blind_recall", "Q20. Card checks, blind set: recall on defective cards", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_blind_min_lang_recall", "Q21. Card checks, blind set: recall, weakest language", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_blind_false_rate", "Q22. Card checks, blind set: good cards flagged", "", "<= 0.02",
     lambda v: v <= 0.02),
]


def cost_per_card(rows: List[dict], rounds: int) -> float:
    """CPU ms per card of check_card with the card's support text (its index built once per
    text, as a chunk's is: ``index_ms_per_kchar`` is that cost)."""
    from generator.cards.card import Card
    from generator.cards.checks import check_card, expectation

    groups = []
    for asked in sorted({r["asked"] for r in rows}):
        # A chunk's cards one after the other, as a job checks them (the index is built once a text).
        cards = [(Card(kind=r["kind"], front=r.get("front", ""), back=r.get("back", ""), text=r.get("text", ""),
                       extra=r.get("extra", "")), r.get("support", ""))
                 for r in sorted(rows, key=lambda r: r.get("support", "")) if r["asked"] == asked]
        groups.append((cards, expectation(asked)))
    n = sum(len(cards) for cards, _ in groups) * rounds
    best = float("inf")
    for _ in range(3):  # CPU time, the best of three: the machine is shared
        t = time.process_time()
        for _ in range(rounds):
            for cards, expected in groups:
                for card, support in cards:  # check_card, not check_cards: no remembered result counts
                    card.flags = [f.pair() for f in check_card(card, expected, support)]
        best = min(best, time.process_time() - t)
    return best / n * 1000


def index_ms_per_kchar(rows: List[dict]) -> float:
    """CPU ms to index 1,000 characters of support text (once per chunk)."""
    from generator.cards.grounding import Support

    texts = sorted({r.get("support", "") for r in rows if r.get("support")})
    chars = sum(len(t) for t in texts) * 20
    t = time.process_time()
    for _ in range(20):
        for text in texts:
            Support(text)
    return (time.process_time() - t) / max(1, chars) * 1e6


def first_measurement(path: str) -> Optional[Dict[str, Any]]:
    """What a set's file says its first measurement was (before anyone looked at it), if it says."""
    import json
    import os

    try:
        with open(os.path.join(DATA, path, "cards.json"), encoding="utf-8") as f:
            return json.load(f).get("first_measurement")
    except (OSError, ValueError):
        return None


def _table(result: Dict[str, Any]) -> Dict[str, Any]:
    return {"cards": result["defective"] + result["good"], "defective": result["defective"], "good": result["good"],
            "recall": round(result["recall"], 3), "false_rate": round(result["false_rate"], 3),
            "recall_by_lang": {k: [v[0], v[1]] for k, v in sorted(result["by_lang"].items())},
            "recall_by_kind": {k: [v[0], v[1]] for k, v in sorted(result["by_kind"].items())},
            "false_by_lang": {k: [v[0], v[1]] for k, v in sorted(result["false_by_lang"].items())},
            "misses": [[r.get("id") or r.get("front") or r.get("text"), r.get("defect") or r.get("expect"), got]
                       for r, got in result["misses"]]}


def _lines(name: str, t: Dict[str, Any]) -> List[str]:
    def share(d: Dict[str, List[int]]) -> str:
        return ", ".join("%s %d/%d" % (k, v[0], v[1]) for k, v in d.items())

    return ["%s: %d cards (%d with one known defect, %d good): recall %.3f, good cards flagged %.3f"
            % (name, t["cards"], t["defective"], t["good"], t["recall"], t["false_rate"]),
            "  caught per language: " + share(t["recall_by_lang"]),
            "  good cards flagged per language: " + share(t["false_by_lang"]),
            "  caught per kind: " + share(t["recall_by_kind"])]


def run(tmp: str, quick: bool) -> Tuple[Dict[str, float], Dict[str, Any], List[str]]:
    rows = labelled()
    tuned = _table(evaluate(rows))
    first_untuned = untuned()
    ms = cost_per_card(rows + first_untuned, 5 if quick else 30)
    values = {"checks_recall": tuned["recall"], "checks_false_rate": tuned["false_rate"], "checks_ms_per_card": ms}
    details: Dict[str, Any] = {"checks": tuned, "checks_index_ms_per_kchar": index_ms_per_kchar(rows + first_untuned)}
    lines = _lines("tuned set (tests/data/labelled_cards.json)", tuned)
    for name, title, who, q in CARD_SETS:
        rows_of_set = first_untuned if name == "untuned" else named_set(name)
        if not rows_of_set:
            lines.append("%s set: tests/data/%s/cards.json is not there: figures Q%d-Q%d not measured"
                         % (title, name, q, q + 2))
            continue
        t = _table(evaluate(rows_of_set))
        t["first_measurement"] = first_measurement(name)
        t["written_by"] = who
        details["checks_" + name] = t
        values["checks_%s_recall" % name] = t["recall"]
        values["checks_%s_min_lang_recall" % name] = min(v[0] / v[1] for v in t["recall_by_lang"].values())
        values["checks_%s_false_rate" % name] = t["false_rate"]
        lines += _lines("%s set (tests/data/%s/cards.json)" % (title, name), t)
    lines.append("support text indexed once per chunk: %.3f ms per 1,000 characters" % details["checks_index_ms_per_kchar"])
    return values, details, lines


# --- the rewrite pass's extra tokens on the labelled set (fake server) ---------------------------

FIGURES.append(("rewrite_token_share", "Q4. Rewrite pass (flagged): its answer tokens / the generation's",
                "", "< 0.25", lambda v: v < 0.25))

# The field a model rewrites for each check (the others it leaves "" = unchanged).
_FIX = {"yes_no_question": "front", "missing_antecedent": "front", "answer_in_question": "front",
        "several_facts": "back", "answer_too_long": "back", "wrong_language": "both",
        "ambiguous_question": "front", "negative_question": "front", "answer_not_in_text": "back"}


ORIGINAL_SET = 137


def rewrite_share(tmp: str) -> Dict[str, Any]:
    """Every (language, kind) group of the labelled set's first 137 cards (the set this figure's
    goal was set on: 43% of them defective; the cards added since are mostly defective and would
    only measure that share) is one chunk, its text the language's labelled passages: the fake
    server answers the generation with the group's cards (each with a quote, as models write
    them) and the rewrite request with a rewrite of each flagged card in the same language: the
    fields its flags call for, taken from a good card of the group. Tokens are estimated from the
    answers' text."""
    import json as _json

    from fake_ollama import FakeOllama, Reply, is_review_request, review_cards

    from generator.backends import make_backend
    from generator.job.chunking import estimate_tokens
    from generator.job.chunk import Chunk
    from generator.job.run import JobOptions, run_job
    rows = labelled()[:ORIGINAL_SET]
    texts: Dict[str, str] = {}
    for r in rows:
        if r["support"] and r["support"] not in texts.get(r["lang"], ""):
            texts[r["lang"]] = texts.get(r["lang"], "") + r["support"] + "\n\n"
    counted = {"generation": 0, "review": 0}
    groups: Dict[Tuple[str, str], List[dict]] = {}
    for r in rows:
        kind = "cloze" if r["kind"] == "cloze" else "basic"
        groups.setdefault((r["lang"], kind), []).append(r)
    current: Dict[str, Any] = {}

    def answer(body: Dict[str, Any]) -> Reply:
        system = body["messages"][0]["content"]
        user = body["messages"][1]["content"]
        if is_review_request(user):
            good = [r for r in current["rows"] if not r["expect"]]
            decisions: Dict[str, Any] = {}
            for i, card in enumerate(review_cards(user)):
                model = good[i % len(good)]
                if current["kind"] == "cloze":
                    decisions[card["id"]] = {"text": model["text"], "extra": ""}
                    continue
                fix = _FIX.get(next((p for p in card.get("problems", [])), ""), "front")
                checks = [c for c in current["checks"].get(card["front"], [])]
                fix = _FIX.get(checks[0], "front") if checks else fix
                d = {"front": "", "back": ""}
                for f in (("front", "back") if fix == "both" else (fix,)):
                    d[f] = model[f]
                decisions[card["id"]] = d
            reply = Reply.review(decisions)
            counted["review"] += estimate_tokens(reply.content or "")
            return reply
        quote = " ".join(current["text"].split()[:12])
        items = []
        for r in current["rows"]:
            if current["kind"] == "cloze":
                items.append({"text": r["text"], "extra": r.get("extra", ""), "quote": quote})
            else:
                items.append({"front": r["front"], "back": r["back"], "quote": quote})
        reply = Reply(content=_json.dumps({"cards": items}, ensure_ascii=False))
        counted["generation"] += estimate_tokens(reply.content or "")
        return reply

    with FakeOllama(answerer=answer) as srv:
        backend = make_backend({"url": srv.url, "connect_timeout": 2, "read_timeout": 10})
        try:
            for (lang, kind), group in sorted(groups.items()):
                from generator.cards.checks import check_card, expectation

                current.update(rows=group, kind=kind, text=texts[lang], checks={
                    r.get("front", ""): [f.check.value for f in check_card(_card(r), expectation(r["asked"]), r["support"])]
                    for r in group})
                run_job([Chunk(id=f"{lang}-{kind}", document="labelled", text=texts[lang])], backend,
                        JobOptions(model="llama3.2", kind=kind, language=group[0]["asked"]))
        finally:
            backend.close()
    return {"share": counted["review"] / max(1, counted["generation"]), **counted}


def _card(r: dict) -> Any:
    from generator.cards.card import Card

    return Card(kind=r["kind"], front=r.get("front", ""), back=r.get("back", ""), text=r.get("text", ""),
                extra=r.get("extra", ""))


_run_checks = run


def run(tmp: str, quick: bool) -> Tuple[Dict[str, float], Dict[str, Any], List[str]]:  # noqa: F811
    values, details, lines = _run_checks(tmp, quick)
    share = rewrite_share(tmp)
    values["rewrite_token_share"] = share["share"]
    details["rewrite"] = share
    lines.append("     rewrite pass on the labelled set: %d answer tokens beside %d of the generation"
                 % (share["review"], share["generation"]))
    return values, details, lines
