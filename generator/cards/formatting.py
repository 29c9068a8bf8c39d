"""Turn a model's Markdown-flavoured answer into field HTML.

Pipeline: ``markdown_inline_to_html`` -> ``sanitize_html``. This module only adds formatting; it
leaves real HTML tags for the sanitizer to judge, and escapes a ``<`` only when it cannot be a
tag (``x < y``, ``a<b``, ``vector<int>``), so comparisons stay text. MathJax (``\\(...\\)``,
``\\[...\\]``) and code are shielded from every rule; cloze markers contain nothing the rules
touch, so they pass through as they are.
"""
import re
from html import escape
from typing import Callable, List

from .sanitize import _clean_text, sanitize_html

__all__ = ["markdown_inline_to_html", "to_field_html"]

# Element names a model may plausibly write as real markup (harmless or not: the sanitizer
# decides). Anything else after "<" is text.
_HTML_NAMES = frozenset(
    """a abbr address applet area article aside audio b base bdi bdo big blink blockquote body br
    button canvas caption center cite code col colgroup data datalist dd del details dfn dialog div
    dl dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head
    header hgroup hr html i iframe img input ins isindex kbd keygen label legend li link main map
    mark marquee math menu meta meter nav noembed noframes noscript object ol optgroup option output
    p param picture plaintext portal pre progress q rp rt ruby s samp script section select small
    source span strike strong style sub summary sup svg table tbody td template textarea tfoot th
    thead time title tr track tt u ul var video wbr xmp""".split()
)
# A complete tag: known name, then name=value attributes or known boolean ones (any other bare
# word, like the "and" in "a<b and c>d", means it is prose). Single capital letters are type
# parameters (``List<T>``), not tags.
_BOOLEAN_ATTRS = (
    "allowfullscreen async autofocus autoplay checked controls default defer disabled hidden "
    "ismap loop multiple muted nomodule novalidate open readonly required reversed selected"
)
_TAG_RE = re.compile(
    r"""<(/?)([A-Za-z][A-Za-z0-9]*)((?:\s+(?:[^\s"'<>/=]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>`]+)"""
    r"""|(?:%s)(?![^\s/>])))*)\s*/?>""" % _BOOLEAN_ATTRS.replace(" ", "|"),
    re.I,
)
_DECL_RE = re.compile(r"<![^<>]*>|<\?[^<>]*>")
_FENCE_RE = re.compile(r"^[ \t]*```[^\n`]*\n(.*?)\n?[ \t]*```[ \t]*$", re.S | re.M)
# Spans have a length limit so that pathological input (thousands of unmatched openers on one
# line) stays linear instead of quadratic. A code span opens only at the start of a run of
# backticks (as in CommonMark): trying every position inside a long run would try the run's
# every length there, quadratic in the run.
_CODE_RE = re.compile(r"(?<!`)(`+)([^`\n](?:.{0,1000}?[^`\n])?)\1(?!`)")
_MATH_RE = re.compile(r"\\\((.{0,4000}?)\\\)|\\\[(.{0,4000}?)\\\]", re.S)
# TeX-style dollars, which Anki's MathJax does not render: ``$$…$$`` (display) and ``$…$``
# (inline). An inline opener has a non-space right after it, a closer a non-space right before
# it and no digit right after it (pandoc's rule), and the span stays on one line without another
# ``$`` in it: so "$5 and $10", "$5-$10" or "US$5" stay money.
_DISPLAY_DOLLAR_RE = re.compile(r"(?<![\\$])\$\$(?!\$)(.{1,4000}?)(?<!\\)\$\$", re.S)
_INLINE_DOLLAR_RE = re.compile(r"(?<![\\$])\$(?=[^\s$])((?:\\.|[^$\n\\]){1,1000}?)(?<=[^\s\\])\$(?![\d$])")
_ESCAPED_RE = re.compile(r"\\([*_`~#])")
_AUTOLINK_RE = re.compile(r"<((?:https?://|mailto:)[^\s<>]+)>")
_URL_RE = re.compile(r"\b(?:https?://|mailto:)[^\s<>\"']+")
_LINK_RE = re.compile(r"\[([^\[\]\n]+)\]\(\s*((?:https?://|mailto:)[^\s()<>]+)\s*\)")
_PLACEHOLDER_RE = re.compile("\ufdd0(\\d+)\ufdd1")

