"""Word .docx to blocks with zipfile and xml.etree only (python-docx needs lxml, which is not
pure Python).

Paragraph styles "Title" and "Heading N" (also localised ones, found through styles.xml and
outline levels) become headings; numbered or bulleted paragraphs (w:numPr) become list items,
numbered ones keeping their number; a table of simple cells reads one row per paragraph
("cell | cell"). Deleted text of tracked changes, field codes and fallback copies of text
boxes are skipped. A block's ``page`` is known when Word saved where it broke the pages
(``w:lastRenderedPageBreak``); a file without them (written by a program that lays out no
pages) has none.
"""
import io
import re
import xml.etree.ElementTree as ET
from typing import Dict, Iterator, List, Optional, Tuple, Union

from .document import HEADING, LIST_ITEM, PARAGRAPH, Block
from ..errors import UnreadableSource
from ..outside import shown
from .archive import SafeZip, check_xml, parse_xml

_HEADING_NAME = re.compile(r"^(?:heading|berschrift|überschrift|titre|titolo|encabezado|título|kop|rubrik|nagłówek)\s*(\d)$")
_TOC_STYLE = re.compile(r"^(?:toc\s*\d|toc\s*heading|table of contents)")
_ORDERED_FORMATS = frozenset(("decimal", "decimalZero", "upperRoman", "lowerRoman", "upperLetter",
                              "lowerLetter", "decimalEnclosedParen", "decimalEnclosedCircle"))
_SKIP = frozenset(("delText", "instrText", "Fallback", "footnoteReference", "endnoteReference",
                   "commentReference", "rPr", "pPr", "del", "moveFrom"))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag


def _attr(el: ET.Element, name: str) -> Optional[str]:
    for key, value in el.attrib.items():
        if _local(key) == name:
            return value
    return None


def _child(el: ET.Element, name: str) -> Optional[ET.Element]:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


class _Style:
    __slots__ = ("name", "outline", "numbered", "based_on")

    def __init__(self) -> None:
        self.name = ""
        self.outline: Optional[int] = None
        self.numbered = False
        self.based_on: Optional[str] = None


def _parse(data: bytes, label: str, part: str) -> ET.Element:
    return parse_xml(data, label, part,
                     "Open it in Word or LibreOffice and save it again as .docx, or export it as PDF.")


def _styles(root: Optional[ET.Element]) -> Dict[str, _Style]:
    styles: Dict[str, _Style] = {}
    if root is None:
        return styles
    for el in root:
        if _local(el.tag) != "style":
            continue
        sid = _attr(el, "styleId")
        if not sid:
            continue
        st = _Style()
        for c in el:
            tag = _local(c.tag)
            if tag == "name":
                st.name = (_attr(c, "val") or "").strip().lower()
            elif tag == "basedOn":
                st.based_on = _attr(c, "val")
            elif tag == "pPr":
                for p in c:
                    ptag = _local(p.tag)
                    if ptag == "outlineLvl":
                        try:
                            st.outline = int(_attr(p, "val") or "9")
                        except ValueError:
                            pass
                    elif ptag == "numPr":
                        num = _child(p, "numId")
                        st.numbered = num is None or (_attr(num, "val") or "0") != "0"
        styles[sid] = st
    return styles


def _style_info(styles: Dict[str, _Style], sid: Optional[str]) -> Tuple[int, bool]:
    """(heading level or 0, numbered) for a style id, following basedOn."""
    level = 0
    numbered = False
    seen = 0
    name_checked = False
    if sid and sid not in styles:  # no styles part: go by the id ("Heading2", "Title")
        low = sid.lower()
        if low == "title":
            return 1, False
        m = _HEADING_NAME.match(low)
        if m and 1 <= int(m.group(1)) <= 9:
            return min(6, int(m.group(1))), False
        return 0, low.startswith(("listbullet", "listnumber"))
    while sid and sid in styles and seen < 12:
        st = styles[sid]
        if not name_checked:
            name_checked = True
            name = st.name or sid.lower()
            if name in ("title",):
                return 1, False
            m = _HEADING_NAME.match(name) or _HEADING_NAME.match(sid.lower())
            if m and 1 <= int(m.group(1)) <= 9:
                return min(6, int(m.group(1))), False
            if name.startswith(("list bullet", "list number")):
                numbered = True
        if st.outline is not None and st.outline < 9 and not level:
            level = min(6, st.outline + 1)
        numbered = numbered or st.numbered
        sid = st.based_on
        seen += 1
    return level, numbered


def _style_name(styles: Dict[str, _Style], sid: Optional[str]) -> str:
    st = styles.get(sid or "")
    return st.name if st is not None else (sid or "").lower()


