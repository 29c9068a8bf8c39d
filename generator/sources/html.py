"""HTML (web pages, EPUB chapters, Anki note fields) to blocks, with BeautifulSoup's
"html.parser" (bundled with Anki; no lxml).

h1-h6 become headings, li list items (numbered in <ol>), and p/div/td/blockquote/pre/...
paragraphs. <br> is a line break inside a block. script/style/nav/head and other non-content
elements are dropped. A table of plain cells reads one row per paragraph ("cell | cell");
a layout table (cells holding headings, paragraphs or lists) is read cell by cell.
"""
import re
from typing import List, Optional, Tuple

from .document import HEADING, LIST_ITEM, PARAGRAPH, Block

DROP = frozenset((
    "script", "style", "nav", "head", "noscript", "template", "svg", "iframe", "object",
    "embed", "canvas", "button", "select", "option", "input", "textarea", "map", "audio",
    "video", "annotation", "annotation-xml", "title", "meta", "link", "base", "footer",
))
BLOCKS = frozenset((
    "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote",
    "pre", "figure", "figcaption", "address", "details", "summary", "dl", "dt", "dd", "ul",
    "ol", "li", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "hr", "form",
    "fieldset", "legend", "center", "body", "html", "h1", "h2", "h3", "h4", "h5", "h6",
    "hgroup", "menu", "dir", "frameset", "noframes", "body", "output", "search",
))
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Cells holding any of these make a layout table, read cell by cell rather than row by row.
_STRUCTURE = ["h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre",
              "section", "article", "dl"]

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I
)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""")
_SPACES = re.compile(r"[ \t\n\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def declared_charset(data: bytes) -> Optional[str]:
    """The charset an HTML/XML document declares in its first 4 KB, if any."""
    head = data[:4096]
    m = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    if not m:
        return None
    name = m.group(1).decode("ascii", "replace").lower()
    if name in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "iso8859-1", "windows-1252"):
        return "cp1252"  # what browsers do
    return name


def decode_html(data: bytes) -> str:
    """Decode HTML bytes: BOM, valid UTF-8, the declared charset, then detection."""
    import codecs

    from .textfix import decode_bytes, fix_text

    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode_bytes(data)
    try:
        return fix_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    declared = declared_charset(data)
    if declared and declared not in ("utf-8", "utf8"):
        try:
            codecs.lookup(declared)
        except LookupError:
            declared = None
        if declared:
            from .charset import ERRORS

            errors = ERRORS if declared == "cp1252" else "replace"
            return fix_text(data.decode(declared, errors))
    return decode_bytes(data)


class _Walker:
    def __init__(self, location: str) -> None:
        self.location = location
        self.blocks: List[Block] = []
        self.buf: List[str] = []
        self.kinds: List[Tuple[str, int]] = [(PARAGRAPH, 0)]
        self.prefix = ""  # "3. " for the next flush of an <ol> item
        self.ol: List[List[int]] = []
        self.pre = 0
        self.cells: List[List[List[str]]] = []  # one list of cells per open data-table row
        self.data_tables: List[bool] = []

    def flush(self) -> None:
        if not self.buf:
            return
        raw = "".join(self.buf)
        self.buf = []
        if self.pre:
            lines = [line.rstrip() for line in raw.split("\n")]
            while lines and not lines[0].strip():
                lines.pop(0)
            while lines and not lines[-1].strip():
                lines.pop()
            text = "\n".join(lines)
        else:
            lines = [" ".join(line.split()) for line in raw.split("\n")]
            text = "\n".join(line for line in lines if line)
        if not text.strip():
            return
        kind, level = self.kinds[-1]
        if kind == LIST_ITEM and self.prefix:
            text = self.prefix + text
            self.prefix = ""
        if kind == HEADING:
            text = " ".join(text.split())
            while text.endswith(":"):
                text = text[:-1].rstrip()
            if not text:
                return
        self.blocks.append(Block(kind, text, level, self.location))

    def _cell(self) -> List[str]:
        row = self.cells[-1]
        if not row:
            row.append([])
        return row[-1]

    def text(self, s: str) -> None:
        if self.cells:
            self._cell().append(s if self.pre else _SPACES.sub(" ", s))
        elif self.pre:
            self.buf.append(s)
        else:
            self.buf.append(_SPACES.sub(" ", s))

    def newline(self) -> None:
        if self.cells:
            self._cell().append("\n")
        else:
            self.buf.append("\n")

    def enter(self, tag) -> bool:
        """Returns False if the element's content is to be skipped."""
        name = tag.name
        if name in DROP or (name == "div" and tag.get("hidden") is not None):
            return False
        if name == "br":
            self.newline()
            return True
        if name == "sup":
            last = self._last_char()
            if last and last.isalnum():
                self.text("^")
            return True
        if name == "img":
            return True
        if self.cells and name not in ("tr", "td", "th", "table"):
            # inside a data-table cell: blocks only separate words
            if name in BLOCKS:
                self._cell().append(" ")
            return True
        if name not in BLOCKS:
            return True
        if name == "table":
            self.flush()
            data = tag.find(_STRUCTURE) is None
            self.data_tables.append(data)
            return True
        if name == "tr" and self.data_tables and self.data_tables[-1]:
            self.flush()
            self.cells.append([])
            return True
        if name in ("td", "th") and self.cells:
            self.cells[-1].append([])
            return True
        self.flush()
        if name in HEADINGS:
            self.kinds.append((HEADING, HEADINGS[name]))
        elif name == "li":
            self.kinds.append((LIST_ITEM, 0))
            if self.ol and self.ol[-1][1]:
                self.prefix = f"{self.ol[-1][0]}. "
                self.ol[-1][0] += 1
            else:
                self.prefix = ""
        elif name in ("ol", "ul", "menu", "dir"):
            if name == "ol":
                try:
                    start = int(tag.get("start") or 1)
                except (TypeError, ValueError):
                    start = 1
                self.ol.append([start, 1])
            else:
                self.ol.append([0, 0])
        elif name == "pre":
            self.pre += 1
        elif name in ("p", "dt", "dd", "blockquote", "figcaption", "caption", "summary", "td", "th"):
            # a paragraph inside a list item is still that item's text
            if self.kinds[-1][0] != LIST_ITEM:
                self.kinds.append((PARAGRAPH, 0))
            else:
                self.kinds.append(self.kinds[-1])
        return True

    def exit(self, tag) -> None:
        name = tag.name
        if name in DROP or name in ("br", "img", "sup") or name not in BLOCKS:
            return
        if self.cells and name not in ("tr", "td", "th", "table"):
            self._cell().append(" ")
            return
        if name == "table":
            if self.data_tables:
                self.data_tables.pop()
            self.flush()
            return
        if name == "tr" and self.cells and self.data_tables and self.data_tables[-1]:
            row = self.cells.pop()
            texts = [" ".join("".join(cell).split()) for cell in row]
            line = " | ".join(t for t in texts if t)
            if line:
                kind = LIST_ITEM if self.kinds[-1][0] == LIST_ITEM else PARAGRAPH
                self.blocks.append(Block(kind, line, 0, self.location))
            return
        if name in ("td", "th") and self.cells:
            return
        self.flush()
        if name in HEADINGS or name == "li":
            if len(self.kinds) > 1:
                self.kinds.pop()
            if name == "li":
                self.prefix = ""
        elif name in ("ol", "ul", "menu", "dir"):
            if self.ol:
                self.ol.pop()
        elif name == "pre":
            self.pre = max(0, self.pre - 1)
        elif name in ("p", "dt", "dd", "blockquote", "figcaption", "caption", "summary", "td", "th"):
            if len(self.kinds) > 1:
                self.kinds.pop()

    def _last_char(self) -> str:
        target = self._cell() if self.cells else self.buf
        for piece in reversed(target):
            if piece:
                return piece[-1]
        return ""


