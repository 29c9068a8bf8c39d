"""The README and the docs render on the code host: every relative link and image in a Markdown
file of the project points at a file that exists, and every #anchor at a heading there (as
GitHub makes anchors from headings)."""
import os
import re
from pathlib import Path
from typing import Dict, List, Set

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", ".cache", "build", "dist", "node_modules", "__pycache__", "_tmp"}
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"<(?:img|a)\b[^>]*\b(?:src|href)=\"([^\"]+)\"", re.I)
FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_files(root: Path = ROOT) -> List[Path]:
    found = []
    for folder, dirs, files in os.walk(str(root)):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        found += [Path(folder) / f for f in files if f.endswith(".md")]
    return sorted(found)


def prose_lines(text: str, keep_code: bool = False) -> List[str]:
    """The lines outside fenced code blocks, with inline code removed (unless ``keep_code``)."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line if keep_code else re.sub(r"`[^`]*`", "", line))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> Set[str]:
    seen: Dict[str, int] = {}
    out = set()
    for line in prose_lines(path.read_text(encoding="utf-8"), keep_code=True):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else "%s-%d" % (base, n))
    return out


def broken_links(path: Path, root: Path = ROOT) -> List[str]:
    problems = []
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate(prose_lines(text), 1):
        for target in LINK.findall(line) + HTML_LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto: ...
                continue
            file_part, _, anchor = target.partition("#")
            dest = (path.parent / file_part).resolve() if file_part else path
            where = "%s: %s" % (path.relative_to(root), target)
            if file_part.startswith("/") or root.resolve() not in dest.parents and dest != root.resolve():
                problems.append(where + " (outside the repository: the code host cannot show it)")
            elif not dest.exists():
                problems.append(where + " (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                problems.append(where + " (no such heading)")
    return problems


def test_every_relative_link_and_image_resolves():
    files = markdown_files()
    assert ROOT / "README.md" in files and ROOT / "docs" / "design.md" in files
    problems = [p for f in files for p in broken_links(f)]
    assert problems == []


def test_the_readme_shows_images_that_exist():
    images = [t for line in prose_lines((ROOT / "README.md").read_text(encoding="utf-8"))
              for t in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", line)]
    assert len(images) >= 5  # one at the top and one per way in
    for image in images:
        assert (ROOT / image).is_file(), image


def test_the_checker_finds_a_broken_link_image_and_anchor(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Title here\n\n## Why? `x`\n", encoding="utf-8")
    (tmp_path / "README.md").write_text(
        "[ok](docs/a.md#title-here) [ok2](docs/a.md#why-x) ![gone](docs/gone.png)\n"
        "[bad anchor](docs/a.md#nope) [web](https://example.com/x) `[code](nowhere.md)`\n"
        "```\n[fenced](nowhere.md)\n```\n[up](../outside.md)\n", encoding="utf-8")
    problems = broken_links(tmp_path / "README.md", tmp_path)
    assert problems == ["README.md: docs/gone.png (no such file)",
                        "README.md: docs/a.md#nope (no such heading)",
                        "README.md: ../outside.md (outside the repository: the code host cannot show it)"]
