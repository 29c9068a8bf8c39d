"""JSON from outside (a server's reply, a model's answer) parsed with its nesting bounded: a
reply nested thousands deep is refused before the parser recurses into it, so it ends as a
``ValueError`` like any other bad JSON, never as a ``RecursionError``."""
import json
import re
from typing import Any, Tuple

MAX_DEPTH = 64  # a model server's reply or a card answer is a few levels deep

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")
_LENIENT = json.JSONDecoder(strict=False)  # made once: json.loads(strict=False) makes one per call
_STRICT = json.JSONDecoder()


class TooDeep(ValueError):
    """The JSON text nests deeper than allowed."""


def depth_over(text: str, limit: int = MAX_DEPTH) -> bool:
    """True when ``text`` (JSON, perhaps with prose around it) nests brackets deeper than
    ``limit`` outside its strings. Linear; text with few brackets costs two ``count`` calls."""
    if text.count("{") + text.count("[") <= limit:
        return False
    depth = 0
    for m in _BRACKET.finditer(_STRING.sub("", text)):
        if m.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        elif depth:
            depth -= 1
    return False


def loads(text: str, max_depth: int = MAX_DEPTH, strict: bool = False) -> Any:
    """``json.loads`` that raises ``TooDeep`` (a ``ValueError``) for text nested deeper than
    ``max_depth``."""
    if depth_over(text, max_depth):
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    try:
        return (_LENIENT if not strict else _STRICT).decode(text)
    except RecursionError:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels") from None


def raw_decode(decoder: json.JSONDecoder, text: str, start: int,
               max_depth: int = MAX_DEPTH) -> Tuple[Any, int]:
    """``decoder.raw_decode(text, start)`` (value, end), raising ``TooDeep`` instead of
    ``RecursionError`` (text of any length: the parser gives up at the recursion limit)."""
    try:
        return decoder.raw_decode(text, start)
    except RecursionError:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels") from None
