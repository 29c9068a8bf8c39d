"""The add-on's settings: one typed ``Settings`` with every key of config.json, its type, its
default and its checks. The CLI, the engine (``JobOptions.from_config``, ``make_backend``) and
the settings dialog all read a ``Settings``; nothing else repeats a default.

Adding a key is one line in ``Settings``::

    read_timeout: float = setting(300, positive)

plus the same default in ``config.json`` (the defaults file the user sees in Anki's config
editor) and one documented line in ``config.md``; a test checks that the three agree. The type
comes from the annotation (``bool``, ``int``, ``float``, ``str``, ``List[str]``,
``Dict[str, str]``, a ``Choice`` enum, or a ``Union`` of those, e.g. ``Union[int, str]`` for a
number or ``"auto"``); checks are small functions that return a problem or ``None``.

``Settings.from_dict(raw)`` never fails: a bad value keeps its default and is reported (with
the key, what it should be and what it was) in the ``problems`` list it is given; unknown keys
are reported the same way. ``Settings.checked(raw)`` raises ``ConfigError`` instead.
Closed sets (card kind, backend, response format, bulk mode) are ``Choice`` enums: ``str``
subclasses, so ``CardKind.CLOZE == "cloze"`` and they go into JSON as their value."""
import copy
import dataclasses
import json
import os
import sys
import typing
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Type, TypeVar, Union

from .errors import FlashcardError

ADDON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULTS_PATH = os.path.join(ADDON_DIR, "config.json")


class ConfigError(FlashcardError):
    """A setting has a value the add-on cannot use."""

    exit_code = 2


# --- closed sets -------------------------------------------------------------------------------

C = TypeVar("C", bound="Choice")


class Choice(str, Enum):
    """A closed set of string values (a config value, a card kind, ...)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    @classmethod
    def parse(cls: Type[C], value: Any) -> C:
        """The member for ``value`` (case and surrounding spaces ignored); ValueError names the
        allowed values."""
        if isinstance(value, cls):
            return value
        text = str(value).strip().lower() if isinstance(value, str) else None
        for member in cls:
            if member.value == text:
                return member
        raise ValueError("one of %s" % ", ".join('"%s"' % m.value for m in cls))


class CardKind(Choice):
    BASIC = "basic"
    REVERSED = "reversed"  # Basic (and reversed card)
    CLOZE = "cloze"
    OCCLUSION = "occlusion"  # Anki's Image Occlusion, from labelled figures (generator/occlusion/)


class BackendKind(Choice):
    OLLAMA = "ollama"
    OPENAI = "openai"  # any OpenAI-compatible server (LM Studio, llama.cpp, vLLM, Ollama's /v1)

    @property
    def default_url(self) -> str:
        return DEFAULT_URLS[self]


DEFAULT_URLS: Dict[BackendKind, str] = {
    BackendKind.OLLAMA: "http://127.0.0.1:11434",
    BackendKind.OPENAI: "http://127.0.0.1:1234",  # LM Studio's default
}


class ResponseFormat(Choice):
    """How an OpenAI-compatible server is asked for the JSON Schema."""

    AUTO = "auto"  # json_schema, switching to json_object if the server rejects it
    JSON_SCHEMA = "json_schema"
    JSON_OBJECT = "json_object"  # with the schema beside it (llama-cpp-python's server)
    NONE = "none"


class Depth(Choice):
    """How many cards a text gets: one per key idea, per distinct fact, or per fact and detail."""

    KEY_IDEAS = "key_ideas"
    EVERY_FACT = "every_fact"
    EXHAUSTIVE = "exhaustive"


class SelfReview(Choice):
    """Which cards the one rewrite pass sends back to the model (generator/job/rewrite.py)."""

    OFF = "off"
    FLAGGED = "flagged"  # the cards the checks flagged
    ALL = "all"  # every card (the model may rewrite, but drops only flagged ones)


class FlaggedInBulk(Choice):
    """What the bulk import's "add as they come" mode does with a flagged card."""

    TAG = "tag"  # add it, tagged ollama-flashcards::flagged
    SKIP = "skip"  # do not add it


class BulkMode(Choice):
    ADD = "add"  # add the cards as they come
    REVIEW = "review"  # review all before adding


class FigureMode(Choice):
    """Figures for models that can see (generator/figures/plan.py)."""

    AUTO = "auto"  # on when the model can see
    OFF = "off"  # text only
    SLIDES = "slides"  # every PDF page by page (page image + its text), whatever the detection says


# --- checks --------------------------------------------------------------------------------------

Check = Callable[[Any], Optional[str]]


