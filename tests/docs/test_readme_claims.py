"""What the README promises a user holds for the code as it is: the default model it names, the
local server behind "never leave the machine", the oldest Anki it names, the labels of the
settings it names."""
import json
import re
from pathlib import Path

from generator.config import Settings
from generator.privacy import THIS_MACHINE, privacy_note, url_scope

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_default_model_is_the_one_the_readme_names():
    model = Settings().model
    assert "`ollama pull %s`" % model in README
    assert "The\ndefault is `%s`" % model in README or "default is `%s`" % model in " ".join(README.split())
    assert re.search(r"^\| `%s` \(the default" % re.escape(model), README, re.M)


def test_nothing_leaves_the_machine_only_with_the_default_local_server():
    url = Settings().url
    assert url_scope(url) == THIS_MACHINE and privacy_note(url) == ""
    privacy = README[README.index("## Privacy"):README.index("## Troubleshooting")]
    assert "(`%s`)" % url in privacy
    # ... and it says what happens with another URL, and when offline holds
    assert "another server URL, your text is sent to that server" in " ".join(privacy.split())
    assert "offline once the model" in " ".join(privacy.split())
    assert privacy_note("http://192.168.1.20:11434") and privacy_note("https://example.com")


def test_the_oldest_anki_the_readme_names_is_the_manifests():
    manifest = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
    version = manifest["min_point_version"]  # 231000 = 23.10
    assert "Anki %d.%d or newer" % (version // 10000, version // 100 % 100) in README


def test_the_licence_the_readme_names_is_the_licence_file():
    assert "MIT licence: [LICENSE](LICENSE)" in README
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
