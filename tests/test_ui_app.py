"""The add-on inside the real Anki main window (headless)."""
import sys
import time


def test_anki_starts_with_the_addon(anki_app):
    mw = anki_app.mw
    assert mw.col is not None and mw.state == "deckBrowser"
    assert "ollama_flashcards" in sys.modules
    assert anki_app.tools_action("Generate Flashcards…").isEnabled()
    assert anki_app.tools_action("Bulk Generate from Files…")


def test_generate_action_has_the_configured_shortcut(anki_app):
    action = anki_app.tools_action("Generate Flashcards…")
    assert action.shortcut().toString() == anki_app.config()["shortcut"]


def test_each_test_gets_a_clean_config(anki_app):
    assert anki_app.config()["model"] == "llama3.2"
    anki_app.write_config(model="changed")
    assert anki_app.config()["model"] == "changed"