@dataclass(frozen=True)
class Bounds:
    """A number's range, as a check (the problem with a value outside it); the settings dialog
    gives a key's spin box this range (``Settings.bounds``)."""

    low: Optional[float] = None
    high: Optional[float] = None
    above: bool = False  # ``low`` itself is out: more than it

    def __call__(self, v: Any) -> Optional[str]:
        if self.above and self.low is not None and not v > self.low:
            return "more than %s" % self.low
        if self.high is None:
            return None if self.low is None or v >= self.low else "at least %s" % self.low
        if self.low is None:
            return None if v <= self.high else "at most %s" % self.high
        return None if self.low <= v <= self.high else "between %s and %s" % (self.low, self.high)


def at_least(low: float) -> Bounds:
    return Bounds(low)


positive = Bounds(0, above=True)


def between(low: float, high: float) -> Bounds:
    return Bounds(low, high)


def auto_or_tokens(v: Any) -> Optional[str]:
    """num_ctx: "auto" or a number of tokens (context_size.MIN_CTX and up)."""
    if isinstance(v, str):
        return None if v.strip().lower() == "auto" else '"auto" or a number of tokens'
    return None if v >= 512 else '"auto" or at least 512'


def setting(default: Any, *checks: Check) -> Any:
    """A ``Settings`` field: its default (copied for lists and dicts) and its checks."""
    meta = {"checks": checks}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


# --- the settings --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """Every key of config.json (see config.md for what each does)."""

    # server
    backend: BackendKind = setting(BackendKind.OLLAMA)
    url: str = setting(DEFAULT_URLS[BackendKind.OLLAMA])
    api_key: str = setting("")
    response_format: ResponseFormat = setting(ResponseFormat.AUTO)
    connect_timeout: float = setting(5, positive)
    read_timeout: float = setting(300, positive)
    parallel_requests: int = setting(1, between(1, 64))
    busy_retries: int = setting(3, between(0, 20))
    busy_backoff: float = setting(0.5, between(0, 60))
    request_deadline: float = setting(900, at_least(1))
    max_answer_mb: float = setting(32, between(0.01, 4096))
    max_answer_chars: int = setting(1000000, at_least(1000))
    # model
    model: str = setting("llama3.2")
    temperature: float = setting(0.2, between(0, 2))
    num_ctx: Union[int, str] = setting("auto", auto_or_tokens)
    num_predict: int = setting(2048, at_least(16))
    seed: int = setting(0, at_least(0))
    keep_alive: str = setting("10m")
    figures: FigureMode = setting(FigureMode.AUTO)
    max_images_per_request: int = setting(4, between(0, 16))
    # cards
    card_kind: CardKind = setting(CardKind.BASIC)
    note_type: str = setting("")
    field_mapping: Dict[str, str] = setting({})
    deck: str = setting("Default")
    tags: List[str] = setting(["ollama-flashcards"])
    language: str = setting("")
    max_cards: int = setting(0, between(0, 10000))
    prompt_additions: str = setting("")
    skip_duplicates: bool = setting(True)
    # duplicates by meaning (generator/similar.py): "" = off
    embed_model: str = setting("")
    similarity_threshold: float = setting(0.86, between(0.0, 1.0))
    skip_similar: bool = setting(True)
    depth: Depth = setting(Depth.EVERY_FACT)
    self_review: SelfReview = setting(SelfReview.FLAGGED)
    uncheck_flagged: bool = setting(True)
    # bulk
    bulk_mode: BulkMode = setting(BulkMode.ADD)
    bulk_skip_known: bool = setting(True)
    bulk_flagged: FlaggedInBulk = setting(FlaggedInBulk.TAG)
    # reading files (bounds against hostile or broken files)
    source_max_mb: int = setting(200, between(1, 100000))
    source_read_seconds: float = setting(300, between(1, 86400))
    pdf_page_seconds: float = setting(20, between(1, 3600))
    pdf_page_mb: int = setting(16, between(1, 4096))
    # other
    shortcut: str = setting("Ctrl+Shift+G")
    log_content: bool = setting(False)
    last_folder: str = setting("")

    # --- reading ------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, raw: Optional[Mapping[str, Any]] = None,
                  problems: Optional[List[str]] = None) -> "Settings":
        """Defaults overlaid with ``raw``. A bad value keeps its default and, like an unknown
        key, is described in ``problems``; ``None`` means "the default" and is no problem."""
        found: List[str] = []
        values: Dict[str, Any] = {}
        fields = _fields()
        for key, value in (raw or {}).items():
            spec = fields.get(key)
            if spec is None:
                found.append("Unknown setting '%s' (ignored)." % key)
                continue
            if value is None:
                continue
            try:
                values[key] = _convert(spec, value)
            except ValueError as e:
                found.append("Setting '%s' should be %s, not %s; using the default %s." % (
                    key, e, _show(value), _show(_jsonable(_default(spec)))))
        if problems is not None:
            problems.extend(found)
        return cls(**values)

    @classmethod
    def checked(cls, raw: Optional[Mapping[str, Any]] = None) -> "Settings":
        """Like ``from_dict``, but a bad value or an unknown key raises ``ConfigError``."""
        problems: List[str] = []
        settings = cls.from_dict(raw, problems)
        if problems:
            raise ConfigError(" ".join(problems), "Fix it in the add-on's settings or config.json.")
        return settings

    @classmethod
    def keys(cls) -> Tuple[str, ...]:
        return tuple(_fields())

    @classmethod
    def type_of(cls, key: str) -> Any:
        """The key's type (``bool``, ``int``, a ``Choice`` enum, ``List[str]``, ...)."""
        return _type_of(key)

    @classmethod
    def bounds(cls, key: str) -> Bounds:
        """The range a number key's checks allow (open ends are ``None``)."""
        for check in _fields()[key].metadata.get("checks", ()):
            if isinstance(check, Bounds):
                return check
        return Bounds()

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some keys changed (checked like ``checked``)."""
        merged = self.to_dict()
        merged.update(changes)
        return Settings.checked(merged)

    def to_dict(self) -> Dict[str, Any]:
        """As config.json has it (enums as their value)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    # --- derived ------------------------------------------------------------------------------
    @property
    def server_url(self) -> str:
        """The URL to talk to: the setting, or the backend's default when it is empty."""
        url = self.url.strip() or self.backend.default_url
        return url if "://" in url else "http://" + url


