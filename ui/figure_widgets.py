"""Figures in the dialogs: the figures choice and its "this model cannot see" line
(``FigureChoice``, in both dialogs), a text box that takes pasted and dropped images and files
(``SourceEdit``), a row of thumbnails of the images a source is made of (``ImagePreview``), and
the thumbnails of figure cards in the review table (``Thumbnails``).

Decoding and scaling images (``Thumbnails.make``, pasted images) runs on worker threads: QImage
works in any thread; only the QPixmap a widget shows is made on the main thread, from a small
image. The engine gets the Qt adapter (``graphics()``, ui/pdf_render.py) to render PDF pages on
the job's workers."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

from aqt.qt import (
    QBuffer,
    QByteArray,
    QComboBox,
    QHBoxLayout,
    QImage,
    QImageReader,
    QIODevice,
    QLabel,
    QMimeData,
    QPixmap,
    QPlainTextEdit,
    QSize,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    pyqtSignal,
)

from ..generator.config import FigureMode, Settings
from ..generator.sources.document import Document
from .common import esc, is_alive, plural, run_network

if TYPE_CHECKING:
    from ..generator.images.figure import FigureSet, Graphics
    from ..generator.job.images import FigureStore

THUMB = 72  # px, the long side of a thumbnail in the review table
PREVIEW = 96  # px, in the source panel
MAX_PREVIEWS = 8

MODE_TITLES = (
    (FigureMode.AUTO, "Figures: when the model can see"),
    (FigureMode.OFF, "Figures: off (text only)"),
    (FigureMode.SLIDES, "Slides: every PDF page as an image"),
)
MODE_TIPS = {
    FigureMode.AUTO: "Figures in the source (image files, figures in PDF/Word/EPUB/HTML, slides, "
                     "scanned pages) go to the model with the text when it can see.",
    FigureMode.OFF: "Only the text is used.",
    FigureMode.SLIDES: "Every PDF is read page by page: each page as an image, with its own text.",
}


def graphics() -> Optional[Graphics]:
    """The Qt adapter for the engine (PDF pages, resizing), or None without QtPdf."""
    try:
        from .pdf_render import QtGraphics

        return QtGraphics(strips=4)  # short GIL holds: the main thread stays responsive
    except Exception:  # a Qt build without QtPdf: the engine sends the images it finds
        return None


def png_bytes(image: QImage) -> bytes:
    from .pdf_render import png_bytes as encode

    return encode(image)


def scaled_image(data: bytes, side: int) -> Optional[QImage]:
    """``data`` (a checked image) decoded straight to at most ``side`` px (any thread)."""
    from .pdf_render import image_format

    fmt = image_format(data)
    if fmt is None:
        return None
    array = QByteArray(data)
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer, QByteArray(fmt))
    reader.setDecideFormatFromContent(False)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > side:
        reader.setScaledSize(size.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    buffer.close()
    return None if image.isNull() else image


# --- the choice ------------------------------------------------------------------------------

class FigureChoice(QWidget):
    """auto / off / slides, and a line when the chosen model cannot see the source's figures.
    ``check(settings, model, figsets)`` asks the server about the model (once per model) and
    looks for figures in the sources, in the background."""

    changed = pyqtSignal()

    def __init__(self, settings: Settings, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        for mode, title in MODE_TITLES:
            self.combo.addItem(title, mode.value)
            self.combo.setItemData(self.combo.count() - 1, MODE_TIPS[mode], Qt.ItemDataRole.ToolTipRole)
        self.combo.setToolTip("Figures for models that can see (their capabilities include 'vision')")
        v.addWidget(self.combo)
        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        self.warning.setTextFormat(Qt.TextFormat.RichText)
        self.warning.hide()
        v.addWidget(self.warning)
        self.set_mode(settings.figures)
        self.combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self._sees: Dict[Tuple[str, str], Optional[bool]] = {}  # (server, model) -> can see
        self._asked = 0  # the newest check; older answers are dropped
        self.checking = False

    def mode(self) -> FigureMode:
        return FigureMode.parse(self.combo.currentData() or "auto")

    def set_mode(self, mode: Any) -> None:
        value = FigureMode.parse(getattr(mode, "value", mode) or "auto").value
        index = self.combo.findData(value)
        self.combo.setCurrentIndex(max(0, index))

    def choices(self) -> Dict[str, Any]:
        return {"figures": self.mode().value}

    def check(self, settings: Settings, model: str, figsets: Sequence[Tuple[str, FigureSet]]) -> None:
        """Say (in ``warning``) whether ``model`` will see the figures of these sources."""
        self._asked += 1
        asked = self._asked
        if not model or not figsets or self.mode() is FigureMode.OFF:
            self.checking = False
            self._show("")
            return
        key = (settings.server_url, model)
        known = key in self._sees
        self.checking = True

        def op() -> Tuple[Optional[bool], List[str]]:
            from ..generator.figures.plan import probe_figures

            sees = self._sees.get(key) if known else _ask_vision(settings, model)
            names = [name for name, figset in figsets if probe_figures(figset)]
            return sees, names

        def done(result: Tuple[Optional[bool], List[str]]) -> None:
            if not is_alive(self) or asked != self._asked:
                return
            self.checking = False
            sees, names = result
            self._sees[key] = sees
            if not names or sees is True or (sees is None and self.mode() is FigureMode.SLIDES):
                self._show("")
            elif sees is None:
                self._show("The server does not say whether <b>%s</b> can see: the figures in %s "
                           "are not used (choose <i>Slides</i> to send the pages as images anyway)."
                           % (esc(model), _names(names)))
            else:
                self._show("<b>%s</b> cannot see (its capabilities do not include “vision”): the "
                           "figures in %s are not used. Choose a model that can see to use them."
                           % (esc(model), _names(names)))

        def failed(_err: Exception) -> None:  # the model list says what is wrong with the server
            if is_alive(self) and asked == self._asked:
                self.checking = False
                self._show("")

        run_network(self, op, done, failed)

    def _show(self, html: str) -> None:
        self.warning.setText(html)
        self.warning.setVisible(bool(html))


def _names(names: Sequence[str]) -> str:
    shown = ", ".join("<b>%s</b>" % esc(n) for n in names[:3])
    return shown + (" and %s" % plural(len(names) - 3, "more") if len(names) > 3 else "")


def _ask_vision(settings: Settings, model: str) -> Optional[bool]:
    """True/False as the server states the model's capabilities; None when it does not say."""
    from ..generator.backends import make_backend

    backend = make_backend(settings)
    try:
        info = backend.model_info(model)
    finally:
        backend.close()
    return ("vision" in info.capabilities) if info.capabilities else None


