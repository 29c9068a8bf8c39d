"""`make run` (tools/run_anki.py): starts real Anki on a throwaway profile with the add-on."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "run_anki.py"


def run(args, env_changes, timeout=120):
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(env_changes)
    return subprocess.run([sys.executable, str(TOOL)] + args, capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(ROOT))


@pytest.mark.app
def test_headless_smoke_start_with_sample_deck(tmp_path):
    base = tmp_path / "profile"
    shot = tmp_path / "shot.png"
    out = run(["--headless", "--base", str(base), "--screenshot", str(shot)], {})
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "Anki started with Ollama Flashcards" in out.stdout
    assert "Added a sample deck" in out.stdout
    assert shot.stat().st_size > 1000
    # the add-on is linked file by file: Anki's meta.json would land here, not in the repo
    link = base / "addons21" / "ollama_flashcards"
    assert link.is_dir() and not link.is_symlink()
    assert (link / "__init__.py").resolve() == ROOT / "__init__.py"
    assert not (link / ".venv").exists() and not (link / "tests").exists()
    # the second start keeps the profile and does not add the deck again
    again = run(["--headless", "--base", str(base), "--screenshot", str(shot)], {})
    assert again.returncode == 0 and "Added a sample deck" not in again.stdout


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="always has a display")
def test_without_a_display_it_says_how_to_run_it(tmp_path):
    out = run(["--base", str(tmp_path / "p")], {}, timeout=60)
    assert out.returncode == 2
    assert "xvfb-run" in out.stderr and "HEADLESS=1" in out.stderr
    assert not (tmp_path / "p").exists()  # nothing was created


@pytest.mark.app
def test_demo_mode_generates_cards_without_ollama(tmp_path):
    """`make run HEADLESS=1 DEMO=1`: the built-in stand-in server, a whole generation, a
    screenshot; afterwards the profile's config no longer points at the (stopped) demo server."""
    import json

    base = tmp_path / "profile"
    shot = tmp_path / "demo.png"
    out = run(["--base", str(base), "--screenshot", str(shot)], {"HEADLESS": "1", "DEMO": "1"},
              timeout=60)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "Demo mode: a built-in stand-in for Ollama at http://127.0.0.1:" in out.stdout
    assert "not by a language model" in out.stdout
    assert "No Ollama answers" not in out.stdout
    assert "cards made from seeds/photosynthesis.md" in out.stdout
    assert "Demo: 0 cards" not in out.stdout
    assert shot.stat().st_size > 1000
    meta = json.loads((base / "addons21" / "ollama_flashcards" / "meta.json").read_text())
    assert "127.0.0.1:11434" in meta["config"]["url"]  # back to the default, not the demo's port
    assert not (base / "demo-config-backup.json").exists()


def _tool_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_anki_tool", str(TOOL))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_display_hint_names_every_package_xvfb_run_needs():
    hint = _tool_module().no_display_help()
    for package in ("xvfb", "xauth", "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1",
                    "libxcb-image0", "libxcb-render-util0", "libxcb-xinerama0", "libxcb-xkb1",
                    "libxkbcommon-x11-0", "libegl1", "libgl1", "libnss3"):
        assert " %s " % package in hint.replace("\n", " "), package
    assert "xvfb-run -a make run" in hint


@pytest.mark.parametrize("euid", [0, 1000])
def test_no_sandbox_only_for_root_and_said_in_one_line(monkeypatch, capsys, euid):
    tool = _tool_module()
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    monkeypatch.setenv("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")
    assert tool.allow_root() is (euid == 0)
    flags = os.environ["QTWEBENGINE_CHROMIUM_FLAGS"].split()
    out = capsys.readouterr().out
    if euid == 0:
        assert flags == ["--disable-gpu", "--no-sandbox"]
        assert len(out.strip().splitlines()) == 1 and "--no-sandbox" in out
        tool.allow_root()  # twice: the flag is not doubled
        assert os.environ["QTWEBENGINE_CHROMIUM_FLAGS"].split().count("--no-sandbox") == 1
    else:
        assert flags == ["--disable-gpu"] and out == ""


@pytest.mark.app
@pytest.mark.timeout(150)
@pytest.mark.skipif(not shutil.which("xvfb-run"), reason="xvfb-run is not installed (apt-get install xvfb)")
def test_starts_under_xvfb_run_with_a_real_x_server(tmp_path):
    """`xvfb-run -a make run` (the command make runs, without make's venv step): a real X server,
    the xcb platform plugin, QtWebEngine; as root too. Waits for the ready line, then stops it."""
    import signal
    import threading
    import time

    env = dict(os.environ)
    for key in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "QTWEBENGINE_CHROMIUM_FLAGS",
                "HEADLESS", "DEMO", "FRESH"):
        env.pop(key, None)
    proc = subprocess.Popen(["xvfb-run", "-a", sys.executable, str(TOOL), "--base", str(tmp_path / "p")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            cwd=str(ROOT), start_new_session=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if any("Anki started with Ollama Flashcards" in line for line in lines):
                break
            time.sleep(0.2)
        output = "".join(lines)
        assert "Anki started with Ollama Flashcards" in output, output[-3000:]
        assert "Running as root without --no-sandbox" not in output
        assert ("Running as root: Anki's web views start without" in output) == (os.geteuid() == 0)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
