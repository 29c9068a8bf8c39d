"""A PDF content stream as (operands, operator) pairs, read with regular expressions: what
``glyphs.GlyphWalk`` follows to place the glyphs. pypdf's own parser reads a stream a character
at a time and makes an object of every operand; reading 500 pages that way took most of the time
of finding the text under 2,000 highlights.

Operands come as Python values: numbers as float, names as str ("/F1"), strings as bytes (escapes
and hex decoded), arrays as lists; dictionaries (of marked content) as {} (their contents are
not needed). Inline images (``BI ... ID <data> EI``) are skipped whole. Comments are dropped.

Bounded: linear in the stream's size (the caller bounds that); arrays nested deeper than
``MAX_DEPTH`` are cut; a string without its closing parenthesis ends at the stream's end."""
import re
from typing import Any, Iterator, List, Tuple

MAX_DEPTH = 32
MAX_OPERANDS = 10_000  # a list of operands longer than this is cut (no operator takes more)

_DELIM = rb"\x00\t\n\x0c\r ()<>\[\]{}/%"
_TOKEN = re.compile(
    rb"(?P<ws>[\x00\t\n\x0c\r ]+|%[^\r\n]*)"
    rb"|(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))(?![^" + _DELIM + rb"])"
    rb"|(?P<name>/[^" + _DELIM + rb"]*)"
    rb"|(?P<lstr>\()"
    rb"|(?P<dopen><<)|(?P<dclose>>>)"
    rb"|(?P<hstr><[^>]*>?)"
    rb"|(?P<aopen>\[)|(?P<aclose>\])"
    rb"|(?P<word>[^" + _DELIM + rb"]+)"
    rb"|(?P<other>[\s\S])")
_STRING_STOP = re.compile(rb"[()\\]")
_HEX_JUNK = re.compile(rb"[^0-9A-Fa-f]")
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f",
            ord("("): b"(", ord(")"): b")", ord("\\"): b"\\"}
_OCTAL = re.compile(rb"[0-7]{1,3}")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_END_OF_IMAGE = re.compile(rb"[\x00\t\n\x0c\r ]EI(?=[\x00\t\n\x0c\r ]|$)")


def _literal(data: bytes, pos: int) -> Tuple[bytes, int]:
    """The string that opens before ``pos`` (after its "("), and where it ends."""
    out: List[bytes] = []
    depth = 1
    n = len(data)
    while pos < n:
        m = _STRING_STOP.search(data, pos)
        if m is None:
            out.append(data[pos:])
            return b"".join(out), n
        out.append(data[pos:m.start()])
        c = data[m.start()]
        pos = m.end()
        if c == 0x5C:  # backslash
            if pos >= n:
                break
            e = data[pos]
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                pos += 1
            elif 0x30 <= e <= 0x37:
                o = _OCTAL.match(data, pos)
                assert o is not None
                out.append(bytes([int(o.group(), 8) & 0xFF]))
                pos = o.end()
            elif e == 0x0D:  # a line continued
                pos += 2 if data[pos + 1:pos + 2] == b"\n" else 1
            elif e == 0x0A:
                pos += 1
            else:
                out.append(data[pos:pos + 1])
                pos += 1
        elif c == 0x28:
            depth += 1
            out.append(b"(")
        else:
            depth -= 1
            if depth == 0:
                return b"".join(out), pos
            out.append(b")")
    return b"".join(out), n


def _hex(token: bytes) -> bytes:
    digits = _HEX_JUNK.sub(b"", token)
    if len(digits) % 2:
        digits += b"0"
    return bytes.fromhex(digits.decode("ascii"))


def operations(data: bytes) -> Iterator[Tuple[List[Any], bytes]]:
    """The (operands, operator) pairs of a content stream (see the module's doc).

    Long on purpose: one loop over the tokens, each kind a line or two (a function per token
    would cost a call each)."""
    operands: List[Any] = []
    stack: List[List[Any]] = []  # arrays being read
    dict_depth = 0
    pos = 0
    n = len(data)
    match = _TOKEN.match
    while pos < n:
        m = match(data, pos)
        if m is None:  # (cannot happen: "other" takes any byte)
            break
        kind = m.lastgroup
        pos = m.end()
        if kind == "ws":
            continue
        target = stack[-1] if stack else operands
        if dict_depth:
            if kind == "dopen":
                dict_depth += 1
            elif kind == "dclose":
                dict_depth -= 1
                if not dict_depth:
                    target.append({})
            elif kind == "lstr":
                _s, pos = _literal(data, pos)
            continue
        if kind == "num":
            if len(target) < MAX_OPERANDS:
                target.append(float(m.group()))
        elif kind == "name":
            if len(target) < MAX_OPERANDS:
                name = m.group()
                if b"#" in name:  # /F#31 is /F1
                    name = _NAME_ESCAPE.sub(lambda e: bytes([int(e.group(1), 16)]), name)
                target.append(name.decode("latin-1"))
        elif kind == "lstr":
            value, pos = _literal(data, pos)
            if len(target) < MAX_OPERANDS:
                target.append(value)
        elif kind == "hstr":
            if len(target) < MAX_OPERANDS:
                target.append(_hex(m.group()[1:-1] if m.group().endswith(b">") else m.group()[1:]))
        elif kind == "aopen":
            if len(stack) < MAX_DEPTH:
                stack.append([])
        elif kind == "aclose":
            if stack:
                done = stack.pop()
                (stack[-1] if stack else operands).append(done)
        elif kind == "dopen":
            dict_depth = 1
        elif kind == "word":
            word = m.group()
            if word in (b"true", b"false", b"null"):
                target.append(word == b"true" if word != b"null" else None)
                continue
            stack = []
            if word == b"BI":
                end = _END_OF_IMAGE.search(data, pos)
                pos = end.end() if end is not None else n
                operands = []
                continue
            yield operands, word
            operands = []
