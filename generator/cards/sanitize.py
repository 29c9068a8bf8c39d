"""Allow-list HTML sanitizer for model output that ends up in Anki note fields.

Model output is untrusted: Anki renders fields in a web view. The sanitizer never passes input
through. It tokenizes with the stdlib ``HTMLParser`` and *re-serializes* only what it allows:
known harmless tags, a handful of attributes (quoted and escaped), and text with ``& < >``
escaped. Whatever our tokenizer and a browser disagree on can therefore only turn into
harmless escaped text, never into markup.

Decisions:

* ``img`` is dropped entirely (with ``audio``/``video``/``picture``...): an image is the classic
  remote-load / ``onerror`` vector. The one exception: ``images``, an allow-list of plain file
  names the add-on itself wrote into the collection's media (figure cards); an ``img`` whose
  first ``src`` is exactly one of them is written as ``<img src="name">``, nothing else kept.
* No ``style`` (``url()`` loads, ``expression()``), no ``class``/``id`` (they can hook into a
  card template's CSS or scripts; Anki adds its own ``cloze`` class at render time).
* Links keep only absolute ``http``/``https``/``mailto`` URLs and get ``rel="noopener noreferrer"``;
  relative URLs are meaningless in a card. An ``a`` without a usable ``href`` keeps only its text.
  A ``file:`` link (a card's link to the document it came from) passes only when it is in
  ``links``, the links the add-on built from a path it read, and has the one form
  ``source_link`` makes (``is_source_link``): a model can never write one. Clicking a ``file:``
  link opens the file with the system's default program, so any other would be a way to run one.
* ``h1``-``h6`` become ``<div><b>…</b></div>`` so headings do not blow up a card's layout;
  other block elements (section, article, dl, ...) become ``div`` so text does not run together;
  ``strike``/``del`` become ``s`` and ``ins`` becomes ``u``.
* Unknown inline tags (``font``, ``blink``...) are dropped, their text kept. Script-like and
  foreign-content elements are dropped *with* their content (an unclosed one eats the rest),
  and so is markup cut off by the end of the input, as in a browser.
* Control characters are removed before parsing; ``&nbsp;`` is written as ``&nbsp;``.
"""
import re
from html import escape
from html.parser import HTMLParser
from typing import AbstractSet, Dict, FrozenSet, List, Optional, Tuple

__all__ = ["sanitize_html", "html_to_text", "safe_href", "source_link", "is_source_link", "ALLOWED_TAGS",
           "ALLOWED_ATTRIBUTES"]

