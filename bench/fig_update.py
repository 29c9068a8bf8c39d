"""Updates (generator/update/): U1, planning an update of a 1,000-unit document that did not
change (the file read, its record found, old and new units aligned, the marks of its 1,800
notes read from the collection), best of 3; U2, what a one-paragraph edit of a 100-page
document (1,000 units, ~300 KB of text) sends: characters sent / characters of that paragraph,
with the number of requests beside it."""
import os
import shutil
import time
from typing import Any, Dict, List, Tuple

FIGURES = [
    ("update_plan_seconds", "U1. Plan an update of a 1,000-unit document, no change", "s", "< 1 s",
     lambda v: v < 1.0),
    ("update_sent_ratio", "U2. One paragraph edited in 100 pages: text sent / the paragraph", "x",
     "<= 1.5", lambda v: v <= 1.5),
]

SECTIONS, PARAGRAPHS = 100, 9  # 100 headings + 900 paragraphs = 1,000 units


def paragraph(s: int, p: int) -> str:
    return (f"Section {s} paragraph {p} states that measurement {s * 100 + p} equals {s * 7 + p} units. "
            f"It also notes that sample {s}-{p} was taken on day {p + 1} of the trial. "
            f"Researchers repeated the step {p + 2} times to confirm the value of {s}.{p}. "
            f"The result is used again in section {s + 1} as a reference point.")


def document(edited: Tuple[int, int] = (-1, -1)) -> str:
    parts = ["# Field manual"]
    for s in range(SECTIONS):
        parts.append(f"## Section {s}")
        for p in range(PARAGRAPHS):
            text = paragraph(s, p)
            if (s, p) == edited:
                text = text.replace("equals", "now equals, after the recount,")
            parts.append(text)
    return "\n\n".join(parts) + "\n"


def cards_of(doc: Any) -> List[Any]:
    """Two cards per paragraph, quoting it, as a job would make them (no model needed)."""
    from generator.cards.card import Card, SourceRef

    out = []
    for block in doc.blocks:
        if block.kind != "paragraph":
            continue
        first, second = block.text.split(". ")[:2]
        for i, sentence in enumerate((first, second)):
            words = sentence.split()
            out.append(Card("basic", front="Q%d: %s?" % (i, " ".join(words[:6])), back=sentence,
                            quote=" ".join(words[:8]), source=SourceRef(doc.name)))
    return out


def run(tmp: str, quick: bool) -> Tuple[Dict[str, float], Dict[str, Any], List[str]]:
    from anki.collection import Collection
    from anki.lang import set_lang

    from generator.job.run import JobOptions, chunk_budget
    from generator.notes.add import NoteTarget, add_cards
    from generator.update.plan import plan_update
    from generator.update.run import read_document
    from generator.update.track import track_added

    set_lang("en")
    folder = os.path.join(tmp, "update")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "manual.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write(document())
    col = Collection(os.path.join(folder, "collection.anki2"))
    try:
        doc = read_document(path)
        target = NoteTarget(deck="Manual")
        outcome = add_cards(col, cards_of(doc), target)
        track_added(col, path, doc, outcome.added, [], target)
        times = []
        for _ in range(3):
            started = time.perf_counter()
            plan = plan_update(col, path, read_document(path))
            times.append(time.perf_counter() - started)
        assert not plan.sent_units() and len(plan.units) == SECTIONS * (PARAGRAPHS + 1) + 1
        notes = len(plan.notes)
        with open(path, "w", encoding="utf-8") as f:
            f.write(document(edited=(57, 4)))
        plan = plan_update(col, path, read_document(path))
        chunks = plan.chunks(chunk_budget(JobOptions(model="any")))
        sent = sum(len(c.text) for c in chunks)
        edited = len(document(edited=(57, 4))) - len(document()) + len(paragraph(57, 4))
    finally:
        col.close()
        shutil.rmtree(folder, ignore_errors=True)
    ratio = sent / edited
    details = {"update": {"plan_seconds": [round(t, 4) for t in times], "units": len(plan.units),
                          "notes": notes, "document_chars": len(document()), "sent_chars": sent,
                          "edited_paragraph_chars": edited, "requests": len(chunks)}}
    lines = ["U1: plan of %d units and %d notes: %s s; U2: %d of %d characters sent in %d request(s)" % (
        len(plan.units), notes, ", ".join("%.3f" % t for t in times), sent, len(document()), len(chunks))]
    return {"update_plan_seconds": min(times), "update_sent_ratio": ratio}, details, lines
