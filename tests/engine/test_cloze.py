"""generator.cards.cloze: normalising the many cloze forms models produce."""
import pytest

from generator.cards.cloze import CLOZE_RE, ensure_cloze, has_cloze, normalize_cloze
from timing import assert_linear


@pytest.mark.parametrize(
    "src, expected",
    [
        # already well-formed
        ("{{c1::term}}", "{{c1::term}}"),
        ("{{c1::term::hint}}", "{{c1::term::hint}}"),
        ("no deletion here", "no deletion here"),
        ("", ""),
        # malformed markers
        ("{{c1:term}}", "{{c1::term}}"),
        ("{{C1::term}}", "{{c1::term}}"),
        ("{{ c1 :: term }}", "{{c1::term}}"),
        ("{{c 1::term :: hint }}", "{{c1::term::hint}}"),
        ("{{c01::term}}", "{{c1::term}}"),
        ("{{c::term}}", "{{c1::term}}"),
        ("{{c:term}}", "{{c1::term}}"),
        ("{{term}}", "{{c1::term}}"),
        ("{c1::term}", "{{c1::term}}"),
        ("{c::term}", "{{c1::term}}"),
        ("{c2:term}}", "{{c1::term}}"),
        ("[[term]]", "{{c1::term}}"),
        ("[[c2::term]]", "{{c1::term}}"),
        ("[[a]] and [[b]]", "{{c1::a}} and {{c2::b}}"),
        ("{{{c1::x}}}", "{{c1::x}}"),
        # unbalanced
        ("{{c1::term} rest", "{{c1::term}} rest"),
        ("{{c1::term", "term"),
        ("start {{c1::a {{c2::b}} end", "start a {{c1::b}} end"),
        ("stray }} closer", "stray }} closer"),
        ("[[a{b]]", "[[a{b]]"),
        # empty answers and hints
        ("{{c1::}} and {{c2::x}}", " and {{c1::x}}"),
        ("{{c1::   ::hint}}", ""),
        ("{{c1::<b></b>&nbsp;}}", ""),
        ("{{c1::x::}}", "{{c1::x}}"),
        ("{{c1::x::  }}", "{{c1::x}}"),
        # nested deletions are flattened into the outer one
        ("{{c1::a {{c2::b}} c}}", "{{c1::a b c}}"),
        ("{{c1::a {{c2::b::hint}} c::outer hint}}", "{{c1::a b c::outer hint}}"),
        ("{{c1::a [[b]]}}", "{{c1::a [[b]]}}"),
        # Anki's parser is non-greedy: no }} inside, no } or : right before the marker
        (r"{{c1::\frac{1}{2}}}", r"{{c1::\frac{1}{2} }}"),
        (r"{{c1::\sqrt{\frac{1}{2}}}}", r"{{c1::\sqrt{\frac{1}{2} } }}"),
        ("{{c1::ratio: ::hint}}", "{{c1::ratio: ::hint}}"),
        (r"{{c1::\}}}", r"{{c1::\} }}"),
        ("{{c1::a\\::}}", "{{c1::a\\ }}"),
        # MathJax: {{ is LaTeX grouping there, but real cN markers still count
        (r"\(\frac{{n}}{2}\) and {{x}}", r"\(\frac{{n}}{2}\) and {{c1::x}}"),
        (r"\(x = {{c1::2}}\)", r"\(x = {{c1::2}}\)"),
        # brackets only when no brace deletion exists (wiki links stay otherwise)
        ("[[Link]] and {{c1::x}}", "[[Link]] and {{c1::x}}"),
        # HTML and formatting inside answers is kept
        ("{{c1::<b>bold</b>::<i>hint</i>}}", "{{c1::<b>bold</b>::<i>hint</i>}}"),
        ("{{c1::日本語}} 😀 {{c2::مرحبا}}", "{{c1::日本語}} 😀 {{c2::مرحبا}}"),
    ],
)
def test_normalize(src: str, expected: str) -> None:
    assert normalize_cloze(src) == expected
    assert normalize_cloze(expected) == expected


