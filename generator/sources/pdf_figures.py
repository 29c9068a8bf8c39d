"""The figures of a PDF, without rendering: per page the share covered by images and the
number of painted vector paths (from the content stream), and the images that can be passed on
as they are: JPEG streams (DCTDecode, handed over byte for byte) and 8-bit gray/RGB Flate
images (turned into a PNG after a bounded inflate). Other encodings (JPEG 2000, fax, JBIG2,
CMYK, indexed colour) are left to page rendering.

Images on most pages (logos, backgrounds) and tiny ones (icons, bullets) are not figures.
Everything is bounded: pages, operations per page, Form XObject depth, bytes, and a deadline.
"""
import hashlib
import time
import zlib
from typing import Any, Dict, List, Optional, Set, Tuple, Union

from ..images.figure import Figure, FigureSet, PageStats
from ..images.safety import MAX_PIXELS, image_or_none, png_from_rows
from ..outside import shown

MAX_PAGES = 5000
MAX_OPS_PER_PAGE = 200_000
MAX_FORM_DEPTH = 4
MAX_FIGURES = 300  # per document
MAX_FIGURE_BYTES = 150 * 1024 * 1024  # per document, all figures together
MAX_FLATE_PIXELS = 16_000_000  # a raw image larger than this is not converted (render the page)
MIN_FIGURE_SIDE = 48  # pixels
MIN_FIGURE_AREA = 0.02  # of the page
DECORATION_SHARE = 0.5  # an image on more than this share of pages (and >= 3) is decoration
ANALYSIS_SECONDS = 60.0

_PAINT = frozenset((b"f", b"F", b"f*", b"S", b"s", b"B", b"B*", b"b", b"b*"))

Matrix = List[float]
_IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def _mul(m1: Matrix, m2: Matrix) -> Matrix:
    a1, b1, c1, d1, e1, f1 = m1
    a2, b2, c2, d2, e2, f2 = m2
    return [a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2,
            e1 * a2 + f1 * c2 + e2, e1 * b2 + f1 * d2 + f2]


def _area(ctm: Matrix) -> float:
    """Area of the unit square (where an image is drawn) under the transformation."""
    return abs(ctm[0] * ctm[3] - ctm[1] * ctm[2])


