"""One word per thing (docs/design.md, "Figures, slides and images"): an image is bytes and their
format, a figure belongs to a document; "picture" is not used in the code, the tests, the tools or
the docs. What may still say it: HTML's own <picture> element, and the chunk ids that were made
with the word (they are stored in journals and notes, so they cannot change)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORD = re.compile(r"\bpictures?\b", re.I)
ALLOWED = re.compile(
    r"<picture|</picture|``picture``|canvas picture|param picture|"  # the HTML element
    r"_chunk_id\(.*\"pictures\"|words in them \(\"pictures\"\)|"  # stored chunk ids
    r"the word \"picture\"|\"Picture\"\)"  # the rule itself; a user's note field in a test
)


def texts():
    for folder in ("generator", "ui", "tools", "bench", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path
    yield from sorted((ROOT / "docs").glob("*.md"))
    for name in ("README.md", "config.md", "CONTRIBUTING.md", "__init__.py"):
        if (ROOT / name).exists():
            yield ROOT / name


def test_picture_is_not_a_word_of_the_project():
    found = []
    for path in texts():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if WORD.search(line) and not ALLOWED.search(line) and path.name != "test_words.py":
                found.append("%s:%d: %s" % (path.relative_to(ROOT), number, line.strip()[:100]))
    assert not found, "say figure (of a document) or image (bytes, what is sent):\n" + "\n".join(found)


def test_the_check_finds_the_word():
    assert WORD.search("the pictures of a PDF") and not ALLOWED.search("the pictures of a PDF")
    assert ALLOWED.search("<picture><source srcset='x'></picture>")
