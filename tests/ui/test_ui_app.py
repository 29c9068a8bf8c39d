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


def test_anki_start_imports_only_the_wiring(anki_session):
    """Dialogs and the engine are imported when an action fires, not when Anki starts.
    (The resume check at profile open is allowed its two light modules.)"""
    light = {"ollama_flashcards", "ollama_flashcards.ui", "ollama_flashcards.ui.resume",
             "ollama_flashcards.generator", "ollama_flashcards.generator.bulk",
             "ollama_flashcards.generator.bulk.files"}
    assert "ollama_flashcards" in anki_session.modules_at_start
    assert set(anki_session.modules_at_start) <= light, anki_session.modules_at_start


def test_importing_the_addon_costs_little(anki_app):
    """Run the add-on's __init__.py again (under another name) in the running app and time it."""
    import importlib.util
    from aqt import gui_hooks

    mw = anki_app.mw
    folder = anki_app.addon_folder
    actions_before = list(mw.form.menuTools.actions())
    spec = importlib.util.spec_from_file_location(
        "of_import_timing", str(folder / "__init__.py"), submodule_search_locations=[str(folder)])
    mod = importlib.util.module_from_spec(spec)
    # The main thread's CPU time: the import's own work, not the time the scheduler of a busy
    # machine kept it waiting (the wall time is `make bench` figure 4, startup_ms).
    started, cpu_started = time.perf_counter(), time.thread_time()
    spec.loader.exec_module(mod)
    elapsed = time.perf_counter() - started
    cpu = time.thread_time() - cpu_started
    try:
        titles = [a.text() for a in mw.form.menuTools.actions() if a not in actions_before]
        assert "Generate Flashcards…" in titles and "Bulk Generate from Files…" in titles
    finally:
        for action in mw.form.menuTools.actions():
            if action not in actions_before:
                mw.form.menuTools.removeAction(action)
        gui_hooks.editor_will_show_context_menu.remove(mod._on_editor_menu)
        gui_hooks.webview_will_show_context_menu.remove(mod._on_webview_menu)
        gui_hooks.browser_will_show_context_menu.remove(mod._on_browser_menu)
        if hasattr(mod, "_on_profile_open"):
            gui_hooks.profile_did_open.remove(mod._on_profile_open)
        mw.addonManager._configButtonActions.pop("of_import_timing", None)
    print("add-on import and setup: %.1f ms CPU (%.1f ms wall)" % (cpu * 1000, elapsed * 1000))
    assert cpu < 0.020


def test_importing_outside_anki_does_nothing():
    """`import` of the add-on folder without a running Anki (tools, other tests) is harmless."""
    import subprocess

    code = ("import importlib.util, sys; "
            "spec = importlib.util.spec_from_file_location('of_outside', sys.argv[1], "
            "submodule_search_locations=[sys.argv[2]]); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
            "print(m._mw is None, 'aqt.main' in sys.modules)")
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code, os.path.join(root, "__init__.py"), root],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "True"
