"""``python flashcards.py improve``: improve the notes a learner struggles with, in place.

    python flashcards.py improve --collection C.anki2 --list            # the struggling cards
    python flashcards.py improve --collection C.anki2 --search "tag:leech" --dry-run --json
    python flashcards.py improve --collection C.anki2                   # the struggling cards' notes

Each note is diagnosed from its review history, the card checks, its source and similar notes,
then the model proposes keep / rewrite / split. Without ``--dry-run`` the proposals that pass
the checks are applied in one undo step (a rewrite keeps the note id, its cards and their review
history); a proposal with a problem (still flagged, a duplicate, words not in the note or its
source) is held back and said. Exit codes: 0 all well, 1 some notes could not be improved (an
unusable answer, a note edited meanwhile) or were held back, 2 bad usage, 3 server unreachable
or model missing, 4 the collection could not be written (nothing was changed)."""
import argparse
import threading
from typing import Any, Dict, List, Optional, Sequence

from ..config import BackendKind
from ..errors import FlashcardError, describe
from ..outside import shown
from .run import Interrupts, err, json_text, write_stdout
from .settings_file import server_config

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_SERVER, EXIT_WRITE, EXIT_ABORTED = 0, 1, 2, 3, 4, 130
EXIT_CODES = (
    (EXIT_OK, "all well (also: no notes matched)"),
    (EXIT_PARTIAL, "some notes were not improved (an unusable answer, a note edited meanwhile), were "
                   "held back (still flagged, a duplicate, words not in the note or its source) or "
                   "were not asked (cancelled); the rest were changed"),
    (EXIT_USAGE, "bad usage (an invalid search, a file that is not a collection)"),
    (EXIT_SERVER, "server unreachable or model missing (nothing was changed)"),
    (EXIT_WRITE, "the collection could not be written (nothing was changed)"),
    (EXIT_ABORTED, "aborted by a second Ctrl-C (nothing was changed)"),
)
DEFAULT_NOTES = 20


def parser() -> argparse.ArgumentParser:
    from . import similar as cli_similar

    p = argparse.ArgumentParser(
        prog="python flashcards.py improve",
        description="Improve the notes you keep forgetting: diagnose each from its review history, "
                    "ask the model to keep, rewrite or split it, and change it in place.")
    p.add_argument("--collection", required=True, metavar="PATH.anki2",
                   help="the collection file (Anki must not have it open)")
    p.add_argument("--search", default=None, metavar="QUERY",
                   help="any Anki search for the notes to improve (e.g. \"tag:leech\", "
                        "\"prop:lapses>=4\", \"deck:Biology\"); default: the struggling cards")
    p.add_argument("--list", action="store_true",
                   help="only list the struggling cards with their figures (no model)")
    p.add_argument("--limit", type=int, default=DEFAULT_NOTES, metavar="N",
                   help="at most this many notes (default %d; --list: cards)" % DEFAULT_NOTES)
    p.add_argument("--dry-run", action="store_true", help="propose, but change nothing")
    p.add_argument("--json", action="store_true", help="print the result per note as JSON on stdout")
    p.add_argument("--reset-scheduling", action="store_true",
                   help="rewritten notes' cards start again as new cards (their history is kept)")
    p.add_argument("--suspend-original", action="store_true",
                   help="suspend the original of a note that is split")
    p.add_argument("--model", default=None, help="the model on the server that proposes the changes")
    p.add_argument("--config", default=None, metavar="FILE",
                   help="the add-on's settings (config.json keys, or Anki's meta.json of the add-on)")
    p.add_argument("--url", default=None, help="the model server's URL")
    p.add_argument("--backend", choices=[b.value for b in BackendKind], default=None,
                   help="the server's protocol: ollama, or openai for an OpenAI-compatible server")
    p.add_argument("--api-key", default=None, help="for OpenAI-compatible servers that need one")
    p.add_argument("--language", default=None, help="the language of the cards (default: the note's)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--embed-model", default=None, metavar="NAME",
                   help="embedding model for similar notes by meaning (e.g. all-minilm); \"\" = by "
                        "shared words only")
    p.add_argument("--similarity", type=cli_similar.threshold_arg, default=None, metavar="T",
                   help="how close in meaning counts as similar, 0-1")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="where the notes' embeddings are kept (default: the add-on's user_files/embeddings)")
    return p