def _numbering(root: Optional[ET.Element]) -> Dict[Tuple[str, int], bool]:
    """(numId, level) -> True if that list level is numbered (not bullets)."""
    ordered: Dict[Tuple[str, int], bool] = {}
    if root is None:
        return ordered
    abstract: Dict[str, Dict[int, bool]] = {}
    for el in root:
        if _local(el.tag) == "abstractNum":
            aid = _attr(el, "abstractNumId") or ""
            levels: Dict[int, bool] = {}
            for lvl in el:
                if _local(lvl.tag) != "lvl":
                    continue
                try:
                    ilvl = int(_attr(lvl, "ilvl") or "0")
                except ValueError:
                    continue
                fmt = _child(lvl, "numFmt")
                levels[ilvl] = fmt is not None and (_attr(fmt, "val") or "") in _ORDERED_FORMATS
            abstract[aid] = levels
    for el in root:
        if _local(el.tag) == "num":
            nid = _attr(el, "numId") or ""
            ref = _child(el, "abstractNumId")
            levels = abstract.get(_attr(ref, "val") or "", {}) if ref is not None else {}
            for ilvl, is_ordered in levels.items():
                ordered[(nid, ilvl)] = is_ordered
    return ordered


def _text(p: ET.Element) -> str:
    """The visible text of a paragraph (runs, hyperlinks, insertions, text boxes)."""
    out: List[str] = []
    stack = [p]
    first = True
    while stack:
        el = stack.pop()
        tag = _local(el.tag)
        if not first:
            if tag in _SKIP:
                continue
            if tag == "t":
                if el.text:
                    out.append(el.text)
            elif tag == "tab" or tag == "ptab":
                out.append("\t")
            elif tag in ("br", "cr"):
                kind = _attr(el, "type")
                out.append(" " if kind == "page" or kind == "column" else "\n")
            elif tag == "noBreakHyphen":
                out.append("-")
            elif tag == "p":  # a paragraph inside a text box
                out.append("\n")
        first = False
        children = list(el)
        if children:
            stack.extend(reversed(children))
    lines = [" ".join(line.split()) for line in "".join(out).split("\n")]
    return "\n".join(line for line in lines if line)


def _is_toc(sdt: ET.Element) -> bool:
    """A content control holding Word's table of contents."""
    for el in sdt.iter():
        if _local(el.tag) == "docPartGallery" and (_attr(el, "val") or "").lower().startswith("table of contents"):
            return True
        if _local(el.tag) == "sdtContent":
            break
    return False


def _page_breaks(el: ET.Element) -> Tuple[int, int]:
    """The page breaks Word rendered inside ``el`` (``w:lastRenderedPageBreak``, written where a
    page ended when the file was last saved): (before any text, after some)."""
    before = after = 0
    text = False
    for child in el.iter():
        tag = _local(child.tag)
        if tag == "t":
            text = text or bool(child.text and child.text.strip())
        elif tag == "lastRenderedPageBreak":
            if text:
                after += 1
            else:
                before += 1
    return before, after


