"""A real HTTP server on 127.0.0.1 that speaks Ollama's API (and the OpenAI-compatible one)
with scripted answers, latency, a parallel-slot limit and every failure the add-on must handle.
It records what it was sent, so tests can check both sides of the wire.

    with FakeOllama() as server:          # server.url, server.requests
        server.script(Reply.error(503))  # next chat answer; afterwards the default answerer
"""
import hashlib
import json
import math
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Sequence

WORD = re.compile(r"[A-Za-zÀ-ÿ][\w'-]{4,}")


@dataclass
class Reply:
    """One scripted answer to a chat request."""

    mode: str = "ok"  # ok | status | html | stream_error | cut | garbage | hang
    content: Optional[str] = None  # the answer text; None = made by the default answerer
    thinking: str = ""
    done_reason: str = "stop"
    status: int = 200
    body: Any = None
    delay: float = 0.0  # seconds before the first byte
    pieces: int = 4  # how many streamed lines the content is split into
    rate: float = 0.0  # tokens per second (a line per token); 0 = the server's rate, if any

    @staticmethod
    def error(code: int, error: str = "") -> "Reply":
        """An HTTP error status with Ollama's {"error": ...} body."""
        return Reply("status", status=code, body={"error": error or f"status {code}"})

    @staticmethod
    def cards(cards: Sequence[Dict[str, str]], **kw: Any) -> "Reply":
        return Reply(content=json.dumps({"cards": list(cards)}), **kw)

    @staticmethod
    def review(decisions: Dict[str, Any], **kw: Any) -> "Reply":
        """An answer to the rewrite pass: card id -> "drop", "keep" or the changed fields."""
        items = []
        for cid, what in decisions.items():
            if isinstance(what, str):
                items.append({"id": cid, "action": what})
            else:
                items.append(dict({"id": cid, "action": "rewrite"}, **what))
        return Reply(content=json.dumps({"cards": items}), **kw)


def marked_text(user_message: str) -> str:
    """The text of a request as sent: each sentence after its marker "[n] "."""
    m = re.search(r"<<<\n(.*)\n>>>", user_message, re.DOTALL)
    return m.group(1) if m else user_message


def source_text(user_message: str) -> str:
    """The text of a request without its sentence markers (the chunk's own text)."""
    return re.sub(r"\[\d{1,6}\] ", "", marked_text(user_message))


def numbered_sentences(user_message: str) -> List[tuple]:
    """(number, sentence) for every marked sentence of a request's text."""
    text = marked_text(user_message)
    out = []
    for m in re.finditer(r"\[(\d{1,6})\] (.*?)(?=\s*\[\d{1,6}\] |\n|$)", text):
        out.append((int(m.group(1)), m.group(2).strip()))
    return out


def image_markers(user_message: str) -> List[int]:
    """The markers of the images a request lists ("Images attached, in order: [7] page 1; ...")."""
    m = re.search(r"Images attached, in order: (.*)", user_message)
    return [int(x) for x in re.findall(r"\[(\d{1,6})\]", m.group(1))] if m else []


def schema_of(body: Dict[str, Any]) -> Dict[str, Any]:
    """The JSON Schema a chat request asks for, in either protocol's form."""
    fmt = body.get("format")
    if isinstance(fmt, dict):
        return fmt
    rf = body.get("response_format") or {}
    if isinstance(rf, dict):
        schema = rf.get("schema") or (rf.get("json_schema") or {}).get("schema")
        if isinstance(schema, dict):
            return schema
    return {}


def topic_titles(body: Dict[str, Any]) -> Optional[List[str]]:
    """The titles a card request lets the "topic" field take (None: not a request by topic)."""
    props = ((schema_of(body).get("properties") or {}).get("cards") or {}).get("items", {})
    topic = (props.get("properties") or {}).get("topic")
    return list(topic.get("enum") or []) if isinstance(topic, dict) else None


def is_topic_request(body: Dict[str, Any]) -> bool:
    return "topics" in (schema_of(body).get("properties") or {})


def sentences_of(text: str) -> List[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s.split()) >= 4]


def cited_sentences(user: str) -> List[tuple]:
    """(number, sentence) of the request's sentences a default answer makes something of (four
    words or more, as a model would)."""
    return [(n, s) for n, s in numbered_sentences(user) if len(s.split()) >= 4]


