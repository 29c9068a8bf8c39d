"""The context a job plans its chunks with, and whether it is sent to the server.

``num_ctx`` in the settings is ``"auto"`` (the default) or a number of tokens.

- A number wins: it is sent with every request (capped by the model's own context length).
- ``"auto"`` with Ollama: the model is loaded first (an empty /api/generate) and /api/ps says with
  which context the server loaded it (Ollama picks it by the GPU's memory, or
  OLLAMA_CONTEXT_LENGTH); chunks are sized from that and no ``num_ctx`` is sent, so the server
  never reloads the model for another context. If the server cannot say (older versions), the
  fallback below is sent as a number, as before.
- ``"auto"`` with an OpenAI-compatible server: the context the server states in /v1/models
  (llama.cpp, vLLM, LM Studio), else the fallback.

Whatever the context, a chunk holds at most ``MAX_CHUNK_TOKENS`` tokens of text: past that a
small model loses track of the text (see config.md and ``tools/measure_chunk_size.py``)."""
from typing import Any, Tuple

from ..errors import FlashcardError, NotAModelServer

AUTO = "auto"
AUTO_FALLBACK_CTX = 4096  # when the server does not say (Ollama's own default without a big GPU)
MIN_CTX = 512
MAX_CTX = 1 << 22
# The most text per request. Measured with tools/measure_chunk_size.py (SmolLM2-135M on
# llama.cpp; docs/design.md, "Choosing the chunk cap"): the model found nothing at 4,800 tokens.
MAX_CHUNK_TOKENS = 2400


def parse_num_ctx(value: Any) -> Tuple[int, bool]:
    """``(tokens, auto)`` from a setting: ``"auto"``, empty or 0 -> (AUTO_FALLBACK_CTX, True);
    a number -> (that number, False). Raises FlashcardError for anything else."""
    if value is None or value == "" or (isinstance(value, str) and value.strip().lower() == AUTO):
        return AUTO_FALLBACK_CTX, True
    if isinstance(value, bool):
        raise bad_num_ctx(value)
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise bad_num_ctx(value) from None
    if number == 0:
        return AUTO_FALLBACK_CTX, True
    if not MIN_CTX <= number <= MAX_CTX:
        raise bad_num_ctx(value)
    return number, False


def bad_num_ctx(value: Any) -> FlashcardError:
    return FlashcardError(f"num_ctx must be \"auto\" or a number of tokens from {MIN_CTX}, "
                          f"not {str(value)[:40]!r}.",
                          "Set 'num_ctx' to \"auto\" (recommended) or e.g. 8192 in the settings.")


def job_context(backend: Any, info: Any, num_ctx: int, auto: bool, keep_alive: str) -> Tuple[int, bool]:
    """``(context to plan with, auto)`` for a job; ``auto`` stays True only when the server said
    which context the model is loaded with (then no num_ctx is sent)."""
    model_max = int(getattr(info, "context_length", 0) or 0)
    if not auto:
        return (min(num_ctx, model_max) if model_max else num_ctx), False
    try:
        loaded = int(backend.loaded_context(info.name, keep_alive) or 0)
    except NotAModelServer:
        loaded = 0  # a server without /api/ps
    if loaded > 0:
        return (min(loaded, model_max) if model_max else loaded), True
    if backend.name == "ollama":
        # The loaded context is unknown: send a safe size, as a number.
        fallback = AUTO_FALLBACK_CTX
        return (min(fallback, model_max) if model_max else fallback), False
    # OpenAI-compatible servers: the context they state for the model, else the fallback
    # (num_ctx is never sent to them).
    return (model_max or AUTO_FALLBACK_CTX), True
