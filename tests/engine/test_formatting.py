"""generator.cards.formatting: Markdown from a model to field HTML (always through the sanitizer)."""
import pytest

from generator.cards.formatting import markdown_inline_to_html, to_field_html
from generator.cards.sanitize import sanitize_html
from html_safety import CORPUS, assert_safe_html
from timing import assert_linear


@pytest.mark.parametrize(
    "src, expected",
    [
        # emphasis
        ("**bold** and __bold words__", "<b>bold</b> and <b>bold words</b>"),
        ("*it* and _it_", "<i>it</i> and <i>it</i>"),
        ("***both***", "<b><i>both</i></b>"),
        ("**bold with *it* inside**", "<b>bold with <i>it</i> inside</b>"),
        ("~~gone~~", "<s>gone</s>"),
        ("a **b** c.", "a <b>b</b> c."),
        ("(*note*)", "(<i>note</i>)"),
        # ... but not inside words, identifiers or formulas
        ("snake_case_name and _private_var", "snake_case_name and _private_var"),
        ("a*b*c and 2 * 3 * 4 and x**2 + y**2", "a*b*c and 2 * 3 * 4 and x**2 + y**2"),
        ("__init__ and __name__", "__init__ and __name__"),
        ("** not bold ** and * not it *", "** not bold ** and * not it *"),
        (r"\*literal\* and \_x\_", "*literal* and _x_"),
        # code
        ("use `a*b*c` or `<div>`", "use <code>a*b*c</code> or <code>&lt;div&gt;</code>"),
        ("``a ` b``", "<code>a ` b</code>"),
        ("```python\nif a<b:\n    x = '*y*'\n```\nafter", "<pre><code>if a&lt;b:\n    x = '*y*'</code></pre>after"),
        # line breaks and lists
        ("line1\nline2\r\nline3", "line1<br>line2<br>line3"),
        ("a\n\nb", "a<br><br>b"),
        ("\n\ntext\n\n", "text"),
        ("- one\n- **two**\n* three", "<ul><li>one</li><li><b>two</b></li><li>three</li></ul>"),
        ("intro:\n- a\n- b\n\nafter", "intro:<ul><li>a</li><li>b</li></ul>after"),
        ("1. first\n2) second", "<ol><li>first</li><li>second</li></ol>"),
        ("- a\n1. b", "<ul><li>a</li></ul><ol><li>b</li></ol>"),
        ("## Heading ##\nbody", "<b>Heading</b><br>body"),
        ("# Learn C#", "<b>Learn C#</b>"),
        ("#hashtag", "#hashtag"),
        # existing HTML is left to the sanitizer
        ("<b>x</b> and <i>y</i><br>z", "<b>x</b> and <i>y</i><br>z"),
        ("<ul>\n<li>a</li>\n</ul>\ntext", "<ul><li>a</li></ul>text"),
        ("<p>x</p>\n\n<p>y</p>", "<p>x</p><p>y</p>"),
        ("<script>alert(1)</script>ok", "ok"),
        ("<b onclick='x'>b</b>", "<b>b</b>"),
        # "<" that cannot be a tag stays text
        ("a < b and c > d", "a &lt; b and c &gt; d"),
        ("a<b and c>d", "a&lt;b and c&gt;d"),
        ("x<y, x <= y, y >= x, <3, <->", "x&lt;y, x &lt;= y, y &gt;= x, &lt;3, &lt;-&gt;"),
        ("vector<int>, List<T>, Map<K, V>", "vector&lt;int&gt;, List&lt;T&gt;, Map&lt;K, V&gt;"),
        ("if (a<b && c>d)", "if (a&lt;b &amp;&amp; c&gt;d)"),
        ("AT&T", "AT&amp;T"),
        # links
        ("[site](https://example.org/a_b_c)", '<a href="https://example.org/a_b_c" rel="noopener noreferrer">site</a>'),
        ("[bad](javascript:alert(1))", "[bad](javascript:alert(1))"),
        ("<https://example.org>", '<a href="https://example.org" rel="noopener noreferrer">https://example.org</a>'),
        ("see https://example.org/_x_/y_z_", "see https://example.org/_x_/y_z_"),
        # unicode
        ("日本語 😀👍🏽 עברית مرحبا", "日本語 😀👍🏽 עברית مرحبا"),
        ("", ""),
    ],
)
def test_to_field_html(src: str, expected: str) -> None:
    assert to_field_html(src) == expected


@pytest.mark.parametrize(
    "src, expected",
    [
        (r"\(a<b\) and \(c > d\)", r"\(a&lt;b\) and \(c &gt; d\)"),
        (r"\(x_1 * y_1 * z_1\) and \(a*b*c\)", r"\(x_1 * y_1 * z_1\) and \(a*b*c\)"),
        (r"\[\sum_{i=1}^{n} i < n^2\]", r"\[\sum_{i=1}^{n} i &lt; n^2\]"),
        ("\\[a\n<b\\]", "\\[a\n&lt;b\\]"),  # no <br> inside display math
        (r"\(a &amp; b\)", r"\(a &amp; b\)"),
        (r"\(\frac{a}{b}\) & \(c\)", r"\(\frac{a}{b}\) &amp; \(c\)"),
        ("`\\(x\\)`", "<code>\\(x\\)</code>"),
    ],
)
def test_mathjax_untouched(src: str, expected: str) -> None:
    assert to_field_html(src) == expected


