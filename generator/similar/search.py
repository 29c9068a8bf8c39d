"""Duplicates by meaning: a new card whose question is close in meaning to a note already in the
collection ("Which organelle makes ATP?" / "Where is ATP produced in the cell?") is marked
``card.similar_to`` (that note's id, its question, the score).

The questions of the collection's notes are embedded once, by the configured ``embed_model`` on
the model server, and kept in an :class:`~.embed_cache.EmbedCache` (user_files/); later runs embed
only notes that are new or edited since. New cards are embedded when they are made and compared
with the cache by :class:`~.vector_index.VectorIndex`.

Reading the collection (``question_text.collection_questions``) is separate from the rest, which
needs no collection: in Anki the read runs where collection work belongs and the embedding runs
on a worker thread."""
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .. import log
from ..cards.card import Card, SimilarNote
from .cache import COMPACT_WASTE, EmbedCache, cache_file, text_hash
from .question import card_question
from .index import quantize

BATCH = 64  # notes per embedding request while the cache is built
FRONT_CHARS = 160  # how much of the similar note's question a card keeps


@dataclass
class CacheStats:
    notes: int  # notes with a question in the collection
    embedded: int  # of them embedded by this update (new or edited)
    forgotten: int  # cached notes no longer in the collection
    seconds: float
    complete: bool  # False when cancelled


class SimilarNotes:
    """The collection's notes by meaning, for one embedding model. Thread-safe: ``update`` may
    run on one thread while ``mark`` runs on another (it compares with what is cached so far)."""

    def __init__(self, backend: Any, model: str, cache_path: str, threshold: float) -> None:
        self.backend = backend
        self.model = model
        self.threshold = threshold
        self.cache = EmbedCache(cache_path, model)
        self.fronts: Dict[int, str] = {}
        self._lock = threading.RLock()
        self._loaded = False

    @classmethod
    def for_collection(cls, backend: Any, model: str, folder: str, collection_path: str,
                       threshold: float) -> "SimilarNotes":
        return cls(backend, model, cache_file(folder, collection_path, model), threshold)

    def _load(self) -> None:
        if not self._loaded:
            self.cache.load()
            self._loaded = True

    def update(self, questions: Sequence[Tuple[int, str]], cancel: Optional[threading.Event] = None,
               on_progress: Optional[Callable[[int, int], None]] = None) -> CacheStats:
        """Bring the cache up to date with ``questions`` (note id, question text) of the whole
        collection: embed the new and edited ones in batches (each batch written before the
        next is asked for), forget the deleted ones. Cancel keeps what is written."""
        started = time.monotonic()
        with self._lock:
            self._load()
            present = {nid: text for nid, text in questions}
            gone = [nid for nid in self.cache.hashes if nid not in present]
            self.cache.forget(gone)
            self.fronts = {nid: text[:FRONT_CHARS] for nid, text in present.items()}
            known = dict(self.cache.hashes)
        todo = [(nid, text, text_hash(text)) for nid, text in questions
                if known.get(nid) != text_hash(text)]
        done = 0
        if on_progress is not None:
            on_progress(0, len(todo))
        for i in range(0, len(todo), BATCH):
            if cancel is not None and cancel.is_set():
                log.event("embedding cache: cancelled after %d of %d notes", done, len(todo))
                return CacheStats(len(present), done, len(gone), time.monotonic() - started, False)
            part = todo[i:i + BATCH]
            vectors = self.backend.embed(self.model, [text for _nid, text, _h in part])
            if vectors and self.cache.dims and len(vectors[0]) != self.cache.dims:
                # The model now gives vectors of another length (another version under the
                # same name): the cache is of no use any more.
                log.event("embedding cache: %d dimensions instead of %d, starting anew",
                          len(vectors[0]), self.cache.dims)
                with self._lock:
                    self.cache.reset(len(vectors[0]))
                return self.update(questions, cancel, on_progress)
            with self._lock:
                self.cache.append((nid, hashed, *quantize(vec))
                                  for (nid, _text, hashed), vec in zip(part, vectors))
            done += len(part)
            if on_progress is not None:
                on_progress(done, len(todo))
        with self._lock:
            if self.cache.records > 1000 and self.cache.stale_share() > COMPACT_WASTE:
                self.cache.compact()
        seconds = time.monotonic() - started
        log.event("embedding cache: %d notes, %d embedded, %d forgotten in %.1f s",
                  len(present), done, len(gone), seconds)
        return CacheStats(len(present), done, len(gone), seconds, True)

    def mark(self, cards: Sequence[Card], backend: Any = None) -> int:
        """Set ``similar_to`` on the cards whose question is at least ``threshold`` close to a
        cached note's (and clear it on the others). One embedding request for all, through
        ``backend`` (default: this object's; pass another when ``update`` may be running on
        another thread with this one's). Returns how many were marked. Raises BackendError if
        the server cannot embed."""
        wanted = [(card, card_question(card)) for card in cards]
        wanted = [(card, text) for card, text in wanted if text]
        for card in cards:
            card.similar_to = None
        if not wanted:
            return 0
        with self._lock:
            self._load()
            if not self.cache.hashes:
                return 0
        vectors = (backend or self.backend).embed(self.model, [text for _card, text in wanted])
        marked = 0
        with self._lock:
            index = self.cache.index
            if index is None or not len(index):
                return 0
            for (card, _text), vec in zip(wanted, vectors):
                if len(vec) != index.dims:
                    log.event("similar cards: the model gives %d dimensions, the cache has %d",
                              len(vec), index.dims)
                    return 0
                hit = index.nearest(vec)
                if hit is not None and hit[1] >= self.threshold:
                    card.similar_to = SimilarNote(hit[0], self.fronts.get(hit[0], ""), round(hit[1], 4))
                    marked += 1
        return marked


    def neighbours(self, note_ids: Sequence[int], k: int = 3) -> Dict[int, List[Tuple[int, float]]]:
        """For each cached note of ``note_ids``: the ``k`` other notes nearest in meaning (note id,
        cosine), from the vectors already cached (no request). Notes not cached are left out."""
        out: Dict[int, List[Tuple[int, float]]] = {}
        with self._lock:
            self._load()
            index = self.cache.index
            if index is None or not len(index):
                return out
            for nid in note_ids:
                vec = index.vector_of(nid)
                if vec is not None and any(vec):
                    out[nid] = index.nearest_k(vec, k, exclude=(nid,))
        return out

    def nearest_to(self, texts: Sequence[str], k: int = 3, exclude: Sequence[int] = (),
                   backend: Any = None) -> List[List[Tuple[int, float]]]:
        """For each text: the ``k`` cached notes nearest in meaning, leaving out ``exclude``
        (one embedding request for all). Raises BackendError if the server cannot embed."""
        if not texts:
            return []
        with self._lock:
            self._load()
            if not self.cache.hashes:
                return [[] for _ in texts]
        vectors = (backend or self.backend).embed(self.model, list(texts))
        with self._lock:
            index = self.cache.index
            if index is None or not len(index):
                return [[] for _ in texts]
            return [index.nearest_k(vec, k, exclude) if len(vec) == index.dims else [] for vec in vectors]


