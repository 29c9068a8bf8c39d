"""The characters of a PDF page with their places, read from its content stream, for the text
under an annotation's quadrilaterals.

pypdf's text extraction says where a run of text starts, not where each character is, and a
run is often a whole line (or, from TeX, a whole page between two font changes). This reads the
page's operators itself (``content.operations``, with pypdf's fonts' widths) and follows the text state
the PDF specification defines (9.4: ``Tm``, ``Td``, ``TJ`` adjustments, character and word
spacing, horizontal scaling, rise; 8.4: ``cm``, ``q``/``Q``; form XObjects), so each glyph's
place is where a viewer draws it. Only glyphs inside the areas asked for are kept; the others
are only advanced over.

Bounded: at most ``MAX_OPERATORS`` operators a page (forms included), forms nested at most
``MAX_FORM_DEPTH`` deep, each form drawn at most ``MAX_FORM_USES`` times; a font that cannot be
read counts every glyph half an em wide. The caller bounds the time (``Alarm``)."""
import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

Matrix = Tuple[float, float, float, float, float, float]
Box = Tuple[float, float, float, float]  # x0, y0, x1, y1 (x0 <= x1, y0 <= y1)
# A glyph kept: its text, its centre, where its baseline starts and ends, and its size (points).
Glyph = Tuple[str, float, float, float, float, float, float, float]

IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
MAX_OPERATORS = 2_000_000
MAX_FORM_DEPTH = 4
MAX_FORM_USES = 200
MAX_GLYPHS = 200_000  # kept on one page
_HALF_EM = 500.0


def mul(m: Matrix, n: Matrix) -> Matrix:
    """m x n for PDF's affine matrices [a b c d e f]."""
    a1, b1, c1, d1, e1, f1 = m
    a2, b2, c2, d2, e2, f2 = n
    return (a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2,
            e1 * a2 + f1 * c2 + e2, e1 * b2 + f1 * d2 + f2)


def _num(value: Any, default: float = 0.0) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return default
    return x if math.isfinite(x) and abs(x) < 1e7 else default


def _matrix(values: Sequence[Any]) -> Optional[Matrix]:
    if len(values) < 6:
        return None
    a, b, c, d, e, f = (_num(v, float("nan")) for v in values[:6])
    if any(math.isnan(v) for v in (a, b, c, d, e, f)):
        return None
    return (a, b, c, d, e, f)


class _Font:
    """What the glyph walk needs of a font: how its bytes split into codes, each code's width
    (thousandths of an em) and text."""

    __slots__ = ("encoding", "widths", "default", "cmap", "two_bytes", "table")

    def __init__(self, encoding: Any, widths: Dict[str, float], default: float,
                 cmap: Dict[str, str]) -> None:
        self.encoding = encoding  # a dict byte -> char, or a codec's name
        self.widths = widths
        self.default = default
        self.cmap = cmap
        self.two_bytes = isinstance(encoding, str) and "16" in encoding
        # one byte a code: each byte's width, so a string's advance is summed without a loop
        self.table: Optional[List[float]] = None
        if isinstance(encoding, dict) or not self.two_bytes:
            self.table = [self.width(chr(b)) for b in range(256)]

    def codes(self, data: bytes) -> List[Tuple[str, str, bool]]:
        """(text, width key, is a single-byte space) of each code of ``data``."""
        enc = self.encoding
        cmap = self.cmap
        if isinstance(enc, dict):
            out = []
            for b in data:
                ch = enc.get(b, chr(b))
                if not isinstance(ch, str):
                    ch = chr(b)
                out.append((cmap.get(ch, ch), chr(b), b == 32))
            return out
        try:
            text = data.decode(enc, "surrogatepass")
        except (UnicodeDecodeError, LookupError):
            text = data.decode("latin-1")
        single = not self.two_bytes
        return [(cmap.get(ch, ch), ch, single and ch == " ") for ch in text]

    def width(self, key: str) -> float:
        w = self.widths.get(key)
        return self.default if w is None else w


_FALLBACK = _Font({}, {}, _HALF_EM, {})


def load_font(font_dict: Any) -> _Font:
    """The font of a resource dictionary, through pypdf's own reading of fonts; a font it
    cannot read gets half an em a glyph and Latin-1 text."""
    try:
        from pypdf.generic._font import Font

        font = Font.from_font_resource(font_dict)
        widths: Dict[str, float] = {}
        for k, v in dict(font.character_widths).items():
            w = _num(v, -1.0)
            if isinstance(k, str) and w >= 0:
                widths[k] = w
        default = widths.pop("default", 0.0) or _HALF_EM
        cmap = {k: v for k, v in dict(font.character_map or {}).items()
                if isinstance(k, str) and isinstance(v, str)}
        encoding = font.encoding if isinstance(font.encoding, (dict, str)) else {}
        return _Font(encoding, widths, default, cmap)
    except Exception:  # a damaged font dictionary: widths unknown, text as Latin-1
        return _FALLBACK


