"""Property tests for the text pipeline: sanitize_html, html_to_text, to_field_html, normalize_cloze.

The strategies mix arbitrary text with HTML-ish and cloze-ish fragments (tags in odd spellings,
event handlers, encoded schemes, comments, broken markers), so the properties get exercised on
the inputs that matter, not just on random unicode. Together they run a few thousand examples.
"""
import os
import re
import warnings
from typing import Tuple

from bs4 import BeautifulSoup, ParserRejectedMarkup
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from generator.cards.cloze import CLOZE_RE, ensure_cloze, normalize_cloze
from generator.cards.formatting import _DISPLAY_DOLLAR_RE, _INLINE_DOLLAR_RE, to_field_html
from generator.cards.sanitize import html_to_text, sanitize_html
from html_safety import CORPUS, assert_safe_html


# HYPOTHESIS_SCALE=10 for a long local run.
SCALE = float(os.environ.get("HYPOTHESIS_SCALE", "1"))


def _settings(n: int) -> settings:
    return settings(
        max_examples=int(n * SCALE),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


TAG_NAMES = [
    "b", "i", "a", "p", "div", "span", "td", "th", "tr", "table", "li", "ul", "br", "hr", "code", "pre",
    "h1", "h3", "section", "font", "center", "strike", "del", "img", "script", "SCRIPT", "ScRiPt", "style",
    "iframe", "svg", "math", "object", "embed", "template", "noscript", "title", "textarea", "form",
    "input", "button", "select", "option", "base", "link", "meta", "frame", "frameset", "xmp",
    "plaintext", "video", "x-custom", "scr<script", "a/", "head", "body",
]
ATTR_NAMES = [
    "href", "HREF", "src", "onclick", "onerror", "ONLOAD", "onmouseover", "style", "class", "id",
    "colspan", "rowspan", "rel", "target", "formaction", "srcdoc", "xlink:href", "data-x", "title",
]
ATTR_VALUES = [
    "https://example.org/", "http://x.org/?a=1&b=2", "mailto:a@b.org", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "jav&#x09;ascript:alert(1)", "java&#x0A;script:alert(1)", "&#106;avascript:x",
    " javascript:x", "java\tscript:x", "vbscript:x", "data:text/html,<script>alert(1)</script>",
    "&#x6A;avascript&colon;x", "//evil.example", "x.png", "2", "99999", "url(javascript:x)",
    "expression(alert(1))", "\"><script>alert(1)</script>", "'", "\"", "", "\u200bjavascript:x",
]
FRAGMENTS = [
    "<", ">", "</", "/>", "&", "&amp;", "&lt;", "&gt;", "&#60;", "&#x3c;", "&lt;script&gt;", "&nbsp;",
    "<!--", "-->", "--!>", "<![CDATA[", "]]>", "<![", "<!", "<?", "<!-", "</ ", "<!DOCTYPE html>",
    "<?xml?>", "\"", "'", "=", " ", "\n",
    "\t", "\x00", "script", "javascript:", "alert(1)", "＜script＞", "\\(", "\\)", "\\[", "\\]",
    "\\frac{a}{b} < c", "{{c1::", "}}", "::", "{{", "😀", "日本", "مرحبا", "**", "_", "`", "- ", "\r\n",
]


@st.composite
def tags(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(TAG_NAMES))
    if draw(st.booleans()) and draw(st.booleans()):
        return "</%s>" % name
    attrs = []
    for _ in range(draw(st.integers(0, 3))):
        attr = draw(st.sampled_from(ATTR_NAMES))
        value = draw(st.one_of(st.sampled_from(ATTR_VALUES), st.text(max_size=8)))
        quote = draw(st.sampled_from(['"', "'", ""]))
        attrs.append(" %s=%s%s%s" % (attr, quote, value, quote))
    end = draw(st.sampled_from([">", "/>", " >", ""]))
    return "<%s%s%s" % (name, "".join(attrs), end)


html_ish = st.lists(
    st.one_of(tags(), st.sampled_from(FRAGMENTS), st.text(max_size=6), st.sampled_from(CORPUS)),
    max_size=14,
).map("".join)
any_text = st.one_of(st.text(max_size=60), html_ish)


@_settings(1500)
@given(any_text)
def test_sanitize_is_safe_and_idempotent(html: str) -> None:
    out = sanitize_html(html)
    assert_safe_html(out)
    assert sanitize_html(out) == out


MARKER = "QZXSECRET"
CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]"
script_elements = st.sampled_from(
    [
        "<script>%s</script>", "<SCRIPT type=text/javascript>%s</SCRIPT>", "<script>%s",
        "<svg><script>%s</script></svg>", "<style>p{content:'%s'}</style>", "<b><script>%s</script></b>",
        "<script><!--%s--></script>", "<template>%s</template>", "<noscript>%s</noscript>",
    ]
).map(lambda s: s % MARKER)
markup_only = st.lists(st.one_of(tags(), script_elements), max_size=10).map("".join)


