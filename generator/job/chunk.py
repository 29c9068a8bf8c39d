"""The unit of work sent to the model: a piece of a document with its place in it."""
import bisect
from dataclasses import dataclass, field
from typing import Any, Tuple

# Where each block of a chunk's text starts: (offset in ``Chunk.text``, page, line, heading).
# ``page`` and ``line`` are 0 when the reader did not know them (see sources.document.Block);
# ``heading`` is 1 for a heading's line, else 0.
Mark = Tuple[int, int, int, int]
# What a request about the chunk is to be about (a highlight the reader made): (start, end) of
# the marked text in ``Chunk.text``, the reader's note on it, the book it is from ("" when the
# document is the book) and the highlight's key (``highlights.highlight.Highlight.key``). Empty:
# the whole chunk is to be learned.
Focus = Tuple[int, int, str, str, str]


@dataclass(frozen=True)
class Chunk:
    id: str  # deterministic: a hash of document name, heading path and text
    document: str
    text: str
    heading_path: Tuple[str, ...] = ()
    location: str = ""
    index: int = 0  # position in the document, from 0
    # images sent with the text (job.images.ImagePart), made ready in the worker that sends them
    images: Tuple[Any, ...] = field(default=(), compare=False, repr=False)
    # the blocks' places, in order of offset (empty for a chunk made without a reader's blocks)
    marks: Tuple[Mark, ...] = field(default=(), compare=False, repr=False)
    path: str = field(default="", compare=False, repr=False)  # the file it was read from, if any
    focus: Tuple[Focus, ...] = field(default=(), compare=False, repr=False)  # (highlights/focus.py)

    def heading_label(self) -> str:
        return " › ".join(self.heading_path)

    def mark_at(self, offset: int) -> Mark:
        """The mark of the block that holds ``offset`` of the text ((0, 0, 0, 0) if none)."""
        marks = self.marks
        if not marks:
            return (0, 0, 0, 0)
        i = bisect.bisect_right(marks, (offset, 1 << 62)) - 1
        return marks[max(0, i)]

    def page(self) -> int:
        """The page the chunk starts on (0 = not known)."""
        return next((m[1] for m in self.marks if m[1]), 0)

    def piece(self, start: int, end: int, **changes: Any) -> "Chunk":
        """The chunk cut to ``text[start:end]`` (stripped), its marks moved along."""
        from dataclasses import replace

        raw = self.text[start:end]
        lead = len(raw) - len(raw.lstrip())
        text = raw.strip()
        begin = start + lead
        inside = [m for m in self.marks if begin <= m[0] < begin + len(text)]
        before = self.mark_at(begin) if self.marks else None
        marks = [(m[0] - begin, m[1], m[2], m[3]) for m in inside]
        if before is not None and (not marks or marks[0][0] > 0):
            marks.insert(0, (0, before[1], before[2], 0))
        focus = tuple((max(0, f[0] - begin), min(len(text), f[1] - begin), f[2], f[3], f[4]) for f in self.focus
                      if f[1] > begin and f[0] < begin + len(text))
        return replace(self, text=text, marks=tuple(marks), focus=focus, **changes)
