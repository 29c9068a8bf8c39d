"""The README's install and first-cards steps, done in the real app as a new user would.

The package is built as `make package` builds it (tools/package.py); a fresh Anki installs it
through Tools → Add-ons → Install from file… (Anki's own add-on dialog, only the file picker
answered); Anki restarts (a second process: Qt allows one QApplication per process); then
Tools → Generate Flashcards… → Open file… (a small PDF) → a deck → Generate → Add, against the
fake Ollama server. The labels the app shows on the way are the ones the README names.

This file is also the driver of those Anki processes: ``python tests/package/test_install_as_readme.py STEP ...``.
"""
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for _p in (str(HERE), str(ROOT / "tests"), str(ROOT / "tools")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from installed_addon import (  # noqa: E402
    ADDON, PDF_LINES, block_outside_copies, load_tool, pdf_with_text, serve_step, start_anki)
from installed_addon import run_step as run_addon_step  # noqa: E402

DECK = "Lecture::Biology"


def _capture_messages(modules):
    """Replace the message boxes and tooltips the steps may show; return the list they fill."""
    shown = []
    for module in modules:
        for name in ("showInfo", "showWarning", "showCritical", "askUser", "tooltip"):
            if hasattr(module, name):
                setattr(module, name, lambda text="", *a, _n=name, **k: shown.append((_n, str(text))) or True)
    return shown


def step_install(base: Path, package: Path) -> dict:
    """A fresh Anki: Tools → Add-ons → Install from file… → the package."""
    harness, app, _started = start_anki(base)
    import aqt
    import aqt.addons
    import aqt.utils

    mw = aqt.mw
    shown = _capture_messages([aqt.addons, aqt.utils])
    out = {"addons_before": list(mw.addonManager.allAddons())}
    menu = {a.text().replace("&", ""): a for a in mw.form.menuTools.actions()}
    out["tools_menu"] = sorted(menu)
    mw.form.actionAdd_ons.trigger()
    dialog = harness.wait_until(app, lambda: next(
        (w for w in app.topLevelWidgets() if w.isVisible() and type(w).__name__ == "AddonsDialog"),
        None), 15, "Tools → Add-ons did not open the add-on dialog")
    out["addons_action"] = mw.form.actionAdd_ons.text().replace("&", "")
    out["install_button"] = dialog.form.installFromFile.text().replace("&", "")
    picked = []
    aqt.addons.getFile = lambda *a, **k: picked.append(a) or [str(package)]  # the file the user picks
    dialog.form.installFromFile.click()
    harness.pump(app, 0.5)
    out["picked"] = len(picked)
    out["listed"] = [dialog.form.addonList.item(i).text() for i in range(dialog.form.addonList.count())]
    out["addons_after"] = list(mw.addonManager.allAddons())
    out["meta"] = mw.addonManager.addonMeta(ADDON)
    out["shown"] = shown
    dialog.close()
    harness.stop_anki(app)
    return out


def step_generate(base: Path, server_url: str, pdf: Path) -> dict:
    """Anki restarted: Tools → Generate Flashcards… → Open file… → deck → Generate → Add."""
    block_outside_copies(base)  # pypdf & co. only from the installed add-on, as in a stock Anki
    harness, app, _started = start_anki(base)
    import traceback

    import aqt
    import aqt.utils
    from aqt.qt import QFileDialog, QLabel

    mw = aqt.mw
    shown = _capture_messages([aqt.utils])
    out = {"shown": shown}
    try:
        cfg = dict(mw.addonManager.getConfig(ADDON) or {})
        out["model"] = cfg.get("model")
        cfg["url"] = server_url  # the fake server listens on a port of its own, not on 11434
        mw.addonManager.writeConfig(ADDON, cfg)
        action = next(a for a in mw.form.menuTools.actions()
                      if a.text().replace("&", "") == "Generate Flashcards…")
        out["generate_action"] = action.text().replace("&", "")
        out["shortcut"] = action.shortcut().toString()
        action.trigger()
        dlg = harness.wait_until(app, lambda: next(
            (w for w in app.topLevelWidgets() if w.isVisible() and type(w).__name__ == "GenerateDialog"),
            None), 15, "the Generate dialog did not open")
        out["dialog_module"] = type(dlg).__module__
        harness.wait_until(app, dlg.idle, 15, "the model list did not load")
        out["model_shown"] = dlg.models.model()

        out["open_button"] = dlg.source.open_btn.text()
        QFileDialog.getOpenFileNames = staticmethod(lambda *a, **k: ([str(pdf)], ""))  # the PDF picked
        dlg.source.open_btn.click()
        harness.wait_until(app, lambda: dlg.source.has_documents() and not dlg.source.reading, 20,
                           "the PDF was not read")
        out["source_label"] = dlg.source.label.text()

        form = dlg.options.form
        out["card_options"] = [form.itemAt(i, form.ItemRole.LabelRole).widget().text()
                               for i in range(form.rowCount())
                               if form.itemAt(i, form.ItemRole.LabelRole) is not None
                               and isinstance(form.itemAt(i, form.ItemRole.LabelRole).widget(), QLabel)]
        dlg.options.deck_chooser.selected_deck_id = mw.col.decks.id(DECK, create=True)
        out["kind"] = dlg.options.kind_combo.currentText()
        out["generate_button"] = dlg.generate_btn.text()
        dlg.generate_btn.click()
        harness.wait_until(app, lambda: dlg.busy or dlg.table.cards, 15, "generation did not start")
        harness.wait_until(app, dlg.idle, 60, "generation did not finish")
        out["cards"] = len(dlg.table.cards)
        out["checked"] = len(dlg.table.checked_cards())
        out["add_button"] = dlg.add_btn.text()
        dlg.add_btn.click()
        harness.wait_until(app, lambda: dlg.adder.last_added, 15, "the cards were not added")
        out["added"] = len(dlg.adder.last_added)
        col = mw.col
        ids = col.find_notes('"deck:%s"' % DECK)
        out["found"] = len(ids)
        out["fields"] = " ".join(" ".join(col.get_note(i).fields) for i in ids)
        out["undo"] = col.undo_status().undo
        dlg.close()
    except Exception:
        out["error"] = traceback.format_exc()
    harness.stop_anki(app)
    return out


if __name__ == "__main__":
    serve_step(sys.argv[1:], {"install": lambda base, package: step_install(base, Path(package)),
                              "generate": lambda base, url, pdf: step_generate(base, url, Path(pdf))})


# ================================================================== the test

import pytest  # noqa: E402


def run_step(*args, timeout=180):
    return run_addon_step(__file__, *args, timeout=timeout)


def readme_says(label: str) -> bool:
    """The README names this label of the app (Qt's "..." and the README's "…" are one)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").replace("...", "…")
    return label.replace("...", "…") in text


def test_make_package_is_the_build_this_test_installs():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^package:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert target and "tools/package.py" in target.group(1)
    assert "make package" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.app
@pytest.mark.timeout(600)
def test_install_from_file_then_first_cards_from_a_pdf(tmp_path):
    from fake_ollama import FakeOllama

    package = tmp_path / "ollama_flashcards.ankiaddon"
    load_tool().build(package)  # what `make package` runs
    base = tmp_path / "anki-base"
    pdf = tmp_path / "lecture.pdf"
    pdf.write_bytes(pdf_with_text(PDF_LINES))

    installed = run_step("install", base, package)
    assert installed["addons_before"] == []
    assert "Generate Flashcards…" not in installed["tools_menu"]
    assert installed["picked"] == 1
    assert installed["addons_after"] == [ADDON]
    assert any("Ollama Flashcards" in item for item in installed["listed"]), installed["listed"]
    assert [kind for kind, _text in installed["shown"] if kind in ("showWarning", "showCritical")] == []
    assert readme_says("Tools → %s → %s" % (installed["addons_action"], installed["install_button"]))

    with FakeOllama() as server:
        done = run_step("generate", base, server.url, pdf)
        bodies = server.chat_bodies()
    assert "error" not in done, done.get("error")
    assert done["dialog_module"].startswith(ADDON + ".ui.")  # the installed copy
    assert done["model"] == done["model_shown"] == "llama3.2"  # the default the README names
    assert "`ollama pull %s`" % done["model"] in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "lecture.pdf" in done["source_label"]
    assert bodies and "chloroplasts" in json.dumps(bodies)  # the PDF's text reached the server
    assert done["cards"] >= 1 and done["added"] == done["checked"] == done["found"] >= 1, done
    assert "chloroplast" in done["fields"].lower() or "photosynthesis" in done["fields"].lower()
    assert done["undo"]
    assert [kind for kind, _text in done["shown"] if kind != "tooltip"] == [], done["shown"]
    assert any(DECK in text and str(done["added"]) in text for _kind, text in done["shown"]), done["shown"]
    # The README's five steps name what the app shows.
    assert readme_says("Tools → %s" % done["generate_action"])
    assert readme_says(done["shortcut"])
    assert readme_says("**%s**" % done["open_button"])
    for label in ("Deck", "Card kind"):
        assert label in done["card_options"], done["card_options"]
        assert readme_says("**%s**" % label)
    assert readme_says("**%s**" % done["generate_button"])
    assert done["add_button"].startswith("Add ") and readme_says("**Add N cards**")
