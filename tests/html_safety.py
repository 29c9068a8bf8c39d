"""Is this harmless field HTML? A checker independent of the sanitizer's own tables: its own
allow-list, the output read by two other parsers (bs4 and a bare stdlib HTMLParser) plus a lexical
scan. And the hostile corpus (tests/data/hostile_html.txt) the sanitizer and formatting tests feed
through the pipeline."""
import html
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import List, Optional, Tuple

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

CORPUS_PATH = Path(__file__).resolve().parent / "data" / "hostile_html.txt"

OK_TAGS = set(
    "b strong i em u s sub sup code pre kbd br p div span ul ol li blockquote hr "
    "table thead tbody tr th td a".split()
)
OK_ATTRS = {"a": {"href", "rel"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
OK_SCHEMES = {"http", "https", "mailto"}
_NOISE = re.compile("[\\s\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_TAG_LEXEME = re.compile(r"<(/?)([a-z0-9]+)((?:\s+[a-z]+=\"[^\"<>]*\")*)>")


def load_corpus() -> List[str]:
    def unescape(m: "re.Match[str]") -> str:
        s = m.group(0)
        if s == "\\\\":
            return "\\"
        if s[1] in "ux":
            return chr(int(s[2:], 16))
        return {"n": "\n", "t": "\t", "r": "\r"}[s[1]]

    payloads = []
    for line in CORPUS_PATH.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            payloads.append(re.sub(r"\\\\|\\[ntr]|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}", unescape, line))
    return payloads

CORPUS = load_corpus()


def _check_attr(tag: str, name: str, value: Optional[str]) -> None:
    assert not name.lower().startswith("on"), f"event handler {name} on <{tag}>"
    assert name in OK_ATTRS.get(tag, set()), f"attribute {name} not allowed on <{tag}>"
    flat = _NOISE.sub("", html.unescape(value or "")).lower()
    for bad in ("javascript", "vbscript", "data:"):
        assert bad not in flat, f"{bad} in {name}={value!r}"
    if name == "href":
        m = re.match(r"([a-z][a-z0-9+.\-]*):", flat)
        assert m is None or m.group(1) in OK_SCHEMES, f"bad scheme in href={value!r}"


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: List[Tuple[str, List[Tuple[str, Optional[str]]]]] = []
        self.other: List[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        self.tags.append((tag, []))

    def handle_comment(self, data):  # type: ignore[no-untyped-def]
        self.other.append("comment")

    def handle_decl(self, decl):  # type: ignore[no-untyped-def]
        self.other.append("decl")

    def handle_pi(self, data):  # type: ignore[no-untyped-def]
        self.other.append("pi")

    def unknown_decl(self, data):  # type: ignore[no-untyped-def]
        self.other.append("cdata")


def assert_safe_html(out: str) -> None:
    """Fail unless ``out`` is harmless field HTML by three independent readings."""
    assert "<script" not in out.lower()
    # 1. Lexical: every "<" must open a canonical allowed tag (no parser needed).
    for m in re.finditer("<", out):
        lex = _TAG_LEXEME.match(out, m.start())
        assert lex is not None, f"stray markup at {out[m.start():m.start() + 30]!r}"
        assert lex.group(2) in OK_TAGS, f"tag <{lex.group(2)}>"
        for name, value in re.findall(r'([a-z]+)="([^"]*)"', lex.group(3)):
            _check_attr(lex.group(2), name, value)
    # 2. bs4 tree (which warns when a short output looks like a file name or URL).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(out, "html.parser")
    for tag in soup.find_all(True):
        assert tag.name in OK_TAGS, f"tag <{tag.name}>"
        for name, value in tag.attrs.items():
            _check_attr(tag.name, name, " ".join(value) if isinstance(value, list) else value)
    # 3. Bare stdlib tokenizer (also sees comments, doctypes and CDATA that bs4 keeps as text).
    collect = _Collect()
    collect.feed(out)
    collect.close()
    assert not collect.other, collect.other
    for tag, attrs in collect.tags:
        assert tag in OK_TAGS, f"tag <{tag}>"
        for name, value in attrs:
            _check_attr(tag, name, value)
