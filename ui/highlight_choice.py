"""``HighlightPicker``: what to do with what the reader highlighted, for the Generate and the Bulk
dialog. Hidden while the source has no highlights; once it has some:

- a choice "Only what I highlighted (N highlights)" (the default), "Highlights first, then the
  rest", "Ignore highlights";
- a checkbox per colour when the highlights have more than one ("yellow (8)"), all checked;
- a line saying how many had cards made of them before (those are not asked again).

``show_documents(documents, files)`` (Generate: the documents read, and the files among them,
whose earlier cards are looked up in the collection in the background) or ``show_files(paths)``
(Bulk: the files' highlights counted in the background, their text not read). ``choice()`` is
the engine's ``HighlightChoice``; ``done()`` the highlights cards were made of before, by
document. The engine's planning modules are imported only when a choice is made (the dialog
opens without them)."""
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from aqt.qt import (
    QCheckBox,
    QColor,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QIcon,
    QLabel,
    QPixmap,
    Qt,
    QVBoxLayout,
    QWidget,
    pyqtSignal,
)

from .common import esc, is_alive, plural, run_network, run_with_collection

ONLY, FIRST, IGNORE = "only", "first", "ignore"
MAX_FILES_COUNTED = 200  # a bulk list's files whose highlights are counted
SWATCH = {"yellow": "#f5d000", "orange": "#ff9500", "red": "#e0332d", "pink": "#ff6fb0",
          "purple": "#9b59d0", "blue": "#3b82f6", "green": "#2fb344", "gray": "#9a9a9a", "": "#cccccc"}


