"""config.md, config.json and ``Settings`` (generator/config.py, the truth) agree: every key is
documented once in config.md with the same default, and nothing else is documented as a key."""
import json
import re
from pathlib import Path

from generator.config import Settings

ROOT = Path(__file__).resolve().parents[2]
KEY_LINE = re.compile(r"^- `([a-z_]+)` \(default `([^`]*)`\)", re.M)


def documented():
    text = (ROOT / "config.md").read_text(encoding="utf-8")
    return KEY_LINE.findall(text)


def test_every_key_is_in_config_md_once():
    keys = [key for key, _ in documented()]
    assert sorted(keys) == sorted(Settings.keys()), (
        set(Settings.keys()) ^ set(keys), [k for k in keys if keys.count(k) > 1])


def test_config_md_states_each_default_as_settings_has_it():
    defaults = Settings().to_dict()
    wrong = {key: (shown, defaults[key]) for key, shown in documented()
             if json.loads(shown) != defaults[key]}
    assert wrong == {}


def test_config_json_has_the_settings_defaults():
    with open(str(ROOT / "config.json"), encoding="utf-8") as f:
        assert json.load(f) == Settings().to_dict()


def test_a_bullet_that_looks_like_a_key_but_misses_its_default_is_caught():
    """The format is what the tests read: a key's bullet without `(default ...)` would escape
    them, so every bullet that starts with a key must have one."""
    text = (ROOT / "config.md").read_text(encoding="utf-8")
    starts = re.findall(r"^- `([a-z_]+)`(.{0,12})", text, re.M)
    assert [k for k, rest in starts if not rest.startswith(" (default `")] == []