def title_of(sentence: str) -> str:
    """The topic the default answerers give a sentence: its first three words."""
    return " ".join(sentence.split()[:3]).rstrip(",:;.")


def default_topics(user: str, fields: Optional[List[str]] = None) -> Dict[str, Any]:
    """A topic per sentence of the chunk (at most 8), citing the sentence by its number, with
    the fields the schema asks (``fields``; all when None): as a model held to the schema
    writes, its summary the sentence's first words (a prompt that asks for one wants at most 12)."""
    topics = []
    for number, sentence in cited_sentences(user)[:8]:
        topic = {"n": number, "title": title_of(sentence), "summary": " ".join(sentence.split()[:12]), "cards": 1}
        topics.append({k: v for k, v in topic.items() if fields is None or k in fields})
    return {"topics": topics}


def topic_fields(body: Dict[str, Any]) -> Optional[List[str]]:
    """The fields a topic request's schema asks of each topic (None: not said)."""
    items = ((schema_of(body).get("properties") or {}).get("topics") or {}).get("items") or {}
    props = items.get("properties") if isinstance(items, dict) else None
    return list(props) if isinstance(props, dict) else None


def highlighted_numbers(user_message: str) -> List[int]:
    """The sentences a request says the reader highlighted ("The reader highlighted: [3]; [5]
    (the words ...)", generator/highlights/focus.py), in order; [] for other requests."""
    m = re.search(r"^The reader highlighted: (.*)$", user_message, re.M)
    if not m:
        return []
    line = re.sub(r"\(the words “.*?”\)", "", m.group(1))
    return [int(x) for x in re.findall(r"\[(\d{1,6})\]", line)]


def is_occlusion_request(body: Dict[str, Any]) -> bool:
    """A request to choose a labelled figure's labels (generator/occlusion/choose.py)."""
    props = schema_of(body).get("properties") or {}
    return "groups" in props and "figure" in props


def default_occlusion(user: str) -> Dict[str, Any]:
    """Unscripted, every label listed is hidden on a card of its own, under the caption (or the
    page's title) without its figure number."""
    labels = re.findall(r"^\[(\d{1,4})\] ", marked_text(user), re.M)
    about = re.search(r"^(?:Caption|Title of the page): (.*)$", user, re.M)
    header = re.sub(r"^\s*fig(?:ure)?\.?\s*\d+[.:]?\s*", "", about.group(1), flags=re.I) if about else ""
    return {"figure": True, "header": header, "groups": [[int(n)] for n in labels]}


def wanted_count(user_message: str) -> int:
    m = re.search(r"up to (\d+) card", user_message)
    return int(m.group(1)) if m else 3


def is_review_request(message: str) -> bool:
    """A rewrite pass's request (generator/job/rewrite.REVIEW_MARK, in its user message after the
    text)."""
    return "\nYou review flashcards" in message or message.startswith("You review flashcards")


def review_cards(user: str) -> List[Dict[str, Any]]:
    """The cards a rewrite request sent (one JSON object a line after "Cards:")."""
    tail = user.rsplit("\nCards:\n", 1)[-1]
    return [json.loads(line) for line in tail.splitlines() if line.startswith("{")]


def default_review(user: str) -> Dict[str, Any]:
    """Unscripted, the rewrite pass's answer keeps every card as it is."""
    return {"cards": [{"id": c["id"], "action": "keep"} for c in review_cards(user)]}


def is_improve_request(system: str) -> bool:
    return system.startswith("You improve flashcards")  # generator/improve/request.IMPROVE_MARK


def improve_notes(user: str) -> List[Dict[str, Any]]:
    """The notes an improve request sent (a JSON object on the line after "Note N:")."""
    lines = user.splitlines()
    return [json.loads(lines[i + 1]) for i, line in enumerate(lines[:-1])
            if re.match(r"Note \S+:$", line) and lines[i + 1].startswith("{")]


def default_improve(user: str) -> Dict[str, Any]:
    """Unscripted, the improve step's answer keeps every note as it is."""
    return {"notes": [{"id": n["id"], "action": "keep", "reason": "The wording is clear.", "split": []}
                      for n in improve_notes(user)]}