def _num(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except Exception:
        return default


def _name(value: Any) -> str:
    return str(value) if value is not None else ""


def _filters(obj: Any) -> List[str]:
    f = obj.get("/Filter")
    if f is None:
        return []
    try:
        f = f.get_object()
    except Exception:
        pass
    if isinstance(f, (list, tuple)):
        return [_name(x) for x in f]
    return [_name(f)]


def _decode_parms(obj: Any) -> Dict[str, Any]:
    p = obj.get("/DecodeParms")
    try:
        p = p.get_object() if p is not None else None
        if isinstance(p, (list, tuple)):
            p = p[0].get_object() if p else None
        return dict(p) if p is not None else {}
    except Exception:
        return {}


def _channels(obj: Any) -> int:
    """1 for gray, 3 for RGB, 0 for anything we do not convert."""
    cs = obj.get("/ColorSpace")
    try:
        cs = cs.get_object()
    except Exception:
        pass
    name = _name(cs)
    if name in ("/DeviceGray", "/CalGray", "/G"):
        return 1
    if name in ("/DeviceRGB", "/CalRGB", "/RGB"):
        return 3
    if isinstance(cs, (list, tuple)) and cs and _name(cs[0]) == "/ICCBased":
        try:
            n = int(cs[1].get_object().get("/N", 0))
        except Exception:
            return 0
        return n if n in (1, 3) else 0
    return 0


def _raw(obj: Any) -> bytes:
    """The stream's bytes as stored (still encoded)."""
    data = getattr(obj, "_data", None)
    return bytes(data) if data is not None else b""


def _flate_png(obj: Any, width: int, height: int) -> Optional[bytes]:
    channels = _channels(obj)
    if channels == 0 or int(_num(obj.get("/BitsPerComponent"), 8)) != 8 or obj.get("/ImageMask"):
        return None
    if width * height > MAX_FLATE_PIXELS:
        return None
    parms = _decode_parms(obj)
    predictor = int(_num(parms.get("/Predictor"), 1))
    row = width * channels
    expected = height * (row + (1 if predictor >= 10 else 0))
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(_raw(obj), expected + 1)
    except zlib.error:
        return None
    if len(out) < expected:
        return None
    out = out[:expected]
    if predictor >= 10:  # PNG predictors: every row already starts with its filter byte
        if int(_num(parms.get("/Colors"), 1)) != channels or int(_num(parms.get("/Columns"), 1)) != width:
            return None
        return png_from_rows(width, height, channels, out)
    if predictor != 1:
        return None
    rows = bytearray()
    for y in range(height):
        rows += b"\x00" + out[y * row:(y + 1) * row]
    return png_from_rows(width, height, channels, bytes(rows))


def _image_bytes(obj: Any, width: int, height: int) -> Optional[bytes]:
    filters = _filters(obj)
    if filters == ["/DCTDecode"] or filters == ["/DCT"]:
        return _raw(obj)
    if filters in (["/FlateDecode"], ["/Fl"]):
        return _flate_png(obj, width, height)
    return None


class _PageScan:
    """Walks one page's content stream (and the Form XObjects it draws)."""

    def __init__(self, reader: Any, deadline: float) -> None:
        self.reader = reader
        self.deadline = deadline
        self.area = 0.0
        self.drawings = 0
        self.ops = 0
        self.largest = 0
        self.images: List[Tuple[Any, Any, float]] = []  # (ref key, image object, drawn area)

    def walk(self, content: Any, resources: Any, ctm: Matrix, depth: int) -> None:
        from pypdf.generic import ContentStream

        if content is None or depth > MAX_FORM_DEPTH or time.monotonic() > self.deadline:
            return
        try:
            stream = content if isinstance(content, ContentStream) else ContentStream(content, self.reader)
            operations = stream.operations
        except Exception:
            return
        xobjects: Dict[str, Any] = {}
        try:
            res = resources.get_object() if resources is not None else None
            xo = res.get("/XObject") if res is not None else None
            xobjects = dict(xo.get_object()) if xo is not None else {}
        except Exception:
            xobjects = {}
        stack: List[Matrix] = []
        for operands, op in operations:
            self.ops += 1
            if self.ops > MAX_OPS_PER_PAGE:
                return
            if op == b"q":
                stack.append(ctm)
            elif op == b"Q":
                if stack:
                    ctm = stack.pop()
            elif op == b"cm" and len(operands) == 6:
                ctm = _mul([_num(v) for v in operands], ctm)
            elif op in _PAINT:
                self.drawings += 1
            elif op == b"INLINE IMAGE":
                try:
                    settings = operands.get("settings") or {}
                    w = int(_num(settings.get("/W", settings.get("/Width")), 0))
                    h = int(_num(settings.get("/H", settings.get("/Height")), 0))
                    self.largest = max(self.largest, w * h)
                except Exception:
                    pass
                self.area += _area(ctm)
            elif op == b"Do" and operands:
                self._draw(xobjects.get(str(operands[0])), ctm, depth)

    def _draw(self, ref: Any, ctm: Matrix, depth: int) -> None:
        if ref is None:
            return
        try:
            obj = ref.get_object()
            subtype = _name(obj.get("/Subtype"))
        except Exception:
            return
        if subtype == "/Image":
            w = int(_num(obj.get("/Width")))
            h = int(_num(obj.get("/Height")))
            self.largest = max(self.largest, w * h)
            area = _area(ctm)
            self.area += area
            key = getattr(ref, "idnum", None) or id(obj)
            self.images.append((key, obj, area))
        elif subtype == "/Form":
            matrix = obj.get("/Matrix")
            m = [_num(v) for v in matrix] if matrix is not None and len(matrix) == 6 else list(_IDENTITY)
            self.walk(obj, obj.get("/Resources"), _mul(m, ctm), depth + 1)


def _page_size(page: Any) -> Tuple[float, float]:
    try:
        box = page.cropbox
        w, h = abs(float(box.width)), abs(float(box.height))
        if int(page.get("/Rotate", 0) or 0) % 180:
            w, h = h, w
        if w > 1 and h > 1:
            return w, h
    except Exception:
        pass
    return 612.0, 792.0


def _open(source: Union[str, bytes]) -> Tuple[Any, Any]:
    """(reader, the file it reads or None). A path is opened as a regular file only (never
    blocks on a FIFO put in the file's place since the text was read)."""
    import io
    import logging

    from ..libs import load
    from .read import open_regular

    pypdf = load("pypdf")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    handle = open_regular(source) if isinstance(source, str) else None
    try:
        stream = handle if handle is not None else io.BytesIO(source if isinstance(source, bytes) else b"")
        reader = pypdf.PdfReader(stream, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValueError("encrypted")
    except BaseException:
        if handle is not None:
            handle.close()
        raise
    return reader, handle


def load_pdf_figures(figset: FigureSet, label: str, seconds: float = ANALYSIS_SECONDS) -> None:
    """Fill ``figset.pages`` and ``figset.figures`` from the PDF in ``figset.origin``."""
    try:
        reader, handle = _open(figset.origin)  # type: ignore[arg-type]
    except Exception as err:
        figset.notes.append(f"The figures of '{label}' could not be read "
                            f"({shown(getattr(err, 'message', None) or type(err).__name__, 160)}).")
        return
    try:
        _load(reader, figset, label, seconds)
    finally:
        if handle is not None:
            handle.close()


def _load(reader: Any, figset: FigureSet, label: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    try:
        count = min(len(reader.pages), MAX_PAGES)
    except Exception as err:
        figset.notes.append(f"The figures of '{label}' could not be read ({type(err).__name__}).")
        return
    scans: List[Tuple[PageStats, List[Tuple[Any, Any, float]]]] = []
    uses: Dict[Any, Set[int]] = {}
    for index in range(count):
        if time.monotonic() > deadline:
            figset.notes.append(f"'{label}': pages after {index} were not searched for figures "
                                f"(it took longer than {seconds:.0f} s).")
            break
        try:
            page = reader.pages[index]
            width, height = _page_size(page)
            scan = _PageScan(reader, deadline)
            scan.walk(page.get_contents(), page.get("/Resources"), list(_IDENTITY), 0)
        except Exception:
            scans.append((PageStats(index + 1), []))
            continue
        page_area = max(1.0, width * height)
        stats = PageStats(index + 1, width, height, min(1.0, scan.area / page_area), scan.drawings,
                          scan.largest)
        images = [(key, obj, area / page_area) for key, obj, area in scan.images]
        for key, _obj, _share in images:
            uses.setdefault(key, set()).add(index)
        scans.append((stats, images))
    figset.pages = [stats for stats, _ in scans]
    pages_seen = max(1, len(scans))
    decorations = {key for key, pages in uses.items()
                   if len(pages) >= 3 and len(pages) > DECORATION_SHARE * pages_seen}
    seen: Set[str] = set()
    total = 0
    skipped: List[str] = []
    for stats, images in scans:
        for key, obj, share in images:
            if key in decorations or share < MIN_FIGURE_AREA:
                continue
            try:
                w, h = int(_num(obj.get("/Width"))), int(_num(obj.get("/Height")))
            except Exception:
                continue
            if min(w, h) < MIN_FIGURE_SIDE:
                continue
            where = f"an image on page {stats.number} of '{label}'"
            if w * h > MAX_PIXELS:
                skipped.append(f"{where} declares {w:,} x {h:,} pixels (more than "
                               f"{MAX_PIXELS // 1_000_000} megapixels): not used.")
                continue
            if len(figset.figures) >= MAX_FIGURES:
                skipped.append(f"'{label}' has more than {MAX_FIGURES} figures; the rest are not used.")
                break
            try:
                data = _image_bytes(obj, w, h)
            except Exception:
                data = None
            if data is None:
                continue  # an encoding only a renderer reads: the page is rendered instead
            digest = hashlib.sha1(data).hexdigest()
            if digest in seen:
                continue
            info, problem = image_or_none(data, f"page {stats.number}")
            if info is None:
                skipped.append(f"{where}: {problem}")
                continue
            if total + len(data) > MAX_FIGURE_BYTES:
                skipped.append(f"'{label}': images beyond {MAX_FIGURE_BYTES // (1024 * 1024)} MB "
                               "are not used.")
                break
            seen.add(digest)
            total += len(data)
            figset.figures.append(Figure(data, info, f"page {stats.number}", stats.number))
    figset.notes.extend(dict.fromkeys(skipped))  # each message once
