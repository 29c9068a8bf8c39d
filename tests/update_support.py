"""Helpers for the update tests: a document carded as a normal job does (and recorded), cards
answered through the scheduler (with lapses), and what a user would check afterwards."""
import os
from typing import Dict, List, Sequence, Tuple

from fake_ollama import source_text

# A Kindle "My Clippings.txt" of two books, one highlight each.
CLIPPINGS = """The Cell (Alberts, Bruce)
- Your Highlight on page 12 | Location 180-182 | Added on Sunday, March 3, 2019 10:01:02 AM

Mitochondria make most of the ATP of the cell.
==========
Gödel, Escher, Bach (Hofstadter, Douglas)
- Your Highlight at location 1020-1022 | Added on Monday, March 4, 2019 9:00:00 PM

A strange loop returns to where it started.
==========
"""


DOC = """# Cells

## Mitochondria

Mitochondria produce most of the cell's ATP through respiration. Each mitochondrion keeps its own small genome.

## Ribosomes

Ribosomes translate messenger RNA into proteins. Free ribosomes float in the cytosol of the cell.

## Membranes

The plasma membrane is a lipid bilayer with embedded proteins. It controls what enters and leaves the cell.

- Passive transport needs no energy from the cell.
- Active transport uses ATP to pump molecules.
"""


def doc_for(token: str, text: str = DOC) -> str:
    """``text`` with every sentence begun by ``token``: its cards are no duplicates of another
    test's in a collection the tests share (the real app's)."""
    import re

    out = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            out.append(line)
            continue
        head = "- " if line.startswith("- ") else ""
        body = line[len(head):]
        out.append(head + re.sub(r"(^|(?<=[.!?] ))(?=[A-Z])", token + " ", body))
    return "\n".join(out) + "\n"


def edited(text: str) -> str:
    """An edit of DOC (or of ``doc_for``'s): one sentence changed, a list item gone, a section
    added."""
    import re

    token = re.search(r"(\S+) Mitochondria produce", text)
    prefix = token.group(1) + " " if token else ""
    text = text.replace("float in the cytosol of the cell.", "float in the cytosol and make proteins used there.")
    text = re.sub(r"(?m)^- .*Active transport uses ATP.*\n", "", text)
    return text + "\n## Nucleus\n\n%sThe nucleus holds the chromosomes of the cell. %sIts envelope has many pores.\n" % (
        prefix, prefix)


def write(path, text: str) -> str:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


def options_for(backend, **kw):
    from generator.job.run import JobOptions, prepare_job

    return prepare_job(backend, JobOptions(model="llama3.2", **kw))


def target_for(deck: str = "Biology", **kw):
    from generator.notes.add import NoteTarget

    return NoteTarget(deck=deck, **kw)


def card_normally(col, backend, path: str, options, target):
    """A normal job on the file: read, chunked, asked, added, recorded (as the CLI does)."""
    from generator.job.run import plan_chunks, run_job
    from generator.notes.add import add_cards
    from generator.sources.read import read_path
    from generator.update.track import track_added

    doc = read_path(path)
    chunks = plan_chunks([doc], options)
    result = run_job(chunks, backend, options)
    outcome = add_cards(col, result.cards, target)
    track_added(col, path, doc, outcome.added, chunks, target)
    return outcome


def answer_all(col, lapse_every: int = 2, search: str = "") -> None:
    """Every card answered Easy (it becomes a review card), then every ``lapse_every``-th one
    forgotten (Again: a lapse) and relearned (Good)."""
    from anki.scheduler_pb2 import CardAnswer

    def answer(cid: int, rating) -> None:
        card = col.get_card(cid)
        card.start_timer()  # as the reviewer does when it shows the card
        states = col._backend.get_scheduling_states(card.id)
        col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=rating))

    cids = sorted(col.find_cards(search))
    for cid in cids:
        answer(cid, CardAnswer.EASY)
    for i, cid in enumerate(cids):
        if i % lapse_every == 0:
            answer(cid, CardAnswer.AGAIN)
            answer(cid, CardAnswer.GOOD)


def snapshot(col, search: str = "") -> Dict[int, dict]:
    """Per note (of ``search``): its mod time, its fields, its cards (id -> due, ivl, lapses,
    reps) and every revlog entry of those cards."""
    out = {}
    for nid in col.find_notes(search):
        note = col.get_note(nid)
        cards = {}
        for card in note.cards():
            cards[card.id] = (card.due, card.ivl, card.lapses, card.reps, card.type, card.queue)
        revlog = col.db.all("select id, cid, ease, ivl, type from revlog where cid in (%s) order by id"
                            % ",".join(str(c) for c in cards))
        out[nid] = {"mod": note.mod, "fields": list(note.fields), "tags": list(note.tags), "cards": cards,
                    "revlog": revlog}
    return out


def sent_texts(server) -> List[str]:
    """The source text of every card request the server got (the rewrite pass left out)."""
    out = []
    for body in server.chat_bodies():
        messages = body.get("messages") or []
        system = next((m.get("content") or "" for m in messages if m.get("role") == "system"), "")
        if system.startswith("You review flashcards"):
            continue
        user = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
        out.append(source_text(user))
    return out
