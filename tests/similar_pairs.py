"""The labelled card pairs of tests/data/similar_pairs.tsv and how a threshold is measured on them
(used by the tests, `make test-llm` and bench/fig_similarity.py)."""
import os
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

PAIRS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "similar_pairs.tsv")


@dataclass
class Pair:
    lang: str
    same: bool
    first: str
    second: str


def load_pairs(path: str = PAIRS_PATH) -> List[Pair]:
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            lang, same, first, second = line.rstrip("\n").split("\t")
            pairs.append(Pair(lang, same == "1", first, second))
    return pairs


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    na = sum(x * x for x in a) ** 0.5
    nb = sum(y * y for y in b) ** 0.5
    return dot / (na * nb) if na and nb else 0.0


def scores(pairs: Sequence[Pair], embed: Callable[[List[str]], List[List[float]]]) -> List[Tuple[float, bool]]:
    """(cosine of the pair's embeddings, same?) for every pair; one embedding call."""
    texts = [t for p in pairs for t in (p.first, p.second)]
    vectors = embed(texts)
    return [(cosine(vectors[2 * i], vectors[2 * i + 1]), p.same) for i, p in enumerate(pairs)]


@dataclass
class Quality:
    threshold: float
    accuracy: float
    precision: float
    recall: float

    def line(self) -> str:
        return "threshold %.2f: accuracy %.2f, precision %.2f, recall %.2f" % (
            self.threshold, self.accuracy, self.precision, self.recall)


def quality_at(scored: Sequence[Tuple[float, bool]], threshold: float) -> Quality:
    tp = sum(1 for s, same in scored if same and s >= threshold)
    fp = sum(1 for s, same in scored if not same and s >= threshold)
    fn = sum(1 for s, same in scored if same and s < threshold)
    tn = len(scored) - tp - fp - fn
    return Quality(threshold, (tp + tn) / max(1, len(scored)), tp / max(1, tp + fp), tp / max(1, tp + fn))


def best_threshold(scored: Sequence[Tuple[float, bool]]) -> Quality:
    """The threshold with the best accuracy (pairs are half same, half not), rounded to 0.01;
    of equal ones the highest: a card wrongly called similar starts unchecked, which costs the
    user more than a rephrased duplicate let through."""
    values = sorted({round(s, 2) for s, _ in scored} | {0.0, 1.0})
    best = quality_at(scored, values[0])
    for t in values:
        q = quality_at(scored, t)
        if q.accuracy >= best.accuracy:
            best = q
    return best


def by_language(scored: Sequence[Tuple[float, bool]], pairs: Sequence[Pair],
                threshold: float) -> Dict[str, Quality]:
    out = {}
    for lang in sorted({p.lang for p in pairs}):
        part = [s for s, p in zip(scored, pairs) if p.lang == lang]
        out[lang] = quality_at(part, threshold)
    return out


# --- a large synthetic collection of card questions (search speed and recall) -------------------

ASPECTS = [
    ("What is the capital of {e}?", "Which city is the capital of {e}?"),
    ("How many people live in {e}?", "What is the population of {e}?"),
    ("Who founded {e}?", "Which person established {e}?"),
    ("In which year was {e} founded?", "When was {e} established?"),
    ("What is the function of the {e} gene?", "What does the {e} gene do?"),
    ("What is the chemical symbol of {e}?", "Which symbol stands for the element {e}?"),
    ("Who painted the {e} portrait?", "Which artist created the portrait called {e}?"),
    ("What does the enzyme {e} break down?", "Which substance is digested by the enzyme {e}?"),
    ("Which river flows through {e}?", "What is the name of the river in {e}?"),
    ("What language is spoken in {e}?", "Which language do the people of {e} speak?"),
]
_SYLLABLES = ("ka ve lo mir dan tes ul gor phi na bri sel om tav ren qui dro lem as fen bar tis "
              "cor wen hal pa zu ri mon sto lak vin pe").split()


def entity(i: int) -> str:
    """A made-up name, different for every i."""
    parts = []
    n = i + 1
    while n:
        n, r = divmod(n, len(_SYLLABLES))
        parts.append(_SYLLABLES[r])
    return "".join(parts).capitalize()


def question_corpus(n: int) -> List[str]:
    """``n`` distinct card questions: each made-up thing asked about in every aspect."""
    return [ASPECTS[i % len(ASPECTS)][0].format(e=entity(i // len(ASPECTS))) for i in range(n)]


def corpus_queries(n_notes: int, count: int, seed: int = 3) -> List[Tuple[str, int]]:
    """(question, index of the note it rephrases or -1) : half rephrase notes of the corpus,
    half ask about things the corpus does not have."""
    import random

    rng = random.Random(seed)
    things = max(1, n_notes // len(ASPECTS))
    out = []
    for k in range(count):
        aspect = rng.randrange(len(ASPECTS))
        if k % 2 == 0:
            i = rng.randrange(things) * len(ASPECTS) + aspect
            if i < n_notes:
                out.append((ASPECTS[aspect][1].format(e=entity(i // len(ASPECTS))), i))
                continue
        out.append((ASPECTS[aspect][1].format(e=entity(things + 1000 + k)), -1))
    return out
