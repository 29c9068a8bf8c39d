"""What a finished bulk job says: ``report`` (the message, its level and which actions to offer)
and the Summary tab (``CoverageView``: per file and section, chunks, cards and the result,
whose failure reason is shown whole, wrapped, never cut)."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from aqt.qt import QHBoxLayout, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget, pyqtSignal

from ..generator.bulk.status import BulkResult, Section
from ..generator.errors import BackendError, one_line
from .common import button, error_text, esc, level_color, plural

RESUME, SETTINGS, RETRY_FAILED, SHOW_SUMMARY, SHOW_ADDED = (
    "Resume", "Settings…", "Retry failed sections", "Show summary", "Show in Browser")


@dataclass
class Report:
    html: str
    level: str
    actions: List[str] = field(default_factory=list)  # titles, in order (the dialog binds them)


def report(result: BulkResult, deck: str) -> Report:
    """The message for a finished (or stopped) job."""
    summary = esc(result.summary())
    if deck and result.note_ids and not result.pending:
        summary += " Deck: <b>%s</b>." % esc(deck)
    lines = [summary]
    for f in result.failed_files():
        lines.append("<b>%s</b>: %s" % (esc(f.name), esc(one_line(f.error))))
    failed = result.failed_sections()
    actions: List[str] = []
    if result.fatal is not None:
        lines.insert(0, esc(one_line(error_text(result.fatal))))
        lines.append("What is done is kept: resume when the problem is fixed.")
        actions.append(RESUME)
        if isinstance(result.fatal, BackendError):
            actions.append(SETTINGS)
        level = "error"
    elif result.cancelled:
        lines.insert(0, "Stopped. What was done is kept.")
        actions.append(RESUME)
        level = "info"
    elif failed or result.failed_files():
        level = "warning"
        if failed:
            first = failed[0]
            lines.append("%s failed, e.g. <b>%s › %s</b>: %s" % (
                plural(sum(s.failed for s in failed), "section"), esc(first.name),
                esc(first.label()), esc(first.errors[0] if first.errors else "")))
            actions.append(RETRY_FAILED)
        actions.append(SHOW_SUMMARY)
    else:
        level = "info" if result.pending else "success"
    warned = result.warned_sections()
    if warned:  # cards kept from a cut answer, a cut field: say so, and what to change
        lines.append("%s: %s" % (plural(len(warned), "section has a warning", "sections have a warning"),
                                 esc(one_line(warned[0].warnings[0]))))
        level = "warning" if level in ("success", "info") else level
    if result.pending and result.fatal is None and not result.cancelled:
        lines[0] += " Check them in the Review tab, then add them."
    if result.note_ids and not result.pending:
        actions.append(SHOW_ADDED)
    return Report("<br>".join(lines), level, actions)


def section_outcome(sec: Section) -> str:
    if sec.failed:
        return "failed: " + "; ".join(sec.errors)
    if sec.skipped and sec.skipped == sec.chunks:
        return "already in the collection"
    if sec.done < sec.chunks:
        return "%d of %d done" % (sec.done, sec.chunks)
    if sec.warnings:
        return "kept, but: " + "; ".join(one_line(w) for w in sec.warnings)
    return "no cards" if not sec.cards else "ok"


class CoverageView(QWidget):
    """The Summary tab: which sections of which files gave cards, and a Retry button."""

    retry_requested = pyqtSignal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        sv = QVBoxLayout(self)
        self.label = QLabel("The summary of a job appears here when it ends.")
        self.label.setWordWrap(True)
        sv.addWidget(self.label)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["File / section", "Chunks", "Cards", "Result"])
        self.tree.setColumnWidth(0, 220)
        self.tree.setColumnWidth(1, 55)
        self.tree.setColumnWidth(2, 50)
        self.tree.setRootIsDecorated(True)
        self.tree.setWordWrap(True)  # a failure reason is shown whole, over several lines
        self.tree.setUniformRowHeights(False)
        header = self.tree.header()
        if header is not None:
            header.setStretchLastSection(True)
        sv.addWidget(self.tree, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.retry_btn = button("Retry failed sections", self.retry_requested.emit)
        row.addWidget(self.retry_btn)
        sv.addLayout(row)

    def fill(self, result: BulkResult) -> None:
        self.tree.clear()
        by_file: Dict[int, List[Section]] = {}
        for sec in result.sections:
            by_file.setdefault(sec.file, []).append(sec)
        for i, f in enumerate(result.files):
            top = QTreeWidgetItem([f.name, str(f.total()), str(f.cards), f.text()])
            top.setToolTip(0, f.path)
            top.setToolTip(3, f.text())
            if f.state == "failed" or f.chunks_failed:
                top.setForeground(3, level_color("error"))
            for sec in by_file.get(i, []):
                outcome = section_outcome(sec)
                child = QTreeWidgetItem([sec.label(), str(sec.chunks), str(sec.cards), outcome])
                child.setToolTip(3, outcome)
                if sec.failed:
                    child.setForeground(3, level_color("error"))
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(bool(f.chunks_failed) or len(result.files) == 1)
        n_failed = sum(s.failed for s in result.sections)
        covered = sum(1 for s in result.sections if s.cards)
        self.label.setText("%s. %d of %d sections gave cards%s." % (
            esc(result.summary().rstrip(".")), covered, len(result.sections),
            (", %d failed" % n_failed) if n_failed else ""))