def default_cards(system: str, user: str, topics: Optional[List[str]] = None, images: int = 0,
                  figure: bool = False) -> Dict[str, Any]:
    """Cards made from the chunk's own sentences, each citing its sentence's number, so tests can
    check grounding and fields. With ``topics`` (a request by topic), only sentences on one of
    them, each card naming it: a sentence is on a topic when the topic is its title_of, or holds
    one of the topic's words. With images (and a schema with "figure"), first one card per
    image that cites its marker and asks to show it."""
    sentences = cited_sentences(user)
    marked = highlighted_numbers(user)
    if marked:  # a request about what the reader highlighted: cards on those sentences, as asked
        sentences = [(n, s) for n, s in numbered_sentences(user) if n in marked]
    cloze = "{{c1::" in system
    cards = []
    on_topic: Dict[str, str] = {}
    if topics is not None:
        own = {title_of(s) for _, s in sentences}
        for _, sentence in sentences:
            words = {w.lower().strip(".,;:") for w in sentence.split()}
            if title_of(sentence) in topics:
                on_topic[sentence] = title_of(sentence)
                continue
            for title in topics:  # a title of the user's own: the sentences with its words
                if title not in own and any(len(w) > 4 and w.lower() in words for w in title.split()):
                    on_topic[sentence] = title
                    break
        sentences = [(n, s) for n, s in sentences if s in on_topic]
    for number, sentence in sentences[: wanted_count(user)]:
        words = sentence.split()
        if cloze:
            term = max(WORD.findall(sentence) or [words[-1]], key=len)
            cards.append({"n": number, "text": sentence.replace(term, "{{c1::" + term + "}}", 1)})
        else:
            topic = " ".join(words[:4 if len(words) >= 8 else 3]).rstrip(",:;")
            front = f"Complete the statement: “{topic} …”"
            if any(c["front"] == front for c in cards):
                continue  # a model does not write the same question twice
            cards.append({"n": number, "front": front, "back": sentence})
        if sentence in on_topic:
            cards[-1]["topic"] = on_topic[sentence]
    if figure:
        for card in cards:
            card["figure"] = ""
        markers = image_markers(user) or list(range(1, images + 1))
        for i in range(min(images, len(markers)), 0, -1):  # cards about the images first
            marker = markers[i - 1]
            cards.insert(0, {"n": marker, "front": f"What does image {i} of “{source_name(user)}” show?",
                             "back": f"The figure numbered {i}.", "figure": str(marker)}
                         if not cloze else
                         {"n": marker, "text": f"Image {i} of “{source_name(user)}” shows {{{{c1::figure {i}}}}}.",
                          "figure": str(marker)})
    return {"cards": cards}


def source_name(user_message: str) -> str:
    m = re.search(r"^Source: (.*)$", user_message, re.M)
    return m.group(1).strip() if m else "the source"


def image_problem(body: Dict[str, Any], openai: bool) -> str:
    """What is wrong with the images of a chat request, by each protocol's documented form
    ("" if nothing): Ollama wants raw base64 strings in the user message's "images"; the OpenAI
    path wants "image_url" content parts with data: URLs."""
    for message in body.get("messages") or []:
        images = message_images(message, openai)
        if images is None:
            return "malformed image input"
        for data in images:
            if data is None:
                return "illegal base64 data in image input"
            if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
                return "unsupported image format"
        if images and message.get("role") != "user":
            return "images are only accepted on user messages"
    return ""


def message_images(message: Dict[str, Any], openai: bool) -> Optional[List[Optional[bytes]]]:
    """The decoded images of one message (None for an undecodable one); None if the message
    carries images in a form the protocol does not know."""
    import base64

    def decode(text: Any) -> Optional[bytes]:
        try:
            return base64.b64decode(text, validate=True) if isinstance(text, str) else None
        except ValueError:
            return None

    if not openai:
        images = message.get("images")
        if images is None:
            return [] if isinstance(message.get("content"), str) else None
        if not isinstance(images, list):
            return None
        return [None if str(x).startswith("data:") else decode(x) for x in images]
    content = message.get("content")
    if isinstance(content, str) or content is None:
        return [] if "images" not in message else None
    out: List[Optional[bytes]] = []
    for part in content:
        if part.get("type") == "text":
            continue
        if part.get("type") != "image_url":
            return None
        url = str((part.get("image_url") or {}).get("url") or "")
        m = re.match(r"^data:image/(png|jpeg|webp|gif);base64,(.*)$", url, re.S)
        out.append(decode(m.group(2)) if m else None)
    return out


