"""The headless command line: the same engine as the add-on, on a collection file.

Exit codes: ``EXIT_CODES`` (printed by ``--help``; docs/cli.md is generated from this parser)."""
import argparse
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

from . import highlights as cli_highlights, live as cli_live, occlusion as cli_occlusion, similar as cli_similar, update as cli_update
from ..backends import make_backend
from ..cards.fields import card_label
from .options import ranged
from .run import Interrupts, err, json_text, write_stdout
from ..config import BackendKind, CardKind, Depth, FigureMode, SelfReview, Settings
from .settings_file import server_config
from ..errors import FlashcardError, describe
from ..figures.plan import MakeGraphics, plan_with_figures, wanted_graphics
from ..highlights.focus import asks_with_focus
from ..job.run import JobOptions, JobResult, WarningKind, chunk_budget, prepare_job, run_job
from ..notes.accounting import CardAccount, Reason
from ..outside import shown
from ..writefail import write_failure

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_SERVER, EXIT_WRITE, EXIT_ABORTED = 0, 1, 2, 3, 4, 130

EXIT_CODES = (
    (EXIT_OK, "all well"),
    (EXIT_PARTIAL, "some chunks failed, were cut short or were cancelled (the rest were added)"),
    (EXIT_USAGE, "bad usage or input (a number out of range names the option and its range)"),
    (EXIT_SERVER, "server unreachable or model missing"),
    (EXIT_WRITE, "the collection could not be written (disk full: nothing was added, the cards "
                 "are printed on stdout as JSON, or said to be lost when stdout fails too)"),
    (EXIT_ABORTED, "aborted by a second Ctrl-C"),
)

# Options that stand for a setting: without the option, the setting's value is used (config.json's
# default, or the file of --config). --help and docs/cli.md show that default from Settings.
SETTING_OF = {
    "deck": "deck", "kind": "card_kind", "note_type": "note_type", "model": "model", "url": "url",
    "backend": "backend", "api_key": "api_key", "tags": "tags", "language": "language",
    "max_cards": "max_cards", "depth": "depth", "self_review": "self_review",
    "parallel": "parallel_requests", "num_ctx": "num_ctx", "num_predict": "num_predict",
    "seed": "seed", "temperature": "temperature", "timeout": "read_timeout", "figures": "figures",
    "deadline": "request_deadline", "embed_model": "embed_model",
    "similarity": "similarity_threshold",
}


def setting_default(key: str) -> str:
    """A setting's default as --help shows it."""
    value = Settings().to_dict()[key]
    if isinstance(value, list):
        return " ".join(value) if value else '""'
    if value == "":
        return '""'
    return str(value)


