"""HTTP plumbing shared by both protocols: one session, every request bounded (an overall
deadline kept by a watchdog, caps on bytes and lines, no unbounded decompression, redirects
not followed for model requests) and every failure mapped to a typed error."""
import codecs
import http.client
import json
import re
import socket
import threading
import time
from typing import Any, Callable, Dict, Iterator, Optional, Tuple, Union
from urllib.parse import urljoin, urlsplit

from .. import safejson
from ..errors import (
    AnswerTooLarge,
    AuthFailed,
    BackendError,
    Cancelled,
    ContextExceeded,
    DeadlinePassed,
    FlashcardError,
    ModelNotFound,
    NotAModelServer,
    Redirected,
    ServerBusy,
    ServerFailed,
    ServerTimeout,
    ServerUnreachable,
    StreamBroken,
)
from ..outside import shown
from .wire import (
    MB,
    WATCHDOG,
    BadEncoding,
    CutShort,
    Decoder,
    Guard,
    LineSplitter,
    Limits,
    Stop,
    TooLarge,
    guarded_adapter,
    raw_chunks,
    sending,
)

START_HINT = (
    "Start Ollama (open the Ollama app or run `ollama serve`), or check the server URL "
    "in the add-on's settings."
)
RATE_MARGIN = 4.0  # a derived deadline allows answers this many times slower than observed


