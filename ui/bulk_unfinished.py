"""Offering an unfinished bulk job (left by a crash, by closing Anki or by a stop) for
resuming or discarding (a mixin of ``BulkDialog``)."""
import time
from typing import Any

from aqt.utils import askUser

from ..generator.jobfiles import unfinished
from .bulk_job import _read_closed
from .common import esc, is_alive, plural, run_network


class BulkUnfinished:
    """The newest unfinished job of the profile, offered with Resume / Discard."""

    # ==== resuming ==============================================================================
    def check_unfinished(self) -> None:
        """Offer the newest unfinished job of this profile, if any (reads it in the background)."""
        if self.busy:
            return
        paths = [p for p in unfinished(self.folder)
                 if self.journal is None or p != self.journal.path]
        if not paths:
            return
        path = paths[0]

        def done(journal: Any) -> None:
            self.pending -= 1
            if is_alive(self) and not self.busy:
                self.offer(journal)

        def failed(err: Exception) -> None:
            self.pending -= 1

        self.pending += 1
        run_network(self, lambda: _read_closed(path), done, failed)

    def offer(self, journal: Any) -> None:
        """Show an unfinished job with Resume / Discard."""
        state = journal.state
        s = state.summary()
        self.journal = journal
        self.offered = journal.path
        self.paths = list(state.header.get("files") or [])
        self._fill_table()
        when = time.strftime("%d %b %H:%M", time.localtime(s["created"])) if s["created"] else "earlier"
        parts = ["%s of %s chunks done" % (s["chunks_done"], s["chunks_total"] or "?")]
        if s["cards_pending"]:
            parts.append("%s not added yet" % plural(s["cards_pending"], "card"))
        if s["notes_added"]:
            parts.append("%s added" % plural(s["notes_added"], "card"))
        if s["chunks_failed"]:
            parts.append("%d failed" % s["chunks_failed"])
        text = "An unfinished bulk job from %s (%s): %s." % (
            esc(when), plural(s["files"], "file"), esc(", ".join(parts)))
        self.message.show_message(text, "info", [("Resume", self.resume), ("Discard", self.discard_offered)])
        self._update_buttons()

    def discard_offered(self) -> None:
        if not self.offered or self.journal is None:
            return
        if not askUser("Discard the unfinished job? Cards already added stay in your collection; "
                       "cards not yet added are lost.", parent=self, defaultno=True):
            return
        self.journal.finish("discarded")
        self.journal = None
        self.offered = None
        self.message.clear()
        self._update_buttons()
        self.check_unfinished()
