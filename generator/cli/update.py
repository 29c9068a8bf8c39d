"""``--update``: cards made from these files before follow the files' changes. Per file: the
plan (what changed, on stderr), the changed parts sent, the new cards matched with the old
notes, applied in one undo step (or, with ``--dry-run``, only printed); ``--json`` prints one
entry per note (``generator.update.apply.Entry.to_json``). The last line adds up: unchanged,
updated, added, source removed, kept your edits."""
import argparse
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List

from ..config import ADDON_DIR, Settings
from ..errors import FlashcardError, describe
from ..outside import shown

DEFAULT_JOURNAL_DIR = os.path.join(ADDON_DIR, "user_files", "updates")
EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--update", action="store_true",
                   help="update the cards made from these files before: unchanged parts are not "
                        "sent; a changed fact updates its note in place (review history kept), a "
                        "new one is added, a note whose text is gone is tagged "
                        "ollama-flashcards::source-removed, a note you edited is never overwritten "
                        "(tagged ollama-flashcards::source-changed); with --dry-run --json: the plan")
    p.add_argument("--suspend-removed", action="store_true",
                   help="with --update: also suspend the cards of notes whose text is gone")
    p.add_argument("--journal-dir", default=None, metavar="DIR",
                   help="with --update: where the answers are kept until applied, so an update "
                        "that stopped asks nothing twice (default: the add-on's user_files/updates)")


def err(text: str) -> None:
    print(shown(text, 4000, keep_newlines=True), file=sys.stderr, flush=True)


def said(e: BaseException) -> str:
    """An error as the CLI says it (as ``main.said``)."""
    return shown(describe(e), 2000, keep_newlines=True)


def usage_problem(args: argparse.Namespace) -> str:
    """Why these options cannot update ("" when they can)."""
    if not args.collection:
        return "--update needs --collection: what the cards came from is recorded in the collection."
    if "-" in args.sources:
        return "--update reads files; standard input (-) has no file to compare with next time."
    if args.topics or args.topics_only:
        return "--update asks for the changed parts as a normal run does; it takes no --topics."
    return ""


def add_counts(total: Dict[str, int], counts: Dict[str, int]) -> None:
    for key, value in counts.items():
        total[key] = total.get(key, 0) + value


@dataclass
class _Update:
    """What every document's update shares."""

    args: argparse.Namespace
    col: Any
    backend: Any
    options: Any
    target: Any
    folder: str
    embed: Any
    cancel: threading.Event = field(default_factory=threading.Event)
    entries: List[Dict[str, Any]] = field(default_factory=list)
    total: Dict[str, int] = field(default_factory=dict)
    partial: bool = False
    stopped: bool = False  # the server is gone or Ctrl-C: the next documents are not tried


def _not_applied(u: _Update, name: str, generated: Any) -> None:
    """A document whose changed parts did not all get an answer is left as it is: the notes of
    a part without an answer would be taken for removed."""
    u.partial = True
    result = generated.result
    for failure in result.failures:
        where = failure.chunk.heading_label() or f"part {failure.chunk.index + 1}"
        err(f"failed: {shown(name, 120)} · {shown(where, 120)}: "
            f"{shown(failure.message, 1000, keep_newlines=True)}")
    err(f"{shown(name, 120)} was not updated: not every changed part has its answer. "
        "Run the same --update again: the answers so far are kept and not asked again.")
    generated.close()
    u.stopped = result.fatal is not None or result.cancelled


