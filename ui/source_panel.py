"""The source panel (``SourcePanel``): what to make cards from. Pasted or typed text, a
selection from the editor, files (read in the background) or notes from the Browser, shown
in one text box (read-only for files and notes, a preview of at most ``PREVIEW_CHARS``) with
a line saying what it is and how long.

API: ``set_text(text, name, label)``, ``set_documents(documents, label, note_refs)``,
``load_files(paths)``, ``clear()``; ``documents()`` gives what the job reads (raises the
engine's ``SourceError`` for an empty text), ``note_refs()`` the document → note id map of
notes from the Browser, ``has_source()``. Signals: ``changed`` (the source changed),
``busy_changed`` (a file read started or ended), ``problem(html)`` (a file could not be read).
Images are sources too: image files opened or dropped, and images pasted into the text box
(``SourceEdit``), become documents of their own, shown as thumbnails (``ImagePreview``);
files are read with their figures (``generator.sources.with_figures``)."""
import os
from typing import Dict, List, Optional, Sequence, Tuple

from anki.notes import NoteId
from aqt.qt import QFileDialog, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget, pyqtSignal

from ..generator.sources.document import Document
from .common import button, error_text, esc, get_settings, is_alive, plural, run_network, save_config
from .figure_widgets import ImagePreview, SourceEdit, is_image, read_pasted

PREVIEW_CHARS = 20000
PASTED = "pasted text"
SELECTION = "selection"


