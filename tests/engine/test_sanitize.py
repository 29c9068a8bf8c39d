"""generator.cards.sanitize: hostile corpus, legitimate formatting, idempotence, html_to_text.

The output is judged by tests/html_safety.py, a checker independent of the sanitizer's own
tables (its own allow-list, two other parsers and a lexical scan).
"""
import html

import pytest

from generator.cards.sanitize import html_to_text, safe_href, sanitize_html
from html_safety import CORPUS, assert_safe_html


# --- hostile corpus --------------------------------------------------------------------------


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 50


@pytest.mark.parametrize("payload", CORPUS)
def test_hostile_payload_is_neutralised(payload: str) -> None:
    out = sanitize_html(payload)
    assert_safe_html(out)
    assert sanitize_html(out) == out


@pytest.mark.parametrize(
    "bad",
    [
        "<script>alert(1)</script>",  # "<script"
        "<iframe></iframe>",  # tag outside the allow-list
        "<b onclick=x>y</b>",  # event handler
        '<b title="t">y</b>',  # attribute outside the allow-list
        '<a href="javascript:alert(1)">y</a>',  # scheme
        '<a href="jav&#x09;ascript:alert(1)">y</a>',  # scheme, entity-split
        '<a href="ftp://x">y</a>',  # scheme outside the allow-list
        "<!-- c --><b>y</b>",  # comment
        "a <b",  # stray markup
    ],
)
def test_checker_catches_unsanitized_input(bad: str) -> None:
    with pytest.raises(AssertionError):
        assert_safe_html(bad)


def test_checker_rejects_most_raw_payloads() -> None:
    """The corpus really is hostile: the checker flags nearly all of it unsanitized."""
    rejected = 0
    for payload in CORPUS:
        try:
            assert_safe_html(payload)
        except AssertionError:
            rejected += 1
    assert rejected >= len(CORPUS) - 5


# --- exact results for tricky inputs ---------------------------------------------------------


@pytest.mark.parametrize(
    "src, expected",
    [
        ("<b>x</b><script>alert(1)</script>y", "<b>x</b>y"),
        ("<scr<script>ipt>alert(1)</script>", "ipt&gt;alert(1)"),
        ("<img src=x onerror=alert(1)>z", "z"),
        ('<a href="java&#x0A;script:alert(1)">x</a>', "x"),
        ('<a href="&#106;avascript:alert(1)">x</a>', "x"),
        ('<a href=" JAVASCRIPT:alert(1)">x</a>', "x"),
        ("<!--<script>-->x", "x"),
        ("<![CDATA[<script>alert(1)</script>]]>x", "x"),
        ("<svg><script>alert(1)</script></svg>after", "after"),
        ("<svg/onload=alert(1)>", ""),
        ("<embed src=x>after", "after"),
        ("<font color=red>red</font> <blink>mid</blink>", "red mid"),
        ("<center>mid</center>", "<div>mid</div>"),
        ("<div style='background:url(x)' class=c id=i>x</div>", "<div>x</div>"),
        ("＜script＞alert(1)＜/script＞", "＜script＞alert(1)＜/script＞"),
        ("&lt;script&gt;", "&lt;script&gt;"),
        ("<p>a<p>b", "<p>a</p><p>b</p>"),
        ("<ul><li>1<li>2</ul>", "<ul><li>1</li><li>2</li></ul>"),
        ("<b><i>x</b>y</i>", "<b><i>x</i></b>y"),
        ("</b>stray</i>", "stray"),
        ("line</br>next<br/>last", "line<br>next<br>last"),
        ('<b title="x', ""),  # cut off inside a tag: a browser shows nothing of it
        ("text <!-- never closed", "text "),
        ("<![0 odd>x", "x"),  # the stdlib parser raises on this one unless handled
        ("<b>unclosed", "<b>unclosed</b>"),
        ("<h2>Title</h2>text", "<div><b>Title</b></div>text"),
        ("<section>a</section><section>b</section>", "<div>a</div><div>b</div>"),
        ("<strike>x</strike><del>y</del><ins>z</ins>", "<s>x</s><s>y</s><u>z</u>"),
        ("<td colspan=2 rowspan='x' onclick=y>c</td>", '<td colspan="2">c</td>'),
        ("a\x00b\x07c\td", "abc\td"),
        ("a&nbsp;b", "a&nbsp;b"),
        ("AT&T &copy; &#169;", "AT&amp;T © ©"),
        ('<b title="a>b">t</b>', "<b>t</b>"),
    ],
)
def test_exact(src: str, expected: str) -> None:
    assert sanitize_html(src) == expected


