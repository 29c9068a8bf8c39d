"""Ollama's native API: /api/version, /api/tags, /api/show, /api/chat (NDJSON stream), /api/pull."""
import threading
import time
from typing import Any, Dict, List, Optional, Sequence

from ..errors import Cancelled, ModelNotFound, ServerFailed, StreamBroken
from .base import (Backend, ChatRequest, ChatResult, ModelInfo, PullCallback, ServerInfo, TextCallback,
                   TokenCallback)
from .embeddings import embed_ollama
from .http import Http, context_error, is_context_error, iter_lines, loads_line, not_a_server
from .server_facts import loaded_context, preload
from .vision_messages import ollama_user_message


class OllamaBackend(Backend):
    name = "ollama"

    def __init__(self, http: Http) -> None:
        self.http = http

    def server_info(self) -> ServerInfo:
        body = self.http.get_json("/api/version")
        if not isinstance(body, dict) or "version" not in body:
            raise not_a_server(self.http.base_url, "/api/version")
        return ServerInfo("ollama", self.http.base_url, str(body["version"]), tuple(self.list_models()))

    def list_models(self) -> List[str]:
        body = self.http.get_json("/api/tags")
        models = body.get("models") if isinstance(body, dict) else None
        if not isinstance(models, list):
            raise not_a_server(self.http.base_url, "/api/tags")
        names = [str(m.get("name") or m.get("model") or "") for m in models if isinstance(m, dict)]
        return sorted(n for n in names if n)

    def model_info(self, model: str) -> ModelInfo:
        body = self.http.post_json("/api/show", {"model": model}, model=model)
        if not isinstance(body, dict):
            raise not_a_server(self.http.base_url, "/api/show")
        context = 0
        for key, value in (body.get("model_info") or {}).items():
            if key.endswith(".context_length") and isinstance(value, int):
                context = value
        caps = tuple(str(c)[:40] for c in list(body.get("capabilities") or ())[:50])
        got = body.get("details")
        details: Dict[str, Any] = got if isinstance(got, dict) else {}
        listed = details.get("families")
        families: List[Any] = listed if isinstance(listed, list) else []
        return ModelInfo(model, context, caps, family=str(details.get("family") or "")[:60],
                         families=tuple(str(f)[:60] for f in families[:20]),
                         parser=str(body.get("parser") or "")[:60])

    def loaded_context(self, model: str, keep_alive: str = "10m") -> int:
        preload(self.http, model, keep_alive)
        return loaded_context(self.http, model)

    def embed(self, model: str, texts: Sequence[str]) -> List[List[float]]:
        return embed_ollama(self.http, model, texts)

    def chat(
        self,
        request: ChatRequest,
        cancel: Optional[threading.Event] = None,
        on_token: Optional[TokenCallback] = None,
        on_text: Optional[TextCallback] = None,
    ) -> ChatResult:
        started = time.monotonic()
        resp = self.http.post_stream("/api/chat", chat_body(request), model=request.model)
        content: List[str] = []
        thinking: List[str] = []
        pieces = 0
        for line in iter_lines(resp, cancel, self.http.timeout[1]):
            obj = loads_line(line)
            if obj is None:
                if pieces == 0:
                    raise not_a_server(self.http.base_url, "/api/chat")
                raise StreamBroken(
                    "The model server sent a damaged answer.", "Try again; if it repeats, restart Ollama."
                )
            if "error" in obj:
                raise stream_error(str(obj["error"]), request.model)
            message = obj.get("message") or {}
            if message.get("content"):
                content.append(message["content"])
                if on_text is not None:
                    on_text(str(message["content"]))
            if message.get("thinking"):
                thinking.append(message["thinking"])
            pieces += 1
            if on_token is not None:
                on_token(pieces)
            if obj.get("done"):
                return ChatResult(
                    "".join(content),
                    "".join(thinking),
                    str(obj.get("done_reason") or "stop"),
                    int(obj.get("prompt_eval_count") or 0),
                    int(obj.get("eval_count") or pieces),
                    time.monotonic() - started,
                )
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        raise StreamBroken(
            "The model server stopped in the middle of an answer.",
            "The server may have crashed or run out of memory; try again or use a smaller model.",
        )

    def pull(
        self, model: str, on_progress: Optional[PullCallback] = None,
        cancel: Optional[threading.Event] = None,
    ) -> None:
        resp = self.http.post_stream("/api/pull", {"model": model, "stream": True}, model=model)
        for line in iter_lines(resp, cancel, self.http.timeout[1]):
            obj = loads_line(line) or {}
            if "error" in obj:
                raise ServerFailed(f"Pulling '{model}' failed: {obj['error']}",
                                   "Check the model name (see ollama.com/library) and your connection.")
            status = str(obj.get("status") or "")
            if on_progress is not None:
                on_progress(status, int(obj.get("completed") or 0), int(obj.get("total") or 0))
            if status == "success":
                return
        raise StreamBroken(f"Pulling '{model}' stopped before it finished.", "Try the pull again.")

    def close(self) -> None:
        self.http.close()


def chat_body(request: ChatRequest) -> Dict[str, Any]:
    options: Dict[str, Any] = {
        "temperature": request.temperature,
        "num_predict": request.num_predict,
    }
    if request.num_ctx:  # else the server keeps the context the model is loaded with
        options["num_ctx"] = request.num_ctx
    if request.seed:
        options["seed"] = request.seed
    body: Dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": "system", "content": request.system},
                     ollama_user_message(request)] + list(request.extra_messages),
        "stream": True,
        "format": request.schema,
        "options": options,
        "keep_alive": request.keep_alive,
    }
    if request.think is not None:
        body["think"] = request.think
    return body


def stream_error(text: str, model: str) -> Exception:
    low = text.lower()
    if is_context_error(low):
        return context_error(text)
    if "not found" in low and "model" in low:
        return ModelNotFound(model)
    return ServerFailed(
        f"The model server failed during the answer: {text}",
        "Look at Ollama's log; if it ran out of memory, choose a smaller model or context size.",
    )