class SourcePanel(QGroupBox):
    changed = pyqtSignal()
    busy_changed = pyqtSignal(bool)
    problem = pyqtSignal(str)  # after a read, HTML: files that could not be read ("" = none)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__("Source", parent)
        self._documents: Optional[List[Document]] = None  # from files or notes; None = text box
        self._name = PASTED  # the document name of typed text
        self._label = ""  # what the label calls the source ("" = by its kind)
        self._note_refs: Dict[str, NoteId] = {}  # document name -> note id (Browser)
        self._paths: Dict[str, str] = {}  # document name -> the file it was read from
        self.reading = False
        v = QVBoxLayout(self)
        row = QHBoxLayout()
        self.label = QLabel("")
        self.label.setWordWrap(True)
        row.addWidget(self.label, 1)
        self.open_btn = button("Open file…", self.choose_files)
        self.clear_btn = button("Clear", self.clear)
        row.addWidget(self.open_btn)
        row.addWidget(self.clear_btn)
        v.addLayout(row)
        self.edit = SourceEdit()
        self.edit.setPlaceholderText("Paste or type the text to make flashcards from, or open a "
                                     "file; images can be pasted or dropped here too.")
        self.edit.setMinimumHeight(90)
        self.edit.textChanged.connect(self._on_text_changed)
        self.edit.image_pasted.connect(self.add_image)
        self.edit.files_dropped.connect(self.load_files)
        v.addWidget(self.edit, 1)
        self.images = ImagePreview()
        v.addWidget(self.images)
        self._update_label()

    # --- setting the source -------------------------------------------------------------------
    def set_text(self, text: str, name: str = "", label: str = "") -> None:
        """Editable text (``name`` is its document name, e.g. "selection")."""
        self._documents = None
        self._note_refs = {}
        self._paths = {}
        self.images.clear()
        self.edit.setReadOnly(False)
        if text:
            self.edit.setPlainText(text)
        self._name = name or PASTED
        self._label = label
        self._update_label()

    def set_documents(self, documents: Sequence[Document], label: str = "",
                      note_refs: Optional[Dict[str, NoteId]] = None,
                      paths: Optional[Dict[str, str]] = None) -> None:
        """Documents read elsewhere (files, notes): shown read-only."""
        docs = list(documents)
        self._documents = docs
        self._note_refs = dict(note_refs or {})
        self._paths = dict(paths or {})
        preview = "\n\n".join(("── %s ──\n%s" % (d.name, d.text())) if len(docs) > 1 else d.text()
                              for d in docs)
        self.edit.blockSignals(True)
        self.edit.setPlainText(preview[:PREVIEW_CHARS])
        self.edit.blockSignals(False)
        self.edit.setReadOnly(True)
        self.images.show_documents(docs)
        self._name = docs[0].name if docs else PASTED
        self._label = label or (docs[0].name if len(docs) == 1 else plural(len(docs), "document"))
        self._update_label()

    def clear(self) -> None:
        self._documents = None
        self._note_refs = {}
        self._paths = {}
        self._label = ""
        self._name = PASTED
        self.images.clear()
        self.edit.setReadOnly(False)
        self.edit.clear()
        self._update_label()

    # --- what the job reads -------------------------------------------------------------------
    def documents(self) -> List[Document]:
        """The documents to generate from (raises a SourceError for an empty text)."""
        if self._documents is not None:
            return list(self._documents)
        from ..generator.sources.read import read_text

        return [read_text(self.edit.toPlainText(), self._name)]

    def note_refs(self) -> Dict[str, NoteId]:
        return dict(self._note_refs)

    def files(self) -> List[Tuple[str, Document]]:
        """(path, document) of the documents read from files: their cards follow the file
        (generator/update)."""
        return [(self._paths[d.name], d) for d in self._documents or [] if d.name in self._paths]

    def has_documents(self) -> bool:
        """The source is documents (files, notes, images), not typed text."""
        return self._documents is not None

    def has_source(self) -> bool:
        return self._documents is not None or bool(self.edit.toPlainText().strip())

    # --- files --------------------------------------------------------------------------------
    def choose_files(self) -> None:
        from ..generator.images.safety import IMAGE_EXTENSIONS
        from ..generator.sources.read import SUPPORTED_EXTENSIONS

        patterns = " ".join("*" + e for e in sorted(set(SUPPORTED_EXTENSIONS) | set(IMAGE_EXTENSIONS)))
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open file", get_settings().last_folder or os.path.expanduser("~"),
            "Documents (%s);;All files (*)" % patterns)
        if paths:
            self.load_files(paths)

    def load_files(self, paths: Sequence[str]) -> None:
        """Read the files (with their figures) in the background, then show them as the source."""
        from ..generator.sources.read import display_name
        from ..generator.highlights.read import read_with_highlights as read_path

        paths = list(paths)
        save_config({"last_folder": os.path.dirname(paths[0])})
        self.label.setText("Reading %s…" % esc(", ".join(display_name(p) for p in paths)))
        self._set_reading(True)

        read_from: Dict[str, str] = {}

        def op() -> Tuple[List[Document], List[Tuple[str, BaseException]]]:
            docs: List[Document] = []
            failed: List[Tuple[str, BaseException]] = []
            for p in paths:
                try:
                    docs.append(read_path(p))
                    read_from[docs[-1].name] = os.path.abspath(p)
                except Exception as e:  # every engine error has a message for the user
                    failed.append((p, e))
            return docs, failed

        def done(result: Tuple[List[Document], List[Tuple[str, BaseException]]]) -> None:
            if not is_alive(self):
                return
            self._set_reading(False)
            docs, failed = result
            if docs:
                self.set_documents(docs, paths=read_from)
            else:
                self._update_label()
            lines = ["<b>%s</b>: %s" % (esc(display_name(p)), esc(error_text(e))) for p, e in failed]
            lines += ["<b>%s</b>: %s" % (esc(d.name), esc(w)) for d in docs for w in d.warnings]
            self.problem.emit("<br>".join(lines))  # files not read, and pages skipped

        def failed(err: Exception) -> None:
            if is_alive(self):
                self._set_reading(False)
                self._update_label()
                self.problem.emit(esc(error_text(err)))

        run_network(self, op, done, failed)

    def add_image(self, image: object) -> None:
        """A pasted or dropped image: one more document of the source (typed text stays, as
        a document of its own)."""
        if self.reading:
            return
        keep = list(self._documents or [])
        typed = self.edit.toPlainText() if self._documents is None else ""
        n = sum(1 for d in keep if d.name.startswith("pasted image")) + 1
        name = "pasted image %d.png" % n if n > 1 else "pasted image.png"
        self._set_reading(True)

        def op() -> List[Document]:
            from ..generator.sources.read import read_text

            docs = keep + ([read_text(typed, self._name)] if typed.strip() else [])
            return docs + [read_pasted(image, name)]  # type: ignore[arg-type]

        def done(docs: List[Document]) -> None:
            if is_alive(self):
                self._set_reading(False)
                self.set_documents(docs, note_refs=self._note_refs, paths=self._paths)
                self.problem.emit("")

        def failed(err: Exception) -> None:
            if is_alive(self):
                self._set_reading(False)
                self.problem.emit(esc(error_text(err)))

        run_network(self, op, done, failed)

    def _set_reading(self, reading: bool) -> None:
        self.reading = reading
        self.open_btn.setEnabled(not reading)
        self.busy_changed.emit(reading)

    # --- the label ----------------------------------------------------------------------------
    def _update_label(self) -> None:
        if self._documents is not None:
            words = sum(len(d.text().split()) for d in self._documents)
            images = sum(1 for d in self._documents if is_image(d))
            self.label.setText("<b>%s</b> · %s%s" % (esc(self._label), plural(words, "word"),
                                                    " · " + plural(images, "image") if images else ""))
            self.clear_btn.setEnabled(True)
        else:
            words = len(self.edit.toPlainText().split())
            what = self._label or ("Selection" if self._name == SELECTION else "Text")
            self.label.setText("<b>%s</b> · %s" % (esc(what), plural(words, "word")))
            self.clear_btn.setEnabled(words > 0)
        self.changed.emit()

    def _on_text_changed(self) -> None:
        if self._documents is None:
            self._update_label()