def _with_defaults(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    for action in p._actions:
        key = SETTING_OF.get(action.dest)
        if key is not None and action.help:
            action.help = "%s (default: %s, the setting %s)" % (action.help, setting_default(key), key)
    return p


def epilog() -> str:
    import textwrap

    codes = "\n".join(textwrap.fill(text, 78, initial_indent="  %3d  " % code, subsequent_indent=" " * 7)
                      for code, text in EXIT_CODES)
    models = textwrap.fill("Without --model, the model is the setting model (default %s). `python "
                           "flashcards.py models [--url URL] [--backend ollama|openai]` lists the server's "
                           "models; `python flashcards.py improve --help` improves the notes you keep "
                           "forgetting, in place." % setting_default("model"), 78)
    return "%s\n\nexit codes:\n%s" % (models, codes)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python flashcards.py",
        description="Generate Anki flashcards from documents with a local model server.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("sources", nargs="+", metavar="FILE_OR_-",
                   help="documents to read (.txt .md .html .pdf .docx .epub, images .png .jpg .jpeg "
                        ".webp .gif); - reads stdin")
    p.add_argument("--collection", metavar="PATH.anki2", help="the collection to add notes to")
    p.add_argument("--deck", default=None, help="deck for the new notes (created if missing)")
    p.add_argument("--kind", choices=[k.value for k in CardKind], default=None,
                   help="card kind: basic, reversed (basic and reversed), cloze, or occlusion (Anki's "
                        "Image Occlusion notes from the labelled figures of PDFs)")
    p.add_argument("--note-type", default=None, help="one of your own note types instead of the stock one")
    p.add_argument("--field", action="append", default=[], metavar="LOGICAL=FIELD",
                   help="field mapping for --note-type, e.g. front=Question (repeatable)")
    p.add_argument("--model", default=None, help="the model on the server that writes the cards")
    p.add_argument("--config", default=None, metavar="FILE",
                   help="settings to use: the add-on's config.json, or Anki's meta.json of the "
                        "add-on (what you set in Anki); flags override them")
    p.add_argument("--url", default=None, help="the model server's URL; with --backend openai and no "
                   "url set: %s" % BackendKind.OPENAI.default_url)
    p.add_argument("--backend", choices=[b.value for b in BackendKind], default=None,
                   help="the server's protocol: ollama, or openai for an OpenAI-compatible server")
    p.add_argument("--api-key", default=None, help="for OpenAI-compatible servers that need one")
    p.add_argument("--tags", nargs="*", default=None, help="tags for every new note")
    p.add_argument("--language", default=None, help="language to write the cards in (\"\" = the source's)")
    p.add_argument("--max-cards", type=ranged("--max-cards"), default=None, help="at most this many cards in all (0 = by --depth)")
    p.add_argument("--depth", choices=[d.value for d in Depth], default=None,
                   help="how many cards a text gets when --max-cards is 0")
    p.add_argument("--self-review", choices=[m.value for m in SelfReview], default=None,
                   help="the one rewrite pass: the flagged cards, all cards, or off")
    p.add_argument("--parallel", type=ranged("--parallel"), default=None, help="requests sent at once")
    p.add_argument("--num-ctx", type=num_ctx_arg, default=None, metavar="auto|N",
                   help="context per request: auto (the context the server loaded the model "
                        "with) or a number of tokens")
    p.add_argument("--num-predict", type=ranged("--num-predict"), default=None,
                   help="the longest answer in tokens")
    p.add_argument("--seed", type=ranged("--seed"), default=None,
                   help="0 = random; another number makes answers repeatable")
    p.add_argument("--temperature", type=ranged("--temperature"), default=None,
                   help="0 = most literal, higher = more varied")
    p.add_argument("--timeout", type=ranged("--timeout"), default=None, help="seconds to wait for the model's answer")
    p.add_argument("--figures", choices=[m.value for m in FigureMode], default=None,
                   help="figures for models that can see: auto, off, or slides (every PDF "
                        "page by page, as image and text); auto or slides given here also adds "
                        "image occlusion notes for labelled figures beside the cards")
    p.add_argument("--deadline", type=float, default=None,
                   help="the most seconds one model request may take")
    p.add_argument("--keep-duplicates", action="store_true", help="add duplicates too")
    p.add_argument("--dry-run", action="store_true", help="generate, but touch no collection")
    p.add_argument("--json", action="store_true", help="print the cards as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    cli_live.add_arguments(p)
    cli_highlights.add_arguments(p)
    cli_similar.add_arguments(p)
    cli_update.add_arguments(p)
    return _with_defaults(p)


def models_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python flashcards.py models", description="List the server's models.")
    p.add_argument("--config", default=None, metavar="FILE",
                   help="settings to use (as for generating); flags override them")
    p.add_argument("--url", default=None, help="the model server's URL")
    p.add_argument("--backend", choices=[b.value for b in BackendKind], default=None,
                   help="the server's protocol: ollama, or openai for an OpenAI-compatible server")
    p.add_argument("--api-key", default=None, help="for OpenAI-compatible servers that need one")
    return _with_defaults(p)


def num_ctx_arg(text: str) -> str:
    from ..job.context_size import parse_num_ctx

    try:
        parse_num_ctx(text)
    except FlashcardError as e:
        raise argparse.ArgumentTypeError(e.message) from None
    return text


def said(e: BaseException) -> str:
    """An error as the CLI says it: whole, but neutralised and bounded (server text may be long)."""
    return shown(describe(e), 2000, keep_newlines=True)


def run_models(argv: Sequence[str]) -> int:
    args = models_parser().parse_args(argv)
    try:
        backend = make_backend(server_config(args))
    except FlashcardError as e:
        err(said(e))
        return EXIT_USAGE
    try:
        info = backend.server_info()
    except FlashcardError as e:
        err(said(e))
        return e.exit_code
    err(shown(info.status_line()))
    for name in info.models:
        print(shown(name))
    return EXIT_OK


def read_documents(sources: Sequence[str], figures: str = "auto", problems: Optional[list] = None,
                   settings: Optional[Settings] = None):
    from ..images.figure import figure_mode
    from ..images.safety import ImageRejected, ImageTooLarge
    from ..sources.read import read_stream_bytes
    from ..sources.limits import configure

    if settings is not None:
        configure(settings)  # size and time bounds of reading (source_max_mb, ...)
    mode = figure_mode(figures)
    docs = []
    for src in sources:
        try:
            if src == "-":
                doc = cli_highlights.read_one("stdin", mode, read_stream_bytes(sys.stdin.buffer, "stdin"))
            else:
                doc = cli_highlights.read_one(src, mode)
        except (ImageRejected, ImageTooLarge) as e:
            if problems is None or len(sources) == 1:
                raise
            problems.append(e)  # one bad image among several sources: said, and the rest go on
            err(said(e))
            continue
        for warning in doc.warnings:  # e.g. a PDF page skipped for its size
            err(shown(warning, 2000))
        docs.append(doc)
    if not docs and problems:
        raise problems[-1]
    return docs


def parse_mapping(pairs: Sequence[str]) -> dict:
    mapping = {}
    for pair in pairs:
        if "=" not in pair:
            raise FlashcardError(f"--field takes LOGICAL=FIELD, not '{pair}'.",
                                 "Logical fields: front, back, text, extra, source.")
        key, _, value = pair.partition("=")
        mapping[key.strip()] = value.strip()
    return mapping


def quality_summary(result: JobResult) -> str:
    """Flagged cards and the rewrite pass, for the summary line."""
    r = result.review
    parts = [f"{result.flagged} flagged"]
    if r.requests:
        parts.append(f"{r.rewritten} rewritten, {r.dropped} dropped in the rewrite pass "
                     f"({r.tokens} tokens beside {result.tokens})")
    return "; ".join(parts)


def command_settings(args: argparse.Namespace) -> Settings:
    """The settings with the command line's server, time and context options."""
    cfg = server_config(args)
    if args.timeout is not None:
        cfg = cfg.replace(read_timeout=args.timeout)
    if args.deadline is not None:
        cfg = cfg.replace(request_deadline=args.deadline)
    if args.num_ctx is not None:
        cfg = cfg.replace(num_ctx=int(args.num_ctx) if args.num_ctx.strip().isdigit()
                          else args.num_ctx)
    return cfg


def command_options(args: argparse.Namespace, cfg: Settings) -> JobOptions:
    """The job's options: the settings, and the command line's where it gives them."""
    return JobOptions.from_config(
        cfg, kind=args.kind, model=args.model, language=args.language, max_cards=args.max_cards,
        parallel=args.parallel, num_predict=args.num_predict,
        seed=args.seed, temperature=args.temperature, focus=cli_live.focus_of(args),
        figures=args.figures,
        depth=Depth.parse(args.depth) if args.depth else None,
        self_review=SelfReview.parse(args.self_review) if args.self_review else None,
    )


def note_target(args: argparse.Namespace, cfg: Settings, options: JobOptions, mapping: dict) -> Any:
    """Where the notes go: deck, note type and fields, tags (the command line's, else the settings')."""
    from ..notes.add import NoteTarget

    if args.note_type is None and cfg.note_type:  # the user's own type, as set in Anki
        mapping = dict(cfg.field_mapping, **mapping)
    return NoteTarget(
        deck=args.deck or cfg.deck,
        kind=options.kind,
        notetype=args.note_type if args.note_type is not None else cfg.note_type,
        field_mapping=mapping,
        tags=list(args.tags if args.tags is not None else cfg.tags),
        topic_subdecks=args.topic_subdecks or args.book_subdecks,
    )


def run_generate(argv: Sequence[str], graphics: Optional[MakeGraphics] = None) -> int:
    """Generate (and add) cards; ``graphics`` (from flashcards.py) makes the adapter that renders
    PDF pages and resizes images, asked for only when images will be sent."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.update and cli_update.usage_problem(args):
        parser.error(cli_update.usage_problem(args))
    if not args.dry_run and not args.collection and not args.topics_only:
        parser.error("--collection is required (or use --dry-run)")
    if cli_highlights.colour_problem(args):
        parser.error(cli_highlights.colour_problem(args))
    problems: list = []
    try:
        cfg = command_settings(args)
        options = command_options(args, cfg)
        mapping = parse_mapping(args.field)
        topics = cli_live.load_topics(args.topics) if args.topics else None
        if args.update:
            return cli_update.run(args, cfg, options, lambda opts: note_target(args, cfg, opts, mapping))
        documents = read_documents(args.sources, options.figures, problems, cfg)
        files_read = sources_of(documents)  # recorded with their notes
    except FlashcardError as e:
        err(said(e))
        return EXIT_USAGE
    col = None
    figure_plan = None
    backend = make_backend(cfg)
    try:
        compare = bool(args.collection and cli_similar.embed_model(args, cfg))
        if (not args.dry_run or compare) and not args.topics_only:
            from ..notes.add import open_collection

            col = open_collection(args.collection)  # fail before any model time is spent
        options = prepare_job(backend, options)
        warn_old_server(backend, options)
        cancel = threading.Event()
        if options.kind == CardKind.OCCLUSION:
            with Interrupts(cancel, err):
                ended = cli_occlusion.run(args, note_target(args, cfg, options, mapping), col, documents,
                                          backend, options, graphics, cancel)
            return {cli_occlusion.OK: EXIT_OK, cli_occlusion.WRITE_FAILED: EXIT_WRITE}.get(ended, EXIT_PARTIAL)
        marked = cli_highlights.plan(documents, args, chunk_budget(options), col, files_read)
        figure_plan = plan_with_figures(marked.rest, options, wanted_graphics(marked.rest, options, graphics))
        chunks = figure_plan.chunks = marked.chunks + figure_plan.chunks
        problems.extend(figure_plan.skipped)
        for text in [describe(e) for e in figure_plan.skipped] + figure_plan.warnings:
            err(shown(text, 1000, keep_newlines=True))
        if not chunks and figure_plan.skipped:
            return EXIT_USAGE
        if not args.quiet:
            err(f"{len(documents)} document(s), {len(chunks)} chunk(s), model {shown(options.model, 80)}"
                f"{', ' + str(figure_plan.images) + ' image(s)' if figure_plan.images else ''}")
            for line in cli_highlights.summary(marked, documents, args):
                err(line)
        similar = cli_similar.start(col, args.collection, backend, args, cfg)
        if args.topics_only:
            return cli_live.run_topics_only(chunks, backend, options, args.quiet, cancel)[1]
        plan = cli_live.topic_plan(topics, options, chunks, args.quiet) if topics else None
        target = note_target(args, cfg, options, mapping)
        live = cli_live.LivePrinter(args.jsonl, args.quiet, len(chunks),
                                    cli_live.live_duplicates(col, target) if col is not None else None)
        with Interrupts(cancel, err):  # Ctrl-C: keep what is done; twice: abort
            asks = plan.ask if plan is not None else None
            result = run_job(chunks, backend, options, live, cancel,
                             asks=asks_with_focus(options, asks) if marked.chunks else asks)
            notes = cli_occlusion.beside(args, target, col, documents, backend, options, graphics, cancel)
            around = Around(figure_plan, similar, bool(problems), files_read, notes or [])
            return finish_job(args, cfg, target, col, result, around)
    except FlashcardError as e:
        err(said(e))
        return e.exit_code
    finally:
        if figure_plan is not None:
            figure_plan.close()
        backend.close()
        if col is not None:
            try:
                col.close()
            except Exception as e:  # a full disk may fail the close too; the file stays intact
                err("The collection was not closed cleanly: %s" % shown(e))


def warn_old_server(backend: Any, options: JobOptions) -> None:
    """Once, before a job with a thinking model on an Ollama that may ignore the card format
    for such models (the line ``models`` and the dialogs show): that is when it matters."""
    from ..backends.server_facts import OLD_SERVER_WARNING, may_ignore_format

    if backend.name != "ollama" or options.think is None:
        return
    try:
        version = backend.server_info().version
    except FlashcardError:
        return  # the job itself says what is wrong with the server
    if may_ignore_format(version):
        err(f"Ollama {shown(version, 40)}: {OLD_SERVER_WARNING} ({shown(options.model, 80)} is a "
            "thinking model, whose answers it may let out of the format).")


def sources_of(documents: Sequence[Any]) -> List[Tuple[str, Any]]:
    """(absolute path, document) of the documents read from files (not standard input)."""
    return [(d.path, d) for d in documents if d.path]


@dataclass
class Around:
    """What ``finish_job`` needs of the run besides the job's result."""

    figure_plan: Any  # the chunks (with their figures' store)
    similar: Any  # the check for similar notes (cli.similar.start), or None
    problems: bool  # a source could not be read or planned
    files_read: Sequence[Tuple[str, Any]] = ()  # (path, document): recorded with their notes
    occlusion_notes: Sequence[Any] = ()  # Image Occlusion notes made beside the cards (--json)


def finish_job(args: argparse.Namespace, cfg: Any, target: Any, col: Any, result: Any, around: Around) -> int:
    """After the job (finished or cancelled): report, add (or print) the cards, the exit code."""
    for failure in result.failures:
        where = failure.chunk.heading_label() or f"chunk {failure.chunk.index + 1}"
        err(f"failed: {shown(failure.chunk.document, 120)} · {shown(where, 120)}: "
            f"{shown(failure.message, 1000, keep_newlines=True)}")
    for warning in result.warnings:  # (answers cut short are said by report_cut, below)
        if warning.kind in (WarningKind.FIELD_CUT, WarningKind.OVER_BOUND):
            where = warning.chunk.heading_label() or f"chunk {warning.chunk.index + 1}"
            err(f"warning: {shown(warning.chunk.document, 120)} · {shown(where, 120)}: "
                f"{shown(warning.message, 1000)}")
    if result.cancelled:
        left = max(0, result.chunks_total - result.chunks_done)
        err(f"Cancelled: {result.chunks_done} of {result.chunks_total} chunk(s) finished and "
            f"gave {len(result.cards)} card(s); {left} chunk(s) were not done.")
    if result.fatal is not None and not result.cards:
        err(said(result.fatal))
        return result.fatal.exit_code
    added = 0
    account = CardAccount().take(result.account)  # made, and what the job left out
    cli_similar.mark(around.similar, result.cards, args.quiet)
    if col is not None and not args.dry_run and result.cards:
        from ..figures.media import add_figures
        from ..notes.add import add_cards

        try:
            for text in add_figures(col, result.cards, target, not args.keep_duplicates,
                                     around.figure_plan.store):
                err(shown(text, 1000))
            outcome = add_cards(col, result.cards, target, skip_duplicates=not args.keep_duplicates,
                                skip_similar=cfg.skip_similar and not args.keep_similar)
        except Exception as e:
            failed = write_failure(e)
            if failed is None:
                raise
            return print_instead(result.cards, failed)
        added = len(outcome.note_ids)
        account.added = added
        for reason, n in outcome.account().left.items():
            account.leave(reason, n)
        cli_update.record_sources(col, around.files_read, outcome.added, around.figure_plan.chunks, target)
        cli_highlights.remember(col, around.files_read, outcome.added, around.figure_plan.chunks)
        for card, why in outcome.skipped:
            err(f"skipped: {card_label(card)!r}: {shown(why)}")
    if args.json:
        try:
            write_stdout(json_text([c.to_json() for c in result.cards]
                                   + [n.to_json() for n in around.occlusion_notes]))
        except OSError as e:
            err(f"{added} note(s) were added, but the {len(result.cards)} card(s) could not be "
                f"printed on stdout ({why_not_written(e)}).")
            return EXIT_WRITE
    cli_live.report_cut(result)
    fields_cut = sum(1 for w in result.warnings if w.kind is WarningKind.FIELD_CUT)
    if account.waiting:  # not added: a dry run (the cards are printed with --json)
        account.leave(Reason.DRY_RUN, account.waiting)
    if not args.quiet:
        err(f"{account.text()}; {quality_summary(result)}"
            f"{', ' + str(len(result.failures)) + ' chunk(s) failed' if result.failures else ''}"
            f"{', ' + str(len(result.cut)) + ' answer(s) cut short' if result.cut else ''}"
            f"{', ' + str(fields_cut) + ' field(s) cut' if fields_cut else ''}.")
    partial = result.failures or result.cut or result.warnings or result.cancelled or around.problems
    return EXIT_PARTIAL if partial else EXIT_OK


def print_instead(cards: Sequence[Any], failed: FlashcardError) -> int:
    """Nothing was added: the cards go to stdout as JSON, so the model's work is not lost. When
    stdout cannot be written either (on the same full disk), that is said, without a traceback."""
    try:
        write_stdout(json_text([c.to_json() for c in cards]))
    except OSError as e:
        err(said(failed))
        err(f"The {len(cards)} card(s) could not be printed on stdout either "
            f"({why_not_written(e)}): they are lost. Free some space (or send stdout elsewhere), "
            "then run again.")
        return EXIT_WRITE
    err(said(failed))
    err(f"The {len(cards)} card(s) are printed on stdout as JSON.")
    return EXIT_WRITE


def why_not_written(e: OSError) -> str:
    return shown(e.strerror or type(e).__name__, 120)


def main(argv: Optional[List[str]] = None, graphics: Optional[MakeGraphics] = None) -> int:
    """The command line. ``graphics``: what makes the graphics adapter (``images.figure.Graphics``)
    when images will be sent; the command line's composition root (flashcards.py, beside
    generator/) hands in the Qt one. Without it, images are sent as the source holds them where they may be."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):  # a C/ASCII locale must not turn a "·" into a traceback
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        if argv and argv[0] == "models":
            return run_models(argv[1:])
        if argv and argv[0] == "improve":
            from . import improve

            return improve.run(argv[1:])
        return run_generate(argv, graphics)
    except KeyboardInterrupt:
        # The second Ctrl-C (or one before the job started): stop now. The collection was
        # closed on the way out.
        err("Aborted.")
        return EXIT_ABORTED


def exit_now(code: int) -> None:
    """End the process with ``code``. A request still in flight after a cancel or a fatal error
    (a worker thread waiting on the network) is not waited for: the collection is closed and
    the output written by now."""
    workers = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if any(t.is_alive() for t in workers):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
