"""Nearest-note search over embedding vectors, fast in pure Python (Anki ships no numpy).

Vectors are kept as int8 (one ``array('b')`` for all rows) with the length of each. A search
first shortlists rows by how many coordinate signs they share with the query (a Hamming
distance between sign signatures), then scores the shortlist by exact cosine.

The signs are kept *bit-sliced*: for each dimension ``j`` one big ``int`` whose bit ``i`` is the
sign of row ``i``'s coordinate ``j``. The Hamming distance of every row to the query is then
summed with a few thousand big-int operations (a vertical bit counter), each of which works on
all rows at once in C, whatever the Python version (``int.bit_count`` needs 3.10; Anki 23.10 has
3.9). Building the slices from the int8 rows is a strided slice and a byte translation per
dimension. For 50,000 rows of 384 dimensions a search takes a few milliseconds."""
import math
import operator
import re
from array import array
from typing import Dict, List, Optional, Sequence, Tuple

SHORTLIST = 48  # rows scored by exact cosine per search
MAX_SHORTLIST = 1000  # when many rows tie at the shortlist's distance
_POSITIVE = bytes(49 if 0 < b < 128 else 48 for b in range(256))  # int8 > 0 -> "1", else "0"
_ONES = re.compile(b"1")


def quantize(vector: Sequence[float]) -> Tuple[bytes, float]:
    """A vector as int8 bytes (scaled so its largest coordinate is 127) and the length of that
    int8 vector (cosines are computed against it)."""
    top = max((abs(x) for x in vector), default=0.0)
    scale = 127.0 / top if top > 0 else 0.0
    ints = array("b", (max(-127, min(127, int(round(x * scale)))) for x in vector))
    return ints.tobytes(), math.sqrt(sum(i * i for i in ints))