@_settings(500)
@given(html_ish, script_elements, html_ish)
def test_script_content_never_becomes_text(prefix: str, script: str, suffix: str) -> None:
    """Whatever an independent parser (bs4) reads as script/style/template content is gone.
    bs4 reads the text as the sanitizer does, without control characters (which the sanitizer
    removes before parsing: ``<b\\x00<script>`` is one odd tag to it, as to a browser)."""
    html = prefix + script + suffix
    with warnings.catch_warnings():  # bs4's hints (looks like XML, like a URL...) are noise here
        warnings.simplefilter("ignore")
        try:
            soup = BeautifulSoup(re.sub(CONTROL, "", html), "html.parser")
        except ParserRejectedMarkup:  # e.g. "<![0": the oracle has no opinion, the sanitizer copes
            assume(False)
    hidden = any(MARKER in el.get_text() for el in soup.find_all(["script", "style", "template", "noscript"]))
    if hidden:
        assert MARKER not in sanitize_html(html)
        assert MARKER not in html_to_text(html)


@_settings(400)
@given(markup_only)
def test_markup_never_turns_into_script_text(html: str) -> None:
    """Tags and attribute values (however hostile) never come out as "<script" text. (Text that
    *spells* "&lt;script&gt;" is a mention and stays: a card about HTML may need it.)"""
    assert "<script" not in html_to_text(html).lower()
    assert html_to_text(sanitize_html(html)) == html_to_text(html)


@_settings(500)
@given(any_text)
def test_to_field_html_is_safe(text: str) -> None:
    out = to_field_html(text)
    assert_safe_html(out)
    assert out == out.strip()


def _fold(text: str) -> str:
    return " ".join(re.sub(CONTROL, "", text).split())


# Text with none of Markdown's markers and no "<" that could start a tag or "&" an entity.
plain_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="*_`~#-+•[]\\.)!?/"),
    max_size=60,
).filter(lambda t: not re.search(r"<[A-Za-z!?/]|&[A-Za-z#]", t))
# TeX between dollars ($x$, $$x$$) is maths, written out for MathJax (test_formatting covers it and
# money such as "$5 and $10"); plain text here is text without such a pair.
plain_text = plain_text.filter(lambda t: not (_DISPLAY_DOLLAR_RE.search(t) or _INLINE_DOLLAR_RE.search(t)))
math_body = st.text(st.sampled_from("ab12 +=<>&*_^{},|'\"\n日"), max_size=30).filter(
    lambda t: not re.search(r"&[A-Za-z#]", t)
)


@_settings(300)
@given(plain_text)
def test_plain_text_survives_the_pipeline(text: str) -> None:
    """What the model wrote as plain text ("a < b & c > d", unicode...) reads the same after."""
    assert html_to_text(to_field_html(text)) == _fold(text)


@_settings(300)
@given(math_body, st.sampled_from([("\\(", "\\)"), ("\\[", "\\]")]))
def test_mathjax_survives_the_pipeline(body: str, delimiters: Tuple[str, str]) -> None:
    """MathJax source is never formatted: no <i> from a*b*c, no <br> from a newline."""
    text = "Formula: " + delimiters[0] + body + delimiters[1] + " done"
    out = to_field_html(text)
    assert html_to_text(out) == _fold(text)
    assert "<br>" not in out and "<i>" not in out and "<b>" not in out


