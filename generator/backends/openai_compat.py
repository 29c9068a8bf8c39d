"""OpenAI-compatible servers (LM Studio, llama.cpp, vLLM, Ollama's /v1): models and streamed chat."""
import threading
import time
from typing import Any, Dict, List, Optional, Sequence

from ..config import ResponseFormat
from ..errors import BackendError, Cancelled, ModelNotFound, ServerFailed, StreamBroken
from .base import Backend, ChatRequest, ChatResult, ModelInfo, ServerInfo, TextCallback, TokenCallback
from .embeddings import embed_openai
from .http import Http, iter_lines, loads_line, not_a_server
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
        return {str(m["id"]): m for m in data if isinstance(m, dict) and m.get("id")}

    def model_info(self, model: str) -> ModelInfo:
        entries = self._model_entries()
        name = find_model(model, entries)  # Ollama's /v1 lists "llama3.2:latest" for "llama3.2"
        if entries and name is None:
            raise ModelNotFound(
                model,
                hint=f"Load '{model}' in your server, or choose one of: {', '.join(sorted(entries)[:8])}.",
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
        resp = self.http.post_stream("/v1/chat/completions", chat_body(request, style), model=request.model)
        content: List[str] = []
        pieces = 0
        finish = ""
        usage: Dict[str, Any] = {}
        for line in iter_lines(resp, cancel, self.http.timeout[1]):
            if line.startswith(":"):
                continue  # SSE comment / keep-alive
            payload = line[5:].strip() if line.startswith("data:") else line
            if payload == "[DONE]":
                return ChatResult("".join(content), "", finish or "stop",
                                  int(usage.get("prompt_tokens") or 0),
                                  int(usage.get("completion_tokens") or pieces),
                                  time.monotonic() - started)
            obj = loads_line(payload)
            if obj is None:
                if pieces == 0:
                    raise not_a_server(self.http.base_url, "/v1/chat/completions")
                raise StreamBroken("The model server sent a damaged answer.", "Try again.")
            if "error" in obj:
                err = obj["error"]
                msg = err.get("message") if isinstance(err, dict) else err
                raise ServerFailed(f"The model server failed during the answer: {msg}",
                                   "Look at the server's log and try again.")
            if isinstance(obj.get("usage"), dict):
                usage = obj["usage"]
            for choice in obj.get("choices") or ():
                delta = choice.get("delta") or choice.get("message") or {}
                if delta.get("content"):
                    content.append(delta["content"])
                    pieces += 1
                    if on_token is not None:
                        on_token(pieces)
                    if on_text is not None:
                        on_text(str(delta["content"]))
                if choice.get("finish_reason"):
                    finish = str(choice["finish_reason"])
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        if finish:  # some servers end the stream without [DONE]
            return ChatResult("".join(content), "", finish, 0, pieces, time.monotonic() - started)
        raise StreamBroken(
            "The model server stopped in the middle of an answer.",
            "The server may have crashed or run out of memory; try again.",
        )

    def pull(self, model, on_progress=None, cancel=None) -> None:
        raise ModelNotFound(model, hint="This server cannot download models: load the model in the "
                                        "server itself (e.g. in LM Studio), then choose it here.")

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
    found = entry.get("meta")
    meta: Dict[str, Any] = found if isinstance(found, dict) else {}
    for value in (entry.get("max_model_len"), entry.get("context_length"),
                  entry.get("max_context_length"), meta.get("n_ctx"), meta.get("n_ctx_train")):
        if isinstance(value, int) and value > 0:
            return value
    return 0