def text_of(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
    return str(content or "")


EMBED_DIMS = 256
EMBED_DIMS = 384  # as all-minilm
TOKEN = re.compile(r"\w+", re.UNICODE)
# Words that say little about what a card asks: left out of the fake embedding.
STOPWORDS = frozenset("""
a an the of in on at to for by with from and or is are was were be been does do did what which who whom
whose where when why how that this these those it its as into than then there their them they
der die das des dem den ein eine einer eines einem einen und oder ist sind war wird werden was welche
welcher welches wer wie wo wann warum im in am an auf aus bei mit von zu zur zum für durch
le la les un une des du de et ou est sont était qui que quoi quel quelle quels quelles où quand
comment pourquoi dans sur par pour avec en au aux ce cette ces se
el la los las un una unos unas del de y o es son era qué que cuál cuáles quién dónde cuándo cómo
por para con en al se su sus lo
""".split())


SPREAD = 16  # buckets each feature is hashed into: dense vectors, like a real model's


def fake_embedding(text: str, dims: int = EMBED_DIMS) -> List[float]:
    """A deterministic stand-in for an embedding model: words (accents folded, stop words
    dropped, crude stems) and their character trigrams, each hashed with signs into SPREAD of
    ``dims`` buckets, as a unit vector. Texts sharing words and word parts come out close."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    vec = [0.0] * dims
    for word in TOKEN.findall(folded):
        if word in STOPWORDS:
            continue
        stem = word[:6]
        features = [("w", stem, 2.0)] + [("g", stem[i:i + 3], 1.0) for i in range(max(1, len(stem) - 2))]
        for kind, feature, weight in features:
            h = hashlib.blake2b(f"{kind}:{feature}".encode(), digest_size=2 * SPREAD).digest()
            for k in range(0, 2 * SPREAD, 2):
                v = h[k] | h[k + 1] << 8
                vec[v % dims] += weight if (v // dims) & 1 else -weight
    norm = math.sqrt(sum(x * x for x in vec))
    if not norm:
        vec[0], norm = 1.0, 1.0
    return [x / norm for x in vec]


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-answer (cancel, timeout tests) is expected here


class FakeOllama:
    def __init__(
        self,
        models: Sequence[str] = ("llama3.2:latest", "llama3.2", "qwen3:4b"),
        version: str = "0.33.1",
        context_length: int = 8192,
        thinking_models: Sequence[str] = ("qwen3:4b",),
        vision_models: Sequence[str] = ("llava:7b", "gemma3:4b"),
        latency: float = 0.0,
        slots: int = 0,  # parallel requests served at once; 0 = unlimited
        answerer: Optional[Callable[[Dict[str, Any]], Reply]] = None,
        rate: float = 0.0,  # stream answers at this many tokens per second (0 = all at once)
        token_chars: int = 4,  # characters per streamed token when a rate is set
        families: Optional[Dict[str, str]] = None,  # model -> details.family (default "llama")
        parsers: Optional[Dict[str, str]] = None,  # model -> /api/show "parser" (e.g. "harmony")
        embedding_models: Sequence[str] = (),  # models that answer /api/embed (with fake_embedding)
        loaded_context: int = 4096,  # the context the server loads a model with when not told
        ps_context: bool = True,  # False: /api/ps without context_length (older servers)
        missing_paths: Sequence[str] = (),  # answered with Go's plain "404 page not found"
    ) -> None:
        self.models = list(models)
        self.version = version
        self.context_length = context_length
        self.thinking_models = set(thinking_models)
        self.vision_models = set(vision_models)
        self.images: List[bytes] = []  # every image received, decoded
        self.families = dict(families or {})
        self.parsers = dict(parsers or {})
        self.embedding_models = set(embedding_models)
        self.default_loaded_context = loaded_context
        self.ps_context = ps_context
        self.missing_paths = set(missing_paths)
        self.loaded: Dict[str, int] = {}  # model -> context it is loaded with (for /api/ps)
        self.loads: List[tuple] = []  # (model, context) of every (re)load
        self.embedded: List[str] = []  # every text /api/embed or /v1/embeddings was asked for
        self.latency = latency
        self.rate = rate
        self.token_chars = token_chars
        # (request number from 1, time sent, characters of content sent so far) for every content
        # line streamed at a rate; the whole content of that request is answers[number]
        self.sent: List[tuple] = []
        self.answers: Dict[int, str] = {}
        self._chat_count = 0
        self.slots = threading.Semaphore(slots) if slots else None
        self.answerer = answerer
        self.requests: List[Dict[str, Any]] = []  # {"path", "body", "time"}
        self.chat_times: List[tuple] = []  # (start, end) of each chat request, for parallelism
        self._script: List[Reply] = []
        self._lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.pulled: List[str] = []
        self._server = QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread: Optional[threading.Thread] = None

    # -- control ------------------------------------------------------------------------------

    def start(self) -> "FakeOllama":
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeOllama":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def has(self, model: Any) -> bool:
        """Whether Ollama would find ``model``: a missing tag means ":latest"."""
        name = str(model or "")
        return name in self.models or (":" not in name.rsplit("/", 1)[-1]
                                       and name + ":latest" in self.models)

    def load(self, model: str, num_ctx: Optional[int] = None) -> None:
        """Load a model as Ollama does: with the context asked for, else the server's default;
        another context than the loaded one is a reload."""
        if ":" not in model.rsplit("/", 1)[-1]:
            model += ":latest"  # as /api/ps names it
        ctx = int(num_ctx or self.loaded.get(model) or self.default_loaded_context)
        ctx = min(ctx, self.context_length)
        with self._lock:
            if self.loaded.get(model) != ctx:
                self.loaded[model] = ctx
                self.loads.append((model, ctx))

    def chat_bodies(self) -> List[Dict[str, Any]]:
        return [r["body"] for r in self.requests if r["path"] in ("/api/chat", "/v1/chat/completions")]

    def next_reply(self, body: Dict[str, Any]) -> Reply:
        with self._lock:
            if self._script:
                return self._script.pop(0)
        if self.answerer is not None:
            return self.answerer(body)
        return Reply()

    # -- protocol -----------------------------------------------------------------------------

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, obj: Any, status: int = 200) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Dict[str, Any]:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                with server._lock:
                    server.requests.append({"path": self.path, "body": body, "time": time.monotonic(),
                                            "headers": dict(self.headers)})
                return body

            def _plain_404(self) -> None:
                """What Go's HTTP mux answers for a path it does not route."""
                data = b"404 page not found\n"
                self.send_response(404)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._body()
                if self.path in server.missing_paths:
                    self._plain_404()
                elif self.path == "/api/version":
                    self._json({"version": server.version})
                elif self.path == "/api/tags":
                    self._json({"models": [{"name": m, "model": m, "size": 2_000_000_000,
                                            "details": {"family": "llama", "parameter_size": "3B"}}
                                           for m in server.models]})
                elif self.path == "/api/ps":
                    entries = []
                    for name, ctx in list(server.loaded.items()):
                        entry = {"name": name, "model": name, "size": 2_000_000_000,
                                 "size_vram": 0, "expires_at": "2026-11-24T00:10:00Z",
                                 "details": {"family": server.families.get(name, "llama")}}
                        if server.ps_context:
                            entry["context_length"] = ctx
                        entries.append(entry)
                    self._json({"models": entries})
                elif self.path == "/v1/models":
                    self._json({"object": "list", "data": [{"id": m, "object": "model",
                                                            "max_model_len": server.context_length}
                                                           for m in server.models]})
                else:
                    self._json({"error": "404 page not found"}, 404)

            def do_POST(self) -> None:
                body = self._body()
                if self.path in server.missing_paths:
                    return self._plain_404()
                if self.path == "/api/show":
                    name = body.get("model") or body.get("name")
                    if not server.has(name):
                        return self._json({"error": f"model '{name}' not found"}, 404)
                    if name not in server.models:
                        name = name + ":latest"
                    caps = ["completion"] + (["thinking"] if name in server.thinking_models else []) \
                        + (["vision"] if name in server.vision_models else [])
                    if name in server.embedding_models:
                        caps = ["embedding"]
                    family = server.families.get(name, "llama")
                    show = {"modelfile": "", "details": {"family": family, "families": [family]},
                            "model_info": {f"{family}.context_length": server.context_length},
                            "capabilities": caps}
                    if name in server.parsers:
                        show["parser"] = server.parsers[name]
                    return self._json(show)
                if self.path == "/api/pull":
                    return self._pull(body)
                if self.path == "/api/generate":
                    name = str(body.get("model") or "")
                    if not server.has(name):
                        return self._json({"error": f"model '{name}' not found"}, 404)
                    server.load(name, (body.get("options") or {}).get("num_ctx"))
                    return self._json({"model": name, "created_at": "2026-11-24T00:00:00Z",
                                       "response": "", "done": True, "done_reason": "load"})
                if self.path in ("/api/embed", "/v1/embeddings"):
                    return self._embed(body, openai=self.path.startswith("/v1"))
                if self.path in ("/api/chat", "/v1/chat/completions"):
                    return self._chat(body, openai=self.path.startswith("/v1"))
                self._json({"error": "404 page not found"}, 404)

            def _embed(self, body: Dict[str, Any], openai: bool) -> None:
                name = str(body.get("model") or "")
                if not (server.has(name) if not openai else name in server.models):
                    err = f"model '{name}' not found"
                    return self._json({"error": {"message": err}} if openai else {"error": err}, 404)
                if name not in server.embedding_models:
                    err = f'"{name}" does not support embeddings'
                    return self._json({"error": {"message": err}} if openai else {"error": err}, 400)
                texts = body.get("input")
                texts = [texts] if isinstance(texts, str) else list(texts or [])
                with server._lock:
                    server.embedded.extend(str(t) for t in texts)
                time.sleep(server.latency)
                vectors = [fake_embedding(str(t)) for t in texts]
                if openai:
                    return self._json({"object": "list", "model": name,
                                       "data": [{"object": "embedding", "index": i, "embedding": v}
                                                for i, v in enumerate(vectors)]})
                self._json({"model": name, "embeddings": vectors})

            def _pull(self, body: Dict[str, Any]) -> None:
                name = str(body.get("model") or body.get("name"))
                lines = [{"status": "pulling manifest"}]
                for done in (0, 50, 100):
                    lines.append({"status": "pulling abc123", "digest": "sha256:abc123",
                                  "total": 100, "completed": done})
                lines += [{"status": "verifying sha256 digest"}, {"status": "writing manifest"},
                          {"status": "success"}]
                server.pulled.append(name)  # before "success" reaches the client
                if name not in server.models:
                    server.models.append(name)
                self._stream([json.dumps(x) for x in lines])

            def _stream(self, lines: Sequence[str], close_early: bool = False, sse: bool = False,
                        interval: float = 0.0, texts: Optional[Sequence[str]] = None,
                        number: int = 0) -> None:
                """``interval``: seconds between lines, at a fixed rate from the first (the
                content pieces ``texts`` are recorded in ``server.sent`` as they go)."""
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream" if sse else "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                start = time.monotonic()
                so_far = 0
                for k, line in enumerate(lines):
                    if interval:
                        wait = start + k * interval - time.monotonic()
                        if wait > 0:
                            time.sleep(wait)
                    data = ((f"data: {line}\n\n") if sse else (line + "\n")).encode()
                    if texts is not None and k < len(texts):  # the time just before it leaves
                        so_far += len(texts[k])
                        with server._lock:
                            server.sent.append((number, time.monotonic(), so_far))
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                if close_early:
                    self.close_connection = True
                    return  # no terminating chunk: the stream is cut
                self.wfile.write(b"0\r\n\r\n")

            def _chat(self, body: Dict[str, Any], openai: bool) -> None:
                model = body.get("model")
                if not (server.has(model) if not openai else model in server.models):
                    err = f"model '{model}' not found"
                    return self._json({"error": {"message": err, "type": "not_found"}} if openai
                                      else {"error": err}, 404)
                if not openai:
                    server.load(str(model), (body.get("options") or {}).get("num_ctx"))
                problem = image_problem(body, openai)
                sent = [d for m in body.get("messages") or [] for d in message_images(m, openai) or []]
                if not problem and sent and model not in server.vision_models:
                    problem = f"model '{model}' does not support image input"
                if problem:
                    return self._json({"error": {"message": problem}} if openai else {"error": problem}, 400)
                with server._lock:
                    server.images.extend(d for d in sent if d)
                if server.slots is not None:
                    server.slots.acquire()
                start = time.monotonic()
                with server._lock:
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    self._answer(body, openai, server.next_reply(body))
                finally:
                    with server._lock:
                        server.active -= 1
                        server.chat_times.append((start, time.monotonic()))
                    if server.slots is not None:
                        server.slots.release()

            def _answer(self, body: Dict[str, Any], openai: bool, reply: Reply) -> None:
                time.sleep(server.latency + reply.delay)
                if reply.mode == "status":
                    err = (reply.body or {}).get("error", "")
                    return self._json({"error": {"message": err}} if openai else reply.body, reply.status)
                if reply.mode == "html":
                    data = b"<!doctype html><html><body>Welcome to nginx!</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                messages = body.get("messages") or [{}]
                system = next((text_of(m.get("content")) for m in messages if m.get("role") == "system"), "")
                first_user = next((m for m in messages if m.get("role") == "user"), {})
                user = text_of(first_user.get("content"))
                content = reply.content
                if content is None and (is_review_request(system) or is_review_request(user)):
                    content = json.dumps(default_review(user))
                if content is None and is_improve_request(system):
                    content = json.dumps(default_improve(user))
                if content is None and is_occlusion_request(body):
                    content = json.dumps(default_occlusion(user))
                if content is None:
                    fmt = body.get("format") or (body.get("response_format") or {}).get("schema") or \
                        ((body.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
                    count = len(message_images(first_user, openai) or [])
                    content = json.dumps(default_topics(user, topic_fields(body)) if is_topic_request(body)
                                         else default_cards(system, user, topic_titles(body), count,
                                                            "figure" in json.dumps(fmt)))
                rate = reply.rate or server.rate
                if rate and reply.mode == "ok":
                    size = max(1, server.token_chars)
                    pieces = [content[i:i + size] for i in range(0, len(content), size)] or [""]
                else:
                    pieces = split(content, reply.pieces) if reply.mode != "garbage" else ["{not json"]
                thinking = reply.thinking
                lines = [self._piece(model=body.get("model"), text=p, openai=openai) for p in pieces]
                if thinking and not openai:
                    lines.insert(0, json.dumps({"model": body.get("model"), "done": False,
                                                "message": {"role": "assistant", "content": "",
                                                            "thinking": thinking}}))
                if reply.mode == "stream_error":
                    lines = lines[:1] + [json.dumps({"error": reply.body or "an error was encountered while running the model"})]
                    return self._stream(lines, sse=openai)
                if reply.mode == "cut":
                    return self._stream(lines[:2], close_early=True, sse=openai)
                if reply.mode == "garbage":
                    return self._stream(["<html>oops</html>"] if not openai else ["{oops"], sse=openai)
                if reply.mode == "hang":
                    self._stream_open(lines[:1])
                    time.sleep(reply.delay or 30)
                    return
                lines.append(self._final(body, reply, openai))
                if openai:
                    lines.append("[DONE]")
                with server._lock:
                    server._chat_count += 1
                    number = server._chat_count
                    server.answers[number] = content
                texts = pieces if rate and reply.mode == "ok" else None
                self._stream(lines, sse=openai, interval=1.0 / rate if texts else 0.0, texts=texts,
                             number=number)

            def _stream_open(self, lines: Sequence[str]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for line in lines:
                    data = (line + "\n").encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()

            def _piece(self, model: Any, text: str, openai: bool) -> str:
                if openai:
                    return json.dumps({"object": "chat.completion.chunk", "model": model,
                                       "choices": [{"index": 0, "delta": {"content": text},
                                                    "finish_reason": None}]})
                return json.dumps({"model": model, "created_at": "2026-11-24T00:00:00Z",
                                   "message": {"role": "assistant", "content": text}, "done": False})

            def _final(self, body: Dict[str, Any], reply: Reply, openai: bool) -> str:
                if openai:
                    return json.dumps({"object": "chat.completion.chunk", "model": body.get("model"),
                                       "choices": [{"index": 0, "delta": {},
                                                    "finish_reason": reply.done_reason}],
                                       "usage": {"prompt_tokens": 100, "completion_tokens": 50}})
                return json.dumps({"model": body.get("model"), "done": True,
                                   "message": {"role": "assistant", "content": ""},
                                   "done_reason": reply.done_reason, "total_duration": 1000,
                                   "prompt_eval_count": 100, "eval_count": 50})

        return Handler


def split(text: str, n: int) -> List[str]:
    n = max(1, min(n, len(text) or 1))
    size = -(-len(text) // n) if text else 1
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]