@pytest.mark.parametrize(
    "src, expected",
    [
        ("{{c1::answer}}", "{{c1::answer}}"),
        ("{{c1::answer::a_hint_here}}", "{{c1::answer::a_hint_here}}"),
        ("{{c1::**bold answer**}} and {{c2::_x_::hint}}", "{{c1::<b>bold answer</b>}} and {{c2::<i>x</i>::hint}}"),
        ("{{c1::a<b}}", "{{c1::a&lt;b}}"),
        (r"{{c1::\(\frac{1}{2}\) }}", r"{{c1::\(\frac{1}{2}\) }}"),
    ],
)
def test_cloze_markers_untouched(src: str, expected: str) -> None:
    assert to_field_html(src) == expected


def test_markdown_leaves_html_to_the_sanitizer() -> None:
    # not sanitized yet: the tags are still there, the text "<" is escaped
    assert markdown_inline_to_html("<script>x</script> a < b") == "<script>x</script> a &lt; b"
    assert markdown_inline_to_html("<b>x</b>") == "<b>x</b>"


def test_placeholder_characters_in_input_are_harmless() -> None:
    # the shield's noncharacters are dropped (the sanitizer drops them anyway), private use kept
    assert to_field_html("\ufdd00\ufdd1 **x**") == "0 <b>x</b>"
    assert to_field_html("\ue000 **x**") == "\ue000 <b>x</b>"


@pytest.mark.parametrize("payload", CORPUS)
def test_hostile_payloads_through_the_whole_pipeline(payload: str) -> None:
    assert_safe_html(to_field_html(payload))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("opener", ["**a ", "_a ", "\\(", "`", "<b a=1 ", "<!--"])
def test_unmatched_openers_on_one_line_take_linear_time(opener: str) -> None:
    """Thousands of unmatched openers on one line: twice as many take about twice as long. The
    patterns look at most 4,000 characters ahead, so below that every opener scans the rest of
    the line and the growth is compared from 8,000 openers on, past that window."""
    assert_linear(to_field_html, lambda n: opener * n, 8000)
    assert_safe_html(to_field_html(opener * 5000))


# --- TeX dollars and LaTeX that must reach Anki's MathJax unchanged -------------------------

@pytest.mark.parametrize(
    "src, expected",
    [
        ("$x^2$ grows", r"\(x^2\) grows"),
        ("area $\\pi r^2$.", r"area \(\pi r^2\)."),
        ("$$\\int_0^1 x\\,dx = \\frac{1}{2}$$", r"\[\int_0^1 x\,dx = \frac{1}{2}\]"),
        ("$$\na < b\n$$", "\\[a &lt; b\\]"),
        ("$a<b$ holds", r"\(a&lt;b\) holds"),
        ("$\\ce{H2O}$ is water", r"\(\ce{H2O}\) is water"),
        ("costs $5 and $10", "costs $5 and $10"),  # money stays
        ("from $5-$10", "from $5-$10"),
        ("US$5 or US$7", "US$5 or US$7"),
        ("it costs $5, so $x$ is", r"it costs $5, so \(x\) is"),
        ("a $ b $ c", "a $ b $ c"),
        (r"\$x\$", r"\$x\$"),
        ("`$x$`", "<code>$x$</code>"),  # code is code
        ("{{c1::$x^2$}}", r"{{c1::\(x^2\)}}"),
    ],
)
def test_dollar_math_becomes_mathjax(src: str, expected: str) -> None:
    assert to_field_html(src) == expected


LATEX = [
    r"\(\frac{a}{b} < c_{1} \cdot x^{2}\)",
    "\\[\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}\\]",
    r"\(\sum_{i=1}^{n} i = \frac{n(n+1)}{2}\)",
    r"\(\text{if } x > 0 \text{ and } y_*\)",
    r"\(a_1 * b_2 * c\) and \(\{x \mid x \in \mathbb{R}\}\)",
    r"\(\left< a \right> \#a \_b \$ 50\%\)",
    r"\(\ce{H2O <=> H+ + OH-}\)",
    r"\(\ce{2H2 + O2 -> 2H2O}\)",
    r"\(\ce{[Cu(NH3)4]^2+}\) and \[\ce{CO2 + C -> 2CO}\]",
    r"{{c1::\(\ce{NaCl}\)}} dissolves",
]


@pytest.mark.parametrize("latex", LATEX)
def test_latex_in_mathjax_survives_byte_for_byte(latex: str) -> None:
    """What MathJax reads (the field's text once the web view decodes &lt; &gt; &amp;) is the
    model's LaTeX exactly; without those three characters the field holds the very bytes."""
    import html as html_lib

    field = to_field_html(latex)
    assert html_lib.unescape(field) == latex
    assert sanitize_html(field) == field  # stable through a second pass (notes are re-sanitized)
    if not any(c in latex for c in "<>&"):
        assert field == latex
