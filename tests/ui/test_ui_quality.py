"""Card quality in the real app: the depth choice in both dialogs; the card checks'
flags in the review table's Status column with the reason on hover; flagged rows unchecked; a
card the rewrite pass rewrote marked "Rewritten" with the original on hover. Also the README's
screenshot of flagged cards (docs/review-flagged.png with OF_SCREENSHOTS=1)."""
import pytest

from fake_ollama import Reply, review_cards
from dialogs import TEXT, generate, open_dialog

CARDS = [
    {"front": "What does photosynthesis turn light energy into?", "back": "Chemical energy.",
     "n": 2},
    {"front": "Does chlorophyll absorb red and blue light most strongly?", "back": "Yes.",
     "n": 5},
    {"front": "What does it release as a by-product?", "back": "Oxygen.",
     "n": 3},
    {"front": "What does the Calvin cycle do?", "back": "It uses ATP and NADPH to fix carbon dioxide "
     "into sugar molecules; the ATP and the NADPH come from the first stage, and the sugar molecules that the cycle "
     "makes are used by the whole plant.",
     "n": 6},
    {"front": "In which organelles does photosynthesis happen?", "back": "In the chloroplasts.",
     "n": 4},
]
REWRITE = {"front": "Which colours of light does chlorophyll absorb most strongly?", "back": "Red and blue light."}


def run_with_flags(app, server, **config):
    dlg = open_dialog(app, server.url, max_cards=0, self_review="flagged", **config)
    dlg.source.edit.setPlainText(TEXT)
    # the yes/no card is rewritten, the others the checks flagged are kept as they are
    server.script(Reply.cards(CARDS), Reply.review({"1": REWRITE, "2": "keep", "3": "keep"}))
    generate(app, dlg)
    return dlg


@pytest.mark.timeout(60)
def test_flags_rewrites_and_unchecked_rows_in_the_review_table(anki_app, server):
    dlg = run_with_flags(anki_app, server)
    table = dlg.table
    cards = table.cards
    assert [c.front for c in cards][:2] == [CARDS[0]["front"], REWRITE["front"]]
    sent = review_cards(server.chat_bodies()[-1]["messages"][1]["content"])
    assert [c["front"] for c in sent] == [CARDS[1]["front"], CARDS[2]["front"], CARDS[3]["front"]]
    review = anki_app.module("ui.review")
    marks = [table.marks_of(c) for c in cards]
    assert marks[0] == [] and marks[4] == []
    assert marks[1] == ["Rewritten"]
    assert "Missing context" in marks[2]
    assert "Answer too long" in marks[3] or "Several facts" in marks[3]
    checked = [table.is_checked(i) for i in range(len(cards))]
    assert checked == [True, True, False, False, True]  # flagged rows wait unchecked
    tip = table.item(2, review.COL_MARKS).toolTip()
    assert "“it” refers to something the card does not name" in tip
    tip = table.item(1, review.COL_MARKS).toolTip()
    assert "Before: " + CARDS[1]["front"] in tip and "yes/no" in tip
    assert dlg.add_btn.text() == "Add 3 cards"
    anki_app.resize(dlg, 1000, 680)
    anki_app.screenshot(dlg, "review-flagged")
    dlg.close()


@pytest.mark.timeout(60)
def test_flagged_rows_stay_checked_when_the_setting_is_off(anki_app, server):
    dlg = run_with_flags(anki_app, server, uncheck_flagged=False)
    assert all(dlg.table.is_checked(i) for i in range(len(dlg.table.cards)))
    assert "Missing context" in dlg.table.marks_of(dlg.table.cards[2])
    dlg.close()


@pytest.mark.timeout(60)
def test_depth_choice_reaches_the_prompt_and_is_remembered(anki_app, server):
    dlg = open_dialog(anki_app, server.url, max_cards=0, self_review="off")
    combo = dlg.options.depth_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["Key ideas", "Every fact", "Exhaustive"]
    assert combo.currentText() == "Every fact"
    combo.setCurrentIndex(combo.findText("Key ideas"))
    dlg.source.edit.setPlainText(TEXT)
    generate(anki_app, dlg)
    assert "key idea" in server.chat_bodies()[-1]["messages"][1]["content"]
    assert anki_app.config()["depth"] == "key_ideas"
    dlg.close()
    bulk = open_bulk(anki_app, server.url)
    assert bulk.options.depth_combo.currentText() == "Key ideas"
    assert bulk.spec().options.depth == "key_ideas"
    bulk.close()


def open_bulk(app, url):
    app.write_config(url=url)
    app.tools_action("Bulk Generate from Files…").trigger()
    dlg = app.wait_for_window(app.module("ui.bulk").BulkDialog)
    app.wait_until(dlg.idle, 10, "the dialog did not settle")
    return dlg
