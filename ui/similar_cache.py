"""Duplicates by meaning inside Anki: the notes' embeddings (``..generator.similar.SimilarNotes``)
for the open profile and the configured ``embed_model``, kept up to date in the background.

A build reads the notes' questions in a background collection read (``QueryOp``), then embeds
the new and edited ones on a worker thread, never on the main thread. At most one build runs
at a time; it starts when a Generate or Bulk job starts, or when the settings switch it on.
Jobs compare their cards with what is cached so far while a build runs. Closing the profile
stops a build (what it wrote stays in user_files/embeddings)."""
import os
import threading
from typing import Any, Optional, Tuple

from aqt import mw

from ..generator import log
from ..generator.config import Settings
from ..generator.errors import describe
from ..generator.similar.search import CacheStats, SimilarNotes
from .common import run_long, run_with_collection


def cache_folder() -> str:
    folder = mw.addonManager.addonsFolder(mw.addonManager.addonFromModule(__name__))
    return os.path.join(folder, "user_files", "embeddings")


class SimilarCache:
    """One :class:`SimilarNotes` at a time (the open collection, the model, the server)."""

    def __init__(self) -> None:
        self.similar: Optional[SimilarNotes] = None
        self._key: Optional[Tuple[str, ...]] = None
        self._backend: Any = None
        self.building = False
        self.builds = 0  # builds started, for the tests
        self.last_stats: Optional[CacheStats] = None
        self.last_error = ""
        self._cancel = threading.Event()
        self._hooked = False

    def get(self, settings: Settings) -> Optional[SimilarNotes]:
        """The notes by meaning for these settings; None when ``embed_model`` is off."""
        model = settings.embed_model.strip()
        if not model or mw.col is None:
            return None
        key = (str(mw.col.path), model, settings.server_url, settings.backend.value, settings.api_key)
        if key != self._key or self.similar is None:
            from ..generator.backends import make_backend

            self.close()
            self._backend = make_backend(settings)
            self.similar = SimilarNotes.for_collection(self._backend, model, cache_folder(),
                                                       str(mw.col.path), settings.similarity_threshold)
            self._key = key
            self._hook()
        self.similar.threshold = settings.similarity_threshold
        return self.similar

    def start_build(self, settings: Settings) -> bool:
        """Bring the cache up to date in the background; False when off or already building."""
        similar = self.get(settings)
        if similar is None or self.building:
            return False
        self.building = True
        self.builds += 1
        self._cancel = cancel = threading.Event()

        def read(col: Any) -> Any:
            from ..generator.similar.question import collection_questions

            return collection_questions(col)

        def embed(questions: Any) -> None:
            if cancel.is_set():
                self.building = False
                return
            run_long(lambda: similar.update(questions, cancel=cancel), self._built, self._failed)

        run_with_collection(mw, read, embed, self._failed)
        return True

    def _built(self, stats: CacheStats) -> None:
        self.building = False
        self.last_stats = stats
        self.last_error = ""

    def _failed(self, err: BaseException) -> None:
        self.building = False
        self.last_error = describe(err)
        log.event("similar cards: the cache was not built: %s", type(err).__name__)

    def close(self, *_args: Any) -> None:
        """Stop a build and forget the current one (profile closed, settings changed)."""
        self._cancel.set()
        backend, self._backend = self._backend, None
        self.similar = None
        self._key = None
        if backend is not None:
            backend.close()  # a build still running stops at its next batch (cancel)

    def _hook(self) -> None:
        if not self._hooked:
            from aqt import gui_hooks

            gui_hooks.profile_will_close.append(self.close)
            self._hooked = True


CACHE = SimilarCache()
