"""Privacy in the real Anki main window (headless): where the text goes is said plainly in the
settings and the Generate dialog, the API key is never shown, and the add-on's log in
user_files/ holds the user's text only when log_content is on."""
import re

import pytest

from fake_ollama import Reply
from dialogs import generate, open_dialog, text_for

LAN = "http://192.168.1.5:11434"
INTERNET = "https://llm.example.com"
LOCAL = "http://127.0.0.1:11434"


def settings_dialog(app):
    dlg = app.module("ui.settings").SettingsDialog(app.mw)
    dlg.show()
    return dlg


def test_settings_say_where_the_text_goes_as_the_url_is_typed(anki_app):
    dlg = settings_dialog(anki_app)
    assert dlg.url.text() == LOCAL
    assert dlg.privacy.isHidden() and not dlg.privacy.text()  # this machine: nothing to say

    dlg.url.setText(LAN)
    assert dlg.privacy.text() == "Your text is sent to 192.168.1.5 on your local network."
    assert dlg.privacy.level == "info"

    dlg.url.setText(INTERNET)
    assert not dlg.privacy.isHidden()
    assert dlg.privacy.level == "warning"
    assert "llm.example.com" in dlg.privacy.text() and "internet" in dlg.privacy.text()

    dlg.url.setText("http://127.0.0.1:11434")
    assert dlg.privacy.isHidden() and not dlg.privacy.text()
    dlg.url.setText("")  # empty means the default URL, on this machine
    assert dlg.privacy.isHidden()
    dlg.reject()


def test_settings_open_with_the_saved_urls_note(anki_app):
    anki_app.write_config(url=INTERNET)
    dlg = settings_dialog(anki_app)
    assert dlg.privacy.level == "warning" and "internet" in dlg.privacy.text()
    dlg.reject()


def test_api_key_is_a_password_field(anki_app):
    from aqt.qt import QLineEdit

    anki_app.write_config(api_key="sk-test-0123456789abcdef")
    dlg = settings_dialog(anki_app)
    assert dlg.widget("api_key").echoMode() == QLineEdit.EchoMode.Password
    assert dlg.widget("api_key").text() == "sk-test-0123456789abcdef"  # kept, only not shown
    assert "0123456789abcdef" not in dlg.widget("api_key").displayText()
    dlg.reject()


@pytest.mark.parametrize("url,level,words", [
    (LAN, "info", "192.168.1.5 on your local network"),
    ("http://8.8.8.8:9", "warning", "over the internet"),
])
def test_generate_dialog_shows_the_note_by_the_model_status(anki_app, url, level, words):
    anki_app.write_config(url=url, connect_timeout=1)
    anki_app.tools_action("Generate Flashcards…").trigger()
    dlg = anki_app.wait_for_window(anki_app.module("ui.generate").GenerateDialog)
    assert dlg.models.privacy.level == level and words in dlg.models.privacy.text()
    anki_app.wait_until(dlg.idle, 15, "the model list did not give up")
    assert words in dlg.models.privacy.text()  # the server error does not replace it


def test_generate_dialog_says_nothing_for_this_machine(anki_app, server):
    dlg = open_dialog(anki_app, server.url)
    assert dlg.models.privacy.isHidden() and not dlg.models.privacy.text()


def test_an_echoed_api_key_is_masked_in_error_messages(anki_app, server):
    key = "sk-test-0123456789abcdef"
    dlg = open_dialog(anki_app, server.url, api_key=key)
    dlg.source.edit.setPlainText(text_for("echoed api key"))
    server.script(Reply.error(401, "invalid api key %s" % key))
    generate(anki_app, dlg)
    shown = dlg.message.text()
    assert "refused" in shown and key not in shown
    assert anki_app.module("generator.privacy").mask_secret(key) in shown
    assert not any(key in t for t in anki_app.texts("tooltip"))


def _log_after(app, dlg, label):
    """Generate ``label``'s text in ``dlg``; return what the log got meanwhile."""
    path = app.addon_folder / "user_files" / "ollama-flashcards.log"
    assert path.exists()  # opening the dialog configured the log
    start = path.stat().st_size
    text = text_for(label)
    dlg.source.edit.setPlainText(text)
    generate(app, dlg)
    assert dlg.table.cards, dlg.message.text()
    assert path.exists()
    with open(path, encoding="utf-8") as f:
        f.seek(start)
        return text, f.read()


def test_the_log_holds_no_source_text_unless_log_content(anki_app, server):
    dlg = open_dialog(anki_app, server.url, log_content=False)
    text, logged = _log_after(anki_app, dlg, "log without content")
    assert "chunk" in logged and "tokens" in logged  # what happened is there
    token = re.search(r"Q[0-9a-f]{4}", text).group(0)  # unique to this test's text
    assert token not in logged and "chlorophyll" not in logged and "Calvin" not in logged
    dlg.close()
    anki_app.wait_until(lambda: not anki_app.top_windows(type(dlg)), 15)

    dlg = open_dialog(anki_app, server.url, log_content=True)
    text, logged = _log_after(anki_app, dlg, "log with content")
    token = re.search(r"Q[0-9a-f]{4}", text).group(0)
    assert token in logged and "chlorophyll" in logged
    assert "prompt for chunk" in logged and "answer for chunk" in logged


def test_saving_settings_switches_content_logging(anki_app, server):
    anki_app.write_config(url=server.url, log_content=False)
    dlg = settings_dialog(anki_app)
    log = anki_app.module("generator.log")
    assert log._state["content"] is False
    dlg.widget("log_content").setChecked(True)
    dlg.save()
    assert log._state["content"] is True
    dlg.widget("log_content").setChecked(False)
    dlg.save()
    assert log._state["content"] is False
    dlg.reject()