# --- the source's text box -------------------------------------------------------------------

class SourceEdit(QPlainTextEdit):
    """The source text box: an image pasted or dropped into it becomes ``image_pasted``; files
    dropped onto it (from a file manager) become ``files_dropped``; text is text."""

    image_pasted = pyqtSignal(object)  # QImage
    files_dropped = pyqtSignal(list)  # local paths

    def canInsertFromMimeData(self, source: Optional[QMimeData]) -> bool:
        if source is not None and (source.hasImage() or _local_files(source)):
            return True
        return super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: Optional[QMimeData]) -> None:
        if source is None:
            return
        files = _local_files(source)
        if files:
            self.files_dropped.emit(files)
            return
        if source.hasImage():
            image = source.imageData()
            if isinstance(image, QImage) and not image.isNull():
                self.image_pasted.emit(image)
                return
        super().insertFromMimeData(source)


def _local_files(source: QMimeData) -> List[str]:
    if not source.hasUrls():
        return []
    return [u.toLocalFile() for u in source.urls() if u.isLocalFile() and u.toLocalFile()]


def read_pasted(image: QImage, name: str) -> Document:
    """A pasted image as a document (on a worker: encoding a screenshot takes a while)."""
    from ..generator.images.figure import FigureMode as Mode
    from ..generator.sources.with_figures import read_source_bytes

    return read_source_bytes(png_bytes(image), name, Mode.AUTO)


# --- thumbnails ------------------------------------------------------------------------------