class HighlightPicker(QGroupBox):
    changed = pyqtSignal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__("Highlights", parent)
        v = QVBoxLayout(self)
        self.combo = QComboBox()
        self.combo.setToolTip("Each highlight is sent with its paragraph (for clippings: the book and "
                              "the highlights around it); its comment tells the model what you want "
                              "of it. Cards are tagged ollama-flashcards::highlight.")
        for mode in (ONLY, FIRST, IGNORE):
            self.combo.addItem("", mode)
        v.addWidget(self.combo)
        self.colour_row = QWidget()
        self.colour_layout = QHBoxLayout(self.colour_row)
        self.colour_layout.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.colour_row)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.RichText)
        v.addWidget(self.note)
        self.boxes: Dict[str, QCheckBox] = {}
        self.source: Any = None  # the Generate dialog's SourcePanel, when following one
        self._shown: List[Any] = []  # the documents shown last (a new list is looked at again)
        self.total = 0
        self.colours: Dict[str, int] = {}
        self.before: Dict[str, Set[str]] = {}  # document name -> keys of highlights carded before
        self.carded = 0  # how many of the source's highlights had cards before
        self._asked = 0  # the token of the newest request: an answer to an older one is dropped
        self._pending = 0  # the token of the request running in the background (0: none)
        self.combo.currentIndexChanged.connect(lambda _i: self._changed())
        self._show(0, {})

    # --- what the dialogs read ----------------------------------------------------------------
    @property
    def checking(self) -> bool:
        """A count or a look-up for what is shown now runs in the background. Derived from the
        tokens, so a request overtaken by a newer source (whose answer will be dropped) no
        longer counts, whichever way the newer one went (no files, an error, a new request)."""
        return self._pending != 0 and self._pending == self._asked

    def _ask(self) -> int:
        """A new request's token; any earlier request's answer is dropped from now on."""
        self._asked += 1
        return self._asked

    def _answered(self, asked: int) -> bool:
        """The answer to request ``asked`` is still wanted (and it is no longer pending)."""
        if not is_alive(self) or asked != self._asked:
            return False
        self._pending = 0
        return True

    def mode(self) -> str:
        return str(self.combo.currentData() or ONLY)

    def set_mode(self, mode: str) -> None:
        self.combo.setCurrentIndex(max(0, self.combo.findData(mode)))

    def chosen_colours(self) -> Tuple[str, ...]:
        """The colours checked; () when all are (or the highlights have one colour or none)."""
        checked = tuple(c for c, box in self.boxes.items() if box.isChecked())
        return () if len(checked) == len(self.boxes) else (checked or ("none",))

    def choice(self) -> Any:
        """The engine's ``HighlightChoice`` (``ignore`` when the source has no highlights)."""
        from ..generator.highlights.focus import HighlightChoice, HighlightMode

        mode = HighlightMode.parse(self.mode()) if self.total else HighlightMode.IGNORE
        return HighlightChoice(mode, self.chosen_colours())

    def done(self) -> Dict[str, Set[str]]:
        return {k: set(v) for k, v in self.before.items()}

    # --- what the source has ------------------------------------------------------------------
    def follow(self, source: Any) -> None:
        """Show the highlights of a ``SourcePanel``'s documents whenever they change."""
        self.source = source
        source.changed.connect(self._source_changed)

    def _source_changed(self) -> None:
        source = self.source
        documents = source.documents() if source is not None and source.has_documents() else []
        if [id(d) for d in documents] != [id(d) for d in self._shown]:
            self._shown = list(documents)
            self.show_documents(documents, source.files() if documents else [])

    def show_documents(self, documents: Sequence[Any], files: Sequence[Tuple[str, Any]] = ()) -> None:
        """The highlights of the documents read (Generate); those of files cards were made of
        before are looked up in the collection."""
        marked = [d.highlights for d in documents if getattr(d, "highlights", None) is not None]
        colours: Dict[str, int] = {}
        for h in marked:
            for colour, n in h.colours().items():
                colours[colour] = colours.get(colour, 0) + n
        asked = self._ask()
        self.before, self.carded = {}, 0
        self._show(sum(len(h) for h in marked), colours)
        with_files = [(p, d) for p, d in files if getattr(d, "highlights", None) is not None]
        if with_files and asked == self._asked:  # (not overtaken by a change while shown)
            self._look_up(with_files, asked)

    def _look_up(self, files: List[Tuple[str, Any]], asked: int) -> None:
        from aqt import mw

        if mw is None or mw.col is None:
            return
        self._pending = asked

        def op(col: Any) -> Dict[str, Set[str]]:
            from ..generator.update.highlights import carded_before

            return carded_before(col, files)

        def done(before: Dict[str, Set[str]]) -> None:
            if self._answered(asked):
                self.before = before
                self.carded = sum(1 for _p, d in files for h in d.highlights.items
                                  if h.key in before.get(d.name, ()))
                self._show(self.total, self.colours)

        def failed(_err: Exception) -> None:  # nothing known of earlier cards: all are asked
            self._answered(asked)

        run_with_collection(self, op, done, failed)

    def show_files(self, paths: Sequence[str]) -> None:
        """The highlights of a list of files, counted in the background (Bulk)."""
        asked = self._ask()
        paths = list(paths)[:MAX_FILES_COUNTED]
        if not paths:
            self._show(0, {})
            return
        self._pending = asked

        def op() -> Tuple[int, Dict[str, int], int]:
            from ..generator.highlights.read import count_highlights

            total, colours, files = 0, {}, 0  # type: Tuple[int, Dict[str, int], int]
            for path in paths:
                found = count_highlights(path)
                files += 1 if len(found) else 0
                total += len(found)
                for colour, n in found.colours().items():
                    colours[colour] = colours.get(colour, 0) + n
            return total, colours, files

        def done(result: Tuple[int, Dict[str, int], int]) -> None:
            if self._answered(asked):
                total, colours, files = result
                self._show(total, colours, files)

        def failed(_err: Exception) -> None:
            if self._answered(asked):
                self._show(0, {})

        run_network(self, op, done, failed)

    # --- showing ------------------------------------------------------------------------------
    def _show(self, total: int, colours: Dict[str, int], files: int = 0) -> None:
        had = self.total
        self.total, self.colours = total, dict(colours)
        if total and not had:
            self.set_mode(ONLY)  # the default when the source has highlights
        what = plural(total, "highlight") + (" in %s" % plural(files, "file") if files > 1 else "")
        titles = {ONLY: "Only what I highlighted (%s)" % what, FIRST: "Highlights first, then the rest",
                  IGNORE: "Ignore highlights"}
        for i in range(self.combo.count()):
            self.combo.setItemText(i, titles[str(self.combo.itemData(i))])
        self._colour_boxes(colours)
        self.note.setText("%s had cards made before: only the new ones are asked." % plural(
            self.carded, "highlight") if self.carded else "")
        self.note.setVisible(bool(self.carded) and self.mode() != IGNORE)
        self.setVisible(total > 0)
        self.changed.emit()

    def _colour_boxes(self, colours: Dict[str, int]) -> None:
        named = {c: n for c, n in colours.items() if c}
        old = {c: box.isChecked() for c, box in self.boxes.items()}
        while self.colour_layout.count():
            item = self.colour_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.boxes = {}
        if len(named) > 1:
            for colour, n in named.items():
                box = QCheckBox("%s (%d)" % (colour, n))
                swatch = QPixmap(12, 12)
                swatch.fill(QColor(SWATCH.get(colour, "#cccccc")))
                box.setIcon(QIcon(swatch))
                box.setToolTip("Use the %s highlights" % esc(colour))
                box.setChecked(old.get(colour, True))
                box.toggled.connect(lambda _on: self._changed())
                self.colour_layout.addWidget(box)
                self.boxes[colour] = box
            self.colour_layout.addStretch(1)
        self.colour_row.setVisible(bool(self.boxes) and self.mode() != IGNORE)

    def _changed(self) -> None:
        self.colour_row.setVisible(bool(self.boxes) and self.mode() != IGNORE)
        self.note.setVisible(bool(self.carded) and self.mode() != IGNORE)
        self.changed.emit()