_quiet: List[bool] = []


def _soup(html: str):
    from ..libs import load

    bs4 = load("bs4")
    if not _quiet:
        # bs4 warns when a short text "looks like a file name or URL": normal for note fields.
        import warnings

        category = getattr(bs4, "MarkupResemblesLocatorWarning", None)
        if category is not None:
            warnings.filterwarnings("ignore", category=category)
        _quiet.append(True)
    return bs4, bs4.BeautifulSoup(html, "html.parser")


def parse_html(html: str, location: str = "") -> Tuple[str, List[Block]]:
    """(title, blocks) of an HTML document or fragment. The title is <title>, or "" if none."""
    bs4, soup = _soup(html)
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text(" ").split()) if title_tag else ""
    walker = _Walker(location)
    navigable = bs4.NavigableString
    special = getattr(bs4.element, "PreformattedString", ())
    tag_type = bs4.Tag
    stack = [(soup, False)]
    while stack:
        node, entered = stack.pop()
        if entered:
            walker.exit(node)
            continue
        if isinstance(node, tag_type):
            if node is soup or walker.enter(node):
                stack.append((node, True))
                children = node.contents
                for child in reversed(children):
                    stack.append((child, False))
        elif isinstance(node, navigable) and not (special and isinstance(node, special)):
            walker.text(str(node))
    walker.flush()
    if walker.cells:  # an unclosed row
        for row in walker.cells:
            texts = [" ".join("".join(cell).split()) for cell in row]
            line = " | ".join(t for t in texts if t)
            if line:
                walker.blocks.append(Block(PARAGRAPH, line, 0, location))
    return title, walker.blocks


def html_blocks(html: str, location: str = "") -> List[Block]:
    return parse_html(html, location)[1]
