"""Cards cite numbered sentences instead of copying quotes (generator/job/sentences.py,
citations.py): what the answers cost, what the markers cost, and whether grounding holds.

C1. Output characters per card / characters of the card's own text (front + back, or cloze text
    + extra), over the labelled good cards (tests/data/labelled_cards.json), each written as the
    schema and the prompt's example make the model write it: {"n":3,"front":"…","back":"…"}
    (compact, as the example; a cloze's empty extra left out), plus the "," between cards. Goal
    <= 1.5. Printed beside: the same written with spaces ({"n": 3, "front": …}), and before, as
    the old schema made the model write it ({"front": …, "back": …, "quote": …}, spaced as its
    example) over the untuned set's good cards, whose quotes are real sentences of their texts.
C2. Topic step output tokens / generation output tokens, on the seeds with the fake server (its
    topics follow the prompt: a number, a title, at most 12 words of summary). The fake lists a
    topic per sentence and the generation then writes a card per topic, so its ratio is one
    topic's cost to one card's; a real model lists a few topics per piece and many cards
    (tests/llm measures that). Printed.
C3. Sentence markers' share of the prompt's tokens: the card request's tokens (system prompt and
    user message, the estimate the add-on plans with) with the markers / without, less 1, over
    the seeds and a long generated text at the default chunk size. Goal <= 0.08.
C4. Grounding holds: on the untuned labelled cards whose answer is not in their text (defect
    "unsupported"), the share marked "Not in source" when each cites the sentence its quote is
    from, less the share the quote check marks (their quotes are real sentences). Goal >= 0. Printed beside: the good cards so marked (they were all grounded
    by their quotes), and the share of good cards citing the sentence before the right one that
    are grounded at the right one (the citation corrected).

The fixed prompt / text figure at a 4,096 context is figure 7 (bench/run.py)."""
import json
import os
import random
import statistics
import sys
from typing import Any, Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TESTS = os.path.join(ROOT, "tests")
TOOLS = os.path.join(ROOT, "tools")
UNTUNED = os.path.join(TESTS, "data", "untuned", "cards.json")

FIGURES = [
    ("citation_chars_per_card", "C1. Answer characters per card / the card's own text", "x", "<= 1.5",
     lambda v: v <= 1.5),
    ("citation_topic_output_ratio", "C2. Topic step output tokens / generation output tokens (fake server)",
     "", "<= 0.3", lambda v: v <= 0.3),
    ("citation_marker_share", "C3. Sentence markers' share of the prompt's tokens", "", "<= 0.08",
     lambda v: v <= 0.08),
    ("grounding_unsupported_marked", "C4. Unsupported answers marked Not in source: cited less quote check",
     "", ">= 0", lambda v: v >= 0),
]


def _card_objects(row: Dict[str, Any], n: int) -> Tuple[Dict[str, Any], int]:
    """The card as the new schema's example shows it, and the length of its own text."""
    if row["kind"] == "cloze":
        text, extra = row.get("text") or row.get("front", ""), row.get("extra", "")
        item: Dict[str, Any] = {"n": n, "text": text}
        if extra:
            item["extra"] = extra
        return item, len(text) + len(extra)
    return {"n": n, "front": row["front"], "back": row["back"]}, len(row["front"]) + len(row["back"])