cloze_fragments = st.sampled_from(
    [
        "{{c1::", "{{c2::", "{{C3:", "{{ c4 :: ", "{{c::", "{{", "{c1::", "{c::", "[[", "]]", "[[c2::",
        "}}", "}", "{", "::", ":", " ", "\\(", "\\)", "\\[", "\\]", "\\{", "\\}", "x", "answer", "hint",
        "\\frac{1}{2}", "<b>", "</b>", "&nbsp;", "c1", "日本", "\n",
    ]
)
cloze_ish = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(cloze_fragments, st.text(max_size=4)), max_size=16).map("".join),
)


def assert_well_formed_clozes(out: str) -> None:
    numbers = []
    for m in CLOZE_RE.finditer(out):
        number, answer, hint = int(m.group(1)), m.group(2), m.group(3)
        assert re.sub(r"<[^<>]*>|&nbsp;|&#160;", "", answer).strip(), out
        assert "{{c" not in answer.lower() and "::" not in answer, out
        assert hint is None or hint.strip(), out
        if number not in numbers:
            numbers.append(number)
    # dense c1..cN, numbered by first appearance
    assert numbers == list(range(1, len(numbers) + 1)), out


@_settings(1500)
@given(cloze_ish)
def test_normalize_cloze_is_well_formed(text: str) -> None:
    out = normalize_cloze(text)
    assert_well_formed_clozes(out)
    assert normalize_cloze(out) == out


@_settings(400)
@given(cloze_ish, st.text(max_size=10))
def test_ensure_cloze(text: str, hint: str) -> None:
    out = ensure_cloze(text, hint)
    if out is not None:
        assert CLOZE_RE.search(out)
        assert_well_formed_clozes(out)
        assert normalize_cloze(out) == out
    else:
        assert not CLOZE_RE.search(normalize_cloze(text))


# The fast paths (a plain one-line field, visible text at C speed, the checks' word cover) give
# exactly what the full pipeline gives.
FAST_PATH_PIECES = ["a", "Bc", "1", "1. ", "12) ", "- ", "+ ", "• ", "# ", " ", "\t", "\n", "\r", "\xa0",
                    "\u200b", "\u200e", "\u3164", "\u0301", "é", "😀", "\x00", "\x1f", "\x7f", "\x85",
                    "\ufdd0", "\ufffe", "\ud800", "*", "_", "`", "$", "\\", "(", ")", "<", ">", "&",
                    "[", "]", "~", ":", "/", "http://x.org", "mailto:a@b", "&nbsp;", "&#8203;", "<b>",
                    "</b>", "<br>", "<script>x</script>", "[sound:a.mp3]"]
fast_path_text = st.lists(st.one_of(st.sampled_from(FAST_PATH_PIECES), st.text(max_size=4)),
                          max_size=12).map("".join)


@_settings(1500)
@given(fast_path_text)
def test_field_fast_paths_give_the_full_pipelines_result(text: str) -> None:
    import unicodedata

    from generator.cards.fields import _BLANK_LOOKALIKES, visible_text
    from generator.cards.formatting import _EDGE_BREAKS, markdown_inline_to_html

    assert to_field_html(text) == _EDGE_BREAKS.sub("", sanitize_html(markdown_inline_to_html(text)))
    every_char = "".join(ch for ch in html_to_text(text)
                         if unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK_LOOKALIKES)
    assert visible_text(text) == every_char


@_settings(500)
@given(st.lists(st.text("abcde", min_size=1, max_size=11), max_size=8),
       st.lists(st.text("abcde", min_size=1, max_size=11), max_size=8))
def test_word_cover_is_the_pairwise_one(needles: list, haystack: list) -> None:
    from generator.cards.checks import _covered, _same_word

    pairwise = sum(1 for n in needles if n in haystack or any(_same_word(n, h) for h in haystack))
    assert _covered(needles, haystack) == pairwise
