"""Rules the tests, the benchmark and the tools keep, checked on their source (tests/, bench/,
tools/): a test module never imports another test module (shared helpers live in support
modules); no assert that cannot fail; a timeout is never turned into a skip; a comment or
docstring says why the code is so, not which ticket asked for it."""
import ast
import re
from pathlib import Path
from typing import Iterator, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("tests", "bench", "tools")
# A reference to this project's tracker: the word for a ticket and its number (the pattern is
# written in pieces so that this file does not match itself).
TRACKER = re.compile(r"\b" + "iss" + r"ues? #?\d+", re.I)


def sources() -> Iterator[Tuple[str, str, ast.Module]]:
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            yield str(path.relative_to(ROOT)), text, ast.parse(text)


def test_no_test_module_imports_another():
    found: List[str] = []
    for name, _text, tree in sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                modules = [node.module or ""]
            else:
                continue
            found += ["%s:%d imports %s" % (name, node.lineno, m) for m in modules
                      if m.split(".")[-1].startswith("test_")]
    assert not found, "move the shared helpers into a support module: " + "; ".join(found)


def _always_true(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return bool(node.value)
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        return any(_always_true(v) for v in node.values)
    return False


def test_no_assert_that_cannot_fail():
    found = ["%s:%d" % (name, node.lineno) for name, _text, tree in sources()
             for node in ast.walk(tree) if isinstance(node, ast.Assert) and _always_true(node.test)]
    assert not found, found


def _names(node: ast.AST) -> List[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)] + \
        [n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)]


def test_no_timeout_is_turned_into_a_skip():
    found = []
    for name, _text, tree in sources():
        for handler in ast.walk(tree):
            if not (isinstance(handler, ast.ExceptHandler) and handler.type is not None):
                continue
            if not any("timeout" in n.lower() for n in _names(handler.type)):
                continue
            calls = [c for stmt in handler.body for c in ast.walk(stmt) if isinstance(c, ast.Call)]
            if any(set(_names(c.func)) & {"skip", "xfail", "importorskip"} for c in calls):
                found.append("%s:%d" % (name, handler.lineno))
    assert not found, "a test that ran out of time failed: " + ", ".join(found)


def test_no_tracker_references():
    found = ["%s:%d: %s" % (name, text.count("\n", 0, m.start()) + 1, m.group(0))
             for name, text, _tree in sources() for m in TRACKER.finditer(text)]
    assert not found, "say why the code is so, not which ticket asked: " + "; ".join(found)


def test_the_rules_catch_what_they_are_for():
    """Each rule on a sample that breaks it (the rules must be able to fail)."""
    bad = ast.parse("assert x or True\nassert 'message'\n")
    assert [_always_true(n.test) for n in bad.body] == [True, True]  # type: ignore[attr-defined]
    assert not _always_true(ast.parse("x or y", mode="eval").body)
    handler = ast.parse("try:\n    f()\nexcept TimeoutError:\n    pytest.skip('slow')\n").body[0]
    assert any("timeout" in n.lower() for n in _names(handler.handlers[0].type))  # type: ignore[attr-defined]
    assert TRACKER.search("Depth (" + "iss" + "ue 8): the number of cards")
    assert not TRACKER.search("the model's issues with long texts")