class Http:
    """A requests session bound to a base URL, with timeouts, limits and error mapping."""

    def __init__(
        self,
        base_url: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 300.0,
        headers: Optional[Dict[str, str]] = None,
        retries: int = 3,
        backoff: float = 0.5,
        start_hint: str = START_HINT,
        limits: Optional[Limits] = None,
    ) -> None:
        import requests  # lazy: keeps the add-on's start-up cheap

        self.base_url = base_url.rstrip("/")
        self.timeout: Tuple[float, float] = (connect_timeout, read_timeout)
        self.limits = limits or Limits()
        self.session = requests.Session()
        self.session.trust_env = False  # a local server must not go through a system proxy
        adapter = guarded_adapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # Ask for no compression (decoded here with a cap if the server compresses anyway).
        self.session.headers["Accept-Encoding"] = "identity"
        self.session.headers.update(headers or {})
        self.retries = retries
        self.backoff = backoff
        self.start_hint = start_hint
        self.rate = 0.0  # answer tokens per second seen so far (0 = nothing seen yet)
        self._rate_lock = threading.Lock()

    def close(self) -> None:
        self.abort()
        self.session.close()

    def abort(self, cancel: Optional[threading.Event] = None) -> None:
        """Close at once the requests in flight (those started with ``cancel``, or all)."""
        WATCHDOG.stop(self, cancel)

    # -- deadlines ------------------------------------------------------------------------------

    def chat_deadline(self, num_predict: int) -> float:
        """Seconds one answer of up to ``num_predict`` tokens may take: the ceiling until a rate
        has been seen; then the read timeout (the wait for the first token) plus the answer at a
        quarter of the observed rate, never below the floor nor above the ceiling."""
        ceiling = self.limits.deadline
        rate = self.rate
        if rate <= 0:
            return ceiling
        derived = self.timeout[1] + max(1, num_predict) * RATE_MARGIN / rate
        return min(ceiling, max(self.limits.deadline_floor, derived))

    @staticmethod
    def line_budget(num_predict: int) -> Optional[int]:
        """Lines one streamed answer may have: a server sends about one per token (SSE: two),
        so four per token and some to spare; None when the answer length is not bounded."""
        return 4 * num_predict + 256 if num_predict > 0 else None

    def observe(self, tokens: int, seconds: float) -> None:
        """Record the speed of an answer that finished (for the next deadlines)."""
        if tokens < 8 or seconds <= 0:
            return
        rate = tokens / seconds
        with self._rate_lock:
            self.rate = rate if self.rate <= 0 else 0.5 * self.rate + 0.5 * rate

    # -- requests -----------------------------------------------------------------------------

    def get_json(self, path: str, model: str = "", cancel: Optional[threading.Event] = None) -> Any:
        return self._json_call("GET", path, None, model, cancel)

    def post_json(self, path: str, body: Dict[str, Any], model: str = "",
                  cancel: Optional[threading.Event] = None) -> Any:
        return self._json_call("POST", path, body, model, cancel)

    def post_stream(self, path: str, body: Dict[str, Any], model: str = "",
                    cancel: Optional[threading.Event] = None,
                    seconds: Optional[float] = None) -> "Exchange":
        """POST and return the open streaming response (status already checked). ``seconds``:
        the overall deadline (None: none, e.g. a pull the user watches and can cancel)."""
        return self._send("POST", path, body, model, cancel, seconds)

    def _json_call(self, method: str, path: str, body: Optional[Dict[str, Any]], model: str,
                   cancel: Optional[threading.Event]) -> Any:
        seconds = min(self.limits.deadline, sum(self.timeout))
        with self._send(method, path, body, model, cancel, seconds) as exchange:
            data = exchange.body(self.limits.json_bytes)
        try:
            return safejson.loads(data.decode("utf-8", errors="replace"))
        except ValueError:
            raise not_a_server(self.base_url, path) from None

    def _send(self, method: str, path: str, body: Optional[Dict[str, Any]], model: str,
              cancel: Optional[threading.Event], seconds: Optional[float]) -> "Exchange":
        """One request: retried with backoff while the server says it is busy (429/503),
        same-host redirects followed for a GET (a few), none for a POST. The deadline covers
        all of it."""
        ends = time.monotonic() + seconds if seconds is not None else None
        url = self.base_url + path
        attempt = hops = 0
        while True:
            exchange = self._request_once(method, url, body, cancel, seconds, ends)
            try:
                target = exchange.redirect_target()
                if target is None:
                    exchange.check_status(model)
                    return exchange
            except BaseException as e:
                exchange.close()
                if not isinstance(e, ServerBusy) or attempt >= self.retries:
                    raise
                attempt += 1
                delay = self.backoff * (2 ** (attempt - 1))
                if cancel is not None and cancel.wait(delay):
                    raise Cancelled() from None
                if cancel is None:
                    time.sleep(delay)
                continue
            exchange.close()
            if method != "GET" or not same_origin(url, target) or hops >= self.limits.redirects:
                raise redirect_error(self.base_url, path, target, method, hops)
            hops += 1
            url = target

    def _request_once(self, method: str, url: str, body: Optional[Dict[str, Any]],
                      cancel: Optional[threading.Event], seconds: Optional[float],
                      ends: Optional[float]) -> "Exchange":
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        guard = Guard(self, seconds, cancel, ends)
        WATCHDOG.watch(guard)
        try:
            with sending(guard):
                resp = self.session.request(method, url, json=body, stream=True,
                                            timeout=self.timeout, allow_redirects=False)
        except Exception as e:
            WATCHDOG.release(guard)
            raise self.request_failure(e, guard) from None
        except BaseException:
            WATCHDOG.release(guard)
            raise
        if guard.conn is None:
            guard.conn = getattr(resp.raw, "_connection", None)
        return Exchange(self, resp, guard, url)

    def request_failure(self, e: Exception, guard: Guard) -> FlashcardError:
        """The typed error for an exception raised while sending a request."""
        import requests
        from urllib3.exceptions import ProtocolError

        stopped = stop_error(guard)
        if stopped is not None:
            return stopped
        if isinstance(e, FlashcardError):
            return e
        exc = requests.exceptions
        if isinstance(e, exc.ConnectTimeout):
            return ServerUnreachable(
                f"The model server at {self.base_url} did not accept a connection within "
                f"{self.timeout[0]:g} s.",
                "Check that the server is running and that the URL and port are right; a firewall "
                "may be blocking it.",
            )
        if isinstance(e, exc.ReadTimeout):
            return read_timeout_error(self.timeout[1])
        if isinstance(e, (exc.InvalidURL, exc.MissingSchema, exc.InvalidSchema, exc.URLRequired)):
            return ServerUnreachable(
                f"'{shown(self.base_url, 120)}' is not a valid server URL.",
                "Use a URL like http://127.0.0.1:11434 in the add-on's settings.",
            )
        if isinstance(e, exc.SSLError):
            return ServerUnreachable(
                f"A secure (https) connection to {self.base_url} failed: {shown(e, 200)}",
                "Check the URL (http or https?) and the server's certificate.",
            )
        if isinstance(e, exc.ConnectionError):
            inner = e.args[0] if e.args else None
            if isinstance(inner, ProtocolError):
                cause = inner.args[1] if len(inner.args) > 1 else None
                if isinstance(cause, (http.client.RemoteDisconnected, ConnectionResetError)):
                    return ServerFailed(
                        f"The model server at {self.base_url} closed the connection without "
                        "answering.",
                        "The server may have crashed or been restarted; try again.",
                    )
                return NotAModelServer(
                    f"{self.base_url} answered, but not in HTTP that the add-on can read "
                    f"({shown(cause or inner, 120)}).",
                    "Check the server URL and port in the settings; Ollama's default is "
                    "http://127.0.0.1:11434.",
                )
            return ServerUnreachable(f"Cannot connect to the model server at {self.base_url}.",
                                     self.start_hint)
        if isinstance(e, (exc.RequestException, OSError, ValueError, http.client.HTTPException)):
            return BackendError(
                f"The request to the model server at {self.base_url} failed "
                f"({type(e).__name__}: {shown(e, 200)}).",
                "Check the server URL in the settings and that the server is healthy; try again.",
            )
        raise e