# Emphasis only at word edges, so snake_case, 2*3*4 and a*b*c stay as they are.
# ``__x__`` around a bare identifier is a Python dunder name, not bold.
_INLINE_RULES = [
    (re.compile(r"(?<![\w*])\*\*(?=\S)(.{1,1000}?)(?<=\S)\*\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w_])__(?=[^\s_])(?!\w+__)(.{1,1000}?)(?<=[^\s_])__(?![\w_])"), "b"),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])(.{1,1000}?)(?<=[^\s*])\*(?![\w*])"), "i"),
    (re.compile(r"(?<![\w_])_(?=[^\s_])(.{1,1000}?)(?<=[^\s_])_(?![\w_])"), "i"),
    (re.compile(r"(?<![\w~])~~(?=[^\s~])(.{1,1000}?)(?<=[^\s~])~~(?![\w~])"), "s"),
]
_BULLET_RE = re.compile(r"^\s*[-*+•]\s+(.*)$")
_NUMBERED_RE = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_BLOCK_TAGS = r"(?:p|div|ul|ol|li|table|thead|tbody|tfoot|tr|td|th|blockquote|pre|hr|br|h[1-6]|section|article)"
_ENDS_BLOCK = re.compile(r"<" r"/?" + _BLOCK_TAGS + r"\b[^<>]*>\s*$", re.I)
_STARTS_BLOCK = re.compile(r"^\s*<" r"/?" + _BLOCK_TAGS + r"\b", re.I)


class _Shield:
    """Swaps finished HTML for placeholders so later rules cannot touch it."""

    def __init__(self) -> None:
        self.saved: List[str] = []

    def put(self, html: str) -> str:
        self.saved.append(html)
        return "\ufdd0%d\ufdd1" % (len(self.saved) - 1)

    def sub(self, pattern: "re.Pattern[str]", make: Callable[["re.Match[str]"], str], text: str) -> str:
        return pattern.sub(lambda m: self.put(make(m)), text)

    def restore(self, text: str) -> str:
        for _ in range(len(self.saved) + 1):  # shielded pieces may contain placeholders
            if "\ufdd0" not in text:
                break
            text = _PLACEHOLDER_RE.sub(lambda m: self.saved[int(m.group(1))], text)
        return text


def _code(text: str) -> str:
    return escape(text, quote=False)


def _math(m: "re.Match[str]") -> str:
    """MathJax source must stay text: ``\\(a<b\\)`` would otherwise contain a ``<b`` tag."""
    return m.group(0).replace("<", "&lt;").replace(">", "&gt;")


def _dollar_math(m: "re.Match[str]") -> str:
    """TeX dollars become MathJax delimiters, the source kept as text like ``_math``."""
    body = m.group(1)
    if m.re is _DISPLAY_DOLLAR_RE:
        if not body.strip():
            return m.group(0)
        source = "\\[" + body.strip() + "\\]"
    else:
        source = "\\(" + body + "\\)"
    return source.replace("<", "&lt;").replace(">", "&gt;")


def _shield_text(text: str, shield: _Shield) -> str:
    """Shield real tags, comments and declarations; escape every other ``<``."""
    out: List[str] = []
    pos = 0
    while True:
        i = text.find("<", pos)
        if i < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:i])
        if text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            end = len(text) if end < 0 else end + 3  # unclosed: the sanitizer drops the rest
            out.append(shield.put(text[i:end]))
            pos = end
            continue
        m = _TAG_RE.match(text, i) or _DECL_RE.match(text, i)
        if m and m.re is _DECL_RE:
            out.append(shield.put(m.group(0)))
            pos = m.end()
            continue
        if m:
            name = m.group(2)
            if name.lower() in _HTML_NAMES and not (len(name) == 1 and name.isupper()):
                out.append(shield.put(m.group(0)))
                pos = m.end()
                continue
        out.append("&lt;")
        pos = i + 1


