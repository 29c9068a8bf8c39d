"""HTTP plumbing shared by both protocols: one session, and every failure mapped to a typed error."""
import json
import threading
import time
from typing import Any, Dict, Iterator, Optional, Tuple

from ..errors import (
    AuthFailed,
    BackendError,
    Cancelled,
    ContextExceeded,
    ModelNotFound,
    NotAModelServer,
    ServerBusy,
    ServerFailed,
    ServerTimeout,
    ServerUnreachable,
)

START_HINT = (
    "Start Ollama (open the Ollama app or run `ollama serve`), or check the server URL "
    "in the add-on's settings."
)


class Http:
    """A requests session bound to a base URL, with timeouts and error mapping."""

    def __init__(
        self,
        base_url: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 300.0,
        headers: Optional[Dict[str, str]] = None,
        retries: int = 3,
        backoff: float = 0.5,
        start_hint: str = START_HINT,
    ) -> None:
        import requests  # lazy: keeps the add-on's start-up cheap

        self.base_url = base_url.rstrip("/")
        self.timeout: Tuple[float, float] = (connect_timeout, read_timeout)
        self.session = requests.Session()
        self.session.trust_env = False  # a local server must not go through a system proxy
        self.session.headers.update(headers or {})
        self.retries = retries
        self.backoff = backoff
        self.start_hint = start_hint

    def close(self) -> None:
        self.session.close()

    # -- requests -----------------------------------------------------------------------------

    def get_json(self, path: str, model: str = "") -> Any:
        return self._json_of(self._send("GET", path, None, stream=False, model=model), path)

    def post_json(self, path: str, body: Dict[str, Any], model: str = "") -> Any:
        return self._json_of(self._send("POST", path, body, stream=False, model=model), path)

    def post_stream(self, path: str, body: Dict[str, Any], model: str = ""):
        """POST and return the open streaming response (status already checked)."""
        return self._send("POST", path, body, stream=True, model=model)

    def _send(self, method: str, path: str, body: Optional[Dict[str, Any]], stream: bool, model: str):
        """One request, retried with backoff while the server says it is busy (429/503)."""
        attempt = 0
        while True:
            try:
                resp = self._request_once(method, path, body, stream)
                check_status(resp, self.base_url, model)
                return resp
            except ServerBusy:
                attempt += 1
                if attempt > self.retries:
                    raise
                time.sleep(self.backoff * (2 ** (attempt - 1)))

    def _request_once(self, method: str, path: str, body: Optional[Dict[str, Any]], stream: bool):
        import requests

        url = self.base_url + path
        try:
            return self.session.request(method, url, json=body, stream=stream, timeout=self.timeout)
        except requests.exceptions.ConnectTimeout:
            raise ServerUnreachable(
                f"The model server at {self.base_url} did not accept a connection within "
                f"{self.timeout[0]:g} s.",
                "Check that the server is running and that the URL and port are right; a firewall "
                "may be blocking it.",
            ) from None
        except requests.exceptions.ReadTimeout:
            raise read_timeout_error(self.timeout[1]) from None
        except requests.exceptions.InvalidURL:
            raise ServerUnreachable(
                f"'{self.base_url}' is not a valid server URL.",
                "Use a URL like http://127.0.0.1:11434 in the add-on's settings.",
            ) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema) as e:
            raise ServerUnreachable(
                f"Cannot connect to the model server at {self.base_url}.", self.start_hint
            ) from e

    def _json_of(self, resp, path: str) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise not_a_server(self.base_url, path) from None
        finally:
            resp.close()


def read_timeout_error(seconds: float) -> ServerTimeout:
    return ServerTimeout(
        f"The model server did not answer within {seconds:g} s.",
        "The model may still be loading, or the machine is slow for this model: raise the read "
        "timeout in the settings, or choose a smaller model.",
    )


def not_a_server(base_url: str, path: str = "") -> NotAModelServer:
    return NotAModelServer(
        f"{base_url} answered, but not like a model server{(' (at ' + path + ')') if path else ''}.",
        "Check the server URL and the backend (Ollama or OpenAI-compatible) in the settings; "
        "Ollama's default is http://127.0.0.1:11434.",
    )


def error_text(resp) -> str:
    """The server's own error message, for either protocol's error shape."""
    try:
        body = resp.json()
    except ValueError:
        return ""
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return str(err.get("message") or err)
    return str(err or body.get("message") or "") if isinstance(body, dict) else ""


def check_status(resp, base_url: str, model: str) -> None:
    """Raise the typed error an HTTP status means; return quietly on 2xx."""
    status = resp.status_code
    if 200 <= status < 300:
        ctype = resp.headers.get("content-type", "")
        if "html" in ctype.lower():
            resp.close()
            raise not_a_server(base_url)
        return
    text = error_text(resp)
    resp.close()
    raise error_for_status(status, text, base_url, model)


def error_for_status(status: int, text: str, base_url: str, model: str) -> BackendError:
    low = text.lower()
    if is_context_error(low):
        return context_error(text)
    if status == 404:
        if model and ("model" in low or "not found" in low):
            return ModelNotFound(model)
        return not_a_server(base_url)
    if status in (401, 403):
        return AuthFailed(
            f"The server refused the request ({status}{': ' + text if text else ''}).",
            "Check the API key in the add-on's settings.",
        )
    if status in (429, 503):
        return ServerBusy(
            f"The model server is busy ({status}{': ' + text if text else ''}).",
            "Too many requests are queued. Wait a moment and try again, or lower "
            "'parallel_requests' in the settings.",
        )
    if status >= 500:
        return ServerFailed(
            f"The model server failed ({status}{': ' + text if text else ''}).",
            "Look at the server's log; if it ran out of memory, choose a smaller model or a "
            "smaller context size.",
        )
    return BackendError(
        f"The model server rejected the request ({status}{': ' + text if text else ''}).",
        "Check the model name and settings; if this persists, report it with the server's log.",
    )


def is_context_error(low_text: str) -> bool:
    return "context length" in low_text or "context window" in low_text or (
        "exceed" in low_text and "context" in low_text
    )


def context_error(text: str) -> ContextExceeded:
    return ContextExceeded(
        f"The text is too long for the model's context window ({text}).",
        "Lower 'num_ctx' in the settings to match the model, or raise the server's context size.",
    )


def iter_lines(resp, cancel: Optional[threading.Event], read_timeout: float) -> Iterator[str]:
    """Lines of a streamed body; checks for cancellation between lines."""
    import requests

    try:
        for raw in resp.iter_lines(chunk_size=1024):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if raw:
                yield raw.decode("utf-8", errors="replace")
    except requests.exceptions.ConnectionError as e:
        # urllib3 wraps a read timeout in the middle of a body as a ConnectionError
        if "timed out" in str(e).lower():
            raise read_timeout_error(read_timeout) from None
        raise ServerFailed(
            "The connection to the model server broke during the answer.",
            "The server may have crashed or been restarted; try again.",
        ) from None
    except requests.exceptions.ChunkedEncodingError:
        return  # the body ended early; the caller notices the missing 'done'
    finally:
        resp.close()


def loads_line(line: str) -> Optional[Dict[str, Any]]:
    """Parse one NDJSON/SSE payload; None when it is not a JSON object."""
    try:
        obj = json.loads(line, strict=False)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None

