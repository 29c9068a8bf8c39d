"""The settings dialog shows num_ctx "auto" as such and keeps it, or a number, on Save."""
import aqt


def test_context_size_auto_and_a_number_round_trip(anki_app):
    settings = anki_app.module("ui.settings")
    dlg = settings.SettingsDialog(anki_app.mw)
    dlg.show()
    assert dlg.widget("num_ctx").text() == "auto" and dlg.values()["num_ctx"] == "auto"
    dlg.widget("num_ctx").setValue(8192)
    dlg.buttons.button(aqt.qt.QDialogButtonBox.StandardButton.Save).click()
    assert anki_app.config()["num_ctx"] == 8192
    again = settings.SettingsDialog(anki_app.mw)
    again.show()
    assert again.widget("num_ctx").value() == 8192
    again.widget("num_ctx").setValue(0)
    assert again.widget("num_ctx").text() == "auto"
    again.buttons.button(aqt.qt.QDialogButtonBox.StandardButton.Save).click()
    assert anki_app.config()["num_ctx"] == "auto"
