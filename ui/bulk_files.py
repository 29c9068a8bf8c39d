"""The bulk dialog's file list: adding files and folders, removing them, and each file's
status while a job runs (a mixin of ``BulkDialog``)."""
import os
from typing import Any, List, Optional, Sequence, Tuple

from aqt.qt import QFileDialog, Qt, QTableWidgetItem

from .bulk_layout import COL_FILE, COL_STATUS, COL_TYPE, TAB_FILES
from .common import esc, get_config, level_color, save_config


def supported_extensions() -> Tuple[str, ...]:
    from ..generator.sources import SUPPORTED_EXTENSIONS

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


class BulkFiles:
    """The files of the next (or the shown) job, one table row each."""

    # ==== files ================================================================================
    def choose_files(self) -> None:
        exts = " ".join("*" + e for e in supported_extensions())
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Add files", self.cfg.get("last_folder") or os.path.expanduser("~"),
            "Documents (%s);;All files (*)" % exts)
        if paths:
            self.add_paths(paths)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Add a folder", self.cfg.get("last_folder") or os.path.expanduser("~"))
        if path:
            self.add_paths([path])

    def add_paths(self, paths: Sequence[str]) -> int:
        """Add files (and the supported files inside folders); returns how many were new."""
        if self.busy:
            return 0
        self._leave_finished_job()
        new = [p for p in expand_paths(paths) if os.path.abspath(p) not in self.paths]
        for path in new:
            self.paths.append(os.path.abspath(path))
        if paths:
            first = paths[0]
            save_config({"last_folder": first if os.path.isdir(first) else os.path.dirname(first)})
            self.cfg = get_config()
        if not new and paths:
            self.message.show_message("No new files with text to add (supported: %s)."
                                      % esc(", ".join(supported_extensions())), "info")
        self._fill_table()
        self.tabs.setCurrentIndex(TAB_FILES)
        return len(new)

    def remove_selected(self) -> None:
        if self.busy:
            return
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for r in rows:
            if 0 <= r < len(self.paths):
                del self.paths[r]
        self._fill_table()

    def clear_files(self) -> None:
        if self.busy:
            return
        self._leave_finished_job()
        self.paths = []
        self._fill_table()

    def _leave_finished_job(self) -> None:
        """Editing the file list after a job starts a new one."""
        if self.result is not None or self.offered:
            self.result = None
            self.offered = None
            self.journal = None
            self.message.clear()
            self._last_status = {}

    def _fill_table(self, statuses: Optional[Sequence[Any]] = None) -> None:
        self.table.setRowCount(len(self.paths))
        for row, path in enumerate(self.paths):
            name = os.path.basename(path)
            item = QTableWidgetItem(name)
            item.setToolTip(path)
            self.table.setItem(row, COL_FILE, item)
            ext = os.path.splitext(name)[1].lstrip(".").upper() or "?"
            self.table.setItem(row, COL_TYPE, QTableWidgetItem(ext))
            text = statuses[row].text() if statuses and row < len(statuses) else "Waiting"
            self.table.setItem(row, COL_STATUS, QTableWidgetItem(text))
        self._last_status = {}
        if statuses:
            self._show_statuses(statuses)
        self._update_buttons()

    def _show_statuses(self, statuses: Sequence[Any]) -> None:
        for row, st in enumerate(statuses):
            text = st.text()
            if self._last_status.get(row) == text or row >= self.table.rowCount():
                continue
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
