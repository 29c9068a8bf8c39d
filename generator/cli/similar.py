"""Duplicates by meaning in the command line: flags, the cache update before the job (with
progress on stderr), the marks after it. A server that cannot embed costs no card: the cards
are made and added unmarked, and stderr says why they were not compared."""
import argparse
import os
import sys
from typing import Any, List, Optional

from ..cards.card import Card
from ..config import ADDON_DIR, Settings
from ..errors import FlashcardError, describe
from ..similar.search import SimilarCheck, SimilarNotes

DEFAULT_CACHE_DIR = os.path.join(ADDON_DIR, "user_files", "embeddings")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--embed-model", default=None, metavar="NAME",
                   help="embedding model for duplicates by meaning against the collection's notes "
                        "(e.g. all-minilm); \"\" = off")
    p.add_argument("--similarity", type=threshold_arg, default=None, metavar="T",
                   help="how close in meaning counts as similar, 0-1")
    p.add_argument("--keep-similar", action="store_true", help="add cards similar to a note too")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="where the notes' embeddings are kept (default: the add-on's "
                        "user_files/embeddings)")


def threshold_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--similarity takes a number from 0 to 1, not {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"--similarity takes a number from 0 to 1, not {text!r}")
    return value


def embed_model(args: argparse.Namespace, cfg: Settings) -> str:
    return (args.embed_model if args.embed_model is not None else cfg.embed_model).strip()


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def start(col: Any, collection_path: str, backend: Any, args: argparse.Namespace,
          cfg: Settings) -> Optional[SimilarNotes]:
    """The notes by meaning, their cache brought up to date; None when off or impossible."""
    model = embed_model(args, cfg)
    if not model or col is None:
        return None
    from ..similar.question import collection_questions

    threshold = args.similarity if args.similarity is not None else cfg.similarity_threshold
    similar = SimilarNotes.for_collection(backend, model, args.cache_dir or DEFAULT_CACHE_DIR,
                                          collection_path, threshold)
    questions = collection_questions(col)
    shown = [-1]

    def progress(done: int, total: int) -> None:
        if args.quiet or not total:
            return
        step = max(1, total // 10)
        if done == total or done // step != shown[0] // step:
            shown[0] = done
            err(f"embedding notes for similar cards: {done}/{total}")

    try:
        stats = similar.update(questions, on_progress=progress)
    except FlashcardError as e:
        err("Similar cards are not checked: " + describe(e).replace("\n", " "))
        return None
    if not args.quiet and stats.embedded:
        err(f"{stats.notes} note(s) by meaning ({stats.embedded} embedded in {stats.seconds:.1f} s)")
    return similar


def mark(similar: Optional[SimilarNotes], cards: List[Card], quiet: bool) -> None:
    check = SimilarCheck(similar)
    n = check.mark(cards)
    if check.error:
        err("Similar cards are not checked: " + check.error.replace("\n", " "))
    elif n and not quiet:
        err(f"{n} card(s) similar in meaning to a note")