def chars_per_card() -> Dict[str, Any]:
    from labelled_sets import labelled

    good = [r for r in labelled() if not r["expect"]]
    out: Dict[str, Any] = {}
    for name, seps in (("compact", (",", ":")), ("spaced", (", ", ": "))):
        written = own = 0
        for i, row in enumerate(good):
            item, length = _card_objects(row, 1 + i % 40)
            written += len(json.dumps(item, ensure_ascii=False, separators=seps)) + len(seps[0])
            own += length
        out[name] = round(written / own, 3)
    with open(UNTUNED, encoding="utf-8") as f:
        untuned = [c for c in json.load(f)["cards"] if not c["defect"]]
    before = after = own = 0
    for i, c in enumerate(untuned):
        if c["kind"] == "cloze":
            old = {"text": c["front"], "extra": "", "quote": c["quote"]}
            length = len(c["front"])
        else:
            old = {"front": c["front"], "back": c["back"], "quote": c["quote"]}
            length = len(c["front"]) + len(c["back"])
        new, _ = _card_objects(dict(c, text=c["front"]) if c["kind"] == "cloze" else c, 1 + i % 40)
        before += len(json.dumps(old, ensure_ascii=False)) + 2
        after += len(json.dumps(new, ensure_ascii=False, separators=(",", ":"))) + 1
        own += length
    out.update(labelled_good_cards=len(good), untuned_good_cards=len(untuned),
               untuned_before_quote=round(before / own, 3), untuned_after=round(after / own, 3))
    out["value"] = out["compact"]
    return out


def topic_output() -> Dict[str, Any]:
    """The topic step's output tokens beside the generation's (answers only, no rewrite pass)."""
    from fig_streaming import topic_tokens

    out = topic_tokens(with_prompts=False, self_review="off")
    out["value"] = round(out["value"], 3)
    return out


def marker_share() -> Dict[str, Any]:
    from generator.config import defaults
    from generator.job.chunking import chunk_document, estimate_tokens
    from generator.job.prompts import system_prompt, user_prompt
    from generator.job.run import JobOptions, chunk_budget
    from generator.job.sentences import numbered, unmarked
    from generator.sources.read import read_path, read_text

    from run import prose  # bench/run.py: the long generated text of figure 7

    options = JobOptions.from_config(defaults())
    budget = chunk_budget(options)
    docs = [read_path(os.path.join(ROOT, "seeds", f)) for f in sorted(os.listdir(os.path.join(ROOT, "seeds")))
            if f.endswith((".md", ".txt"))]
    rng = random.Random(5)
    docs.append(read_text("\n\n".join(prose(rng, rng.randint(40, 140)) for _ in range(120)), "prose.txt"))
    system = system_prompt(options.kind, options.prompt_additions)
    with_markers = without = sentences = 0
    per_chunk = []
    for doc in docs:
        for chunk in chunk_document(doc, budget):
            user = user_prompt(chunk, 12, options.language, options.depth)
            marked = numbered(chunk).marked
            plain_user = user.replace(marked, unmarked(marked))
            a = estimate_tokens(system) + estimate_tokens(user)
            b = estimate_tokens(system) + estimate_tokens(plain_user)
            with_markers += a
            without += b
            sentences += len(numbered(chunk))
            per_chunk.append(a / b - 1)
    return {"value": round(with_markers / without - 1, 4), "prompt_tokens_with": with_markers,
            "prompt_tokens_without": without, "sentences": sentences, "chunks": len(per_chunk),
            "worst_chunk": round(max(per_chunk), 4), "median_chunk": round(statistics.median(per_chunk), 4),
            "chunk_budget": budget}


