"""The one small interface both server protocols implement."""
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple


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
        return f"{name}{version} at {host} · {n} model{'s' if n != 1 else ''}"


@dataclass
class ModelInfo:
    name: str
    context_length: int = 0  # 0 when the server does not say
    capabilities: Tuple[str, ...] = ()

    @property
    def thinks(self) -> bool:
        return "thinking" in self.capabilities


@dataclass
class ChatRequest:
    model: str
    system: str
    user: str
    schema: Dict[str, Any]
    temperature: float = 0.2
    num_ctx: int = 4096
    num_predict: int = 1024
    seed: int = 0  # 0 = not sent
    keep_alive: str = "10m"
    think: Optional[bool] = None  # None = not sent
    extra_messages: List[Dict[str, str]] = field(default_factory=list)  # e.g. a retry's feedback


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

    def close(self) -> None:
        pass