def _one(u: _Update, path: str, doc: Any) -> None:
    from ..update.apply import apply_update, planned_counts, propose
    from ..update.match import plain
    from ..update.plan import plan_update
    from ..update.run import generate
    from . import live as cli_live
    from .run import Interrupts

    args = u.args
    plan = plan_update(u.col, path, doc)
    counts = plan.counts()
    known = "recorded" if plan.record is not None else "not recorded before: every part is new"
    if not args.quiet:
        removed = f", {counts['removed']} removed" if counts["removed"] else ""
        err(f"{shown(doc.name, 120)} ({known}): {counts['unchanged']} part(s) unchanged, "
            f"{counts['changed'] + counts['new']} changed or new{removed}; {len(plan.sent_units())} to send")
    with Interrupts(u.cancel, err):
        generated = generate(plan, u.backend, u.options, u.folder,
                             cli_live.LivePrinter(args.jsonl, args.quiet, 0, None), u.cancel)
    if generated.reused and not args.quiet:
        err(f"{generated.reused} answer(s) kept from an update that did not finish")
    if not generated.complete:
        _not_applied(u, doc.name, generated)
        return
    proposal = propose(u.col, plan, generated.cards, generated.chunks, u.target, u.embed)
    u.entries.extend(entry.to_json(doc.name) for entry in proposal.entries)
    for entry in proposal.entries:
        if entry.action == "kept-edit" and not args.quiet:
            err(f"kept your edit of note {entry.note_id}; the source now says: "
                f"{shown(' / '.join(plain(v) for v in entry.new.values() if plain(v)), 300)}")
    if args.dry_run:
        add_counts(u.total, planned_counts(proposal))
        generated.close()  # the answers stay for the real run
        return
    outcome = apply_update(u.col, proposal, suspend_removed=args.suspend_removed,
                           skip_duplicates=not args.keep_duplicates)
    generated.finish()
    for card, why in outcome.skipped:
        err(f"not added: {shown(card.key_text(), 80)!r}: {shown(why)}")
    add_counts(u.total, outcome.counts)


def run(args: argparse.Namespace, cfg: Settings, options: Any, target_of: Any) -> int:
    """The whole ``--update`` (after the options were checked); ``target_of(options)`` makes the
    note target as a normal run does."""
    from ..backends import make_backend
    from ..job.run import prepare_job
    from ..notes.add import open_collection
    from ..update.apply import summary
    from ..update.match import embedder
    from ..update.run import journal_folder, read_document
    from .run import json_text, write_stdout
    from .similar import embed_model

    try:
        documents = [(os.path.abspath(path), read_document(path, cfg)) for path in args.sources]
    except FlashcardError as e:
        err(said(e))
        return EXIT_USAGE
    col = None
    backend = make_backend(cfg)
    try:
        col = open_collection(args.collection)
        options = prepare_job(backend, options)
        u = _Update(args, col, backend, options, target_of(options),
                    journal_folder(args.journal_dir or DEFAULT_JOURNAL_DIR, args.collection),
                    embedder(backend, embed_model(args, cfg),
                             lambda why: err("Matching by meaning is off: " + why.replace("\n", " "))))
        for path, doc in documents:
            if not u.stopped:
                _one(u, path, doc)
        if args.json:
            write_stdout(json_text(u.entries))
        if not args.quiet:
            err(f"update of {len(documents)} document(s)"
                f"{' (dry run, nothing changed)' if args.dry_run else ''}: {summary(u.total)}.")
        return EXIT_PARTIAL if u.partial else EXIT_OK
    except FlashcardError as e:
        err(said(e))
        return e.exit_code
    finally:
        backend.close()
        if col is not None:
            try:
                col.close()
            except Exception as e:
                err("The collection was not closed cleanly: %s" % shown(e))


def record_sources(col: Any, sources: Any, added: Any, chunks: Any, target: Any) -> None:
    """After a normal run added notes: record what they came from, so that ``--update`` can
    follow the files. A failure here costs no note: the notes are in, and are said to be."""
    from ..update.track import track_added

    for path, doc in sources:
        try:
            track_added(col, path, doc, added, chunks, target)
        except Exception as e:  # (a full disk, ...): the notes stay, not followed
            err(f"The notes from {shown(doc.name, 120)} were added, but what they came from could "
                f"not be recorded ({shown(describe(e) if isinstance(e, FlashcardError) else str(e), 300)}); "
                "--update will take the file as new.")
