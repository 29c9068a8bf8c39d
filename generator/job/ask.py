"""What one chunk's request asks beyond the job's own settings. A plan (topics first:
``generator.job.topics.TopicPlan``) gives ``run_job`` one :class:`ChunkAsk` per chunk; the job
itself knows nothing of topics."""
import copy
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from ..cards.card import Card


@dataclass
class ChunkAsk:
    skip: bool = False  # ask nothing of this chunk (e.g. it holds no chosen topic): no cards
    wanted: int = 0  # cards to ask for; 0 = the job's own count for the chunk
    instructions: str = ""  # appended to the user message
    topics: Tuple[str, ...] = ()  # the titles the answer's "topic" field may take (may be empty)
    assign: Optional[Callable[[Card], Optional[Card]]] = None  # after validation: map, tag or drop

    @property
    def allow_empty(self) -> bool:
        """With topics, "nothing on these topics here" (an empty list) is a valid answer."""
        return bool(self.topics)


AskFor = Callable[[Any, int], ChunkAsk]  # (chunk, the job's own count for it) -> what to ask


def with_topic(schema: Dict[str, Any], titles: Sequence[str]) -> Dict[str, Any]:
    """The card schema with a required "topic" string, one of ``titles`` (an enum: flat, and kept
    by the grammars of Ollama and llama.cpp; a model that ignores it is mapped tolerantly)."""
    out = copy.deepcopy(schema)
    items = out["properties"]["cards"]["items"]
    prop: Dict[str, Any] = {"type": "string"}
    if titles:
        prop["enum"] = list(dict.fromkeys(titles))
    items["properties"]["topic"] = prop
    items["required"] = list(items["required"]) + ["topic"]
    return out
