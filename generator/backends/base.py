"""The one small interface both server protocols implement."""
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .server_facts import OLD_SERVER_WARNING, ThinkSetting, may_ignore_format, think_setting


@dataclass
class ServerInfo:
    backend: str  # "ollama" or "openai"
    url: str
    version: str = ""  # empty when the protocol has no version call
    models: Tuple[str, ...] = ()

    def status_line(self) -> str:
        name = "Ollama" if self.backend == "ollama" else "OpenAI-compatible server"
        host = self.url.split("://", 1)[-1].rstrip("/")
        version = f" {self.version}" if self.version else ""
        n = len(self.models)
        line = f"{name}{version} at {host} · {n} model{'s' if n != 1 else ''}"
        if self.backend == "ollama" and may_ignore_format(self.version):
            line += f" · {OLD_SERVER_WARNING}"
        return line


@dataclass
class ModelInfo:
    name: str
    context_length: int = 0  # 0 when the server does not say
    capabilities: Tuple[str, ...] = ()
    family: str = ""  # /api/show details.family, e.g. "llama", "qwen3", "gptoss"
    families: Tuple[str, ...] = ()
    parser: str = ""  # /api/show parser, e.g. "harmony"

    @property
    def thinks(self) -> bool:
        return "thinking" in self.capabilities

    def think_setting(self) -> Optional[ThinkSetting]:
        """What to send as ``think``: None (not a thinking model), False, or the lowest level."""
        return think_setting(self.capabilities, self.family, self.families, self.parser)


@dataclass
class ChatRequest:
    model: str
    system: str
    user: str
    schema: Dict[str, Any]
    temperature: float = 0.2
    num_ctx: int = 4096  # 0 = not sent (the server keeps the context the model is loaded with)
    num_predict: int = 1024
    seed: int = 0  # 0 = not sent
    keep_alive: str = "10m"
    think: Optional[ThinkSetting] = None  # None = not sent; False or a level ("low")
    extra_messages: List[Dict[str, str]] = field(default_factory=list)  # e.g. a retry's feedback
    images: List[str] = field(default_factory=list)  # raw base64 PNG/JPEG on the user message


@dataclass
class ChatResult:
    content: str
    thinking: str = ""
    done_reason: str = ""
    prompt_tokens: int = 0
    answer_tokens: int = 0
    seconds: float = 0.0


TokenCallback = Callable[[int], None]  # called with the number of answer pieces received so far
TextCallback = Callable[[str], None]  # called with each piece of the answer's content, as it arrives
PullCallback = Callable[[str, int, int], None]  # status, completed bytes, total bytes


class Backend:
    """A model server. Implementations raise only errors from ``generator.errors``."""

    name = "base"

    def server_info(self) -> ServerInfo:
        raise NotImplementedError

    def list_models(self) -> List[str]:
        raise NotImplementedError

    def model_info(self, model: str) -> ModelInfo:
        raise NotImplementedError

    def loaded_context(self, model: str, keep_alive: str = "10m") -> int:
        """Load ``model`` if need be and return the context it is loaded with; 0 when the
        server cannot say (then the model's own context or a safe default is used)."""
        return 0

    def embed(self, model: str, texts: Sequence[str]) -> List[List[float]]:
        """One embedding vector per text, in order."""
        raise NotImplementedError

    def chat(
        self,
        request: ChatRequest,
        cancel: Optional[threading.Event] = None,
        on_token: Optional[TokenCallback] = None,
        on_text: Optional[TextCallback] = None,
    ) -> ChatResult:
        """One streamed answer. ``on_token`` gets the count of pieces so far, ``on_text`` each
        piece of the content (not of a thinking model's 'thinking') on the reading thread."""
        raise NotImplementedError

    def pull(
        self, model: str, on_progress: Optional[PullCallback] = None,
        cancel: Optional[threading.Event] = None,
    ) -> None:
        raise NotImplementedError

    def abort(self, cancel: Optional[threading.Event] = None) -> None:
        """Close at once the requests in flight that were started with ``cancel`` (all of them
        when None): their ``chat`` raises ``Cancelled`` instead of waiting for the server."""

    def close(self) -> None:
        pass
