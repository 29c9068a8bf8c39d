"""The figures of DOCX, EPUB and HTML documents (and the dispatch for PDFs).

An image comes only from inside the document: a part of the DOCX/EPUB archive (its path
normalised; nothing that climbs out with ``..``), a file in the HTML file's own folder (the
real path, symlinks resolved, must stay inside it), or a ``data:`` URL. Remote images (http,
https, protocol-relative, file:) are never fetched, linked (external) DOCX images never opened,
SVG never read. Every image is checked by ``images.check_image``; what is skipped is said once
per reason in ``FigureSet.notes``.

Each figure keeps its ``anchor``: the text just before it, so the planner can give it to the
chunk that holds that text.
"""
import os
import posixpath
import re
import xml.etree.ElementTree as ET
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import unquote

from ..errors import FlashcardError
from ..images.figure import Figure, FigureSet, SourceKind
from ..images.safety import MAX_IMAGE_BYTES, decode_data_url, image_or_none
from ..outside import shown

MAX_FIGURES = 300
MAX_FIGURE_BYTES = 150 * 1024 * 1024
ANCHOR_CHARS = 80
CAPTION_CHARS = 200

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:")


def _clean(text: str, limit: int) -> str:
    return shown(" ".join((text or "").split()), limit)


class _Collector:
    """Figures of one document with the per-document limits and the skip messages."""

    def __init__(self, figset: FigureSet, label: str) -> None:
        self.figset = figset
        self.label = label
        self.total = 0
        self.seen: set = set()
        self.remote = 0
        self.full = False

    def note(self, text: str) -> None:
        if text not in self.figset.notes:
            self.figset.notes.append(text)

    def add(self, data: Optional[bytes], name: str, anchor: str, caption: str, location: str = "") -> None:
        if data is None or self.full:
            return
        if len(self.figset.figures) >= MAX_FIGURES or self.total + len(data) > MAX_FIGURE_BYTES:
            self.full = True
            self.note(f"'{self.label}' has more figures than are used (at most {MAX_FIGURES}, "
                      f"{MAX_FIGURE_BYTES // (1024 * 1024)} MB); the rest are skipped.")
            return
        key = hash(data)
        if key in self.seen:
            return
        info, problem = image_or_none(data, name)
        if info is None:
            self.note(f"In '{self.label}': {problem}")
            return
        self.seen.add(key)
        self.total += len(data)
        self.figset.figures.append(Figure(data, info, location, 0, _clean(caption, CAPTION_CHARS),
                                          _clean(anchor, ANCHOR_CHARS * 4)))

    def skip_remote(self) -> None:
        self.remote += 1

    def finish(self) -> None:
        if self.remote:
            self.note(f"'{self.label}': {self.remote} image(s) on the web or outside the document "
                      "are not loaded (only images inside the document or its folder are).")


# --- HTML and EPUB ---------------------------------------------------------------------------

def _previous_text(tag: Any) -> str:
    found: List[str] = []
    size = 0
    for s in tag.find_all_previous(string=True, limit=40):
        parent = getattr(s, "parent", None)
        if parent is not None and parent.name in ("script", "style", "title", "head"):
            continue
        text = " ".join(str(s).split())
        if text:
            found.append(text)
            size += len(text)
            if size >= ANCHOR_CHARS:
                break
    return " ".join(reversed(found))[-ANCHOR_CHARS * 2:]


def _caption(tag: Any) -> str:
    for attr in ("alt", "title", "aria-label"):
        value = tag.get(attr)
        if isinstance(value, str) and value.strip():
            return value
    figure = tag.find_parent("figure")
    if figure is not None:
        cap = figure.find("figcaption")
        if cap is not None:
            return cap.get_text(" ")
    return ""


def _html_images(html: str, resolve: Callable[[str], Optional[bytes]], out: _Collector) -> None:
    from .html import _soup

    _bs4, soup = _soup(html)
    for tag in soup.find_all("img"):
        src = tag.get("src")
        if not isinstance(src, str) or not src.strip():
            continue
        src = src.strip()
        name = os.path.basename(unquote(src.split("?", 1)[0].split("#", 1)[0]))[:80] or "image"
        if src.lower().startswith("data:"):
            data = decode_data_url(src)
            if data is None:
                out.note(f"In '{out.label}': an embedded (data:) image is damaged or too large; skipped.")
                continue
            out.add(data, "embedded image", _previous_text(tag), _caption(tag))
            continue
        if _SCHEME.match(src) or src.startswith(("//", "\\\\")):
            out.skip_remote()
            continue
        if name.lower().endswith((".svg", ".svgz")):
            out.note(f"In '{out.label}': SVG images ('{shown(name, 60)}') are never read or sent.")
            continue
        data = resolve(src)
        if data is None:
            continue
        out.add(data, name, _previous_text(tag), _caption(tag))


