"""Typed errors. Each carries a message a user can act on; none should surface as a traceback."""


class FlashcardError(Exception):
    """Base class. ``str(err)`` is the message to show; ``hint`` says what to do about it."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def user_text(self) -> str:
        return f"{self.message}\n{self.hint}".strip() if self.hint else self.message


# --- input ---------------------------------------------------------------------------------

class SourceError(FlashcardError):
    """A document could not be turned into text."""

    exit_code = 2


class EmptySource(SourceError):
    pass


class BinarySource(SourceError):
    pass


class UnsupportedSource(SourceError):
    pass


class NoTextLayer(SourceError):
    pass


class EncryptedSource(SourceError):
    pass


class UnreadableSource(SourceError):
    pass


class SourceTooLarge(SourceError):
    pass


class SourceTimeout(SourceError):
    """Reading a file took longer than its time bound and was given up."""


class PartlyRead(SourceError):
    """Some parts (PDF pages) were skipped; the rest of the document was read."""


# --- server --------------------------------------------------------------------------------

class BackendError(FlashcardError):
    """Anything that went wrong talking to the model server."""

    retryable = False


class ServerUnreachable(BackendError):
    exit_code = 3


class NotAModelServer(BackendError):
    """The URL answers, but not with the protocol we speak (e.g. an HTML page)."""

    exit_code = 3


class ServerTimeout(BackendError):
    retryable = True


class DeadlinePassed(ServerTimeout):
    """One request took longer than its overall deadline (however the server kept it alive)."""


class AnswerTooLarge(BackendError):
    """An answer brought more bytes or characters than one answer may (a runaway server)."""

    retryable = True


class Redirected(NotAModelServer):
    """The server answered with a redirect the add-on does not follow."""


class ModelNotFound(BackendError):
    exit_code = 3

    def __init__(self, model: str, message: str = "", hint: str = "") -> None:
        super().__init__(
            message or f"The model '{model}' is not on the server.",
            hint or f"Pull it first: run `ollama pull {model}` (or use Pull in the add-on), "
            "or choose another model.",
        )
        self.model = model


class ContextExceeded(BackendError):
    pass


class ServerBusy(BackendError):
    """429/503: the server's queue is full. Retried with backoff before it reaches the user."""

    retryable = True


class ServerFailed(BackendError):
    """HTTP 5xx or an error line in the middle of a stream."""

    retryable = True


class AuthFailed(BackendError):
    exit_code = 3


class StreamBroken(BackendError):
    """The answer stopped before the server said it was done."""

    retryable = True


# --- answers -------------------------------------------------------------------------------

class AnswerError(FlashcardError):
    """The model answered, but not with usable cards."""


class InvalidAnswer(AnswerError):
    pass


class TruncatedAnswer(AnswerError):
    """The answer hit the token limit (done_reason/finish_reason 'length')."""


# --- job / collection ----------------------------------------------------------------------

class Cancelled(FlashcardError):
    def __init__(self, message: str = "Cancelled.", hint: str = "") -> None:
        super().__init__(message, hint)


class CollectionError(FlashcardError):
    exit_code = 2


class CollectionBusy(CollectionError):
    pass


class CollectionWriteFailed(CollectionError):
    """The collection file could not be written (an I/O error): nothing of that add went in."""

    exit_code = 4


class DiskFull(CollectionWriteFailed):
    """No space left on the disk that holds the collection (or the job's journal)."""


def one_line(text: str) -> str:
    """A message and its hint on one line, as sentences ("Cannot connect. Start Ollama.")."""
    out = ""
    for line in (part.strip() for part in text.splitlines()):
        if not line:
            continue
        if out:
            out += ("" if out.endswith((".", "!", "?", ":", "…")) else ".") + " "
        out += line
    return out


def describe(err: BaseException) -> str:
    """The text to show a user for any exception (never a traceback)."""
    if isinstance(err, FlashcardError):
        return err.user_text()
    return f"Unexpected error: {type(err).__name__}: {err}"

