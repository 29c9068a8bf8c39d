"""Failures to write the collection (or a journal next to it), told apart from every other error:
a full disk must say "the disk is full", not "target undo op not found".

Recognised, anywhere in an exception's chain (``__cause__`` / ``__context__``):

- ``OSError`` with errno ENOSPC or EDQUOT (disk full, quota), EFBIG (the file size limit),
  EIO or EROFS (an I/O error, a read-only disk);
- SQLite's "database or disk is full" (``SQLITE_FULL``, Anki's ``DBError`` says ``DiskFull``),
  "disk I/O error" (``SystemIoFailure``) and "attempt to write a readonly database", from Anki's
  backend or the stdlib ``sqlite3``."""
import errno
from typing import Iterator, Optional

from .errors import CollectionWriteFailed, DiskFull

_FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
_WRITE_ERRNOS = frozenset({errno.EFBIG, errno.EIO, errno.EROFS})
_FULL_TEXTS = ("database or disk is full", "diskfull", "no space left on device", "disk quota exceeded")
_WRITE_TEXTS = ("disk i/o error", "systemiofailure", "readonly database", "read-only file system",
                "file too large")

__all__ = ["write_failure", "FREE_SPACE_HINT"]

FREE_SPACE_HINT = "Free some space on the disk that holds your Anki collection, then try again."


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen = set()
    current: Optional[BaseException] = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def write_failure(err: BaseException, nothing_added: str = "Nothing was added.") -> Optional[CollectionWriteFailed]:
    """The typed error for ``err`` if it (or what caused it) is a failed write, else None.
    ``nothing_added`` is the sentence that says what became of the cards."""
    for e in _chain(err):
        if isinstance(e, CollectionWriteFailed):
            return e
        code = getattr(e, "errno", None) if isinstance(e, OSError) else None
        text = str(e).lower()
        if code in _FULL_ERRNOS or any(t in text for t in _FULL_TEXTS):
            return DiskFull("The disk is full: the collection could not be written. " + nothing_added,
                            FREE_SPACE_HINT)
        if code in _WRITE_ERRNOS or any(t in text for t in _WRITE_TEXTS):
            why = "the file size limit was reached" if code == errno.EFBIG or "too large" in text \
                else "the disk could not be written (an I/O error or a read-only disk)"
            return CollectionWriteFailed(
                "The collection could not be written: %s. %s" % (why, nothing_added),
                "Check the disk that holds your Anki collection (free space, permissions), "
                "then try again.")
    return None
