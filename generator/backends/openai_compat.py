"""OpenAI-compatible servers (LM Studio, llama.cpp, vLLM, Ollama's /v1): models and streamed chat."""
import threading
import time
from typing import Any, Dict, List, Optional, Sequence

from ..config import ResponseFormat
from ..errors import BackendError, Cancelled, ModelNotFound, ServerFailed, StreamBroken
from .base import Backend, ChatRequest, ChatResult, ModelInfo, ServerInfo, TextCallback, TokenCallback
from .embeddings import embed_openai
from ..outside import shown
from .http import Http, as_dict, as_int, as_str, loads_line, not_a_server
from .ollama import model_names
from .server_facts import find_model
from .vision_messages import openai_user_message

# How a JSON Schema is asked for (``ResponseFormat``). Servers differ: OpenAI, vLLM, LM Studio
# and Ollama take "json_schema"; llama-cpp-python's server takes only "json_object" with a
# "schema" beside it.


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(self, http: Http, response_format: ResponseFormat = ResponseFormat.AUTO) -> None:
        self.http = http
        self.response_format = ResponseFormat.parse(response_format)
        self._style_lock = threading.Lock()

    def server_info(self) -> ServerInfo:
        return ServerInfo("openai", self.http.base_url, "", tuple(self.list_models()))

    def list_models(self) -> List[str]:
        return sorted(self._model_entries())

    def _model_entries(self) -> Dict[str, Dict[str, Any]]:
        body = self.http.get_json("/v1/models")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise not_a_server(self.http.base_url, "/v1/models")
        entries = [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]
        names = set(model_names([m["id"] for m in entries]))
        return {m["id"]: m for m in entries if m["id"] in names}

    def model_info(self, model: str) -> ModelInfo:
        entries = self._model_entries()
        name = find_model(model, entries)  # Ollama's /v1 lists "llama3.2:latest" for "llama3.2"
        if entries and name is None:
            raise ModelNotFound(
                model,
                hint=f"Load '{model}' in your server, or choose one of: "
                     f"{shown(', '.join(sorted(entries)[:8]), 300)}.",
            )
        return ModelInfo(name or model, context_length(entries.get(name or model) or {}))

    def embed(self, model: str, texts: Sequence[str]) -> List[List[float]]:
        return embed_openai(self.http, model, texts)

    def chat(
        self,
        request: ChatRequest,
        cancel: Optional[threading.Event] = None,
        on_token: Optional[TokenCallback] = None,
        on_text: Optional[TextCallback] = None,
    ) -> ChatResult:
        style = self.response_format
        if style == ResponseFormat.AUTO:
            try:
                return self._chat(request, ResponseFormat.JSON_SCHEMA, cancel, on_token, on_text)
            except BackendError as e:
                # Only a rejected request means the form is wrong (llama-cpp-python answers 500,
                # others 400); timeouts, a busy or missing server and the like are passed on.
                if type(e) not in (BackendError, ServerFailed):
                    raise
                # Use the other form from now on.
                with self._style_lock:
                    self.response_format = ResponseFormat.JSON_OBJECT
                return self._chat(request, ResponseFormat.JSON_OBJECT, cancel, on_token, on_text)
        return self._chat(request, style, cancel, on_token, on_text)

    def _chat(self, request: ChatRequest, style: str, cancel, on_token, on_text) -> ChatResult:
        started = time.monotonic()
        content: List[str] = []
        pieces = 0
        finish = ""
        usage: Dict[str, Any] = {}
        with self.http.post_stream("/v1/chat/completions", chat_body(request, style),
                                   model=request.model, cancel=cancel,
                                   seconds=self.http.chat_deadline(request.num_predict)) as answer:
            for line in answer.lines(max_lines=self.http.line_budget(request.num_predict),
                                     on_overflow=answer.content_overflow(on_text)):
                if line.startswith(":"):
                    continue  # SSE comment / keep-alive
                payload = line[5:].strip() if line.startswith("data:") else line
                if payload == "[DONE]":
                    return self._result(content, finish or "stop", usage, pieces, started)
                if not payload or line.startswith(("event:", "id:", "retry:")):
                    continue  # other SSE fields
                obj = loads_line(payload)
                if obj is None:
                    if pieces == 0:
                        raise not_a_server(self.http.base_url, "/v1/chat/completions")
                    raise StreamBroken("The model server sent a damaged answer.", "Try again.")
                if "error" in obj:
                    err = obj["error"]
                    msg = err.get("message") or err if isinstance(err, dict) else err
                    raise ServerFailed(f"The model server failed during the answer: {shown(msg)}",
                                       "Look at the server's log and try again.")
                if isinstance(obj.get("usage"), dict):
                    usage = obj["usage"]
                choices = obj.get("choices")
                for choice in choices if isinstance(choices, list) else ():
                    choice = as_dict(choice)  # a wrong shape counts as absent
                    delta = as_dict(choice.get("delta") or choice.get("message"))
                    text = delta.get("content")
                    if isinstance(text, str) and text:
                        kept = answer.within_chars(text)  # the part within the cap is read
                        content.append(kept)
                        pieces += 1
                        if on_token is not None:
                            on_token(pieces)
                        if on_text is not None and kept:
                            on_text(kept)
                        if len(kept) < len(text):
                            raise answer.too_many_chars()
                    if as_str(choice.get("finish_reason")):
                        finish = shown(choice["finish_reason"], 40)
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        if finish:  # some servers end the stream without [DONE]
            return self._result(content, finish, {}, pieces, started)
        raise StreamBroken(
            "The model server stopped in the middle of an answer.",
            "The server may have crashed or run out of memory; try again.",
        )

    def _result(self, content: List[str], finish: str, usage: Dict[str, Any], pieces: int,
                started: float) -> ChatResult:
        seconds = time.monotonic() - started
        tokens = as_int(usage.get("completion_tokens")) or pieces
        self.http.observe(tokens, seconds)
        return ChatResult("".join(content), "", finish, as_int(usage.get("prompt_tokens")), tokens,
                          seconds)

    def pull(self, model, on_progress=None, cancel=None) -> None:
        raise ModelNotFound(model, hint="This server cannot download models: load the model in the "
                                        "server itself (e.g. in LM Studio), then choose it here.")

    def abort(self, cancel: Optional[threading.Event] = None) -> None:
        self.http.abort(cancel)

    def close(self) -> None:
        self.http.close()


def chat_body(request: ChatRequest, style: str) -> Dict[str, Any]:
    body: Dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": "system", "content": request.system},
                     openai_user_message(request)] + list(request.extra_messages),
        "stream": True,
        "temperature": request.temperature,  # always sent: the OpenAI path defaults to 1.0
        "max_tokens": request.num_predict,
    }
    if request.seed:
        body["seed"] = request.seed
    if style == "json_schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "flashcards", "schema": request.schema},
        }
    elif style == "json_object":
        body["response_format"] = {"type": "json_object", "schema": request.schema}
    return body


def context_length(entry: Dict[str, Any]) -> int:
    """The context window a /v1/models entry states, where the server says it: vLLM
    (max_model_len), LM Studio and others (context_length, max_context_length), llama.cpp's
    server (meta.n_ctx, else the model's meta.n_ctx_train). 0 when it says nothing."""
    meta = as_dict(entry.get("meta"))
    for value in (entry.get("max_model_len"), entry.get("context_length"),
                  entry.get("max_context_length"), meta.get("n_ctx"), meta.get("n_ctx_train")):
        if as_int(value) > 0:
            return as_int(value)
    return 0
