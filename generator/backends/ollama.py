"""Ollama's native API: /api/version, /api/tags, /api/show, /api/chat (NDJSON stream), /api/pull."""
import threading
import time
from typing import Any, Dict, List, Optional, Sequence

from ..errors import Cancelled, ModelNotFound, ServerFailed, StreamBroken
from .base import (Backend, ChatRequest, ChatResult, ModelInfo, PullCallback, ServerInfo, TextCallback,
                   TokenCallback)
from .embeddings import embed_ollama
from ..outside import neutralise, shown
from .http import (
    Http,
    as_dict,
    as_int,
    as_str,
    context_error,
    is_context_error,
    loads_line,
    not_a_server,
)
from .server_facts import loaded_context, preload
from .vision_messages import ollama_user_message

MAX_MODELS = 5000  # names kept from one model list


class OllamaBackend(Backend):
    name = "ollama"

    def __init__(self, http: Http) -> None:
        self.http = http

    def server_info(self) -> ServerInfo:
        body = self.http.get_json("/api/version")
        version = body.get("version") if isinstance(body, dict) else None
        if not isinstance(version, (str, int, float)) or isinstance(version, bool):
            raise not_a_server(self.http.base_url, "/api/version")
        return ServerInfo("ollama", self.http.base_url, shown(version, 40), tuple(self.list_models()))

    def list_models(self) -> List[str]:
        body = self.http.get_json("/api/tags")
        models = body.get("models") if isinstance(body, dict) else None
        if not isinstance(models, list):
            raise not_a_server(self.http.base_url, "/api/tags")
        names = [as_str(m.get("name")) or as_str(m.get("model")) for m in models if isinstance(m, dict)]
        return sorted(model_names(names))

    def model_info(self, model: str) -> ModelInfo:
        body = self.http.post_json("/api/show", {"model": model}, model=model)
        if not isinstance(body, dict):
            raise not_a_server(self.http.base_url, "/api/show")
        context = 0
        for key, value in as_dict(body.get("model_info")).items():  # a wrong shape counts as absent
            if isinstance(key, str) and key.endswith(".context_length") and as_int(value):
                context = as_int(value)
        listed = body.get("capabilities")
        caps = tuple(c[:40] for c in listed[:50] if isinstance(c, str)) if isinstance(listed, list) else ()
        details: Dict[str, Any] = as_dict(body.get("details"))
        listed = details.get("families")
        families: List[Any] = listed if isinstance(listed, list) else []
        return ModelInfo(model, context, caps, family=as_str(details.get("family"))[:60],
                         families=tuple(f[:60] for f in families[:20] if isinstance(f, str)),
                         parser=as_str(body.get("parser"))[:60])

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
        content: List[str] = []
        thinking: List[str] = []
        pieces = 0
        with self.http.post_stream("/api/chat", chat_body(request), model=request.model, cancel=cancel,
                                   seconds=self.http.chat_deadline(request.num_predict)) as answer:
            for line in answer.lines(max_lines=self.http.line_budget(request.num_predict),
                                     on_overflow=answer.content_overflow(on_text)):
                obj = loads_line(line)
                if obj is None:
                    if pieces == 0:
                        raise not_a_server(self.http.base_url, "/api/chat")
                    raise StreamBroken(
                        "The model server sent a damaged answer.", "Try again; if it repeats, restart Ollama."
                    )
                if "error" in obj:
                    raise stream_error(obj["error"], request.model)
                message = obj.get("message")
                if isinstance(message, dict):
                    text = message.get("content")
                    if isinstance(text, str) and text:
                        kept = answer.within_chars(text)  # the part within the cap is read
                        content.append(kept)
                        if on_text is not None and kept:
                            on_text(kept)
                        if len(kept) < len(text):
                            raise answer.too_many_chars()
                    text = message.get("thinking")
                    if isinstance(text, str) and text:
                        thinking.append(text)
                        answer.add_chars(len(text))
                pieces += 1
                if on_token is not None:
                    on_token(pieces)
                if obj.get("done"):
                    seconds = time.monotonic() - started
                    tokens = as_int(obj.get("eval_count")) or pieces
                    self.http.observe(tokens, seconds)
                    return ChatResult(
                        "".join(content),
                        "".join(thinking),
                        shown(as_str(obj.get("done_reason")), 40) or "stop",
                        as_int(obj.get("prompt_eval_count")),
                        tokens,
                        seconds,
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
        # No overall deadline: a pull can take hours; it shows progress and can be cancelled.
        with self.http.post_stream("/api/pull", {"model": model, "stream": True}, model=model,
                                   cancel=cancel) as answer:
            limits = self.http.limits
            for line in answer.lines(cap=limits.pull_bytes, max_line=limits.pull_line_bytes):
                obj = loads_line(line) or {}
                if "error" in obj:
                    raise ServerFailed(f"Pulling '{model}' failed: {shown(obj['error'])}",
                                       "Check the model name (see ollama.com/library) and your connection.")
                status = shown(as_str(obj.get("status")), 120)
                if on_progress is not None:
                    on_progress(status, as_int(obj.get("completed")), as_int(obj.get("total")))
                if status == "success":
                    return
        raise StreamBroken(f"Pulling '{model}' stopped before it finished.", "Try the pull again.")

    def abort(self, cancel: Optional[threading.Event] = None) -> None:
        self.http.abort(cancel)

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


def model_names(names: List[str]) -> List[str]:
    """Names fit to show and to send back: not empty, not too long, no control characters."""
    return [n for n in names[:MAX_MODELS] if n and len(n) <= 300 and neutralise(n) == n]


def stream_error(error: object, model: str) -> Exception:
    if isinstance(error, dict):
        error = error.get("message") or error
    text = shown(error)
    low = text.lower()
    if is_context_error(low):
        return context_error(text)
    if "not found" in low and "model" in low:
        return ModelNotFound(model)
    return ServerFailed(
        f"The model server failed during the answer: {text}",
        "Look at Ollama's log; if it ran out of memory, choose a smaller model or context size.",
    )