class _TextState:
    __slots__ = ("font", "size", "tc", "tw", "th", "tl", "rise")

    def __init__(self) -> None:
        self.font = _FALLBACK
        self.size = 0.0
        self.tc = 0.0
        self.tw = 0.0
        self.th = 1.0
        self.tl = 0.0
        self.rise = 0.0

    def copy(self) -> "_TextState":
        other = _TextState()
        other.font, other.size, other.tc, other.tw = self.font, self.size, self.tc, self.tw
        other.th, other.tl, other.rise = self.th, self.tl, self.rise
        return other


class GlyphWalk:
    """The glyphs of one page whose centre lies in one of ``areas`` (user space), in the order
    the content stream draws them (``glyphs``), each with the area it lies in (``where``: an
    index into ``areas``; a glyph in two areas is there twice)."""

    def __init__(self, reader: Any, areas: Sequence[Box], fonts: Optional[Dict[Any, _Font]] = None) -> None:
        self.reader = reader
        self.areas = list(areas)
        if self.areas:
            self.bounds: Box = (min(a[0] for a in self.areas), min(a[1] for a in self.areas),
                                max(a[2] for a in self.areas), max(a[3] for a in self.areas))
        else:
            self.bounds = (0.0, 0.0, -1.0, -1.0)
        self.glyphs: List[Glyph] = []
        self.where: List[int] = []
        self.operators = 0
        self.form_uses: Dict[int, int] = {}
        self.fonts: Dict[Any, _Font] = fonts if fonts is not None else {}  # shared by a document's pages
        self._named: Dict[Tuple[int, Any], _Font] = {}  # (resources, name) -> font, for this page

    def page(self, page: Any) -> List[Glyph]:
        from .content import operations

        contents = page.get("/Contents")
        if contents is None or not self.areas:
            return []
        obj = contents.get_object()
        streams = list(obj) if isinstance(obj, list) else [obj]
        data = b"\n".join(s.get_object().get_data() for s in streams[:10_000])
        self._run(operations(data), page.get("/Resources"), IDENTITY, 0)
        return self.glyphs

    # -- resources -----------------------------------------------------------------------------
    def _font(self, resources: Any, name: Any) -> _Font:
        named = self._named.get((id(resources), name))
        if named is not None:
            return named
        try:
            fonts = resources.get_object().get("/Font").get_object()
            ref = fonts.get(name)
            obj = ref.get_object()
        except Exception:
            return _FALLBACK
        idnum = getattr(ref, "idnum", None)
        key: Any = ("ref", idnum) if idnum is not None else ("obj", id(obj))
        font = self.fonts.get(key)
        if font is None:
            font = load_font(obj)
            self.fonts[key] = font
        self._named[(id(resources), name)] = font
        return font

    def _form(self, resources: Any, name: Any) -> Any:
        try:
            xobjects = resources.get_object().get("/XObject").get_object()
            ref = xobjects.get(name)
            obj = ref.get_object()
        except Exception:
            return None, 0
        if obj.get("/Subtype") != "/Form":
            return None, 0
        key = getattr(ref, "idnum", None) or id(obj)
        return obj, key

    # -- the walk ------------------------------------------------------------------------------
    def _run(self, operations: Any, resources: Any, ctm: Matrix, depth: int) -> None:
        """Long on purpose: one loop over a page's operators, each case a line or two of the
        text state the specification defines (a dispatch table would cost a call per operator)."""
        stack: List[Tuple[Matrix, _TextState]] = []
        ts = _TextState()
        tm: Matrix = IDENTITY
        tlm: Matrix = IDENTITY
        for operands, op in operations:
            self.operators += 1
            if self.operators > MAX_OPERATORS:
                return
            if op == b"Tj":
                if operands:
                    tm = self._show(operands[0], ts, tm, ctm)
            elif op == b"TJ":
                if operands and isinstance(operands[0], list):
                    for item in operands[0][:100_000]:
                        if isinstance(item, (bytes, str)):
                            tm = self._show(item, ts, tm, ctm)
                        else:
                            adjust = -_num(item) / 1000.0 * ts.size * ts.th
                            tm = (tm[0], tm[1], tm[2], tm[3], tm[4] + adjust * tm[0], tm[5] + adjust * tm[1])
            elif op == b"Td" or op == b"TD":
                if len(operands) >= 2:
                    tx, ty = _num(operands[0]), _num(operands[1])
                    if op == b"TD":
                        ts.tl = -ty
                    tlm = (tlm[0], tlm[1], tlm[2], tlm[3], tx * tlm[0] + ty * tlm[2] + tlm[4],
                           tx * tlm[1] + ty * tlm[3] + tlm[5])
                    tm = tlm
            elif op == b"T*" or op == b"'" or op == b'"':
                if op == b'"' and len(operands) >= 3:
                    ts.tw, ts.tc = _num(operands[0]), _num(operands[1])
                    operands = operands[2:]
                ty = -ts.tl
                tlm = (tlm[0], tlm[1], tlm[2], tlm[3], ty * tlm[2] + tlm[4], ty * tlm[3] + tlm[5])
                tm = tlm
                if op != b"T*" and operands:
                    tm = self._show(operands[0], ts, tm, ctm)
            elif op == b"Tm":
                m = _matrix(operands)
                if m is not None:
                    tm = tlm = m
            elif op == b"Tf":
                if len(operands) >= 2:
                    ts.font = self._font(resources, operands[0])
                    ts.size = _num(operands[1])
            elif op == b"BT":
                tm = tlm = IDENTITY
            elif op == b"cm":
                m = _matrix(operands)
                if m is not None:
                    ctm = mul(m, ctm)
            elif op == b"q":
                if len(stack) < 1000:
                    stack.append((ctm, ts.copy()))
            elif op == b"Q":
                if stack:
                    ctm, ts = stack.pop()
            elif op == b"Tc":
                ts.tc = _num(operands[0]) if operands else 0.0
            elif op == b"Tw":
                ts.tw = _num(operands[0]) if operands else 0.0
            elif op == b"Tz":
                ts.th = _num(operands[0], 100.0) / 100.0 if operands else 1.0
            elif op == b"TL":
                ts.tl = _num(operands[0]) if operands else 0.0
            elif op == b"Ts":
                ts.rise = _num(operands[0]) if operands else 0.0
            elif op == b"Do" and operands and depth < MAX_FORM_DEPTH:
                self._do_form(resources, operands[0], ctm, depth)

    def _do_form(self, resources: Any, name: Any, ctm: Matrix, depth: int) -> None:
        from .content import operations

        form, key = self._form(resources, name)
        if form is None:
            return
        uses = self.form_uses.get(key, 0)
        if uses >= MAX_FORM_USES:
            return
        self.form_uses[key] = uses + 1
        m = _matrix(form.get("/Matrix") or []) or IDENTITY
        try:
            data = form.get_data()
        except Exception:
            return
        self._run(operations(data), form.get("/Resources") or resources, mul(m, ctm), depth + 1)

    def _show(self, data: Any, ts: _TextState, tm: Matrix, ctm: Matrix) -> Matrix:
        """Draw ``data`` at ``tm``; the text matrix after it."""
        if isinstance(data, str):
            data = data.encode("latin-1", "replace")
        if not isinstance(data, bytes) or not data:
            return tm
        font = ts.font
        size, th, tc, tw = ts.size, ts.th, ts.tc, ts.tw
        m = mul(tm, ctm)
        table = font.table
        if table is not None:  # one byte a code: summed in one call
            spaces = data.count(32)
            advance = (sum(map(table.__getitem__, data)) / 1000.0 * size + tc * len(data) + tw * spaces) * th
            near = self._near(m, advance, size)
            if near:
                self._keep(font.codes(data), ts, m, near)
        else:
            codes = font.codes(data)
            advance = 0.0
            for _text, key, space in codes:
                advance += (font.width(key) / 1000.0 * size + tc + (tw if space else 0.0)) * th
            near = self._near(m, advance, size)
            if near:
                self._keep(codes, ts, m, near)
        return (tm[0], tm[1], tm[2], tm[3], tm[4] + advance * tm[0], tm[5] + advance * tm[1])

    def _near(self, m: Matrix, advance: float, size: float) -> List[int]:
        """The areas that the box of the string drawn (its advance along the baseline, from
        below its descenders to above its capitals) meets, by index."""
        b = self.bounds
        lo, hi = -0.4 * size, 1.2 * size  # below the baseline (descenders), above it (caps, accents)
        xs = (m[4] + lo * m[2], m[4] + hi * m[2], advance * m[0] + lo * m[2] + m[4], advance * m[0] + hi * m[2] + m[4])
        ys = (m[5] + lo * m[3], m[5] + hi * m[3], advance * m[1] + lo * m[3] + m[5], advance * m[1] + hi * m[3] + m[5])
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        if x1 < b[0] or x0 > b[2] or y1 < b[1] or y0 > b[3]:
            return []
        return [k for k, a in enumerate(self.areas) if not (x1 < a[0] or x0 > a[2] or y1 < a[1] or y0 > a[3])]

    def _keep(self, codes: List[Tuple[str, str, bool]], ts: _TextState, m: Matrix, near: List[int]) -> None:
        font = ts.font
        size, th, tc, tw, rise = ts.size, ts.th, ts.tc, ts.tw, ts.rise
        a, b, c, d, e, f = m
        height = math.hypot(c, d) * size
        mid = 0.3 * size + rise  # the middle of a lower-case letter, above the baseline
        x = 0.0
        glyphs, where = self.glyphs, self.where
        areas = [(k, self.areas[k]) for k in near]
        for text, key, space in codes:
            w = font.width(key) / 1000.0 * size * th
            step = w + (tc + (tw if space else 0.0)) * th
            cx, cy = (x + w / 2) * a + mid * c + e, (x + w / 2) * b + mid * d + f
            if len(glyphs) < MAX_GLYPHS:
                glyph = None
                for k, area in areas:
                    if area[0] <= cx <= area[2] and area[1] <= cy <= area[3]:
                        if glyph is None:
                            glyph = (text, cx, cy, x * a + rise * c + e, x * b + rise * d + f,
                                     (x + w) * a + rise * c + e, (x + w) * b + rise * d + f, height)
                        glyphs.append(glyph)
                        where.append(k)
            x += step