class _Interrupts(Interrupts):
    def _handle(self, signum: int, frame: Any) -> None:
        if self.cancel.is_set():
            raise KeyboardInterrupt
        self.cancel.set()
        self.say("Stopping: the notes answered so far are kept (Ctrl-C again to abort).")


def list_json(items: Sequence[Any]) -> List[Dict[str, Any]]:
    out = []
    for s in items:
        h = s.history
        out.append({
            "card_id": s.card_id, "note_id": s.note_id, "deck": s.deck, "question": s.question,
            "why": s.why, "score": s.score, "lapses": h.lapses, "answers": h.answers, "again": h.again,
            "again_rate": round(h.again_rate, 3), "mean_seconds": round(h.mean_seconds, 1),
            "leech_threshold": h.leech_threshold, "leech_tagged": s.leech_tagged, "suspended": h.suspended,
            "difficulty": None if h.difficulty is None else round(h.difficulty, 3),
            "retrievability": None if h.retrievability is None else round(h.retrievability, 3),
            "improved": s.improved,
        })
    return out


def print_list(found: Any, as_json: bool) -> None:
    if as_json:
        write_stdout(json_text({"total": found.total, "fsrs": found.fsrs, "cards": list_json(found.cards)}))
        return
    for s in found.cards:
        h = s.history
        fsrs = ""
        if h.difficulty is not None:
            fsrs = " · D %d%%" % round(100 * h.difficulty)
            if h.retrievability is not None:
                fsrs += " R %d%%" % round(100 * h.retrievability)
        write_stdout("%d\t%d lapses · %d answers · Again %d%% · %.0f s%s\t%s\t%s" % (
            s.note_id, h.lapses, h.answers, round(100 * h.again_rate), h.mean_seconds, fsrs,
            shown(s.deck, 60), shown(s.question, 100)))
    err("%d struggling card(s)%s in %.2f s." % (
        found.total, "" if found.total <= len(found.cards) else ", the worst %d shown" % len(found.cards),
        found.seconds))


def proposal_json(p: Any, applied: Any) -> Dict[str, Any]:
    from ..cards.fields import clean_json

    d = p.diagnosis
    nc = d.note
    mapping = nc.shape.mapping
    old = {mapping[f]: nc.value(f) for f in nc.shape.main_fields if mapping.get(f)}
    item: Dict[str, Any] = {
        "note_id": p.note_id, "diagnosis": d.texts(), "action": p.action, "reason": p.reason,
        "old": old, "new": {}, "split": [], "added": [], "problems": p.problems, "notes": p.notes,
        "applied": False,
    }
    if p.changed:
        new = dict(old)
        for f, value in p.changed.items():
            if mapping.get(f):
                new[mapping[f]] = value
        item["new"] = new
    if p.split:
        item["split"] = [{mapping[f]: getattr(c, f) for f in nc.shape.main_fields if mapping.get(f)}
                         for c in p.split]
    if applied is not None:
        item["added"] = applied.added.get(p.note_id, [])
        item["applied"] = p.note_id in applied.rewritten or bool(item["added"])
    return clean_json(item)


