"""`make run` (tools/run_anki.py): starts real Anki on a throwaway profile with the add-on."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "run_anki.py"


def run(args, env_changes, timeout=120):
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(env_changes)
    return subprocess.run([sys.executable, str(TOOL)] + args, capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(ROOT))


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
