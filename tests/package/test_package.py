"""The .ankiaddon package (tools/package.py): what it holds, and that it works once installed.

The end-to-end test builds the package, installs it into a fresh headless Anki through Anki's own
add-on manager (``mw.addonManager.install``), restarts Anki (a second process: Qt allows one
QApplication per process) and generates cards through the *installed* copy against the fake
Ollama server. In that second Anki the bundled libraries (pypdf, ftfy, wcwidth) can only be
imported from the installed add-on's ``vendor/`` folder, as in a stock Anki that lacks them.

This file is also the driver of those Anki processes: ``python tests/package/test_package.py STEP ...``.
It runs under whatever Python runs the tests, so ``make test-oldest`` checks the package on
Anki 23.10.1 / Python 3.9 too.
"""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]  # tests/
ROOT = HERE.parent
if str(HERE) not in sys.path:  # run as a script (the driver), tests/ is not on the path yet
    sys.path.insert(0, str(HERE))

from installed_addon import (  # noqa: E402
    ADDON, PDF_LINES, block_outside_copies, load_tool, pdf_with_text, serve_step, start_anki)
from installed_addon import run_step as run_addon_step  # noqa: E402


# ================================================================== the Anki processes (driver)


def step_install(base: Path, package: Path) -> dict:
    """Fresh Anki, no add-ons; install the package with Anki's add-on manager."""
    harness, app, started = start_anki(base)
    import aqt

    mw = aqt.mw
    before = list(mw.addonManager.allAddons())
    result = mw.addonManager.install(str(package))
    out = {"started_s": round(started, 2), "addons_before": before, "result": type(result).__name__}
    if type(result).__name__ == "InstallOk":
        out.update(name=result.name, compatible=result.compatible, conflicts=sorted(result.conflicts))
    else:
        out["errmsg"] = getattr(result, "errmsg", "")
    out["addons_after"] = list(mw.addonManager.allAddons())
    out["meta"] = mw.addonManager.addonMeta(ADDON)
    harness.stop_anki(app)
    return out


def step_generate(base: Path, server_url: str, pdf: Path) -> dict:
    """Anki restarted on the same base: the installed add-on loads; generate cards with it."""
    block_outside_copies(base)
    harness, app, started = start_anki(base)
    import importlib

    import aqt

    mw = aqt.mw
    out = {"started_s": round(started, 2)}
    pkg = sys.modules.get(ADDON)
    out["loaded_from"] = os.path.dirname(os.path.abspath(pkg.__file__)) if pkg else None
    out["tools_actions"] = [a.text().replace("&", "") for a in mw.form.menuTools.actions()]

    def mod(name):
        return importlib.import_module(ADDON + "." + name)

    libs = mod("generator.libs")
    pypdf = libs.load("pypdf")
    ftfy = libs.load("ftfy")
    out["pypdf_file"] = pypdf.__file__
    out["ftfy_file"] = ftfy.__file__
    out["ftfy_fixed"] = ftfy.fix_text("The caf\u00c3\u00a9 \u00e2\u0080\u0094 caf\u00e9")
    text = "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(pdf)).pages)
    out["pdf_text"] = text

    documents = mod("generator.sources.document")
    doc = documents.Document(pdf.name, [
        documents.Block(documents.HEADING, "Photosynthesis", level=1, location="page 1")] + [
        documents.Block(documents.PARAGRAPH, line.strip(), location="page 1")
        for line in text.splitlines() if line.strip()])

    backends, job, notes = mod("generator.backends"), mod("generator.job.run"), mod("generator.notes.add")
    cfg = dict(mw.addonManager.getConfig(ADDON) or {})
    cfg.update(backend="ollama", url=server_url, model="llama3.2", read_timeout=20)
    out["config_keys"] = sorted(cfg)
    backend = backends.make_backend(cfg)
    options = job.prepare_job(backend, job.JobOptions.from_config(cfg))
    chunks = job.plan_chunks([doc], options)
    result = job.run_job(chunks, backend, options)
    backend.close()
    out["failures"] = [f.message for f in result.failures]
    added = notes.add_cards(mw.col, result.cards, notes.NoteTarget(deck="Packaged::Biology",
                                                                    tags=["from-package"]))
    col = mw.col
    ids = col.find_notes('"deck:Packaged::Biology"')
    out["cards"] = len(result.cards)
    out["note_ids"] = len(added.note_ids)
    out["found"] = len(ids)
    out["notes"] = [dict(col.get_note(i).items()) for i in ids[:3]]
    out["tags"] = sorted({t for i in ids for t in col.get_note(i).tags})
    out["undo"] = col.undo_status().undo
    out["ui"] = _generate_in_dialog(harness, app, mw, server_url)
    harness.stop_anki(app)
    return out


UI_TEXT = ("Osmosis\n\nOsmosis is the diffusion of water across a semipermeable membrane.\n"
           "Water moves from a region of low solute concentration to one of high concentration.\n"
           "Cells placed in a hypotonic solution swell as water flows into them.\n")