class ImagePreview(QWidget):
    """Thumbnails of the source's image files and pasted images (the text box shows
    their text, which they do not have)."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.addStretch(1)
        self.labels: List[QLabel] = []
        self.hide()

    def show_documents(self, documents: Sequence[Document]) -> None:
        """Thumbnails of the documents that are images (made in the background)."""
        images = [(d.name, d.figures.figures[0].data) for d in documents
                    if d.figures is not None and is_image(d) and d.figures.figures]
        self.clear()
        if not images:
            return
        shown = images[:MAX_PREVIEWS]

        def op() -> List[Tuple[str, Optional[QImage]]]:
            return [(name, scaled_image(data, PREVIEW)) for name, data in shown]

        def done(images: List[Tuple[str, Optional[QImage]]]) -> None:
            if not is_alive(self):
                return
            for name, image in images:
                label = QLabel()
                label.setToolTip(name)
                if image is not None:
                    label.setPixmap(QPixmap.fromImage(image))
                else:
                    label.setText(esc(name))
                self.row.insertWidget(self.row.count() - 1, label)
                self.labels.append(label)
            if len(images) > len(shown):
                more = QLabel("+%d" % (len(images) - len(shown)))
                self.row.insertWidget(self.row.count() - 1, more)
                self.labels.append(more)
            self.show()

        run_network(self, op, done, lambda _e: None)

    def clear(self) -> None:
        for label in self.labels:
            label.deleteLater()
        self.labels = []
        self.hide()


class Thumbnails:
    """Thumbnails of figure cards by media name: ``make`` on any thread (decodes once),
    ``icon`` on the main thread."""

    def __init__(self) -> None:
        self._images: Dict[str, QImage] = {}
        self._pixmaps: Dict[str, QPixmap] = {}
        self._lock = threading.Lock()

    def make(self, name: str, data: Optional[bytes]) -> None:
        from ..generator.job.images import IMAGE_WORK

        if not name or data is None:
            return
        with self._lock:
            if name in self._images:
                return
        with IMAGE_WORK:
            image = scaled_image(data, THUMB)
        if image is not None:
            with self._lock:
                self._images[name] = image

    def put(self, name: str, image: QImage) -> None:
        """A thumbnail drawn elsewhere (an occlusion note's figure with its masks), any thread."""
        with self._lock:
            self._images[name] = image
            self._pixmaps.pop(name, None)

    def pixmap(self, name: str) -> Optional[QPixmap]:
        if name in self._pixmaps:
            return self._pixmaps[name]
        with self._lock:
            image = self._images.get(name)
        if image is None:
            return None
        pixmap = QPixmap.fromImage(image)
        self._pixmaps[name] = pixmap
        return pixmap

    def size(self) -> QSize:
        return QSize(THUMB, THUMB)


def is_image(document: Document) -> bool:
    """An image file or a pasted image (a document that is one image)."""
    figures = document.figures
    return figures is not None and figures.kind.value == "image"


def figure_sets(documents: Sequence[Document]) -> List[Tuple[str, FigureSet]]:
    return [(d.name, d.figures) for d in documents if d.figures is not None]


def after(widget: QWidget, ms: int, fn: Callable[[], None]) -> QTimer:
    """A single-shot timer owned by ``widget`` (restart it to debounce)."""
    timer = QTimer(widget)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(fn)
    return timer


class FigureJob:
    """A dialog's figures across its runs: the store of the figures its cards show, their
    thumbnails, the Qt adapter, and the open PDFs of its plans (kept for regenerating a card
    of a page; closed with the dialog)."""

    def __init__(self) -> None:
        self._store: Optional[FigureStore] = None  # made when first needed (on a worker)
        self.thumbnails = Thumbnails()
        self._graphics: Optional[Graphics] = None
        self._graphics_made = False
        self._plans: List[Any] = []
        self._lock = threading.Lock()

    @property
    def store(self) -> FigureStore:
        """The figures the cards show. Made when a job first needs it, so that opening a dialog
        does not load the engine's figure module (and its chunking) on the main thread."""
        with self._lock:
            if self._store is None:
                from ..generator.job.images import FigureStore

                self._store = FigureStore()
            return self._store

    def graphics(self) -> Optional[Graphics]:
        with self._lock:
            if not self._graphics_made:
                self._graphics = graphics()
                self._graphics_made = True
            return self._graphics

    def plan(self, documents: Sequence[Document], options: Any) -> Any:
        """``figure_plan.plan_with_figures`` with this dialog's store and adapter (worker)."""
        from ..generator.figures.plan import can_see, plan_with_figures

        sees = can_see(options) and any(d.figures is not None for d in documents)
        plan = plan_with_figures(documents, options, self.graphics() if sees else None, self.store)
        with self._lock:
            self._plans.append(plan)
        return plan

    def make_thumbnails(self, cards: Sequence[Any]) -> None:
        """Thumbnails of the cards' figures (worker)."""
        for card in cards:
            if getattr(card, "figure", ""):
                self.thumbnails.make(card.figure, self.store.get(card.figure))

    def write(self, col: Any, cards: Sequence[Any]) -> List[str]:
        """The figures of ``cards`` into the collection's media (inside the add's CollectionOp)."""
        from ..generator.figures.media import write_figures

        return write_figures(col, cards, self.store)

    def close(self) -> None:
        with self._lock:
            plans, self._plans = self._plans, []
        for plan in plans:
            plan.close()
