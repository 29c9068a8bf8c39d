"""The Bulk dialog's Image Occlusion job (the card kind "Image occlusion (from labelled
figures)"): a note per labelled figure of every file, made on a worker
(``OcclusionBulkRunner``) and shown in the Review tab as they come (their figures with the masks
drawn, larger on hover; "Check the masks" for those a model that can see placed, unchecked). In
"add as they come" mode the checked notes are added when the job ends; in "review all" mode they
wait in the Review tab until *Add* (or *Discard all*). Each add is one undo step.

Such a job has no journal: it asks one short question per figure, so a stopped job keeps what it
made (in the Review tab) and is not resumed.

With another kind in "review all" mode, the labelled figures of the job's PDFs are offered in
the Review tab after its cards (``offer_figures``, unchecked), and added with the cards kept in
one undo step (``add_with_notes``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, List, Optional

from anki.notes import NoteId
from aqt.qt import QObject, pyqtSignal

from ..generator.cards.card import Card
from ..generator.config import BulkMode, Settings
from .common import esc, is_alive, plural
from .figure_widgets import FigureJob, Thumbnails
from .job_runner import JobRunner
from .occlusion_view import NO_FIGURES, OcclusionRows

if TYPE_CHECKING:
    from ..generator.bulk.job import BulkSpec


@dataclass
class OcclusionBulkResult:
    cards: List[Card] = field(default_factory=list)
    messages: List[str] = field(default_factory=list)
    files: int = 0
    cancelled: bool = False


class OcclusionBulkRunner(JobRunner):
    """Reads each file and makes its notes; ``chunk(Chunk, [card])`` per note, ``files(done,
    total)`` after each file."""

    chunk = pyqtSignal(object, object)
    files = pyqtSignal(int, int)

    def __init__(self, settings: Settings, spec: BulkSpec, thumbnails: Thumbnails,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.spec = spec
        self.thumbnails = thumbnails
        self.figure_job = FigureJob()

    def work(self) -> OcclusionBulkResult:
        from ..generator.backends import make_backend
        from ..generator.config import FigureMode
        from ..generator.errors import FlashcardError, describe
        from ..generator.job.run import prepare_job
        from ..generator.outside import shown
        from ..generator.sources.limits import configure
        from ..generator.sources.read import display_name
        from ..generator.sources.with_figures import read_source_path

        configure(self.settings)
        result = OcclusionBulkResult()
        paths = list(self.spec.files)
        backend = make_backend(self.settings)
        try:
            options = prepare_job(backend, self.spec.options)
            rows = OcclusionRows(self.thumbnails, self.figure_job.graphics,
                                 lambda chunk, cards: self.post(lambda: self.chunk.emit(chunk, cards)))
            for n, path in enumerate(paths, start=1):
                if self.cancelled:
                    break
                try:
                    doc = read_source_path(path, FigureMode.AUTO)
                except FlashcardError as err:
                    result.messages.append("%s: %s" % (shown(display_name(path), 120), describe(err)))
                    continue
                result.cards.extend(rows.run([doc], backend, options, self.cancel_event))
                result.messages.extend(rows.messages)
                result.files = n
                self._files_done(n, len(paths))
        finally:
            backend.close()
            self.figure_job.close()
        result.cancelled = self.cancelled
        return result

    def _files_done(self, done: int, total: int) -> None:
        self.post(lambda: self.files.emit(done, total))


def offer_figures(spec: BulkSpec, thumbnails: Thumbnails, backend: Any, cancel: Any,
                  emit: Any) -> int:
    """Review mode with another kind: the labelled figures of the job's PDFs, offered in the
    Review tab after the job's cards (unchecked; no image is sent). Never fails the job: a file
    that cannot be read again is passed over. Returns how many were offered."""
    import os

    from ..generator.config import CardKind, FigureMode
    from ..generator.sources.with_figures import read_source_path

    options = spec.options
    if options.kind == CardKind.OCCLUSION or not OcclusionRows.wanted(options):
        return 0  # the kind's own job makes them; or the figures are switched off
    documents = []
    for path in spec.files:
        if path.lower().endswith(".pdf") and os.path.isfile(path):
            try:
                documents.append(read_source_path(path, FigureMode.AUTO))
            except Exception:
                continue
    if not documents:
        return 0
    figure_job = FigureJob()
    try:
        return len(OcclusionRows(thumbnails, figure_job.graphics, emit).run(
            documents, backend, options, cancel, offered=True))
    finally:
        figure_job.close()


def add_with_notes(col: Any, add: Any, keep: List[Card], target: Any) -> Any:
    """Review mode: ``add(cards)`` (the job's writer) for the cards kept, and the Image Occlusion
    notes kept among them, in one undo step; the outcome's note ids include the notes'."""
    from ..generator.notes.add import UNDO_LABEL, undo_failed_step
    from ..generator.occlusion.notes import add_occlusion_notes

    notes = [c.occlusion for c in keep if c.occlusion is not None]
    cards = [c for c in keep if c.occlusion is None]
    if not notes:
        return add(cards)
    for note in notes:
        note.checked = True  # the user checked it
    pos = col.add_custom_undo_entry(UNDO_LABEL)
    try:
        # the notes first: the job's writer marks its batch added in the journal, so it goes last
        added = add_occlusion_notes(col, notes, target.deck, target.tags)
        outcome = add(cards)
    except Exception:
        undo_failed_step(col, pos)  # all or nothing: the notes go out with the cards
        raise
    outcome.note_ids = list(outcome.note_ids) + list(added.note_ids)
    outcome.changes = col.merge_undo_entries(pos)
    return outcome


class OcclusionBulk:
    """What the Bulk dialog does for the kind "Image occlusion"; ``dialog`` is the BulkDialog
    (its Review tab, message bar, progress row and runner slot)."""

    def __init__(self, dialog: Any) -> None:
        self.dialog = dialog
        self.waiting = False  # notes wait in the Review tab

    @property
    def last_added(self) -> List[NoteId]:
        """The notes the last add added."""
        return list(self.dialog.adder.last_added)

    def start(self, spec: BulkSpec) -> None:
        from .common import get_settings

        d = self.dialog
        table = d.review.table
        if table.thumbnails is None:
            table.thumbnails = Thumbnails()
        table.clear_cards()
        table.set_kind(spec.options.kind)
        d.review_chunks = []
        self.waiting = False
        d.stream.reset()
        runner = OcclusionBulkRunner(get_settings(), spec, table.thumbnails, d)
        runner.wire(chunk=self._on_chunk, files=self._on_files, finished=lambda r: self._on_finished(r, spec),
                    failed=d.on_error)
        d.runner = runner
        d.last_result = None
        d.message.clear()
        d.progress.begin("Looking for labelled figures…")
        d.review.label.setText("Image occlusion notes arrive here, one per labelled figure.")
        d.update_buttons()
        runner.start()

    def _on_chunk(self, chunk: Any, cards: List[Card]) -> None:
        d = self.dialog
        if d.runner is None:
            return
        if not d.review.table.rows:
            d.tabs.setCurrentWidget(d.review)
        d.stream.settle(chunk, cards)

    def _on_files(self, done: int, total: int) -> None:
        d = self.dialog
        if d.runner is not None and not d.runner.cancelled:
            d.progress.show_progress(done, total, "File %d of %d · %s" % (
                min(done + 1, total), total, plural(len(d.review.table.cards), "note")))

    def _on_finished(self, result: OcclusionBulkResult, spec: BulkSpec) -> None:
        """Figures already in the collection are marked (and unchecked), then the notes are
        added ("add" mode) or wait for review."""
        from ..generator.occlusion.cards import mark_known
        from .common import run_with_collection

        d = self.dialog
        d.end()
        if d.closing:
            return
        cards = list(d.review.table.cards)
        d.pending += 1

        def marked(_n: Any = None) -> None:
            d.pending -= 1
            if not is_alive(d):
                return
            d.review.table.refresh_marks()
            if spec.skip_duplicates:
                d.review.table.uncheck_duplicates()
            self._show(result, spec)

        run_with_collection(d, lambda col: mark_known(col, cards), marked, lambda _err: marked())

    def _show(self, result: OcclusionBulkResult, spec: BulkSpec) -> None:
        d = self.dialog
        self.waiting = bool(d.review.table.cards)
        notes = "".join("<br>" + esc(m) for m in result.messages[:20])
        if not self.waiting:
            d.message.show_message(esc(NO_FIGURES % (" in " + plural(len(spec.files), "file"))) + notes,
                                   "warning")
        elif spec.mode == BulkMode.ADD.value and not result.cancelled:
            self.add(spec.target)
        else:
            d.message.show_message("%s from %s%s. Check them in the Review tab, then add them.%s" % (
                plural(len(d.review.table.cards), "image occlusion note"), plural(result.files, "file"),
                " (stopped)" if result.cancelled else "", notes), "info")
        d.update_buttons()

    def reviewing(self) -> bool:
        return self.waiting and bool(self.dialog.review.table.cards)

    def add(self, target: Any = None) -> None:
        """Add the checked notes (one undo step): the dialog's ``CardAdder``."""
        d = self.dialog
        keep = d.review.table.checked_cards()
        if not keep:
            self.waiting = False
            d.update_buttons()
            return

        def added() -> None:
            self.waiting = False
            d.update_buttons()

        d.adder.add(keep, target or d.options.target(), then=added)

    def discard(self) -> None:
        self.waiting = False
        self.dialog.review.table.clear_cards()
        self.dialog.update_buttons()