class Exchange:
    """One request's open response and its guard. Reading it maps every failure (deadline,
    cancel, caps, a broken or malformed stream) to a typed error; ``close`` releases both."""

    def __init__(self, owner: Http, resp: Any, guard: Guard, url: str) -> None:
        self.http = owner
        self.resp = resp
        self.guard = guard
        self.url = url
        self.status: int = resp.status_code
        self.chars = 0

    def __enter__(self) -> "Exchange":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        WATCHDOG.release(self.guard)
        try:
            self.resp.close()
        except Exception:
            pass

    # -- status -------------------------------------------------------------------------------

    def redirect_target(self) -> Optional[str]:
        if self.status not in (301, 302, 303, 307, 308):
            return None
        location = self.resp.headers.get("location") or ""
        return urljoin(self.url, location.strip())

    def check_status(self, model: str) -> None:
        """Raise the typed error an HTTP status means; return quietly on 2xx."""
        base_url = self.http.base_url
        if 200 <= self.status < 300:
            ctype = self.resp.headers.get("content-type", "")
            if "html" in ctype.lower():
                raise not_a_server(base_url)
            return
        text = self.error_text()
        raise error_for_status(self.status, text, base_url, model)

    def error_text(self) -> str:
        """The server's own error message (either protocol's shape), from the first few
        kilobytes of the body; neutralised and shortened."""
        try:
            data = self.body(self.http.limits.error_bytes, truncate=True)
        except BackendError:
            return ""
        text = data.decode("utf-8", errors="replace")
        try:
            body = safejson.loads(text)
        except ValueError:
            ctype = self.resp.headers.get("content-type", "").lower()
            return "" if "html" in ctype else shown(text.strip(), 200)
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            err = err.get("message") or err
        if not err and isinstance(body, dict):
            err = body.get("message") or body.get("detail")
        return shown(err) if isinstance(err, (str, int, float)) and str(err) else ""

    # -- body -----------------------------------------------------------------------------------

    def body(self, cap: int, truncate: bool = False) -> bytes:
        """The whole body (decompressed), at most ``cap`` bytes: past it, the first ``cap``
        bytes if ``truncate``, else ``AnswerTooLarge``."""
        parts = []
        size = 0
        try:
            for data in self._chunks(cap):
                size += len(data)
                parts.append(data)
                if size > cap:
                    raise TooLarge("body", cap)
                self._check_stop()
        except TooLarge:
            if not truncate:
                raise self.failure(TooLarge("body", cap)) from None
        except Exception as e:
            raise self.failure(e) from None
        self._check_stop()
        return b"".join(parts)[:cap]

    def lines(self, cap: Optional[int] = -1, max_line: Optional[int] = None,
              max_lines: Optional[int] = None,
              on_overflow: Optional[Callable[[memoryview], None]] = None) -> Iterator[str]:
        """The body's non-blank lines, decoded and stripped. In all at most ``cap`` bytes (-1:
        the answer cap; None: no total cap) and ``max_lines`` lines, blank ones included (None:
        no limit); no line longer than ``max_line`` bytes (default: the answer cap).

        The lines before a cap is passed are all given. When a byte cap stops the body in the
        middle of a line, ``on_overflow`` sees that line's start (at most ``max_line`` bytes, a
        view valid during the call) before the error is raised: a reader can take from it what
        closed before the cap."""
        limits = self.http.limits
        if cap is not None and cap < 0:
            cap = limits.answer_bytes
        splitter = LineSplitter(max_line or limits.answer_bytes)
        size = count = 0
        cancel = self.guard.cancel
        deadline = self.guard.deadline
        try:
            for data in self._chunks(cap or limits.answer_bytes):
                size += len(data)
                if cap is not None and size > cap:
                    # Only the part within the cap is split: its whole lines are still given.
                    data = data[:max(0, len(data) - (size - cap))]
                if (cancel is not None and cancel.is_set()) or (
                        deadline is not None and time.monotonic() >= deadline):
                    break  # _check_stop says why
                lines = splitter.feed(data)
                count += len(lines)
                if max_lines is not None and count > max_lines:
                    raise TooLarge("lines", max_lines)
                for raw in lines:
                    raw = raw.strip()
                    if raw:
                        yield raw.decode("utf-8", errors="replace")
                if cap is not None and size > cap:
                    raise self._overflow(TooLarge("answer", cap), splitter, on_overflow)
                if splitter.overlong:
                    raise self._overflow(TooLarge("line", splitter.max_line), splitter, on_overflow)
            rest = splitter.rest().strip()
        except TooLarge as e:
            if e.what == "decompressed":
                raise self._overflow(e, splitter, on_overflow) from None
            raise self.failure(e) from None
        except Exception as e:
            raise self.failure(e) from None
        self._check_stop()
        if rest:
            yield rest.decode("utf-8", errors="replace")

    def content_overflow(self, on_text: Optional[Callable[[str], None]]) -> Callable[[memoryview], None]:
        """The ``on_overflow`` of ``lines`` for a streamed chat answer: a line too long to read
        whole (an answer sent as one line or event) has the text of its "content" before the cap
        passed to ``on_text``, so the cards that closed in it are still made."""

        def overflow(begun: memoryview) -> None:
            text = self.within_chars(begun_string(begun, "content", self.chars_left()))
            if on_text is not None and text:
                on_text(text)

        return overflow

    def _overflow(self, e: TooLarge, splitter: LineSplitter,
                  on_overflow: Optional[Callable[[memoryview], None]]) -> FlashcardError:
        """The error for a byte cap passed in the middle of a line, after ``on_overflow`` had
        the line's start (a reader's trouble with it does not hide the cap)."""
        if on_overflow is not None:
            begun = splitter.begun()
            try:
                if len(begun):
                    on_overflow(begun)
            except FlashcardError as inner:
                if not isinstance(inner, AnswerTooLarge):
                    return inner
            except Exception:
                pass
            finally:
                begun.release()
        return self.failure(e)

    def add_chars(self, n: int) -> None:
        """Count ``n`` characters of answer text; past the cap the answer ends with an error."""
        self.chars += n
        if self.chars > self.http.limits.answer_chars:
            raise self.too_many_chars()

    def within_chars(self, text: str) -> str:
        """Count ``text`` as answer text and give the part of it within the character cap (all
        of it while there is room): what a reader may still use before it raises
        ``too_many_chars``."""
        room = self.chars_left()
        self.chars += len(text)
        return text if len(text) <= room else text[:room]

    def chars_left(self) -> int:
        return max(0, self.http.limits.answer_chars - self.chars)

    def too_many_chars(self) -> AnswerTooLarge:
        return answer_too_large(f"{self.http.limits.answer_chars:,} characters")

    def _chunks(self, cap: int) -> Iterator[bytes]:
        """The body's bytes as they arrive, decompressed (at most ``cap`` bytes of output)."""
        header = self.resp.headers.get("content-encoding")
        if not Decoder.needed(header):
            return raw_chunks(self.resp)
        return self._decoded(Decoder(header, cap))

    def _decoded(self, decoder: Decoder) -> Iterator[bytes]:
        for data in raw_chunks(self.resp):
            yield from decoder.feed(data)
        decoder.finish()

    def _check_stop(self) -> None:
        error = stop_error(self.guard)
        if error is not None:
            raise error

    def failure(self, e: BaseException) -> FlashcardError:
        """The typed error for an exception raised while reading the body."""
        from urllib3.exceptions import HTTPError as Urllib3Error
        from urllib3.exceptions import ReadTimeoutError

        stopped = stop_error(self.guard)
        if stopped is not None:
            return stopped
        if isinstance(e, FlashcardError):
            return e
        if isinstance(e, TooLarge):
            if e.what == "body":
                return AnswerTooLarge(
                    f"The model server's reply is larger than {e.limit / MB:.3g} MB, more than "
                    "a model server sends here.",
                    "Check the server URL in the settings; if it is right, the server misbehaves.",
                )
            if e.what == "lines":
                return answer_too_large(f"{e.limit:,} lines")
            return answer_too_large(f"{e.limit / MB:.3g} MB")
        if isinstance(e, BadEncoding):
            if e.damaged:
                return StreamBroken(
                    f"The model server sent a damaged compressed answer ({shown(e.encoding, 40)}).",
                    "Try again; if it repeats, check the server (or a proxy in front of it).",
                )
            return NotAModelServer(
                f"The model server compressed its answer as '{shown(e.encoding, 40)}', which the "
                "add-on does not read (it asks for no compression).",
                "Turn off compression on the server or on a proxy in front of it.",
            )
        if isinstance(e, (socket.timeout, ReadTimeoutError)):
            return read_timeout_error(self.http.timeout[1])
        if isinstance(e, (CutShort, http.client.HTTPException, Urllib3Error)):
            return StreamBroken(
                "The connection to the model server broke in the middle of the answer (the "
                "stream ended early or was malformed).",
                "The server may have crashed or been restarted; try again.",
            )
        if isinstance(e, (OSError, ValueError)):
            return StreamBroken(
                f"The connection to the model server broke during the answer ({shown(e, 120)}).",
                "The server may have crashed or been restarted; try again.",
            )
        return BackendError(
            f"Reading the model server's answer failed ({type(e).__name__}: {shown(e, 200)}).",
            "Try again; if this persists, report it with the add-on's log.",
        )