def _generate_in_dialog(harness, app, mw, server_url):
    """As a user would: Tools > Generate Flashcards…, paste text, Generate, Add."""
    import traceback

    import aqt.utils

    shown = []
    for name in ("showInfo", "showWarning", "showCritical", "askUser"):
        setattr(aqt.utils, name, lambda text="", *a, _n=name, **k: shown.append((_n, str(text))) or True)
    out = {"shown": shown}
    try:
        cfg = dict(mw.addonManager.getConfig(ADDON) or {})
        cfg.update(backend="ollama", url=server_url, model="llama3.2")
        mw.addonManager.writeConfig(ADDON, cfg)
        action = next(a for a in mw.form.menuTools.actions()
                      if a.text().replace("&", "") == "Generate Flashcards…")
        action.trigger()
        dlg = harness.wait_until(app, lambda: next(
            (w for w in app.topLevelWidgets() if w.isVisible() and type(w).__name__ == "GenerateDialog"),
            None), 15, "the Generate dialog did not open")
        out["dialog_module"] = type(dlg).__module__
        harness.wait_until(app, dlg.idle, 15, "the model list did not load")
        dlg.source.edit.setPlainText(UI_TEXT)
        dlg.options.deck_chooser.selected_deck_id = mw.col.decks.id("Packaged::Dialog", create=True)
        dlg.generate_btn.click()
        harness.wait_until(app, lambda: dlg.busy or dlg.table.cards, 15, "generation did not start")
        harness.wait_until(app, dlg.idle, 30, "generation did not finish")
        out["cards"] = len(dlg.table.cards)
        dlg.add_btn.click()
        harness.wait_until(app, lambda: dlg.adder.last_added, 15, "the cards were not added")
        out["added"] = len(dlg.adder.last_added)
        out["found"] = len(mw.col.find_notes('"deck:Packaged::Dialog"'))
        dlg.close()
    except Exception:
        out["error"] = traceback.format_exc()
    return out


if __name__ == "__main__":
    serve_step(sys.argv[1:], {"install": lambda base, package: step_install(base, Path(package)),
                              "generate": lambda base, url, pdf: step_generate(base, url, Path(pdf))})


# ================================================================== the tests

import pytest  # noqa: E402


@pytest.fixture(scope="module")
def tool():
    return load_tool()


@pytest.fixture(scope="module")
def package(tool, tmp_path_factory):
    out = tmp_path_factory.mktemp("pkg") / "ollama_flashcards.ankiaddon"
    info = tool.build(out)
    return out, info


def names_of(path):
    with zipfile.ZipFile(str(path)) as zf:
        return zf.namelist()


def test_package_holds_the_addon_and_nothing_else(package):
    path, info = package
    names = names_of(path)
    assert info["package"] == ADDON
    for required in ("__init__.py", "manifest.json", "config.json", "flashcards.py", "generator/__init__.py",
                     "generator/job/run.py", "generator/libs.py"):
        assert required in names
    tops = {n.split("/")[0] for n in names}
    assert tops <= {"__init__.py", "manifest.json", "config.json", "config.md", "flashcards.py", "generator", "ui",
                    "vendor", "user_files", "LICENSE", "LICENSE.txt"}, tops
    for name in names:
        parts = name.split("/")
        assert "__pycache__" not in parts and not name.endswith((".pyc", ".pyo")), name
        assert not any(p.startswith(".") for p in parts), name
        assert parts[0] not in ("tests", "seeds", "docs", "tools", "bench", "build", "dist"), name
        assert name != "meta.json" and not name.startswith("user_files/") or name == "user_files/README.txt"
    # no top folder: Anki extracts the entries straight into addons21/<package>/
    assert "manifest.json" in names and not any(n.startswith(ADDON + "/") for n in names)
    manifest = json.loads(zipfile.ZipFile(str(path)).read("manifest.json"))
    assert manifest["package"] == ADDON and manifest["name"]