class _Reader:
    def __init__(self, styles: Dict[str, _Style], ordered: Dict[Tuple[str, int], bool],
                 paged: bool = False) -> None:
        self.styles = styles
        self.ordered = ordered
        self.counters: Dict[str, List[int]] = {}
        self.titled = False  # a Title paragraph came first: headings sit one level below it
        # The page the next paragraph starts on, when the file says where Word broke its pages
        # (0 when it does not: a file written by a program that does not lay out pages).
        self.page = 1 if paged else 0

    def _paged(self, el: ET.Element) -> int:
        """The page ``el`` starts on (0 = not known); counts the page breaks inside it."""
        if not self.page:
            return 0
        before, after = _page_breaks(el)
        page = self.page + before
        self.page = page + after
        return page

    def paragraph(self, p: ET.Element) -> Optional[Block]:
        block = self._paragraph(p)
        page = self._paged(p)
        if block is not None:
            block.page = page
        return block

    def _paragraph(self, p: ET.Element) -> Optional[Block]:
        text = _text(p)
        if not text:
            return None
        ppr = _child(p, "pPr")
        sid = None
        num_id = None
        ilvl = 0
        outline = None
        if ppr is not None:
            for c in ppr:
                tag = _local(c.tag)
                if tag == "pStyle":
                    sid = _attr(c, "val")
                elif tag == "numPr":
                    n = _child(c, "numId")
                    lv = _child(c, "ilvl")
                    num_id = _attr(n, "val") if n is not None else None
                    try:
                        ilvl = int(_attr(lv, "val") or "0") if lv is not None else 0
                    except ValueError:
                        ilvl = 0
                elif tag == "outlineLvl":
                    try:
                        outline = int(_attr(c, "val") or "9")
                    except ValueError:
                        outline = None
        if _TOC_STYLE.match(_style_name(self.styles, sid)):
            return None  # table-of-contents entries ("Introduction<tab>3")
        level, style_numbered = _style_info(self.styles, sid)
        if outline is not None and outline < 9:
            level = min(6, outline + 1)
        if level:
            if level == 1 and (sid or "").lower() == "title" or _style_name(self.styles, sid) == "title":
                self.titled = True
            elif self.titled:
                level = min(6, level + 1)
            text = " ".join(text.split())
            while text.endswith(":"):
                text = text[:-1].rstrip()
            return Block(HEADING, text, level) if text else None
        if num_id == "0":
            return Block(PARAGRAPH, text)
        if num_id is not None or style_numbered:
            if num_id is not None and self.ordered.get((num_id, ilvl)):
                counts = self.counters.setdefault(num_id, [0] * 10)
                if ilvl < len(counts):
                    counts[ilvl] += 1
                    for deeper in range(ilvl + 1, len(counts)):
                        counts[deeper] = 0
                    text = f"{counts[ilvl]}. {text}"
            return Block(LIST_ITEM, text)
        return Block(PARAGRAPH, text)

    def table(self, tbl: ET.Element) -> Iterator[Block]:
        rows = []
        for child in tbl:  # rows, possibly wrapped in content controls
            tag = _local(child.tag)
            if tag == "tr":
                rows.append(child)
            elif tag in ("sdt", "customXml"):
                rows.extend(r for r in child.iter() if _local(r.tag) == "tr")
        for row in rows:
            page = self._paged(row)
            cells: List[str] = []
            for cell in row:
                if _local(cell.tag) != "tc":
                    continue
                texts = []
                for p in cell.iter():
                    if _local(p.tag) == "p":
                        t = _text(p)
                        if t:
                            texts.append(" ".join(t.split()))
                if texts:
                    cells.append(" ".join(texts))
            if cells:
                yield Block(PARAGRAPH, " | ".join(cells), page=page)

    def body(self, el: ET.Element) -> Iterator[Block]:
        for child in el:
            tag = _local(child.tag)
            if tag == "p":
                block = self.paragraph(child)
                if block is not None:
                    yield block
            elif tag == "tbl":
                yield from self.table(child)
            elif tag in ("sdt", "sdtContent", "customXml", "ins", "smartTag"):
                if tag == "sdt" and _is_toc(child):
                    continue
                yield from self.body(child)


def docx_blocks(source: Union[str, bytes], label: str) -> List[Block]:
    """Blocks of a .docx given as a path or bytes."""
    z = SafeZip(source, label, "Word document")
    try:
        main = "word/document.xml"
        rels = z.read("_rels/.rels", missing_ok=True)
        if rels:
            m = re.search(rb'Type="[^"]*/officeDocument"[^>]*Target="([^"]+)"', rels) or \
                re.search(rb'Target="([^"]+)"[^>]*Type="[^"]*/officeDocument"', rels)
            if m:
                main = m.group(1).decode("utf-8", "replace").lstrip("/")
        if not z.find(main):
            raise UnreadableSource(
                f"'{label}' is not a Word document: it has no '{main}' part.",
                "If it is another Office format (.xlsx, .pptx, .odt), save or export it as .docx or PDF.",
            )
        folder = main.rsplit("/", 1)[0] + "/" if "/" in main else ""
        styles_data = z.read(folder + "styles.xml", missing_ok=True)
        numbering_data = z.read(folder + "numbering.xml", missing_ok=True)
        styles = _styles(_parse(styles_data, label, "styles.xml") if styles_data else None)
        ordered = _numbering(_parse(numbering_data, label, "numbering.xml") if numbering_data else None)
        data = z.read(main)
        check_xml(data, label, main)
        reader = _Reader(styles, ordered, b"lastRenderedPageBreak" in data)
        blocks: List[Block] = []
        try:
            depth = 0
            body_depth = None
            for event, el in ET.iterparse(io.BytesIO(data), events=("start", "end")):
                if event == "start":
                    depth += 1
                    if body_depth is None and _local(el.tag) == "body":
                        body_depth = depth
                    continue
                if body_depth is not None and depth == body_depth + 1:
                    tag = _local(el.tag)
                    if tag == "p":
                        block = reader.paragraph(el)
                        if block is not None:
                            blocks.append(block)
                    elif tag == "tbl":
                        blocks.extend(reader.table(el))
                    elif tag in ("sdt", "customXml", "ins", "smartTag"):
                        if not (tag == "sdt" and _is_toc(el)):
                            blocks.extend(reader.body(el))
                    el.clear()  # keep memory bounded on big documents
                depth -= 1
        except ET.ParseError as err:
            raise UnreadableSource(
                f"'{label}' is damaged: its text is not valid XML ({shown(err)}).",
                "Open it in Word or LibreOffice and save it again as .docx, or export it as PDF.",
            ) from None
        return blocks
    finally:
        z.close()