def unit(vector: Sequence[float]) -> List[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm > 0 else [0.0] * len(vector)


class VectorIndex:
    """Rows of (note id, int8 vector, its length). Not thread-safe: one owner at a time."""

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self.ids: List[int] = []
        self.norms: List[float] = []
        self.vectors = array("b")
        self.row_of: Dict[int, int] = {}
        self._planes: Optional[List[int]] = None

    def __len__(self) -> int:
        return len(self.row_of)

    def put(self, note_id: int, packed: bytes, norm: float) -> None:
        """Add a row, or replace the row of ``note_id`` (``packed`` from :func:`quantize`)."""
        if len(packed) != self.dims:
            raise ValueError("vector of %d dimensions in an index of %d" % (len(packed), self.dims))
        row = self.row_of.get(note_id)
        if row is None:
            self.row_of[note_id] = len(self.ids)
            self.ids.append(note_id)
            self.norms.append(norm)
            self.vectors.frombytes(packed)
        else:
            self.norms[row] = norm
            self.vectors[row * self.dims:(row + 1) * self.dims] = array("b", packed)
        self._planes = None

    def add(self, note_id: int, vector: Sequence[float]) -> None:
        self.put(note_id, *quantize(vector))

    def discard(self, note_ids: Sequence[int]) -> None:
        """Forget rows (their notes were deleted). Rows are compacted at once."""
        gone = {n for n in note_ids if n in self.row_of}
        if not gone:
            return
        keep = [r for r, nid in enumerate(self.ids) if nid not in gone]
        d = self.dims
        vectors = array("b")
        for r in keep:
            vectors.extend(self.vectors[r * d:(r + 1) * d])
        self.ids = [self.ids[r] for r in keep]
        self.norms = [self.norms[r] for r in keep]
        self.vectors = vectors
        self.row_of = {nid: r for r, nid in enumerate(self.ids)}
        self._planes = None

    # -- search ---------------------------------------------------------------------------------
    def planes(self) -> List[int]:
        """Bit ``i`` of plane ``j``: row ``i``'s coordinate ``j`` is positive."""
        if self._planes is None:
            raw = self.vectors.tobytes()
            d = self.dims
            # reversed so that row 0 ends up as the lowest bit of int(..., 2)
            self._planes = [int(raw[j::d][::-1].translate(_POSITIVE) or b"0", 2) for j in range(d)]
        return self._planes

    def hamming_at_most(self, query: Sequence[float], shortlist: int = SHORTLIST) -> List[int]:
        """The rows nearest to ``query`` by sign disagreement: every row within the smallest
        distance that reaches ``shortlist`` rows (at most MAX_SHORTLIST)."""
        n = len(self.ids)
        if n == 0:
            return []
        if n <= shortlist:
            return list(range(n))
        everyone = (1 << n) - 1
        differ = [plane ^ everyone if query[j] > 0 else plane for j, plane in enumerate(self.planes())]
        counter = _bit_sliced_sum(differ)  # bit k of each row's disagreement count
        low, high = 0, len(self.planes())
        while low < high:  # the smallest distance r with at least `shortlist` rows within it
            mid = (low + high) // 2
            if _popcount(_at_most(counter, mid, everyone)) >= shortlist:
                high = mid
            else:
                low = mid + 1
        return _rows_of(_at_most(counter, low, everyone), MAX_SHORTLIST)

    def nearest(self, query: Sequence[float], shortlist: int = SHORTLIST) -> Optional[Tuple[int, float]]:
        """(note id, cosine) of the row nearest to ``query``, from the shortlist; None if empty."""
        q = unit(query)
        if len(q) != self.dims:
            raise ValueError("query of %d dimensions in an index of %d" % (len(q), self.dims))
        best: Optional[Tuple[int, float]] = None
        for row in self.hamming_at_most(q, shortlist):
            score = self.cosine(q, row)
            if best is None or score > best[1]:
                best = (self.ids[row], score)
        return best

    def nearest_k(self, query: Sequence[float], k: int, exclude: Sequence[int] = (),
                  shortlist: int = SHORTLIST) -> List[Tuple[int, float]]:
        """The ``k`` rows nearest to ``query`` from the shortlist, best first, as (note id,
        cosine), leaving out the notes in ``exclude``."""
        q = unit(query)
        if len(q) != self.dims:
            raise ValueError("query of %d dimensions in an index of %d" % (len(q), self.dims))
        skip = set(exclude)
        scored = [(self.ids[row], self.cosine(q, row)) for row in self.hamming_at_most(q, shortlist + len(skip))
                  if self.ids[row] not in skip]
        scored.sort(key=lambda hit: -hit[1])
        return scored[:max(0, k)]

    def vector_of(self, note_id: int) -> Optional[List[int]]:
        """The stored (int8) vector of a note, or None when it is not in the index."""
        row = self.row_of.get(note_id)
        if row is None:
            return None
        return list(self.vectors[row * self.dims:(row + 1) * self.dims])

    def nearest_exact(self, query: Sequence[float]) -> Optional[Tuple[int, float]]:
        """The same by scoring every row (slow: the reference for the benchmark)."""
        q = unit(query)
        best: Optional[Tuple[int, float]] = None
        for row in range(len(self.ids)):
            score = self.cosine(q, row)
            if best is None or score > best[1]:
                best = (self.ids[row], score)
        return best

    def cosine(self, unit_query: Sequence[float], row: int) -> float:
        norm = self.norms[row]
        if norm <= 0:
            return 0.0
        d = self.dims
        return _dot(unit_query, self.vectors[row * d:(row + 1) * d]) / norm


def _dot(a: Sequence[float], b: Sequence[int]) -> float:
    return sum(map(operator.mul, a, b))


def _bit_sliced_sum(bits: List[int]) -> List[int]:
    """Per row (bit position), how many of ``bits`` have that bit set, as bit-sliced ints
    (lowest first): a tree of carry-save adders, about 5 big-int operations per input."""
    by_weight: List[List[int]] = [list(bits)]
    out: List[int] = []
    w = 0
    while w < len(by_weight):
        level = by_weight[w]
        while len(level) > 1:
            nxt: List[int] = []
            carries: List[int] = []
            i = 0
            while i + 2 < len(level):
                a, b, c = level[i], level[i + 1], level[i + 2]
                ab = a ^ b
                nxt.append(ab ^ c)
                carries.append((a & b) | (c & ab))
                i += 3
            if i + 1 < len(level):  # two left: a half adder
                a, b = level[i], level[i + 1]
                nxt.append(a ^ b)
                carries.append(a & b)
            elif i < len(level):
                nxt.append(level[i])
            level = nxt
            if carries:
                if w + 1 == len(by_weight):
                    by_weight.append([])
                by_weight[w + 1].extend(carries)
        out.append(level[0] if level else 0)
        w += 1
    return out


def _at_most(counter: List[int], r: int, everyone: int) -> int:
    """Rows whose bit-sliced count (``counter``, lowest bit first) is <= r."""
    if r >= (1 << len(counter)):
        return everyone
    less = 0
    equal = everyone
    for k in range(len(counter) - 1, -1, -1):
        bit = counter[k]
        if (r >> k) & 1:
            less |= equal & ~bit
            equal &= bit
        else:
            equal &= ~bit
    return (less | equal) & everyone


def _popcount(x: int) -> int:
    return bin(x).count("1")  # int.bit_count is 3.10+


def _rows_of(mask: int, limit: int) -> List[int]:
    """The set bits of ``mask`` (row numbers), lowest first, at most ``limit``."""
    rows = []
    for m in _ONES.finditer(bin(mask)[:1:-1].encode()):
        rows.append(m.start())
        if len(rows) >= limit:
            break
    return rows