class SimilarCheck:
    """What a job does with its cards and the notes by meaning: each batch of cards is marked
    (``SimilarNotes.mark``), and a server that cannot embed costs no card: the first failure
    ends the checks for the rest of the job, its reason kept (``error``) for the summary, and
    the cards go on unmarked. ``similar`` None: the check is off."""

    def __init__(self, similar: Optional[SimilarNotes]) -> None:
        self.similar = similar
        self.error = ""  # why the cards could not be checked (after the first failure)

    def mark(self, cards: Sequence[Card], backend: Any = None) -> int:
        """Mark ``cards`` (through ``backend``, see ``SimilarNotes.mark``); how many were marked."""
        if self.similar is None or not cards or self.error:
            return 0
        from ..errors import FlashcardError, describe

        try:
            return self.similar.mark(cards, backend)
        except FlashcardError as e:
            self.error = describe(e)
            log.event("similar cards not checked: %s", type(e).__name__)
            return 0


def embedding_models(backend: Any, names: Sequence[str], limit: int = 100) -> List[str]:
    """The models among ``names`` that make embeddings: by the capabilities Ollama reports
    (/api/show); an OpenAI-compatible server reports none, so there the names that say so
    ("embed", as in nomic-embed-text or text-embedding-3-small)."""
    from ..errors import BackendError

    names = list(names)[:limit]
    if backend.name != "ollama":
        return [n for n in names if "embed" in n.lower()]
    found = []
    for name in names:
        try:
            info = backend.model_info(name)
        except BackendError:
            continue
        if "embedding" in info.capabilities:
            found.append(name)
    return found