def stop_error(guard: Guard) -> Optional[FlashcardError]:
    """The error for a request the watchdog stopped, or None."""
    guard.check(time.monotonic())
    if guard.stopped is Stop.CANCELLED:
        return Cancelled()
    if guard.stopped is Stop.DEADLINE:
        return DeadlinePassed(
            f"The model server's answer took longer than {guard.seconds or 0:g} s, the limit for "
            "one request.",
            "The server may be stuck or very slow; try again. If real answers take this long, "
            "raise 'request_deadline' in the settings, or lower 'num_predict'.",
        )
    return None


def answer_too_large(limit: str) -> AnswerTooLarge:
    return AnswerTooLarge(
        f"The model server's answer grew past {limit}, the limit for one answer.",
        "The server may be repeating itself; try again. If real answers are this long, raise "
        "'max_answer_mb' / 'max_answer_chars' in the settings, or lower 'num_predict'.",
    )


def same_origin(a: str, b: str) -> bool:
    """Same scheme, host and port (default ports filled in)."""
    def origin(url: str) -> Tuple[str, str, int]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            port = -1
        return scheme, (parts.hostname or "").lower(), port

    return origin(a) == origin(b)


def redirect_error(base_url: str, path: str, target: str, method: str, hops: int) -> Redirected:
    where = shown(target, 100)
    if method == "GET" and hops >= 1 and same_origin(base_url, target):
        return Redirected(
            f"The model server at {base_url} redirected {path} more than {hops} times "
            f"(a redirect loop?), last to {where}.",
            "Check the server URL in the settings, or the proxy in front of the server.",
        )
    what = "model request" if method == "POST" else "request"
    return Redirected(
        f"The model server at {base_url} redirects the {what} to {where}; the add-on does not "
        "follow it, so your text is not sent anywhere else.",
        "If the server really is at that address, put it in the settings as the server URL.",
    )


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


