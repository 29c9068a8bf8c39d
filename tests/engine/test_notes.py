"""Cards into a real Anki collection: note types by kind, fields, deck, tags, duplicates, undo."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.cards.card import Card, SourceRef
from generator.errors import CollectionError
from generator.notes.add import UNDO_LABEL, NoteTarget, add_cards, mark_duplicates


def basic(front, back, grounded=True):
    return Card(kind="basic", front=front, back=back, quote="q", grounded=grounded,
                source=SourceRef("ml notes.txt", "page 2", ("Backpropagation", "Process")))


def notes_in(col, deck):
    return [col.get_note(nid) for nid in col.find_notes(f'"deck:{deck}"')]


def test_basic_cards_land_with_fields_deck_tags_and_one_undo_step(col):
    cards = [basic("What does backpropagation compute?", "Gradients of the loss"),
             basic("What rule does backpropagation apply?", "The chain rule", grounded=False)]
    result = add_cards(col, cards, NoteTarget(deck="ML::Neural", kind="basic", tags=["ai", "ollama-flashcards"]))
    assert len(result.note_ids) == 2 and not result.skipped
    notes = notes_in(col, "ML::Neural")
    assert sorted(n["Front"] for n in notes) == sorted(c.front for c in cards)
    note = next(n for n in notes if n["Front"] == cards[0].front)
    assert note.note_type()["originalStockKind"] == 1
    assert note["Back"].startswith("Gradients of the loss<br>")
    assert "Source: ml notes.txt · page 2 · Backpropagation › Process" in note["Back"]
    assert set(note.tags) >= {"ai", "ollama-flashcards", "ollama-flashcards::source::ml_notes.txt"}
    ungrounded = next(n for n in notes if n["Front"] == cards[1].front)
    assert "ollama-flashcards::ungrounded" in ungrounded.tags
    assert col.undo_status().undo == UNDO_LABEL
    col.undo()
    assert col.find_notes('"deck:ML::Neural"') == []
    assert col.decks.id_for_name("ML::Neural") is None


def test_note_types_found_by_kind_not_by_translated_name(col):
    german = {"Basic": "Einfach", "Basic (and reversed card)": "Einfach (mit umgekehrter Karte)",
              "Basic (optional reversed card)": "Einfach (optional umgekehrte Karte)",
              "Basic (type in the answer)": "Einfach (Antwort eintippen)", "Cloze": "Lückentext"}
    for english, name in german.items():
        nt = col.models.by_name(english)
        nt["name"] = name
        col.models.update_dict(nt)
    add_cards(col, [basic("Wie heißt die Hauptstadt von Frankreich?", "Paris")], NoteTarget("Deutsch", "basic"))
    add_cards(col, [Card(kind="reversed", front="Mitochondrium", back="Kraftwerk der Zelle")],
              NoteTarget("Deutsch", "reversed"))
    add_cards(col, [Card(kind="cloze", text="Die {{c1::Mitochondrien}} erzeugen ATP.", extra="Zellbiologie")],
              NoteTarget("Deutsch", "cloze"))
    names = sorted(n.note_type()["name"] for n in notes_in(col, "Deutsch"))
    assert names == ["Einfach", "Einfach (mit umgekehrter Karte)", "Lückentext"]
    reversed_note = next(n for n in notes_in(col, "Deutsch") if n.note_type()["name"].startswith("Einfach ("))
    assert len(reversed_note.cards()) == 2


def test_cloze_back_extra_gets_extra_and_source(col):
    card = Card(kind="cloze", text="ReLU is defined as {{c1::max(0, x)}}.", extra="An activation function",
                source=SourceRef("ml.txt", "", ("Activation Functions",)))
    add_cards(col, [card], NoteTarget("Cloze deck", "cloze"))
    note = notes_in(col, "Cloze deck")[0]
    assert note.note_type()["type"] == 1
    assert note["Text"] == card.text
    assert note["Back Extra"].startswith("An activation function<br>")
    assert "ml.txt · Activation Functions" in note["Back Extra"]


def test_invalid_cloze_is_skipped_not_added(col):
    result = add_cards(col, [Card(kind="cloze", text="No deletion here.")], NoteTarget("C", "cloze"))
    assert result.note_ids == [] and "cloze" in result.skipped[0][1]


def test_user_note_type_with_field_mapping_and_source_field(col):
    nt = col.models.new("Vocab+")
    for name in ("Word", "Meaning", "Example", "Source"):
        col.models.add_field(nt, col.models.new_field(name))
    col.models.add_template(nt, dict(col.models.new_template("Card 1"), qfmt="{{Word}}", afmt="{{Meaning}}"))
    col.models.add(nt)
    target = NoteTarget("Vocab", "basic", notetype="Vocab+", field_mapping={"front": "Word", "back": "Meaning"})
    add_cards(col, [basic("photosynthesis", "making sugar from light")], target)
    note = notes_in(col, "Vocab")[0]
    assert note["Word"] == "photosynthesis" and note["Meaning"] == "making sugar from light"
    assert note["Source"] == "ml notes.txt · page 2 · Backpropagation › Process"
    assert note["Example"] == ""


def test_bad_mapping_is_a_clear_error(col):
    with pytest.raises(CollectionError) as e:
        add_cards(col, [basic("a?", "b")], NoteTarget("X", "basic", notetype="Basic", field_mapping={"front": "Nope"}))
    assert "no field 'Nope'" in e.value.message


def test_duplicates_in_collection_near_and_batch_are_reported_and_skipped(col):
    add_cards(col, [basic("What is ReLU?", "max(0, x)")], NoteTarget("D", "basic"))
    cards = [basic("What is ReLU?", "again"), basic("what is  relu", "near"),
             basic("What is tanh?", "a function"), basic("WHAT IS TANH?!", "batch dupe")]
    mark_duplicates(col, cards, NoteTarget("D", "basic"))
    assert [c.duplicate for c in cards] == ["collection", "near", None, "batch"]
    result = add_cards(col, cards, NoteTarget("D", "basic"))
    assert len(result.note_ids) == 1 and len(result.skipped) == 3
    kept = add_cards(col, [basic("What is ReLU?", "forced")], NoteTarget("D", "basic"), skip_duplicates=False)
    assert len(kept.note_ids) == 1


def test_failure_changes_nothing(col, monkeypatch):
    """A failure that is no single note's fault (every note fails, one by one too)."""
    before = col.note_count()

    def boom(*args):
        raise RuntimeError("the backend is broken")

    monkeypatch.setattr(col, "add_notes", boom)
    monkeypatch.setattr(col, "add_note", boom)
    with pytest.raises(CollectionError) as e:
        add_cards(col, [basic("Q?", "A")], NoteTarget("Brand new deck", "basic"))
    assert "Nothing was changed" in e.value.hint
    assert col.note_count() == before
    assert col.decks.id_for_name("Brand new deck") is None


