"""The unit of work sent to the model: a piece of a document with its place in it."""
from dataclasses import dataclass, field
from typing import Any, Tuple


@dataclass(frozen=True)
class Chunk:
    id: str  # deterministic: a hash of document name, heading path and text
    document: str
    text: str
    heading_path: Tuple[str, ...] = ()
    location: str = ""
    index: int = 0  # position in the document, from 0
    # pictures sent with the text (vision.ImagePart), made ready in the worker that sends them
    images: Tuple[Any, ...] = field(default=(), compare=False, repr=False)

    def heading_label(self) -> str:
        return " › ".join(self.heading_path)