def error_for_status(status: int, text: str, base_url: str, model: str) -> BackendError:
    """The typed error for an HTTP status; ``text`` is the server's message, already shown()."""
    text = shown(text)
    low = text.lower()
    said = f"{status}{': ' + text if text else ''}"
    if is_context_error(low):
        return context_error(text)
    if status == 404:
        if model and names_a_missing_model(low, model):
            return ModelNotFound(model)
        return not_a_server(base_url)
    if status in (401, 403):
        return AuthFailed(f"The server refused the request ({said}).",
                          "Check the API key in the add-on's settings.")
    if status in (429, 503):
        return ServerBusy(
            f"The model server is busy ({said}).",
            "Too many requests are queued. Wait a moment and try again, or lower "
            "'parallel_requests' in the settings.",
        )
    if status >= 500:
        return ServerFailed(
            f"The model server failed ({said}).",
            "Look at the server's log; if it ran out of memory, choose a smaller model or a "
            "smaller context size.",
        )
    return BackendError(
        f"The model server rejected the request ({said}).",
        "Check the model name and settings; if this persists, report it with the server's log.",
    )


def names_a_missing_model(low_text: str, model: str) -> bool:
    """A 404's text says that a model is missing: it names ``model`` (Ollama: "model 'x' not
    found"; vLLM, OpenAI: "The model `x` does not exist"), or says "model ... not found". A
    bare "404 page not found" is a path the server does not have, not a missing model."""
    name = model.strip().lower()
    base = name[:-len(":latest")] if name.endswith(":latest") else name
    # The name as a whole word ("llama3.2" is not named by "llama3.2-vision").
    if base and re.search(r"(?<![\w.:/-])%s(?::latest)?(?![\w.:/-])" % re.escape(base), low_text):
        return True
    return "model" in low_text and ("not found" in low_text or "does not exist" in low_text)