def test_stock_types_are_found_by_shape_when_their_labels_are_off(col):
    """Anki 23.10 labels 'Basic (and reversed card)' as kind 1 and 'optional reversed' as 2."""
    labels = {"Basic (and reversed card)": 1, "Basic (optional reversed card)": 2, "Basic (type in the answer)": 3}
    for name, label in labels.items():
        nt = col.models.by_name(name)
        nt["originalStockKind"] = label
        col.models.update_dict(nt)
    add_cards(col, [Card(kind="reversed", front="Mitochondrion", back="Powerhouse of the cell")],
              NoteTarget("Shapes", "reversed"))
    add_cards(col, [basic("What is the powerhouse of the cell?", "The mitochondrion")], NoteTarget("Shapes", "basic"))
    notes = notes_in(col, "Shapes")
    by_kind = {len(n.cards()): n.note_type()["name"] for n in notes}
    assert by_kind == {2: "Basic (and reversed card)", 1: "Basic"}


def test_deleted_stock_type_is_recreated(col):
    nt = col.models.by_name("Basic (and reversed card)")
    col.models.remove(nt["id"])
    add_cards(col, [Card(kind="reversed", front="ATP", back="adenosine triphosphate")], NoteTarget("R", "reversed"))
    note = notes_in(col, "R")[0]
    assert len(note.cards()) == 2


_PLAIN_CHARS = st.characters(blacklist_characters="<&")  # every other character, controls too


@settings(max_examples=1500, deadline=None)
@given(st.text(_PLAIN_CHARS, max_size=60)
       | st.lists(st.sampled_from(["a", " ", "\xa0", "\t", "\r\n", ">", '"', "'", "\x00", "\x85",
                                   "\u2028", "\ufdd0", "\udc80", "é", "{{c1::x}}", ";", "#"]),
                  max_size=20).map("".join))
def test_plain_key_skips_the_parser_only_where_it_gives_the_same_key(text):
    """Text with no markup takes the short way; its key is the one the HTML parser gives."""
    from generator.cards.sanitize import html_to_text
    from generator.images.safety import figure_key
    from generator.notes.add import plain_key

    assert plain_key(text) == html_to_text(text).strip() + figure_key(text)


def test_the_source_line_is_written_and_taken_off_whole_wherever_it_stands():
    from generator.notes.add import source_line, strip_source_line

    line = source_line(SourceRef("ml notes.txt", "page 2"))
    assert line.startswith('<div class="ollama-flashcards-source"><small>Source: ml notes.txt')
    assert source_line(SourceRef("")) == ""
    assert strip_source_line("Gradients<br>" + line) == ("Gradients", "<br>" + line)
    marked = line.replace("<small>", '<small data-ollama-flashcards="0123abcd.89abcdef.01234567">')
    assert strip_source_line("Gradients<br>" + marked + " of the loss") == ("Gradients of the loss",
                                                                            "<br>" + marked)
    assert strip_source_line("No line here") == ("No line here", "")
