"""The Generate dialog's source: pasted text, a selection, files or notes (a mixin of
``GenerateDialog``). Files are read in the background."""
import os
from typing import Dict, List, Optional, Sequence, Tuple

from aqt.qt import QFileDialog

from ..generator.documents import Document
from .common import error_text, esc, is_alive, plural, run_network, save_config

PREVIEW_CHARS = 20000


class GenerateSource:
    """The text or documents to make cards from."""

    def set_source(self, text: str = "", source_name: str = "", documents: Optional[List[Document]] = None,
                   note_refs: Optional[Dict[str, int]] = None, deck_id: Optional[int] = None,
                   kind: Optional[str] = None, notetype: Optional[str] = None,
                   label: str = "") -> None:
        """Fill the source (text from a selection, or documents from files or notes) and,
        optionally, the target deck and card type."""
        self._note_refs = dict(note_refs or {})
        if documents:
            self._documents = list(documents)
            preview = "\n\n".join(
                ("── %s ──\n%s" % (d.name, d.text())) if len(documents) > 1 else d.text()
                for d in documents)
            self.source_edit.blockSignals(True)
            self.source_edit.setPlainText(preview[:PREVIEW_CHARS])
            self.source_edit.blockSignals(False)
            self.source_edit.setReadOnly(True)
            self._source_name = documents[0].name
            self._source_text_label = label or (
                documents[0].name if len(documents) == 1 else plural(len(documents), "document"))
        else:
            self._documents = None
            self.source_edit.setReadOnly(False)
            if text:
                self.source_edit.setPlainText(text)
            self._source_name = source_name or "pasted text"
            self._source_text_label = label or ""
        if deck_id:
            self.deck_chooser.selected_deck_id = deck_id
        if kind or notetype:
            self.select_kind(kind or "basic", notetype or "")
        self._update_source_label()

    def _update_source_label(self) -> None:
        if self._documents is not None:
            words = sum(len(d.text().split()) for d in self._documents)
            self.source_label.setText("<b>%s</b> · %s" % (esc(self._source_text_label), plural(words, "word")))
            self.clear_btn.setEnabled(True)
        else:
            words = len(self.source_edit.toPlainText().split())
            what = self._source_text_label or (
                "Selection" if self._source_name == "selection" else "Text")
            self.source_label.setText("<b>%s</b> · %s" % (esc(what), plural(words, "word")))
            self.clear_btn.setEnabled(words > 0)
        self._update_buttons()

    def _on_text_changed(self) -> None:
        if self._documents is None:
            self._update_source_label()

    def clear_source(self) -> None:
        self._documents = None
        self._note_refs = {}
        self._source_text_label = ""
        self._source_name = "pasted text"
        self.source_edit.setReadOnly(False)
        self.source_edit.clear()
        self._update_source_label()

    def choose_files(self) -> None:
        from ..generator.sources import SUPPORTED_EXTENSIONS

        patterns = " ".join("*" + e for e in sorted(SUPPORTED_EXTENSIONS))
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open file", self.cfg.get("last_folder") or os.path.expanduser("~"),
            "Documents (%s);;All files (*)" % patterns)
        if paths:
            self.load_files(paths)

    def load_files(self, paths: Sequence[str]) -> None:
        """Read the files in the background, then show them as the source."""
        from ..generator.sources import read_path

        paths = list(paths)
        save_config({"last_folder": os.path.dirname(paths[0])})
        self.source_label.setText("Reading %s…" % ", ".join(os.path.basename(p) for p in paths))
        self.open_btn.setEnabled(False)

        def op() -> Tuple[List[Document], List[Tuple[str, BaseException]]]:
            docs, failed = [], []
            for p in paths:
                try:
                    docs.append(read_path(p))
                except Exception as e:  # every engine error has a message for the user
                    failed.append((p, e))
            return docs, failed

        def done(result: Tuple[List[Document], List[Tuple[str, BaseException]]]) -> None:
            self.pending -= 1
            if not is_alive(self):
                return
            self.open_btn.setEnabled(True)
            docs, failed = result
            if docs:
                self.set_source(documents=docs)
            else:
                self._update_source_label()
            if failed:
                self.message.show_message(
                    "<br>".join("<b>%s</b>: %s" % (esc(os.path.basename(p)), esc(error_text(e)))
                                for p, e in failed), "error")
            else:
                self.message.clear()

        def failed(err: Exception) -> None:
            self.pending -= 1
            if is_alive(self):
                self.open_btn.setEnabled(True)
                self._update_source_label()
                self.message.show_message(esc(error_text(err)), "error")

        self.pending += 1
        run_network(self, op, done, failed)

    def documents(self) -> List[Document]:
        """The documents to generate from (raises a SourceError for an empty text)."""
        if self._documents is not None:
            return self._documents
        from ..generator.sources import read_text

        return [read_text(self.source_edit.toPlainText(), self._source_name or "pasted text")]
