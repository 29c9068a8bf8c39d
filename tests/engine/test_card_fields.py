"""Model answers become card fields (generator/cards/fields.py): characters no note can store,
oversized fields, Anki's own markup, blank sides and blank cloze deletions. Through the real
fake server and a real collection: what a user would find in their notes after adding."""
import json
import time
import tracemalloc

import pytest

from engine_fixtures import backend_for
from fake_ollama import Reply
from generator.job.answers import build_cards
from generator.cards.card import Card, SourceRef
from generator.cards.fields import (BACK_LIMIT, FRONT_LIMIT, clean_chars, cut_visible, is_blank,
                                    says_nothing, visible_text)
from generator.job.chunk import Chunk
from generator.errors import InvalidAnswer
from generator.job.run import JobOptions, run_job
from generator.notes.add import NoteTarget, add_cards

CHUNK = Chunk("c1", "notes.md", "Plants turn light into sugar in their leaves. Chlorophyll is green.")
UNSTORABLE = ["\ud800", "\udfff", "\ufffe", "\uffff", "\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff",
              "\x00", "\x1b", "\x07", "\x7f", "\x85", "\x9b"]


def answer(*cards):
    return json.dumps({"cards": list(cards)})


def stored_notes(col):
    return [col.get_note(nid) for nid in col.find_notes("")]


def all_text(note):
    return "\x1f".join(note.fields) + " ".join(note.tags)


# --- characters no note can store -----------------------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["basic", "cloze"])
def test_unstorable_characters_cost_no_card(server, backend, col, kind):
    """Each card carries one kind of bad character (in every field, through the real HTTP stream
    as JSON escapes): every card is added, and no stored field holds any of them."""
    items = []
    for i, bad in enumerate(UNSTORABLE):
        if kind == "cloze":
            items.append({"text": "Fact %d: the {{c1::leaf%s}} makes sugar" % (i, bad),
                          "extra": "extra%s %d" % (bad, i), "quote": "Plants turn%s light" % bad})
        else:
            items.append({"front": "Question %d%s about leaves?" % (i, bad), "back": "Answer%s %d" % (bad, i),
                          "quote": "Plants turn%s light" % bad})
    server.script(Reply(content=answer(*items)))
    result = run_job([CHUNK], backend, JobOptions(model="llama3.2", kind=kind, max_cards=len(items)))
    assert not result.failures and len(result.cards) == len(UNSTORABLE)
    added = add_cards(col, result.cards, NoteTarget("Deck", kind), skip_duplicates=False)
    assert len(added.note_ids) == len(UNSTORABLE) and not added.skipped
    for note in stored_notes(col):
        text = all_text(note)
        assert not any(bad in text for bad in UNSTORABLE), repr(text)
    assert json.loads(json.dumps([c.to_json() for c in result.cards], ensure_ascii=False).encode("utf-8"))


def test_clean_chars_keeps_text_and_joins_split_pairs():
    assert clean_chars("Grüße, 😀 \t tab\nline") == "Grüße, 😀 \t tab\nline"
    assert clean_chars("a\ud83d\ude00b") == "a😀b"  # a pair written as two code points
    assert clean_chars("a\ud83db\ude00c") == "abc"  # both halves alone
    assert clean_chars("x\r\ny\rz") == "x\ny\nz"
    assert clean_chars("-".join(UNSTORABLE)) == "-" * (len(UNSTORABLE) - 1)
    assert clean_chars("\ud800\udfff") == "\U000103ff"  # adjacent halves are a pair


@pytest.mark.timeout(60)
def test_one_card_the_collection_refuses_costs_only_itself(col, monkeypatch):
    """Bypass the cleaning so a lone surrogate really reaches Anki: add_notes refuses the batch,
    the notes are then added one by one and only that card is skipped, with why."""
    import generator.notes.add as notes

    monkeypatch.setattr(notes, "clean_chars", lambda text: text)
    cards = [Card("basic", front="Q%d" % i, back="A%d" % i, source=SourceRef("doc")) for i in range(5)]
    cards[2].back = "bad \ud800 back"
    result = add_cards(col, cards, NoteTarget("D"))
    assert len(result.note_ids) == 4
    assert [(c.front, "could not be added" in why) for c, why in result.skipped] == [("Q2", True)]
    assert sorted(n["Front"] for n in stored_notes(col)) == ["Q0", "Q1", "Q3", "Q4"]
    assert col.undo_status().undo == "Generate Flashcards"  # still one undo step
    col.undo()
    assert col.note_count() == 0