def is_context_error(low_text: str) -> bool:
    return "context length" in low_text or "context window" in low_text or (
        "exceed" in low_text and "context" in low_text
    )


def context_error(text: str) -> ContextExceeded:
    return ContextExceeded(
        f"The text is too long for the model's context window ({shown(text)}).",
        "Lower 'num_ctx' in the settings to match the model, or raise the server's context size.",
    )


def loads_line(line: str) -> Optional[Dict[str, Any]]:
    """Parse one NDJSON/SSE payload; None when it is not a JSON object (or nests too deep)."""
    try:
        obj = safejson.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


_KEY_VALUE = r'"%s"\s*:\s*"'
KEY_WITHIN = 64 * 1024  # where in a cut line its text's key is looked for (it comes early)
_ODD_BACKSLASHES_AT_END = re.compile(r'(?<!\\)(\\\\)*\\(u[0-9a-fA-F]{0,3})?$')


def begun_string(data: Union[bytes, memoryview], key: str, max_chars: int) -> str:
    """The first ``max_chars`` characters of the string value of the first ``"key"`` (within
    the first ``KEY_WITHIN`` bytes) in JSON that was cut off in the middle (a line over a cap):
    the text of an answer that came as one huge line, up to where it was cut. An escape or a
    character cut in two is dropped. It reads at most the bytes ``max_chars`` characters take."""
    m = re.search((_KEY_VALUE % re.escape(key)).encode(), data[:KEY_WITHIN])
    if m is None or max_chars <= 0:
        return ""
    # A character takes at most 6 bytes of JSON (\uXXXX; a pair of them for 2 characters).
    # A character cut in two at the end is left out (final=False), not replaced.
    raw = codecs.getincrementaldecoder("utf-8")("replace").decode(
        data[m.end():m.end() + 6 * max_chars + 6], final=False)
    raw = _ODD_BACKSLASHES_AT_END.sub(lambda t: t.group(0)[:len(t.group(0)) - len(t.group(2) or "") - 1],
                                      raw)
    try:
        text, _ = json.decoder.scanstring(raw + '"', 0, False)  # type: ignore[attr-defined]
    except ValueError:
        return ""
    text = text[:max_chars]
    return text[:-1] if text and "\ud800" <= text[-1] <= "\udbff" else text  # half a pair


# -- shapes of server JSON: a field of the wrong type counts as absent -------------------------

def as_dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_int(value: Any) -> int:
    """A non-negative int, or 0 (bools, floats, strings, huge or negative numbers)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2 ** 53:
        return value
    return 0