def grounding() -> Dict[str, Any]:
    from generator.cards.card import Card
    from generator.cards.grounding import is_grounded, normalise
    from generator.job.answers import answer_of
    from generator.job.chunk import Chunk
    from generator.job.citations import Grounder

    with open(UNTUNED, encoding="utf-8") as f:
        data = json.load(f)
    texts = {p["id"]: p["text"] for p in data["passages"]}
    counts: Dict[str, int] = {}

    def add(key: str, yes: bool) -> None:
        counts[key] = counts.get(key, 0) + (1 if yes else 0)

    for c in data["cards"]:
        if c["defect"] not in (None, "unsupported"):
            continue
        group = "unsupported" if c["defect"] else "good"
        text = texts[c["passage"]]
        grounder = Grounder(Chunk(id=c["passage"], document="x", text=text))
        cloze = c["kind"] == "cloze"
        card = Card(kind="cloze" if cloze else "basic", front="" if cloze else c["front"],
                    back="" if cloze else c["back"], text=c["front"] if cloze else "")
        cited = grounder.cited_by_quote(c["quote"])
        add(group, True)
        add(group + "_quote_marked", not is_grounded(c["quote"], normalise(text)))
        add(group + "_cited_marked", not grounder.ground(answer_of(card), cited).grounded)
        if group == "good" and cited and min(cited) > 1:
            wrong = [min(cited) - 1]
            found = grounder.ground(answer_of(card), wrong)
            add("good_off_by_one", True)
            add("good_off_by_one_corrected", found.grounded and found.numbers == cited)
    unsupported = counts.get("unsupported", 0)
    out = {"unsupported_cards": unsupported, "good_cards": counts.get("good", 0),
           "cited_marked": round(counts.get("unsupported_cited_marked", 0) / max(1, unsupported), 3),
           "quote_marked": round(counts.get("unsupported_quote_marked", 0) / max(1, unsupported), 3),
           "good_cited_marked": round(counts.get("good_cited_marked", 0) / max(1, counts.get("good", 1)), 3),
           "good_quote_marked": round(counts.get("good_quote_marked", 0) / max(1, counts.get("good", 1)), 3),
           "off_by_one_corrected": round(counts.get("good_off_by_one_corrected", 0)
                                         / max(1, counts.get("good_off_by_one", 1)), 3),
           "off_by_one_cards": counts.get("good_off_by_one", 0)}
    out["value"] = round(out["cited_marked"] - out["quote_marked"], 3)
    return out


def run(tmp: str, quick: bool) -> Tuple[Dict[str, float], Dict[str, Any], List[str]]:
    sys.path[:0] = [p for p in (ROOT, TESTS, TOOLS, HERE) if p not in sys.path]
    chars = chars_per_card()
    topics = topic_output()
    markers = marker_share()
    ground = grounding()
    lines = [
        "C1: %.2f as the example writes cards (compact), %.2f written with spaces, over %d labelled good "
        "cards; the untuned set's %d good cards: %.2f before (with their quotes), %.2f now" % (
            chars["compact"], chars["spaced"], chars["labelled_good_cards"], chars["untuned_good_cards"],
            chars["untuned_before_quote"], chars["untuned_after"]),
        "C2: topic step %d tokens for %d topics (%.0f a topic), generation %d tokens for %d cards (%.0f a "
        "card), %d chunks of the seeds" % (topics["topic_tokens"], topics["topics"], topics["tokens_per_topic"],
                                          topics["generation_tokens"], topics["cards"],
                                          topics["tokens_per_card"], topics["chunks"]),
        "C3: %d prompt tokens with markers, %d without, %d sentences in %d chunks (chunk budget %d); worst "
        "chunk +%.1f%%" % (markers["prompt_tokens_with"], markers["prompt_tokens_without"], markers["sentences"],
                           markers["chunks"], markers["chunk_budget"], 100 * markers["worst_chunk"]),
        "C4: %d unsupported answers: %.2f marked when cited, %.2f by the quote check; %d good cards: %.2f "
        "marked when cited (%.2f by the quote check); a citation of the sentence before the right one "
        "corrected for %.2f of %d" % (
            ground["unsupported_cards"], ground["cited_marked"], ground["quote_marked"], ground["good_cards"],
            ground["good_cited_marked"], ground["good_quote_marked"], ground["off_by_one_corrected"],
            ground["off_by_one_cards"]),
    ]
    values = {"citation_chars_per_card": chars["value"], "citation_topic_output_ratio": topics["value"],
              "citation_marker_share": markers["value"],
              "grounding_unsupported_marked": ground["value"]}
    details = {"citation_chars_per_card": chars, "citation_topic_output_ratio": topics,
               "citation_marker_share": markers, "grounding_unsupported_marked": ground}
    return values, details, lines
