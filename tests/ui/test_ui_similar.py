"""Duplicates by meaning in the real Anki app (headless): the notes' embeddings are built in the
background (one build at a time), the settings offer the server's embedding models, and the
review table shows "Similar to: …" and unchecks those rows."""
import aqt
import pytest

from fake_ollama import FakeOllama, Reply
from dialogs import generate, open_dialog

EMBED = "all-minilm:latest"
NOTE = "Which gas do plants take in for photosynthesis?"
TEXT = ("Green plants take in carbon dioxide from the air for photosynthesis. "
        "The oxygen that plants release comes from splitting water molecules.")


@pytest.fixture
def embed_server():
    with FakeOllama(models=("llama3.2:latest", "llama3.2", EMBED), embedding_models=(EMBED, "all-minilm")) as srv:
        yield srv


def add_note(app, front, back="x"):
    col = app.col
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"], note["Back"] = front, back
    col.add_note(note, col.decks.id("Default"))
    return note.id


def built(app):
    cache = app.module("ui.similar_cache").CACHE
    app.wait_until(lambda: not cache.building, 30, "the notes' embeddings were not built")
    assert not cache.last_error, cache.last_error
    return cache


@pytest.mark.timeout(120)
def test_similar_cards_are_marked_and_unchecked(anki_app, embed_server):
    nid = add_note(anki_app, NOTE)
    anki_app.write_config(url=embed_server.url, embed_model=EMBED, similarity_threshold=0.6,
                          skip_similar=True)
    cache = anki_app.module("ui.similar_cache").CACHE
    settings = anki_app.module("ui.common").get_settings()
    assert cache.start_build(settings)
    assert not cache.start_build(settings)  # at most one build at a time
    built(anki_app)
    assert NOTE in embed_server.embedded and "x" not in embed_server.embedded
    assert list((anki_app.addon_folder / "user_files" / "embeddings").glob("*.emb"))

    dlg = open_dialog(anki_app, embed_server.url, embed_model=EMBED, similarity_threshold=0.6)
    embed_server.script(Reply.cards([
        {"front": "Which gas is taken in by green plants for photosynthesis?", "back": "Carbon dioxide",
         "quote": "Green plants take in carbon dioxide from the air"},
        {"front": "Where does the oxygen released by plants come from?", "back": "From splitting water",
         "quote": "The oxygen that plants release comes from splitting water molecules"}]))
    dlg.source.edit.setPlainText(TEXT)
    generate(anki_app, dlg)
    cards = dlg.table.cards
    assert len(cards) == 2, dlg.message.text()
    similar = next(c for c in cards if c.similar_to is not None)
    other = next(c for c in cards if c.similar_to is None)
    assert similar.similar_to.note_id == nid
    assert dlg.table.marks_of(similar) == ["Similar to: " + NOTE]  # a rephrasing, no duplicate
    assert not dlg.table.is_checked(dlg.table.row_of(similar))
    assert dlg.table.is_checked(dlg.table.row_of(other))
    assert "1 card is similar in meaning" in dlg.message.text()
    review = anki_app.module("ui.review")
    tip = dlg.table.item(dlg.table.row_of(similar), review.COL_MARKS).toolTip()
    assert "Note %d asks this in other words" % nid in tip
    assert dlg.add_btn.text() == "Add 1 card"
    dlg.reject()


@pytest.mark.timeout(120)
def test_without_an_embedding_model_nothing_is_compared(anki_app, embed_server):
    anki_app.write_config(url=embed_server.url, embed_model="")
    dlg = open_dialog(anki_app, embed_server.url, embed_model="")
    dlg.source.edit.setPlainText(TEXT)
    generate(anki_app, dlg)
    assert dlg.table.cards and all(c.similar_to is None for c in dlg.table.cards)
    assert not embed_server.embedded
    dlg.reject()


@pytest.mark.timeout(120)
def test_settings_offer_the_servers_embedding_models_and_start_the_build(anki_app, embed_server):
    anki_app.write_config(url=embed_server.url, embed_model="")
    settings = anki_app.module("ui.settings")
    dlg = settings.SettingsDialog(anki_app.mw)
    dlg.show()
    assert [dlg.embed_model.itemText(i) for i in range(dlg.embed_model.count())] == ["Off"]
    dlg.test_btn.click()
    anki_app.wait_until(lambda: dlg.embed_model.count() > 1, 10, "no embedding models offered")
    assert [dlg.embed_model.itemData(i) for i in range(dlg.embed_model.count())] == ["", EMBED]
    assert EMBED not in [dlg.model.itemText(i) for i in range(dlg.model.count())]
    dlg.embed_model.setCurrentIndex(1)
    dlg.widget("similarity_threshold").setValue(0.7)
    cache = anki_app.module("ui.similar_cache").CACHE
    builds = cache.builds
    dlg.buttons.button(aqt.qt.QDialogButtonBox.StandardButton.Save).click()
    cfg = anki_app.config()
    assert cfg["embed_model"] == EMBED and cfg["similarity_threshold"] == 0.7
    assert cache.builds == builds + 1  # switching it on starts the build
    built(anki_app)
    anki_app.write_config(embed_model="")


@pytest.mark.timeout(60)
def test_a_server_without_embedding_models_offers_only_off(anki_app, server):
    anki_app.write_config(url=server.url, embed_model="")
    dlg = anki_app.module("ui.settings").SettingsDialog(anki_app.mw)
    dlg.show()
    dlg.test_btn.click()
    anki_app.wait_until(lambda: dlg.test_btn.isEnabled() and dlg.test_label.text(), 10)
    assert [dlg.embed_model.itemText(i) for i in range(dlg.embed_model.count())] == ["Off"]
    dlg.reject()
