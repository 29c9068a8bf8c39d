"""EPUB to blocks: META-INF/container.xml -> the OPF package -> chapters in spine order, each
read with the HTML reader. A block's location is its chapter's first heading (or the chapter's
<title>, or its file name)."""
import posixpath
import re
import xml.etree.ElementTree as ET
from typing import Dict, List, Tuple, Union
from urllib.parse import unquote

from .document import HEADING, Block
from ..errors import EncryptedSource, UnreadableSource
from .archive import SafeZip, parse_xml
from .html import decode_html, parse_html

_HTML_TYPES = ("application/xhtml+xml", "text/html", "application/xml", "text/xml")
_FONT_OBFUSCATION = (b"http://www.idpf.org/2008/embedding", b"http://ns.adobe.com/pdf/enc#RC")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag


def _xml(z: SafeZip, part: str, label: str) -> ET.Element:
    return parse_xml(z.read(part), label, part,
                     "Open the book in an e-book editor (e.g. Calibre) and save it again, or convert it to PDF.")


def _check_drm(z: SafeZip, label: str) -> None:
    data = z.read("META-INF/encryption.xml", missing_ok=True)
    if not data:
        return
    # Obfuscated fonts are harmless; encrypted text is DRM.
    methods = re.findall(rb'EncryptionMethod[^>]*Algorithm="([^"]+)"', data)
    if any(m not in _FONT_OBFUSCATION for m in methods):
        refs = re.findall(rb'URI="([^"]+)"', data)
        if any(r.lower().endswith((b".xhtml", b".html", b".htm", b".xml")) for r in refs):
            raise EncryptedSource(
                f"'{label}' is protected by DRM; its text is encrypted.",
                "Only DRM-free books can be read. Use a DRM-free copy, or export the text "
                "you are allowed to use as PDF or text.",
            )


def _package(z: SafeZip, label: str) -> Tuple[str, ET.Element]:
    container = _xml(z, "META-INF/container.xml", label)
    opf_path = None
    for el in container.iter():
        if _local(el.tag) == "rootfile":
            path = el.get("full-path")
            media = el.get("media-type", "application/oebps-package+xml")
            if path and "oebps-package" in media:
                opf_path = path
                break
            if path and opf_path is None:
                opf_path = path
    if not opf_path:
        raise UnreadableSource(
            f"'{label}' is not a valid EPUB: META-INF/container.xml names no package file.",
            "Open the book in an e-book editor (e.g. Calibre) and save it again, or convert it to PDF.",
        )
    return opf_path, _xml(z, opf_path, label)


def _spine(opf_path: str, opf: ET.Element) -> List[str]:
    """Chapter part names in reading order."""
    base = posixpath.dirname(opf_path)
    items: Dict[str, Tuple[str, str, str]] = {}
    order: List[str] = []
    for el in opf.iter():
        tag = _local(el.tag)
        if tag == "item":
            iid = el.get("id")
            href = el.get("href")
            if iid and href:
                items[iid] = (href, el.get("media-type", ""), el.get("properties", ""))
        elif tag == "itemref":
            if el.get("linear", "yes") != "no" and el.get("idref"):
                order.append(el.get("idref", ""))
    parts: List[str] = []
    seen = set()
    for idref in order:
        if idref not in items:
            continue
        href, media, props = items[idref]
        if "nav" in props.split():
            continue  # the table of contents: links only
        if media and media not in _HTML_TYPES:
            continue
        path = posixpath.normpath(posixpath.join(base, unquote(href.split("#", 1)[0])))
        if path not in seen:
            seen.add(path)
            parts.append(path)
    if not parts:  # no usable spine: take the HTML items in manifest order
        for href, media, props in items.values():
            if media in _HTML_TYPES[:2] and "nav" not in props.split():
                parts.append(posixpath.normpath(posixpath.join(base, unquote(href.split("#", 1)[0]))))
    return parts


def epub_blocks(source: Union[str, bytes], label: str) -> List[Block]:
    """Blocks of an .epub given as a path or bytes."""
    z = SafeZip(source, label, "EPUB book")
    try:
        _check_drm(z, label)
        opf_path, opf = _package(z, label)
        book_title = ""
        for el in opf.iter():
            if _local(el.tag) == "title" and el.text:
                book_title = " ".join(el.text.split())
                break
        blocks: List[Block] = []
        for part in _spine(opf_path, opf):
            data = z.read(part, missing_ok=True)
            if not data:
                continue
            title, chapter = parse_html(decode_html(data))
            heading = next((b.text for b in chapter if b.kind == HEADING), "")
            if heading:
                location = heading
            elif title and title != book_title:
                location = title
            else:
                location = posixpath.basename(part)
            for block in chapter:
                block.location = location
            blocks.extend(chapter)
        return blocks
    finally:
        z.close()
