"""Text that came from outside (a server's reply, a file's name or contents, a model's answer) made
safe to show: control characters and terminal escape sequences neutralised, length bounded.

Use ``shown`` for anything that reaches a terminal, a log line or a dialog message."""
import re

SHOWN_LIMIT = 300  # characters of outside text in one message

# CSI / OSC / other ESC sequences, then any C0/C1 control character except tab and newline.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def neutralise(text: str, keep_newlines: bool = False) -> str:
    """``text`` without escape sequences, control characters (shown as U+FFFD) or lone surrogates;
    newlines become spaces unless ``keep_newlines``."""
    text = _ESCAPES.sub("\ufffd", text)
    text = _CONTROLS.sub("\ufffd", text)
    text = _SURROGATES.sub("\ufffd", text)
    if not keep_newlines:
        text = text.replace("\r", " ").replace("\n", " ")
    return text


def shorten(text: str, limit: int = SHOWN_LIMIT) -> str:
    """At most ``limit`` characters, cut in the middle of neither a word (where one is near) nor
    without saying so."""
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    space = cut.rfind(" ")
    if space > limit * 0.7:
        cut = cut[:space]
    return cut.rstrip() + "…"


def shown(text: object, limit: int = SHOWN_LIMIT, keep_newlines: bool = False) -> str:
    """Outside text as it may be shown: neutralised, then shortened. Slices before neutralising so
    a 10 MB body costs no more than its first few kilobytes."""
    raw = str(text)[: limit * 4 + 64]
    return shorten(neutralise(raw, keep_newlines), limit)