ALLOWED_TAGS: FrozenSet[str] = frozenset(
    "b strong i em u s sub sup code pre kbd br p div span ul ol li blockquote hr "
    "table thead tbody tr th td a".split()
)
ALLOWED_ATTRIBUTES: Dict[str, FrozenSet[str]] = {
    "a": frozenset({"href", "rel"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan"}),
}
SAFE_SCHEMES: FrozenSet[str] = frozenset({"http", "https", "mailto"})

_VOID = frozenset("area base br col embed hr img input keygen link meta param source track wbr".split())
# Elements dropped together with everything inside them.
_DROP_CONTENT = frozenset(
    "script style iframe frame frameset object embed applet svg math template noscript noembed "
    "noframes title head textarea select option optgroup datalist button xmp plaintext "
    "audio video canvas picture map".split()
)
_RENAME = {"strike": "s", "del": "s", "ins": "u"}
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_AS_DIV = frozenset(
    "section article aside header footer nav main figure figcaption address details summary "
    "dl dt dd center fieldset legend hgroup dialog".split()
)
# Block-level output tags: text on either side of them is separate for html_to_text.
_BLOCK = frozenset("br p div ul ol li blockquote hr pre table thead tbody tr th td".split())

# Opening tag T implicitly closes an open element in ``closes`` unless a ``stop`` element is
# nearer on the stack (a tiny subset of the HTML tree-building rules, so nesting stays sane).
_P_RULE = (frozenset({"p"}), frozenset({"table", "td", "th"}))
_IMPLIED: Dict[str, Tuple[Tuple[FrozenSet[str], FrozenSet[str]], ...]] = {
    "li": ((frozenset({"li"}), frozenset({"ul", "ol", "table", "td", "th"})), _P_RULE),
    "td": ((frozenset({"td", "th"}), frozenset({"tr", "table"})),),
    "th": ((frozenset({"td", "th"}), frozenset({"tr", "table"})),),
    "tr": ((frozenset({"tr"}), frozenset({"table", "thead", "tbody"})),),
    "thead": ((frozenset({"thead", "tbody"}), frozenset({"table"})),),
    "tbody": ((frozenset({"thead", "tbody"}), frozenset({"table"})),),
}
_IMPLIED.update({t: (_P_RULE,) for t in ("p", "div", "ul", "ol", "table", "blockquote", "pre", "hr")})

# C0/C1 controls (except tab, LF, CR) and noncharacters never belong in a field.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
_SCHEME_RE = re.compile(r"([a-z][a-z0-9+.\-]*):")
_EOF_IN_MARKUP_RE = re.compile(r"<(?:[a-zA-Z!?]|/[a-zA-Z])")
_DIGITS_RE = re.compile(r"\s*(\d{1,3})\s*$")
_PLAIN_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,150}$")


def safe_href(value: str) -> Optional[str]:
    """The URL to emit if ``value`` (entity-decoded already) is an absolute http, https or mailto
    URL, else None. Tabs and newlines are removed and the ends stripped, as a browser's URL
    parser does; after that the scheme must be spelt out literally, so ``jav\tascript:``,
    ``&#106;avascript:``, `` JAVASCRIPT:`` or a zero-width space inside a scheme all fail."""
    if _CONTROL_RE.search(value):
        return None
    url = re.sub(r"[\t\n\r]", "", value).strip()
    m = _SCHEME_RE.match(url.lower())
    if not m or m.group(1) not in SAFE_SCHEMES or m.end() == len(url):
        return None
    return url


# The one form of a link to a source document: an absolute path, every character but letters,
# digits and "/._~-" percent-encoded (a Windows drive letter aside), and at most a page number.
_SOURCE_LINK_RE = re.compile(r"^file:///(?:[A-Za-z]:/)?[A-Za-z0-9%/._~-]{1,4000}(?:#page=[1-9][0-9]{0,5})?$")


def source_link(path: str, page: int = 0) -> str:
    """The ``file:`` URL of the document at ``path`` (absolute), with ``#page=N`` for a PDF page;
    "" if the path cannot be written in the one safe form."""
    import os
    from pathlib import Path

    if not path or not os.path.isabs(path) or _CONTROL_RE.search(path):
        return ""
    try:
        url = Path(path).as_uri()
    except ValueError:
        return ""
    if page and path.lower().endswith(".pdf"):
        url += "#page=%d" % page
    return url if is_source_link(url) else ""


def is_source_link(url: str) -> bool:
    """``url`` has the form ``source_link`` makes (nothing that could smuggle a script, a query
    or another scheme)."""
    return bool(_SOURCE_LINK_RE.match(url)) and "%00" not in url and "/../" not in url + "/"


def _clean_text(text: str) -> str:
    return _CONTROL_RE.sub("", text)


class _Sanitizer(HTMLParser):
    """Event handler that rebuilds the document from allowed pieces only."""

    def __init__(self, images: AbstractSet[str] = frozenset(), links: AbstractSet[str] = frozenset()) -> None:
        super().__init__(convert_charrefs=True)
        self.images = images
        self.links = links
        self.out: List[str] = []
        # Open output elements: (input tag name, closing html to emit).
        self.stack: List[Tuple[str, str]] = []
        # Names of open elements inside a dropped element; non-empty means "drop everything".
        self.dropping: List[str] = []

    # --- events ---------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        if self.dropping:
            if tag not in _VOID:
                self.dropping.append(tag)
            return
        if tag in _DROP_CONTENT:
            if tag not in _VOID:
                self.dropping.append(tag)
            return
        if tag == "img":
            src = next((v for k, v in attrs if k == "src"), None)  # a browser takes the first
            if src and src in self.images and _PLAIN_NAME_RE.match(src) and ".." not in src:
                self.out.append('<img src="%s">' % escape(src))
            return
        tag = _RENAME.get(tag, tag)
        if tag in _AS_DIV:
            self._open(tag, "div", "<div>", "</div>")
        elif tag in _HEADINGS:
            self._open(tag, "div", "<div><b>", "</b></div>")
        elif tag in ("br", "hr"):
            self._close_implied(tag)
            self.out.append("<%s>" % tag)
        elif tag == "a":
            href = next((v for k, v in attrs if k == "href" and v is not None), None)
            url = safe_href(href) if href is not None else None
            if href is not None and href in self.links and is_source_link(href):
                url = href
            if url is not None and not any(name == "a" for name, _ in self.stack):
                self._open("a", "a", '<a href="%s" rel="noopener noreferrer">' % escape(url), "</a>")
        elif tag in ALLOWED_TAGS:
            self._open(tag, tag, "<%s%s>" % (tag, self._span_attrs(tag, attrs)), "</%s>" % tag)

    def handle_startendtag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        # Browsers ignore the self-closing slash on HTML elements: ``<script/>`` opens a script.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.dropping:
            if tag in self.dropping:
                while self.dropping.pop() != tag:
                    pass
            return
        if tag == "br":  # models write </br> for a line break, and browsers agree
            self.out.append("<br>")
            return
        tag = _RENAME.get(tag, tag)
        names = [name for name, _ in self.stack]
        if tag in names:
            self._close_to(len(names) - 1 - names[::-1].index(tag))

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            # Anki's own editor writes a no-break space as &nbsp;, so do the same.
            self.out.append(escape(_clean_text(data), quote=False).replace("\xa0", "&nbsp;"))

    # Comments, doctypes, processing instructions and CDATA sections are dropped: the default
    # handlers for those events do nothing.

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        """``<![0`` and the like make the stdlib raise; read them as a browser does, as a bogus
        comment up to the next ``>``."""
        try:
            return super().parse_marked_section(i, report)
        except Exception:
            end = self.rawdata.find(">", i + 3)
            return -1 if end < 0 else end + 1

    # --- helpers --------------------------------------------------------------------------

    def _open(self, name: str, out_tag: str, open_html: str, close_html: str) -> None:
        self._close_implied(out_tag)
        self.out.append(open_html)
        self.stack.append((name, close_html))

    def _close_implied(self, out_tag: str) -> None:
        for closes, stops in _IMPLIED.get(out_tag, ()):
            for i in range(len(self.stack) - 1, -1, -1):
                name = self.stack[i][0]
                if name in closes:
                    self._close_to(i)
                    break
                if name in stops:
                    break

    def _close_to(self, index: int) -> None:
        while len(self.stack) > index:
            self.out.append(self.stack.pop()[1])

    @staticmethod
    def _span_attrs(tag: str, attrs: List[Tuple[str, Optional[str]]]) -> str:
        """colspan/rowspan on table cells, as small integers; nothing else survives."""
        if tag not in ("td", "th"):
            return ""
        parts = []
        for name in ("colspan", "rowspan"):
            value = next((v for k, v in attrs if k == name and v is not None), None)
            m = _DIGITS_RE.match(value or "")
            if m and 1 < int(m.group(1)) <= 100:
                parts.append(' %s="%d"' % (name, int(m.group(1))))
        return "".join(parts)

    def result(self) -> str:
        # Input that ends inside a tag or comment (``<b title="...`` with no closing quote):
        # a browser shows nothing of it, but older HTMLParser versions turn it into text.
        # Drop the unparsed tail so every Python version gives the browser's answer.
        if _EOF_IN_MARKUP_RE.match(self.rawdata):
            self.rawdata = ""
        self.close()
        self._close_to(0)
        return "".join(self.out)


def sanitize_html(html: str, images: AbstractSet[str] = frozenset(),
                  links: AbstractSet[str] = frozenset()) -> str:
    """Return ``html`` reduced to the allow-list: balanced, escaped, idempotent. ``images``:
    media file names the add-on wrote, which ``<img src>`` may show (nothing else may);
    ``links``: ``file:`` links to source documents the add-on built (``source_link``)."""
    if not html:
        return ""
    # Raw control characters never belong in a field, and tokenizers disagree about them
    # (``<script\x00>``): remove them before parsing.
    html = _clean_text(html)
    try:
        s = _Sanitizer(images, links)
        s.feed(html)
        return s.result()
    except Exception:  # the stdlib parser gave up on some odd construct: keep it all as text
        return escape(html, quote=False).replace("\xa0", "&nbsp;")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: List[str] = []

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        if tag in _BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.handle_starttag(tag, [])

    def handle_startendtag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of ``html`` (for duplicate checks and grounding): the text a reader sees in the
    sanitized field, entities decoded, whitespace folded to single spaces. Dropped elements such
    as scripts contribute nothing; block boundaries become a space."""
    if not html:
        return ""
    extractor = _TextExtractor()
    extractor.feed(sanitize_html(html))
    extractor.close()
    return " ".join("".join(extractor.parts).split())
