"""What a finished bulk job says: the message with its actions, and the Summary tab's
coverage tree (a mixin of ``BulkDialog``)."""
from typing import Any, Callable, Dict, List, Tuple

from aqt.qt import QTreeWidgetItem
from aqt.utils import tooltip

from .bulk_layout import TAB_SUMMARY
from .common import error_text, esc, level_color, plural, show_in_browser


class BulkReport:
    """The outcome of a job, in the message bar and the Summary tab."""

    def _report(self, result: Any) -> None:
        deck = str((self.journal.state.header.get("target") or {}).get("deck") or "") if self.journal else ""
        summary = esc(result.summary())
        if deck and result.note_ids and not result.pending:
            summary += " Deck: <b>%s</b>." % esc(deck)
        lines = [summary]
        for f in result.failed_files():
            lines.append("<b>%s</b>: %s" % (esc(f.name), esc(f.error)))
        failed = result.failed_sections()
        actions: List[Tuple[str, Callable[[], None]]] = []
        if result.fatal is not None:
            lines.insert(0, esc(error_text(result.fatal)))
            lines.append("What is done is kept: resume when the problem is fixed.")
            actions.append(("Resume", self.resume))
            from ..generator.errors import BackendError

            if isinstance(result.fatal, BackendError):
                actions.append(("Settings…", self.open_settings))
            level = "error"
        elif result.cancelled:
            lines.insert(0, "Stopped. What was done is kept.")
            actions.append(("Resume", self.resume))
            level = "info"
        elif failed or result.failed_files():
            level = "warning"
            if failed:
                first = failed[0]
                lines.append("%s failed, e.g. <b>%s › %s</b>: %s" % (
                    plural(sum(s.failed for s in failed), "section"), esc(first.name),
                    esc(first.label()), esc(first.errors[0] if first.errors else "")))
                actions.append(("Retry failed sections", self.retry_failed))
            actions.append(("Show summary", lambda: self.tabs.setCurrentIndex(TAB_SUMMARY)))
        else:
            level = "info" if result.pending else "success"
        if result.pending and result.fatal is None and not result.cancelled:
            lines[0] += " Check them in the Review tab, then add them."
        if result.note_ids and not result.pending:
            actions.append(("Show in Browser", self.show_added))
            if not result.cancelled and result.fatal is None:
                tooltip("Added %s." % plural(len(result.note_ids), "card"), parent=self)
        self.message.show_message("<br>".join(lines), level, actions)

    def _fill_summary(self, result: Any) -> None:
        self.coverage.clear()
        by_file: Dict[int, List[Any]] = {}
        for sec in result.sections:
            by_file.setdefault(sec.file, []).append(sec)
        for i, f in enumerate(result.files):
            secs = by_file.get(i, [])
            top = QTreeWidgetItem([f.name, str(f.total()), str(f.cards), f.text()])
            top.setToolTip(0, f.path)
            top.setToolTip(3, f.text())
            if f.state == "failed" or f.chunks_failed:
                top.setForeground(3, level_color("error"))
            for sec in secs:
                if sec.failed:
                    outcome = "failed: " + "; ".join(sec.errors)
                elif sec.skipped and sec.skipped == sec.chunks:
                    outcome = "already in the collection"
                elif sec.done < sec.chunks:
                    outcome = "%d of %d done" % (sec.done, sec.chunks)
                else:
                    outcome = "no cards" if not sec.cards else "ok"
                child = QTreeWidgetItem([sec.label(), str(sec.chunks), str(sec.cards), outcome])
                child.setToolTip(3, outcome)
                if sec.failed:
                    child.setForeground(3, level_color("error"))
                top.addChild(child)
            self.coverage.addTopLevelItem(top)
            top.setExpanded(bool(f.chunks_failed) or len(result.files) == 1)
        n_failed = sum(s.failed for s in result.sections)
        covered = sum(1 for s in result.sections if s.cards)
        self.summary_label.setText(
            "%s. %d of %d sections gave cards%s." % (
                esc(result.summary().rstrip(".")), covered, len(result.sections),
                (", %d failed" % n_failed) if n_failed else ""))
        self._update_buttons()

    def show_added(self) -> None:
        show_in_browser(list(self.result.note_ids) if self.result is not None else [])
