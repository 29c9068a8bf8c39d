"""The user message of a chat request with images, in each protocol's documented form.

Ollama (/api/chat): ``{"role": "user", "content": text, "images": [raw base64, ...]}`` (no
``data:`` prefix). OpenAI-compatible (/v1/chat/completions): ``content`` is a list of parts,
the text first, then ``{"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}``.
"""
from typing import Any, Dict, List

from .base import ChatRequest

# The first characters of the base64 of each format's magic bytes.
_MIME_BY_PREFIX = (("iVBORw0KGgo", "image/png"), ("/9j/", "image/jpeg"), ("R0lGOD", "image/gif"),
                   ("UklGR", "image/webp"))


def mime_of(b64: str) -> str:
    for prefix, mime in _MIME_BY_PREFIX:
        if b64.startswith(prefix):
            return mime
    return "image/png"


def ollama_user_message(request: ChatRequest) -> Dict[str, Any]:
    message: Dict[str, Any] = {"role": "user", "content": request.user}
    if request.images:
        message["images"] = list(request.images)
    return message


def openai_user_message(request: ChatRequest) -> Dict[str, Any]:
    if not request.images:
        return {"role": "user", "content": request.user}
    parts: List[Dict[str, Any]] = [{"type": "text", "text": request.user}]
    for data in request.images:
        parts.append({"type": "image_url", "image_url": {"url": f"data:{mime_of(data)};base64,{data}"}})
    return {"role": "user", "content": parts}