def test_cards_from_an_old_journal_are_cleaned_when_added(col):
    """Cards not made by build_cards (a journal, an edit) are cleaned on their way into a note:
    fields, the source line, tags and the deck name."""
    cards = [Card("basic", front="Q\ud800", back="A\x00", source=SourceRef("file\udcff.txt", "p. 1\ufffe")),
             Card("basic", front="Fine", back="Also fine", source=SourceRef("ok.txt"), tags=["t\ud800ag"])]
    result = add_cards(col, cards, NoteTarget("Deck\udc80"))
    assert len(result.note_ids) == 2
    for note in stored_notes(col):
        assert "\ud800" not in all_text(note) and "\udcff" not in all_text(note) and "\x00" not in all_text(note)
    assert col.decks.id_for_name("Deck") is not None


# --- field length ----------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_huge_fields_are_cut_with_a_marker_and_a_note(server, col):
    long_front = "Why " + "very " * 2000 + "long?"
    huge_back = "word " * 2_000_000  # 10 MB
    server.script(Reply(content=answer({"front": long_front, "back": "short", "quote": "x"},
                                       {"front": "Huge back?", "back": huge_back, "quote": "x"},
                                       {"front": "Normal?", "back": "Yes, it is.", "quote": "x"}), pieces=50))
    # An answer this long passes only with the answer caps raised (by default it stops at
    # 1,000,000 characters, tests/engine/test_hostile_server.py); here the field cut is under test.
    backend = backend_for(server.url, max_answer_chars=20_000_000, max_answer_mb=64)
    result = run_job([CHUNK], backend, JobOptions(model="llama3.2", max_cards=3))
    backend.close()
    first, second, third = result.cards
    assert len(visible_text(first.front)) <= FRONT_LIMIT + 5 and first.front.endswith("[…]")
    assert "front was 10,009 characters long; it was cut to 2,000" in first.warnings[0]
    assert len(visible_text(second.back)) <= BACK_LIMIT + 5 and second.back.endswith("[…]")
    assert "back was 10,000,000 characters long" in second.warnings[0]
    assert not third.warnings
    assert [w.kind.value for w in result.warnings] == ["field_cut", "field_cut"]
    assert "Huge back?" in result.warnings[1].message
    added = add_cards(col, result.cards, NoteTarget("D"))
    assert len(added.note_ids) == 3
    assert max(len(n["Back"]) for n in stored_notes(col)) < 3 * BACK_LIMIT


@pytest.mark.timeout(60)
def test_a_50_mb_field_costs_bounded_memory_and_time():
    """A model that writes a 52 MB answer field: the work after parsing the answer is bounded by
    the field limit, not by the field's size (copying and cleaning the whole field would peak
    near a gigabyte)."""
    content = answer({"front": "Big?", "back": "<b>x</b> " * 6_000_000, "quote": "x"})  # 54 MB
    start = time.monotonic()
    cards = build_cards(content, CHUNK, "basic", 3)
    assert time.monotonic() - start < 10  # (a busy 2-core machine; about 0.5 s alone)
    assert len(visible_text(cards[0].back)) <= BACK_LIMIT + 5
    tracemalloc.start()
    try:
        build_cards(content, CHUNK, "basic", 3)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # json.loads holds the answer's value (54 MB) once more; anything beyond is the field work.
    assert peak < 1.6 * len(content), peak


@pytest.mark.parametrize("html, limit", [
    ("<b>bold words here</b> " * 500, 100),
    ("&amp;" * 5000, 100),
    ("<ul>" + "<li>item text</li>" * 1000 + "</ul>", 50),
    ("x" * 5000, 100),
    ("<table><tr>" + "<td>cell</td>" * 800 + "</tr></table>", 70),
])
def test_cut_keeps_markup_balanced_and_entities_whole(html, limit):
    from generator.cards.formatting import to_field_html
    from generator.cards.sanitize import sanitize_html

    field = to_field_html(html)
    cut, length = cut_visible(field, limit)
    assert length > limit
    assert len(visible_text(cut)) <= limit + 3
    assert sanitize_html(cut) == cut  # balanced and within the allow-list
    assert cut.count("&") == cut.count(";") or "&amp;" not in field


