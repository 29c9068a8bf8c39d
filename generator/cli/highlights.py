"""The CLI's options for what the reader highlighted (``generator.highlights``): ``--highlights
only|first|ignore`` and ``--highlight-colors``. Sources are read with their highlights (a PDF's
annotations; a Kindle ``My Clippings.txt``, a Readwise or Zotero export by its content); with a
collection, highlights cards were made of before are not asked again (``highlights.grow``)."""
import argparse
from typing import Any, List, Optional, Sequence, Tuple

from ..highlights.focus import HighlightChoice, HighlightMode, HighlightPlan, plan_highlights
from ..highlights.highlight import COLOURS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--highlights", choices=[m.value for m in HighlightMode], default="only",
                   help="for sources with highlights (PDF annotations, Kindle clippings, Readwise and "
                        "Zotero exports): only the highlights, each asked about with its paragraph; "
                        "first the highlights, then the rest; or ignore them")
    p.add_argument("--highlight-colors", nargs="+", default=None, metavar="COLOR",
                   help="only highlights of these colors (%s); a highlight without a color is "
                        "always kept" % ", ".join(COLOURS))
    p.add_argument("--book-subdecks", action="store_true",
                   help="cards from the highlights of books (Kindle clippings, Readwise and Zotero "
                        "exports): one subdeck per book (DECK::Book title)")


def choice_of(args: argparse.Namespace) -> HighlightChoice:
    colours: Tuple[str, ...] = ()
    for value in args.highlight_colors or ():
        colours += tuple(c.strip().lower() for c in value.split(",") if c.strip())
    return HighlightChoice(HighlightMode.parse(args.highlights), colours)


def colour_problem(args: argparse.Namespace) -> str:
    """Why --highlight-colors cannot be used ("" when it can)."""
    from ..highlights.highlight import colour_of_word

    unknown = [c for c in choice_of(args).colours if not colour_of_word(c)]
    if unknown:
        return "--highlight-colors: unknown color(s) %s; the colors are %s." % (
            ", ".join(repr(c) for c in unknown), ", ".join(COLOURS))
    return ""


def read_one(src: str, figures: Any, data: Optional[bytes] = None) -> Any:
    """A source read with its highlights (``data``: the bytes of standard input)."""
    from ..highlights.read import read_bytes_with_highlights, read_with_highlights

    if data is not None:
        return read_bytes_with_highlights(data, src, figures)
    return read_with_highlights(src, figures)


def plan(documents: Sequence[Any], args: argparse.Namespace, budget: int, col: Any = None,
         sources: Sequence[Tuple[str, Any]] = ()) -> HighlightPlan:
    """The plan of the highlights; with a collection (``col``) and the files read (``sources``),
    those cards were made of before are left out."""
    done = {}
    if col is not None and sources:
        from ..update.highlights import carded_before

        done = carded_before(col, sources)
    return plan_highlights(documents, choice_of(args), budget, done)


def summary(found: HighlightPlan, documents: Sequence[Any], args: argparse.Namespace) -> List[str]:
    """What the plan does with the highlights, for stderr ("" lines left out)."""
    total = sum(len(d.highlights) for d in documents if d.highlights is not None)
    if not total:
        return []
    choice = choice_of(args)
    if choice.mode is HighlightMode.IGNORE:
        return [f"{total} highlight(s) ignored (--highlights ignore): the whole text is used."]
    lines = [f"{found.highlights} of {total} highlight(s) asked about"
             + (" first, then the rest" if choice.mode is HighlightMode.FIRST else "")
             + (f" ({', '.join(choice.colours)})" if choice.colours else "")
             + (f"; {found.before} had cards from before" if found.before else "") + "."]
    if found.lost:
        lines.append(f"{found.lost} highlight(s) were not found in the text and are asked about alone.")
    return lines


def remember(col: Any, sources: Sequence[Tuple[str, Any]], added: Sequence[Tuple[Any, int]],
             chunks: Sequence[Any]) -> None:
    """After the notes were added and their files recorded: the highlights they were made of."""
    from ..update.highlights import remember as keep

    keep(col, [(p, d) for p, d in sources if d.highlights is not None], added, chunks)