def run(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    if args.limit < 1:
        err("--limit takes a number of at least 1.")
        return EXIT_USAGE
    try:
        cfg = server_config(args)
        from ..notes.add import open_collection

        col = open_collection(args.collection)
    except FlashcardError as e:
        err(describe(e))
        return e.exit_code
    try:
        return _run(args, cfg, col)
    except FlashcardError as e:
        err(describe(e))
        return e.exit_code
    finally:
        try:
            col.close()
        except Exception as e:  # a full disk may fail the close too; the file stays intact
            err("The collection was not closed cleanly: %s" % shown(e))


def _notes(args: argparse.Namespace, col: Any) -> Optional[List[int]]:
    from ..improve.history import struggling_cards

    if args.search is None:
        found = struggling_cards(col, limit=max(args.limit * 3, args.limit))
        nids = list(dict.fromkeys(s.note_id for s in found.cards))[:args.limit]
        if not args.quiet:
            err("%d struggling card(s); improving the notes of the worst %d." % (found.total, len(nids)))
        return nids
    try:
        nids = list(col.find_notes(args.search))
    except Exception as e:
        err("The search %r is not a valid Anki search: %s" % (args.search, shown(e, 300)))
        return None
    if len(nids) > args.limit:
        if not args.quiet:
            err("%d notes match; the first %d are improved (--limit)." % (len(nids), args.limit))
        nids = nids[:args.limit]
    return nids


def _run(args: argparse.Namespace, cfg: Any, col: Any) -> int:
    from ..backends import make_backend
    from ..improve.apply import ApplyOptions, apply_proposals
    from ..improve.diagnose import MAX_NOTES, diagnose_notes
    from ..improve.history import struggling_cards
    from ..improve.request import (FAILED, AnswerChecks, DuplicateKeys, ImproveStats, base_for, improve,
                                   mark_similar)
    from . import similar as cli_similar

    if args.list:
        print_list(struggling_cards(col, limit=args.limit), args.json)
        return EXIT_OK
    nids = _notes(args, col)
    if nids is None:
        return EXIT_USAGE
    if len(nids) > MAX_NOTES:
        err("At most %d notes at a time: the first %d are improved." % (MAX_NOTES, MAX_NOTES))
        nids = nids[:MAX_NOTES]
    if not nids:
        err("No notes to improve.")
        if args.json:
            write_stdout(json_text([]))
        return EXIT_OK
    backend = make_backend(cfg)
    try:
        base, parallel = base_for(backend, cfg, args.model)  # fails early: server down, model missing
        similar = cli_similar.start(col, args.collection, backend, args, cfg)
        diagnoses = diagnose_notes(col, nids, cfg, similar)
        keys = DuplicateKeys(col, diagnoses)
        stats = ImproveStats()
        cancel = threading.Event()
        done = [0]

        def progress(got: List[Any]) -> None:
            done[0] += len(got)
            if not args.quiet:
                err("%d/%d note(s) answered" % (done[0], len(diagnoses)))

        with _Interrupts(cancel, err):
            language = args.language if args.language is not None else cfg.language
            proposals = improve(diagnoses, backend, base, AnswerChecks(language, keys), parallel, cancel,
                                progress, stats)
        problem = mark_similar(proposals, similar)
        if problem:
            err(problem)
    finally:
        backend.close()
    for p in proposals:
        if not args.quiet:
            say(p)
    applied = None
    wanted = [p for p in proposals if p.checked]
    if not args.dry_run and wanted:
        try:
            applied = apply_proposals(col, wanted, ApplyOptions(args.reset_scheduling, args.suspend_original))
        except FlashcardError as e:
            err(describe(e))
            if args.json:
                write_stdout(json_text([proposal_json(p, None) for p in proposals]))
            return EXIT_WRITE if e.exit_code == EXIT_WRITE else e.exit_code
        for nid, why in applied.skipped:
            err("note %d skipped: %s" % (nid, why))
    if args.json:
        write_stdout(json_text([proposal_json(p, applied) for p in proposals]))
    held = [p for p in proposals if p.changes_something and not p.checked]
    failed = [p for p in proposals if p.action == FAILED]
    if not args.quiet:
        what = applied.summary() if applied is not None else (
            "dry run: %d change(s) proposed" % len(wanted) if args.dry_run else "nothing changed")
        err("%d note(s): %s%s%s; %d request(s), %d answer tokens." % (
            len(proposals), what, ", %d held back" % len(held) if held else "",
            ", %d not improved" % len(failed) if failed else "", stats.requests, stats.tokens))
    partial = failed or held or (applied is not None and applied.skipped) or cancel.is_set()
    return EXIT_PARTIAL if partial else EXIT_OK


def say(p: Any) -> None:
    from ..improve.notes import plain_text

    d = p.diagnosis
    err("note %d: %s — %s" % (p.note_id, p.action, shown(p.reason, 300)))
    for reason in d.texts():
        err("    · " + shown(reason, 300))
    for name, value in p.changed.items():
        err("    %s: %s → %s" % (name, shown(plain_text(d.note.value(name)), 120), shown(plain_text(value), 120)))
    for card in p.split:
        err("    + " + " / ".join(shown(plain_text(getattr(card, f)), 100) for f in d.note.shape.main_fields
                                  if getattr(card, f)))
    for problem in p.problems:
        err("    held back: " + shown(problem, 300))
    for note in p.notes:
        err("    note: " + shown(note, 300))
