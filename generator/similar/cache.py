"""The embeddings of a collection's notes, kept in a file in the add-on's user_files/ so they are
computed once: one file per collection and embedding model.

The file is append-only: a header, then one record per embedded note::

    note id (int64) · hash of the embedded text (uint64) · length of the int8 vector (float32)
    · the int8 vector (dims bytes) · CRC-32 of all that (uint32)

A note that was edited gets a new record (the last one counts); a deleted note's record is left
behind until the file is compacted (rewritten to a temporary file and moved over the old one in
one step). A crash in the middle of a write leaves at most a torn last record, which the next
load cuts off: nothing that was written before is lost."""
import hashlib
import os
import re
import struct
import zlib
from typing import BinaryIO, Dict, Iterable, Iterator, Optional, Tuple

from .index import VectorIndex

MAGIC = b"OFEMB1\n"
HEAD = struct.Struct("<HH")  # dims, length of the model name
REC = struct.Struct("<qQf")  # note id, text hash, norm
CRC = struct.Struct("<I")
MAX_DIMS = 8192
COMPACT_WASTE = 0.5  # compact when more than this share of the records is stale


def text_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).digest(), "little")


def cache_file(folder: str, collection_path: str, model: str) -> str:
    """The cache file for one collection and model: ``<folder>/<model>-<hash of the path>.emb``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._")[:60] or "model"
    where = hashlib.sha1(os.path.abspath(collection_path).encode("utf-8", "replace")).hexdigest()[:12]
    return os.path.join(folder, f"{slug}-{where}.emb")


class EmbedCache:
    """One cache file. ``load()`` reads it into a :class:`VectorIndex` (and the text hash of
    every note); ``append()`` adds records; ``compact()`` drops stale ones. One writer at a time."""

    def __init__(self, path: str, model: str) -> None:
        self.path = path
        self.model = model
        self.dims = 0
        self.hashes: Dict[int, int] = {}  # note id -> hash of the text its vector was made from
        self.records = 0  # records in the file, stale ones included
        self.index: Optional[VectorIndex] = None

    # -- reading ----------------------------------------------------------------------------------
    def load(self) -> VectorIndex:
        """Read the file (a missing, foreign or damaged file is started anew; a torn last
        record is cut off). Returns the index of the notes it holds."""
        self.hashes = {}
        self.records = 0
        self.index = None
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return self._fresh()
        except OSError:
            return self._fresh()
        header = self._header_length(data)
        if header is None:
            return self._fresh()
        index = VectorIndex(self.dims)
        size = REC.size + self.dims + CRC.size
        pos = header
        good = header
        while pos + size <= len(data):
            body = data[pos:pos + size - CRC.size]
            (crc,) = CRC.unpack_from(data, pos + size - CRC.size)
            if zlib.crc32(body) != crc:
                break
            note_id, hashed, norm = REC.unpack_from(body)
            index.put(note_id, body[REC.size:], norm)
            self.hashes[note_id] = hashed
            self.records += 1
            pos += size
            good = pos
        if good < len(data):
            self._truncate(good)
        self.index = index
        return index

    def _header_length(self, data: bytes) -> Optional[int]:
        if not data.startswith(MAGIC) or len(data) < len(MAGIC) + HEAD.size:
            return None
        dims, name_len = HEAD.unpack_from(data, len(MAGIC))
        start = len(MAGIC) + HEAD.size
        name = data[start:start + name_len].decode("utf-8", "replace")
        if not 0 < dims <= MAX_DIMS or name != self.model:
            return None
        self.dims = dims
        return start + name_len

    def _fresh(self) -> VectorIndex:
        self.dims = 0
        self.index = None
        return VectorIndex(0)

    def _truncate(self, length: int) -> None:
        try:
            with open(self.path, "r+b") as f:
                f.truncate(length)
        except OSError:
            pass

    # -- writing ----------------------------------------------------------------------------------
    def append(self, items: Iterable[Tuple[int, int, bytes, float]]) -> int:
        """Add records (note id, text hash, int8 vector, its length) to the file and the index;
        the file is flushed and synced before this returns. Returns how many were written."""
        rows = list(items)
        if not rows:
            return 0
        dims = len(rows[0][2])
        if self.index is None or self.dims != dims:
            self._start(dims)
        assert self.index is not None
        blob = bytearray()
        for note_id, hashed, packed, norm in rows:
            if len(packed) != dims:
                raise ValueError("vectors of different lengths from one model")
            body = REC.pack(note_id, hashed, norm) + packed
            blob += body + CRC.pack(zlib.crc32(body))
        with open(self.path, "ab") as f:
            f.write(blob)
            _sync(f)
        for note_id, hashed, packed, norm in rows:
            self.index.put(note_id, packed, norm)
            self.hashes[note_id] = hashed
        self.records += len(rows)
        return len(rows)

    def reset(self, dims: int) -> None:
        """Start the file anew for vectors of ``dims`` (everything cached is dropped)."""
        self._start(dims)

    def _start(self, dims: int) -> None:
        """A new, empty file for vectors of ``dims`` (the model changed, or there was none)."""
        if not 0 < dims <= MAX_DIMS:
            raise ValueError("embeddings of %d dimensions" % dims)
        self.dims = dims
        self.hashes = {}
        self.records = 0
        self.index = VectorIndex(dims)
        self._write_atomically(iter(()))

    def _header(self) -> bytes:
        name = self.model.encode("utf-8")[:2000]
        return MAGIC + HEAD.pack(self.dims, len(name)) + name

    def _write_atomically(self, records: Iterator[bytes]) -> None:
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(self._header())
            for rec in records:
                f.write(rec)
            _sync(f)
        os.replace(tmp, self.path)

    def forget(self, note_ids: Iterable[int]) -> None:
        """Notes that are gone: out of the index (their records go at the next compaction)."""
        gone = [n for n in note_ids if n in self.hashes]
        for n in gone:
            del self.hashes[n]
        if self.index is not None:
            self.index.discard(gone)

    def stale_share(self) -> float:
        return 1 - len(self.hashes) / self.records if self.records else 0.0

    def compact(self) -> None:
        """Rewrite the file with only the live records (atomically: the old file stays until
        the new one is complete)."""
        index = self.index
        if index is None:
            return
        d = self.dims

        def records() -> Iterator[bytes]:
            for row, note_id in enumerate(index.ids):
                body = REC.pack(note_id, self.hashes[note_id], index.norms[row]) + \
                    index.vectors[row * d:(row + 1) * d].tobytes()
                yield body + CRC.pack(zlib.crc32(body))

        self._write_atomically(records())
        self.records = len(index.ids)

    def size_on_disk(self) -> int:
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0


def _sync(f: BinaryIO) -> None:
    f.flush()
    try:
        os.fsync(f.fileno())
    except OSError:
        pass
