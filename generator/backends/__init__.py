"""Model servers. ``make_backend(config)`` picks the protocol the settings name."""
from typing import Any, Mapping

from .base import Backend, ChatRequest, ChatResult, ModelInfo, ServerInfo
from .http import START_HINT, Http

__all__ = ["Backend", "ChatRequest", "ChatResult", "ModelInfo", "ServerInfo", "make_backend"]

DEFAULT_URLS = {"ollama": "http://127.0.0.1:11434", "openai": "http://127.0.0.1:1234"}
OPENAI_START_HINT = (
    "Start your server (LM Studio, llama.cpp, vLLM, ...) or check the server URL in the "
    "add-on's settings."
)


def backend_kind(config: Mapping[str, Any]) -> str:
    kind = str(config.get("backend") or "ollama").lower()
    return "openai" if kind.startswith("openai") else "ollama"


def make_backend(config: Mapping[str, Any]) -> Backend:
    kind = backend_kind(config)
    url = str(config.get("url") or DEFAULT_URLS[kind]).strip()
    if "://" not in url:
        url = "http://" + url
    key = str(config.get("api_key") or "")
    http = Http(
        url,
        connect_timeout=float(config.get("connect_timeout") or 5),
        read_timeout=float(config.get("read_timeout") or 300),
        headers={"Authorization": f"Bearer {key}"} if key else {},
        retries=int(config.get("busy_retries", 3)),
        backoff=float(config.get("busy_backoff", 0.5)),
        start_hint=START_HINT if kind == "ollama" else OPENAI_START_HINT,
    )
    if kind == "openai":
        from .openai_compat import OpenAIBackend

        return OpenAIBackend(http, str(config.get("response_format") or "auto"))
    from .ollama import OllamaBackend

    return OllamaBackend(http)