# --- Anki's own markup -------------------------------------------------------------------------

MARKUP = ["[sound:evil.mp3]", "[SOUND:Evil.MP3]", "[anki:tts lang=en_US]read me aloud[/anki:tts]",
          "[anki:play:q:0]", "[latex]\\immediate\\write18{id}[/latex]", "[$]x^2[/$]", "[$$]y[/$$]"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["basic", "reversed", "cloze"])
def test_anki_markup_in_model_text_is_shown_not_played(server, backend, col, kind):
    items = []
    for i, tag in enumerate(MARKUP):
        if kind == "cloze":
            items.append({"text": "Card %d says %s and {{c1::%s leaf}}" % (i, tag, tag), "extra": tag, "quote": "x"})
        else:
            items.append({"front": "Card %d: %s?" % (i, tag), "back": "Back %s %d" % (tag, i), "quote": "x"})
    server.script(Reply(content=answer(*items)))
    result = run_job([CHUNK], backend, JobOptions(model="llama3.2", kind=kind, max_cards=len(items)))
    assert len(result.cards) == len(MARKUP)
    added = add_cards(col, result.cards, NoteTarget("D", kind), skip_duplicates=False)
    assert len(added.note_ids) == len(MARKUP)
    cards = [col.get_card(cid) for nid in added.note_ids for cid in col.card_ids_of_note(nid)]
    assert len(cards) >= len(MARKUP)
    for card in cards:
        question, answer_html = card.question(), card.answer()
        assert card.question_av_tags() == [] and card.answer_av_tags() == [], question
        for html in (question, answer_html):
            assert "[sound:" not in html.lower() and "[anki:" not in html and "latex-" not in html
        # shown as text ([$]…[/$] is TeX that formatting turned into MathJax: harmless)
        assert any(t in answer_html.lower() for t in ("sound:", "anki:", "latex", "\\(", "\\["))
    # The check can fail: the same text stored raw is played.
    nt = col.models.by_name("Basic")
    raw = col.new_note(nt)
    raw["Front"], raw["Back"] = "Raw [sound:evil.mp3]", "[anki:tts lang=en_US]hi[/anki:tts]"
    col.add_note(raw, col.decks.id("Raw"))
    control = col.get_card(raw.card_ids()[0])
    assert control.question_av_tags() and control.answer_av_tags()


# --- blank sides -----------------------------------------------------------------------------

BLANKS = ["<b> </b>", "<b></b>\u200b", "&nbsp;", "<br>", "<br><br>&nbsp;<i> </i>", "\u200e\u200f\u2060",
          "\u3164", "\u0301\u0301", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
          "<p>\ufeff</p>", "\u00ad", "<span>&#8203;</span>"]


@pytest.mark.parametrize("blank", BLANKS)
def test_a_side_a_reader_sees_as_empty_drops_the_card(blank):
    content = answer({"front": "Real question?", "back": blank, "quote": "x"},
                     {"front": blank, "back": "Real answer", "quote": "x"},
                     {"front": "Kept?", "back": "0", "quote": "x"})
    cards = build_cards(content, CHUNK, "basic", 5)
    assert [(c.front, c.back) for c in cards] == [("Kept?", "0")]


def test_visible_text_counts_letters_digits_punctuation_symbols():
    assert not is_blank("?") and not is_blank("<b>0</b>") and not is_blank("→") and not is_blank("日本")
    assert is_blank("") and all(is_blank(b) for b in ("<b> </b>", "&nbsp;\u200b", "\u2800"))


# A side made only of punctuation, symbols and markup says nothing: Markdown bold around spaces
# (left as "**  **"), an empty code span, ellipses, arrows, a lone question mark, a rule...
SAYS_NOTHING = ["**  **", "** **", "__ __", "``  ``", "*", "...", "…", "?", "¿?", "→", "—", "- - -",
                "***", "# ", "> ", "$ $", "()", "[]", "«»", "<b>?</b>", "&amp;", "&#8230;",
                "**&nbsp;**", "💡", "✓", "¡!"]
