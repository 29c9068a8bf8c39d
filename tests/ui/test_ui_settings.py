"""The settings dialog in the real app: every key of ``Settings`` has a control (or is on the
documented list of keys set elsewhere), a value of every control comes back as it was stored,
Save stores what the form shows, Restore defaults shows the defaults, and Advanced… edits every
key as JSON."""
import re
from pathlib import Path

import aqt
import pytest

ROOT = Path(__file__).resolve().parents[2]

# A value other than the default for every key with a control (the test fails for a new key
# until it is given one here, so each control is checked both ways).
OTHER = {
    "backend": "openai", "url": "http://127.0.0.1:9", "api_key": "sk-abc",
    "response_format": "json_object", "connect_timeout": 7.5, "read_timeout": 120,
    "parallel_requests": 3, "busy_retries": 5, "busy_backoff": 1.5, "request_deadline": 600,
    "max_answer_mb": 8.25, "max_answer_chars": 200000,
    "model": "qwen3:4b", "temperature": 0.7, "num_ctx": 8192, "num_predict": 1024, "seed": 42,
    "keep_alive": "1h", "figures": "slides", "max_images_per_request": 2,
    "card_kind": "cloze", "note_type": "Basic", "deck": "Biology", "tags": ["a", "b"],
    "language": "German", "max_cards": 12, "prompt_additions": "Ask about dates.",
    "skip_duplicates": False, "embed_model": "all-minilm", "similarity_threshold": 0.75,
    "skip_similar": False, "depth": "exhaustive", "self_review": "all", "uncheck_flagged": False,
    "bulk_mode": "review", "bulk_skip_known": False, "bulk_flagged": "skip",
    "source_max_mb": 50, "source_read_seconds": 60, "pdf_page_seconds": 5, "pdf_page_mb": 4,
    "shortcut": "Ctrl+Alt+F", "log_content": True,
}


def open_settings(app):
    dlg = app.module("ui.settings").SettingsDialog(app.mw)
    dlg.show()
    return dlg


def test_every_key_has_a_control_or_is_on_the_documented_list(anki_app):
    config = anki_app.module("generator.config")
    pages = anki_app.module("ui.settings_pages")
    dlg = open_settings(anki_app)
    keys = set(config.Settings.keys())
    with_control = set(dlg.form.keys())
    assert with_control | set(pages.NO_CONTROL) == keys, keys - with_control - set(pages.NO_CONTROL)
    assert not with_control & set(pages.NO_CONTROL)
    for key in with_control:  # each on a page of the dialog, with a label or a check box text
        widget = dlg.widget(key)
        assert dlg.form.isAncestorOf(widget), key
    # the keys without a control say where they are set: on the Other page and in config.md
    other = dlg.form.widget(dlg.form.count() - 1)
    shown = " ".join(label.text() for label in other.findChildren(aqt.qt.QLabel))
    doc = (ROOT / "config.md").read_text(encoding="utf-8")
    for key in pages.NO_CONTROL:
        assert key in shown, key
        assert re.search(r"^- `%s`" % key, doc, re.M), key
    assert set(OTHER) == with_control, set(OTHER) ^ with_control
    dlg.reject()


def test_every_value_round_trips_through_the_dialog(anki_app):
    config = anki_app.module("generator.config")
    anki_app.col.decks.id("Biology", create=True)
    defaults = config.Settings().to_dict()
    assert all(OTHER[k] != defaults[k] for k in OTHER), [k for k in OTHER if OTHER[k] == defaults[k]]
    anki_app.write_config(**OTHER)
    dlg = open_settings(anki_app)
    assert dlg.values() == OTHER
    dlg.buttons.button(aqt.qt.QDialogButtonBox.StandardButton.Save).click()
    stored = anki_app.config()
    assert {k: stored[k] for k in OTHER} == OTHER
    assert config.Settings.checked(stored).to_dict() == dict(defaults, **OTHER)
    again = open_settings(anki_app)
    assert again.values() == OTHER
    # Restore defaults shows every default again (nothing is stored until Save)
    again.buttons.button(aqt.qt.QDialogButtonBox.StandardButton.RestoreDefaults).click()
    assert again.values() == {k: defaults[k] for k in OTHER}
    again.reject()
    assert {k: anki_app.config()[k] for k in OTHER} == OTHER
    anki_app.tools_action("Generate Flashcards…").setShortcut(aqt.qt.QKeySequence("Ctrl+Shift+G"))


def test_the_new_controls_change_what_the_engine_reads(anki_app):
    config = anki_app.module("generator.config")
    dlg = open_settings(anki_app)
    dlg.widget("depth").setCurrentIndex(dlg.widget("depth").findData("key_ideas"))
    dlg.widget("self_review").setCurrentIndex(dlg.widget("self_review").findData("off"))
    dlg.widget("uncheck_flagged").setChecked(False)
    dlg.widget("max_images_per_request").setValue(1)
    dlg.buttons.button(aqt.qt.QDialogButtonBox.StandardButton.Save).click()
    settings = config.Settings.checked(anki_app.config())
    assert settings.depth == config.Depth.KEY_IDEAS and settings.self_review == config.SelfReview.OFF
    assert settings.uncheck_flagged is False and settings.max_images_per_request == 1


@pytest.mark.timeout(60)
def test_advanced_shows_every_key_as_json_and_edits_go_into_the_form(anki_app):
    import json

    config = anki_app.module("generator.config")
    anki_app.write_config(field_mapping={"front": "Front"}, note_type="Basic", api_key="sk-secret-1")
    dlg = open_settings(anki_app)
    view = dlg.show_json()
    assert "sk-secret-1" not in view.edit.toPlainText()
    shown = json.loads(view.edit.toPlainText())
    assert set(shown) == set(config.Settings.keys()) - {"api_key"}  # the key is never shown
    assert shown["field_mapping"] == {"front": "Front"}
    assert "meta.json" in " ".join(label.text() for label in view.findChildren(aqt.qt.QLabel))

    view.edit.setPlainText("{not json")  # said, and the view stays open
    view.accept()
    assert view.isVisible() and "not valid JSON" in view.message.text()
    view.edit.setPlainText(json.dumps(dict(shown, read_timeout=-1)))
    view.accept()
    assert view.isVisible() and "read_timeout" in view.message.text()

    view.edit.setPlainText(json.dumps(dict(shown, temperature=0.9, field_mapping={"front": "Back"})))
    view.accept()
    assert not view.isVisible()
    assert dlg.values()["temperature"] == 0.9
    dlg.buttons.button(aqt.qt.QDialogButtonBox.StandardButton.Save).click()
    stored = anki_app.config()
    assert stored["temperature"] == 0.9 and stored["field_mapping"] == {"front": "Back"}
    assert stored["api_key"] == "sk-secret-1"  # kept, though the JSON left it out


def test_changing_the_note_type_forgets_its_field_mapping(anki_app):
    anki_app.write_config(field_mapping={"front": "Front"}, note_type="Basic")
    dlg = open_settings(anki_app)
    combo = dlg.widget("note_type")
    combo.setCurrentIndex(combo.findData(""))
    dlg.buttons.button(aqt.qt.QDialogButtonBox.StandardButton.Save).click()
    assert anki_app.config()["field_mapping"] == {} and anki_app.config()["note_type"] == ""
