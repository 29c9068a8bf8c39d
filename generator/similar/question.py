"""The question of a note (or of a new card) as plain text: what duplicates by meaning compare.

Only the fields that hold the question are used: those the note type's first card template
shows on its front (``{{Front}}``, ``{{cloze:Text}}``, ``{{text:Question}}`` ...), else the first
field. Cloze deletions are read as their answers ("{{c1::Mitochondria}} make ATP" ->
"Mitochondria make ATP"). Image occlusion notes have no question text and are left out."""
import re
from typing import Any, Dict, List, Sequence, Tuple

from ..cards.card import CLOZE, Card
from ..notes.add import STOCK_IMAGE_OCCLUSION, plain_key

MAX_CHARS = 1000  # a question is short; longer fields are cut before embedding
SPECIAL_FIELDS = frozenset({"FrontSide", "Tags", "Type", "Deck", "Subdeck", "Card", "CardFlag",
                            "CardID"})
_REFERENCE = re.compile(r"\{\{([^{}]+)\}\}")
_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::[^{}]*?)?\}\}", re.DOTALL)


def question_fields(notetype: Dict[str, Any]) -> List[int]:
    """Indexes of the fields the note type's first template asks with ([] = none to compare)."""
    if notetype.get("originalStockKind") == STOCK_IMAGE_OCCLUSION:
        return []
    names = [str(f.get("name") or "") for f in notetype.get("flds") or []]
    if not names:
        return []
    templates = notetype.get("tmpls") or []
    front = str(templates[0].get("qfmt") or "") if templates else ""
    found: List[int] = []
    for ref in _REFERENCE.findall(front):
        ref = ref.strip()
        if ref[:1] in "#^/!":
            continue  # sections are conditions, not what is shown
        name = ref.rsplit(":", 1)[-1].strip()  # cloze:Text, text:Front, type:Back
        if ref.startswith("type:"):
            continue
        if name in SPECIAL_FIELDS or name not in names:
            continue
        index = names.index(name)
        if index not in found:
            found.append(index)
    return found or [0]


def plain(html_text: str) -> str:
    """Plain text of a field, cloze deletions read as their answers, spaces folded, cut short."""
    return plain_key(_CLOZE.sub(r"\1", html_text))[:MAX_CHARS]


def note_question(fields: Sequence[str], indexes: Sequence[int]) -> str:
    return " / ".join(t for t in (plain(fields[i]) for i in indexes if i < len(fields)) if t)


def card_question(card: Card) -> str:
    return plain(card.text if card.kind == CLOZE else card.front)


def collection_questions(col: Any) -> List[Tuple[int, str]]:
    """(note id, question text) of every note with a question, in one query (run it where
    collection work belongs: a background QueryOp in Anki)."""
    fields_of: Dict[int, List[int]] = {}
    for entry in col.models.all_names_and_ids():
        nt = col.models.get(entry.id)
        if nt is not None:
            fields_of[int(nt["id"])] = question_fields(nt)
    out: List[Tuple[int, str]] = []
    for nid, mid, flds in col.db.all("select id, mid, flds from notes"):
        indexes = fields_of.get(int(mid))
        if not indexes:
            continue
        text = note_question(flds.split("\x1f"), indexes)
        if text:
            out.append((int(nid), text))
    return out