@pytest.mark.timeout(120)
def test_the_command_line_runs_from_the_unpacked_addon(package, tmp_path):
    """``python flashcards.py`` in the add-on's folder, as the docs say: the script finds the
    engine beside it, whatever the folder is called (AnkiWeb uses a number)."""
    path, _info = package
    folder = tmp_path / "1234567890"
    with zipfile.ZipFile(str(path)) as zf:
        zf.extractall(str(folder))
    r = subprocess.run([sys.executable, "flashcards.py", "--help"], cwd=str(folder), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "usage: python flashcards.py" in r.stdout and "--collection" in r.stdout


def test_vendor_holds_the_pinned_pure_python_libraries(package):
    path, _ = package
    names = names_of(path)
    pins = {}
    for line in (ROOT / "requirements-bundle.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.lower().replace("-", "_")] = version
    with zipfile.ZipFile(str(path)) as zf:
        for name, version in pins.items():
            wheel = "vendor/%s-%s.dist-info/WHEEL" % (name, version)
            assert wheel in names, (wheel, [n for n in names if n.endswith("/WHEEL")])
            text = zf.read(wheel).decode()
            assert "Root-Is-Purelib: true" in text
            assert all(t.endswith("-none-any") for t in
                       [l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("Tag:")])
    assert not [n for n in names if n.endswith((".so", ".pyd", ".dylib", ".dll"))]
    assert not [n for n in names if n.startswith("vendor/bin/")]
    for lib in ("pypdf/__init__.py", "ftfy/__init__.py", "wcwidth/__init__.py"):
        assert "vendor/" + lib in names


def test_build_is_reproducible(tool, package, tmp_path):
    _, first = package
    again = tool.build(tmp_path / "again.ankiaddon")
    assert again["sha256"] == first["sha256"]


def test_manifest_min_point_version_matches_the_oldest_tested_anki():
    manifest = json.loads((ROOT / "manifest.json").read_text())
    oldest = [l for l in (ROOT / "requirements-oldest.txt").read_text().splitlines()
              if l.startswith("anki==")][0].split("==")[1]
    year, month, patch = (int(x) for x in oldest.split("."))
    # Anki's point version: 23.10.1 -> 231001; the add-on claims 23.10.x and must be tested there.
    assert year * 10000 + month * 100 <= manifest["min_point_version"] <= year * 10000 + month * 100 + patch


@pytest.mark.parametrize("source, problem", [
    ("from generator import job\n", "absolute import of 'generator'"),
    ("import ui.common\n", "absolute import of 'ui.common'"),
    ("def f(x):\n    match x:\n        case 1:\n            return 1\n", "not valid Python 3.9"),
])
def test_builder_refuses_code_that_breaks_inside_anki(tool, tmp_path, source, problem):
    (tmp_path / "generator").mkdir()
    (tmp_path / "generator" / "bad.py").write_text(source)
    with pytest.raises(tool.PackageError, match=problem):
        tool.check_sources([(tmp_path / "generator" / "bad.py", "generator/bad.py")])


def test_builder_refuses_qt_in_the_engine(tool, tmp_path):
    f = tmp_path / "x.py"
    f.write_text("from aqt import mw\n")
    with pytest.raises(tool.PackageError, match="must not import 'aqt'"):
        tool.check_sources([(f, "generator/x.py")])
    tool.check_sources([(f, "ui/x.py")])  # the UI may


def run_step(*args, timeout=180):
    return run_addon_step(__file__, *args, timeout=timeout)


@pytest.mark.app
def test_package_installs_restarts_and_generates_cards(package, tmp_path):
    from fake_ollama import FakeOllama

    path, _ = package
    base = tmp_path / "anki-base"
    pdf = tmp_path / "photosynthesis.pdf"
    pdf.write_bytes(pdf_with_text(PDF_LINES))

    installed = run_step("install", base, path)
    assert installed["result"] == "InstallOk", installed
    assert installed["addons_before"] == []
    assert installed["addons_after"] == [ADDON]
    assert installed["compatible"] is True  # min_point_version fits this Anki
    assert installed["name"] == "Ollama Flashcards"
    folder = base / "addons21" / ADDON
    on_disk = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                     if p.is_file() and p.name != "meta.json" and "__pycache__" not in p.parts)
    assert on_disk == sorted(n for n in names_of(path) if not n.endswith("/"))

    with FakeOllama() as server:
        done = run_step("generate", base, server.url, pdf)
        bodies = server.chat_bodies()
    assert done["loaded_from"] == str(folder.resolve()), done["loaded_from"]
    assert "Generate Flashcards…" in done["tools_actions"]
    vendor = str((folder / "vendor").resolve())
    assert done["pypdf_file"].startswith(vendor) and done["ftfy_file"].startswith(vendor)
    assert done["ftfy_fixed"] == "The café — café"
    assert "chloroplasts" in done["pdf_text"]
    assert bodies, "the installed add-on never reached the server"
    assert done["failures"] == []
    assert done["cards"] >= 1 and done["note_ids"] == done["cards"] == done["found"]
    fronts = " ".join(n.get("Back", "") for n in done["notes"])
    assert "chloroplasts" in fronts or "Photosynthesis" in fronts
    assert "from-package" in done["tags"]
    assert done["undo"]  # one undo step, with the add-on's label
    ui = done["ui"]
    assert "error" not in ui, ui.get("error")
    assert ui["dialog_module"].startswith(ADDON + ".ui.")  # the installed copy's dialog
    assert ui["cards"] >= 1 and ui["added"] == ui["found"] >= 1, ui
    assert ui["shown"] == []


def test_the_test_install_holds_what_the_package_holds(tmp_path):
    """tests/anki_app.py installs the add-on from the package's own list (tools/package.py):
    no pytest.ini, requirement files or mypy.ini in the test profile, nothing missing."""
    import anki_app as harness

    tool = load_tool()
    linked = harness.link_addon(tmp_path / "addons21")
    packed = {rel.split("/")[0] for _path, rel in tool.own_files()} - {"user_files"}
    assert set(os.listdir(linked)) == packed
    for stray in ("pytest.ini", "mypy.ini", "requirements-dev.txt", "Makefile", "tests", "tools"):
        assert not (linked / stray).exists(), stray
