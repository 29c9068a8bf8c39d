"""Embedding vectors: Ollama's /api/embed and the OpenAI-compatible /v1/embeddings.

A server's answer is checked before it is used: one vector per text, all of one length, finite
numbers, bounded sizes."""
import math
from typing import Any, List, Sequence

from ..errors import BackendError
from .http import Http, not_a_server

MAX_DIMS = 8192  # the largest embedding models have 4096
MAX_BATCH = 256  # texts per request
MAX_TEXT_CHARS = 4000  # a note's question is short; the server truncates to its context anyway


def embed_ollama(http: Http, model: str, texts: Sequence[str]) -> List[List[float]]:
    vectors: List[List[float]] = []
    for part in batches(texts):
        body = http.post_json("/api/embed", {"model": model, "input": part, "truncate": True},
                              model=model)
        got = body.get("embeddings") if isinstance(body, dict) else None
        vectors.extend(checked(got, len(part), http, "/api/embed", model))
    return vectors


def embed_openai(http: Http, model: str, texts: Sequence[str]) -> List[List[float]]:
    vectors: List[List[float]] = []
    for part in batches(texts):
        body = http.post_json("/v1/embeddings", {"model": model, "input": part}, model=model)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise not_a_server(http.base_url, "/v1/embeddings")
        items = [d for d in data[: len(part) + 1] if isinstance(d, dict)]
        if all(isinstance(d.get("index"), int) for d in items):
            items.sort(key=lambda d: d["index"])
        vectors.extend(checked([d.get("embedding") for d in items], len(part), http,
                               "/v1/embeddings", model))
    return vectors


def batches(texts: Sequence[str]) -> List[List[str]]:
    clean = [str(t)[:MAX_TEXT_CHARS] or " " for t in texts]
    return [clean[i:i + MAX_BATCH] for i in range(0, len(clean), MAX_BATCH)]


def checked(got: Any, count: int, http: Http, path: str, model: str) -> List[List[float]]:
    if not isinstance(got, list):
        raise not_a_server(http.base_url, path)
    if len(got) != count:
        raise BackendError(f"The model '{model[:80]}' gave {len(got)} embeddings for {count} texts.",
                           "Choose an embedding model (e.g. nomic-embed-text or all-minilm) for "
                           "duplicates by meaning, or turn them off in the settings.")
    out: List[List[float]] = []
    dims = 0
    for vec in got:
        if not isinstance(vec, list) or not 0 < len(vec) <= MAX_DIMS or (dims and len(vec) != dims):
            raise BackendError("The server gave embeddings of an unexpected shape.",
                               "Check the embedding model in the settings.")
        dims = len(vec)
        try:
            floats = [float(x) for x in vec]
        except (TypeError, ValueError):
            raise BackendError("The server gave embeddings that are not numbers.",
                               "Check the embedding model in the settings.") from None
        if not all(math.isfinite(x) for x in floats):
            raise BackendError("The server gave embeddings that are not finite numbers.",
                               "Check the embedding model in the settings.")
        out.append(floats)
    return out