@pytest.mark.parametrize(
    "src, expected",
    [
        ("{{c3::a}} {{c4::b}}", "{{c1::a}} {{c2::b}}"),
        ("{{c2::a}} {{c1::b}}", "{{c1::a}} {{c2::b}}"),
        ("{{c1::a}} {{c5::b}} {{c9::c}}", "{{c1::a}} {{c2::b}} {{c3::c}}"),
        # a reused number is kept together
        ("{{c2::a}} {{c7::b::h}} {{c2::c}}", "{{c1::a}} {{c2::b::h}} {{c1::c}}"),
        # every unnumbered deletion is its own card
        ("{{a}} {{c1::b}} {{c}} {{c1::d}}", "{{c1::a}} {{c2::b}} {{c3::c}} {{c2::d}}"),
        # numbers freed by dropped empty deletions are not left as gaps
        ("{{c1::}} {{c2::x}} {{c3::y}}", " {{c1::x}} {{c2::y}}"),
    ],
)
def test_renumbering(src: str, expected: str) -> None:
    assert normalize_cloze(src) == expected


def test_deep_nesting_does_not_recurse() -> None:
    text = "{{c1::" * 5000 + "x" + "}}" * 5000
    assert normalize_cloze(text) == "{{c1::x}}"
    assert normalize_cloze("{{c1::" * 5000 + "x") == "x"


def test_output_matches_anki_parser() -> None:
    out = normalize_cloze(r"{{c2::\sqrt{\frac{a}{b}}}} and {{c4::x::why}}")
    found = [(m.group(1), m.group(2), m.group(3)) for m in CLOZE_RE.finditer(out)]
    assert found == [("1", r"\sqrt{\frac{a}{b} } ", None), ("2", "x", "why")]


def test_has_cloze() -> None:
    assert has_cloze("{{c1::x}}")
    assert has_cloze("{{c1:x}}")
    assert has_cloze("{{x}}")
    assert not has_cloze("x")
    assert not has_cloze("{{c1::}}")
    assert not has_cloze("{{c1::x")
    assert not has_cloze("")


@pytest.mark.parametrize(
    "text, hint, expected",
    [
        ("{{c1::Paris}} is the capital", "London", "{{c1::Paris}} is the capital"),
        ("{{c2:Paris}} is the capital", "", "{{c1::Paris}} is the capital"),
        ("The capital of France is Paris.", "paris", "The capital of France is {{c1::Paris}}."),
        ("Paris, Paris", "Paris", "{{c1::Paris}}, Paris"),
        ("concatenate the cat", "cat", "concatenate the {{c1::cat}}"),
        ("concatenate", "cat", "con{{c1::cat}}enate"),
        ("<b>b</b> is a tag", "b", "<b>{{c1::b}}</b> is a tag"),
        ("New   York\ncity", "new york", "{{c1::New   York}}\ncity"),
        ("AT&amp;T was big", "AT&T", "{{c1::AT&amp;T}} was big"),
        ("AT&amp;T, amp", "amp", "AT&amp;T, {{c1::amp}}"),
        ("It is <i>water</i>.", "<i>water</i>", "It is {{c1::<i>water</i>}}."),
        ("It is <i>water</i>.", "water", "It is <i>{{c1::water}}</i>."),
        ("Sum is \\(n^2\\)", "n^2", "Sum is \\({{c1::n^2}}\\)"),
        ("{{c1::}} only empty, answer here", "answer", " only empty, {{c1::answer}} here"),
    ],
)
def test_ensure_cloze(text: str, hint: str, expected: str) -> None:
    assert ensure_cloze(text, hint) == expected


@pytest.mark.parametrize(
    "text, hint",
    [
        ("no deletion", ""),
        ("no deletion", "   "),
        ("no deletion", "absent"),
        ("", "x"),
        ("<b>bold</b>", "b>bo"),
        ("AT&amp;T", "amp"),
    ],
)
def test_ensure_cloze_impossible(text: str, hint: str) -> None:
    assert ensure_cloze(text, hint) is None


@pytest.mark.timeout(120)
@pytest.mark.parametrize("make", [lambda n: "{{c1::{" * n, lambda n: "{{{{c1::" * n + "}}" * (n // 2),
                                  lambda n: "}}{{c1::" * n], ids=["open-brace", "nested", "closed-first"])
def test_unclosed_openers_take_linear_time(make) -> None:
    """Unclosed openers that keep exposing new ones: a pass per opener would be quadratic."""
    assert_linear(normalize_cloze, make, 500)
    assert isinstance(normalize_cloze(make(3000)), str)