def _local_file(base_dir: str, out: _Collector) -> Callable[[str], Optional[bytes]]:
    root = os.path.realpath(base_dir) if base_dir else ""

    def resolve(src: str) -> Optional[bytes]:
        if not root:
            out.skip_remote()
            return None
        rel = unquote(src.split("?", 1)[0].split("#", 1)[0]).replace("\\", "/")
        if rel.startswith("/") or "\x00" in rel:
            out.skip_remote()
            return None
        path = os.path.realpath(os.path.join(root, *rel.split("/")))
        try:
            inside = os.path.commonpath([root, path]) == root
        except ValueError:
            inside = False
        if not inside:
            out.skip_remote()
            return None
        try:
            if not os.path.isfile(path):
                out.note(f"In '{out.label}': the image '{shown(rel, 80)}' is not in the document's folder.")
                return None
            from .read import open_regular

            with open_regular(path) as f:  # never blocks on a FIFO put in its place
                return f.read(MAX_IMAGE_BYTES + 1)
        except (OSError, FlashcardError):
            out.note(f"In '{out.label}': the image '{shown(rel, 80)}' cannot be read.")
            return None

    return resolve


def _in_archive(z: Any, part: str, out: _Collector) -> Callable[[str], Optional[bytes]]:
    folder = posixpath.dirname(part)

    def resolve(src: str) -> Optional[bytes]:
        rel = unquote(src.split("?", 1)[0].split("#", 1)[0])
        if rel.startswith("/"):
            name = posixpath.normpath(rel.lstrip("/"))
        else:
            name = posixpath.normpath(posixpath.join(folder, rel))
        if name.startswith("../") or name == ".." or name.startswith("/"):
            out.skip_remote()
            return None
        if z.find(name) is None:
            out.note(f"In '{out.label}': the image '{shown(rel, 80)}' is missing from the file.")
            return None
        try:
            return z.read(name)
        except Exception as err:
            out.note(f"In '{out.label}': the image '{shown(rel, 80)}' cannot be read "
                     f"({shown(getattr(err, 'message', err), 120)}).")
            return None

    return resolve


def _html_figures(figset: FigureSet, label: str) -> None:
    from .html import decode_html

    out = _Collector(figset, label)
    origin = figset.origin
    if isinstance(origin, str):
        from .read import open_regular

        with open_regular(origin) as f:
            data = f.read(50 * 1024 * 1024)
    else:
        data = origin or b""
    _html_images(decode_html(data), _local_file(figset.base_dir, out), out)
    out.finish()


def _epub_figures(figset: FigureSet, label: str) -> None:
    from .archive import SafeZip
    from .epub import _package, _spine
    from .html import decode_html

    out = _Collector(figset, label)
    z = SafeZip(figset.origin, label, "EPUB book")  # type: ignore[arg-type]
    try:
        opf_path, opf = _package(z, label)
        for part in _spine(opf_path, opf):
            data = z.read(part, missing_ok=True)
            if data:
                _html_images(decode_html(data), _in_archive(z, part, out), out)
            if out.full:
                break
    finally:
        z.close()
    out.finish()


# --- DOCX ------------------------------------------------------------------------------------

_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag


def _relationships(data: bytes, label: str) -> Dict[str, Tuple[str, bool]]:
    """Relationship id -> (target, external)."""
    from .archive import parse_xml

    rels: Dict[str, Tuple[str, bool]] = {}
    if not data:
        return rels
    root = parse_xml(data, label, "document.xml.rels", "Save the document again from Word.")
    for el in root:
        rid, target = el.get("Id"), el.get("Target")
        if rid and target:
            rels[rid] = (target, (el.get("TargetMode") or "").lower() == "external")
    return rels