def test_links() -> None:
    out = sanitize_html('<a href="https://example.org/a?b=1&amp;c=2" target=_blank onclick=x>x</a>')
    assert out == '<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer">x</a>'
    assert sanitize_html('<a href="mailto:a@b.org">m</a>').startswith('<a href="mailto:a@b.org"')
    assert sanitize_html('<a href="HTTP://X.ORG/">x</a>') == '<a href="HTTP://X.ORG/" rel="noopener noreferrer">x</a>'
    # relative, protocol-relative, other schemes: text only
    for href in ("/x", "//evil.example/", "x.html", "ftp://x", "file:///etc", "data:,x", "https:"):
        assert sanitize_html('<a href="%s">t</a>' % href) == "t"
    # nested links would be split by the browser; keep the outer one only
    assert sanitize_html('<a href="https://a.org">1<a href="https://b.org">2</a>3</a>') == (
        '<a href="https://a.org" rel="noopener noreferrer">12</a>3'
    )


def test_safe_href() -> None:
    assert safe_href("https://x.org/a b") == "https://x.org/a b"
    assert safe_href("  https://x.org/\n") == "https://x.org/"
    assert safe_href("java\tscript:alert(1)") is None
    assert safe_href("\u200bjavascript:alert(1)") is None
    assert safe_href("https://x.org/\x01") is None


# --- legitimate content survives -------------------------------------------------------------

KEEP = [
    "<b>bold</b> <strong>strong</strong> <i>it</i> <em>em</em> <u>u</u> <s>s</s>",
    "H<sub>2</sub>O and x<sup>2</sup>",
    "<code>a &lt; b</code> <kbd>Ctrl</kbd>",
    "<pre>line 1\n  line 2</pre>",
    "<ul><li>one</li><li>two</li></ul><ol><li>first</li></ol>",
    "a<br>b<hr>c",
    "<blockquote>quote</blockquote>",
    '<table><thead><tr><th>h</th></tr></thead><tbody><tr><td colspan="2">c</td></tr></tbody></table>',
    "<p>para</p><div><span>span</span></div>",
    r"\(\frac{a}{b} &lt; c\) and \[x &gt; y &amp; z\]",
    "{{c1::answer::hint}} and {{c2::other}}",
    "{{c1::<b>bold answer</b>}}",
    "emoji 😀👍🏽, CJK 日本語の文章, RTL עברית مرحبا بالعالم",
    "Zwischen\u00a0raum is written &nbsp; here",
]


@pytest.mark.parametrize("src", KEEP)
def test_legitimate_html_is_unchanged(src: str) -> None:
    expected = src.replace("\u00a0", "&nbsp;")
    assert sanitize_html(src) == expected


def test_mathjax_text_round_trips() -> None:
    math = r"\(\frac{a}{b} < c\) & \[x > y\] {{c1::\sqrt{2}::root}}"
    out = sanitize_html(html.escape(math, quote=False))
    assert html.unescape(out) == math
    assert html_to_text(out) == math
    # a bare "<" followed by a space is text, too
    assert sanitize_html(r"\( a < b \)") == r"\( a &lt; b \)"


@pytest.mark.parametrize("src", KEEP + CORPUS)
def test_idempotent(src: str) -> None:
    once = sanitize_html(src)
    assert sanitize_html(once) == once


# --- html_to_text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "src, expected",
    [
        ("<p>Hello <b>world</b></p><p>again</p>", "Hello world again"),
        ("a<br>b", "a b"),
        ("<ul><li>x</li><li>y</li></ul>", "x y"),
        ("AT&amp;T &lt;tag&gt; &nbsp;x", "AT&T <tag> x"),
        ("<script>alert(1)</script>visible<style>p{}</style>", "visible"),
        ("  lots \n\n of\tspace  ", "lots of space"),
        ("un<i>bro</i>ken", "unbroken"),
        ("<td>1</td><td>2</td>", "1 2"),
        ("", ""),
    ],
)
def test_html_to_text(src: str, expected: str) -> None:
    assert html_to_text(src) == expected


def test_html_to_text_matches_sanitized() -> None:
    for src in KEEP + CORPUS:
        assert html_to_text(src) == html_to_text(sanitize_html(src))


def test_empty_and_plain() -> None:
    assert sanitize_html("") == ""
    assert sanitize_html("plain text") == "plain text"
    assert sanitize_html("x < y and y > z") == "x &lt; y and y &gt; z"
