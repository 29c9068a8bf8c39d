"""How much reading one document may cost. Files come from outside: each bound keeps a hostile
or broken file from hanging a job or eating the machine's memory.

Four bounds are settings (config.json, documented in config.md; defaults in parentheses):
``source_max_mb`` (200) a file's size and what stdin may bring; ``source_read_seconds`` (300)
reading one file or stdin from start to end; ``pdf_page_seconds`` (20) extracting one PDF page's
text; ``pdf_page_mb`` (16) one PDF page's content streams, decompressed. Fixed: a PDF's content
in all (512 MB), an HTML file (50 MB).

``configure(settings)`` sets them (the CLI and the add-on call it); readers use ``current()``.
"""
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, List, Mapping, Union

if TYPE_CHECKING:
    from ..config import Settings

MB = 1024 * 1024

PDF_DOCUMENT_BYTES = 512 * MB  # all pages' content streams of one PDF, decompressed
HTML_BYTES = 50 * MB  # the HTML parser needs ~10x the file size in memory


@dataclass(frozen=True)
class ReadLimits:
    max_bytes: int = 200 * MB
    seconds: float = 300.0
    page_seconds: float = 20.0
    page_bytes: int = 16 * MB
    document_bytes: int = PDF_DOCUMENT_BYTES

    @classmethod
    def from_config(cls, cfg: Union["Settings", Mapping[str, Any], None]) -> "ReadLimits":
        """Limits from the settings (or a mapping of config keys: a missing or bad value keeps
        its default)."""
        from ..config import Settings

        s = cfg if isinstance(cfg, Settings) else Settings.from_dict(
            {k: v for k, v in (cfg or {}).items() if k in _KEYS})
        return replace(cls(), max_bytes=int(s.source_max_mb * MB), seconds=float(s.source_read_seconds),
                       page_seconds=float(s.pdf_page_seconds), page_bytes=int(s.pdf_page_mb * MB))


_KEYS = ("source_max_mb", "source_read_seconds", "pdf_page_seconds", "pdf_page_mb")


_current: List[ReadLimits] = [ReadLimits()]


def configure(cfg: Union["Settings", Mapping[str, Any], None]) -> ReadLimits:
    """Use the limits of ``cfg`` (the settings) from now on; returns them."""
    limits = ReadLimits.from_config(cfg)
    _current[0] = limits
    return limits


def current() -> ReadLimits:
    return _current[0]


def set_current(limits: ReadLimits) -> None:
    _current[0] = limits