def defaults() -> Settings:
    return Settings()


def load(user: Optional[Mapping[str, Any]] = None, problems: Optional[List[str]] = None) -> Settings:
    """The defaults overlaid with the user's values (what Anki's ``getConfig`` returns)."""
    return Settings.from_dict(user, problems)


def as_settings(config: Union[Settings, Mapping[str, Any], None]) -> Settings:
    """A ``Settings`` from one, or from a (partial) mapping of config keys (code that passes a
    bad value or an unknown key gets a ``ConfigError``)."""
    if isinstance(config, Settings):
        return config
    return Settings.checked(config)


def config_json() -> Dict[str, Any]:
    """config.json as the file has it (tests compare it with ``Settings()``)."""
    with open(DEFAULTS_PATH, encoding="utf-8") as f:
        data: Dict[str, Any] = json.load(f)
    return data


# --- helpers -------------------------------------------------------------------------------------

def _fields() -> Dict[str, "dataclasses.Field[Any]"]:
    return {f.name: f for f in dataclasses.fields(Settings)}


_HINTS: Dict[str, Any] = {}


def _type_of(name: str) -> Any:
    if not _HINTS:
        _HINTS.update(typing.get_type_hints(Settings, vars(sys.modules[__name__])))
    return _HINTS[name]


def _default(spec: "dataclasses.Field[Any]") -> Any:
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    return spec.default


def _convert(spec: "dataclasses.Field[Any]", value: Any) -> Any:
    value = _typed(_type_of(spec.name), value)
    for check in spec.metadata.get("checks", ()):
        problem = check(value)
        if problem:
            raise ValueError(problem)
    return value


def _typed(kind: Any, value: Any) -> Any:
    """``value`` as ``kind``, or ValueError saying what it should be."""
    origin = typing.get_origin(kind)
    if origin is Union:
        wanted = []
        for member in typing.get_args(kind):
            try:
                return _typed(member, value)
            except ValueError as e:
                wanted.append(str(e))
        raise ValueError(" or ".join(wanted))
    if isinstance(kind, type) and issubclass(kind, Choice):
        return kind.parse(value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ValueError("true or false")
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("a whole number")
        return int(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("a number")
        return value
    if kind is str:
        if isinstance(value, str):
            return value
        raise ValueError("text")
    if origin is list:
        if isinstance(value, str):  # "a b" for ["a", "b"]
            return value.split()
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise ValueError("a list of texts")
    if origin is dict:
        if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str)
                                           for k, v in value.items()):
            return dict(value)
        raise ValueError("an object of texts")
    raise ValueError("a %s" % kind)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Choice):
        return value.value
    return copy.deepcopy(value)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:59] + "…"