def _inline(text: str, shield: _Shield) -> str:
    for pattern, tag in _INLINE_RULES:
        text = pattern.sub(lambda m: shield.put("<%s>" % tag) + m.group(1) + shield.put("</%s>" % tag), text)
    return text


def _blocks(text: str, shield: _Shield) -> str:
    """Lists, headings and line breaks, one line at a time."""
    out: List[str] = []
    open_list = ""
    for line in text.split("\n"):
        bullet = _BULLET_RE.match(line)
        numbered = None if bullet else _NUMBERED_RE.match(line)
        item = bullet or numbered
        kind = "ul" if bullet else "ol" if numbered else ""
        if open_list and kind != open_list:
            out[-1] += "</%s>" % open_list
            open_list = ""
        if item:
            html = "<li>%s</li>" % shield.restore(_inline(item.group(1), shield))
            if not open_list:
                html = "<%s>" % kind + html
                open_list = kind
                out.append(html)
            else:
                out[-1] += html
            continue
        heading = _HEADING_RE.match(line)
        if heading:
            out.append("<b>%s</b>" % shield.restore(_inline(heading.group(1), shield)))
        else:
            out.append(shield.restore(_inline(line, shield)))
    if open_list:
        out[-1] += "</%s>" % open_list
    # Drop blank lines at both ends, then join with <br> except next to block-level HTML.
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    html = ""
    after_block = True  # a blank line right after a block adds no extra break
    for line in out:
        if html and not after_block and not _STARTS_BLOCK.match(line):
            html += "<br>"
        html += line
        after_block = bool(_ENDS_BLOCK.search(line)) or (after_block and not line.strip())
    return html


def markdown_inline_to_html(text: str) -> str:
    """Convert the Markdown a model typically writes into HTML (not yet sanitized)."""
    if not text:
        return ""
    shield = _Shield()
    # The placeholders are noncharacters, which the sanitizer removes from the input anyway.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufdd0", "").replace("\ufdd1", "")
    text = shield.sub(_FENCE_RE, lambda m: "<pre><code>%s</code></pre>" % _code(m.group(1)), text)
    text = shield.sub(_CODE_RE, lambda m: "<code>%s</code>" % _code(m.group(2).strip() or m.group(2)), text)
    text = shield.sub(_DISPLAY_DOLLAR_RE, _dollar_math, text)
    text = shield.sub(_INLINE_DOLLAR_RE, _dollar_math, text)
    text = shield.sub(_MATH_RE, _math, text)
    text = shield.sub(_ESCAPED_RE, lambda m: _code(m.group(1)), text)
    text = shield.sub(_AUTOLINK_RE, lambda m: '<a href="%s">%s</a>' % (escape(m.group(1)), _code(m.group(1))), text)
    text = _shield_text(text, shield)
    text = _LINK_RE.sub(
        lambda m: shield.put('<a href="%s">' % escape(m.group(2))) + m.group(1) + shield.put("</a>"), text
    )
    text = shield.sub(_URL_RE, lambda m: m.group(0), text)  # no emphasis inside URLs
    return shield.restore(_blocks(text, shield))


_EDGE_BREAKS = re.compile(r"^(?:\s|<br>)+|(?:\s|<br>)+$")


# Characters that start a Markdown or HTML rule above, or that the sanitizer writes otherwise
# (``>`` as ``&gt;``, a no-break space as ``&nbsp;``), or the shield's placeholders.
_MARKUP_CHAR = re.compile(r"[\n\r*_`$\\<>&\[\]~#\xa0\ufdd0\ufdd1]")


def _plain(text: str) -> bool:
    """True when no rule of this module or the sanitizer would change ``text`` beyond dropping
    its control characters: one line with no markup character and not a list item."""
    return _MARKUP_CHAR.search(text) is None and not _BULLET_RE.match(text) and not _NUMBERED_RE.match(text)


def to_field_html(text: str) -> str:
    """What every field of every card goes through: Markdown to HTML, sanitized, trimmed."""
    if _plain(text):  # the usual field: a sentence; the same result without parsing it twice
        return _EDGE_BREAKS.sub("", _clean_text(text))
    return _EDGE_BREAKS.sub("", sanitize_html(markdown_inline_to_html(text)))
