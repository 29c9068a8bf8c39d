"""Figure cards into the collection's media: the figures the job's cards show are written with
``col.media.write_data`` (named by their content hash, so an image used twice is stored once),
before the notes are added. Only cards that will be added get their figure written."""
from typing import List, Sequence

from ..cards.card import CLOZE, Card
from ..cards.sanitize import sanitize_html
from ..job.images import FigureStore, figure_html


def _set_figure(card: Card, old: str, new: str) -> None:
    """Point the card's first field at ``new`` instead of ``old`` ("" removes the figure)."""
    field = "text" if card.kind == CLOZE else "front"
    html = getattr(card, field)
    html = html.replace(figure_html(old), figure_html(new) if new else "")
    setattr(card, field, sanitize_html(html, images={new} if new else frozenset()))
    card.figure = new


def write_figures(col, cards: Sequence[Card], store: FigureStore) -> List[str]:
    """Write the figures of ``cards`` into the media folder; returns messages about cards whose
    figure could not be written (they keep their text, without the figure)."""
    messages: List[str] = []
    for card in cards:
        name = card.figure
        if not name:
            continue
        data = store.get(name)
        if data is None:
            _set_figure(card, name, "")
            messages.append("A card's figure was no longer available; the card is added without it.")
            continue
        try:
            actual = col.media.write_data(name, data)
        except Exception as err:
            _set_figure(card, name, "")
            messages.append(f"A card's figure could not be saved in the collection ({type(err).__name__}); "
                            "the card is added without it.")
            continue
        if actual != name:
            _set_figure(card, name, actual)
    return list(dict.fromkeys(messages))


def cards_to_add(cards: Sequence[Card], skip_duplicates: bool) -> List[Card]:
    """The cards ``notes.add_cards`` will add (after ``notes.mark_duplicates``)."""
    return [c for c in cards if not (skip_duplicates and c.duplicate)]


def add_figures(col, cards: Sequence[Card], target, skip_duplicates: bool, store: FigureStore) -> List[str]:
    """Before ``notes.add_cards(col, cards, target, skip_duplicates)``: write the figures of the
    cards it will add. Returns messages for the user."""
    if not any(c.figure for c in cards):
        return []
    from ..notes.add import mark_duplicates

    mark_duplicates(col, cards, target)
    return write_figures(col, cards_to_add(cards, skip_duplicates), store)
