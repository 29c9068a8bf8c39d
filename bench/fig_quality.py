"""Card quality: the checks on the project's labelled set (tests/data/labelled_cards.json):
recall on the cards with a known defect, the share of good cards flagged, and the checks' cost
per card. The rewrite pass's extra tokens are figure fig_rewrite's."""
import time
from typing import Any, Dict, List, Tuple

from labelled_sets import evaluate, labelled

FIGURES = [
    ("checks_recall", "Q1. Card checks: recall on defective labelled cards", "", ">= 0.85",
     lambda v: v >= 0.85),
    ("checks_false_rate", "Q2. Card checks: good labelled cards flagged", "", "<= 0.05",
     lambda v: v <= 0.05),
    ("checks_ms_per_card", "Q3. Card checks: cost per card", "ms", "<= 0.2 ms", lambda v: v <= 0.2),
]


def cost_per_card(rows: List[dict], rounds: int) -> float:
    from generator.cards.card import Card
    from generator.cards.checks import check_card, expectation

    groups = []
    for asked in sorted({r["asked"] for r in rows}):
        cards = [Card(kind=r["kind"], front=r.get("front", ""), back=r.get("back", ""), text=r.get("text", ""),
                      extra=r.get("extra", "")) for r in rows if r["asked"] == asked]
        groups.append((cards, expectation(asked)))
    n = sum(len(cards) for cards, _ in groups) * rounds
    best = float("inf")
    for _ in range(3):  # CPU time, the best of three: the machine is shared
        t = time.process_time()
        for _ in range(rounds):
            for cards, expected in groups:
                for card in cards:  # check_card, not check_cards: no remembered result counts
                    card.flags = [f.pair() for f in check_card(card, expected)]
        best = min(best, time.process_time() - t)
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


# --- the rewrite pass's extra tokens on the labelled set (fake server) ---------------------------

FIGURES.append(("rewrite_token_share", "Q4. Rewrite pass (flagged): its answer tokens / the generation's",
                "", "< 0.25", lambda v: v < 0.25))

# The field a model rewrites for each check (the others it leaves "" = unchanged).
_FIX = {"yes_no_question": "front", "missing_antecedent": "front", "answer_in_question": "front",
        "several_facts": "back", "answer_too_long": "back", "wrong_language": "both"}


def rewrite_share(tmp: str) -> Dict[str, Any]:
    """Every (language, kind) group of the labelled set is one chunk: the fake server answers the
    generation with the group's cards (each with a quote, as models write them) and the rewrite
    request with a rewrite of each flagged card in the same language: the fields its flags call
    for, taken from a good card of the group. Tokens are estimated from the answers' text."""
    import json as _json

    from fake_ollama import FakeOllama, Reply, is_review_request, review_cards

    from generator.backends import make_backend
    from generator.job.chunking import estimate_tokens
    from generator.job.chunk import Chunk
    from generator.job.run import JobOptions, run_job
    from labelled_sets import passages

    rows = labelled()
    texts = {}
    for p in passages():
        texts[p["lang"]] = texts.get(p["lang"], "") + p["text"] + "\n\n"
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
                    r.get("front", ""): [f.check.value for f in check_card(_card(r), expectation(r["asked"]))]
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
