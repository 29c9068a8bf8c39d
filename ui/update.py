"""The Update dialog: cards made from files follow the files' changes. Opened from the Browser
("Update from source…" on notes made from a file) and from the Bulk dialog ("Update cards from
changed files" when a chosen file was carded before).

For each file: the plan (what changed, read in the background with the collection), then the
changed parts sent to the model (on a worker; answers kept in a journal, so stopping or a crash
asks nothing twice), then one row per note that would change: what it says now → what it would
say, checked unless the note was edited by hand. Apply is one undo step ("Update Flashcards from
Source") for every file; a file whose changed parts did not all get an answer is left out, and
saying so is the dialog's job. The engine is ``generator.update``."""
import difflib
import html
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import aqt
from anki.notes import NoteId
from aqt import mw
from aqt.qt import (
    QCheckBox,
    QFileDialog,
    QLabel,
    QPushButton,
    QSplitter,
    Qt,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from ..generator.outside import shorten
from .anki_window import AnkiWindow
from .common import (ADDON, error_text, esc, get_settings, is_alive, on_main, plural, register_dialog,
                     run_long, run_with_collection, show_in_browser)

DIALOG_NAME = "OllamaFlashcardsUpdate"
TITLE = "Update Cards from Source"
ACTION_LABELS = {"update": "Update", "add": "Add", "source-removed": "Source removed",
                 "kept-edit": "Your edit", "unchanged": "Unchanged"}
ACTION_TIPS = {
    "update": "Same fact, new text: the note is changed in place (its cards and review history stay)",
    "add": "A new fact in the file: a new note",
    "source-removed": "Its text is gone from the file: the note stays, tagged "
                      "ollama-flashcards::source-removed",
    "kept-edit": "You edited this note since it was made: it is kept as you wrote it and tagged "
                 "ollama-flashcards::source-changed. Check it to take the new text instead.",
    "unchanged": "Its text did not change: the note is not touched",
}
COL_CHECK, COL_ACTION, COL_OLD, COL_NEW, COL_WHERE = range(5)


def updates_folder() -> str:
    """Where this profile's update journals live: the add-on's ``user_files`` (kept on upgrades)."""
    from ..generator.update.run import journal_folder

    base = os.path.join(mw.addonManager.addonsFolder(ADDON), "user_files", "updates")
    return journal_folder(base, mw.col.path)


@dataclass
class Doc:
    """One file's update, as far as it got."""

    path: str
    record: Any = None  # the record it was opened for (Browser), else found by path
    plan: Any = None
    generated: Any = None
    proposal: Any = None
    error: str = ""
    missing: bool = False  # the file is not where the record says

    @property
    def name(self) -> str:
        return self.plan.name if self.plan is not None else os.path.basename(self.path)


@dataclass
class Row:
    doc: int
    entry: int
    item: QTreeWidgetItem


# --- what a row says ----------------------------------------------------------------------------

def plain_fields(fields: Dict[str, str]) -> List[str]:
    """A note's fields as plain text, the source reference left out, empty ones skipped."""
    from ..generator.update.match import plain

    return [t for t in (plain(v) for v in fields.values()) if t]


def word_diff(old: str, new: str) -> Tuple[str, str]:
    """``old`` and ``new`` as HTML, the words only in one of them marked (struck out, underlined)."""
    a, b = old.split(), new.split()
    left: List[str] = []
    right: List[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            left.append(esc(" ".join(a[i1:i2])))
            right.append(esc(" ".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append('<span style="color:#c0392b;text-decoration:line-through">%s</span>'
                        % esc(" ".join(a[i1:i2])))
        if j2 > j1:
            right.append('<span style="color:#1e8449;text-decoration:underline">%s</span>'
                         % esc(" ".join(b[j1:j2])))
    return " ".join(left), " ".join(right)


def entry_details(entry: Any, document: str) -> str:
    """The selected row in full: each field before and after, the changed words marked."""
    old, new = plain_fields(entry.old), plain_fields(entry.new)
    head = "<b>%s</b> · %s%s" % (esc(ACTION_LABELS.get(entry.action, entry.action)), esc(document),
                                  (" · " + esc(entry.where)) if entry.where else "")
    rows = []
    if entry.action in ("update", "kept-edit"):
        for i in range(max(len(old), len(new))):
            left, right = word_diff(old[i] if i < len(old) else "", new[i] if i < len(new) else "")
            rows.append("<tr><td width='50%%' valign='top'>%s</td><td width='50%%' valign='top'>%s</td></tr>"
                        % (left, right))
        table = ("<table width='100%%' cellspacing='6'><tr><th align='left'>Now</th>"
                 "<th align='left'>From the changed file</th></tr>%s</table>" % "".join(rows))
        return head + table
    shown = new if entry.action == "add" else old
    return head + "".join("<p>%s</p>" % esc(t) for t in shown)


def short(texts: Sequence[str], n: int = 90, start: int = 0) -> str:
    """The texts on one line, from word ``start`` (with "…" before), cut to ``n`` characters."""
    words = " — ".join(texts).split()
    return shorten(("… " if start else "") + " ".join(words[start:]), n)


def short_pair(old: Sequence[str], new: Sequence[str], n: int = 90) -> Tuple[str, str]:
    """Before and after on one line each, both from a few words before where they first differ
    (so a long question that stayed the same does not hide the change)."""
    a, b = " — ".join(old).split(), " — ".join(new).split()
    same = 0
    while same < min(len(a), len(b)) and a[same] == b[same]:
        same += 1
    start = same - 4 if same > 6 and old and new else 0
    return short(old, n, start), short(new, n, start)


# --- the dialog ---------------------------------------------------------------------------------

class UpdateDialog(AnkiWindow):
    """See the module. Closing (Esc, Close, Anki closing the profile) stops what runs in the
    background (the answers so far stay in the journal) and cleans up once."""

    NAME = DIALOG_NAME
    SIZE = (960, 640)
    STOP_TIP = "Stop asking; the answers so far are kept for the next update"

    def __init__(self, parent: Optional[QWidget], paths: Sequence[str] = (), records: Sequence[Any] = ()) -> None:
        super().__init__(parent or mw, TITLE)
        self.docs: List[Doc] = [Doc(os.path.abspath(p)) for p in paths]
        self.docs += [Doc(r.path, r) for r in records if not any(d.path == r.path for d in self.docs)]
        self.rows: List[Row] = []
        self.cancel = threading.Event()
        self.stage = "planning"  # planning, asking, proposing, review, applying, done
        self.results: List[Any] = []

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.outer.addWidget(self.summary)
        self.progress.cancel_requested.connect(self.stop)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setAlternatingRowColors(True)
        self.table.setHeaderLabels(["", "Change", "Now", "From the changed file", "Where"])
        self.table.setColumnWidth(COL_CHECK, 28)
        self.table.setColumnWidth(COL_ACTION, 110)
        self.table.setColumnWidth(COL_OLD, 300)
        self.table.setColumnWidth(COL_NEW, 300)
        self.table.itemChanged.connect(lambda _i, _c: self._update_buttons())
        self.table.currentItemChanged.connect(lambda _c, _p: self._show_details())
        self.details = QTextBrowser()
        self.details.setOpenLinks(False)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setSizes([380, 160])
        self.outer.addWidget(splitter, 1)
        self.show_unchanged = QCheckBox("Show unchanged notes")
        self.show_unchanged.toggled.connect(lambda _on: self._fill_rows())
        self.suspend = QCheckBox("Suspend the cards of notes whose text is gone")
        self.suspend.setToolTip("They stay in the collection either way, tagged "
                                "ollama-flashcards::source-removed")
        self.apply_btn = QPushButton("Apply")
        self.apply_btn.setDefault(True)
        self.apply_btn.clicked.connect(lambda _c=False: self.apply())
        self.close_btn = QPushButton("Close")
        self.close_btn.setAutoDefault(False)
        self.close_btn.clicked.connect(lambda _c=False: self.close())
        self.lay_out_bottom([self.show_unchanged, self.suspend], [self.apply_btn, self.close_btn])
        self.fit()
        self._update_buttons()
        self.plan()

    def reopen(self, parent: Any = None, paths: Sequence[str] = (), records: Sequence[Any] = ()) -> None:
        """Opened again (another file, or the same): a new update, unless one is under way."""
        if self.busy or self.stage == "applying":
            self.message.show_message("An update is under way: wait for it (or close this window) "
                                      "before starting another.", "warning")
            return
        self.docs = [Doc(os.path.abspath(p)) for p in paths]
        self.docs += [Doc(r.path, r) for r in records if not any(d.path == r.path for d in self.docs)]
        self.rows = []
        self.table.clear()
        self.details.setHtml("")
        self.plan()

    # ==== state ===================================================================================
    @property
    def busy(self) -> bool:
        return self.stage in ("planning", "asking", "proposing", "applying")

    # ==== closing =================================================================================
    def stop_background(self) -> None:
        self.cancel.set()  # a running request stops; its answers so far stay in the journal

    def stop(self) -> None:
        self.cancel.set()
        self.progress.stopping("Stopping… (the answers so far are kept)")

    def ready(self) -> List[Doc]:
        """The files whose proposal can be applied."""
        return [d for d in self.docs if d.proposal is not None]

    # ==== 1. plan =================================================================================
    def plan(self) -> None:
        """Read the files (a worker, without the collection), then compare them with their
        records (background, with the collection: only that part holds it)."""
        self.stage = "planning"
        self.cancel.clear()
        self.message.clear()
        self.progress.begin("Reading %s…" % plural(len(self.docs), "file"))
        settings = get_settings()
        docs = [d for d in self.docs if d.plan is None and not d.error]

        def read() -> List[Tuple[Doc, Any]]:
            from ..generator.errors import FlashcardError, describe
            from ..generator.update.run import read_document

            out = []
            for doc in docs:
                if not os.path.exists(doc.path):
                    doc.missing = True
                    doc.error = "is not at %s any more" % doc.path
                    continue
                try:
                    out.append((doc, read_document(doc.path, settings)))
                except FlashcardError as e:
                    doc.error = describe(e)
            return out

        def compare(read_docs: List[Tuple[Doc, Any]]) -> None:
            def op(col: Any) -> None:
                from ..generator.errors import FlashcardError, describe
                from ..generator.update.plan import plan_update

                for doc, document in read_docs:
                    try:
                        doc.plan = plan_update(col, doc.path, document, doc.record)
                    except FlashcardError as e:
                        doc.error = describe(e)

            if is_alive(self) and not self.cleaned:
                run_with_collection(self, op, lambda _r: self._planned(), self._failed)

        run_long(read, compare, self._failed)

    def _planned(self) -> None:
        if self.cleaned:
            return
        self._show_summary()
        if any(d.plan is not None and d.plan.sent_units() for d in self.docs):
            self.ask()
            return
        self.propose()

    def locate(self, index: int) -> None:
        """A file that moved (or lives elsewhere on this device): choose where it is now; it
        is recognised by its record, whatever its name."""
        doc = self.docs[index]
        path, _ = QFileDialog.getOpenFileName(self, "Where is %s now?" % os.path.basename(doc.path),
                                              os.path.dirname(doc.path))
        if not path:
            return
        self.docs[index] = Doc(os.path.abspath(path), doc.record)
        self.plan()

    # ==== 2. ask ==================================================================================
    def ask(self) -> None:
        """Send the changed parts (a worker thread; no collection needed)."""
        self.stage = "asking"
        settings = get_settings()
        folder = updates_folder()
        dialog = self

        from ..generator.job.reports import JobListener

        class Progress(JobListener):
            def on_progress(self, p: Any) -> None:
                text = "Asking for the changed parts: %d of %d · %s" % (
                    p.chunks_done, p.chunks_total, plural(p.cards, "card"))
                on_main(lambda: dialog.show_asking(p.chunks_done, p.chunks_total, text))

        def op() -> None:
            from ..generator.backends import make_backend
            from ..generator.job.run import JobOptions, prepare_job
            from ..generator.update.run import generate

            backend = make_backend(settings)
            try:
                for doc in self.docs:
                    if doc.plan is None or self.cancel.is_set():
                        continue
                    record = doc.plan.record
                    options = JobOptions.from_config(settings, kind=(record.kind if record else "") or None)
                    options = prepare_job(backend, options)
                    doc.generated = generate(doc.plan, backend, options, folder, Progress(), self.cancel)
            finally:
                backend.close()

        self.progress.begin("Connecting to the model server…")
        run_long(op, lambda _r: self._asked(), self._failed)

    def show_asking(self, done: int, total: int, text: str) -> None:
        if is_alive(self) and not self.cleaned:
            self.progress.show_progress(done, total, text)

    def _asked(self) -> None:
        if self.cleaned:
            for doc in self.docs:
                if doc.generated is not None:
                    doc.generated.close()
            return
        for doc in self.docs:
            g = doc.generated
            if g is not None and not g.complete:
                result = g.result
                failed = len(result.failures) if result is not None else 0
                doc.error = ("not every changed part has its answer (%s); update again: the answers "
                             "so far are kept and not asked again" % (
                                 plural(failed, "part") + " failed" if failed else "stopped"))
                g.close()
                doc.generated = None
        self.propose()

    # ==== 3. propose ==============================================================================
    def propose(self) -> None:
        """Match the new cards with the old notes (background, reads the collection). With an
        embedding model, the questions are embedded on a worker between two such reads, so
        the collection is never held while the server answers: the first read names the
        questions (matching by words meanwhile), the second matches with their embeddings."""
        self.stage = "proposing"
        self.progress.begin("Comparing with your notes…")
        settings = get_settings()
        asked: List[List[str]] = []  # the batches of questions the matching wants embedded
        vectors: Dict[str, List[float]] = {}

        def embed(texts: List[str]) -> List[List[float]]:
            """The embeddings of ``texts`` found before (all of them, or none: by words)."""
            if all(t in vectors for t in texts):
                return [vectors[t] for t in texts]
            asked.append(list(texts))
            return []

        def op(col: Any) -> None:
            from ..generator.update.apply import propose

            for doc in self.docs:
                if doc.plan is None or doc.error:
                    continue
                g = doc.generated
                doc.proposal = propose(col, doc.plan, g.cards if g else [], g.chunks if g else [],
                                       self.target(doc, settings), embed if settings.embed_model else None)

        def embed_asked() -> None:
            from ..generator.backends import make_backend
            from ..generator.update.match import embedder

            backend = make_backend(settings)
            try:
                ask = embedder(backend, settings.embed_model)
                for texts in asked:
                    got = ask(texts) if ask is not None else []
                    if len(got) != len(texts):
                        return  # the server cannot embed: the matching by words stands
                    vectors.update(zip(texts, got))
            finally:
                backend.close()

        def matched(_r: Any = None) -> None:
            if not is_alive(self) or self.cleaned:
                return
            if asked and not vectors:
                run_long(embed_asked, lambda _r: again(), self._failed)
                return
            self._proposed()

        def again() -> None:
            if not is_alive(self) or self.cleaned:
                return
            if not vectors:  # nothing embedded: the proposal by words stands
                self._proposed()
                return
            asked.clear()
            run_with_collection(self, op, lambda _r: self._proposed(), self._failed)

        run_with_collection(self, op, matched, self._failed)

    @staticmethod
    def target(doc: Doc, settings: Any) -> Any:
        """Where new notes go: as the file's cards were made (its record), else the settings."""
        from ..generator.notes.add import NoteTarget

        record = doc.plan.record if doc.plan is not None else None
        if record is None:
            return NoteTarget(deck=settings.deck, kind=settings.card_kind, notetype=settings.note_type,
                              field_mapping=dict(settings.field_mapping), tags=list(settings.tags))
        return NoteTarget(deck=record.deck or settings.deck, kind=record.kind or settings.card_kind,
                          notetype=record.notetype, field_mapping=dict(record.field_mapping),
                          tags=list(settings.tags))

    def _proposed(self) -> None:
        if self.cleaned:
            return
        self.stage = "review"
        self.progress.end()
        self._show_summary()
        self._fill_rows()
        self._say_problems()
        self._update_buttons()

    # ==== 4. review ===============================================================================
    def _show_summary(self) -> None:
        lines = []
        for doc in self.docs:
            if doc.plan is None:
                continue
            c = doc.plan.counts()
            text = "<b>%s</b>: %s unchanged, %d changed or new%s" % (
                esc(doc.name), plural(c["unchanged"], "part"), c["changed"] + c["new"],
                ", %d removed" % c["removed"] if c["removed"] else "")
            if doc.proposal is not None:
                p = doc.proposal.counts()
                text += " → %s unchanged, %d to update, %d to add, %d source removed, %d edited by you" % (
                    plural(p["unchanged"], "note"), p["update"], p["add"], p["source-removed"], p["kept-edit"])
            lines.append(text)
        self.summary.setText("<br>".join(lines))

    def _fill_rows(self) -> None:
        checked = self.checked()
        self.table.blockSignals(True)
        self.table.clear()
        self.rows = []
        show_all = self.show_unchanged.isChecked()
        for d, doc in enumerate(self.docs):
            if doc.proposal is None:
                continue
            for e, entry in enumerate(doc.proposal.entries):
                if entry.action == "unchanged" and not show_all:
                    continue
                self.rows.append(Row(d, e, self._item(doc, entry, checked.get((d, e)))))
        self.table.blockSignals(False)
        if self.rows:
            self.table.setCurrentItem(self.rows[0].item)
        self._update_buttons()

    def _item(self, doc: Doc, entry: Any, checked: Optional[bool]) -> QTreeWidgetItem:
        old, new = plain_fields(entry.old), plain_fields(entry.new)
        before, now = short_pair(old, new)
        after = {"source-removed": "(kept, tagged source removed)", "unchanged": "(as it is)"}
        item = QTreeWidgetItem(["", ACTION_LABELS.get(entry.action, entry.action), before,
                                after.get(entry.action, now),
                                doc.name + ((" · " + entry.where) if entry.where else "")])
        if entry.action != "unchanged" and entry.writes:
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = entry.checked if checked is None else checked
            item.setCheckState(COL_CHECK, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        item.setToolTip(COL_ACTION, ACTION_TIPS.get(entry.action, ""))
        item.setToolTip(COL_OLD, html.escape("\n".join(old)))
        item.setToolTip(COL_NEW, html.escape("\n".join(new)))
        self.table.addTopLevelItem(item)
        return item

    def checked(self) -> Dict[Tuple[int, int], bool]:
        """(file, entry) -> checked, for the rows shown with a check box."""
        out = {}
        for row in self.rows:
            if row.item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                out[(row.doc, row.entry)] = row.item.checkState(COL_CHECK) == Qt.CheckState.Checked
        return out

    def chosen(self) -> List[Optional[Set[int]]]:
        """Per file that can be applied: the entries to apply (each entry's default where no row
        shows it)."""
        checked = self.checked()
        out: List[Optional[Set[int]]] = []
        for d, doc in enumerate(self.docs):
            if doc.proposal is None:
                continue
            out.append({e for e, entry in enumerate(doc.proposal.entries)
                        if checked.get((d, e), entry.checked)})
        return out

    def _show_details(self) -> None:
        item = self.table.currentItem()
        row = next((r for r in self.rows if r.item is item), None)
        if row is None:
            self.details.setHtml("")
            return
        doc = self.docs[row.doc]
        self.details.setHtml(entry_details(doc.proposal.entries[row.entry], doc.name))

    def changes(self) -> int:
        """How many notes Apply would change: the checked rows (and the defaults not shown)."""
        return sum(1 for doc, chosen in zip(self.ready(), self.chosen())
                   for e, entry in enumerate(doc.proposal.entries) if entry.writes and chosen and e in chosen)

    def _update_buttons(self) -> None:
        n = self.changes() if self.stage == "review" else 0
        writes = self.stage == "review" and any(d.proposal.writes for d in self.ready())
        self.apply_btn.setEnabled(writes)
        self.apply_btn.setText("Apply %s" % plural(n, "change") if n else "Apply")

    def _say_problems(self) -> None:
        missing = [i for i, d in enumerate(self.docs) if d.missing]
        problems = ["<b>%s</b> %s." % (esc(os.path.basename(d.path)), esc(d.error))
                    for d in self.docs if d.error]
        if problems:
            actions = [("Choose the file…", lambda i=missing[0]: self.locate(i))] if missing else []
            self.message.show_message("Not updated: " + " ".join(problems), "warning", actions)
        elif not any(d.proposal.writes for d in self.ready()):
            self.message.show_message("Nothing to change: the cards follow the files as they are.",
                                      "success")

    # ==== 5. apply ================================================================================
    def apply(self) -> None:
        """Apply the checked changes in one undo step."""
        from aqt.operations import CollectionOp

        if self.stage != "review":
            return
        docs, accepted, suspend = self.ready(), self.chosen(), self.suspend.isChecked()
        self.stage = "applying"
        self._update_buttons()

        def op(col: Any) -> Any:
            from ..generator.update.apply import apply_all

            self.results, changes = apply_all(col, [d.proposal for d in docs], accepted, suspend)
            return changes

        def done(_changes: Any) -> None:
            for doc in docs:
                if doc.generated is not None:
                    doc.generated.finish()
            if is_alive(self) and not self.cleaned:
                self._applied()

        CollectionOp(parent=self, op=op).success(done).failure(self._failed).run_in_background(initiator=self)

    def _applied(self) -> None:
        from ..generator.update.apply import summary, total_counts

        self.stage = "done"
        counts = total_counts(self.results)
        for row in self.rows:
            row.item.setFlags(row.item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
        nids = [NoteId(n) for r in self.results for n in r.updated + r.added]
        actions = [("Show in Browser", lambda: show_in_browser(nids))] if nids else []
        self.message.show_message("Done: %s. Edit → Undo takes it all back." % esc(summary(counts)),
                                  "success", actions)
        self._update_buttons()

    def _failed(self, err: Exception) -> None:
        if self.cleaned:
            return
        self.stage = "review" if any(d.proposal is not None for d in self.docs) else "done"
        self.progress.end()
        self.message.show_message(esc(error_text(err)), "error")
        self._update_buttons()


# --- opening it ---------------------------------------------------------------------------------

def open_update(parent: Any = None, paths: Sequence[str] = (), records: Sequence[Any] = ()) -> UpdateDialog:
    """Open the Update dialog on files (and on recorded documents, whose path may have moved)."""
    def create(parent: Any, paths: Sequence[str] = (), records: Sequence[Any] = ()) -> UpdateDialog:
        dialog = UpdateDialog(parent, paths, records)
        dialog.show()
        return dialog

    register_dialog(DIALOG_NAME, create)
    return aqt.dialogs.open(DIALOG_NAME, parent or mw, paths=list(paths), records=list(records))


def recorded_paths(col: Any, paths: Sequence[str]) -> List[str]:
    """The files among ``paths`` whose cards were made before (a record with the same path): a
    light lookup (no engine module), since the Bulk dialog asks on every change of its list."""
    from ..generator.recorded.lookup import recorded_among

    return recorded_among(col, paths)


def offer_update(dialog: Any) -> None:
    """In the Bulk dialog: when a chosen file was carded before, offer to update its cards
    instead of making new ones."""
    try:
        carded = recorded_paths(mw.col, list(dialog.files.paths))
    except Exception as e:  # never in the way of a bulk job
        print("ollama-flashcards: update offer:", e)
        return
    if not carded:
        return
    names = ", ".join(os.path.basename(p) for p in carded[:3]) + (" …" if len(carded) > 3 else "")
    dialog.message.show_message(
        "Cards were made from %s before (%s). Update them from the changed files instead of "
        "making new ones?" % (plural(len(carded), "of these files", "of these files"), esc(names)),
        "info", [("Update cards from changed files", lambda: open_update(dialog, carded))], topic="update")


def open_from_browser(browser: Any, nids: Sequence[int]) -> None:
    """Browser → Update from source…: the files the selected notes were made from."""
    from aqt.utils import tooltip

    from ..generator.update.record import load, marked_documents

    col = mw.col
    records = [r for r in (load(col, d) for d in marked_documents(col, nids)) if r is not None]
    if not records:
        tooltip("These notes were not made from a file the add-on follows.", parent=browser)
        return
    open_update(browser, records=records)
