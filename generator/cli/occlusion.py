"""Image occlusion notes on the command line: ``--kind occlusion`` makes only those (one note per
labelled figure of the PDFs given); with another kind, ``--figures`` given on the command line
(auto or slides) adds them beside the cards. ``--json`` prints them with the cards (``"kind":
"occlusion"``), ``--dry-run`` adds nothing."""
import argparse
import sys
import threading
from typing import Any, List, Optional, Sequence

from ..errors import FlashcardError, describe
from ..outside import shown
from .run import json_text, write_stdout

OK, PARTIAL, WRITE_FAILED = "ok", "partial", "write failed"  # how a run ended, for the exit code


def err(text: str) -> None:
    print(shown(text, 4000, keep_newlines=True), file=sys.stderr, flush=True)


def wanted_beside(args: argparse.Namespace) -> bool:
    """Occlusion notes beside the cards: ``--figures auto`` or ``--figures slides`` on the
    command line (the setting alone does not add notes a script did not ask for)."""
    return getattr(args, "figures", None) in ("auto", "slides")


def make_notes(documents: Sequence[Any], graphics: Any, backend: Any, options: Any,
               cancel: threading.Event, quiet: bool, raster: bool = True) -> Any:
    """The documents' notes; ``raster``: also of figures that are only pixels (a model that can
    see places their masks)."""
    from ..occlusion.make import OcclusionRun

    make = graphics() if callable(graphics) else graphics
    result = OcclusionRun(make, backend, options, cancel, raster=raster).documents(documents)
    for message in result.messages:
        err(shown(message, 1000))
    if not quiet:
        err(f"{result.figures} labelled figure(s) on {result.pages} page(s), "
            f"{len(result.notes)} image occlusion note(s) with "
            f"{sum(n.cards for n in result.notes)} card(s).")
    return result


def add_notes(args: argparse.Namespace, col: Any, notes: Sequence[Any], deck: str,
              tags: Sequence[str]) -> int:
    """Add the notes; returns how many were added (raises on a failed write)."""
    if col is None or args.dry_run or not notes:
        return 0
    from ..occlusion.cards import as_card, mark_known
    from ..occlusion.notes import add_occlusion_notes

    if not args.keep_duplicates:
        cards = [as_card(n) for n in notes]
        mark_known(col, cards)
        for card in cards:
            if card.duplicate:
                err(f"skipped: the figure of {shown(card.source.label(), 200)} is already an image "
                    f"occlusion note{' in the collection' if card.duplicate == 'collection' else ' of this run'}.")
        notes = [c.occlusion for c in cards if not c.duplicate]
    for note in notes:
        note.checked = True  # no review here: a note whose masks need checking is added with its tag
    added = add_occlusion_notes(col, notes, deck, tags)
    for item, why in added.skipped:
        err(f"skipped: an image occlusion note of {shown(item.source.label(), 200)}: {shown(why)}")
    return len(added.note_ids)


def run(args: argparse.Namespace, target: Any, col: Any, documents: Sequence[Any], backend: Any,
        options: Any, graphics: Any, cancel: threading.Event) -> str:
    """``--kind occlusion``: the notes of the documents' labelled figures, added or printed.
    Returns ``OK``, ``PARTIAL`` (a figure or a source gave no note, or nothing was found) or
    ``WRITE_FAILED`` (nothing added: the notes are printed as JSON)."""
    from ..writefail import write_failure

    result = make_notes(documents, graphics, backend, options, cancel, args.quiet)
    try:
        added = add_notes(args, col, result.notes, target.deck, target.tags)
    except FlashcardError as e:
        if write_failure(e) is None:
            raise
        write_stdout(json_text([n.to_json() for n in result.notes]))
        err(shown(describe(e), 2000, keep_newlines=True))
        err(f"The {len(result.notes)} image occlusion note(s) are printed on stdout as JSON.")
        return WRITE_FAILED
    if args.json:
        write_stdout(json_text([n.to_json() for n in result.notes]))
    if not args.quiet and not args.dry_run:
        err(f"{added} note(s) added.")
    return PARTIAL if result.messages or result.cancelled or not result.notes else OK


def beside(args: argparse.Namespace, target: Any, col: Any, documents: Sequence[Any], backend: Any,
           options: Any, graphics: Any, cancel: threading.Event) -> Optional[List[Any]]:
    """With another kind: the occlusion notes too, added beside the cards (None when not asked)."""
    if not wanted_beside(args) or cancel.is_set():
        return None
    # beside cards, as in the dialogs: only the figures whose labels are text
    result = make_notes(documents, graphics, backend, options, cancel, args.quiet, raster=False)
    added = add_notes(args, col, result.notes, target.deck, target.tags)
    if result.notes and not args.quiet and not args.dry_run:
        err(f"{added} image occlusion note(s) added.")
    return list(result.notes)
