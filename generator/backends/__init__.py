"""Model servers. ``make_backend(config)`` picks the protocol the settings name."""
from typing import Any, Mapping, Union

from ..config import BackendKind, Settings, as_settings

from .base import Backend, ChatRequest, ChatResult, ModelInfo, ServerInfo
from .http import START_HINT, Http
from .wire import Limits

__all__ = ["Backend", "ChatRequest", "ChatResult", "ModelInfo", "ServerInfo", "make_backend"]

OPENAI_START_HINT = (
    "Start your server (LM Studio, llama.cpp, vLLM, ...) or check the server URL in the "
    "add-on's settings."
)


def make_backend(config: Union[Settings, Mapping[str, Any]]) -> Backend:
    """The backend the settings name (a mapping of config keys is read as ``Settings``)."""
    settings = as_settings(config)
    key = settings.api_key
    http = Http(
        settings.server_url,
        connect_timeout=float(settings.connect_timeout),
        read_timeout=float(settings.read_timeout),
        headers={"Authorization": f"Bearer {key}"} if key else {},
        retries=settings.busy_retries,
        backoff=float(settings.busy_backoff),
        start_hint=START_HINT if settings.backend == BackendKind.OLLAMA else OPENAI_START_HINT,
        limits=Limits.from_settings(settings),
    )
    if settings.backend == BackendKind.OPENAI:
        from .openai_compat import OpenAIBackend

        return OpenAIBackend(http, settings.response_format)
    from .ollama import OllamaBackend

    return OllamaBackend(http)
