"""What the server tells about itself and its models, turned into decisions: which listed model a
configured name means, whether this Ollama version enforces the card format, how to keep a
thinking model from thinking, and (Ollama) the context a model is loaded with.

Decisions follow what the server reports (its version, a model's capabilities, family and
parser), never a list of model names."""
import re
from typing import Any, Dict, Iterable, Optional, Tuple, Union

from .http import Http, not_a_server

ThinkSetting = Union[bool, str]  # what goes into a request's "think": false or a level

# Ollama before 0.31.2 did not enforce a JSON Schema ("format") for some thinking models when
# "think" was false (fixed by ollama PR #15901).
FORMAT_ENFORCED_SINCE: Tuple[int, int, int] = (0, 31, 2)
OLD_SERVER_WARNING = "this Ollama may ignore the card format; update it"

# Families whose thinking cannot be switched off: they ignore "think": false and take a level
# instead (GPT-OSS, reported as family "gptoss", parsed with the "harmony" parser).
LEVEL_ONLY_FAMILIES = frozenset({"gptoss", "gpt-oss"})
LEVEL_ONLY_PARSERS = frozenset({"harmony"})
LOWEST_THINK_LEVEL = "low"

MAX_NAME = 300


# --- model names ---------------------------------------------------------------------------------

def model_key(name: str) -> str:
    """A model name as Ollama compares names: a missing tag means ``:latest``, case ignored.
    ``llama3.2`` and ``llama3.2:latest`` give the same key; so do ``hf.co/x/y`` and ``hf.co/x/y:latest``."""
    name = name.strip()[:MAX_NAME].casefold()
    if not name:
        return ""
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else name + ":latest"


def same_model(a: str, b: str) -> bool:
    """True when both names mean the same model (``llama3.2`` is ``llama3.2:latest``)."""
    ka = model_key(a)
    return bool(ka) and ka == model_key(b)


def find_model(wanted: str, available: Iterable[str]) -> Optional[str]:
    """The server's own spelling of ``wanted`` among ``available``: the exact name first,
    then the same model by :func:`model_key`. None when the server does not have it."""
    names = list(available)
    if wanted in names:
        return wanted
    key = model_key(wanted)
    return next((n for n in names if key and model_key(n) == key), None)


# --- versions ------------------------------------------------------------------------------------

VERSION = re.compile(r"^\s*v?(\d{1,6})\.(\d{1,6})(?:\.(\d{1,6}))?")


def parse_version(text: str) -> Optional[Tuple[int, int, int]]:
    """``"0.31.2"``, ``"v0.12.3-rc1"`` -> (0, 31, 2) ...; None when it is not a version, or
    ``0.0.0`` (what a development build reports: its age is unknown)."""
    m = VERSION.match(str(text or "")[:60])
    if not m:
        return None
    version = (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    return version if version != (0, 0, 0) else None


def may_ignore_format(version_text: str) -> bool:
    """True for an Ollama version known to be older than the one that enforces the schema."""
    version = parse_version(version_text)
    return version is not None and version < FORMAT_ENFORCED_SINCE


# --- thinking ------------------------------------------------------------------------------------

def think_setting(capabilities: Iterable[str], family: str = "", families: Iterable[str] = (),
                  parser: str = "") -> Optional[ThinkSetting]:
    """What to send as ``think`` so that a model writes its answer instead of reasoning at
    length: nothing for a model without the ``thinking`` capability, ``false`` for one that can
    stop thinking, the lowest level (``"low"``) for a family whose thinking cannot be switched
    off (it ignores ``false``)."""
    if "thinking" not in set(capabilities):
        return None
    names = {str(f).strip().lower() for f in [family, *families] if f}
    if names & LEVEL_ONLY_FAMILIES or parser.strip().lower() in LEVEL_ONLY_PARSERS:
        return LOWEST_THINK_LEVEL
    return False


# --- Ollama: the context a model is loaded with ------------------------------------------------

def preload(http: Http, model: str, keep_alive: str) -> None:
    """Load ``model`` (an empty /api/generate loads it and answers at once), so /api/ps can say
    with which context the server loaded it."""
    body: Dict[str, Any] = {"model": model, "keep_alive": keep_alive, "stream": False}
    http.post_json("/api/generate", body, model=model)


def loaded_context(http: Http, model: str) -> int:
    """``context_length`` of ``model`` in /api/ps (the context it is loaded with); 0 when it is
    not loaded or the server does not say (versions before /api/ps reported it)."""
    body = http.get_json("/api/ps")
    models = body.get("models") if isinstance(body, dict) else None
    if not isinstance(models, list):
        raise not_a_server(http.base_url, "/api/ps")
    entries = {str(m.get("name") or m.get("model") or ""): m
               for m in models[:1000] if isinstance(m, dict)}
    name = find_model(model, entries)
    value = entries[name].get("context_length") if name is not None else None
    return value if isinstance(value, int) and 0 < value <= 1 << 24 else 0