def _docx_figures(figset: FigureSet, label: str) -> None:
    import io

    from .archive import SafeZip, check_xml

    out = _Collector(figset, label)
    z = SafeZip(figset.origin, label, "Word document")  # type: ignore[arg-type]
    try:
        main = "word/document.xml"
        rels_root = z.read("_rels/.rels", missing_ok=True)
        m = re.search(rb'Type="[^"]*/officeDocument"[^>]*Target="([^"]+)"', rels_root or b"") or \
            re.search(rb'Target="([^"]+)"[^>]*Type="[^"]*/officeDocument"', rels_root or b"")
        if m:
            main = posixpath.normpath(m.group(1).decode("utf-8", "replace").lstrip("/"))
        folder = posixpath.dirname(main)
        rels = _relationships(z.read(posixpath.join(folder, "_rels", posixpath.basename(main) + ".rels"),
                                     missing_ok=True), label)
        data = z.read(main, missing_ok=True)
        if not data:
            return
        check_xml(data, label, main)
        resolve = _in_archive(z, main, out)
        last_text = ""
        depth = 0
        try:
            for event, el in ET.iterparse(io.BytesIO(data), events=("start", "end")):
                if _local(el.tag) != "p":
                    continue
                if event == "start":
                    depth += 1
                    continue
                depth -= 1
                if depth:
                    continue  # a paragraph inside a text box: its outer paragraph handles it
                text = "".join(t.text or "" for t in el.iter() if _local(t.tag) == "t")
                if text.strip():
                    last_text = text
                captions = [d.get("descr") or d.get("title") or "" for d in el.iter()
                            if _local(d.tag) == "docPr"]
                ids = []
                for d in el.iter():
                    tag = _local(d.tag)
                    if tag == "blip":
                        rid = d.get("{%s}embed" % _R_NS)
                        if d.get("{%s}link" % _R_NS) and not rid:
                            out.skip_remote()
                        if rid:
                            ids.append(rid)
                    elif tag == "imagedata":
                        rid = d.get("{%s}id" % _R_NS)
                        if rid:
                            ids.append(rid)
                for i, rid in enumerate(ids):
                    target, external = rels.get(rid, ("", False))
                    if not target:
                        continue
                    if external:
                        out.skip_remote()
                        continue
                    name = posixpath.basename(target)
                    if name.lower().endswith((".svg", ".svgz")):
                        out.note(f"In '{label}': SVG images ('{shown(name, 60)}') are never read or sent.")
                        continue
                    out.add(resolve(target), name, last_text, captions[i] if i < len(captions) else "")
                el.clear()
                if out.full:
                    break
        except ET.ParseError:
            out.note(f"The figures of '{label}' could not be found (its text is not valid XML).")
    finally:
        z.close()
    out.finish()


def figures_from_html(html: str, folder: str, label: str) -> Optional[FigureSet]:
    """The figures of an HTML fragment whose images are files in ``folder`` (the fields of an
    Anki note and the collection's media folder), or None when it has none."""
    if "<img" not in html.lower():
        return None
    figset = FigureSet(SourceKind.HTML, None, base_dir=folder, loaded=True)
    out = _Collector(figset, label)
    try:
        _html_images(html, _local_file(folder, out), out)
    except Exception as err:  # a bad image never costs the note its text
        figset.notes.append(f"The figures of '{label}' could not be read ({type(err).__name__}).")
    out.finish()
    return figset if figset.figures or figset.notes else None


# --- dispatch --------------------------------------------------------------------------------

_LOADERS: Dict[SourceKind, Callable[[FigureSet, str], None]] = {
    SourceKind.HTML: _html_figures,
    SourceKind.EPUB: _epub_figures,
    SourceKind.DOCX: _docx_figures,
}


def load_figures(figset: FigureSet, label: str) -> None:
    """Fill ``figset`` (once). Problems with figures never fail the document: they become
    notes, and the text goes on as it is."""
    if figset.loaded:
        return
    figset.loaded = True
    try:
        if figset.kind is SourceKind.PDF:
            from .pdf_figures import load_pdf_figures

            load_pdf_figures(figset, label)
            return
        loader = _LOADERS.get(figset.kind)
        if loader is not None:
            loader(figset, label)
    except MemoryError:
        figset.notes.append(f"The figures of '{label}' need more memory than is available; skipped.")
    except Exception as err:
        figset.notes.append(f"The figures of '{label}' could not be read "
                            f"({shown(getattr(err, 'message', None) or type(err).__name__, 160)}).")