# ... and one letter or digit of any script is enough.
SAYS_SOMETHING = ["0", "x", "**x**", "Ω", "日", "ж", "٣", "½", "ǅ", "2+2", "C++", "…a", "**1**"]


@pytest.mark.parametrize("side", SAYS_NOTHING)
def test_a_side_with_no_letter_or_digit_drops_the_card(side):
    content = answer({"front": "Real question?", "back": side, "quote": "x"},
                     {"front": side, "back": "Real answer", "quote": "x"},
                     {"front": "Kept?", "back": "0", "quote": "x"})
    cards = build_cards(content, CHUNK, "basic", 5)
    assert [(c.front, c.back) for c in cards] == [("Kept?", "0")]
    # A cloze made of such text, or whose only deletion is such text, is no card either; as an
    # extra it is left out.
    with pytest.raises(InvalidAnswer):
        build_cards(answer({"text": "{{c1::%s}} %s" % (side, side), "quote": "x"}), CHUNK, "cloze", 5)
    card = build_cards(answer({"text": "Leaves are {{c1::green}}", "extra": side, "quote": "x"}),
                       CHUNK, "cloze", 5)[0]
    assert card.extra == ""


@pytest.mark.parametrize("side", SAYS_SOMETHING)
def test_a_side_with_one_letter_or_digit_of_any_script_is_a_card(side):
    cards = build_cards(answer({"front": "Q? " + side, "back": side, "quote": "x"}), CHUNK, "basic", 5)
    assert len(cards) == 1
    assert says_nothing(cards[0].back) is False


def test_a_cloze_deletion_of_a_symbol_in_a_sentence_is_still_a_card():
    card = build_cards(answer({"text": "2 {{c1::+}} 2 = 4", "quote": "x"}), CHUNK, "cloze", 5)[0]
    assert card.text == "2 {{c1::+}} 2 = 4"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("backend_name", ["ollama", "openai"])
def test_a_punctuation_side_never_becomes_a_note(server, col, backend_name):
    """Through the server and the add: the note a user would have found (question "**")."""
    server.script(Reply(content=answer({"front": "**  **", "back": "Sugar", "quote": "x"},
                                       {"front": "What do leaves make?", "back": "**  **", "quote": "x"},
                                       {"front": "What colour is chlorophyll?", "back": "Green",
                                        "quote": "Chlorophyll is green."})))
    backend = backend_for(server.url, backend=backend_name, response_format="json_schema")
    result = run_job([CHUNK], backend, JobOptions(model="llama3.2", max_cards=3))
    backend.close()
    added = add_cards(col, result.cards, NoteTarget("D"))
    assert len(added.note_ids) == 1
    assert [n["Front"] for n in stored_notes(col)] == ["What colour is chlorophyll?"]


# --- cloze validity after sanitizing -------------------------------------------------------------

@pytest.mark.parametrize("deletion", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                                      "<b></b>\u200b", "&nbsp;", "<style>x{}</style>", "<svg><g/></svg>"])
def test_a_cloze_whose_only_deletion_held_nothing_visible_is_not_stored(deletion):
    content = answer({"text": "The {{c1::%s}} is here" % deletion, "quote": "x"})
    with pytest.raises(InvalidAnswer):
        build_cards(content, CHUNK, "cloze", 5)
    # ... and the empty deletion never reaches a card next to a good one.
    content = answer({"text": "The {{c1::%s}} and {{c2::chlorophyll}} are green" % deletion, "quote": "x"})
    card = build_cards(content, CHUNK, "cloze", 5)[0]
    assert card.text == "The  and {{c1::chlorophyll}} are green"


def test_an_emptied_cloze_is_rescued_from_its_answer(col):
    content = answer({"text": "The {{c1::<script>x</script>}} leaf is green", "back": "leaf", "quote": "x"})
    card = build_cards(content, CHUNK, "cloze", 5)[0]
    assert card.text == "The  {{c1::leaf}} is green"
    added = add_cards(col, [card], NoteTarget("D", "cloze"))
    assert len(added.note_ids) == 1
    note = col.get_note(added.note_ids[0])
    assert note.fields_check() == 0 and "{{c1::}}" not in note.fields[0]
