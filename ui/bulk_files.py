"""The Bulk dialog's file list (``FileList``): Add files… / Add folder… / Remove / Clear, one
row per file with its type and its status while a job runs. It owns the list of paths;
``edited`` says the user changed it (a finished job's view then gives way to a new job)."""
import os
from typing import List, Optional, Sequence, Tuple

from aqt.qt import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    Qt,
    QVBoxLayout,
    QWidget,
    pyqtSignal,
)

from ..generator.bulk.status import FileStatus
from .common import button, get_settings, level_color, save_config

COL_FILE, COL_TYPE, COL_STATUS = range(3)


def supported_extensions() -> Tuple[str, ...]:
    from ..generator.sources.read import SUPPORTED_EXTENSIONS

    return tuple(SUPPORTED_EXTENSIONS)


def expand_paths(paths: Sequence[str]) -> List[str]:
    """Files as chosen; folders become the supported files inside them (recursively, sorted)."""
    exts = supported_extensions()
    out: List[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith(".") and name.lower().endswith(exts):
                        out.append(os.path.join(root, name))
        else:
            out.append(path)
    return out


class FileList(QWidget):
    edited = pyqtSignal()  # the user added or removed files
    selection_changed = pyqtSignal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.paths: List[str] = []
        self._last_status: List[str] = []
        fv = QVBoxLayout(self)
        row = QHBoxLayout()
        self.add_files_btn = button("Add files…", self.choose_files)
        self.add_folder_btn = button("Add folder…", self.choose_folder)
        self.remove_btn = button("Remove", self.remove_selected)
        self.clear_btn = button("Clear", self.clear)
        for b in (self.add_files_btn, self.add_folder_btn, self.remove_btn, self.clear_btn):
            row.addWidget(b)
        row.addStretch(1)
        fv.addLayout(row)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["File", "Type", "Status"])
        vertical = self.table.verticalHeader()
        if vertical is not None:
            vertical.setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        if header is not None:
            header.setSectionResizeMode(COL_FILE, QHeaderView.ResizeMode.Interactive)
            header.setSectionResizeMode(COL_TYPE, QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(COL_STATUS, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(COL_FILE, 150)
        self.table.itemSelectionChanged.connect(self.selection_changed.emit)
        fv.addWidget(self.table, 1)
        self.hint = QLabel("Add documents (text, Markdown, HTML, PDF, Word, EPUB) or a folder "
                           "of them. Each file gets its own row and status.")
        self.hint.setWordWrap(True)
        self.hint.setEnabled(False)
        fv.addWidget(self.hint)

    # --- choosing files -----------------------------------------------------------------------
    def choose_files(self) -> None:
        from ..generator.images.safety import IMAGE_EXTENSIONS

        # images may be chosen one by one (a folder gives its documents only: not its icons)
        exts = " ".join("*" + e for e in supported_extensions() + IMAGE_EXTENSIONS)
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Add files", get_settings().last_folder or os.path.expanduser("~"),
            "Documents (%s);;All files (*)" % exts)
        if paths:
            self.add_paths(paths)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Add a folder", get_settings().last_folder or os.path.expanduser("~"))
        if path:
            self.add_paths([path])

    def add_paths(self, paths: Sequence[str]) -> int:
        """Add files (and the supported files inside folders); returns how many were new."""
        new = [p for p in expand_paths(paths) if os.path.abspath(p) not in self.paths]
        for path in new:
            self.paths.append(os.path.abspath(path))
        if paths:
            first = paths[0]
            save_config({"last_folder": first if os.path.isdir(first) else os.path.dirname(first)})
        self.edited.emit()
        self.show_files()
        return len(new)

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for r in rows:
            if 0 <= r < len(self.paths):
                del self.paths[r]
        self.edited.emit()
        self.show_files()

    def clear(self) -> None:
        self.paths = []
        self.edited.emit()
        self.show_files()

    def set_paths(self, paths: Sequence[str]) -> None:
        """The files of a job (shown, not edited by the user)."""
        if list(paths) != self.paths:
            self.paths = list(paths)
            self.show_files()

    def set_editable(self, editable: bool) -> None:
        for w in (self.add_files_btn, self.add_folder_btn, self.clear_btn):
            w.setEnabled(editable)
        self.remove_btn.setEnabled(editable and bool(self.table.selectedIndexes()))

    # --- rows ---------------------------------------------------------------------------------
    def show_files(self) -> None:
        self.table.setRowCount(len(self.paths))
        for row, path in enumerate(self.paths):
            name = os.path.basename(path)
            item = QTableWidgetItem(name)
            item.setToolTip(path)
            self.table.setItem(row, COL_FILE, item)
            ext = os.path.splitext(name)[1].lstrip(".").upper() or "?"
            self.table.setItem(row, COL_TYPE, QTableWidgetItem(ext))
            self.table.setItem(row, COL_STATUS, QTableWidgetItem("Waiting"))
        self._last_status = []
        self.hint.setVisible(not self.paths)

    def show_statuses(self, statuses: Sequence[FileStatus]) -> None:
        for row, st in enumerate(statuses):
            text = st.text()
            if row < len(self._last_status) and self._last_status[row] == text:
                continue
            if row >= self.table.rowCount():
                continue
            while len(self._last_status) <= row:
                self._last_status.append("")
            self._last_status[row] = text
            item = self.table.item(row, COL_STATUS)
            if item is None:
                item = QTableWidgetItem()
                self.table.setItem(row, COL_STATUS, item)
            item.setText(text)
            item.setToolTip(text)
            if st.state == "failed" or st.chunks_failed:
                item.setForeground(level_color("error"))
            elif st.state == "done":
                item.setForeground(level_color("success"))
            else:
                item.setData(Qt.ItemDataRole.ForegroundRole, None)

    def status_texts(self) -> List[str]:
        """The Status column (tests)."""
        out = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, COL_STATUS)
            out.append(item.text() if item else "")
        return out
